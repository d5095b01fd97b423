"""The role a box of the pair plays, as a pure state machine:
``(state, event) -> (new state, commands)``; ``appliance.ha.node`` carries the commands out.

Roles: ``starting`` (keepalived not heard yet), ``standby`` (VRRP BACKUP: Asterisk stopped,
the replica received), ``fault`` (VRRP FAULT: the gateway does not answer; the box neither
takes calls nor claims the address, and keeps receiving), ``active`` (VRRP MASTER: the
database it holds opened, Asterisk configured and started, the database copied to the peer).

Events: keepalived's state for our instance (``Vrrp``), and what the peer says of itself
(``PeerSeen``: its role, or None when it does not answer).

Alarms (stable codes): ``ha.split_brain`` (both boxes active: the check both agree on
should prevent it; shown if it happens anyway), ``ha.peer_down`` (the peer does not
answer: no box would take over), ``ha.replication_failing`` (the active box cannot copy to
the standby: its disk full, the secrets differing; the standby falls behind; on both boxes),
``ha.takeover_failed`` (raised by the adapter when the appliance does not start on MASTER),
``ha.writes_kept_aside`` (this box stood down holding writes it could not copy to the peer: a
split brain, a cut cable; its database was copied aside, named, not dropped) and
``ha.peer_writes_kept_aside`` (the other box says so of itself).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

SPLIT_BRAIN = "ha.split_brain"
PEER_DOWN = "ha.peer_down"
TAKEOVER_FAILED = "ha.takeover_failed"  # raised by the adapter: the appliance did not start
REPLICATION_FAILING = "ha.replication_failing"
WRITES_KEPT_ASIDE = "ha.writes_kept_aside"
PEER_WRITES_KEPT_ASIDE = "ha.peer_writes_kept_aside"
PEER_MISSES = 3  # unanswered looks at the peer before ``ha.peer_down``


@dataclass(frozen=True)
class StartReceiving:
    """Run the replica's receiver (the rsync daemon)."""


@dataclass(frozen=True)
class StopReceiving:
    pass


@dataclass(frozen=True)
class BecomeActive:
    """Promote the replica, open the database, generate Asterisk's configuration, start it,
    and copy the database to the peer from now on."""


@dataclass(frozen=True)
class StandDown:
    """Stop copying, stop Asterisk and close the database (calls in progress are lost)."""


@dataclass(frozen=True)
class RaiseAlarm:
    code: str


@dataclass(frozen=True)
class ClearAlarm:
    code: str


@dataclass(frozen=True)
class Vrrp:
    state: str  # MASTER | BACKUP | FAULT | STOP | DELETED


@dataclass(frozen=True)
class PeerSeen:
    """What the peer says of itself; the adapter drops an answer to a look begun before this
    box's last change of role (a stale "active" from the box just taken over from)."""

    role: str | None  # None: the peer did not answer


@dataclass(frozen=True)
class Copying:
    failing: bool  # the last copy to the standby failed (on the standby: the active box says so)


@dataclass(frozen=True)
class KeptAside:
    """Whether databases kept aside wait for someone to look at them: on this box, on the peer."""

    here: bool
    peer: bool


@dataclass(frozen=True)
class RoleState:
    role: str = "starting"
    peer_role: str | None = None
    peer_misses: int = 0
    alarms: frozenset = frozenset()


def _alarm(state: RoleState, code: str, on: bool) -> tuple[RoleState, list]:
    if on and code not in state.alarms:
        return replace(state, alarms=state.alarms | {code}), [RaiseAlarm(code)]
    if not on and code in state.alarms:
        return replace(state, alarms=state.alarms - {code}), [ClearAlarm(code)]
    return state, []


def _split_brain(state: RoleState) -> tuple[RoleState, list]:
    return _alarm(state, SPLIT_BRAIN, state.role == "active" and state.peer_role == "active")


def step(state: RoleState, event) -> tuple[RoleState, list]:
    commands: list = []
    if isinstance(event, Vrrp):
        if event.state == "MASTER":
            if state.role != "active":
                commands += [StopReceiving(), BecomeActive()]
                # what the peer said of itself was said before this box took over (it was the
                # active box a moment ago): not a split brain until it says so again
                state = replace(state, role="active", peer_role=None)
        elif event.state in ("BACKUP", "FAULT", "STOP", "DELETED"):
            role = "fault" if event.state == "FAULT" else "standby"
            if state.role == "active":
                commands += [StandDown(), StartReceiving()]
                state, more = _alarm(state, REPLICATION_FAILING, False)  # nothing to copy any more
                commands += more
            elif state.role == "starting":
                commands += [StartReceiving()]
            state = replace(state, role=role)
    elif isinstance(event, PeerSeen):
        if event.role is None:
            state = replace(state, peer_role=None, peer_misses=state.peer_misses + 1)
        else:
            state = replace(state, peer_role=event.role, peer_misses=0)
        state, more = _alarm(state, PEER_DOWN, state.peer_misses >= PEER_MISSES)
        commands += more
    elif isinstance(event, Copying):
        # the peer answers, yet copies fail (the standby's disk full, the secrets differ): on
        # the active box (its copies fail) and on the standby (the active box says so); a peer
        # that is gone is ``ha.peer_down`` alone
        state, more = _alarm(state, REPLICATION_FAILING,
                             event.failing and state.role != "starting" and state.peer_role is not None)
        commands += more
    elif isinstance(event, KeptAside):
        state, here = _alarm(state, WRITES_KEPT_ASIDE, event.here)
        state, peer = _alarm(state, PEER_WRITES_KEPT_ASIDE, event.peer)
        commands += here + peer
    state, more = _split_brain(state)
    return state, commands + more
