"""Work orders' pure rules: a type's workflow (states, transitions) checked whole, whether
one move is allowed, how far an order past its state's time limit has escalated, and the
dispatch link's signed token.  No peewee, no socket, no clock of its own: the service
passes ``now`` in, so the tests drive time.

A workflow is a list of states (``name``, ``initial``, ``final``, ``limit_minutes``: how
long an order may stay in it before it escalates; 0 = no limit) and a list of transitions
``(from, to)``.  It is sound when: names are unique; exactly one state is initial; at least
one is final; no transition leaves a final state; every transition names known states; and
every state is reachable from the initial one.  Each fault is reported with its own message
id, the first one found per kind.

Escalation levels: 0 none, 1 the team leader (the order passed its state's limit), 2 the
manager (it passed it again: twice the limit in the same state).  ``level_due`` is a pure
function of (when the state began, its limit, now), so a restarted scheduler computes the
same answer and only the levels not yet stored are acted on.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_STATES = 30
MAX_LEVEL = 2  # 1 team leader, 2 manager
LEVELS = {1: "leader", 2: "manager"}


@dataclass(frozen=True)
class WorkflowFault:
    """One reason a workflow is refused: where (``states``/``transitions``), a message id,
    its English sentence and the parameters it is filled with."""

    field: str
    msgid: str
    english: str
    params: dict


def check_workflow(states: list[dict], transitions: list) -> list[WorkflowFault]:
    """Every reason the workflow cannot be saved (empty: sound)."""
    faults: list[WorkflowFault] = []
    names = [s.get("name") for s in states]
    if not states:
        return [WorkflowFault("states", "workorders.wf.no_states", "a workflow needs states", {})]
    if len(states) > MAX_STATES:
        faults.append(WorkflowFault("states", "workorders.wf.too_many", f"at most {MAX_STATES} states",
                                    {"n": MAX_STATES}))
    for n in names:
        if not isinstance(n, str) or not NAME.fullmatch(n):
            faults.append(WorkflowFault("states", "workorders.wf.bad_name",
                                        f"state name '{n}': lower-case letters, digits and _", {"name": str(n)}))
            return faults
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        faults.append(WorkflowFault("states", "workorders.wf.duplicate", f"state {dupes[0]} appears twice",
                                    {"name": dupes[0]}))
    initial = [s["name"] for s in states if s.get("initial")]
    if len(initial) != 1:
        faults.append(WorkflowFault("states", "workorders.wf.one_initial",
                                    f"exactly one initial state (there are {len(initial)})", {"n": len(initial)}))
    final = {s["name"] for s in states if s.get("final")}
    if not final:
        faults.append(WorkflowFault("states", "workorders.wf.no_final", "at least one state must be final", {}))
    for s in states:
        limit = s.get("limit_minutes", 0)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 525600:
            faults.append(WorkflowFault("states", "workorders.wf.bad_limit",
                                        f"state {s['name']}: the time limit is 0 to 525600 minutes",
                                        {"name": s["name"]}))
    known = set(names)
    pairs = []
    for t in transitions:
        if not isinstance(t, (list, tuple)) or len(t) != 2 or not all(isinstance(x, str) and x in known for x in t):
            faults.append(WorkflowFault("transitions", "workorders.wf.unknown_state",
                                        f"the transition {t!r} names a state that does not exist",
                                        {"transition": " → ".join(map(str, t)) if isinstance(t, (list, tuple))
                                         else str(t)}))
            return faults
        if t[0] == t[1]:
            faults.append(WorkflowFault("transitions", "workorders.wf.self_loop",
                                        f"the transition {t[0]} → {t[1]} goes nowhere", {"name": t[0]}))
        if t[0] in final:
            faults.append(WorkflowFault("transitions", "workorders.wf.from_final",
                                        f"state {t[0]} is final: no transition may leave it", {"name": t[0]}))
        pairs.append((t[0], t[1]))
    if len(initial) == 1:
        unreachable = [n for n in names if n not in reachable(initial[0], pairs)]
        if unreachable:
            faults.append(WorkflowFault("transitions", "workorders.wf.unreachable",
                                        f"no way leads to {', '.join(unreachable)} from {initial[0]}",
                                        {"names": ", ".join(unreachable), "initial": initial[0]}))
    return faults


def reachable(start: str, pairs) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        here = todo.pop()
        for a, b in pairs:
            if a == here and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def next_states(transitions, state: str) -> list[str]:
    """Where an order in ``state`` may go, in the workflow's order."""
    return [b for a, b in transitions if a == state]


def allowed(transitions, from_state: str, to_state: str) -> bool:
    return any(a == from_state and b == to_state for a, b in transitions)


def due_at(state_since: dt.datetime, limit_minutes: int) -> dt.datetime | None:
    """When an order that entered its state at ``state_since`` passes the state's limit."""
    return state_since + dt.timedelta(minutes=limit_minutes) if limit_minutes else None


def level_due(state_since: dt.datetime, limit_minutes: int, now: dt.datetime) -> int:
    """The escalation level an order should have reached by ``now``: 0 within the limit,
    1 past it (team leader), 2 past twice the limit (manager)."""
    if not limit_minutes:
        return 0
    passed = (now - state_since) / dt.timedelta(minutes=limit_minutes)
    return min(MAX_LEVEL, int(passed)) if passed >= 1 else 0


# -- dispatch links ---------------------------------------------------------------------
class TokenError(ValueError):
    """A dispatch token that is refused: ``reason`` is ``tampered`` or ``expired``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _sig(key: bytes, order_id: int, expires: int) -> str:
    mac = hmac.new(key, f"workorder:{order_id}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def sign(key: bytes, order_id: int, expires: int) -> str:
    """``<order>.<expiry, Unix seconds>.<HMAC-SHA256>``: whoever holds it may see and move
    that order until it expires; changing any part breaks the signature."""
    return f"{order_id}.{expires}.{_sig(key, order_id, expires)}"


def verify(key: bytes, token: str, now: float) -> int:
    """The order id the token is for; TokenError ``tampered`` (not ours, or changed) or
    ``expired``.  The signature is checked first, so an expiry cannot be forged."""
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(token) > 200:
        raise TokenError("tampered")
    order_id, expires = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(parts[2].encode(), _sig(key, order_id, expires).encode()):
        raise TokenError("tampered")
    if now >= expires:
        raise TokenError("expired")
    return order_id


# -- photos -------------------------------------------------------------------------------
IMAGE_MAGIC = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"), (b"GIF89a", "gif"))


def image_kind(head: bytes) -> str | None:
    """``jpg``/``png``/``gif``/``webp`` from a file's first bytes, or None: not an image we take."""
    for magic, ext in IMAGE_MAGIC:
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None
