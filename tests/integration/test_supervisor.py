"""Supervisor functions on real Asterisk: a third SIPp leg (the supervisor's phone) listens
to a live call, hearing it without being heard; barging in it is heard; force hang-up.

One appliance serves the module (agents 1001 in sales and 1002 in support, supervisor phone
1009, the trunk's carrier on a port of the module's own); each test registers the phones it
needs, signs its agents in, and leaves no call and nobody signed in behind it.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from appliance.db.models import CallRecord, Recording
from appliance.engine.live import FREE, IN_CALL
from appliance.errors import Conflict, ValidationError
from appliance.services.webhooks import UrlGuard, sign
from harness import TRUNK_IP, Phone, Sipp, free_port, hang_up, left_idle, sip_address, trunk_call, wait_until
from webhook_receiver import LOOPBACK_OK, Receiver

pytestmark = pytest.mark.asterisk


def rtp_by_channel(app) -> dict[str, tuple[int, int]]:
    """Channel name prefix (e.g. ``1009-``, ``trunk-pstn-``) -> (packets received, sent) by Asterisk."""
    stats = {}
    for line in app.pbx.cli("pjsip show channelstats").splitlines():
        tokens = line.split()
        if "alaw" in tokens:
            i = tokens.index("alaw")
            channel = next((t for t in tokens if t.startswith(("1001-", "1009-", "trunk-"))), tokens[0])
            stats[channel.rsplit("-", 1)[0]] = (int(tokens[i + 1]), int(tokens[i + 5]))
    return stats


def agent_state(app, number):
    agent = app.live.agents.get(number)
    return agent.state if agent else None


@pytest.fixture(scope="module")
def office(basic_appliance):
    app = basic_appliance
    cfg = app.config
    # a call ringing unanswered rings on (for a pickup), and a missed ring pauses nobody
    cfg.update("queues", "sales", {"ring_timeout": 30, "autopause_after": 0}, actor="test")
    cfg.create("phones", {"extension": "1009", "secret": "pw-1009-secret", "callerid_name": "Sup"}, actor="test")
    cfg.create("queues", {"name": "support"}, actor="test")
    cfg.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="test")
    cfg.create("agents", {"number": "1002", "name": "Bob", "phone": "1002"}, actor="test")
    cfg.add_member("support", "1002", actor="test")
    carrier_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    cfg.update("trunks", "pstn", {"port": carrier_port}, actor="test")
    app.carrier_port = carrier_port
    return app


@pytest.fixture
def app(office):
    """The module's appliance; afterwards no call is left and nobody is signed in."""
    yield office
    left_idle(office)


def start_call(app, tmp_path, talker: str):
    """A caller and agent 1001 in a call where only ``talker`` (caller | agent) sends audio;
    supervisor phone 1009 registered."""
    agent_scenario = "agent_phone_answer.xml" if talker == "agent" else "agent_phone_answer_silent.xml"
    phones = [Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=100,
                    scenario=agent_scenario).start(),
              Phone("1009", "pw-1009-secret", sip_address(app), tmp_path / "sipp", ring_ms=100).start()]
    app.agents.login("1001")
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free")
    call = trunk_call(sip_address(app), "88001000", "13800000051", tmp_path / "sipp", hold_ms=12000,
                      scenario="trunk_call.xml" if talker == "caller" else "trunk_call_silent.xml").start()
    wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "agent in call")
    return app, call, phones


@pytest.fixture
def calls(app, tmp_path):
    started_calls = []

    def make(talker):
        started_calls.append(start_call(app, tmp_path, talker))
        return started_calls[-1][0]

    yield make
    for _, call, phones in started_calls:
        call.stop()
        for phone in phones:
            phone.stop()


def sent_to(app, leg):
    return rtp_by_channel(app).get(leg, (0, 0))[1]


@pytest.mark.parametrize("talker", ["caller", "agent"])
def test_listen_hears_each_side_and_is_not_heard(calls, talker):
    app = calls(talker)
    with pytest.raises(ValidationError):
        app.calls.spy("1001", "1009", "shout", actor="sup")
    with pytest.raises(Conflict):
        app.calls.spy("1002", "1009", "listen", actor="sup")
    # the leg that hears nothing from the other side: any audio sent to it would be the supervisor's
    quiet_leg = "trunk-pstn" if talker == "caller" else "1001"
    before = sent_to(app, quiet_leg)
    assert app.calls.spy("1001", "1009", "listen", actor="sup")["status"]
    # the supervisor's phone rings, answers, and receives what the talking side says
    wait_until(lambda: sent_to(app, "1009") >= 100, 15, f"the {talker}'s audio reaching the supervisor")
    # the supervisor's phone sends audio all the while, yet none of it reaches the caller or the agent
    wait_until(lambda: rtp_by_channel(app).get("1009", (0, 0))[0] >= 100, 10, "the supervisor's phone talking")
    assert sent_to(app, quiet_leg) - before < 10, "a listening supervisor was heard"


@pytest.mark.parametrize("mode", ["whisper", "barge"])
def test_whisper_and_barge_connect_the_supervisor(calls, mode):
    app = calls("caller")
    app.calls.spy("1001", "1009", mode, actor="sup")
    wait_until(lambda: sent_to(app, "1009") >= 50, 15, "the call's audio reaching the supervisor")
    flags = {"whisper": "qEw", "barge": "qEB"}[mode]
    assert f"ChanSpy(PJSIP/1001-,{flags})" in app.pbx.cli("core show channels")
    # Asterisk mixes a whisper into the audio already flowing to a leg, so packet counts
    # cannot tell the supervisor's voice from the other side's: what the agent or caller
    # hears here is not asserted (it needs a look at the audio itself).


def test_force_hangup_ends_the_call(calls):
    app = calls("caller")
    [linkedid] = list(app.live.calls)
    assert app.calls.hangup(linkedid, actor="sup")["hung_up"]
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.linkedid == linkedid), 15, "record")
    assert rec.agent == "1001" and rec.talk_seconds < 11
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free after the forced hang-up")


def test_click_to_dial_rings_the_agent_then_calls_the_customer(app, tmp_path):
    """Also the external-CRM path (docs/webhooks.md): a CRM starts the call for an agent
    through the HTTP API with its token, and a real receiver gets the call's signed events,
    the record in ``call.ended``, then the recording's."""
    crm = Receiver()
    app.webhooks.guard = UrlGuard(own=lambda: [], allowed=LOOPBACK_OK)  # the receiver is on loopback
    sub = app.webhooks.create("crm", crm.url, ["call.answered", "call.ended", "recording.ready"])
    secret = sub["secret"]
    if app.web is None:
        app.start_web()  # the CRM's way in: the HTTP API, with a token of its own
    token = app.users.create_token(app.users.create("crm", "crm-password-9", "supervisor")["id"], "crm")

    def dial(number):
        req = urllib.request.Request(app.web_url + "api/v1/agents/1001/dial", json.dumps({"number": number}).encode(),
                                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=15) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    carrier = Sipp("trunk_answer.xml", TRUNK_IP, app.carrier_port, None, {}, tmp_path / "sipp",
                   extra_args=("-d", "3000")).start()
    agent = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=300).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free")
        with pytest.raises(ValidationError):
            app.calls.dial("1001", "call me", actor="alice")
        assert dial("call me")[0] in (400, 422)
        status, answer = dial("021-6000 1234")
        assert status == 200 and answer["number"] == "02160001234", answer
        wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "agent on the outgoing call")
        assert carrier.wait(30) == 0, carrier.errors()  # the customer answered, talked, hung up
    finally:
        agent.stop()
        carrier.stop()
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == "02160001234"), 15, "record")
    assert (rec.direction, rec.agent, rec.trunk, rec.disposition) == ("outbound", "1001", "pstn", "answered")
    assert abs(rec.talk_seconds - 3.0) <= 1.0, rec.talk_seconds
    wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free after the call")
    def this_call():  # the module's earlier calls' recordings may be reported meanwhile
        return [g for g in crm.got if json.loads(g["body"])["data"].get("linkedid") == rec.linkedid]

    try:  # the worker delivers off the loop, within a second or so; the recording once encoded
        wait_until(lambda: "recording.ready" in [json.loads(g["body"])["type"] for g in this_call()], 30,
                   "the call.ended and recording.ready webhooks")
    finally:
        crm.close()
        app.webhooks.delete("test", sub["id"])  # the module's next calls are not this CRM's
    got = this_call()
    assert [json.loads(g["body"])["type"] for g in got] == ["call.answered", "call.ended", "recording.ready"]
    for g in crm.got:  # every delivery signed, this call's and any other
        h = g["headers"]
        assert h["X-CC-Webhook-Signature"] == sign(secret, int(h["X-CC-Webhook-Timestamp"]), g["body"])
    ended = json.loads(got[1]["body"])["data"]  # call.ended
    assert (ended["linkedid"], ended["caller"], ended["agent"], ended["direction"]) == (
        rec.linkedid, "02160001234", "1001", "outbound")
    assert "queue" in ended and abs(ended["talk_seconds"] - rec.talk_seconds) <= 1.0
    assert Recording.get(Recording.linkedid == rec.linkedid).state == "complete"  # the call is recorded
    assert ended["recording_url"] == f"/api/v1/recordings/{rec.linkedid}/audio"
    assert json.loads(got[-1]["body"])["data"]["recording_url"] == ended["recording_url"]


@pytest.mark.parametrize("to_kind", ["queue", "agent"])
def test_agent_transfers_the_caller_to_a_queue_or_an_agent(app, tmp_path, to_kind):
    caller = {"queue": "13800000061", "agent": "13800000062"}[to_kind]
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=200).start()
              for ext in ("1001", "1002")]
    try:
        for ext in ("1001", "1002"):
            app.agents.login(ext)
        wait_until(lambda: agent_state(app, "1001") == FREE and agent_state(app, "1002") == FREE, 10, "free")
        call = trunk_call(sip_address(app), "88001000", caller, tmp_path / "sipp",
                          scenario="trunk_call_until_told.xml").start()
        wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "first agent talking")
        with pytest.raises(Conflict):
            app.calls.transfer("1002", "queue", "support", actor="bob")  # Bob has no call to transfer
        with pytest.raises(ValidationError):
            app.calls.transfer("1001", "queue", "nowhere", actor="alice")
        target = "support" if to_kind == "queue" else "1002"
        assert app.calls.transfer("1001", to_kind, target, actor="alice")["transferred"]
        wait_until(lambda: agent_state(app, "1002") == IN_CALL, 15, "second agent talking")
        wait_until(lambda: agent_state(app, "1001") == FREE, 3, "first agent released at once")
        assert hang_up(call) == 0, call.errors()
    finally:
        for phone in phones:
            phone.stop()
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 15, "record")
    assert (rec.agent, rec.disposition) == ("1002", "answered")
    assert rec.queue == "support" or to_kind == "agent"


def test_supervisor_intercepts_a_call(app, tmp_path):
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=200).start()
              for ext in ("1001", "1009")]
    try:
        app.agents.login("1001")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free")
        call = trunk_call(sip_address(app), "88001000", "13800000091", tmp_path / "sipp",
                          scenario="trunk_call_until_told.xml").start()
        wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "agent talking")
        [linkedid] = list(app.live.calls)
        assert app.calls.intercept(linkedid, "1009", actor="sup")["intercepted"]
        # the agent is free at once, while the caller talks on with the supervisor
        wait_until(lambda: agent_state(app, "1001") == FREE and "PJSIP/1009-" in app.pbx.cli("core show channels"),
                   5, "agent released, supervisor on the call")
        assert hang_up(call) == 0, call.errors()  # the caller talked on until they hung up
    finally:
        for phone in phones:
            phone.stop()


def test_agent_picks_up_a_call_ringing_elsewhere(app, tmp_path):
    phones = [Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", calls=2,
                    scenario="agent_phone_noanswer.xml").start(),
              Phone("1002", "pw-1002-secret", sip_address(app), tmp_path / "sipp", ring_ms=200).start()]
    try:
        for ext in ("1001", "1002"):
            app.agents.login(ext)
        wait_until(lambda: agent_state(app, "1001") == FREE and agent_state(app, "1002") == FREE, 10, "free")
        call = trunk_call(sip_address(app), "88001000", "13800000092", tmp_path / "sipp",
                          scenario="trunk_call_until_told.xml").start()
        wait_until(lambda: agent_state(app, "1001") == "ringing", 15, "1001's phone ringing, nobody picks up")
        [linkedid] = list(app.live.calls)
        with pytest.raises(Conflict):
            app.calls.pickup("1002", "no-such-call", actor="bob")
        assert app.calls.pickup("1002", linkedid, actor="bob")["picked_up"]
        wait_until(lambda: agent_state(app, "1002") == IN_CALL, 15, "1002 took the call")
        assert hang_up(call) == 0, call.errors()
    finally:
        for phone in phones:
            phone.stop()
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == "13800000092"), 15, "record")
    assert (rec.agent, rec.disposition) == ("1002", "answered")
