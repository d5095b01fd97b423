"""The live state machine, fed the AMI events Asterisk 22 sends for a queue call."""

from __future__ import annotations

from appliance.engine.live import FREE, IN_CALL, RINGING, UNAVAILABLE, LiveState, Publish, WriteCallRecord

CALLER_CHAN = "PJSIP/trunk-pstn-00000001"
AGENT_CHAN = "PJSIP/1001-00000002"
LID = "1700000000.1"


def ev(name, ts, **headers):
    return {"Event": name, "Timestamp": f"{ts:.6f}", **headers}


def member_added(ts=99.0, status="1"):
    return ev("QueueMemberAdded", ts, Queue="sales", MemberName="1001", Interface="PJSIP/1001",
              StateInterface="PJSIP/1001", Status=status, Paused="0")


def queue_call(answer=True):
    """An inbound call: arrives at 100, joins the queue, agent rings at 100.5, answers at 102, hangup at 108."""
    events = [
        ev("Newchannel", 100.0, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID, CallerIDNum="13912345678",
           CallerIDName="<unknown>", Exten="88001000", Context="cc-from-trunk"),
        ev("QueueCallerJoin", 100.2, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID, Queue="sales", Position="1"),
        ev("Newchannel", 100.5, Channel=AGENT_CHAN, Uniqueid="1700000000.2", Linkedid=LID, Exten="s",
           Context="cc-from-phone"),
        ev("AgentCalled", 100.5, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID, Queue="sales",
           MemberName="1001", Interface="PJSIP/1001", DestChannel=AGENT_CHAN),
    ]
    if answer:
        events += [
            ev("AgentConnect", 102.0, Uniqueid=LID, Linkedid=LID, Queue="sales", MemberName="1001",
               Interface="PJSIP/1001", HoldTime="2", DestChannel=AGENT_CHAN),
            ev("QueueCallerLeave", 102.0, Uniqueid=LID, Linkedid=LID, Queue="sales"),
            ev("Hangup", 108.0, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID, Cause="16"),
            ev("AgentComplete", 108.0, Uniqueid=LID, Linkedid=LID, Queue="sales", MemberName="1001",
               Interface="PJSIP/1001", TalkTime="6", Reason="caller"),
            ev("Hangup", 108.0, Channel=AGENT_CHAN, Uniqueid="1700000000.2", Linkedid=LID, Cause="16"),
        ]
    return events


def run(state, events):
    commands = []
    for e in events:
        commands += state.apply(e, now=0.0)
    return commands


def records(commands):
    return [c.record for c in commands if isinstance(c, WriteCallRecord)]


def test_answered_queue_call_makes_one_record_with_wait_and_talk():
    state = LiveState()
    run(state, [member_added()])
    (rec,) = records(run(state, queue_call()))
    assert rec["linkedid"] == LID
    assert (rec["caller"], rec["caller_name"], rec["did"], rec["trunk"]) == ("13912345678", "", "88001000", "pstn")
    assert (rec["queue"], rec["agent"], rec["disposition"]) == ("sales", "1001", "answered")
    assert rec["wait_seconds"] == 2.0 and rec["talk_seconds"] == 6.0
    assert rec["hangup_cause"] == 16
    assert state.calls == {}


def test_agent_goes_ringing_in_call_free():
    state = LiveState()
    run(state, [member_added()])
    run(state, queue_call())
    assert [s for _, s in state.agents["1001"].history] == [FREE, RINGING, IN_CALL, FREE]


def test_fallback_user_event_sets_disposition_and_reason():
    state = LiveState()
    events = queue_call(answer=False)[:2] + [
        ev("UserEvent", 100.3, UserEvent="CcFallback", Uniqueid=LID, Linkedid=LID, Reason="queue-joinempty",
           Queue="sales"),
        ev("Hangup", 104.0, Uniqueid=LID, Linkedid=LID, Cause="16"),
    ]
    (rec,) = records(run(state, events))
    assert (rec["disposition"], rec["fallback_reason"], rec["agent"]) == ("fallback", "queue-joinempty", "")
    assert rec["queue"] == "sales"  # refused at the door, yet the record says which queue
    assert rec["wait_seconds"] == 4.0 and rec["talk_seconds"] == 0.0


def queue_figures(commands):
    """The last ``queue`` change published for each queue: (waiting, longest_wait)."""
    return {c.data["name"]: (c.data["waiting"], c.data["longest_wait"]) for c in commands
            if isinstance(c, Publish) and c.topic == "queue"}


def test_caller_refused_by_a_queue_with_every_agent_paused_is_the_queues_call():
    """Join-empty: app_queue never lets the caller join (no QueueCallerJoin); the dialplan's
    CcQueueExit names the queue before the caller goes on to the queue's voicemail."""
    state = LiveState()
    events = queue_call(answer=False)[:1] + [
        ev("UserEvent", 100.3, UserEvent="CcQueueExit", Uniqueid=LID, Linkedid=LID, Queue="sales",
           Status="JOINEMPTY"),
    ]
    run(state, events)
    (call,) = state.snapshot(101.0)["calls"]
    assert (call["queue"], call["state"], call["waiting"]) == ("sales", "no_agent", False)
    assert state.snapshot(101.0)["queues"] == [{"name": "sales", "waiting": 0, "longest_wait": 0.0, "members": []}]
    (rec,) = records(run(state, [ev("Hangup", 130.0, Uniqueid=LID, Linkedid=LID, Cause="16")]))
    assert (rec["queue"], rec["disposition"], rec["fallback_reason"]) == ("sales", "fallback", "queue-joinempty")
    assert rec["answer_time"] is None


def test_a_caller_ringing_an_agent_is_still_waiting_and_the_longest_wait_is_theirs():
    state = LiveState()
    run(state, [member_added()])
    commands = run(state, queue_call(answer=False))  # joined, then the agent's phone rings
    assert queue_figures(commands) == {"sales": (1, 0.2)}
    snap = state.snapshot(107.0)
    (call,) = snap["calls"]
    assert (call["state"], call["waiting"]) == ("ringing", True)
    assert (snap["queues"][0]["waiting"], snap["queues"][0]["longest_wait"]) == (1, 7.0) == (1, call["wait_seconds"])
    commands = run(state, [ev("AgentConnect", 108.0, Uniqueid=LID, Linkedid=LID, Queue="sales", MemberName="1001",
                              Interface="PJSIP/1001", HoldTime="8", DestChannel=AGENT_CHAN)])
    assert queue_figures(commands) == {"sales": (0, 0.0)}  # answered: no longer waiting, at once


def test_a_caller_offered_to_one_agent_first_waits_under_the_queue_routing_chose():
    state = LiveState()
    events = queue_call(answer=False)[:1] + [
        ev("UserEvent", 100.1, UserEvent="CcRoute", Uniqueid=LID, Linkedid=LID, Rule="vip", Queue="sales"),
        ev("QueueCallerJoin", 100.2, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID, Queue="cc-agent-1001"),
    ]
    assert queue_figures(run(state, events)) == {"sales": (1, 0.2)}
    assert [(q["name"], q["waiting"]) for q in state.snapshot(105.0)["queues"]] == [("sales", 1)]


def test_caller_hanging_up_while_an_agent_rings_frees_the_agent_without_a_ring_no_answer():
    """Asterisk 22 sends no AgentRingNoAnswer when the caller goes first (seen on the real
    Asterisk): the agent would stay "ringing" on the wallboard for ever."""
    state = LiveState()
    run(state, [member_added()])
    run(state, queue_call(answer=False) + [
        ev("QueueCallerAbandon", 103.0, Uniqueid=LID, Linkedid=LID, Queue="sales"),
        ev("Hangup", 103.0, Uniqueid=LID, Linkedid=LID, Cause="16"),
    ])
    assert state.agents["1001"].state == FREE


def test_caller_hanging_up_in_queue_is_abandoned_and_agent_freed():
    state = LiveState()
    run(state, [member_added()])
    events = queue_call(answer=False) + [
        ev("QueueCallerAbandon", 103.0, Uniqueid=LID, Linkedid=LID, Queue="sales"),
        ev("AgentRingNoAnswer", 103.0, Uniqueid=LID, Linkedid=LID, Queue="sales", MemberName="1001",
           Interface="PJSIP/1001"),
        ev("Hangup", 103.0, Uniqueid=LID, Linkedid=LID, Cause="16"),
    ]
    (rec,) = records(run(state, events))
    assert rec["disposition"] == "abandoned"
    assert state.agents["1001"].state == FREE
    assert state.snapshot(110.0)["queues"][0]["waiting"] == 0


def test_asterisk_lost_mid_call_closes_call_as_interrupted_and_frees_agent():
    state = LiveState()
    run(state, [member_added()])
    run(state, queue_call(answer=True)[:5])  # talking
    assert state.agents["1001"].state == IN_CALL
    (rec,) = records(state.close_calls_not_in(set(), 105.0, "interrupted"))
    assert rec["disposition"] == "interrupted"
    assert rec["talk_seconds"] == 3.0
    assert state.agents["1001"].state == FREE
    assert state.calls == {}


def test_calls_still_in_asterisk_are_kept_after_reconnect():
    state = LiveState()
    run(state, queue_call(answer=False)[:2])
    assert records(state.close_calls_not_in({LID}, 105.0, "interrupted")) == []
    assert LID in state.calls


def test_unregistered_phone_makes_member_unavailable():
    state = LiveState()
    run(state, [member_added(status="5")])
    assert state.agents["1001"].state == UNAVAILABLE
    run(state, [ev("QueueMemberStatus", 101.0, Queue="sales", MemberName="1001", Interface="PJSIP/1001",
                   Status="1", Paused="0")])
    assert state.agents["1001"].state == FREE


def test_second_leg_and_unknown_events_change_nothing():
    state = LiveState()
    assert state.apply(ev("Newchannel", 1.0, Uniqueid="2", Linkedid="1", Channel="PJSIP/x-1"), 0) == []
    assert state.apply(ev("SomethingNew", 1.0), 0) == []
    assert state.apply({"Response": "Success"}, 0) == []
    assert state.calls == {}


def test_every_change_is_published():
    state = LiveState()
    commands = run(state, [member_added()] + queue_call())
    topics = [c.topic for c in commands if isinstance(c, Publish)]
    assert {"call", "agent", "queue"} <= set(topics)


def test_bad_timestamp_falls_back_to_now():
    state = LiveState()
    state.apply({"Event": "Newchannel", "Timestamp": "garbage", "Uniqueid": "9", "Linkedid": "9",
                 "Channel": "PJSIP/trunk-a-1", "Context": "cc-from-trunk"}, now=42.0)
    assert state.calls["9"].enter_time == 42.0


def test_snapshot_lists_queues_agents_calls():
    state = LiveState()
    run(state, [member_added()] + queue_call(answer=False)[:2])
    snap = state.snapshot(now=110.0)
    assert snap["queues"][0]["name"] == "sales" and snap["queues"][0]["waiting"] == 1
    assert snap["queues"][0]["longest_wait"] == 10.0 == snap["calls"][0]["wait_seconds"]
    assert snap["agents"][0]["name"] == "1001"
    assert snap["calls"][0]["caller"] == "13912345678"


# -- wrap-up, pause reasons, auto-pause, state history --------------------------------
from appliance.engine.live import (  # noqa: E402
    PAUSED,
    WRAPUP,
    AgentStateChanged,
    PauseAgent,
    QueuePolicy,
)


def test_wrapup_follows_the_call_then_tick_frees_the_agent():
    state = LiveState()
    state.set_policies({"sales": QueuePolicy(wrapup_seconds=10)})
    run(state, [member_added()])
    run(state, queue_call())
    assert state.agents["1001"].state == WRAPUP
    # the phone going idle during wrap-up does not end it
    run(state, [ev("QueueMemberStatus", 109.0, Queue="sales", MemberName="1001", Interface="PJSIP/1001",
                   Status="1", Paused="0")])
    assert state.agents["1001"].state == WRAPUP
    assert state.tick(117.9) == []
    changed = [c for c in state.tick(118.0) if isinstance(c, AgentStateChanged)]
    assert changed == [AgentStateChanged("1001", FREE, "", 118.0)]


def test_pause_reason_is_kept_and_recorded():
    state = LiveState()
    run(state, [member_added()])
    commands = run(state, [ev("QueueMemberPause", 101.0, Queue="sales", MemberName="1001", Interface="PJSIP/1001",
                              Status="1", Paused="1", PausedReason="lunch")])
    assert AgentStateChanged("1001", PAUSED, "lunch", 101.0) in commands
    assert state.snapshot(102.0)["agents"][0]["pause_reason"] == "lunch"
    # a new reason while paused is a new history row
    commands = run(state, [ev("QueueMemberPause", 103.0, Queue="sales", MemberName="1001", Interface="PJSIP/1001",
                              Status="1", Paused="1", PausedReason="meeting")])
    assert AgentStateChanged("1001", PAUSED, "meeting", 103.0) in commands
    commands = run(state, [ev("QueueMemberPause", 104.0, Queue="sales", MemberName="1001", Interface="PJSIP/1001",
                              Status="1", Paused="0")])
    assert AgentStateChanged("1001", FREE, "", 104.0) in commands


def ring_no_answer(ts):
    return ev("AgentRingNoAnswer", ts, Uniqueid=LID, Linkedid=LID, Queue="sales", MemberName="1001",
              Interface="PJSIP/1001", RingTime="15")


def test_auto_pause_after_n_missed_calls_in_a_row():
    state = LiveState()
    state.set_policies({"sales": QueuePolicy(autopause_after=3)})
    run(state, [member_added()])
    assert not [c for c in run(state, [ring_no_answer(100), ring_no_answer(120)]) if isinstance(c, PauseAgent)]
    # an answered call in between starts the count again
    run(state, queue_call())
    assert not [c for c in run(state, [ring_no_answer(130), ring_no_answer(150)]) if isinstance(c, PauseAgent)]
    assert PauseAgent("1001", "missed-calls") in run(state, [ring_no_answer(170)])


def test_auto_pause_off_when_zero():
    state = LiveState()
    state.set_policies({"sales": QueuePolicy(autopause_after=0)})
    run(state, [member_added()])
    assert not [c for c in run(state, [ring_no_answer(100 + i) for i in range(10)]) if isinstance(c, PauseAgent)]


def test_agent_leg_hanging_up_while_the_call_goes_on_frees_the_agent():
    state = LiveState()
    run(state, [member_added()])
    run(state, queue_call()[:5])  # answered at 102, still going
    assert state.agents["1001"].state == IN_CALL
    # the caller is moved elsewhere (transfer, intercept); the agent's leg ends
    commands = run(state, [ev("Hangup", 103.0, Channel=AGENT_CHAN, Uniqueid="1700000000.2", Linkedid=LID,
                              Cause="16")])
    assert state.agents["1001"].state == FREE and LID in state.calls
    assert not records(commands)  # the call itself goes on


BOB_CHAN = "PJSIP/1002-00000003"


def control(ts, state, channel=CALLER_CHAN, uid=LID):
    return ev("UserEvent", ts, UserEvent="CcCallControl", State=state, Channel=channel, Uniqueid=uid, Linkedid=LID)


def test_a_held_call_keeps_its_agent_until_it_ends():
    state = LiveState()
    run(state, [member_added()])
    run(state, queue_call()[:5])  # answered at 102
    state.take_control(LID)
    run(state, [control(103.0, "held"),  # app_queue lets go of the call when its legs move: not the agent
                ev("AgentComplete", 103.0, Uniqueid=LID, Linkedid=LID, Queue="sales", MemberName="1001",
                   Interface="PJSIP/1001", Reason="transfer")])
    assert state.calls[LID].state == "held" and state.agents["1001"].state == IN_CALL
    run(state, [ev("BridgeEnter", 105.0, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID)])  # unhold
    assert state.calls[LID].state == "talking"
    (rec,) = records(run(state, [ev("Hangup", 110.0, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID,
                                    Cause="16")]))
    assert (rec["agent"], rec["talk_seconds"]) == ("1001", 8.0)
    assert state.agents["1001"].state == FREE  # the call ended: the agent is free, whatever app_queue said


def consult(state, answer=True):
    run(state, [member_added(), dict(member_added(), MemberName="1002", Interface="PJSIP/1002")])
    run(state, queue_call()[:5])
    state.take_control(LID)
    state.consulting(LID, "1002")
    events = [control(103.0, "consulting", AGENT_CHAN, "1700000000.2"), control(103.1, "held"),
              ev("DialBegin", 103.2, Channel=AGENT_CHAN, Uniqueid="1700000000.2", Linkedid=LID,
                 Context="cc-consult", DestChannel=BOB_CHAN)]
    if answer:
        events.append(ev("DialEnd", 104.0, Channel=AGENT_CHAN, Uniqueid="1700000000.2", Linkedid=LID,
                         DestChannel=BOB_CHAN, DialStatus="ANSWER"))
    return run(state, events)


def test_consulting_an_agent_rings_then_connects_them():
    state = LiveState()
    consult(state, answer=False)
    call = state.calls[LID]
    # the customer's leg reached the music after the agent's began to call: still consulting
    assert (call.state, call.consult_channel) == ("consulting", BOB_CHAN)
    assert state.agents["1002"].state == RINGING
    run(state, [ev("DialEnd", 104.0, Channel=AGENT_CHAN, Linkedid=LID, DestChannel=BOB_CHAN, DialStatus="ANSWER")])
    assert state.agents["1002"].state == IN_CALL and call.consult_answered


def test_consulted_agent_not_answering_is_free_again():
    state = LiveState()
    consult(state, answer=False)
    run(state, [ev("DialEnd", 120.0, Channel=AGENT_CHAN, Linkedid=LID, DestChannel=BOB_CHAN, DialStatus="NOANSWER"),
                control(120.1, "resumed", AGENT_CHAN, "1700000000.2")])
    assert state.agents["1002"].state == FREE and state.calls[LID].state == "talking"
    assert state.agents["1001"].state == IN_CALL


def test_attended_transfer_moves_the_call_to_the_consulted_agent():
    state = LiveState()
    consult(state)
    commands = state.transferred(LID, 105.0)
    assert any(isinstance(c, Publish) and c.data["event"] == "transferred" for c in commands)
    run(state, [ev("Hangup", 105.5, Channel=AGENT_CHAN, Uniqueid="1700000000.2", Linkedid=LID, Cause="16")])
    assert state.agents["1001"].state == FREE and state.agents["1002"].state == IN_CALL
    (rec,) = records(run(state, [ev("Hangup", 110.0, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID,
                                    Cause="16")]))
    assert rec["agent"] == "1002"
    assert state.agents["1002"].state == FREE


def test_a_shift_in_agentlogin_is_no_call_and_its_end_signs_the_agent_out():
    from appliance.engine.live import EndShift

    state = LiveState()
    shift = [ev("Newchannel", 50.0, Channel="PJSIP/1001-00000001", Uniqueid="9.1", Linkedid="9.1",
                CallerIDNum="1001", Exten="*25", Context="cc-from-phone"),
             ev("AgentLogin", 51.0, Channel="PJSIP/1001-00000001", Uniqueid="9.1", Linkedid="9.1", Agent="1001")]
    commands = run(state, shift)
    assert state.calls == {} and not records(commands)
    assert [c.data.get("shift") for c in commands if isinstance(c, Publish) and c.topic == "call"] == [None, "1001"]
    end = [ev("AgentLogoff", 90.0, Agent="1001", Logintime="39"),
           ev("Hangup", 90.0, Channel="PJSIP/1001-00000001", Uniqueid="9.1", Linkedid="9.1", Cause="16")]
    commands = run(state, end)
    assert EndShift("1001") in commands and not records(commands)


def test_blind_transfer_out_to_a_number_leaves_the_agent_free():
    state = LiveState()
    run(state, [member_added()])
    run(state, queue_call()[:5])  # answered at 102
    out = [ev("Hangup", 103.0, Channel=AGENT_CHAN, Uniqueid="1700000000.2", Linkedid=LID, Cause="16"),
           ev("UserEvent", 103.1, UserEvent="CcOutbound", Agent="", Number="02160001234", Channel=CALLER_CHAN,
              Uniqueid=LID, Linkedid=LID),
           ev("DialEnd", 105.0, Uniqueid=LID, Linkedid=LID, DestChannel="PJSIP/trunk-pstn-00000009",
              DialStatus="ANSWER")]
    run(state, out)
    assert state.agents["1001"].state == FREE
    assert state.calls[LID].state == "talking" and state.calls[LID].transferred_out == "02160001234"
    (rec,) = records(run(state, [ev("Hangup", 120.0, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID, Cause="16")]))
    assert (rec["agent"], rec["disposition"]) == ("1001", "answered")
    assert state.agents["1001"].state == FREE


def test_blind_transfer_to_a_number_that_fails_says_why_in_the_record():
    state = LiveState()
    run(state, [member_added()])
    run(state, queue_call()[:5])
    run(state, [ev("Hangup", 103.0, Channel=AGENT_CHAN, Uniqueid="1700000000.2", Linkedid=LID, Cause="16"),
                ev("UserEvent", 103.1, UserEvent="CcOutbound", Agent="", Number="999", Channel=CALLER_CHAN,
                   Uniqueid=LID, Linkedid=LID),
                ev("DialEnd", 103.5, Uniqueid=LID, Linkedid=LID, DestChannel="PJSIP/trunk-pstn-0000000a",
                   DialStatus="CHANUNAVAIL")])
    (rec,) = records(run(state, [ev("Hangup", 107.0, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID, Cause="1")]))
    assert rec["fallback_reason"] == "transfer-chanunavail" and state.agents["1001"].state == FREE


def test_a_ringing_call_names_the_agents_it_is_offered_to_until_one_answers():
    """The screen pop lets an agent see the caller of a call offered to them (issue 13):
    the snapshot says which agents a call is ringing now."""
    state = LiveState()
    run(state, [member_added()])
    events = queue_call()
    run(state, events[:4])  # ringing 1001
    (call,) = state.snapshot(101.0)["calls"]
    assert call["ringing_agents"] == ["1001"] and call["agent"] == ""
    run(state, [ring_no_answer(115.5)])
    assert state.snapshot(116.0)["calls"][0]["ringing_agents"] == []
    run(state, [ev("AgentCalled", 116.0, Channel=CALLER_CHAN, Uniqueid=LID, Linkedid=LID, Queue="sales",
                   MemberName="1001", Interface="PJSIP/1001", DestChannel=AGENT_CHAN)])
    run(state, events[4:6])  # answered
    (call,) = state.snapshot(103.0)["calls"]
    assert call["ringing_agents"] == [] and call["agent"] == "1001"


def held_pause(ts, paused=True, reason="awaiting-disposition"):
    """app_queue's answer to the adapter's QueuePause (one event per queue of the agent)."""
    return ev("QueueMemberPause", ts, Queue="sales", MemberName="1001", Interface="PJSIP/1001",
              StateInterface="PJSIP/1001", Status="2", Paused="1" if paused else "0",
              PausedReason=reason if paused else "")


def test_a_queue_that_requires_a_disposition_holds_the_agent_in_wrapup_until_it_is_saved():
    from appliance.engine.live import WRAPUP, HoldForDisposition, QueuePolicy

    state = LiveState()
    state.set_policies({"sales": QueuePolicy(disposition_required=True)})
    run(state, [member_added()])
    events = queue_call()
    connect = next(i for i, e in enumerate(events) if e["Event"] == "AgentConnect")
    commands = run(state, events[:connect + 1])
    assert HoldForDisposition("1001", LID) in commands  # paused while talking: nothing offered after
    run(state, [held_pause(103.0)] + events[connect + 1:])
    agent = state.snapshot(110.0)["agents"][0]
    assert (agent["state"], agent["awaiting_disposition"], agent["disposition_call"]) == (WRAPUP, True, LID)
    assert agent["pause_reason"] == ""  # not a pause of their own: no reason to show
    assert state.tick(10_000.0) == []  # no wrap-up time runs it out
    assert not state.disposition_saved("1001", "1699999999.9")  # another call's outcome does not release
    assert state.disposition_saved("1001", LID)
    run(state, [held_pause(120.0, paused=False)])
    assert state.agents["1001"].state == FREE


def test_a_call_for_a_queue_that_requires_a_disposition_holds_its_agent_when_offered_to_them_first():
    """Sticky agent / VIP: the call rings its one agent through a personal queue first; the
    policy is that of the queue the call is for (the route's)."""
    from appliance.engine.live import HoldForDisposition, QueuePolicy

    state = LiveState()
    state.set_policies({"sales": QueuePolicy(disposition_required=True)})
    run(state, [member_added()])
    personal = [{**e, "Queue": "cc-agent-1001"} if e.get("Queue") == "sales" else e for e in queue_call()]
    routed = ev("UserEvent", 100.1, UserEvent="CcRoute", Uniqueid=LID, Linkedid=LID, Rule="vip", Queue="sales")
    commands = run(state, personal[:1] + [routed] + personal[1:])
    assert HoldForDisposition("1001", LID) in commands


def test_a_queue_without_the_requirement_holds_nobody():
    from appliance.engine.live import HoldForDisposition

    state = LiveState()
    run(state, [member_added()])
    assert not [c for c in run(state, queue_call()) if isinstance(c, HoldForDisposition)]
    assert state.agents["1001"].state == FREE
    assert not state.disposition_saved("1001", LID)


def test_an_agent_who_paused_themselves_is_not_released_by_the_disposition():
    from appliance.engine.live import PAUSED, QueuePolicy

    state = LiveState()
    state.set_policies({"sales": QueuePolicy(disposition_required=True)})
    run(state, [member_added()] + queue_call() + [held_pause(109.0, reason="lunch")])
    assert state.agents["1001"].state == PAUSED
    assert not state.disposition_saved("1001", LID)


def desk_phone_call_out(*dial_ends):
    """Phone 1001 keys 01062345678; the dialplan tries the trunks in order (one DialEnd each)."""
    phone, lid = "PJSIP/1001-00000010", "1700000010.1"
    events = [ev("Newchannel", 200.0, Channel=phone, Uniqueid=lid, Linkedid=lid, CallerIDNum="1001",
                 Exten="01062345678", Context="cc-from-phone"),
              ev("UserEvent", 200.5, UserEvent="CcOutbound", Agent="1001", Number="01062345678", Channel=phone,
                 Uniqueid=lid, Linkedid=lid)]
    events += [ev("DialEnd", 201.0 + i, Channel=phone, Uniqueid=lid, Linkedid=lid,
                  DestChannel=f"PJSIP/trunk-{trunk}-0000001{i}", DialStatus=status)
               for i, (trunk, status) in enumerate(dial_ends)]
    events.append(ev("Hangup", 230.0, Channel=phone, Uniqueid=lid, Linkedid=lid, Cause="16"))
    return events


def test_an_outgoing_call_records_the_trunk_that_carried_it_after_failover():
    (rec,) = records(run(LiveState(), desk_phone_call_out(("first", "CONGESTION"), ("second", "ANSWER"))))
    assert (rec["direction"], rec["disposition"], rec["trunk"]) == ("outbound", "answered", "second")


def test_an_outgoing_call_no_trunk_took_records_the_last_trunk_tried():
    (rec,) = records(run(LiveState(), desk_phone_call_out(("first", "CONGESTION"), ("second", "CHANUNAVAIL"))))
    assert (rec["disposition"], rec["fallback_reason"], rec["trunk"]) == ("unanswered", "dial-chanunavail", "second")


def test_a_call_the_appliance_originates_is_an_outgoing_call_of_nobody_s_with_its_trunk():
    """A voice code: Originate of a Local channel whose ;2 leg dials the trunks."""
    local = "Local/13912345678@cc-voicecode-dial-00000000"
    one, two, lid = f"{local};1", f"{local};2", "9.1"
    events = [ev("Newchannel", 300.0, Channel=one, Uniqueid=lid, Linkedid=lid, Context="cc-voicecode-dial",
                 Exten="13912345678"),
              ev("Newchannel", 300.0, Channel=two, Uniqueid="9.2", Linkedid=lid, Context="cc-voicecode-dial",
                 Exten="13912345678"),
              ev("UserEvent", 300.1, UserEvent="CcOutbound", Agent="", Number="13912345678", Channel=two,
                 Uniqueid="9.2", Linkedid=lid),
              ev("DialEnd", 302.0, Channel=two, Uniqueid="9.2", Linkedid=lid, DestChannel="PJSIP/trunk-first-00000009",
                 DialStatus="ANSWER"),
              ev("Hangup", 310.0, Channel=one, Uniqueid=lid, Linkedid=lid, Cause="16")]
    (rec,) = records(run(LiveState(), events))
    assert (rec["direction"], rec["caller"], rec["agent"], rec["disposition"], rec["trunk"]) == (
        "outbound", "13912345678", "", "answered", "first")


def test_a_feature_code_dialled_from_a_phone_is_not_a_call():
    """*21 (sign in) and the like tell the appliance something: no call, no record, nothing live."""
    state = LiveState()
    assert state.apply(ev("Newchannel", 1.0, Channel="PJSIP/1001-00000007", Uniqueid="7.1", Linkedid="7.1",
                          CallerIDNum="1001", Exten="*21", Context="cc-from-phone"), 0) == []
    assert state.calls == {}
    assert state.apply(ev("Hangup", 3.0, Channel="PJSIP/1001-00000007", Uniqueid="7.1", Linkedid="7.1"), 0) == []
    # a colleague's extension dialled from the same phone is a call
    state.apply(ev("Newchannel", 4.0, Channel="PJSIP/1001-00000008", Uniqueid="8.1", Linkedid="8.1",
                   CallerIDNum="1001", Exten="1002", Context="cc-from-phone"), 0)
    assert state.calls["8.1"].direction == "internal"
