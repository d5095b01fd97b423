"""Hot standby, the pure parts: keepalived's configuration as both boxes render it, the FIFO
lines keepalived writes, the role machine (what each VRRP state makes the box do) and the
rsync daemon's configuration."""

from __future__ import annotations

from pathlib import Path

from appliance.ha import keepalived
from appliance.ha.replication import render_rsyncd
from appliance.ha.roles import (PEER_DOWN, PEER_MISSES, SPLIT_BRAIN, BecomeActive, ClearAlarm, PeerSeen,
                                RaiseAlarm, RoleState, StandDown, StartReceiving, StopReceiving, Vrrp, step)


def model(**kw):
    values = dict(interface="eth0", peer="192.168.1.12", floating="192.168.1.10/24",
                  gateway_file="/var/lib/appliance/run/ha/gateway.state",
                  notify_fifo="/var/lib/appliance/run/ha/notify.fifo")
    values.update(kw)
    return keepalived.Vrrp(**values)


def test_keepalived_config_holds_what_the_pair_agrees_on():
    text = keepalived.render(model())
    assert "state BACKUP" in text and "nopreempt" in text  # a returning box comes back as standby
    assert "unicast_peer {\n        192.168.1.12 min_ttl 255\n    }" in text
    # VRRPv3, twice a second: a dead peer noticed after 1.5 s (VRRPv2 counts whole seconds)
    assert "vrrp_version 3" in text and "advert_int 0.5" in text
    # no password in VRRPv3: only the peer's address, on the same link, is listened to
    assert "check_unicast_src" in text and "auth" not in text
    assert "192.168.1.10/24 dev eth0" in text
    # the gateway check: our verdict in a file, weight 0 (not 0 in it: FAULT); "down" until seen
    assert 'track_file gateway {\n    file "/var/lib/appliance/run/ha/gateway.state"\n    weight 0\n    init_file 1' in text
    assert "track_file {\n        gateway weight 0\n    }" in text
    # no script for keepalived to run: it never switches accounts (setgroups needs CAP_SETGID),
    # so it runs as the appliance's account with CAP_NET_ADMIN and CAP_NET_RAW alone
    assert "script" not in text
    assert "notify_fifo /var/lib/appliance/run/ha/notify.fifo" in text
    # the other box renders the same router id, address, password and check; only the peer differs
    other = keepalived.render(model(peer="192.168.1.11"))
    differing = [(a, b) for a, b in zip(text.splitlines(), other.splitlines()) if a != b]
    assert differing == [("        192.168.1.12 min_ttl 255", "        192.168.1.11 min_ttl 255")]


def test_notify_lines_of_our_instance_only():
    assert keepalived.parse_notify('INSTANCE "appliance" MASTER 100\n') == "MASTER"
    assert keepalived.parse_notify('INSTANCE "appliance" BACKUP 100') == "BACKUP"
    assert keepalived.parse_notify('INSTANCE "appliance" FAULT 100') == "FAULT"
    assert keepalived.parse_notify('INSTANCE "other" MASTER 100') is None
    assert keepalived.parse_notify('GROUP "g" MASTER') is None
    assert keepalived.parse_notify("garbage") is None


def run(events, state=None):
    state = state or RoleState()
    done = []
    for event in events:
        state, commands = step(state, event)
        done.append(commands)
    return state, done


def test_a_box_that_starts_as_backup_receives_and_takes_over_when_master():
    state, done = run([Vrrp("BACKUP"), Vrrp("MASTER")])
    assert done == [[StartReceiving()], [StopReceiving(), BecomeActive()]]
    assert state.role == "active"


def test_an_active_box_that_loses_its_gateway_stands_down_and_receives():
    state, done = run([Vrrp("MASTER"), Vrrp("FAULT"), Vrrp("BACKUP")])
    assert done[1] == [StandDown(), StartReceiving()] and done[2] == []
    assert state.role == "standby"


def test_repeated_states_do_nothing_twice():
    _, done = run([Vrrp("MASTER"), Vrrp("MASTER"), Vrrp("BACKUP"), Vrrp("BACKUP")])
    assert done[1] == [] and done[3] == []


def test_split_brain_is_an_alarm_until_one_box_stands_down():
    state, done = run([Vrrp("MASTER"), PeerSeen("active"), PeerSeen("active"), PeerSeen("standby")])
    assert done[1] == [RaiseAlarm(SPLIT_BRAIN)] and done[2] == [] and done[3] == [ClearAlarm(SPLIT_BRAIN)]
    state, done = run([Vrrp("BACKUP"), PeerSeen("active")])
    assert SPLIT_BRAIN not in state.alarms  # a standby beside an active peer is the normal case


def test_taking_over_from_the_active_peer_is_no_split_brain_until_it_says_active_again():
    state, done = run([Vrrp("BACKUP"), PeerSeen("active"), Vrrp("MASTER")])
    assert done[2] == [StopReceiving(), BecomeActive()] and SPLIT_BRAIN not in state.alarms
    assert state.peer_role is None
    state, done = run([Vrrp("BACKUP"), PeerSeen("active"), Vrrp("MASTER"), PeerSeen("active")])
    assert done[3] == [RaiseAlarm(SPLIT_BRAIN)]


def test_a_silent_peer_is_an_alarm_after_a_few_looks():
    state, done = run([PeerSeen(None)] * PEER_MISSES + [PeerSeen("standby")])
    assert all(c == [] for c in done[:PEER_MISSES - 1])
    assert done[PEER_MISSES - 1] == [RaiseAlarm(PEER_DOWN)] and done[-1] == [ClearAlarm(PEER_DOWN)]
    assert state.peer_role == "standby"


def test_rsync_daemon_config_only_for_the_peer_never_a_delete():
    text = render_rsyncd(address="0.0.0.0", port=8873, peer="192.168.1.11",
                         modules={"db": Path("/data/replica"), "recordings": Path("/data/recordings")},
                         run_dir=Path("/data/run/ha"), uid=0, gid=0)
    assert "hosts allow = 192.168.1.11\nhosts deny = *" in text
    assert "reverse lookup = no" in text  # no call waits on DNS, nor does a copy
    assert "refuse options = delete* remove-source-files" in text
    assert "[db]\npath = /data/replica" in text and "auth users = appliance" in text


def test_copies_failing_while_the_peer_answers_is_an_alarm():
    from appliance.ha.roles import REPLICATION_FAILING, Copying

    state, done = run([Vrrp("MASTER"), PeerSeen("standby"), Copying(True), Copying(True), Copying(False)])
    assert done[2] == [RaiseAlarm(REPLICATION_FAILING)] and done[3] == [] and done[4] == [ClearAlarm(REPLICATION_FAILING)]
    # the peer gone: only ha.peer_down says so
    state, done = run([Vrrp("MASTER")] + [PeerSeen(None)] * PEER_MISSES + [Copying(True)])
    assert REPLICATION_FAILING not in state.alarms and PEER_DOWN in state.alarms
    # standing down clears it: nothing to copy any more
    state, done = run([Vrrp("MASTER"), PeerSeen("standby"), Copying(True), Vrrp("BACKUP")])
    assert ClearAlarm(REPLICATION_FAILING) in done[3] and not state.alarms


def test_databases_kept_aside_are_alarms_here_and_on_the_peer_until_removed():
    from appliance.ha.roles import PEER_WRITES_KEPT_ASIDE, WRITES_KEPT_ASIDE, KeptAside

    state, done = run([KeptAside(True, False), KeptAside(True, True), KeptAside(False, False)])
    assert done[0] == [RaiseAlarm(WRITES_KEPT_ASIDE)] and done[1] == [RaiseAlarm(PEER_WRITES_KEPT_ASIDE)]
    assert sorted(done[2], key=str) == sorted([ClearAlarm(WRITES_KEPT_ASIDE), ClearAlarm(PEER_WRITES_KEPT_ASIDE)],
                                              key=str)
    assert state.alarms == frozenset()


def test_copies_failing_is_an_alarm_on_the_standby_too():
    from appliance.ha.roles import REPLICATION_FAILING, Copying

    # the standby hears it from the active box's answer (its own disk full, say)
    state, done = run([Vrrp("BACKUP"), PeerSeen("active"), Copying(True), Copying(False)])
    assert done[2] == [RaiseAlarm(REPLICATION_FAILING)] and done[3] == [ClearAlarm(REPLICATION_FAILING)]
    state, done = run([PeerSeen("active"), Copying(True)])  # keepalived not heard yet: nothing to say
    assert REPLICATION_FAILING not in state.alarms
