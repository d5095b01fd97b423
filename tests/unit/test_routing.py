"""The pure routing decision: blacklist, DID, opening hours with holidays and make-up days."""

from __future__ import annotations

import dataclasses

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appliance.engine.routing import DidRoute, RoutingTable, TimeCondition, decide
from appliance.engine.schedule import ScheduleError, parse
from appliance.errors import field_error_of
from appliance.i18n import field_error

HOURS = TimeCondition(parse("mon-fri 09:00-12:00, 13:30-18:00; sat 09:00-12:00"), "Asia/Shanghai")
TABLE = RoutingTable(
    dids={"88001000": DidRoute("sales"), "+8610123": DidRoute("support"),
          "88002000": DidRoute("sales", time_condition="office", after_hours_queue="duty"),
          "88003000": DidRoute("sales", time_condition="office"),
          "88004000": DidRoute(None)},
    time_conditions={"office": HOURS},
    holidays={dt.date(2026, 10, 1): "holiday", dt.date(2026, 10, 11): "workday"},
    blacklist=frozenset({"13900000666"}),
)


def beijing(y, mo, d, h, mi=0):
    """A Beijing wall-clock time as the aware UTC moment the handler would pass."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(dt.timezone.utc)


MONDAY_10 = beijing(2026, 11, 23, 10)


def test_known_did_goes_to_its_queue():
    d = decide("88001000", "139", TABLE, MONDAY_10)
    assert (d.context, d.exten, d.is_fallback) == ("cc-queue", "sales", False)


def test_plus_prefix_is_ignored_both_ways():
    assert decide("+88001000", "", TABLE, MONDAY_10).exten == "sales"
    assert decide("8610123", "", TABLE, MONDAY_10).exten == "support"


def test_unknown_did_or_did_without_queue_goes_to_fallback():
    for did in ("99999999", "88004000"):
        d = decide(did, "139", TABLE, MONDAY_10)
        assert (d.context, d.exten, d.reason, d.is_fallback) == ("cc-fallback", "no-route", "no-route", True)
    assert decide("1", "", RoutingTable()).is_fallback


def test_blacklisted_caller_is_refused_before_anything_else():
    for caller in ("13900000666", "+13900000666", "+8613900000666", "8613900000666", "008613900000666"):
        d = decide("88001000", caller, TABLE, MONDAY_10)
        assert (d.reason, d.rule) == ("blacklisted", "blacklist")
    entered_with_86 = dataclasses.replace(TABLE, blacklist=frozenset({"+8613900000666"}))
    assert decide("88001000", "13900000666", entered_with_86, MONDAY_10).rule == "blacklist"
    assert decide("88001000", "13900000667", entered_with_86, MONDAY_10).rule != "blacklist"


@pytest.mark.parametrize("when, open_", [
    (beijing(2026, 11, 23, 8, 59), False),   # Monday before opening
    (beijing(2026, 11, 23, 9, 0), True),
    (beijing(2026, 11, 23, 12, 30), False),  # lunch
    (beijing(2026, 11, 23, 17, 59), True),
    (beijing(2026, 11, 23, 18, 0), False),
    (beijing(2026, 11, 28, 11, 0), True),    # Saturday morning
    (beijing(2026, 11, 29, 11, 0), False),   # Sunday
    (beijing(2026, 10, 1, 10, 0), False),    # National Day, a Thursday
    (beijing(2026, 10, 11, 15, 0), True),    # a Sunday worked in exchange (调休): Monday's hours
])
def test_opening_hours_in_beijing_time(when, open_):
    d = decide("88002000", "139", TABLE, when)
    assert d.exten == ("sales" if open_ else "duty"), when
    assert d.rule == ("did" if open_ else "after-hours")


def test_closed_without_after_hours_queue_hears_the_closed_message():
    d = decide("88003000", "139", TABLE, beijing(2026, 11, 29, 11))
    assert (d.context, d.reason) == ("cc-fallback", "closed")


def test_closed_with_voicemail_leaves_a_message_for_the_dids_queue():
    route = dataclasses.replace(TABLE.dids["88003000"], after_hours_voicemail=True)
    table = dataclasses.replace(TABLE, dids={**TABLE.dids, "88003000": route})
    closed = decide("88003000", "139", table, beijing(2026, 11, 29, 11))
    assert (closed.context, closed.exten, closed.rule) == ("cc-voicemail", route.queue, "after-hours")
    assert closed.variables == {"CC_VM_REASON": "after-hours"}
    assert decide("88003000", "139", table, beijing(2026, 11, 23, 11)).context == "cc-queue"  # open
    with_queue = dataclasses.replace(route, after_hours_queue="duty")  # a duty queue comes first
    table = dataclasses.replace(TABLE, dids={**TABLE.dids, "88003000": with_queue})
    assert decide("88003000", "139", table, beijing(2026, 11, 29, 11)).exten == "duty"


def test_a_fax_line_receives_at_any_hour_without_a_queue():
    table = RoutingTable(dids={"88002000": DidRoute(queue=None, time_condition="office", fax=True)},
                         time_conditions=TABLE.time_conditions)
    for when in (beijing(2026, 11, 23, 11), beijing(2026, 11, 29, 3)):  # open, and a Sunday night
        d = decide("88002000", "861088886666", table, when)
        assert (d.context, d.exten, d.rule) == ("cc-fax", "88002000", "fax")
    assert decide("88002000", "139", dataclasses.replace(table, blacklist=frozenset({"139"}))).rule == "blacklist"


def test_holidays_can_be_ignored_per_time_condition():
    table = RoutingTable(dids=TABLE.dids, holidays=TABLE.holidays, time_conditions={
        "office": TimeCondition(HOURS.schedule, "Asia/Shanghai", use_holidays=False)})
    assert decide("88002000", "139", table, beijing(2026, 10, 1, 10)).exten == "sales"


def test_time_zone_of_the_condition_is_used():
    table = RoutingTable(dids=TABLE.dids, time_conditions={
        "office": TimeCondition(parse("daily 09:00-17:00"), "Europe/London")})
    # 10:00 in Beijing is 02:00 in London: closed there
    assert decide("88002000", "139", table, MONDAY_10).exten == "duty"


@pytest.mark.parametrize("text", ["", "monday 09:00-18:00", "mon-fri", "mon-fri 9-18", "fri-mon 09:00-18:00",
                                  "mon 18:00-09:00", "mon 25:00-26:00", "mon 09:00-18:00;; tue"])
def test_bad_schedules_say_what_is_wrong(text):
    with pytest.raises(ScheduleError):
        parse(text)


def test_schedule_forms():
    s = parse("daily 00:00-24:00")
    assert all(day == ((0, 1440),) for day in s.week)
    assert parse("MON 09:00-10:00").week[0] == ((540, 600),)


def test_opening_hours_may_be_written_in_chinese():
    assert parse("周一至周五 09:00-12:00，13:30-18:00；周六 09:00-12:00") == HOURS.schedule
    assert parse("每天 08：00-20：00") == parse("daily 08:00-20:00")
    assert parse("星期日 10:00-12:00") == parse("sun 10:00-12:00") == parse("周天 10:00-12:00")
    with pytest.raises(ScheduleError) as caught:
        parse("周八 09:00-18:00")
    assert field_error("zh_CN", field_error_of(caught.value)) == "'周八' 不是星期几或星期范围（如 周一、周一-周五、每天）"


def test_a_bad_schedule_says_what_is_wrong_in_either_language():
    with pytest.raises(ScheduleError) as caught:
        parse("mon-fri 18:00-09:00")
    assert str(caught.value) == "'18:00-09:00' ends before it starts (split ranges that cross midnight)"
    problem = field_error_of(caught.value)
    assert field_error("en", problem) == str(caught.value)
    assert field_error("zh_CN", problem) == "'18:00-09:00' 结束早于开始（跨午夜的时间段请拆成两条）"
