"""The hot-standby adapter (appliance/ha/node.py) carrying out the role machine's commands,
with its children and the appliance stood in for: on MASTER the appliance is made and the
database copied to the peer; on FAULT it is stopped, its database closed and the replica
received; a takeover that fails is an alarm and gives the address up; the status reaches the
serial console's file and the peer's status answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.ha import roles, status_of
from appliance.ha.node import HaNode
from appliance.services.ha import HaSettings
from harness import wait_until

HA = HaSettings(True, "eth0", "192.168.1.12", "192.168.1.10/24", "192.168.1.1", 51, 250, "a shared secret")


class FakeDb:
    closed = False

    def close(self):
        self.closed = True


class FakeAppliance:
    def __init__(self):
        self.db = FakeDb()
        self.stopped = False

    def stop(self):
        self.stopped = True


@pytest.fixture
def node(tmp_path, monkeypatch):
    made = []

    def make_active(n):
        if getattr(n, "fail_next", False):
            raise RuntimeError("Asterisk did not start")
        made.append(FakeAppliance())
        return made[-1]

    n = HaNode(HA, run_dir=tmp_path / "run", db_path=tmp_path / "appliance.db",
               file_areas={"recordings": tmp_path / "recordings"}, make_active=make_active)
    n.paths.folder.mkdir(parents=True)
    reconciled, restarted = [], []
    monkeypatch.setattr(n.supervisor, "reconcile", lambda: reconciled.append(n.receiving))
    monkeypatch.setattr(n.keepalived, "restart", lambda reason: restarted.append(reason))
    n.made, n.reconciled, n.restarted = made, reconciled, restarted
    yield n
    n._stand_down()


def test_backup_receives_master_takes_over_fault_stands_down(node, tmp_path):
    node.handle(roles.Vrrp("BACKUP"))
    assert node.receiving and node.reconciled == [True] and node.active is None
    assert status_of(tmp_path / "run")["role"] == "standby"  # what the serial console reads

    node.handle(roles.Vrrp("MASTER"))
    wait_until(lambda: not node.receiving, 5, "the receiver stopped")  # off the caller's greenlet
    assert len(node.made) == 1 and node.active is node.made[0]
    assert node.replicator is not None and node.replicator.peer.address == "192.168.1.12"
    assert node.health()["state"] == "active" and node.replication()["direction"] == "sending"

    node.handle(roles.Vrrp("FAULT"))
    assert node.made[0].stopped and node.made[0].db.closed and node.active is None
    assert node.replicator is None and node.receiving
    assert status_of(tmp_path / "run")["role"] == "fault"


def test_a_takeover_that_fails_is_an_alarm_and_gives_the_address_up(node):
    node.fail_next = True
    node.handle(roles.Vrrp("BACKUP"))
    node.handle(roles.Vrrp("MASTER"))
    wait_until(lambda: node.restarted, 5, "keepalived restarted")  # the failure is met off the caller's greenlet
    assert node.state.role == "starting" and node.active is None and node.replicator is None
    assert node.restarted == ["the takeover failed"]  # keepalived starts again as BACKUP
    assert [a["code"] for a in node.alarm_list()] == [roles.TAKEOVER_FAILED] and not node.health()["up"]
    node.fail_next = False
    node.handle(roles.Vrrp("BACKUP"))
    node.handle(roles.Vrrp("MASTER"))
    assert node.active is not None and node.alarm_list() == []


def test_the_status_answer_for_the_peer(node):
    node.handle(roles.Vrrp("BACKUP"))
    answered = []
    body = node._status_app({"PATH_INFO": "/ha/status", "REQUEST_METHOD": "GET"},
                            lambda status, headers: answered.append(status))
    assert answered == ["200 OK"] and json.loads(b"".join(body))["role"] == "standby"
    node._status_app({"PATH_INFO": "/", "REQUEST_METHOD": "GET"}, lambda status, headers: answered.append(status))
    assert answered[-1] == "404 Not Found"


def test_a_box_without_the_pairs_data_loses_an_election(node, tmp_path):
    """Both boxes started at once: the fresh one (never active in the pair, no copy received)
    offers a lower priority, so it cannot win and copy its empty database over the other."""
    from appliance.ha.node import FRESH_PENALTY
    from appliance.ha.replication import REPLICA_DIR, REPLICA_NAME

    assert node.vrrp_model().priority == HA.priority - FRESH_PENALTY
    (tmp_path / REPLICA_DIR).mkdir()
    (tmp_path / REPLICA_DIR / REPLICA_NAME).write_bytes(b"a copy from the other box")
    assert node.vrrp_model().priority == HA.priority
    (tmp_path / REPLICA_DIR / REPLICA_NAME).unlink()
    node.handle(roles.Vrrp("BACKUP"))
    node.handle(roles.Vrrp("MASTER"))  # active once: its database is the pair's from now on
    assert node.vrrp_model().priority == HA.priority


def _database_with(path, words):
    import sqlite3

    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (words TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", (words,))
    conn.close()


def _active_with_replicator_idle(node):
    node.handle(roles.Vrrp("BACKUP"))
    node.handle(roles.Vrrp("MASTER"))
    node.replicator.stop()  # its copies stood in for: the state they leave is set by each test
    return node.replicator


def test_standing_down_with_writes_the_peer_lacks_keeps_the_database_aside_named(node, tmp_path):
    import sqlite3

    _database_with(tmp_path / "appliance.db", "taken during the split")
    replicator = _active_with_replicator_idle(node)
    replicator.last_error = "could not copy the database to the standby"  # the peer active too: no receiver
    node.handle(roles.PeerSeen("active"))
    assert roles.SPLIT_BRAIN in node.alarms
    node.handle(roles.Vrrp("BACKUP"))  # the link heals, keepalived keeps the other box
    kept = node.kept_aside()
    assert len(kept) == 1 and kept[0].startswith("appliance-") and kept[0].endswith("Z.db")
    copy = sqlite3.connect(tmp_path / "kept-aside" / kept[0])
    assert copy.execute("SELECT words FROM t").fetchall() == [("taken during the split",)]
    copy.close()
    note = json.loads((tmp_path / "kept-aside" / kept[0]).with_suffix(".json").read_text())
    assert note["reason"] == "split brain" and note["peer_address"] == "192.168.1.12"
    assert (tmp_path / "appliance.db").exists()  # the box's own database stays where it was
    # named in the status (the console, the peer's answer) and in the alarm's words
    assert status_of(tmp_path / "run")["kept_aside"] == kept
    body = node._status_app({"PATH_INFO": "/ha/status", "REQUEST_METHOD": "GET"}, lambda *a: None)
    assert json.loads(b"".join(body))["kept_aside"] == kept
    node.handle(roles.KeptAside(bool(node.kept_aside()), False))
    alarm = next(a for a in node.alarm_list() if a["code"] == roles.WRITES_KEPT_ASIDE)
    assert kept[0] in alarm["text"] and alarm["params"]["file"].endswith("kept-aside/" + kept[0])


def test_standing_down_with_everything_copied_or_stopping_the_process_keeps_nothing(node, tmp_path):
    _database_with(tmp_path / "appliance.db", "copied")
    replicator = _active_with_replicator_idle(node)
    replicator.pending_since, replicator.last_error = None, None
    replicator._seen = replicator.signature()
    node.handle(roles.Vrrp("BACKUP"))
    assert node.kept_aside() == []
    replicator = _active_with_replicator_idle(node)
    replicator.last_error = "could not copy"
    node.stop()  # the service stopped: the peer takes over with at most the replication lag missing
    assert node.kept_aside() == []


def test_the_peers_kept_database_is_named_on_this_box(node):
    node.peer_status = {"reachable": True, "role": "standby", "kept_aside": ["appliance-20261206T114148Z.db"]}
    node.handle(roles.KeptAside(False, True))
    (alarm,) = node.alarm_list()
    assert alarm["code"] == roles.PEER_WRITES_KEPT_ASIDE
    assert alarm["params"]["file"] == "192.168.1.12: kept-aside/appliance-20261206T114148Z.db"


def test_the_gateway_check_writes_keepalived_its_verdict_two_looks_to_change(tmp_path):
    from appliance.ha.node import GatewayCheck

    check = GatewayCheck("192.168.1.1", tmp_path / "gateway.state", ["/usr/bin/ping"])
    assert check.argv() == ["/usr/bin/ping", "-n", "-q", "-c", "1", "-W", "1", "192.168.1.1"]
    verdicts = []
    for answered in (None, True, False, True, False, False, False, True, True):
        if answered is None:
            check.write()  # at start, before any look: not fit to be active
        else:
            check.seen(answered)
        verdicts.append((tmp_path / "gateway.state").read_text())
    assert verdicts == ["1\n", "0\n", "0\n", "0\n", "0\n", "1\n", "1\n", "1\n", "0\n"]


def test_keepalived_on_the_image_runs_only_vrrp_with_two_capabilities_and_our_files():
    from pathlib import Path

    from appliance.ha.node import Paths, keepalived_argv

    argv = keepalived_argv(Paths.of(Path("/var/lib/appliance/run/ha"), None), None)
    # on the image: the appliance's account, only CAP_NET_ADMIN and CAP_NET_RAW passed on (not
    # its CAP_NET_BIND_SERVICE); tests/integration/test_ha_failover.py runs exactly that set
    assert argv[:5] == ["setpriv", "--inh-caps=-all,+net_admin,+net_raw", "--ambient-caps=-all,+net_admin,+net_raw",
                        "--", "/usr/sbin/keepalived"]
    assert argv[5] == "--vrrp"  # no checker process, no IPVS
    assert "/var/lib/appliance/run/ha/keepalived.conf" in argv
    pid_files = [argv[i + 1] for i, a in enumerate(argv) if a.endswith("_pid") or a == "--pid"]
    assert len(pid_files) == 3 and all(f.startswith("/var/lib/appliance/run/ha/") for f in pid_files)


def test_a_database_that_cannot_be_kept_aside_leaves_no_half_copy(node, tmp_path, monkeypatch):
    import appliance.ha.node as node_module

    _database_with(tmp_path / "appliance.db", "taken during the split")

    def disk_full(db_path, out):
        Path(out).write_bytes(b"half a database")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(node_module, "snapshot", disk_full)
    assert node.keep_aside("split brain") is None
    assert node.kept_aside() == [] and list((tmp_path / "kept-aside").iterdir()) == []
