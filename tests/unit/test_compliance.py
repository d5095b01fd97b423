"""Outbound compliance: each rule of the pure decision and their order, the caller-ID pool's
rotation under its caps, the retry rules, and the one check (services/compliance.py) against
a real SQLite file: do-not-call with normalised numbers and expiry, blacklist, the calling
window on the office's clock with holidays and the staff override, trunks' max_channels from
the live calls, a campaign's concurrency hook, refusals recorded with their rule, and the
FastAGI handler the desk phones' dialplan asks."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from appliance import dialplan_vars as v
from appliance.agi.handlers import calling as handler_mod
from appliance.db import models as m
from appliance.engine import compliance as c
from appliance.engine.schedule import parse
from appliance.errors import CallNotPermitted, CallRefused, ValidationError
from appliance.services.compliance import OutboundCall, OutboundCheck
from appliance.services.config import ConfigService
from appliance.services.users import UserService

NOON = dt.datetime(2026, 12, 7, 12, 0)  # a Monday, on the office's clock
WINDOW = parse(c.DEFAULT_WINDOW)


def facts(**more):
    base = dict(number_class="mobile", permission="domestic", now=NOON, window=WINDOW)
    return c.Facts(**{**base, **more})


# -- the pure rules ----------------------------------------------------------------------------
def test_a_call_that_breaks_no_rule_goes_out():
    assert c.evaluate(facts()) == c.Verdict(True)


@pytest.mark.parametrize("more, rule", [
    ({"permission": "local"}, c.PERMISSION),
    ({"blacklisted": True}, c.BLACKLIST),
    ({"dnc": True}, c.DNC),
    ({"now": dt.datetime(2026, 12, 7, 20, 0)}, c.WINDOW),  # 20:00 is past the window's end
    ({"now": dt.datetime(2026, 12, 7, 8, 59)}, c.WINDOW),
    ({"calendar": {NOON.date(): "holiday"}}, c.WINDOW),
    ({"trunks": (c.Trunk("a", 2, 2), c.Trunk("b", 1, 1))}, c.TRUNKS_FULL),
    ({"concurrency_limit": 5, "active_calls": 5}, c.CONCURRENCY),
    ({"pool": (c.PoolNumber("01088880001", per_hour=3, used_hour=3),)}, c.CALLERID_POOL),
    ({"pool": ()}, c.CALLERID_POOL),  # a pool with no numbers
])
def test_each_rule_refuses_on_its_own(more, rule):
    verdict = c.evaluate(facts(**more))
    assert (verdict.allowed, verdict.rule) == (False, rule)


def test_the_rules_are_asked_in_order_and_the_first_refusal_names_the_call():
    everything = dict(permission="local", blacklisted=True, dnc=True, now=dt.datetime(2026, 12, 7, 23, 0),
                      trunks=(c.Trunk("a", 1, 1),), concurrency_limit=1, active_calls=1, pool=())
    seen = []
    for rule, cleared in ((c.PERMISSION, {"permission": "domestic"}), (c.BLACKLIST, {"blacklisted": False}),
                          (c.DNC, {"dnc": False}), (c.WINDOW, {"now": NOON}), (c.TRUNKS_FULL, {"trunks": ()}),
                          (c.CONCURRENCY, {"active_calls": 0}), (c.CALLERID_POOL, {"pool": None})):
        seen.append(c.evaluate(facts(**everything)).rule)
        everything.update(cleared)
    assert seen == list(c.RULES)
    assert c.evaluate(facts(**everything)).allowed


def test_emergency_numbers_pass_every_rule_but_none():
    verdict = c.evaluate(facts(number_class="emergency", permission="internal", blacklisted=True, dnc=True,
                               now=dt.datetime(2026, 12, 7, 3, 0), trunks=(c.Trunk("a", 1, 1),), pool=()))
    assert verdict.allowed


def test_the_window_follows_the_calendar_and_a_granted_override():
    sunday = dt.datetime(2026, 12, 6, 10, 0)
    weekdays = parse("mon-fri 09:00-18:00")
    assert c.evaluate(facts(window=weekdays, now=sunday)).rule == c.WINDOW
    assert c.evaluate(facts(window=weekdays, now=sunday, calendar={sunday.date(): "workday"})).allowed  # 调休
    assert c.evaluate(facts(now=dt.datetime(2026, 12, 7, 22, 0), override_window=True)).allowed
    assert c.evaluate(facts(window=None, now=dt.datetime(2026, 12, 7, 3, 0))).allowed  # no window set


def test_only_staff_clicking_to_dial_may_override_the_window():
    assert c.may_override("supervisor", "dial") and c.may_override("admin", "dial")
    assert not c.may_override("agent", "dial")
    assert not c.may_override("admin", "phone") and not c.may_override("admin", "campaign")
    assert not c.may_override(None, "dial")


def test_a_trunk_with_room_or_without_a_limit_keeps_the_way_out_open():
    assert c.evaluate(facts(trunks=(c.Trunk("a", 2, 2), c.Trunk("b", 2, 1)))).allowed
    assert c.evaluate(facts(trunks=(c.Trunk("a", 2, 2), c.Trunk("b", 0, 500)))).allowed


def test_the_pool_rotates_least_used_first_and_skips_numbers_at_a_cap():
    pool = (c.PoolNumber("A", per_day=100, used_day=7, used_hour=1, last_used=50.0),
            c.PoolNumber("B", per_day=100, used_day=5, used_hour=5, last_used=90.0),
            c.PoolNumber("C", per_day=5, used_day=5),  # today's cap reached: 超频
            c.PoolNumber("D", per_hour=2, used_hour=2, used_day=2))  # this hour's cap reached
    assert c.evaluate(facts(pool=pool)).caller_id == "B"
    assert c.pick_caller_id(pool[:1] + (c.PoolNumber("E", used_day=7, used_hour=1, last_used=10.0),)).number == "E"
    assert c.pick_caller_id(pool[2:]) is None


def test_the_retry_rules_by_result_and_attempts():
    rules = c.RetryRules(busy_minutes=5, no_answer_minutes=30, max_attempts=3)
    at = dt.datetime(2026, 12, 7, 10, 0)
    assert c.next_attempt(rules, c.BUSY, 1, at) == at + dt.timedelta(minutes=5)
    assert c.next_attempt(rules, c.NO_ANSWER, 2, at) == at + dt.timedelta(minutes=30)
    assert c.next_attempt(rules, c.NO_ANSWER, 3, at) is None  # the attempts are used up
    assert c.next_attempt(rules, c.ANSWERED, 1, at) is None
    assert c.next_attempt(rules, c.REFUSED, 1, at) is None
    assert c.next_attempt(rules, c.MACHINE, 1, at) is None  # not retried by default
    assert c.next_attempt(c.RetryRules(), c.FAILED, 1, at) == at + dt.timedelta(minutes=30)
    with pytest.raises(ValueError):
        c.RetryRules(busy_minutes=-1)


def test_a_refusal_by_the_hour_or_capacity_passes_one_by_the_number_does_not():
    assert [r for r in c.RULES if c.refusal_passes(r)] == [c.WINDOW, c.TRUNKS_FULL, c.CONCURRENCY, c.CALLERID_POOL]
    assert not c.refusal_passes("something else")


# -- the one check, against the database ---------------------------------------------------------
class Site:
    def home_region(self):
        return "CN"

    def area_code(self):
        return "21"

    def timezone(self):
        return "Asia/Shanghai"


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def office(db):
    users = UserService(db)
    for name, role in (("alice", "agent"), ("sam", "supervisor")):
        users.create(name, "long enough pw", role)
    cfg = ConfigService(db)
    for ext in ("1001", "1002"):
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-secret"}, actor="t")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001", "user": "alice"}, actor="t")
    cfg.create("agents", {"number": "1002", "name": "Sam", "phone": "1002", "user": "sam"}, actor="t")
    return cfg


def check(db, clock=None, live=None, **more):
    # 04:00 UTC is noon in Shanghai, on a Monday
    return OutboundCheck(db, Site(), live, now=clock or Clock(dt.datetime(2026, 12, 7, 4, 0)), **more)


def refusals():
    return [(r.path, r.rule, r.number, r.agent, r.actor) for r in m.CallRefusal.select().order_by(m.CallRefusal.id)]


def test_do_not_call_matches_a_number_in_any_form_until_it_expires(office):
    clock = Clock(dt.datetime(2026, 12, 7, 4, 0))
    ck = check(office.db, clock)
    entry = ck.dnc_add("139 1234 5678", "asked us not to call", "sam", expires_at=dt.datetime(2026, 12, 8))
    assert (entry["number"], entry["added_by"], entry["source"]) == ("+8613912345678", "sam", "manual")
    for form in ("13912345678", "+8613912345678", "008613912345678"):
        with pytest.raises(CallRefused) as refused:
            ck.check_agent("1001", form, "dial", "alice")
        assert (refused.value.code, refused.value.http_status, refused.value.params) == (
            "compliance.dnc", 403, {"rule": "dnc"})
    assert refusals()[0] == ("dial", "dnc", "13912345678", "1001", "alice")
    audit = m.AuditLog.select().where(m.AuditLog.action == "refused").first()
    assert json.loads(audit.detail)["rule"] == "dnc"
    clock.at = dt.datetime(2026, 12, 8, 1, 0)  # the entry has expired
    assert ck.check_agent("1001", "13912345678", "dial", "alice").allowed
    ck.dnc_add("+86 139-1234-5678", "again", "sam")  # the same number renews its one entry
    assert [e["reason"] for e in ck.dnc_list()] == ["again"]
    with pytest.raises(ValidationError):
        ck.dnc_add("call me", "", "sam")
    ck.dnc_remove("13912345678", "sam")
    assert ck.dnc_list() == []


def test_the_blacklist_refuses_outbound_too(office):
    m.BlockedNumber.create(number="13800000001", note="abusive")
    with pytest.raises(CallRefused) as refused:
        check(office.db).check_agent("1001", "+8613800000001", "dial", "alice")
    assert refused.value.code == "compliance.blacklist"


def test_the_permission_comes_first_and_keeps_its_own_error(office):
    check(office.db).dnc_add("0012125551234", "", "sam")
    with pytest.raises(CallNotPermitted):  # refused by the permission before the list
        check(office.db).check_agent("1001", "0012125551234", "dial", "alice")
    assert refusals() == [("dial", "permission", "0012125551234", "1001", "alice")]


def test_the_window_is_the_offices_clock_with_holidays_and_staff_may_override(office):
    evening = Clock(dt.datetime(2026, 12, 7, 13, 30))  # 21:30 in Shanghai
    with pytest.raises(CallRefused) as refused:
        check(office.db, evening).check_agent("1001", "13912345678", "dial", "alice", override_window=True)
    assert (refused.value.code, refused.value.params) == ("compliance.window", {"rule": "window", "time": "21:30"})
    # a supervisor may override on a click-to-dial (on Alice's line, or their own)
    assert check(office.db, evening).check_agent("1001", "13912345678", "dial", "sam", override_window=True).allowed
    # ... never on a desk phone, even Sam's
    assert check(office.db, evening).check_phone("1002", "13912345678", override_window=True).rule == "window"
    m.Holiday.create(date="2026-12-07", name="test", kind="holiday")
    with pytest.raises(CallRefused):
        check(office.db).check_agent("1001", "13912345678", "dial", "alice")
    ck = check(office.db)
    ck.save_settings("root", window_holidays=False)
    assert ck.check_agent("1001", "13912345678", "dial", "alice").allowed
    ck.save_settings("root", window="mon-fri 13:00-18:00")
    with pytest.raises(CallRefused):
        ck.check_agent("1001", "13912345678", "dial", "alice")
    with pytest.raises(ValidationError):
        ck.save_settings("root", window="mon-fri 25:00-26:00")
    ck.save_settings("root", window="")  # no window: any hour
    assert check(office.db, evening).check_agent("1001", "13912345678", "dial", "alice").allowed


def test_the_window_holds_new_calls_and_the_list_all_but_a_requested_voice_code(office):
    evening = check(office.db, Clock(dt.datetime(2026, 12, 7, 13, 30)))  # 21:30 in Shanghai
    for path in ("transfer", "consult"):  # the customer is on the line already
        assert evening.check_agent("1001", "13912345678", path, "alice").allowed
    assert evening.check_user("alice", "13912345678", "fax").allowed
    assert evening.clear(OutboundCall("13912345678", "campaign", campaign="spring")).rule == "window"
    evening.dnc_add("13912345678", "", "sam")
    assert evening.clear(OutboundCall("13912345678", "fax", "alice", user="alice")).rule == "dnc"
    assert evening.check_user("alice", "13912345678", "voice-code").allowed  # the person asked for it
    with pytest.raises(CallRefused):
        evening.check_agent("1001", "13912345678", "transfer", "alice")


def test_until_an_admin_sets_a_window_the_settings_files_holds(office):
    evening = Clock(dt.datetime(2026, 12, 7, 13, 30))
    assert check(office.db, evening, default_window="").check_agent("1001", "13912345678", "dial", "alice").allowed
    assert check(office.db, evening).check_phone("1001", "13912345678").rule == "window"
    # a settings file's window typed wrong is the default, not every call failing
    assert check(office.db, evening, default_window="weekdays").check_phone("1001", "13912345678").rule == "window"
    assert check(office.db, default_window="weekdays").check_phone("1001", "13912345678").allowed


def test_trunks_full_from_the_live_calls_and_a_campaigns_limit(office):
    office.create("trunks", {"name": "pstn", "host": "127.0.0.2", "max_channels": 2, "outbound_priority": 1},
                  actor="t")
    calls = {str(i): SimpleNamespace(trunk="pstn", state="talking") for i in range(2)}
    live = SimpleNamespace(calls=calls)
    with pytest.raises(CallRefused) as refused:
        check(office.db, live=live).check_agent("1001", "13912345678", "dial", "alice")
    assert (refused.value.code, refused.value.http_status) == ("compliance.trunks_full", 503)
    calls["1"].state = "ended"
    ck = check(office.db, live=live)
    assert ck.check_agent("1001", "13912345678", "dial", "alice").allowed
    campaign = OutboundCall("13912345678", "campaign", campaign="spring", concurrency_limit=3, active_calls=3)
    assert ck.clear(campaign).rule == "concurrency"
    assert refusals()[-1] == ("campaign", "concurrency", "13912345678", "", "system")


def test_the_default_pool_presents_least_used_numbers_until_their_caps(office):
    ck = check(office.db)
    ck.put_pool_number("main", "02188880001", per_hour=2, per_day=0, actor="root")
    ck.put_pool_number("main", "02188880002", per_hour=1, per_day=0, actor="root")
    assert ck.check_agent("1001", "13912345678", "dial", "alice").caller_id == ""  # no default pool yet
    ck.save_settings("root", default_pool="main")
    shown = [ck.check_agent("1001", "13912345678", "dial", "alice").caller_id for _ in range(3)]
    assert sorted(shown) == ["02188880001", "02188880001", "02188880002"]
    with pytest.raises(CallRefused) as refused:  # every number at its hourly cap
        ck.check_agent("1001", "13912345678", "dial", "alice")
    assert (refused.value.code, refused.value.params) == ("compliance.callerid_pool",
                                                          {"rule": "callerid_pool", "numbers": "2"})
    assert ck.clear(OutboundCall("13912345678", "transfer", agent="1001")).caller_id == ""  # no pool for transfers
    later = check(office.db, Clock(dt.datetime(2026, 12, 7, 5, 1)))  # an hour on
    assert later.check_agent("1001", "13912345678", "dial", "alice").allowed
    assert [u["used_day"] for u in later.pool_usage("main")] == [2, 2]
    with pytest.raises(ValidationError):
        ck.save_settings("root", default_pool="nope")


def test_the_phone_handler_sets_the_result_rule_and_caller_id(office):
    ck = check(office.db)
    ck.put_pool_number("main", "02188880001", per_hour=0, per_day=0, actor="root")
    ck.save_settings("root", default_pool="main")
    ck.dnc_add("13800000002", "", "sam")

    def ask(number):
        session = SimpleNamespace(variables={})
        session.set_variable = session.variables.__setitem__
        session.get_variable = session.variables.get
        handler_mod.make_handler(ck)(session, SimpleNamespace(args=[number], channel="PJSIP/1001-00000001",
                                                               callerid="1001"))
        return session.variables

    allowed = ask("13912345678")
    assert (allowed[v.RESULT], allowed[v.CALLER_ID], allowed[v.REFUSED_RULE], allowed[v.AGENT]) == (
        "ok", "02188880001", "", "1001")
    refused = ask("13800000002")
    assert (refused[v.RESULT], refused[v.REFUSED_RULE], refused[v.CALLER_ID]) == ("compliance.dnc", "dnc", "")
    assert ask("0012125551234")[v.RESULT] == "call.not_permitted"
    assert [r[:2] for r in refusals()] == [("phone", "dnc"), ("phone", "permission")]
    assert refusals()[0][3:] == ("1001", "agent 1001")
