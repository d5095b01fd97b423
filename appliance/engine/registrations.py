"""Whether each phone is registered, and each trunk registered to its provider, live.

Pure: ``Registrations.apply(event)`` takes one AMI event and returns the ``Publish``
commands of what changed.  The phones' state comes from ``ContactStatus`` events (a
phone's AOR is its extension: a contact created or updated is a registration, a contact
removed, whether unregistered or expired, is none), the trunks' from ``Registry`` events
of PJSIP's outbound registrations, matched to the trunk by the client and server URIs
the configuration gave them (``set_trunks``).  After (re)connecting, what Asterisk holds
is read with the CLI (``pjsip show contacts``, ``pjsip show registrations``: the AMI
actions for them need the ``system`` write class, which our AMI account does not have)
and parsed here by ``parse_contacts`` and ``parse_registrations``; while AMI is away
nothing is known (``lost``).

An analog phone on an FXS port registers nothing: its state is its port's, from the
``DeviceStateChange`` events of ``DAHDI/<channel>`` (idle, busy, ringing, unavailable), and
``port_missing`` when the card no longer has the port (``set_ports``, after every DAHDI
apply).  After (re)connecting, the ports with a channel up (``parse_busy_ports`` of ``core
show channels concise``) are busy and the others idle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from appliance.engine.live import Publish

TOPIC = "registration"
# States, each a message id ``agents.reg.<state>`` in the web UI.
REGISTERED = "registered"
UNREACHABLE = "unreachable"  # registered, but not answering Asterisk's OPTIONS
UNREGISTERED = "unregistered"
REJECTED = "rejected"  # the provider refused the trunk's registration
NOT_REGISTERING = "not_registering"  # a trunk configured without registration
UNKNOWN = "unknown"  # AMI not connected: nothing is known

_CONTACT_STATES = {"Created": REGISTERED, "Updated": REGISTERED, "Reachable": REGISTERED,
                   "NonQualified": REGISTERED, "Unknown": REGISTERED, "Unreachable": UNREACHABLE,
                   "Removed": UNREGISTERED}
_REGISTRY_STATES = {"Registered": REGISTERED, "Rejected": REJECTED, "Failed": REJECTED}
TRUNK_PREFIX = "trunk-"  # appliance/confgen/pjsip.py trunk_endpoint: trunks' AORs, not phones'
REGISTRATION_SUFFIX = "-reg"
# An FXS port's state (a phone of kind fxs), each a message id ``fxs.port.<state less port_>``.
PORT_IDLE, PORT_BUSY, PORT_RINGING, PORT_UNAVAILABLE, PORT_MISSING = (
    "port_idle", "port_busy", "port_ringing", "port_unavailable", "port_missing")
PORT_STATES = (PORT_IDLE, PORT_BUSY, PORT_RINGING, PORT_UNAVAILABLE, PORT_MISSING)
_DEVICE_STATES = {"NOT_INUSE": PORT_IDLE, "INUSE": PORT_BUSY, "BUSY": PORT_BUSY, "ONHOLD": PORT_BUSY,
                  "RINGING": PORT_RINGING, "RINGINUSE": PORT_BUSY, "UNAVAILABLE": PORT_UNAVAILABLE,
                  "INVALID": PORT_UNAVAILABLE}


class Registrations:
    def __init__(self) -> None:
        self.phones: dict[str, dict] = {}  # extension -> {"state", "contact"}
        self.trunks: dict[str, str] = {}  # trunk name -> state (trunks that register)
        self._trunk_of: dict[tuple[str, str], str] = {}  # (client URI, server URI) -> trunk name
        self.ports: dict[int, str] = {}  # FXS channel -> extension of its phone (ports the card has)
        self.port_state: dict[str, str] = {}  # extension -> PORT_* of each phone of kind fxs
        self.known = False

    def set_ports(self, ports: Mapping[int, str], missing: Iterable[str] = ()) -> list:
        """The FXS ports with a phone (channel -> extension) and the extensions of the phones
        whose port the card no longer has (after every DAHDI apply)."""
        self.ports = dict(ports)
        before = self.port_state
        self.port_state = {ext: before.get(ext, PORT_IDLE) if before.get(ext) != PORT_MISSING else PORT_IDLE
                           for ext in self.ports.values()}
        self.port_state.update({ext: PORT_MISSING for ext in missing})
        return [Publish(TOPIC, {"kind": "phones", "key": ext, "state": state})
                for ext, state in sorted(self.port_state.items()) if before.get(ext) != state]

    def set_trunks(self, uris: Mapping[str, tuple[str, str]]) -> None:
        """The trunks that register, by name, with the (client URI, server URI) of their
        registration (after every configuration change)."""
        self._trunk_of = {pair: name for name, pair in uris.items()}
        self.trunks = {name: self.trunks.get(name, UNREGISTERED) for name in uris}

    def apply(self, event: Mapping[str, str]) -> list:
        name = event.get("Event", "")
        if name == "ContactStatus":
            return self._contact(event.get("AOR", ""), event.get("URI", ""), event.get("ContactStatus", ""))
        if name == "DeviceStateChange" and event.get("Device", "").startswith("DAHDI/"):
            channel = event["Device"][len("DAHDI/"):]
            extension = self.ports.get(int(channel)) if channel.isdigit() else None
            if extension is not None and event.get("State") in _DEVICE_STATES:
                return self._port(extension, _DEVICE_STATES[event["State"]])
            return []
        if name == "Registry" and event.get("ChannelType", "PJSIP") == "PJSIP":
            trunk = self._trunk_of.get((event.get("Username", ""), event.get("Domain", "")))
            if trunk is not None:
                return self._trunk(trunk, _REGISTRY_STATES.get(event.get("Status", ""), UNREGISTERED))
        return []

    def _contact(self, aor: str, uri: str, status: str) -> list:
        if not aor or aor.startswith(TRUNK_PREFIX) or status not in _CONTACT_STATES:
            return []
        state = _CONTACT_STATES[status]
        before = self.phones.get(aor)
        if state == UNREGISTERED:
            if before is None or before["contact"] not in ("", uri):
                return []  # another contact than the one held (remove_existing replaced it)
            del self.phones[aor]
            return [Publish(TOPIC, {"kind": "phones", "key": aor, "state": UNREGISTERED, "contact": ""})]
        now = {"state": state, "contact": uri}
        if before == now:
            return []
        self.phones[aor] = now
        return [Publish(TOPIC, {"kind": "phones", "key": aor, **now})]

    def _port(self, extension: str, state: str) -> list:
        if self.port_state.get(extension) == state:
            return []
        self.port_state[extension] = state
        return [Publish(TOPIC, {"kind": "phones", "key": extension, "state": state})]

    def _trunk(self, trunk: str, state: str) -> list:
        if self.trunks.get(trunk) == state:
            return []
        self.trunks[trunk] = state
        return [Publish(TOPIC, {"kind": "trunks", "key": trunk, "state": state})]

    def connected(self, contacts: Iterable[tuple[str, str, str]], registrations: Mapping[str, str],
                  busy_ports: Iterable[int] = ()) -> list:
        """After (re)connecting: what Asterisk holds now (``parse_contacts``,
        ``parse_registrations``, ``parse_busy_ports``) replaces whatever was known."""
        commands = []
        busy = set(busy_ports)
        for channel, extension in self.ports.items():
            state = PORT_BUSY if channel in busy else PORT_IDLE
            if self.port_state.get(extension) != state or not self.known:
                commands.append(Publish(TOPIC, {"kind": "phones", "key": extension, "state": state}))
            self.port_state[extension] = state
        held = {}
        for aor, uri, status in contacts:
            if aor.startswith(TRUNK_PREFIX) or _CONTACT_STATES.get(status, UNREGISTERED) == UNREGISTERED:
                continue
            held[aor] = {"state": _CONTACT_STATES[status], "contact": uri}
        for aor in set(self.phones) | set(held):
            now = held.get(aor, {"state": UNREGISTERED, "contact": ""})
            if self.phones.get(aor) != now or not self.known:
                commands.append(Publish(TOPIC, {"kind": "phones", "key": aor, **now}))
        self.phones = held
        for trunk in self.trunks:
            state = registrations.get(trunk, UNREGISTERED)
            if self.trunks[trunk] != state or not self.known:
                commands.append(Publish(TOPIC, {"kind": "trunks", "key": trunk, "state": state}))
            self.trunks[trunk] = state
        self.known = True
        return commands

    def lost(self) -> list:
        """AMI went away: nothing is known until it is back."""
        if not self.known:
            return []
        self.known = False
        return [Publish(TOPIC, {"kind": "all", "key": "", "state": UNKNOWN})]

    def snapshot(self) -> dict:
        """``{"known", "phones": {extension: state}, "trunks": {name: state}}``; a phone
        not listed is not registered, a trunk not listed does not register."""
        phones = {**{k: v["state"] for k, v in self.phones.items()}, **self.port_state}
        return {"known": self.known, "phones": dict(sorted(phones.items())),
                "trunks": dict(sorted(self.trunks.items()))}


# ``pjsip show contacts``:  "  Contact:  1001/sip:1001@127.0.0.1:5999      5e1f2a3b4c NonQual         nan"
_CONTACT_LINE = re.compile(r"^\s*Contact:\s+(?P<aor>[^/\s]+)/(?P<uri>\S+)\s+\S+\s+(?P<status>\S+)", re.M)
_CLI_STATUS = {"Avail": "Reachable", "Unavail": "Unreachable", "NonQual": "NonQualified", "Unknown": "Unknown",
               "Created": "Created", "Removed": "Removed"}
# ``pjsip show registrations``:  " trunk-pstn-reg/sip:127.0.0.2:5060     trunk-pstn-auth     Registered  (exp. 3599s)"
_REGISTRATION_LINE = re.compile(r"^\s*(?P<name>trunk-\S+?)-reg/\S+\s+(?:\S+\s+)?(?P<status>Registered|Unregistered|"
                                r"Rejected|Stopped|Failed)\b", re.M)


def parse_contacts(text: str) -> list[tuple[str, str, str]]:
    """``(aor, uri, ContactStatus)`` of each contact Asterisk's CLI lists."""
    return [(m["aor"], m["uri"], _CLI_STATUS.get(m["status"], m["status"])) for m in _CONTACT_LINE.finditer(text)
            if not m["aor"].startswith("<")]


def parse_registrations(text: str) -> dict[str, str]:
    """Trunk name -> state of each outbound registration Asterisk's CLI lists."""
    return {m["name"][len(TRUNK_PREFIX):]: _REGISTRY_STATES.get(m["status"], UNREGISTERED)
            for m in _REGISTRATION_LINE.finditer(text)}


# ``core show channels concise``:  "DAHDI/3-1!cc-phones!s!1!Up!..." (an analog channel: its port)
_DAHDI_CHANNEL = re.compile(r"^DAHDI/(?P<channel>[0-9]+)-[0-9]+!", re.M)


def parse_busy_ports(text: str) -> set[int]:
    """The DAHDI channels (FXS ports, FXO lines) that have a call up, from the CLI's concise list."""
    return {int(m["channel"]) for m in _DAHDI_CHANNEL.finditer(text)}
