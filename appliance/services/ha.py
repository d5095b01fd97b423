"""Hot standby's settings for this box: off by default, kept in ``<data_dir>/ha/ha.json``.

A file of the box's own, not a table: the database is copied from the active box to the
standby, and each box has its own peer.  The shared secret is written, never read back
(the API says only whether one is set).  A change is applied when the appliance starts
(``appliance.main``): turning hot standby on or off changes what the whole process is.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from appliance.db import models as m
from appliance.errors import FieldError, ValidationError

logger = logging.getLogger(__name__)

FILE = "ha.json"
SECRET_MIN = 12
_INTERFACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$")  # a Linux interface name (IFNAMSIZ 16)


@dataclass(frozen=True)
class HaSettings:
    enabled: bool = False
    interface: str = ""
    peer_address: str = ""
    floating_address: str = ""  # with its prefix: 192.168.1.10/24
    gateway: str = ""  # the check both boxes agree on: it must answer a ping
    router_id: int = 51  # VRRP's virtual router id, the same on both boxes
    priority: int = 250  # high: the standby waits 3 advertisements + (256 - 250)/256 of one before it takes over
    secret: str = ""

    def public(self) -> dict:
        """What the API and the page show: everything but the secret."""
        data = asdict(self)
        data.pop("secret")
        data["secret_set"] = bool(self.secret)
        return data


def _ipv4(value: str, field: str, errors: dict) -> str:
    value = (value or "").strip()
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        errors[field] = FieldError("ha.an_address", "an IPv4 address, such as 192.168.1.12")
        return value


def _integer(value, field: str, low: int, high: int, errors: dict) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        errors[field] = FieldError("ha.number_between", f"a whole number from {low} to {high}", low=low, high=high)
        return 0
    return number


def validate(s: HaSettings) -> HaSettings:
    """``s`` checked (off: anything goes but the numbers); ``ValidationError`` names each
    field at fault."""
    errors: dict[str, FieldError] = {}
    router_id = _integer(s.router_id, "router_id", 1, 255, errors)
    priority = _integer(s.priority, "priority", 1, 254, errors)
    if not s.enabled:
        if errors:
            raise ValidationError("the hot standby settings are not valid", code="ha.invalid", fields=errors)
        return replace(s, router_id=router_id, priority=priority)
    interface = (s.interface or "").strip()
    if not _INTERFACE.match(interface):
        errors["interface"] = FieldError("ha.an_interface", "the name of a network port, such as eth0")
    peer = _ipv4(s.peer_address, "peer_address", errors)
    gateway = _ipv4(s.gateway, "gateway", errors)
    floating = (s.floating_address or "").strip()
    try:
        iface = ipaddress.IPv4Interface(floating)
        if "/" not in floating or iface.network.prefixlen in (0, 32):
            raise ValueError(floating)
        floating = str(iface)
    except ValueError:
        errors["floating_address"] = FieldError("ha.address_with_prefix",
                                                "an IPv4 address with its prefix, such as 192.168.1.10/24")
        iface = None
    if iface is not None and "peer_address" not in errors and peer == str(iface.ip):
        errors["floating_address"] = FieldError("ha.floating_not_peer", "not the peer's own address")
    if iface is not None and "gateway" not in errors and ipaddress.IPv4Address(gateway) not in iface.network:
        errors["gateway"] = FieldError("ha.gateway_in", f"an address in {iface.network}", network=str(iface.network))
    if len(s.secret or "") < SECRET_MIN:
        errors["secret"] = FieldError("ha.secret_length", f"at least {SECRET_MIN} characters, the same on both boxes",
                                      n=SECRET_MIN)
    if errors:
        raise ValidationError("the hot standby settings are not valid", code="ha.invalid", fields=errors)
    return HaSettings(True, interface, peer, floating, gateway, router_id, priority, s.secret)


class HaSettingsStore:
    """``<data_dir>/ha/ha.json``, readable by this account only (it holds the secret)."""

    def __init__(self, directory: Path, audit=None):
        self.path = Path(directory) / FILE
        self.audit = audit  # (actor, detail) -> None: an audit record where a database is open

    def load(self) -> HaSettings:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return HaSettings()
        known = {k: data[k] for k in HaSettings.__dataclass_fields__ if k in data}
        return HaSettings(**known)

    def save(self, actor: str, **values) -> HaSettings:
        """Change the fields given (``secret`` empty or absent: kept); validated as a whole."""
        current = self.load()
        changes = {k: v for k, v in values.items() if k in HaSettings.__dataclass_fields__ and v is not None}
        if not changes.get("secret"):
            changes.pop("secret", None)
        if "enabled" in changes:
            changes["enabled"] = changes["enabled"] in (True, "1", "on", "true", "yes")
        new = validate(replace(current, **changes))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{FILE}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(new), f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        changed = sorted(k for k in changes if getattr(current, k) != getattr(new, k))
        logger.info("hot standby settings changed by %s: %s", actor, ", ".join(changed) or "nothing")
        if self.audit is not None:
            self.audit(actor, ", ".join(changed))
        return new


def audit_ha_change(actor: str, changed: str) -> None:
    """The audit record of a change (where a database is open: the active box's web UI)."""
    m.AuditLog.create(username=actor, action="update", object_type="ha", object_id="settings", detail=changed)


def audit_kept_removed(actor: str, which: str) -> None:
    """The audit record of a database kept aside that an admin removed (``here:<name>``, ``peer:<name>``)."""
    m.AuditLog.create(username=actor, action="delete", object_type="ha", object_id="kept-aside", detail=which)
