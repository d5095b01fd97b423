"""Rating a call the way Chinese carriers do: pure functions, no I/O.

A rate plan (``Plan``) says how time is counted and what each destination class costs:

- the billing unit as a first unit and the units after it (``first_seconds``,
  ``next_seconds``): 60/60 ("per minute"), 30/30, 6/6, 1/1, or 60/6 ("first minute, then
  every 6 seconds"); a unit begun is a unit paid;
- a price per minute for each destination class (``rates``), in ten-thousandths of a yuan
  (``0.0700`` yuan a minute is 700), so a unit shorter than a minute costs its share;
- a minimum charge per call and a fee per call (fen);
- (monthly rents per trunk and per agent are the bill's business, not a call's.)

The cost of one call is ``charge``: nothing for a call not answered or answered for 0 s;
otherwise the units' price, rounded half up to the fen, at least the minimum charge, plus
the per-call fee. Money is integer fen (分) everywhere; the per-minute prices' finer unit
is only ever multiplied, then rounded once with ``Decimal``.

The destination class of an outgoing call (``destination_class``) comes from
``appliance.numbers.classify`` (phonenumbers: the number's type and area code against the
office's own): no second classifier here, only the mapping of its answer to the classes
carriers price (toll-free 400/800 and special service numbers apart).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from appliance import numbers

LOCAL = "local"
LONG_DISTANCE = "long_distance"
MOBILE = "mobile"
INTERNATIONAL = "international"
TOLL_FREE = "toll_free"
SPECIAL = "special"
INBOUND = "inbound"  # a call coming in: rated only where a plan has a price for it
# The classes a plan may price, in the order pages list them.
CLASSES = (LOCAL, LONG_DISTANCE, MOBILE, INTERNATIONAL, TOLL_FREE, SPECIAL, INBOUND)
# Never charged, never priced: our own extensions, and emergency numbers (free in China).
INTERNAL = "internal"
EMERGENCY = "emergency"
FREE_CLASSES = (INTERNAL, EMERGENCY)

# The units people pick from (first unit, next units): the page's choices.
UNITS = ((60, 60), (30, 30), (6, 6), (1, 1), (60, 6))
PRICE_SCALE = 100  # per-minute prices are kept in hundredths of a fen (ten-thousandths of a yuan)
MAX_UNIT_SECONDS = 3600


@dataclass(frozen=True)
class Plan:
    """A rate plan as rating reads it (``services/billing.py`` builds it from the tables)."""

    name: str
    first_seconds: int = 60
    next_seconds: int = 60
    minimum_fen: int = 0
    call_fee_fen: int = 0
    rates: dict = field(default_factory=dict)  # destination class -> price per minute, hundredths of a fen


@dataclass(frozen=True)
class Rated:
    """What a call record carries: its cost (None: not rated, e.g. no price for its class)."""

    cost_fen: int | None
    destination_class: str
    rate_plan: str


def units(seconds, first_seconds: int, next_seconds: int) -> int:
    """How many units ``seconds`` of talk make: a begun second is a second, the first unit
    is ``first_seconds`` long and every one after ``next_seconds``; 0 s is no unit."""
    whole = math.ceil(Decimal(str(seconds or 0)))
    if whole <= 0:
        return 0
    return 1 + math.ceil(max(0, whole - first_seconds) / next_seconds)


def billed_seconds(seconds, first_seconds: int, next_seconds: int) -> int:
    """The seconds the units stand for (what is paid for)."""
    n = units(seconds, first_seconds, next_seconds)
    return 0 if n == 0 else first_seconds + (n - 1) * next_seconds


def charge(seconds, answered: bool, plan: Plan, per_minute: int) -> int:
    """The cost in fen of a call of ``seconds`` talk priced ``per_minute`` (hundredths of a
    fen) under ``plan``: 0 for a call not answered or of 0 s; else the billed seconds' share
    of the minute price rounded half up to the fen, at least the minimum, plus the call fee."""
    if not answered:
        return 0
    paid = billed_seconds(seconds, plan.first_seconds, plan.next_seconds)
    if paid == 0:
        return 0
    time_fen = (Decimal(paid) * Decimal(per_minute) / Decimal(60 * PRICE_SCALE)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    return max(int(time_fen), plan.minimum_fen) + plan.call_fee_fen


def destination_class(dialled: numbers.Dialled) -> str:
    """The class a carrier prices a dialled number in, from ``numbers.classify``'s answer:
    a fixed line of our area code is local, of another long distance; 400 (shared cost) and
    800 numbers are toll-free; short service numbers (10086, 95588) and premium-rate or
    unplaceable numbers special; emergency numbers and our own extensions free."""
    kind, cls = dialled.kind, dialled.number_class
    if cls in (numbers.INTERNAL, numbers.EMERGENCY):
        return INTERNAL if cls == numbers.INTERNAL else EMERGENCY
    if cls == numbers.INTERNATIONAL:
        return INTERNATIONAL
    if cls == numbers.MOBILE:
        return MOBILE
    if kind in ("toll_free", "shared_cost"):
        return TOLL_FREE
    if cls == numbers.LOCAL and kind != "short":
        return LOCAL
    if cls == numbers.DOMESTIC:
        return LONG_DISTANCE
    return SPECIAL


def rate(record: dict, plan: Plan | None, dclass: str) -> Rated:
    """A finished call record (``engine.live.Call.record``) rated under ``plan`` (None: no
    plan applies) for destination class ``dclass`` (``destination_class``, or ``INBOUND``)."""
    if dclass in FREE_CLASSES:
        return Rated(0, dclass, plan.name if plan else "")
    if plan is None or dclass not in plan.rates:
        return Rated(None, dclass, plan.name if plan else "")
    answered = record.get("answer_time") is not None
    return Rated(charge(record.get("talk_seconds") or 0, answered, plan, plan.rates[dclass]), dclass, plan.name)


def rent_share(rent_fen: int, spans, since, until) -> int:
    """A monthly rent for the part of the month [since, until) that something existed in:
    ``spans`` of (start, end), overlapping or not, cut at the month's ends; pro rata by the
    second, rounded half up to the fen.  Existing the whole month: the whole rent; not at
    all: nothing."""
    month = (until - since).total_seconds()
    covered, reached = 0.0, since
    for start, end in sorted((max(a, since), min(b, until)) for a, b in spans):
        start = max(start, reached)
        if end > start:
            covered += (end - start).total_seconds()
            reached = end
    if month <= 0 or covered <= 0:
        return 0
    return rent_fen if covered >= month else int(rent_fen * covered / month + 0.5)


def yuan(fen: int | None) -> str:
    """``1234`` -> ``¥12.34``; None -> ``""`` (both languages write yuan this way)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
