"""The LAN port's addressing: DHCP or a static address, changed live over netlink
(pyroute2) and kept in ``<data_dir>/network/lan.json``.

A change that cuts the admin off must not stick.  ``LanChanger.apply`` keeps the
previous settings in ``pending.json`` before it touches the port; unless ``confirm`` is
called within the confirmation time, ``rollback`` puts them back.  If the process that
asked dies meanwhile, ``recover`` (run when the console starts) rolls back at once: the
person who would have confirmed is gone.

In DHCP mode the address comes from pyroute2's DHCP client, which the supervisor runs
while ``lan.json`` says ``dhcp`` (``dhcp_argv``); the backend here only removes the
static address and default route it would otherwise leave behind.

The backend is a small interface (``interfaces``, ``apply``) so tests use a fake, or the
real one inside a network namespace they made.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from appliance.errors import FieldError, ValidationError

logger = logging.getLogger(__name__)

MODES = ("dhcp", "static")


@dataclass(frozen=True)
class LanConfig:
    mode: str = "dhcp"
    address: str = ""  # static only: "192.168.1.20/24"
    gateway: str = ""  # static only, may be empty (no default route)

    def describe(self) -> str:
        if self.mode == "dhcp":
            return "DHCP"
        return self.address + (f" via {self.gateway}" if self.gateway else "")


def static_config(address: str, gateway: str = "") -> LanConfig:
    """A validated static configuration; ``ValidationError`` names the field at fault."""
    try:
        iface = ipaddress.IPv4Interface(address.strip())
    except ValueError:
        raise ValidationError(FieldError("network.not_an_interface",
                                         f"{address!r} is not an IPv4 address with a prefix, such as 192.168.1.20/24",
                                         item=repr(address)),
                              code="network.invalid",
                              fields={"address": FieldError("network.interface_example",
                                                            "like 192.168.1.20/24")}) from None
    if "/" not in address or iface.network.prefixlen in (0, 32) or iface.ip in (iface.network.network_address,
                                                                                  iface.network.broadcast_address):
        raise ValidationError(FieldError("network.needs_host_prefix",
                                         f"{address!r} needs a prefix between /1 and /31 and a host address",
                                         item=repr(address)),
                              code="network.invalid",
                              fields={"address": FieldError("network.host_with_prefix",
                                                            "a host address with its prefix")})
    gateway = gateway.strip()
    if gateway:
        try:
            gw = ipaddress.IPv4Address(gateway)
        except ValueError:
            raise ValidationError(FieldError("network.not_an_address", f"{gateway!r} is not an IPv4 address",
                                             item=repr(gateway)), code="network.invalid",
                                  fields={"gateway": FieldError("network.an_address", "an IPv4 address")}) from None
        if gw not in iface.network or gw == iface.ip:
            raise ValidationError(FieldError("network.gateway_outside",
                                             f"gateway {gateway} is not another address in {iface.network}",
                                             item=gateway, network=str(iface.network)),
                                  code="network.invalid",
                                  fields={"gateway": FieldError("network.address_in", f"an address in {iface.network}",
                                                                network=str(iface.network))})
    return LanConfig("static", str(iface), gateway)


def config_from_dict(data: dict) -> LanConfig:
    if data.get("mode") == "static":
        return static_config(data.get("address", ""), data.get("gateway", ""))
    return LanConfig("dhcp")


def dhcp_argv(ifname: str) -> list[str]:
    """The DHCP client the supervisor runs on the LAN port in DHCP mode (pyroute2's, from
    this interpreter's environment; it keeps its lease file in its working directory).

    ``--no-release``: stopping it (the appliance's service restarted, a crash) leaves the
    leased address on the port and sends no DHCPRELEASE; the next client starts from the
    lease file and renews the same address.  By default it removed the address and the
    default route on exit: a restart of the service in qemu came back without a lease in
    time and took the fallback address, cutting off every phone and browser on the old one."""
    return [sys.executable, "-m", "pyroute2.dhcp.cli", "--log-level", "WARNING", "--no-release", ifname]


@dataclass(frozen=True)
class Interface:
    name: str
    state: str  # UP, DOWN, LOWERLAYERDOWN, ...
    mac: str
    addresses: tuple[str, ...] = ()  # "ip/prefix", IPv4 and IPv6


class NetworkBackend(Protocol):
    def interfaces(self) -> list[Interface]: ...
    def default_gateway(self) -> str | None: ...
    def apply(self, ifname: str, config: LanConfig, keep_addresses: bool = False) -> None: ...
    def add_address(self, ifname: str, address: str) -> None: ...


def ipv4_addresses(interfaces: list[Interface], ifname: str) -> list[str]:
    """The IPv4 addresses ("ip/prefix") on port ``ifname`` (pure)."""
    return [a for iface in interfaces if iface.name == ifname for a in iface.addresses if ":" not in a]


class Pyroute2Backend:
    """Netlink through pyroute2; ``netns`` for a namespace (the tests make one)."""

    MAIN_TABLE = 254

    def __init__(self, netns: str | None = None):
        self.netns = netns

    def _ipr(self):
        from pyroute2 import IPRoute

        return IPRoute(netns=self.netns) if self.netns else IPRoute()

    def interfaces(self) -> list[Interface]:
        with self._ipr() as ipr:
            addresses: dict[int, list[str]] = {}
            for a in ipr.get_addr():
                addresses.setdefault(a["index"], []).append(f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}")
            return [Interface(link.get("IFLA_IFNAME"), link.get("IFLA_OPERSTATE") or "UNKNOWN",
                              link.get("IFLA_ADDRESS") or "", tuple(addresses.get(link["index"], ())))
                    for link in ipr.get_links()]

    def default_gateway(self) -> str | None:
        with self._ipr() as ipr:
            for route in ipr.get_routes(family=socket.AF_INET, table=self.MAIN_TABLE):
                if route["dst_len"] == 0 and route.get("RTA_GATEWAY"):
                    return route.get("RTA_GATEWAY")
        return None

    def apply(self, ifname: str, config: LanConfig, keep_addresses: bool = False) -> None:
        """The port set to ``config`` and up; ``keep_addresses`` (DHCP at start): what is on
        it stays (the lease a DHCP client stopped with the service left there)."""
        with self._ipr() as ipr:
            found = ipr.link_lookup(ifname=ifname)
            if not found:
                raise ValidationError(f"there is no network port {ifname}", code="network.no_port")
            index = found[0]
            if keep_addresses and config.mode == "dhcp":
                ipr.link("set", index=index, state="up")
                return
            for route in ipr.get_routes(family=socket.AF_INET, table=self.MAIN_TABLE, oif=index):
                if route["dst_len"] == 0:
                    ipr.route("del", dst="0.0.0.0/0", gateway=route.get("RTA_GATEWAY"), oif=index)
            ipr.flush_addr(index=index, family=socket.AF_INET)
            ipr.link("set", index=index, state="up")
            if config.mode == "static":
                iface = ipaddress.IPv4Interface(config.address)
                ipr.addr("add", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)
                if config.gateway:
                    ipr.route("replace", dst="0.0.0.0/0", gateway=config.gateway, oif=index)
        logger.info("LAN port %s set to %s", ifname, config.describe())

    def add_address(self, ifname: str, address: str) -> None:
        iface = ipaddress.IPv4Interface(address)
        with self._ipr() as ipr:
            found = ipr.link_lookup(ifname=ifname)
            if not found:
                raise ValidationError(f"there is no network port {ifname}", code="network.no_port")
            ipr.addr("add", index=found[0], address=str(iface.ip), prefixlen=iface.network.prefixlen)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass
class Pending:
    previous: LanConfig
    new: LanConfig
    deadline: float


@dataclass
class LanChanger:
    backend: NetworkBackend
    directory: Path  # <data_dir>/network
    ifname: str
    confirm_seconds: float = 60.0
    clock: Callable[[], float] = time.time
    pending: Pending | None = field(default=None, init=False)

    @property
    def config_path(self) -> Path:
        return Path(self.directory) / "lan.json"

    @property
    def pending_path(self) -> Path:
        return Path(self.directory) / "pending.json"

    def current(self) -> LanConfig:
        """The kept settings; DHCP (the factory default) when none were saved."""
        try:
            return config_from_dict(json.loads(self.config_path.read_text()))
        except FileNotFoundError:
            return LanConfig("dhcp")
        except (ValueError, ValidationError) as exc:
            logger.error("%s is unreadable (%s); treating the LAN port as DHCP", self.config_path, exc)
            return LanConfig("dhcp")

    def _save(self, config: LanConfig) -> None:
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        _write_json(self.config_path, asdict(config))

    def apply(self, new: LanConfig) -> float:
        """Change the port now; return the time by which ``confirm`` must come."""
        if not self.ifname:
            raise ValidationError("no LAN port is configured (setting lan_interface)", code="network.no_port")
        previous = self.current()
        deadline = self.clock() + self.confirm_seconds
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        _write_json(self.pending_path, {"previous": asdict(previous), "new": asdict(new), "deadline": deadline})
        self.pending = Pending(previous, new, deadline)
        try:
            self.backend.apply(self.ifname, new)
        except Exception:
            self.rollback("the change failed")
            raise
        self._save(new)
        logger.warning("LAN port %s changed from %s to %s; rolled back unless confirmed within %.0f s",
                       self.ifname, previous.describe(), new.describe(), self.confirm_seconds)
        return deadline

    def confirm(self) -> None:
        if self.pending is None:
            return
        logger.info("LAN port %s: %s confirmed", self.ifname, self.pending.new.describe())
        self.pending = None
        self.pending_path.unlink(missing_ok=True)

    def rollback(self, reason: str) -> LanConfig | None:
        """Put the previous settings back; the settings restored, or None if nothing was pending."""
        pending = self.pending
        if pending is None:
            return None
        self.backend.apply(self.ifname, pending.previous)
        self._save(pending.previous)
        self.pending = None
        self.pending_path.unlink(missing_ok=True)
        logger.warning("LAN port %s rolled back to %s: %s", self.ifname, pending.previous.describe(), reason)
        return pending.previous

    def bring_up(self) -> LanConfig:
        """At the appliance's start: put the kept setting on the port and bring its link
        up (pyroute2's DHCP client only waits for the link, it never raises it).  In DHCP
        mode the addresses on the port stay: after a restart of the service that is the
        lease (its client stops without releasing it), which the next client renews; the
        static address of an earlier setting went when the setting changed (``apply``)."""
        config = self.current()
        self.backend.apply(self.ifname, config, keep_addresses=True)
        return config

    def add_fallback(self, address: str) -> bool:
        """In DHCP mode, when the port still has no IPv4 address (no DHCP server on the
        LAN), add the fallback static ``address`` so the web UI can be reached; the DHCP
        client keeps trying meanwhile.  True when the address was added."""
        if not address or self.current().mode != "dhcp":
            return False
        static_config(address)  # validated like an address typed on the console
        if ipv4_addresses(self.backend.interfaces(), self.ifname):
            return False
        self.backend.add_address(self.ifname, address)
        logger.warning("LAN port %s: no address from DHCP; fallback address %s added", self.ifname, address)
        return True

    def recover(self) -> LanConfig | None:
        """At start: a change left unconfirmed by a process that died is rolled back now."""
        try:
            data = json.loads(self.pending_path.read_text())
            self.pending = Pending(config_from_dict(data["previous"]), config_from_dict(data["new"]),
                                   float(data["deadline"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            logger.error("%s is unreadable (%s); removing it", self.pending_path, exc)
            self.pending_path.unlink(missing_ok=True)
            return None
        return self.rollback("the session that made the change ended before confirming it")
