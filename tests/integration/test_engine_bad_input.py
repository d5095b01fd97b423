"""Bad input to the engine on real Asterisk: an agent signing in twice, a transfer to a
number that does not exist, a supervisor acting on a call that just ended, a caller who
hangs up during the VIP choice. Each gets a clear answer, and afterwards no agent is left
ringing or in call and no channel is left in Asterisk."""

from __future__ import annotations

import socket

import pytest

from appliance.db.models import CallRecord
from appliance.engine.live import FREE, IN_CALL, RINGING
from appliance.errors import Conflict, DomainError
from appliance.services.crm import Viewer
from harness import TRUNK_IP, Phone, Sipp, configure_basic, free_port, sip_address, started, trunk_call, wait_until

pytestmark = pytest.mark.asterisk


def agent_state(app, number):
    agent = app.live.agents.get(number)
    return agent.state if agent else None


def members(app, queue: str) -> list[str]:
    _, events = app.ami.send_action_list("QueueStatus", {"Queue": queue})
    return [e.get("Location") or e.get("Interface") for e in events if e.get("Event") == "QueueMember"]


def active_channels(app) -> int:
    return len([line for line in app.pbx.cli("core show channels concise").splitlines() if "!" in line])


def record(caller):
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 15, f"record of {caller}")


def nobody_stuck(app) -> None:
    wait_until(lambda: not app.live.calls and active_channels(app) == 0, 15, "every call and channel gone")
    stuck = {a.name: a.state for a in app.live.agents.values() if a.state in (IN_CALL, RINGING)}
    assert not stuck, f"agents left busy: {stuck}"


@pytest.fixture
def app(make_appliance):
    app = make_appliance()
    configure_basic(app)
    cfg = app.config
    cfg.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="test")
    cfg.create("agents", {"number": "1002", "name": "Bob", "phone": "1002"}, actor="test")
    cfg.create("queues", {"name": "key-accounts"}, actor="test")
    cfg.add_member("key-accounts", "1002", actor="test")
    app.crm.create(Viewer("test", "admin"), {"phone": "13800000101", "name": "Acme Ltd", "account_manager": "1002"},
                   actor="test")
    cfg.create("phones", {"extension": "1009", "secret": "pw-1009-secret"}, actor="test")
    return app


def test_bad_input_leaves_no_agent_in_call_and_no_channel(app, tmp_path):
    carrier_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    app.config.update("trunks", "pstn", {"port": carrier_port}, actor="test")
    started(app)
    sipp_dir = tmp_path / "sipp"
    phones = [Phone(ext, f"pw-{ext}-secret", sip_address(app), sipp_dir, ring_ms=200, calls=3).start()
              for ext in ("1001", "1002", "1009")]
    try:
        # signing in twice: the second changes nothing (one member, not two)
        app.agents.login("1001")
        assert app.agents.login("1001")["logged_in"]
        assert members(app, "sales") == ["PJSIP/1001"]
        app.agents.login("1002")
        wait_until(lambda: agent_state(app, "1001") == FREE and agent_state(app, "1002") == FREE, 10, "agents free")

        # a transfer out to a number the carrier does not know: the caller is told, the agent is free
        carrier = Sipp("trunk_reject.xml", TRUNK_IP, carrier_port, None, {}, sipp_dir).start()
        call = trunk_call(sip_address(app), "88001000", "13800000102", sipp_dir,
                          scenario="trunk_call_fallback.xml").start()
        wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "agent talking")
        [linkedid] = list(app.live.calls)
        assert app.calls.transfer("1001", "number", "99999999", actor="alice")["transferred"]
        assert carrier.wait(20) == 0, carrier.errors()  # 404 Not Found
        assert call.wait(30) == 0, call.errors()  # hung up by the appliance...
        log = (tmp_path / "data/asterisk/log/messages.log").read_text()
        assert "<PJSIP/trunk-pstn-00000000> Playing 'ss-noservice.gsm'" in log  # ...after "not in service"
        rec = record("13800000102")
        assert rec.agent == "1001" and rec.fallback_reason.startswith("transfer-")
        assert agent_state(app, "1001") == FREE

        # a supervisor acting on the call that has just ended
        with pytest.raises(DomainError) as ended:
            app.calls.hangup(linkedid, actor="sup")
        assert ended.value.code == "calls.not_found"
        with pytest.raises(DomainError):
            app.calls.intercept(linkedid, "1009", actor="sup")
        with pytest.raises(Conflict):
            app.calls.spy("1001", "1009", "listen", actor="sup")  # nobody to listen to

        # a VIP caller who hangs up during the "press 0" choice, before their manager rings
        quitter = trunk_call(sip_address(app), "88001000", "13800000101", sipp_dir, hold_ms=800)
        assert quitter.run(30) == 0, quitter.errors()
        assert record("13800000101").disposition == "unanswered"  # never reached a queue
        nobody_stuck(app)
        assert agent_state(app, "1002") == FREE and agent_state(app, "1001") == FREE
    finally:
        for phone in phones:
            phone.stop()
