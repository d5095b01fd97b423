"""Opening hours as people write them, and whether a moment falls inside them.

A schedule is text: ``mon-fri 09:00-18:00; sat 09:00-12:00``, rules separated by ``;``
(in Chinese too: ``周一至周五 09:00-18:00；周六 09:00-12:00``, 每天 for daily),
each a day or day range (or ``daily``) and one or more time ranges (``09:00-12:00,
13:30-18:00``).  ``24:00`` ends a day; a range may not cross midnight (write two rules).
A holiday calendar overrides the week: a ``holiday`` is closed all day, a ``workday`` (the
weekend days worked in exchange for a holiday, 调休) opens with Monday's hours.

Pure: no clock, no database; the caller gives the local date and time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from appliance.errors import FieldError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The same in Chinese, as people in China write opening hours (周一至周五 09:00-18:00；周六 09:00-12:00).
_CHINESE = {**{f"{prefix}{n}": day for prefix in ("周", "星期") for n, day in zip("一二三四五六日", DAYS)},
            "周天": "sun", "星期天": "sun", "每天": "daily", "每日": "daily"}
_CHINESE_DAY = re.compile("|".join(sorted(_CHINESE, key=len, reverse=True)))
_WIDE = str.maketrans({"；": ";", "，": ",", "、": ",", "－": "-", "—": "-", "～": "-", "~": "-", "：": ":", "至": "-",
                       "　": " "})
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")


class ScheduleError(ValueError):
    """What is wrong with a schedule: its one argument a ``FieldError`` (message id and params)."""

    code = "schedule.invalid"


@dataclass(frozen=True)
class Schedule:
    # weekday (0 = Monday) -> sorted (start, end) minutes since midnight
    week: tuple[tuple[tuple[int, int], ...], ...]

    def open_at(self, moment: dt.datetime, calendar: Mapping[dt.date, str] | None = None) -> bool:
        """Is ``moment`` (local time) within opening hours, given the holiday calendar?"""
        day_kind = (calendar or {}).get(moment.date())
        if day_kind == "holiday":
            return False
        weekday = 0 if day_kind == "workday" else moment.weekday()
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute < end for start, end in self.week[weekday])


def _days(text: str) -> list[int]:
    if text == "daily":
        return list(range(7))
    first, sep, last = text.partition("-")
    if first not in DAYS or (sep and last not in DAYS):
        raise ScheduleError(FieldError("schedule.bad_days",
                                       f"{text!r} is not a day or day range (mon, tue, ... sun, mon-fri, daily)",
                                       item=repr(text)))
    a, b = DAYS.index(first), DAYS.index(last) if sep else DAYS.index(first)
    if b < a:
        raise ScheduleError(FieldError("schedule.backwards_days", f"day range {text!r} runs backwards",
                                       item=repr(text)))
    return list(range(a, b + 1))


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def parse(text: str) -> Schedule:
    """``mon-fri 09:00-18:00; sat 09:00-12:00`` (or ``周一至周五 09:00-18:00；周六 09:00-12:00``)
    -> Schedule; ScheduleError says what is wrong."""
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    text = _CHINESE_DAY.sub(lambda m: _CHINESE[m.group(0)], (text or "").translate(_WIDE)).lower()
    rules = [r.strip() for r in text.split(";") if r.strip()]
    if not rules:
        raise ScheduleError(FieldError("schedule.empty", "no opening hours given, e.g. 'mon-fri 09:00-18:00'"))
    for rule in rules:
        parts = rule.split(None, 1)
        if len(parts) != 2:
            raise ScheduleError(FieldError("schedule.days_then_hours",
                                           f"{rule!r}: give days then hours, e.g. 'mon-fri 09:00-18:00'",
                                           item=repr(rule)))
        days = _days(parts[0])
        for span in (s.strip() for s in parts[1].replace(" ", "").split(",")):
            if not _RANGE.match(span):
                raise ScheduleError(FieldError("schedule.bad_hours", f"{span!r} is not a time range like 09:00-18:00",
                                               item=repr(span)))
            start, end = (_minutes(x) for x in span.split("-"))
            if end <= start:
                raise ScheduleError(FieldError("schedule.backwards_hours",
                                               f"{span!r} ends before it starts (split ranges that cross midnight)",
                                               item=repr(span)))
            for d in days:
                week[d].append((start, end))
    return Schedule(tuple(tuple(sorted(day)) for day in week))


# -- the weekly grid of the forms ---------------------------------------------------------
# A grid is what a form shows: weekday ("mon" ... "sun") -> periods, each (from, to) as
# "HH:MM" (an empty pair is no period; "00:00" as the end is midnight, 24:00).

def _hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def to_grid(text: str) -> dict[str, list[tuple[str, str]]]:
    """A stored schedule as the form's grid; ScheduleError if it does not parse."""
    week = parse(text).week
    return {day: [(_hhmm(start), _hhmm(end)) for start, end in week[n]] for n, day in enumerate(DAYS)}


def _period(start: str, end: str) -> tuple[int, int]:
    for value in (start, end):
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ScheduleError(FieldError("config.schedule_bad_time", f"{value!r} is not a time like 09:00",
                                           item=value))
    first, last = _minutes(start), _minutes(end) or 24 * 60
    if last <= first:
        raise ScheduleError(FieldError("schedule.backwards_hours",
                                       f"'{start}-{end}' ends before it starts (split ranges that cross midnight)",
                                       item=f"'{start}-{end}'"))
    return first, last


def from_grid(grid) -> str:
    """The form's grid as the text a schedule is stored as: days with the same hours joined
    into ranges (``mon-fri 09:00-18:00; sat 09:00-12:00``); ScheduleError for a period
    with only one end, one that ends before it starts, or no hours at all."""
    if not isinstance(grid, dict) or any(day not in DAYS for day in grid):
        raise ScheduleError(FieldError("config.schedule_grid", "opening hours by day: mon ... sun, each a list of "
                                                               "[from, to] pairs"))
    hours: list[tuple[tuple[int, int], ...]] = []
    for day in DAYS:
        periods = []
        for pair in grid.get(day) or ():
            if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(isinstance(x, str) for x in pair):
                raise ScheduleError(FieldError("config.schedule_grid", "opening hours by day: mon ... sun, each a "
                                                                       "list of [from, to] pairs"))
            start, end = (x.strip() for x in pair)
            if not start and not end:
                continue
            if not start or not end:
                raise ScheduleError(FieldError("config.schedule_incomplete",
                                               f"{start or end}: give both the opening and the closing time",
                                               item=start or end))
            periods.append(_period(start, end))
        hours.append(tuple(sorted(periods)))
    if not any(hours):
        raise ScheduleError(FieldError("config.schedule_no_hours", "open at no time: give the hours of a day at least"))
    return "; ".join(f"{first if first == last else f'{first}-{last}'} {','.join(spans)}"
                     for first, last, spans in _rules(hours))


def _rules(hours) -> list[tuple[str, str, list[str]]]:
    """Runs of days with the same hours (closed days left out): (first day, last day, spans)."""
    rules, n = [], 0
    while n < len(DAYS):
        last = n
        while last + 1 < len(DAYS) and hours[last + 1] == hours[n]:
            last += 1
        if hours[n]:
            rules.append((DAYS[n], DAYS[last], [f"{_hhmm(a)}-{'24:00' if b == 24 * 60 else _hhmm(b)}"
                                                for a, b in hours[n]]))
        n = last + 1
    return rules


def rules(text: str) -> list[tuple[str, str, list[str]]]:
    """A stored schedule as runs of days with the same hours, for saying it in words:
    ``mon-fri 09:00-18:00`` -> [("mon", "fri", ["09:00-18:00"])]; ScheduleError if it does
    not parse."""
    return _rules(parse(text).week)
