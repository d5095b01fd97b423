"""Where an inbound call goes: a pure decision from the dialled number, the caller, the
moment, and a snapshot of the routing configuration.  FastAGI's ``route`` handler
carries it out; the snapshot is rebuilt whenever configuration is applied, so the call
path never queries the database.

The rules, in order:

1. **Blacklist**: a blocked caller hears the refusal and is hung up (``blacklisted``).
2. **DID**: an unknown dialled number goes to the fallback (``no-route``).
3. **Time condition**: outside the DID's opening hours (weekly schedule, holiday
   calendar) the call takes the DID's after-hours action: another queue (the duty
   agents) or the closed message (``closed``).
4. Otherwise the DID's voice menu or queue (after hours: the after-hours menu or queue).
5. **VIP** (``with_account_manager``): a caller found among the customers with an account
   manager is offered to that agent first, after a short choice to go to the queue instead.
6. **Sticky agent** (``with_sticky``, after the handler has looked up the caller's last
   agent): when the chosen queue keeps callers with their agent, that agent is rung first
   (alone, only if free), then the queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from appliance import dialplan_vars as v
from appliance import numbers
from appliance.engine.schedule import Schedule


@dataclass(frozen=True)
class RouteDecision:
    context: str
    exten: str
    reason: str = ""  # why the caller goes to the fallback, empty otherwise
    rule: str = ""  # which rule decided (for the log and the call record)
    variables: Mapping[str, str] = field(default_factory=dict)  # more channel variables to set

    @property
    def is_fallback(self) -> bool:
        return self.context == v.FALLBACK_CONTEXT


@dataclass(frozen=True)
class TimeCondition:
    schedule: Schedule
    timezone: str = "Asia/Shanghai"
    use_holidays: bool = True


@dataclass(frozen=True)
class DidRoute:
    queue: str | None
    time_condition: str | None = None
    after_hours_queue: str | None = None  # None: the closed message, or a message left for ``queue``
    require_pin: bool = False
    menu: str | None = None  # a voice menu instead of a queue
    after_hours_menu: str | None = None
    after_hours_voicemail: bool = False  # closed, no after-hours queue: the caller leaves a message
    fax: bool = False  # a fax line: received as a fax, at any hour
    fax_detect: bool = False  # a voice line listening for a calling fax machine (CNG) at first


@dataclass(frozen=True)
class StickyRule:
    """A queue's sticky-agent setting: the last agent who talked with the caller at least
    ``min_talk_seconds`` within ``lookback_days`` is rung first for ``ring_seconds``."""

    lookback_days: int
    min_talk_seconds: int = 30
    ring_seconds: int = 15


@dataclass(frozen=True)
class RoutingTable:
    """The routing configuration as of the last applied change."""

    dids: Mapping[str, DidRoute] = field(default_factory=dict)  # number -> where its calls go
    time_conditions: Mapping[str, TimeCondition] = field(default_factory=dict)
    holidays: Mapping[dt.date, str] = field(default_factory=dict)  # date -> "holiday" | "workday"
    blacklist: frozenset[str] = frozenset()
    sticky: Mapping[str, StickyRule] = field(default_factory=dict)  # queue -> rule (only queues using it)


def _blacklisted(caller: str, blacklist: frozenset[str]) -> bool:
    """Whether ``caller``, in any of its forms (``numbers.variants``), is a blocked number
    (kept as entered less a +: ``numbers.bare``)."""
    return any(form in blacklist for form in numbers.variants(caller))


def _fallback(reason: str, rule: str) -> RouteDecision:
    return RouteDecision(v.FALLBACK_CONTEXT, reason, reason=reason, rule=rule)


def _route_of(did: str, table: RoutingTable) -> DidRoute | None:
    """The route of ``did`` in whichever of its forms it was configured."""
    for key in numbers.variants(did):
        if key in table.dids:
            return table.dids[key]
    return None


def is_open(tc: TimeCondition, now_utc: dt.datetime, holidays: Mapping[dt.date, str]) -> bool:
    local = now_utc.astimezone(ZoneInfo(tc.timezone)).replace(tzinfo=None)
    return tc.schedule.open_at(local, holidays if tc.use_holidays else None)


def decide(did: str, caller: str, table: RoutingTable, now: dt.datetime | None = None) -> RouteDecision:
    """``now`` is an aware UTC datetime (the handler passes the current time)."""
    if _blacklisted(caller, table.blacklist):
        return _fallback("blacklisted", "blacklist")
    route = _route_of(did, table)
    if route is not None and route.fax:  # the fax is filed under the DID as the trunk sent it, less a +
        return RouteDecision(v.FAX_CONTEXT, numbers.bare(did), rule="fax")
    if route is None or not (route.queue or route.menu):
        return _fallback("no-route", "did")
    if route.time_condition:
        tc = table.time_conditions.get(route.time_condition)
        now = now or dt.datetime.now(dt.timezone.utc)
        if tc is not None and not is_open(tc, now, table.holidays):
            if route.after_hours_menu:
                return to_menu(route.after_hours_menu, "after-hours")
            if route.after_hours_queue:
                return RouteDecision(v.QUEUE_CONTEXT, route.after_hours_queue, rule="after-hours")
            if route.after_hours_voicemail:
                return RouteDecision(v.VOICEMAIL_CONTEXT, route.queue, rule="after-hours",
                                     variables={v.VOICEMAIL_REASON: "after-hours"})
            return _fallback("closed", "after-hours")
    if route.menu:
        return to_menu(route.menu, "did")
    return RouteDecision(v.QUEUE_CONTEXT, route.queue, rule="did")


def to_menu(menu: str, rule: str) -> RouteDecision:
    """Into voice menu ``menu`` (FastAGI ``menu`` serves it a turn at a time)."""
    return RouteDecision(v.MENU_CONTEXT, "s", rule=rule, variables={v.MENU: menu})


def sticky_rule_for(decision: RouteDecision, table: RoutingTable) -> StickyRule | None:
    """The sticky rule that applies to this decision, if its queue has one."""
    if decision.context != v.QUEUE_CONTEXT:
        return None
    return table.sticky.get(decision.exten)


def with_sticky(decision: RouteDecision, last_agent: str | None, rule: StickyRule | None) -> RouteDecision:
    """Ring the caller's last agent first, then the queue the decision chose."""
    if rule is None or not last_agent:
        return decision
    return RouteDecision(v.AGENT_FIRST_CONTEXT, last_agent, rule="sticky",
                         variables={v.THEN_QUEUE: decision.exten, v.FIRST_TIMEOUT: str(rule.ring_seconds)})


def with_account_manager(decision: RouteDecision, manager: str | None) -> RouteDecision:
    """A customer's account manager first (the dialplan offers "press 0 for the queue")."""
    if decision.context != v.QUEUE_CONTEXT or not manager:
        return decision
    return RouteDecision(v.VIP_CONTEXT, manager, rule="vip",
                         variables={v.THEN_QUEUE: decision.exten, v.FIRST_TIMEOUT: str(v.VIP_RING_SECONDS)})


def pin_required(did: str, table: RoutingTable) -> bool:
    route = _route_of(did, table)
    return bool(route and route.require_pin)


def with_pin_check(decision: RouteDecision) -> RouteDecision:
    """The caller keys their member PIN first; then the call goes where it was going."""
    if decision.is_fallback:
        return decision
    return RouteDecision(v.PIN_CONTEXT, "s", rule=decision.rule,
                         variables={**decision.variables, v.AFTER_CONTEXT: decision.context,
                                    v.AFTER_EXTEN: decision.exten})
