"""The dialer's decisions (appliance/services/dialer.py) on a real SQLite database, with the
live state's agents set by hand, an AMI that records what it is asked, and clocks of our
own: what is originated and how, what the dialplan's reports do to attempts and entries,
the retry rules, the holds and states a campaign page shows, and the restart rule."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from appliance import dialplan_vars as v
from appliance import numbers
from appliance.ami.codec import Frame
from appliance.db import models as m
from appliance.engine.live import FREE, IN_CALL, PAUSED, Agent, LiveState
from appliance.services import dialer as d
from appliance.services.campaigns import Campaigns
from appliance.services.compliance import OutboundCheck

T0 = dt.datetime(2026, 12, 7, 2, 0)  # 10:00 in Shanghai


class Clocks:
    def __init__(self):
        self.utc, self.mono = T0, 1000.0

    def now(self):
        return self.utc

    def monotonic(self):
        return self.mono

    def pass_(self, seconds: float):
        self.utc += dt.timedelta(seconds=seconds)
        self.mono += seconds


class Ami:
    connected = True

    def __init__(self):
        self.sent: list[tuple[str, dict]] = []
        self.fail = False

    def send_action(self, name, headers=None, timeout=None):
        self.sent.append((name, dict(headers or {})))
        if self.fail:
            return Frame([("Response", "Error"), ("Message", "Originate failed")])
        return Frame([("Response", "Success"), ("Message", "Originate successfully queued")])


class Bus:
    def __init__(self):
        self.events = []

    def publish(self, topic, data):
        self.events.append((topic, data))


@pytest.fixture
def floor(db):
    """Agents 1001 and 1002 free, trunk pstn, one campaign of five numbers (stopped)."""
    clocks, ami, bus, live = Clocks(), Ami(), Bus(), LiveState()
    m.Trunk.create(name="pstn", host="127.0.0.2")
    for number in ("1001", "1002"):
        m.Agent.create(number=number, name=f"agent {number}")
        live.agents[number] = Agent(number, state=FREE, queues={"sales"}, since=float(number))
    lst = m.CallList.create(name="spring")
    for i in range(5):
        m.CallListEntry.create(call_list=lst, number=f"+86139123400{i:02d}", number_key=f"139123400{i:02d}")
    campaign = m.Campaign.create(name="spring", mode="progressive", agents=json.dumps(["1001", "1002"]),
                                 state="running")
    m.CampaignList.create(campaign=campaign, call_list=lst)
    check = OutboundCheck(db, None, live, default_window="", now=clocks.now)
    campaigns = Campaigns(db, bus=bus, clock=clocks.now)
    dialer = d.Dialer(db, ami, live, check, campaigns, bus, clock=clocks.now, monotonic=clocks.monotonic)
    campaigns.dialing = dialer.status

    class Floor:
        pass

    f = Floor()
    f.db, f.clocks, f.ami, f.bus, f.live, f.check, f.campaigns, f.dialer = (db, clocks, ami, bus, live, check,
                                                                           campaigns, dialer)
    f.campaign, f.list = campaign, lst
    return f


def set_campaign(f, **values):
    m.Campaign.update(**values).where(m.Campaign.id == f.campaign.id).execute()


def originated(f):
    return [h for name, h in f.ami.sent if name == "Originate"]


def attempts(f, **where):
    query = m.CampaignAttempt.select().order_by(m.CampaignAttempt.id)
    for key, value in where.items():
        query = query.where(getattr(m.CampaignAttempt, key) == value)
    return list(query)


def entry(attempt):
    return m.CallListEntry.get_by_id(attempt.entry_id)


def test_progressive_dials_one_line_per_free_agent_with_the_attempt_on_the_channel(floor):
    f = floor
    assert f.dialer.tick() == 2
    first, second = originated(f)
    a1, a2 = attempts(f)
    assert first["Channel"] == "Local/13912340000@cc-campaign-dial/n"  # as dialled from China
    assert (first["Context"], first["Exten"]) == (v.CAMPAIGN_CONTEXT, "progressive")
    assert first["ChannelId"] == a1.linkedid and a1.linkedid.startswith(f"cc-campaign-{a1.id}-")
    assert f"__CC_ATTEMPT={a1.id}" in first["Variable"] and f"__CC_CAMPAIGN={f.campaign.id}" in first["Variable"]
    assert second["ChannelId"] == a2.linkedid != a1.linkedid
    assert [entry(a).state for a in (a1, a2)] == ["dialling", "dialling"]
    assert f.dialer.tick() == 0  # two lines ringing for two free agents
    f.live.agents["1002"].state = IN_CALL  # one agent took another call
    assert f.dialer.tick() == 0
    assert ("campaign", {"event": "dialling", "campaign": f.campaign.id, "entry": a1.entry_id,
                         "attempt": a1.id}) in f.bus.events


def test_an_answered_call_not_yet_put_through_holds_a_free_agent(floor):
    f = floor
    assert f.dialer.tick() == 2
    a1, _a2 = attempts(f)
    # a1 picked up (its AMD step runs, no agent asked for yet); a2 still rings; both agents free
    m.CampaignAttempt.update(answered_at=T0).where(m.CampaignAttempt.id == a1.id).execute()
    assert f.dialer.tick() == 0  # a1 will take one agent, a2 is the other's line: nothing more
    decision = f.dialer.decide(f.campaign)
    assert (decision.ready, decision.busy, decision.ringing) == (1, 1, 1)


def test_a_decision_counts_the_campaign_s_lines_in_one_query(floor):
    """Up, ringing and answered-not-put-through come from one statement (they were three, each
    tick of every running campaign)."""
    f = floor
    set_campaign(f, max_lines=5)
    assert f.dialer.tick() == 2
    a1, _a2 = attempts(f)
    m.CampaignAttempt.update(answered_at=T0).where(m.CampaignAttempt.id == a1.id).execute()
    seen = []
    conn = f.db.connection()
    conn.set_trace_callback(seen.append)
    try:
        decision = f.dialer.decide(m.Campaign.get_by_id(f.campaign.id))
    finally:
        conn.set_trace_callback(None)
    assert (decision.ready, decision.busy, decision.ringing) == (1, 1, 1)
    assert len([q for q in seen if 'FROM "campaign_attempt"' in q and "ended_at" in q]) == 1, seen


def test_busy_and_no_answer_are_retried_by_the_campaign_rules_and_end_after_max_attempts(floor):
    f = floor
    set_campaign(f, retry_busy_minutes=5, retry_no_answer_minutes=45, max_attempts=2)
    f.dialer.tick()
    a1, a2 = attempts(f)
    f.dialer.dialed(str(a1.id), "BUSY")
    f.dialer.dialed(str(a2.id), "NOANSWER")
    a1, a2 = attempts(f)[:2]
    assert (a1.result, a2.result) == ("busy", "no-answer")
    e1, e2 = entry(a1), entry(a2)
    assert (e1.state, e1.next_attempt_at, e1.last_result) == ("pending", T0 + dt.timedelta(minutes=5), "busy")
    assert (e2.state, e2.next_attempt_at) == ("pending", T0 + dt.timedelta(minutes=45))
    assert f.dialer.tick() == 2  # the next two numbers, not these two again yet
    assert {entry(a).id for a in attempts(f)[2:]} == {3, 4}
    f.dialer.dialed(str(attempts(f)[2].id), "CONGESTION")
    assert entry(attempts(f)[2]).next_attempt_at == T0 + dt.timedelta(minutes=30)  # failed: 30 by default
    # five minutes on, the busy number comes back; busy again on its second try: done (max 2)
    f.clocks.pass_(300)
    f.dialer.tick()
    again = [a for a in attempts(f) if a.entry_id == e1.id][-1]
    assert again.id != a1.id and entry(again).attempts == 2
    f.dialer.dialed(str(again.id), "BUSY")
    assert (entry(again).state, entry(again).next_attempt_at) == ("done", None)


def test_power_at_ratio_two_with_one_agent_the_second_answered_call_is_abandoned(floor):
    f = floor
    set_campaign(f, mode="power", ratio=2.0)
    f.live.agents["1002"].state = PAUSED
    assert f.dialer.tick() == 2
    a1, a2 = attempts(f)
    assert originated(f)[0]["Exten"] == "power"
    assert f.dialer.connect(str(a1.id)) == "1001"
    assert f.dialer.tick() == 0  # 1001 is held for that call: nobody ready
    assert f.dialer.connect(str(a2.id)) == ""  # nobody free: the dialplan says so at once
    a1, a2 = attempts(f)
    assert (a1.result, a1.agent, entry(a1).taken_by) == ("answered", "1001", "1001")
    assert (a2.result, a2.answered_at, a2.ended_at) == ("abandoned", T0, T0)
    assert entry(a2).state == "pending" and entry(a2).next_attempt_at == T0 + dt.timedelta(minutes=60)
    figures = f.campaigns.figures(f.campaign.id)
    assert (figures["answered"], figures["abandoned"], figures["abandon_rate"]) == (1, 1, 50.0)
    assert figures["dialer"]["agents_busy"] == 1 and figures["dialer"]["dial_level"] == 2.0
    # the agent's call ends (the call record names them): answered, the entry theirs until the disposition
    f.dialer.call_ended({"linkedid": a1.linkedid, "agent": "1001", "disposition": "answered", "answer_time": 1.0})
    a1 = attempts(f)[0]
    assert (a1.result, a1.ended_at, entry(a1).state) == ("answered", T0, "dialling")
    assert "1001" not in f.dialer.reserved
    m.CallOutcome.create(linkedid=a1.linkedid, agent="1001", disposition="sale", saved_by="alice")
    f.campaigns.outcome_saved("1001", a1.linkedid)
    assert entry(attempts(f)[0]).state == "done" and attempts(f)[0].disposition == "sale"


def test_a_call_that_met_an_answering_machine_ends_as_machine_and_is_retried_by_its_own_rule(floor):
    f = floor
    set_campaign(f, retry_machine_minutes=120)
    f.dialer.tick()
    a1, a2 = attempts(f)
    for a in (a1, a2):  # both picked up (the AMD step of the dialplan), one by a machine
        m.CampaignAttempt.update(answered_at=T0).where(m.CampaignAttempt.id == a.id).execute()
    m.CampaignAttempt.update(amd="machine").where(m.CampaignAttempt.id == a1.id).execute()
    m.CampaignAttempt.update(amd="human").where(m.CampaignAttempt.id == a2.id).execute()
    # the machine is hung up on (amd_action hangup); the person hangs up before an agent was free
    for a in (a1, a2):
        f.dialer.call_ended({"linkedid": a.linkedid, "agent": "", "disposition": "answered"})
    a1, a2 = attempts(f)[:2]
    assert (a1.result, a2.result) == ("machine", "abandoned")  # a machine is no abandoned caller
    e1 = entry(a1)
    assert (e1.state, e1.last_result, e1.next_attempt_at) == ("pending", "machine", T0 + dt.timedelta(minutes=120))
    figures = f.campaigns.figures(f.campaign.id)
    assert (figures["machine"], figures["answered"], figures["abandoned"], figures["dialled"]) == (1, 0, 1, 2)
    window = f.dialer.window(f.campaign)
    assert (window.dialled, window.answered, window.abandoned) == (2, 0, 1)  # dialled, never answered by a person


def test_by_default_a_machine_is_not_called_again(floor):
    f = floor
    f.dialer.tick()
    a1 = attempts(f)[0]
    m.CampaignAttempt.update(answered_at=T0, amd="machine").where(m.CampaignAttempt.id == a1.id).execute()
    f.dialer.call_ended({"linkedid": a1.linkedid, "agent": "", "disposition": "answered"})
    e1 = entry(attempts(f)[0])
    assert (attempts(f)[0].result, e1.state, e1.next_attempt_at) == ("machine", "done", None)


def test_an_answered_call_is_put_through_to_the_entry_s_agent_first_then_the_longest_free(floor):
    f = floor
    f.dialer.tick()
    a1, a2 = attempts(f)
    m.CallListEntry.update(agent="1002").where(m.CallListEntry.id == a1.entry_id).execute()
    assert f.dialer.connect(str(a1.id)) == "1002"
    assert f.dialer.connect(str(a2.id)) == "1001"
    # 1001's phone did not take it (the dialplan asks again): nobody else is free, abandoned
    assert f.dialer.connect(str(a2.id)) == ""
    assert attempts(f)[1].result == "abandoned"


def test_a_connected_call_whose_agent_never_took_it_is_abandoned(floor):
    f = floor
    f.dialer.tick()
    a1 = attempts(f)[0]
    f.dialer.connect(str(a1.id))
    f.dialer.call_ended({"linkedid": a1.linkedid, "agent": "", "disposition": "answered"})
    assert attempts(f)[0].result == "abandoned" and not f.dialer.reserved


@pytest.mark.parametrize("change,status", [
    (lambda f: [setattr(a, "state", PAUSED) for a in f.live.agents.values()], d.NO_AGENTS),
    (lambda f: f.live.agents.clear(), d.NO_AGENTS),
    (lambda f: [setattr(a, "state", IN_CALL) for a in f.live.agents.values()], d.WAITING_AGENTS),
    (lambda f: m.Trunk.delete().execute(), d.NO_TRUNK),
    (lambda f: set_campaign(f, start_at=T0 + dt.timedelta(days=1)), d.OUTSIDE_WINDOW),
    (lambda f: setattr(f.check, "default_window", "daily 11:00-12:00"), d.OUTSIDE_WINDOW),
    (lambda f: m.CallListEntry.update(state="done").execute(), d.NOTHING_DUE),
    (lambda f: setattr(f.ami, "connected", False), d.NO_ASTERISK),
])
def test_a_campaign_that_cannot_dial_says_why_and_places_nothing(floor, change, status):
    f = floor
    change(f)
    assert f.dialer.tick() == 0 and not originated(f)
    assert f.campaigns.figures(f.campaign.id)["dialer"]["status"] == status


def test_a_refusal_is_an_attempt_refused_and_a_pool_used_up_holds_dialling_with_nothing_lost(floor):
    f = floor
    m.DncNumber.create(number="+8613912340000", number_key=numbers.key("+8613912340000"), reason="asked", added_by="t",
                       source="manual", created_at=T0)
    set_campaign(f, callerid_pool="sales")
    m.CallerIdNumber.create(pool="sales", number="02160000001", per_hour=1, per_day=100, active=True)
    # the first number is on the do-not-call list, passed over; the second uses the pool, the third finds it used
    assert f.dialer.tick() == 1
    refused = attempts(f, result="refused")
    assert [(a.number, a.note) for a in refused] == [("+8613912340000", "dnc"), ("+8613912340002", "callerid_pool")]
    assert (entry(refused[0]).state, entry(refused[0]).last_result) == ("done", "refused")
    assert "CC_CALLERID=02160000001" in originated(f)[0]["Variable"]
    f.dialer.dialed(str(attempts(f, result="dialling")[0].id), "NOANSWER")
    held = refused[1]
    assert held.note == "callerid_pool"
    assert (entry(held).state, entry(held).attempts) == ("pending", 0)  # as it was: no attempt used
    assert f.campaigns.figures(f.campaign.id)["dialer"]["status"] == "callerid_pool"
    f.clocks.pass_(30)
    assert f.dialer.tick() == 0 and len(originated(f)) == 1
    f.clocks.pass_(3600)  # an hour on, the pool's number presents once more (the retry due first), then holds
    assert f.dialer.tick() == 1 and (entry(held).state, entry(held).attempts) == ("pending", 0)


def test_asterisk_gone_mid_campaign_settles_the_open_attempts_and_dials_none_twice(floor):
    f = floor
    f.dialer.tick()
    a1, a2 = attempts(f)
    f.dialer.connect(str(a1.id))  # 1001 took the first; the second still rings
    f.live.calls.clear()  # Asterisk restarted: none of them is up
    assert f.dialer.reconcile() == 0  # too young to judge
    f.clocks.pass_(d.GRACE_SECONDS + 1)
    assert f.dialer.reconcile() == 2
    a1, a2 = attempts(f)
    assert (a1.result, a1.ended_at) == ("answered", f.clocks.utc)  # put through: the agent has its disposition
    assert (a2.result, entry(a2).state) == ("failed", "pending")
    assert entry(a2).next_attempt_at == f.clocks.utc + dt.timedelta(minutes=30)
    f.dialer.tick()
    f.dialer.tick()
    by_entry = {}
    for a in attempts(f):
        by_entry.setdefault(a.entry_id, []).append(a)
    assert all(sum(1 for a in tries if a.ended_at is None) <= 1 for tries in by_entry.values())
    assert len(by_entry[a2.entry_id]) == 1  # not again before its retry time
    assert f.dialer.reconcile() == 0


def test_originate_refused_by_asterisk_fails_the_attempt_and_keeps_the_entry(floor):
    f = floor
    f.ami.fail = True
    assert f.dialer.tick() == 0
    [a] = attempts(f)
    assert (a.result, a.note, entry(a).state) == ("failed", "Originate failed", "pending")


def test_predictive_dials_by_the_measured_answer_rate_steers_by_its_abandons_and_times_its_decisions(floor):
    f = floor
    set_campaign(f, mode="predictive")
    row = m.Campaign.get_by_id(f.campaign.id)
    assert f.dialer.decide(row).lines == 2  # nothing measured yet: one line per free agent
    f.clocks.pass_(d.ADAPT_SECONDS)
    for i in range(40):  # 40 calls ended in the window, 12 answered (30 %)
        e = m.CallListEntry.create(call_list=f.list, number=f"+8613800000{i:03d}", number_key=f"13800000{i:03d}",
                                   state="done")
        m.CampaignAttempt.create(campaign=row, entry=e, agent="1001", number=e.number, started_at=T0,
                                 answered_at=T0 + dt.timedelta(seconds=15) if i < 12 else None,
                                 ended_at=T0 + dt.timedelta(seconds=100), result="answered" if i < 12 else "busy")
    assert f.dialer.window(row).answer_rate == pytest.approx(0.3)
    decision = f.dialer.decide(row)
    assert (decision.lines, decision.level) == (3, 1.5)  # what a 3 % target allows two free agents
    # abandons over the target: the budget is cut, and with it the lines
    for attempt in list(m.CampaignAttempt.select().where(m.CampaignAttempt.result == "answered"))[:4]:
        attempt.result = "abandoned"
        attempt.save()
    f.clocks.pass_(d.ADAPT_SECONDS)
    decision = f.dialer.decide(row)
    assert f.dialer.paces[row.id].factor < 1.0 and decision.lines == 2
    assert f.dialer.tick() == 2
    assert f.dialer.latencies and max(f.dialer.latencies) < 0.5


def test_the_fastagi_dialer_script_reports_and_names_the_agent(floor):
    from types import SimpleNamespace

    from appliance.agi.handlers import dialer as dialer_agi

    f = floor
    handler = dialer_agi.make_handler(f.dialer)

    class Session:
        def __init__(self):
            self.variables = {}

        def set_variable(self, name, value):
            self.variables[name] = value

    f.dialer.tick()
    a1, a2 = attempts(f)
    session = Session()
    handler(session, SimpleNamespace(args=["connect", str(a1.id)]))
    assert session.variables == {v.CAMPAIGN_AGENT: "1001"}
    handler(session := Session(), SimpleNamespace(args=["dialed", str(a2.id), "BUSY"]))
    assert session.variables == {} and attempts(f)[1].result == "busy"
    handler(session, SimpleNamespace(args=["connect", "no-such"]))  # nothing of ours: no agent, the sentence
    handler(session, SimpleNamespace(args=[]))
    assert session.variables == {}
