"""Faults on the real path: Asterisk killed mid-call, the AMI socket dropped,
garbage on the FastAGI port, and config applied to a running Asterisk."""

from __future__ import annotations

import socket

import pytest

from appliance.db.models import CallRecord
from appliance.engine.live import FREE, IN_CALL
from harness import Phone, configure_basic, sip_address, started, trunk_call, wait_until

pytestmark = pytest.mark.asterisk


def agent_state(app, number):
    agent = app.live.agents.get(number)
    return agent.state if agent else None


def test_asterisk_killed_mid_call_is_recorded_restarted_and_takes_calls_again(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=200, calls=2).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent free")
        call = trunk_call(sip_address(app), "88001000", "13800000001", tmp_path / "sipp", hold_ms=30000).start()
        wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "agent in call")
        old_pid = app.pbx.pid
        app.pbx.kill()  # SIGKILL, as a crash would

        rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == "13800000001"), 30,
                         "the interrupted call's record")
        assert rec.disposition == "interrupted"
        assert rec.agent == "1001" and rec.answer_time is not None
        call.stop()

        wait_until(lambda: app.asterisk.state == "running" and app.ami.connected, 60, "Asterisk restarted")
        assert app.pbx.pid != old_pid and app.asterisk.restarts == 1
        # the signed-in agent is put back in the new Asterisk's queue from the database
        wait_until(lambda: "1001" in app.pbx.cli("queue show sales"), 15, "agent back in the queue")
        assert app.health()["components"]["asterisk"]["up"]

        phone.register()  # Asterisk lost its registrations with its memory
        wait_until(lambda: agent_state(app, "1001") == FREE, 15, "agent reachable again")
        second = trunk_call(sip_address(app), "88001000", "13800000002", tmp_path / "sipp", hold_ms=2000)
        assert second.run(60) == 0, second.errors()
        rec2 = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == "13800000002"), 15, "second record")
        assert rec2.disposition == "answered" and rec2.agent == "1001"
    finally:
        phone.stop()


def test_ami_socket_dropped_reconnects_and_keeps_recording_calls(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    started(app)
    reconnects = app.ami.stats.reconnects
    app.ami._sock.shutdown(socket.SHUT_RDWR)  # the connection dies under the client
    wait_until(lambda: app.ami.stats.reconnects > reconnects and app.ami.connected, 30, "AMI reconnected")
    call = trunk_call(sip_address(app), "88001000", "13800000003", tmp_path / "sipp", scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == "13800000003"), 15, "record after reconnect")
    assert rec.disposition == "fallback"
    assert app.ami.stats.malformed == 0


def test_garbage_on_the_agi_port_is_refused_and_calls_still_route(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    started(app)
    with socket.create_connection(("127.0.0.1", app.settings.agi_port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(10)
        assert s.recv(100) == b""  # closed on us
    wait_until(lambda: app.agi.stats.bad_requests == 1, 5, "bad request counted")
    call = trunk_call(sip_address(app), "99999999", "13800000004", tmp_path / "sipp", scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == "13800000004"), 15, "record")
    assert rec.fallback_reason == "no-route"  # the AGI server answered: it decided there was no route


def test_config_change_is_applied_without_restarting_asterisk(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    started(app)
    pid = app.pbx.pid
    app.config.create("queues", {"name": "support", "strategy": "leastrecent"}, actor="test")
    app.config.create("dids", {"number": "88002000", "queue": "support"}, actor="test")
    app.config.create("phones", {"extension": "1002", "secret": "pw-1002-secret"}, actor="test")
    assert "support" in app.pbx.cli("queue show support")
    assert "leastrecent" in app.pbx.cli("queue show support")
    assert "1002" in app.pbx.cli("pjsip show endpoint 1002")
    assert app.routing.dids["88002000"].queue == "support"
    assert app.pbx.pid == pid
    # the new route works at once: nobody is in 'support', so the caller gets the queue's fallback
    call = trunk_call(sip_address(app), "88002000", "13800000005", tmp_path / "sipp", scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == "13800000005"), 15, "record")
    assert (rec.queue, rec.fallback_reason) == ("support", "queue-joinempty")


def test_asterisk_stopped_by_a_crash_loop_is_restarted_by_an_admin_through_the_api(make_appliance):
    import webtest

    from appliance.supervisor import RespawnPolicy

    app = make_appliance()
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    app.asterisk.policy = RespawnPolicy(crash_limit=0)  # the first crash is already one too many
    app.pbx.kill()
    wait_until(lambda: app.asterisk.state == "crash-loop", 30, "the crash loop detected")
    health = app.health()
    assert health["status"] == "down" and [a["code"] for a in health["alarms"]] == ["supervisor.crash_loop"]

    admin = app.users.create("tech", "tech-password-1", "admin")
    api = webtest.TestApp(app.web.application)
    auth = {"Authorization": f"Bearer {app.users.create_token(admin['id'], 'test')}"}
    assert api.post("/api/v1/services/asterisk/restart", headers=auth).status_int == 202
    wait_until(lambda: app.asterisk.state == "running" and app.ami.connected, 60, "Asterisk started again")
    health = app.health()
    assert health["status"] == "ok" and health["alarms"] == [] and health["components"]["asterisk"]["up"]
