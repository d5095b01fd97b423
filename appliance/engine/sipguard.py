"""Guarding SIP against password guessing and scanning: a pure policy, no I/O.

Asterisk reports every failed SIP authentication as an AMI security event
(class ``security``): ``ChallengeResponseFailed`` (a wrong password), ``InvalidPassword``,
``InvalidAccountID`` (an extension that does not exist: scanning) and ``FailedACL`` (a
source an endpoint's ACL refuses, e.g. a phone outside the permitted subnets).  Each is
one *failure* of its source address.  A source with ``max_failures`` failures within
``window_seconds`` is blocked until ``block_seconds`` later; a trusted source (a trunk's
address, the admin's list) never is.

``parse_event(event) -> Failure | None`` reads an AMI event; ``on_failure``, ``tick``,
``unblock`` and ``trust`` take the state and give ``(new_state, commands)``: ``Block`` and
``Unblock``, which ``appliance.services.sipguard.SipGuard`` carries out (a database row,
the generated ``pjsip.conf`` reloaded).  The state holds only recent failures (at most
``max_failures`` per source, ``MAX_SOURCES`` sources) and the blocks, so a flood from
many addresses cannot grow it without bound.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

# AMI security events that are failures, and what each means to a person.
FAILURE_EVENTS = {
    "ChallengeResponseFailed": "wrong_password",
    "InvalidPassword": "wrong_password",
    "InvalidAccountID": "unknown_account",
    "FailedACL": "refused_address",
}
KINDS = ("wrong_password", "unknown_account", "refused_address")
MAX_SOURCES = 10_000  # sources with failures remembered at once; the oldest forgotten first
MAX_ACCOUNTS = 5  # extensions tried, kept per block to show the admin


@dataclass(frozen=True)
class GuardPolicy:
    max_failures: int = 10
    window_seconds: float = 600.0
    block_seconds: float = 3600.0
    trusted: tuple = ()  # ipaddress networks never blocked (trunks, the admin's list)

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self.trusted)


@dataclass(frozen=True)
class Failure:
    address: str
    kind: str  # one of KINDS
    account: str  # the extension (or user name) tried; "" when Asterisk did not know it
    at: float
    event: str = ""  # the AMI event's name


@dataclass(frozen=True)
class Block:
    address: str
    until: float
    failures: int
    accounts: tuple[str, ...]
    kinds: tuple[str, ...]
    first_at: float


@dataclass(frozen=True)
class Unblock:
    address: str
    why: str  # expired | admin | trusted


@dataclass(frozen=True)
class GuardState:
    recent: dict = field(default_factory=dict)  # address -> tuple[Failure, ...], oldest first
    blocked: dict = field(default_factory=dict)  # address -> until


def remote_address(value: str) -> str | None:
    """``IPV4/UDP/127.0.0.5/5060`` (or ``IPV6/UDP/[::1]/5060``) -> the address, else None."""
    parts = (value or "").split("/")
    if len(parts) < 4 or parts[0].upper() not in ("IPV4", "IPV6"):
        return None
    host = "/".join(parts[2:-1]).strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def parse_event(event: dict, now: float) -> Failure | None:
    """The failure an AMI event reports (SIP only: the AMI's own log-ins are loopback), or None."""
    kind = FAILURE_EVENTS.get(event.get("Event", ""))
    if kind is None or event.get("Service") != "PJSIP":
        return None
    address = remote_address(event.get("RemoteAddress", ""))
    if address is None:
        return None
    account = event.get("AccountID", "")
    if account.startswith("<") or account.startswith("cc-blocked"):  # <unknown>; our own blocking endpoint
        account = ""
    try:
        at = float(event.get("Timestamp") or now)
    except ValueError:
        at = now
    return Failure(address=address, kind=kind, account=account[:64], at=at, event=event["Event"])


def on_failure(state: GuardState, failure: Failure, policy: GuardPolicy, now: float):
    """One more failure of a source; a ``Block`` when it reaches the limit."""
    address = failure.address
    if address in state.blocked or policy.is_trusted(address):
        return state, []
    since = now - policy.window_seconds
    kept = tuple(f for f in state.recent.get(address, ()) if f.at >= since) + (failure,)
    kept = kept[-policy.max_failures:]
    recent = {a: fs for a, fs in state.recent.items() if a != address}
    if len(kept) >= policy.max_failures:
        accounts = tuple(dict.fromkeys(f.account for f in kept if f.account))[:MAX_ACCOUNTS]
        kinds = tuple(k for k in KINDS if any(f.kind == k for f in kept))
        until = now + policy.block_seconds
        block = Block(address=address, until=until, failures=len(kept), accounts=accounts, kinds=kinds,
                      first_at=kept[0].at)
        return replace(state, recent=recent, blocked={**state.blocked, address: until}), [block]
    recent[address] = kept
    if len(recent) > MAX_SOURCES:  # forget the sources whose last failure is oldest
        for old in sorted(recent, key=lambda a: recent[a][-1].at)[:len(recent) - MAX_SOURCES]:
            del recent[old]
    return replace(state, recent=recent), []


def tick(state: GuardState, policy: GuardPolicy, now: float):
    """Blocks whose time is up end; failures older than the window are forgotten."""
    expired = sorted(a for a, until in state.blocked.items() if until <= now)
    since = now - policy.window_seconds
    recent = {a: fs for a, fs in state.recent.items() if fs[-1].at >= since}
    if not expired and len(recent) == len(state.recent):
        return state, []
    blocked = {a: u for a, u in state.blocked.items() if a not in expired}
    return GuardState(recent=recent, blocked=blocked), [Unblock(a, "expired") for a in expired]


def unblock(state: GuardState, address: str, why: str = "admin"):
    """An admin lets a source in again; its earlier failures are forgotten too."""
    if address not in state.blocked and address not in state.recent:
        return state, []
    blocked = {a: u for a, u in state.blocked.items() if a != address}
    recent = {a: fs for a, fs in state.recent.items() if a != address}
    commands = [Unblock(address, why)] if address in state.blocked else []
    return GuardState(recent=recent, blocked=blocked), commands


def trust(state: GuardState, policy: GuardPolicy):
    """The trusted networks changed: any blocked source now trusted is let in."""
    now_trusted = sorted(a for a in state.blocked if policy.is_trusted(a))
    if not now_trusted:
        return state, []
    blocked = {a: u for a, u in state.blocked.items() if a not in now_trusted}
    return replace(state, blocked=blocked), [Unblock(a, "trusted") for a in now_trusted]


def restore(blocks: dict) -> GuardState:
    """The state after a restart: the blocks kept in the database (address -> until)."""
    return GuardState(blocked=dict(blocks))


def parse_networks(text: str) -> tuple:
    """``"192.168.1.0/24, 10.0.0.5"`` -> networks; ValueError naming the first bad entry."""
    networks = []
    for entry in (text or "").replace("\n", ",").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(entry) from None
    return tuple(networks)
