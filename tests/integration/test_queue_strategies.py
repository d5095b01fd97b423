"""How a queue spreads its calls over agents on real Asterisk, for every strategy we offer
(appliance/confgen/queues.py STRATEGIES: ringall, leastrecent, fewestcalls, random, rrmemory,
linear, wrandom).

One appliance serves the module: the trunk, DID 88001000 and agents 1001-1003. Each test makes
a queue of its own and points the DID at it (app_queue takes no change to or from linear on
a reload, and what a queue remembers of who answered last is its own), registers the phones it
needs, and leaves every agent signed out and no call behind it.
"""

from __future__ import annotations

import collections
import socket

import pytest

from appliance.db.models import CallRecord
from appliance.engine.live import FREE, IN_CALL, PAUSED, RINGING
from harness import TRUNK_IP, Phone, Sipp, free_port, left_idle, sip_address, trunk_call, wait_until
from test_engine_queues import agent_state, record_for, sign_in

pytestmark = pytest.mark.asterisk

AGENTS = ("1001", "1002", "1003")


@pytest.fixture(scope="module")
def office(basic_appliance):
    app = basic_appliance
    cfg = app.config
    for ext in AGENTS[1:]:
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-secret"}, actor="test")
        cfg.create("agents", {"number": ext, "name": f"Agent {ext}", "phone": ext}, actor="test")
    cfg.remove_member("sales", "1001", actor="test")  # each test's queue has the members it names
    return app


@pytest.fixture
def app(office):
    """The module's appliance; afterwards every agent signed out and no call left."""
    yield office
    left_idle(office)


@pytest.fixture
def answering(app, tmp_path):
    """``answering(agents, calls)``: the ``agents``' phones registered, each answering at once,
    ``calls`` calls in all; stopped after the test."""
    phones = []

    def start(agents, calls):
        for ext in agents:
            phones.append(Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", ring_ms=0,
                                calls=calls).start())

    yield start
    for phone in phones:
        phone.stop()


def queue_of(app, strategy, agents, penalties=None, name=None):
    """A queue of the test's own (``name``, by default ``q-<strategy>``) with ``strategy``
    and ``agents`` as members (1001 first, at penalty 0; ``penalties``: agent -> member
    penalty for the others), the DID leading to it; nobody signed in yet."""
    cfg = app.config
    name = name or f"q-{strategy}"
    cfg.create("queues", {"name": name, "strategy": strategy, "ring_timeout": 15, "retry": 1}, actor="test")
    penalties = penalties or {}
    for ext in agents:
        cfg.add_member(name, ext, penalties.get(ext, 0), actor="test")
    cfg.update("dids", "88001000", {"queue": name}, actor="test")
    return app


@pytest.mark.parametrize("strategy", ["leastrecent", "rrmemory"])
def test_twelve_calls_spread_evenly_over_three_agents(app, tmp_path, answering, strategy):
    agents = list(AGENTS)
    queue = f"spread-{strategy}"
    queue_of(app, strategy, agents, name=queue)
    answering(agents, calls=12)
    for ext in agents:
        app.agents.login(ext)
    wait_until(lambda: all(agent_state(app, a) == FREE for a in agents), 10, "agents free")
    # One call at a time (-l 1), so each strategy's choice is exact, not a race.
    # app_queue keeps an agent's last call in whole seconds: leastrecent needs calls
    # that end more than a second apart, or it sees ties.
    hold_ms = 1100 if strategy == "leastrecent" else 300
    calls = Sipp("trunk_call.xml", TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP), sip_address(app),
                 {"caller": "13800000020", "caller_name": "Load"}, tmp_path / "sipp", calls=12, rate=10,
                 limit=1, service="88001000", timeout_s=300, extra_args=("-d", str(hold_ms)))
    assert calls.run(300) == 0, calls.errors()
    wait_until(lambda: CallRecord.select().where(CallRecord.queue == queue).count() == 12, 20, "12 call records")
    order = [r.agent for r in CallRecord.select().where(CallRecord.queue == queue).order_by(CallRecord.enter_time)]
    spread = collections.Counter(order)
    assert spread == {"1001": 4, "1002": 4, "1003": 4}, " ".join(order)


def calls_one_at_a_time(app, tmp_path, n, caller, hold_ms=300, agents=()):
    """``n`` calls, each once the last has ended and (given ``agents``) none of them is still
    ringing or talking as Asterisk sees it, so each choice is exact, not a race (a loaded
    machine once had linear skip an agent whose last call Asterisk had not yet seen end);
    the agents who answered them, in order. Each caller stays ``hold_ms`` after the answer
    (the queue's, before an agent is rung): 100 ms once left a call without an agent on a
    loaded machine, the caller gone before the agent's phone answered."""
    before = CallRecord.select().count()
    for i in range(n):
        call = Sipp("trunk_call.xml", TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP), sip_address(app),
                    {"caller": caller, "caller_name": "Load"}, tmp_path / "sipp", calls=1,
                    service="88001000", timeout_s=60, extra_args=("-d", str(hold_ms)))
        assert call.run(60) == 0, call.errors()
        wait_until(lambda: CallRecord.select().count() == before + i + 1, 20, f"call record {i + 1} of {n}")
        wait_until(lambda: all(agent_state(app, a) not in (RINGING, IN_CALL) for a in agents), 20,
                   "the agents free of the last call")
    return [r.agent for r in CallRecord.select().where(CallRecord.caller == caller).order_by(CallRecord.enter_time)]


def test_ringall_rings_every_free_agent_at_once(app, tmp_path):
    agents = ["1001", "1002", "1003"]
    queue_of(app, "ringall", agents)
    phones = [Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp", ring_ms=1500).start()]
    phones += [Phone(ext, f"pw-{ext}-secret", sip_address(app), tmp_path / "sipp", scenario="agent_phone_noanswer.xml")
               .start() for ext in agents[1:]]
    try:
        sign_in(app, agents)
        call = trunk_call(sip_address(app), "88001000", "13800000031", tmp_path / "sipp", hold_ms=4000).start()
        wait_until(lambda: all(agent_state(app, a) == RINGING for a in agents), 10, "all three phones ringing")
        assert call.wait(30) == 0, call.errors()  # 1001 picked up; the others were cancelled
    finally:
        for phone in phones:
            phone.stop()
    rec = record_for("13800000031")
    assert (rec.agent, rec.disposition) == ("1001", "answered")


def test_linear_gives_every_call_to_the_first_free_agent_in_member_order(app, tmp_path, answering):
    agents = ["1001", "1002", "1003"]
    queue_of(app, "linear", agents)
    answering(agents, calls=4)
    sign_in(app, agents)
    assert calls_one_at_a_time(app, tmp_path, 3, "13800000032", agents=agents) == ["1001"] * 3
    app.agents.pause("1001", "lunch")
    wait_until(lambda: agent_state(app, "1001") == PAUSED, 10, "1001 paused")
    assert calls_one_at_a_time(app, tmp_path, 2, "13800000033", agents=agents) == ["1002"] * 2  # next in order


def test_fewestcalls_gives_the_next_call_to_the_agent_with_fewest_answered(app, tmp_path, answering):
    agents = ["1001", "1002"]
    queue_of(app, "fewestcalls", agents)
    answering(agents, calls=5)
    sign_in(app, agents[:1])
    assert calls_one_at_a_time(app, tmp_path, 3, "13800000034", agents=agents) == ["1001"] * 3
    sign_in(app, agents[1:])
    # 1002 has answered 0, 1, 2 calls against 1001's 3: fewest every time (rrmemory or
    # leastrecent would alternate)
    assert calls_one_at_a_time(app, tmp_path, 3, "13800000035", agents=agents) == ["1002"] * 3


def test_random_gives_each_agent_some_calls(app, tmp_path, answering):
    agents = ["1001", "1002"]
    queue_of(app, "random", agents)
    answering(agents, calls=12)
    sign_in(app, agents)
    order = calls_one_at_a_time(app, tmp_path, 12, "13800000036", agents=agents)
    # a fair coin leaves one agent without any of 12 calls once in 2048 runs
    assert set(order) == set(agents), " ".join(order)


def test_wrandom_weights_the_choice_by_member_penalty(app, tmp_path, answering):
    """app_queue's wrandom draws each member a number below (1 + penalty) * 1000 and rings the
    lowest: against penalty 0, a member with penalty 49 wins one draw in 100."""
    agents = ["1001", "1002"]
    queue_of(app, "wrandom", agents, penalties={"1002": 49})
    answering(agents, calls=16)
    sign_in(app, agents)
    order = calls_one_at_a_time(app, tmp_path, 16, "13800000037", agents=agents)
    # weighted 99:1, 1001 takes fewer than 13 of 16 once in 60,000 runs; an unweighted
    # random choice would give it 13 or more once in 94
    assert collections.Counter(order)["1001"] >= 13, " ".join(order)
