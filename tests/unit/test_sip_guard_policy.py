"""The SIP guard's pure policy (engine/sipguard.py) and its adapter over a real SQLite
(services/sipguard.py); Asterisk itself is in tests/integration/test_sip_guard.py."""

from __future__ import annotations

import pytest

from appliance.confgen.from_db import blocked_sources, phone_subnets
from appliance.db import models as m
from appliance.engine import sipguard as g
from appliance.errors import NotFound, ValidationError
from appliance.services.sipguard import SipGuard

# As Asterisk 22 sends them (seen on the test instance).
WRONG = {"Event": "ChallengeResponseFailed", "Privilege": "security,all", "Timestamp": "1000.5",
         "Service": "PJSIP", "AccountID": "1001", "SessionID": "1-17855@127.0.0.5",
         "LocalAddress": "IPV4/UDP/127.0.0.1/5060", "RemoteAddress": "IPV4/UDP/127.0.0.5/43104"}
UNKNOWN = {**WRONG, "Event": "InvalidAccountID", "AccountID": "9999"}
SENT = {**WRONG, "Event": "ChallengeSent", "AccountID": "<unknown>"}
AMI_LOGIN = {**WRONG, "Event": "InvalidPassword", "Service": "AMI", "RemoteAddress": "IPV4/TCP/127.0.0.1/4000"}


def failure(address="203.0.113.9", at=1000.0, kind="wrong_password", account="1001"):
    return g.Failure(address=address, kind=kind, account=account, at=at)


POLICY = g.GuardPolicy(max_failures=3, window_seconds=60, block_seconds=600)


def feed(state, failures, policy=POLICY):
    commands = []
    for f in failures:
        state, out = g.on_failure(state, f, policy, f.at)
        commands += out
    return state, commands


def test_parse_event_reads_failures_only():
    f = g.parse_event(WRONG, 5.0)
    assert f == g.Failure("127.0.0.5", "wrong_password", "1001", 1000.5, "ChallengeResponseFailed")
    assert g.parse_event(UNKNOWN, 5.0).kind == "unknown_account"
    assert g.parse_event({**WRONG, "Event": "FailedACL", "AccountID": "cc-blocked"}, 5.0).account == ""
    assert g.parse_event(SENT, 5.0) is None  # every phone is challenged first
    assert g.parse_event(AMI_LOGIN, 5.0) is None  # the AMI's own log-ins, on the loopback
    assert g.parse_event({**WRONG, "RemoteAddress": "garbage"}, 5.0) is None
    assert g.parse_event({**WRONG, "RemoteAddress": "IPV6/UDP/[2001:db8::5]/5060"}, 5.0).address == "2001:db8::5"
    assert g.parse_event({**WRONG, "Timestamp": "x"}, 5.0).at == 5.0


def test_block_after_max_failures_within_the_window():
    state, commands = feed(g.GuardState(), [failure(at=1000), failure(at=1010)])
    assert commands == []
    state, commands = feed(state, [failure(at=1020, kind="unknown_account", account="9999")])
    assert commands == [g.Block("203.0.113.9", 1620.0, 3, ("1001", "9999"), ("wrong_password", "unknown_account"),
                                1000.0)]
    assert state.blocked == {"203.0.113.9": 1620.0} and "203.0.113.9" not in state.recent
    # further failures of a blocked source change nothing (the block is not extended)
    assert feed(state, [failure(at=1030)] * 5) == (state, [])


def test_failures_older_than_the_window_do_not_count():
    _, commands = feed(g.GuardState(), [failure(at=1000), failure(at=1050), failure(at=1100)])
    assert commands == []  # 1000 is more than 60 s before 1100


def test_sources_are_counted_apart_and_trusted_ones_never():
    policy = g.GuardPolicy(3, 60, 600, g.parse_networks("192.0.2.0/24, 2001:db8::/32"))
    guesses = [failure("192.0.2.10", at=1000 + i) for i in range(5)] + [failure("2001:db8::1", at=1000)] * 5
    guesses += [failure("198.51.100.1", at=1000), failure("198.51.100.2", at=1000)]
    assert feed(g.GuardState(), guesses, policy)[1] == []


def test_tick_ends_blocks_and_forgets_old_failures():
    state, _ = feed(g.GuardState(), [failure(at=1000 + i) for i in range(3)] + [failure("198.51.100.1", at=1000)])
    assert g.tick(state, POLICY, 1100) == (g.GuardState(recent={}, blocked={"203.0.113.9": 1602.0}), [])
    state, commands = g.tick(state, POLICY, 1602)
    assert commands == [g.Unblock("203.0.113.9", "expired")] and state.blocked == {}
    assert g.tick(state, POLICY, 1700) == (state, [])


def test_admin_unblock_and_trust():
    state, _ = feed(g.GuardState(), [failure(at=1000 + i) for i in range(3)])
    assert g.unblock(state, "203.0.113.9")[1] == [g.Unblock("203.0.113.9", "admin")]
    assert g.unblock(state, "198.51.100.1") == (state, [])
    trusting = g.GuardPolicy(3, 60, 600, g.parse_networks("203.0.113.0/24"))
    state, commands = g.trust(state, trusting)
    assert commands == [g.Unblock("203.0.113.9", "trusted")] and state.blocked == {}


def test_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(g, "MAX_SOURCES", 10)
    state, _ = feed(g.GuardState(), [failure(f"10.0.0.{i}", at=1000 + i) for i in range(30)])
    assert sorted(state.recent) == sorted(f"10.0.0.{i}" for i in range(20, 30))
    state, _ = feed(g.GuardState(), [failure(at=1000 + i * 0.001) for i in range(2)], g.GuardPolicy(50, 60, 600))
    assert len(state.recent["203.0.113.9"]) == 2


def test_parse_networks_names_the_bad_entry():
    assert [str(n) for n in g.parse_networks("192.168.1.0/24,\n 10.0.0.5 ,")] == ["192.168.1.0/24", "10.0.0.5/32"]
    with pytest.raises(ValueError, match="192.168.1.300"):
        g.parse_networks("192.168.1.0/24, 192.168.1.300")


# -- the adapter, over a real database ------------------------------------------------------------
class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def guard(db, clock, applied, **kw):
    return SipGuard(db, max_failures=3, window_seconds=60, block_seconds=600, clock=clock,
                    on_change=lambda: applied.append(blocked_sources()), **kw)


def wait_applied(applied, expected):
    import gevent

    with gevent.Timeout(5):
        while not applied or applied[-1] != expected:
            gevent.sleep(0.01)


def test_guard_blocks_persists_and_unblocks(db):
    clock, applied = Clock(), []
    sg = guard(db, clock, applied)
    for _ in range(3):
        sg.on_event(WRONG)
    wait_applied(applied, ("127.0.0.5",))
    [block] = sg.blocks()
    assert block["failures"] == 3 and block["accounts"] == ["1001"] and block["kinds"] == ["wrong_password"]
    assert [e["address"] for e in sg.recent_events()] == ["127.0.0.5"] * 3
    # a new process over the same database starts with the block
    again = guard(db, clock, [])
    assert again.state.blocked == {"127.0.0.5": 1600.0}
    with pytest.raises(NotFound) as err:
        again.unblock("198.51.100.1", "boss")
    assert err.value.code == "sip_guard.not_blocked"
    again.unblock("127.0.0.5", "boss")
    assert blocked_sources() == () and sg.ended()[0]["ended_by"] == "boss"
    assert m.AuditLog.get(m.AuditLog.action == "unblock").object_id == "127.0.0.5"


def test_guard_ends_blocks_whose_time_is_up(db):
    clock, applied = Clock(), []
    sg = guard(db, clock, applied)
    for _ in range(3):
        sg.on_event(UNKNOWN)
    wait_applied(applied, ("127.0.0.5",))
    clock.now = 1599
    sg.tick()
    assert blocked_sources() == ("127.0.0.5",)
    clock.now = 1600
    sg.tick()
    wait_applied(applied, ())
    assert sg.ended()[0]["ended_by"] == "expired"


def test_trunk_addresses_are_never_blocked(db):
    m.Trunk.create(name="pstn", host="127.0.0.2", match="127.0.0.5, 198.51.100.0/28, sip.example.net")
    clock, applied = Clock(), []
    sg = guard(db, clock, applied)
    sg.refresh()
    for _ in range(5):
        sg.on_event(WRONG)
        sg.on_event({**WRONG, "RemoteAddress": "IPV4/UDP/127.0.0.2/5060"})
    assert blocked_sources() == () and applied == []


def test_settings_validated_and_applied(db):
    clock, applied = Clock(), []
    sg = guard(db, clock, applied, lan_subnets=lambda: ["192.168.1.0/24"])
    with pytest.raises(ValidationError) as err:
        sg.save_settings("boss", phone_subnets="192.168.1.0/24", trusted="10.0.0.1, nonsense")
    assert err.value.code == "sip_guard.bad_network" and "nonsense" in err.value.fields["trusted"]
    assert phone_subnets() == () and applied == []  # nothing saved
    saved = sg.save_settings("boss", phone_subnets=["192.168.1.7/24"], trusted="127.0.0.5")
    assert saved["phone_subnets"] == ["192.168.1.0/24"] and saved["trusted"] == ["127.0.0.5/32"]
    assert saved["lan_subnets"] == ["192.168.1.0/24"] and phone_subnets() == ("192.168.1.0/24",)
    assert applied  # reloaded
    for _ in range(5):
        sg.on_event(WRONG)  # now trusted
    assert sg.blocks() == []
