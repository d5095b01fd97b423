"""Rating arithmetic (appliance/engine/rating.py) and the destination classes a Shanghai
office's calls fall in (numbers.classify mapped by rating.destination_class)."""

from __future__ import annotations

import pytest

from appliance import numbers
from appliance.engine import rating
from appliance.engine.rating import Plan, charge, units

# (first unit, next unit) -> seconds of talk -> units paid
EDGES = (0, 1, 59, 60, 61)
UNITS = {
    (60, 60): (0, 1, 1, 1, 2),
    (30, 30): (0, 1, 2, 2, 3),
    (6, 6): (0, 1, 10, 10, 11),
    (1, 1): (0, 1, 59, 60, 61),
    (60, 6): (0, 1, 1, 1, 2),
}


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_units_at_the_edges_of_each_billing_unit(unit):
    assert [units(s, *unit) for s in EDGES] == list(UNITS[unit])


def test_a_begun_second_is_a_second_and_after_the_first_minute_every_six_seconds():
    assert units(0.2, 60, 6) == 1 and units(60.001, 60, 6) == 2 and units(66, 60, 6) == 2 and units(67, 60, 6) == 3
    assert rating.billed_seconds(61, 60, 6) == 66 and rating.billed_seconds(0, 60, 6) == 0


# 0.10 yuan a minute (10 fen): what each edge costs, in fen, under each unit
PER_MINUTE = 10 * rating.PRICE_SCALE
COSTS = {
    (60, 60): (0, 10, 10, 10, 20),
    (30, 30): (0, 5, 10, 10, 15),
    (6, 6): (0, 1, 10, 10, 11),
    (1, 1): (0, 0, 10, 10, 10),  # 1 s of 0.10/min is 0.17 fen: rounded half up to 0
    (60, 6): (0, 10, 10, 10, 11),
}


@pytest.mark.parametrize("unit", sorted(COSTS))
def test_cost_at_the_edges_of_each_billing_unit(unit):
    plan = Plan("p", *unit)
    assert [charge(s, True, plan, PER_MINUTE) for s in EDGES] == list(COSTS[unit])


def test_minimum_charge_and_per_call_fee():
    plan = Plan("p", 6, 6, minimum_fen=15, call_fee_fen=3)
    assert charge(1, True, plan, PER_MINUTE) == 15 + 3  # 1 fen of time, raised to the minimum
    assert charge(120, True, plan, PER_MINUTE) == 20 + 3  # above the minimum: the time, plus the fee
    assert charge(0, True, plan, PER_MINUTE) == 0  # answered for 0 s: no unit begun, nothing
    assert charge(120, False, plan, PER_MINUTE) == 0  # not answered: nothing, no fee


def test_fractions_of_a_fen_are_rounded_once_per_call_half_up():
    plan = Plan("p", 60, 6)
    assert charge(61, True, plan, 7 * rating.PRICE_SCALE) == 8  # 0.07 + 0.007 yuan = 7.7 fen
    assert charge(60, True, plan, 650) == 7  # 6.5 fen -> 7


def test_unanswered_calls_cost_nothing_and_a_class_without_a_price_is_not_rated():
    plan = Plan("p", 60, 60, call_fee_fen=5, rates={"local": PER_MINUTE})
    unanswered = {"answer_time": None, "talk_seconds": 0.0}
    answered = {"answer_time": 1.0, "talk_seconds": 61.0}
    assert rating.rate(unanswered, plan, "local") == rating.Rated(0, "local", "p")
    assert rating.rate(answered, plan, "local") == rating.Rated(25, "local", "p")
    assert rating.rate(answered, plan, "mobile").cost_fen is None
    assert rating.rate(answered, None, "local") == rating.Rated(None, "local", "")
    assert rating.rate(answered, plan, "emergency").cost_fen == 0  # never charged


def test_yuan_is_shown_with_two_decimals():
    assert (rating.yuan(0), rating.yuan(7), rating.yuan(123456), rating.yuan(None)) == ("¥0.00", "¥0.07",
                                                                                        "¥1,234.56", "")


# A Shanghai office (area code 21): the classes carriers price
SHANGHAI = {
    "02161234567": "local", "61234567": "local", "01061234567": "long_distance", "075512345678": "long_distance",
    "13812345678": "mobile", "+8613812345678": "mobile", "0044207946000": "international",
    "+85221234567": "international", "4001234567": "toll_free", "8001234567": "toll_free",
    "95588": "special", "10086": "special", "110": "emergency",
}


@pytest.mark.parametrize("number", sorted(SHANGHAI))
def test_destination_classes_of_a_shanghai_office(number):
    dialled = numbers.classify(number, home_region="CN", area_code="21")
    assert rating.destination_class(dialled) == SHANGHAI[number]


def test_a_monthly_rent_follows_the_part_of_the_month_something_existed():
    import datetime as dt

    since, until = dt.datetime(2026, 10, 31, 16), dt.datetime(2026, 11, 30, 16)  # November in Shanghai
    day = dt.timedelta(days=1)
    assert rating.rent_share(3000, [(dt.datetime(1970, 1, 1), until)], since, until) == 3000
    assert rating.rent_share(3000, [(since + 15 * day, until)], since, until) == 1500  # the second half
    assert rating.rent_share(10000, [(since - day, since + 10 * day)], since, until) == 3333  # a third, cut at 1st
    # spans that overlap count once; before and after the month nothing
    overlapping = [(since, since + 10 * day), (since + 5 * day, since + 15 * day)]
    assert rating.rent_share(3000, overlapping, since, until) == 1500
    assert rating.rent_share(3000, [(since - 5 * day, since), (until, until + day)], since, until) == 0
