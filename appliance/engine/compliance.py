"""Outbound compliance: may this call go out now, and with which caller ID?  Pure.

Every way a call leaves the building (click-to-dial, transfers and consultations to a
number, faxes, the desk phone's keypad, and campaigns) is decided by ``evaluate`` over the
facts the service (``appliance/services/compliance.py``) gathers.  The rules, in the order
they are asked (the first that refuses names the refusal):

1. ``permission``: the calling permission of whoever places the call allows the number's
   class (``appliance.engine.calling.permits``); emergency numbers always pass and skip
   every rule below;
2. ``blacklist``: the number is on the blacklist (the same list that refuses it inbound);
3. ``dnc``: the number is on the do-not-call list (an entry whose expiry has passed no
   longer counts); a voice code the person asked for is not held to it (``DNC_EXEMPT``);
4. ``window``: the office's clock is outside the calling window (a weekly schedule in the
   opening-hours syntax, default every day 09:00-20:00, holidays closed when the window
   follows the holiday calendar); a supervisor's or admin's click-to-dial may override it,
   an agent's, a desk phone's and a campaign's never (``may_override``).  Only new calls
   to people (``WINDOW_PATHS``) are held to it;
5. ``trunks_full``: every outbound trunk has a ``max_channels`` and is using all of them;
6. ``concurrency``: the campaign's own limit of simultaneous calls is reached;
7. ``callerid_pool``: the caller-ID pool the call must use has no number under its caps
   (per hour and per day).  Asked last, so a refused call uses no number.

The number rules (blacklist, do-not-call) come before the time and capacity rules: a number
that may never be called is reported as such, whatever the hour.  Retry rules for campaigns
(``RetryRules``, ``next_attempt``) are here too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from appliance.engine.calling import permits
from appliance.engine.schedule import Schedule
from appliance.numbers import EMERGENCY

PERMISSION, BLACKLIST, DNC, WINDOW, TRUNKS_FULL, CONCURRENCY, CALLERID_POOL = (
    "permission", "blacklist", "dnc", "window", "trunks_full", "concurrency", "callerid_pool")
RULES = (PERMISSION, BLACKLIST, DNC, WINDOW, TRUNKS_FULL, CONCURRENCY, CALLERID_POOL)
DEFAULT_WINDOW = "daily 09:00-20:00"
# Which ways out each rule concerns (the others pass it).  The window: a new call to someone
# (click-to-dial, the keypad, a campaign); not a transfer or consultation of a call already
# under way (the customer is on the line), a fax, or a voice code the person asked for.
WINDOW_PATHS = ("dial", "phone", "campaign")
# The do-not-call list: every way out but a verification code the person asked for themselves.
DNC_EXEMPT = ("voice-code",)
OVERRIDE_ROLES = ("supervisor", "admin")  # who may call outside the window from the web UI


@dataclass(frozen=True)
class PoolNumber:
    """One caller ID of a pool with its caps (0: none) and how often it was used in the
    last hour and the last 24 hours."""

    number: str
    per_hour: int = 0
    per_day: int = 0
    used_hour: int = 0
    used_day: int = 0
    last_used: float = 0.0  # epoch seconds; 0: never

    def available(self) -> bool:
        return ((not self.per_hour or self.used_hour < self.per_hour)
                and (not self.per_day or self.used_day < self.per_day))


def pick_caller_id(pool: tuple[PoolNumber, ...]) -> PoolNumber | None:
    """The least-used number under its caps (fewest uses today, then this hour, then the
    longest unused, then the number): the brochures' 超频 rule rotates the load over the pool
    so no number is called often enough for carriers to block it.  None: all at their caps."""
    free = [p for p in pool if p.available()]
    if not free:
        return None
    return min(free, key=lambda p: (p.used_day, p.used_hour, p.last_used, p.number))


@dataclass(frozen=True)
class Trunk:
    name: str
    max_channels: int = 0  # 0: no limit
    in_use: int = 0

    def full(self) -> bool:
        return bool(self.max_channels) and self.in_use >= self.max_channels


@dataclass(frozen=True)
class Facts:
    """What ``evaluate`` decides on; the service fills it in."""

    number_class: str
    permission: str
    blacklisted: bool = False
    dnc: bool = False
    now: dt.datetime | None = None  # the office's wall clock (naive); None: no window check
    window: Schedule | None = None
    calendar: dict = field(default_factory=dict)  # date -> holiday | workday
    override_window: bool = False  # asked for, and allowed (may_override)
    trunks: tuple[Trunk, ...] = ()  # the outbound trunks
    concurrency_limit: int = 0  # a campaign's own cap; 0: none
    active_calls: int = 0  # the campaign's calls now
    pool: tuple[PoolNumber, ...] | None = None  # None: no pool for this call


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str = ""  # the rule that refused the call
    caller_id: str = ""  # the pool's number to present, if a pool applies
    params: dict = field(default_factory=dict)  # for the translated sentence

    @classmethod
    def refused(cls, rule: str, **params) -> "Verdict":
        return cls(False, rule, "", params)


def may_override(role: str | None, path: str) -> bool:
    """Only staff placing a call by hand from the web UI may call outside the window (a
    customer who asked to be called back at 21:00); agents, desk phones and campaigns never."""
    return path in ("dial", "transfer", "consult") and role in OVERRIDE_ROLES


def evaluate(facts: Facts) -> Verdict:
    """The first rule (in ``RULES`` order) that refuses the call, or allowed with the pool's
    caller ID."""
    if not permits(facts.permission, facts.number_class):
        return Verdict.refused(PERMISSION, number_class=facts.number_class, permission=facts.permission)
    if facts.number_class == EMERGENCY:
        return Verdict(True)
    if facts.blacklisted:
        return Verdict.refused(BLACKLIST)
    if facts.dnc:
        return Verdict.refused(DNC)
    if (facts.window is not None and facts.now is not None and not facts.override_window
            and not facts.window.open_at(facts.now, facts.calendar)):
        return Verdict.refused(WINDOW, time=facts.now.strftime("%H:%M"))
    if facts.trunks and all(t.full() for t in facts.trunks):
        return Verdict.refused(TRUNKS_FULL, lines=sum(t.max_channels for t in facts.trunks))
    if facts.concurrency_limit and facts.active_calls >= facts.concurrency_limit:
        return Verdict.refused(CONCURRENCY, limit=facts.concurrency_limit)
    if facts.pool is not None:
        chosen = pick_caller_id(facts.pool)
        if chosen is None:
            return Verdict.refused(CALLERID_POOL, numbers=len(facts.pool))
        return Verdict(True, caller_id=chosen.number)
    return Verdict(True)


# -- retry rules (campaigns) -------------------------------------------------------------------
NEVER_AGAIN = (PERMISSION, BLACKLIST, DNC)  # the number itself may not be called


def refusal_passes(rule: str) -> bool:
    """Whether a call refused by ``rule`` may be tried again later (the hour, the lines, the
    campaign's limit or the pool's caps pass; the number's own rules do not).  A campaign
    leaves such a number where it was: the refusal uses none of its attempts."""
    return rule in RULES and rule not in NEVER_AGAIN

BUSY, NO_ANSWER, FAILED, ANSWERED, MACHINE, REFUSED = "busy", "no_answer", "failed", "answered", "machine", "refused"


@dataclass(frozen=True)
class RetryRules:
    """When a campaign calls a number again after a result (minutes; 0: never again after
    that result), and at most how many attempts in all.  Stored per campaign later."""

    busy_minutes: int = 10
    no_answer_minutes: int = 60
    failed_minutes: int = 30
    machine_minutes: int = 0  # an answering machine: not again by default
    max_attempts: int = 3

    def __post_init__(self):
        for name in ("busy_minutes", "no_answer_minutes", "failed_minutes", "machine_minutes", "max_attempts"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} may not be negative")


def next_attempt(rules: RetryRules, result: str, attempts: int, at: dt.datetime) -> dt.datetime | None:
    """When to try a number again after its ``attempts``-th attempt ended with ``result`` at
    ``at``; None: never (answered, a refusal by compliance, the attempts used up, or a result
    the rules do not retry)."""
    if attempts >= rules.max_attempts:
        return None
    minutes = {BUSY: rules.busy_minutes, NO_ANSWER: rules.no_answer_minutes, FAILED: rules.failed_minutes,
               MACHINE: rules.machine_minutes}.get(result, 0)
    if not minutes:
        return None
    return at + dt.timedelta(minutes=minutes)
