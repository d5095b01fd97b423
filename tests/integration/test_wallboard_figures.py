"""The wallboard's and the dashboard's figures on the real Asterisk, through the web API, against
the call records of the same calls: one call answered (from a customer of the CRM, shown by
the customer's name, not the SIP display name), one abandoned while an agent's phone rang
(the queue says 1 waiting, and its longest wait is that caller's), two refused at the door
because the only agent was paused (app_queue's join-empty: no QueueCallerJoin at all; the
callers go to the queue's voicemail) yet counted under the queue.  Configured queues show
before anyone signs in."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from appliance.db.models import CallRecord
from appliance.engine.live import FREE, PAUSED
from appliance.services.crm import Viewer
from harness import Phone, configure_basic, signed_in_phone, sip_address, trunk_call, wait_until

pytestmark = pytest.mark.asterisk

CUSTOMER = "13900000021"  # a customer of the CRM
ABANDONS = "13800000022"
REFUSED = ("13800000023", "13800000024")
FIGURES = ("offered", "answered", "answered_in_time", "abandoned", "no_agent", "service_level")


def api(app, token, path):
    request = urllib.request.Request(f"http://127.0.0.1:{app.web.server_port}{path}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def queue_row(view, name):
    return next(q for q in view["queues"] if q["name"] == name)


def call_of(view, caller):
    return next((c for c in view["calls"] if c["caller"] == caller), None)


def record_of(caller):
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 20, f"call record of {caller}")


def agent_state(app):
    agent = app.live.agents.get("1001")
    return agent.state if agent else None


def test_wallboard_and_dashboard_figures_are_the_call_records(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    app.config.update("queues", "sales", {"voicemail": True}, actor="test")
    app.config.create("queues", {"name": "support"}, actor="test")  # nobody in it, ever
    sup = app.users.create("sup", "pw-sup-12345", "supervisor", language="en")
    app.crm.create(Viewer("test", "admin"), {"phone": CUSTOMER, "name": "王芳"}, actor="test")
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    token = app.users.create_token(sup["id"], "t")
    sipp = tmp_path / "sipp"

    # nobody signed in yet: the dashboard lists the configured queues, with zeros
    live = api(app, token, "/api/v1/live")
    assert [(q["name"], q["waiting"], q["longest_wait"]) for q in live["queues"]] == [("sales", 0, 0.0),
                                                                                    ("support", 0, 0.0)]

    # 1. answered; the caller is a customer: shown by the customer's name
    phone = signed_in_phone(app, tmp_path)
    call = trunk_call(sip_address(app), "88001000", CUSTOMER, sipp, hold_ms=3000, caller_name="SIP Name").start()
    talking = wait_until(lambda: (c := call_of(api(app, token, "/api/v1/live"), CUSTOMER)) and
                         c["state"] == "talking" and c, 20, "the customer talking")
    assert (talking["customer_name"], talking["caller_name"], talking["queue"]) == ("王芳", "SIP Name", "sales")
    assert call.wait(60) == 0, call.errors()
    record_of(CUSTOMER)
    phone.stop()

    # 2. abandoned while the agent's phone rings: waiting 1, the longest wait is that caller's own
    wait_until(lambda: agent_state(app) == FREE, 10, "agent free again")
    ringing = Phone("1001", "pw-1001-secret", sip_address(app), sipp, scenario="agent_phone_noanswer.xml").start()
    try:
        call = trunk_call(sip_address(app), "88001000", ABANDONS, sipp, hold_ms=4000).start()
        board = wait_until(lambda: (b := api(app, token, "/api/v1/wallboard")) and
                           (c := call_of(b, ABANDONS)) and c["state"] == "ringing" and b, 20, "the agent ringing")
        sales, caller = queue_row(board, "sales"), call_of(board, ABANDONS)
        assert caller["waiting"] and caller["customer_name"] == ""
        assert (sales["waiting"], sales["longest_wait"]) == (1, caller["wait_seconds"])
        assert call.wait(60) == 0, call.errors()
        assert record_of(ABANDONS).disposition == "abandoned"
    finally:
        ringing.stop()

    # 3, 4. the only agent paused: the queue refuses the callers, who go to its voicemail
    wait_until(lambda: agent_state(app) == FREE, 10, "agent free again (no ring-no-answer)")
    app.agents.pause("1001", "lunch")
    wait_until(lambda: agent_state(app) == PAUSED, 10, "agent paused")
    for number in REFUSED:
        call = trunk_call(sip_address(app), "88001000", number, sipp, hold_ms=2500).start()
        live = wait_until(lambda: (v := api(app, token, "/api/v1/live")) and (c := call_of(v, number)) and
                          c["state"] == "no_agent" and v, 20, f"{number} refused")
        assert call_of(live, number)["queue"] == "sales"  # not an "incoming" call of no queue
        assert (queue_row(live, "sales")["waiting"], queue_row(live, "sales")["longest_wait"]) == (0, 0.0)
        assert call.wait(60) == 0, call.errors()
        rec = record_of(number)
        assert (rec.queue, rec.disposition, rec.fallback_reason) == ("sales", "fallback", "queue-joinempty")

    # every figure is the call records' own
    records = list(CallRecord.select().where(CallRecord.queue == "sales"))
    answered = [r for r in records if r.answer_time is not None]
    abandoned = [r for r in records if r.answer_time is None and r.disposition == "abandoned"]
    expected = {"offered": len(records), "answered": len(answered),
                "answered_in_time": sum(1 for r in answered if r.wait_seconds <= 20),
                "abandoned": len(abandoned), "no_agent": len(records) - len(answered) - len(abandoned)}
    expected["service_level"] = round(expected["answered_in_time"] / expected["offered"], 4)
    assert expected == {"offered": 4, "answered": 1, "answered_in_time": 1, "abandoned": 1, "no_agent": 2,
                        "service_level": 0.25}
    board = api(app, token, "/api/v1/wallboard")
    assert {k: queue_row(board, "sales")[k] for k in FIGURES} == expected
    assert {k: board["totals"][k] for k in FIGURES} == expected
    assert {k: queue_row(board, "support")[k] for k in FIGURES} == {
        "offered": 0, "answered": 0, "answered_in_time": 0, "abandoned": 0, "no_agent": 0, "service_level": None}
    # ... and the call records' page lists the same calls
    listed = api(app, token, "/api/v1/call-records?" + urllib.parse.urlencode({"queue": "sales", "per_page": 100}))
    assert listed["total"] == expected["offered"]
    assert sorted(r["caller"] for r in listed["items"]) == sorted([CUSTOMER, ABANDONS, *REFUSED])
