"""Calling permissions: what kind of call a dialled number makes (real Chinese numbers through
phonenumbers), the pure permission decision, whose permission counts (against a real SQLite
file) and the FastAGI handler the desk phones' dialplan asks."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from appliance import dialplan_vars as v
from appliance.agi.handlers import calling as handler_mod
from appliance.db import models as m
from appliance.engine.calling import PERMISSIONS, ROLE_DEFAULTS, permission_of, permits, strictest
from appliance.errors import CallNotPermitted
from appliance.numbers import CLASSES, classify
from appliance.services.calling import CallingPolicy
from appliance.services.config import ConfigService
from appliance.services.users import UserService

SHANGHAI = {"home_region": "CN", "area_code": "21", "internal": {"1001", "1002"}}


@pytest.mark.parametrize("dialled, number_class", [
    # our own phones
    ("1001", "internal"),
    # emergency: police, fire, ambulance, traffic police, and what mobiles take for them
    ("110", "emergency"), ("119", "emergency"), ("120", "emergency"), ("122", "emergency"), ("112", "emergency"),
    ("911", "emergency"),
    # mobiles of the three operators and the broadcaster, with and without +86 / 0086
    ("13912345678", "mobile"), ("18612345678", "mobile"), ("17712345678", "mobile"), ("19212345678", "mobile"),
    ("+8613912345678", "mobile"), ("008613912345678", "mobile"), ("139 1234 5678", "mobile"),
    # fixed lines: Shanghai is local from a Shanghai office, with or without its area code
    ("02162345678", "local"), ("021-6234-5678", "local"), ("62345678", "local"), ("+862162345678", "local"),
    # ...Beijing, Hangzhou and Guangzhou are long distance
    ("01062345678", "domestic"), ("057187654321", "domestic"), ("02087654321", "domestic"),
    ("+861062345678", "domestic"),
    # toll-free 800 is local; 400 shared cost is domestic; standard-rate service numbers are local
    ("8008123123", "local"), ("4008123123", "domestic"), ("95555", "local"), ("10086", "local"),
    ("12345", "local"),
    # international, through +, 00, or an IP long-distance carrier prefix (17951) before 00
    ("+12125551234", "international"), ("0012125551234", "international"), ("00442071234567", "international"),
    ("0085221234567", "international"), ("+85321234567", "international"), ("+886212345678", "international"),
    ("17951001212555", "international"),
    # premium-rate information lines, and anything that is no number of the plan
    ("16812345", "premium"), ("1003", "premium"), ("0000", "premium"), ("call me", "premium"), ("", "premium"),
])
def test_a_dialled_number_is_classified_as_a_shanghai_office_would_be_billed(dialled, number_class):
    assert classify(dialled, **SHANGHAI).number_class == number_class


def test_the_classification_says_why_and_gives_e164():
    beijing = classify("010-6234 5678", **SHANGHAI)
    assert (beijing.number, beijing.e164, beijing.why) == ("01062345678", "+861062345678", "fixed line in area code 10")
    assert classify("62345678", **SHANGHAI).e164 == "+862162345678"  # our own area code filled in
    assert classify("+12125551234", **SHANGHAI).why == "country code 1 (US)"


def test_the_offices_area_code_decides_local_or_long_distance():
    assert classify("01062345678", home_region="CN", area_code="10").number_class == "local"
    assert classify("02162345678", home_region="CN", area_code="10").number_class == "domestic"
    # not set: a number with an area code is long distance; one without is local (there is no other way
    # to dial it), but a shape no local number has is not
    assert classify("02162345678").number_class == "domestic"
    assert classify("62345678").number_class == "local"
    assert classify("1003").number_class == "premium"


def test_another_home_region_is_its_own_numbering_plan():
    assert classify("+8613912345678", home_region="US").number_class == "international"
    assert classify("2125551234", home_region="US", area_code="212").number_class == "local"
    assert classify("911", home_region="US").number_class == "emergency"


def test_a_permission_allows_its_class_and_every_cheaper_one_and_always_emergency():
    assert CLASSES == ("internal", "local", "mobile", "domestic", "international", "premium")
    assert [c for c in CLASSES if permits("domestic", c)] == ["internal", "local", "mobile", "domestic"]
    assert [c for c in CLASSES if permits("internal", c)] == ["internal"]
    assert all(permits("premium", c) for c in CLASSES)
    assert all(permits(p, "emergency") for p in CLASSES)
    assert not permits("nonsense", "local") and not permits("premium", "nonsense")


def test_the_role_decides_unless_the_agent_has_their_own():
    assert ROLE_DEFAULTS == {"admin": "premium", "supervisor": "international", "agent": "domestic"}
    assert permission_of("agent") == "domestic" and permission_of(None) == "domestic"
    assert permission_of("supervisor", "role") == "international"
    assert permission_of("admin", "local") == "local"  # an agent's own setting wins, also downwards
    assert permission_of("agent", "international") == "international"
    assert strictest(["international", "local", "premium"]) == "local"
    assert PERMISSIONS[0] == "role" and PERMISSIONS[1:] == CLASSES


# -- whose permission, against the database ---------------------------------------------------
class Site:
    def __init__(self, area_code=""):
        self.area = area_code

    def home_region(self):
        return "CN"

    def area_code(self):
        return self.area


@pytest.fixture
def office(db):
    users = UserService(db)
    for name, role in (("alice", "agent"), ("sam", "supervisor"), ("root", "admin")):
        users.create(name, "long enough pw", role)
    cfg = ConfigService(db)
    for ext in ("1001", "1002", "1003", "1009"):
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-secret"}, actor="t")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001", "user": "alice"}, actor="t")
    cfg.create("agents", {"number": "1002", "name": "Sam", "phone": "1002", "user": "sam"}, actor="t")
    cfg.create("agents", {"number": "1003", "name": "Temp", "phone": "1003"}, actor="t")  # no web account
    return cfg


def refusals():
    return [(r.username, r.object_id, json.loads(r.detail)) for r in
            m.AuditLog.select().where(m.AuditLog.action == "refused").order_by(m.AuditLog.id)]


def test_an_agents_call_is_checked_against_their_permission_and_a_refusal_audited(office):
    policy = CallingPolicy(office.db, Site("21"))
    assert policy.check_agent("1001", "01062345678", "dial", "alice").number_class == "domestic"
    assert policy.check_agent("1001", "110", "dial", "alice").allowed
    assert policy.check_agent("1001", "1002", "dial", "alice").number_class == "internal"
    with pytest.raises(CallNotPermitted) as refused:
        policy.check_agent("1001", "0012125551234", "dial", "sam")  # a supervisor acting on Alice's line
    assert refused.value.http_status == 403 and refused.value.code == "call.not_permitted"
    assert refused.value.params == {"number_class": "international"}
    assert refusals() == [("sam", "0012125551234", {
        "path": "dial", "whose": "agent 1001", "permission": "domestic", "number_class": "international",
        "why": "country code 1 (US)"})]
    assert policy.check_agent("1002", "0012125551234", "transfer", "sam").allowed  # Sam's own line: supervisor
    with pytest.raises(CallNotPermitted):
        policy.check_agent("1002", "16812345", "consult", "sam")
    assert policy.check_agent("1003", "13912345678", "dial", "x").allowed  # no account: an agent's default
    with pytest.raises(CallNotPermitted):
        policy.check_agent("9999", "62345678", "dial", "x")  # no such agent: our own phones only
    assert len(refusals()) == 3


def test_an_agents_own_setting_overrides_their_role_either_way(office):
    policy = CallingPolicy(office.db, Site("21"))
    office.update("agents", "1001", {"call_permission": "international"}, actor="root")
    assert policy.check_agent("1001", "+442071234567", "dial", "alice").allowed
    office.update("agents", "1002", {"call_permission": "local"}, actor="root")
    with pytest.raises(CallNotPermitted):
        policy.check_agent("1002", "13912345678", "dial", "sam")  # a supervisor held to local calls
    assert office.get("agents", "1002")["call_permission"] == "local"
    with pytest.raises(Exception) as bad:
        office.update("agents", "1002", {"call_permission": "everything"}, actor="root")
    assert "call_permission" in bad.value.fields


def test_a_fax_is_checked_against_the_senders_account(office):
    policy = CallingPolicy(office.db, Site("21"))
    assert policy.check_user("root", "16812345", "fax").allowed  # admins: everything
    assert policy.check_user("sam", "+85221234567", "fax").allowed
    with pytest.raises(CallNotPermitted):
        policy.check_user("alice", "+85221234567", "fax")
    office.update("agents", "1001", {"call_permission": "internal"}, actor="root")
    with pytest.raises(CallNotPermitted):  # an agent's own setting holds for what they send too
        policy.check_user("alice", "62345678", "fax")
    with pytest.raises(CallNotPermitted):
        policy.check_user("ghost", "62345678", "fax")
    assert [r[2]["whose"] for r in refusals()] == ["user alice", "user alice", "user ghost"]


# -- FastAGI calling -------------------------------------------------------------------------
class Session:
    def __init__(self, variables=None):
        self.variables = dict(variables or {})

    def set_variable(self, name, value):
        self.variables[name] = value

    def get_variable(self, name):
        return self.variables.get(name)


def ask(policy, number, channel="PJSIP/1001-0000002a", **variables):
    session = Session(variables)
    handler_mod.make_handler(policy)(session, SimpleNamespace(args=[number], channel=channel, callerid="1001"))
    return session.variables


def test_the_phone_handler_answers_from_the_permission_of_the_phones_agent(office):
    policy = CallingPolicy(office.db, Site("21"))
    allowed = ask(policy, "13912345678")
    assert (allowed[v.RESULT], allowed[v.NUMBER_CLASS], allowed[v.AGENT]) == ("ok", "mobile", "1001")
    refused = ask(policy, "0012125551234")
    assert (refused[v.RESULT], refused[v.NUMBER_CLASS]) == ("call.not_permitted", "international")
    assert v.AGENT not in refused
    assert ask(policy, "0012125551234", channel="PJSIP/1002-00000001")[v.RESULT] == "ok"  # Sam's phone
    # a phone nobody sits at reaches our phones and emergency numbers only
    assert ask(policy, "1001", channel="PJSIP/1009-00000003")[v.RESULT] == "ok"
    assert ask(policy, "120", channel="PJSIP/1009-00000003")[v.RESULT] == "ok"
    assert ask(policy, "62345678", channel="PJSIP/1009-00000003")[v.RESULT] == "call.not_permitted"
    assert [(r[0], r[2]["path"], r[2]["whose"]) for r in refusals()] == [
        ("agent 1001", "phone", "agent 1001"), ("phone 1009", "phone", "phone 1009")]


def test_a_customer_handed_over_by_a_phones_own_blind_transfer_counts_as_that_phone(office):
    policy = CallingPolicy(office.db, Site("21"))
    # SIP REFER: the customer's channel runs the phones' context; BLINDTRANSFER names the phone
    handed = ask(policy, "0012125551234", channel="PJSIP/trunk-pstn-00000007", BLINDTRANSFER="PJSIP/1001-0000002a")
    assert handed[v.RESULT] == "call.not_permitted"
    handed = ask(policy, "13912345678", channel="PJSIP/trunk-pstn-00000007", BLINDTRANSFER="PJSIP/1001-0000002a")
    assert handed[v.RESULT] == "ok" and v.AGENT not in handed  # the agent has let go of it
    assert ask(policy, "13912345678", channel="PJSIP/trunk-pstn-00000007")[v.RESULT] == "call.not_permitted"
