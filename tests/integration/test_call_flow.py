"""The walking skeleton's call, end to end, through a real Asterisk with SIPp
playing the trunk and the agent's phone."""

from __future__ import annotations

from collections import Counter

import pytest

from appliance.confgen.manager import UNREAD_EVENTS
from appliance.db.models import CallRecord
from appliance.engine.live import FREE, IN_CALL, RINGING
from harness import Phone, configure_basic, left_idle, sip_address, started, trunk_call, wait_until

pytestmark = pytest.mark.asterisk

CALLER = "13912345678"


@pytest.fixture
def app(basic_appliance):
    """One appliance for the module (trunk, queue sales, DID 88001000, Alice on 1001); each test
    calls from a number of its own, so its call record is its own."""
    yield basic_appliance
    left_idle(basic_appliance)


def record_for(caller: str, timeout: float = 15) -> CallRecord:
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), timeout,
                      f"the call record of {caller}")


def agent_state(app, number):
    agent = app.live.agents.get(number)
    return agent.state if agent else None


def rtp_counts(app) -> list[tuple[int, int]]:
    """(received, sent) RTP packet counts per channel, from 'pjsip show channelstats'."""
    counts = []
    for line in app.pbx.cli("pjsip show channelstats").splitlines():
        tokens = line.split()
        if "alaw" in tokens:
            i = tokens.index("alaw")
            counts.append((int(tokens[i + 1]), int(tokens[i + 5])))
    return counts


def rtp_counts_if_flowing(app, packets: int = 100):
    counts = rtp_counts(app)
    return counts if len(counts) == 2 and all(rx >= packets and tx >= packets for rx, tx in counts) else None


def subsequence(needle, haystack) -> bool:
    it = iter(haystack)
    return all(any(x == y for y in it) for x in needle)


def test_trunk_call_reaches_agent_through_queue(app, tmp_path):
    ring_ms, hold_ms = 1500, 6500
    # the AMI events the supervisor takes (each parsed on its loop): none of those it never reads
    seen, deliver = Counter(), app.ami.on_event
    app.ami.on_event = lambda frame: (seen.update([frame.get("Event")]), deliver(frame))
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=ring_ms).start()
    try:
        app.agents.login("1001")
        wait_until(lambda: agent_state(app, "1001") == FREE, 10, "agent 1001 free in the live state")
        call = trunk_call(sip_address(app), "88001000", CALLER, tmp_path / "sipp", hold_ms=hold_ms).start()
        wait_until(lambda: agent_state(app, "1001") == IN_CALL, 15, "agent in call")
        # Audio flows both ways through Asterisk on both legs (the g711a.pcap SIPp plays).
        stats = wait_until(lambda: rtp_counts_if_flowing(app), 10, "RTP flowing on both legs")
        assert len(stats) == 2, stats
        assert call.wait(60) == 0, call.errors()
        rec = record_for(CALLER)
    finally:
        phone.stop()
        app.ami.on_event = deliver
    assert seen["AgentConnect"] == 1 and seen["Hangup"] >= 2, seen
    assert not set(seen) & set(UNREAD_EVENTS), seen  # manager.conf's eventfilter: Debian's build sends them

    assert rec.did == "88001000"
    assert rec.trunk == "pstn"
    assert rec.queue == "sales"
    assert rec.agent == "1001"
    assert rec.disposition == "answered"
    assert rec.direction == "inbound"
    # The agent's phone rang for ring_ms before answering; the trunk hung up
    # hold_ms after it was answered (Answer() happens as the call enters the queue).
    assert abs(rec.wait_seconds - ring_ms / 1000) <= 1.0, rec.wait_seconds
    assert abs(rec.talk_seconds - (hold_ms - ring_ms) / 1000) <= 1.0, rec.talk_seconds
    assert rec.answer_time is not None and rec.end_time > rec.answer_time

    history = [state for _, state in app.live.agents["1001"].history]
    assert subsequence([RINGING, IN_CALL, FREE], history), history
    wait_until(lambda: agent_state(app, "1001") == FREE, 5, "agent free again")

    stats = app.ami.stats
    assert stats.malformed == 0
    assert stats.handler_errors == 0
    assert stats.unmatched_responses == 0
    assert app.live.events_applied >= stats.events > 0
    assert app.agi.stats.handler_errors == 0 and app.agi.stats.ok >= 1


def test_no_agent_signed_in_caller_hears_fallback(app, tmp_path):
    caller = "13912345670"
    call = trunk_call(sip_address(app), "88001000", caller, tmp_path / "sipp",
                      scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()  # answered, then hung up by the appliance
    rec = record_for(caller)
    assert rec.disposition == "fallback"
    assert rec.fallback_reason == "queue-joinempty"
    assert rec.queue == "sales"
    assert rec.agent == ""
    # ss-noservice + vm-goodbye last about 4 s: the caller heard them before the BYE.
    assert rec.wait_seconds >= 2.0


def test_did_without_route_goes_to_fallback(app, tmp_path):
    caller = "13912345671"
    call = trunk_call(sip_address(app), "99999999", caller, tmp_path / "sipp", scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = record_for(caller)
    assert (rec.disposition, rec.fallback_reason, rec.did, rec.queue) == ("fallback", "no-route", "99999999", "")


def test_signed_in_agent_with_unregistered_phone(app, tmp_path):
    # Carol's phone (a queue of her own) never registers; Alice's may have, in an earlier test
    app.config.create("queues", {"name": "desk", "strategy": "rrmemory", "ring_timeout": 15}, actor="test")
    app.config.create("dids", {"number": "88001009", "queue": "desk"}, actor="test")
    app.config.create("phones", {"extension": "1009", "secret": "pw-1009-secret"}, actor="test")
    app.config.create("agents", {"number": "1009", "name": "Carol", "phone": "1009"}, actor="test")
    app.config.add_member("desk", "1009", actor="test")
    app.agents.login("1009")  # signed in, but the phone never registered
    wait_until(lambda: agent_state(app, "1009") is not None, 10, "agent in the live state")
    caller = "13912345672"
    call = trunk_call(sip_address(app), "88001009", caller, tmp_path / "sipp", scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = record_for(caller)
    assert (rec.disposition, rec.fallback_reason, rec.queue) == ("fallback", "queue-joinempty", "desk")
    assert agent_state(app, "1009") == "unavailable"


def test_agi_server_down_sends_caller_to_fallback(make_appliance, tmp_path):  # an appliance of its own: AGI stopped
    app = make_appliance()
    configure_basic(app)
    started(app)
    app.agi.stop()
    call = trunk_call(sip_address(app), "88001000", CALLER, tmp_path / "sipp", scenario="trunk_call_fallback.xml")
    assert call.run(60) == 0, call.errors()
    rec = record_for(CALLER)
    assert (rec.disposition, rec.fallback_reason) == ("fallback", "agi-failed")
