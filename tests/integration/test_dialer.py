"""Campaigns the appliance dials, on real Asterisk (one appliance for the module): agent 1001
(Alice, a SIPp phone that answers) and a SIPp carrier on the trunk playing the customers.

- progressive: one line for the one free agent; the customer answers and is put through to
  Alice (her campaign panel shows the entry), the call record is the attempt's by its
  linkedid; then the next number, one at a time;
- power at ratio 2 with one agent: two lines at once, both answered; the first reaches
  Alice, the second hears the no-agent sentence within 2 s of answering (Asterisk's own
  log: the trunk leg's answer, then Playback) and is abandoned in the records;
- Asterisk killed while a number rings: after the restart the attempt is settled (failed,
  retried later by the rules), no entry was dialled twice at once and none is lost."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket

import pytest

from appliance.db import models as m
from appliance.engine.live import FREE
from harness import TRUNK_IP, Phone, Sipp, configure_basic, free_port, sip_address, wait_until

pytestmark = pytest.mark.asterisk


@pytest.fixture(scope="module")
def office(make_module_appliance, tmp_path_factory):
    app = make_module_appliance()
    configure_basic(app)  # trunk pstn, queue sales, agent 1001 at phone 1001
    carrier_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    app.config.update("trunks", "pstn", {"port": carrier_port}, actor="test")
    app.start(web=False)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    logs = tmp_path_factory.mktemp("sipp")
    phone = Phone("1001", "pw-1001-secret", sip_address(app), logs, ring_ms=200, calls=20).start()
    app.agents.login("1001")
    wait_until(lambda: app.live.agents.get("1001") and app.live.agents["1001"].state == FREE, 10, "agent free")
    app.carrier_port, app.logs = carrier_port, logs
    yield app
    phone.stop()


def campaign(app, name: str, numbers: list[str], **fields) -> m.Campaign:
    """A running campaign of ``numbers`` for agent 1001 (as the services the pages call make it)."""
    for other in m.Campaign.select().where(m.Campaign.state == "running"):
        app.campaigns.set_state(other.id, "stopped", "sup")
    wait_until(lambda: app.live.agents["1001"].state == FREE, 30, "Alice free")
    lst = m.CallList.create(name=name)
    for number in numbers:
        m.CallListEntry.create(call_list=lst, number=number, number_key=number[-11:])
    row = app.campaigns.create({"name": name, "agents": ["1001"], "lists": [lst.id], **fields}, "sup")
    app.campaigns.set_state(row["id"], "running", "sup")
    return m.Campaign.get_by_id(row["id"])


def carrier(app, scenario: str, calls: int, talk_ms: int = 1500) -> Sipp:
    return Sipp(scenario, TRUNK_IP, app.carrier_port, None, {}, app.logs, calls=calls, timeout_s=120,
                extra_args=("-d", str(talk_ms))).start()


def tries(row: m.Campaign) -> list[m.CampaignAttempt]:
    return list(m.CampaignAttempt.select().where(m.CampaignAttempt.campaign == row.id)
                .order_by(m.CampaignAttempt.id))


def test_progressive_dials_one_line_for_the_free_agent_and_puts_the_customer_through(office):
    app = office
    customers = carrier(app, "trunk_answer.xml", calls=2)
    try:
        row = campaign(app, "prog", ["+8613912340001", "+8613912340002"], mode="progressive")
        first = wait_until(lambda: [a for a in tries(row) if a.result == "answered"], 30, "the first put through")[0]
        assert len(tries(row)) == 1  # one free agent: one line
        panel = app.campaigns.panel("1001")  # Alice's campaign panel: the entry she is talking to
        assert panel["entry"]["id"] == first.entry_id and panel["campaign"]["name"] == "prog"
        record = wait_until(lambda: m.CallRecord.get_or_none(m.CallRecord.linkedid == first.linkedid), 30,
                            "the first call's record")
        assert (record.direction, record.agent, record.caller) == ("outbound", "1001", "13912340001")
        both = wait_until(lambda: len(done := [a for a in tries(row) if a.result == "answered" and a.ended_at]) == 2
                          and done, 60, "both calls put through and ended", interval=0.2)
        assert len(tries(row)) == 2
        assert both[1].started_at >= both[0].answered_at  # the second waited for Alice to be free
        figures = app.campaigns.figures(row.id)
        assert (figures["dialled"], figures["answered"], figures["abandoned"]) == (2, 2, 0)
        assert customers.wait(30) == 0, customers.errors()
    finally:
        customers.stop()


def test_power_at_ratio_two_with_one_agent_the_second_customer_hears_the_message_at_once(office):
    app = office
    customers = carrier(app, "trunk_answer.xml", calls=2, talk_ms=3000)
    log = app.settings.asterisk_dir / "log" / "messages.log"
    start = log.stat().st_size
    try:
        row = campaign(app, "power", ["+8613912340011", "+8613912340012"], mode="power", ratio=2)
        wait_until(lambda: len(tries(row)) == 2, 15, "two lines at once")
        abandoned = wait_until(lambda: [a for a in tries(row) if a.result == "abandoned"], 30, "one abandoned")[0]
        assert [a.result for a in tries(row)].count("answered") == 1
        record = wait_until(lambda: m.CallRecord.get_or_none(m.CallRecord.linkedid == abandoned.linkedid), 30,
                            "the abandoned call's record")
        assert record.agent == "" and record.caller.startswith("1391234001")
        # Asterisk's own clock: the customer's answer on the trunk leg, then the sentence starting
        text = log.read_text(errors="replace")[start:]
        played = re.search(r"^\[([^\]]+)\].*<(Local/[^;>]+);1> Playing '[^']*cc-campaign-no-agent", text, re.M)
        assert played, "the no-agent sentence was not played"
        answered = re.search(r"^\[([^\]]+)\].*PJSIP/trunk-pstn-\S+ answered " + re.escape(played[2]) + ";2", text,
                             re.M)
        assert answered, f"no answer seen for {played[2]}"
        delay = (dt.datetime.fromisoformat(played[1]) - dt.datetime.fromisoformat(answered[1])).total_seconds()
        assert 0 <= delay < 2.0, delay
        figures = app.campaigns.figures(row.id)
        assert (figures["answered"], figures["abandoned"], figures["abandon_rate"]) == (1, 1, 50.0)
        wait_until(lambda: all(a.ended_at for a in tries(row)), 30, "both calls over")
    finally:
        customers.stop()


def test_asterisk_restarted_mid_campaign_settles_the_ringing_number_and_dials_none_twice(office):
    app = office
    ringing = carrier(app, "trunk_ring.xml", calls=10)
    try:
        row = campaign(app, "restart", ["+8613912340021", "+8613912340022", "+8613912340023"],
                       mode="progressive", retry_failed_minutes=20)
        first = wait_until(lambda: tries(row), 15, "a number dialled")[0]
        wait_until(lambda: first.linkedid in app.live.calls and app.live.calls[first.linkedid].state == "ringing",
                   15, "the number ringing")
        old = app.pbx.pid
        app.pbx.kill()  # SIGKILL, as a crash would
        wait_until(lambda: app.asterisk.state == "running" and app.ami.connected and app.pbx.pid != old, 90,
                   "Asterisk restarted")
        settled = wait_until(lambda: m.CampaignAttempt.get_by_id(first.id).result != "dialling" and
                             m.CampaignAttempt.get_by_id(first.id), 30, "the lost attempt settled")
        assert settled.result == "failed" and settled.ended_at is not None
        entry = m.CallListEntry.get_by_id(first.entry_id)
        assert entry.state == "pending" and entry.next_attempt_at >= settled.ended_at + dt.timedelta(minutes=19)
        app.campaigns.set_state(row.id, "stopped", "sup")
    finally:
        ringing.stop()
    by_entry: dict[int, list] = {}
    for a in tries(row):
        by_entry.setdefault(a.entry_id, []).append(a)
    for attempts in by_entry.values():  # never two calls to one number at once
        for before, after in zip(attempts, attempts[1:]):
            assert before.ended_at is not None and before.ended_at <= after.started_at
    assert len(by_entry[first.entry_id]) == 1  # not again before its retry time
    for e in m.CallListEntry.select().where(m.CallListEntry.call_list.in_(
            [cl.call_list_id for cl in m.CampaignList.select().where(m.CampaignList.campaign == row.id)])):
        assert e.state in ("pending", "dialling", "done"), json.dumps(e.__data__, default=str)
