"""Hot standby's faults that are not timed, on a pair as tests/integration/test_ha_failover.py
builds it (tests/hapair.py: two appliances in two network namespaces joined by a bridge,
keepalived and rsync from the rootfs as real processes): VRRP dropped on the bridge between
them (a split brain: both active), the alarm on both, and when VRRP passes again exactly one
stays active and the other's writes made meanwhile are kept aside under a name, not dropped;
the standby's disk full; a box started without its peer, and both at once.  And, alone in a
namespace, the rootfs's keepalived as the image runs it.

Nothing here measures a time: the waits are for states, with room for a loaded machine, so
the file runs beside the others (the takeover timings stay alone, in test_ha_failover.py).
The pair's namespaces carry this process's id, its addresses never leave them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness import wait_until
from hapair import Pair, mark, marked, pids_in

pytestmark = pytest.mark.asterisk


@pytest.fixture(scope="module")
def pair(tmp_path_factory, rootfs):
    """Box a active, box b standing by with its first copy of the database."""
    built = Pair(tmp_path_factory.mktemp("pair"), rootfs).build()
    try:
        a, b = built.boxes["a"], built.boxes["b"]
        a.start()
        built.wait_role("a", "active", 60)
        b.start()
        built.wait_role("b", "standby", 60)
        wait_until((b.data_dir / "replica" / "appliance.db").exists, 30, "the first copy of the database on the standby")
        yield built
    finally:
        built.close()


def test_a_split_brain_is_an_alarm_and_heals_to_one_active_keeping_the_losers_writes_aside(pair, tmp_path):
    a, b = pair.boxes["a"], pair.boxes["b"]
    pair.wait_role("b", "standby", 30)  # as the fixture left them: box a active, box b standing by
    wait_until(lambda: (a.status().get("peer") or {}).get("role") == "standby", 10, "box a seeing its standby")
    pair.vrrp_between_boxes(passes=False)
    try:
        pair.wait_role("b", "active", 30)  # it no longer hears box a: both active
        wait_until(lambda: "ha.split_brain" in a.alarms() and "ha.split_brain" in b.alarms(), 15,
                   f"the split-brain alarm on both boxes: a {a.alarms()}, b {b.alarms()}")
        for box in (a, b):  # the health document (the dashboard reads it) says so too, once the web UI is up
            wait_until(lambda: "ha.split_brain" in box.health_alarms(), 30, f"the alarm in box {box.name}'s health")
            assert box.health()["components"]["ha"]["up"] is False
        mark(a.db_path, "written on box a during the split")
        mark(b.db_path, "written on box b during the split")
    finally:
        pair.vrrp_between_boxes(passes=True)
    # VRRP heard again: one gives way (the same priority: the lower address, box a)
    wait_until(lambda: {a.role(), b.role()} == {"active", "standby"}, 30,
               f"one active box again: a {a.role()}, b {b.role()}")
    winner, loser = (a, b) if a.role() == "active" else (b, a)
    # a write on the active box reaches the one that gave way (its copies count from when it
    # became active: a box newly active has made none)
    mark(winner.db_path, "written on the active box after the split")
    wait_until(lambda: loser.marked(loser.data_dir / "replica" / "appliance.db",
                                    "written on the active box after the split", tmp_path / "copy.db"), 30,
               "the active box copying to the one that gave way")
    assert {winner.role(), loser.role()} == {"active", "standby"}  # and it stays so
    folder = loser.data_dir / "kept-aside"

    def kept_from_the_split():  # newest first
        kept = loser.status().get("kept_aside") or []
        return kept and json.loads((folder / kept[0]).with_suffix(".json").read_text())["reason"] == "split brain"

    wait_until(kept_from_the_split, 15, f"box {loser.name}'s database kept aside: {loser.status()}")
    kept = loser.status()["kept_aside"]
    assert marked(folder / kept[0], f"written on box {loser.name} during the split")  # kept, under a name
    assert marked(winner.db_path, f"written on box {winner.name} during the split")
    assert not marked(winner.db_path, f"written on box {loser.name} during the split")
    wait_until(lambda: "ha.peer_writes_kept_aside" in winner.alarms() and "ha.split_brain" not in winner.alarms(),
               10, f"the active box's alarms: {winner.alarms()}")
    # raised once the file is kept (on a pair with no earlier file kept it stands from now)
    wait_until(lambda: "ha.writes_kept_aside" in loser.alarms() and "ha.split_brain" not in loser.alarms(), 10,
               f"box {loser.name}'s alarms: {loser.alarms()}")
    # the alarm names the newest file kept once the active box has looked at the other again
    # (once a second)
    def peer_alarm():
        return next((x for x in winner.health().get("alarms") or () if x["code"] == "ha.peer_writes_kept_aside"), {})

    wait_until(lambda: kept[0] in peer_alarm().get("text", ""), 10, f"the alarm naming {kept[0]}: {peer_alarm()}")
    assert kept[0] in peer_alarm()["params"]["file"], peer_alarm()


def _one_active(pair) -> tuple:
    a, b = pair.boxes["a"], pair.boxes["b"]
    wait_until(lambda: {a.role(), b.role()} == {"active", "standby"}, 60,
               f"one active box and one standby: a {a.role()}, b {b.role()}")
    return (a, b) if a.role() == "active" else (b, a)


def test_the_standbys_disk_full_is_an_alarm_on_both_and_copying_resumes_by_itself(pair, tmp_path):
    active, standby = _one_active(pair)
    replica = standby.data_dir / "replica"
    wait_until(lambda: "ha.replication_failing" not in active.alarms() | standby.alarms(), 15,
               f"the copies working: {active.alarms()}, {standby.alarms()}")
    standby.mount("-t", "tmpfs", "-o", "size=256k", "ha-test-full", str(replica))
    try:  # smaller than the database: every copy fails there with "No space left on device"
        mark(active.db_path, "written while the standby's disk was full")
        wait_until(lambda: "ha.replication_failing" in active.alarms() and "ha.replication_failing" in
                   standby.alarms(), 30, f"the alarm on both: {active.alarms()}, {standby.alarms()}")
        assert not standby.seen(replica / "appliance.db").exists()
        health = active.health()  # the active box keeps serving
        assert health["status"] != "down" and health["components"]["asterisk"]["up"], health
        assert "ha.replication_failing" in [x["code"] for x in health["alarms"]], health
        assert active.role() == "active" and standby.role() == "standby"
        # space back: the copies resume by themselves, the write written meanwhile arrives
        standby.mount("-o", "remount,size=64m", str(replica))
        wait_until(lambda: standby.marked(replica / "appliance.db", "written while the standby's disk was full",
                                          tmp_path / "copy.db"), 30, "the copy in place on the standby")
        wait_until(lambda: "ha.replication_failing" not in active.alarms() | standby.alarms(), 15,
                   f"the alarms cleared: {active.alarms()}, {standby.alarms()}")
    finally:
        subprocess.run(["nsenter", "--target", str(standby.process.pid), "--mount", "--root", "umount", "--lazy", str(replica)],
                       check=False)


def test_a_box_started_without_its_peer_and_both_started_at_once(pair):
    a, b = pair.boxes["a"], pair.boxes["b"]
    for box in _one_active(pair)[::-1]:  # the standby first: the active box's going is no failure to take over
        box.stop()
    # the peer unreachable at start: box a becomes active alone and says so
    a.start()
    pair.wait_role("a", "active", 60)
    wait_until(lambda: "ha.peer_down" in a.alarms(), 15, "ha.peer_down on box a")
    wait_until(lambda: "ha.peer_down" in a.health_alarms(), 30, "ha.peer_down in box a's health")
    # both started at once (a power cut), both holding the pair's data: one active, one standby
    a.stop()
    a.start()
    b.start()
    active, standby = _one_active(pair)
    wait_until(lambda: (active.status().get("replication") or {}).get("copies", 0) >= 1, 30,
               "the active box copying to the standby")
    assert (active.role(), standby.role()) == ("active", "standby")  # and it stays so
    assert "ha.split_brain" not in active.alarms() | standby.alarms()
    wait_until(lambda: "ha.peer_down" not in active.alarms(), 15, "ha.peer_down cleared with the peer back")


def test_keepalived_runs_as_an_unprivileged_account_with_two_capabilities(rootfs, tmp_path):
    """keepalived as on the image: not root (here uid 65534; the appliance's account there),
    with CAP_NET_ADMIN and CAP_NET_RAW alone, our configuration: it takes the floating address
    when no peer advertises, tells us through the FIFO, and gives the address up (FAULT) when
    our gateway check writes 1.  Alone in a namespace of its own: no pair needed."""
    import os

    from appliance.ha import keepalived
    from appliance.ha.node import _CHROOT_SCRIPT, KEEPALIVED_CAPS

    folder = tmp_path / "ha"
    folder.mkdir()
    (folder / "keepalived.conf").write_text(keepalived.render(keepalived.Vrrp(
        interface="lan0", peer="10.78.0.12", floating="10.78.0.10/24", notify_fifo="/appliance/notify.fifo",
        gateway_file="/appliance/gateway.state")))
    (folder / "gateway.state").write_text("0\n")
    os.mkfifo(folder / "notify.fifo", 0o600)
    for path in (folder, *folder.iterdir()):
        os.chown(path, 65534, 65534)
    ns = f"hakl{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    fifo = os.open(folder / "notify.fifo", os.O_RDWR | os.O_NONBLOCK)
    process = None
    try:
        for args in (["link", "add", "lan0", "type", "veth", "peer", "name", "lan1"], ["link", "set", "lan1", "up"],
                     ["addr", "add", "10.78.0.11/24", "dev", "lan0"], ["link", "set", "lan0", "up"]):
            subprocess.run(["ip", "-n", ns, *args], check=True)
        argv = ["ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "--fork",
                "sh", "-c", _CHROOT_SCRIPT, "sh", str(rootfs), str(folder),
                "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", f"--inh-caps={KEEPALIVED_CAPS}",
                f"--ambient-caps={KEEPALIVED_CAPS}", f"--bounding-set={KEEPALIVED_CAPS}", "--",
                "keepalived", "--vrrp", "--dont-fork", "--log-console", "--no-syslog",
                "--use-file", "/appliance/keepalived.conf", "--pid", "/appliance/keepalived.pid",
                "--vrrp_pid", "/appliance/vrrp.pid", "--bfd_pid", "/appliance/bfd.pid"]
        log = open(tmp_path / "keepalived.log", "wb")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        said = []

        def told(state):
            try:
                said.extend(os.read(fifo, 4096).decode().splitlines())
            except BlockingIOError:
                pass
            return f'INSTANCE "appliance" {state} 250' in said

        def has_floating():
            out = subprocess.run(["ip", "-n", ns, "-4", "addr", "show", "lan0"], capture_output=True, text=True).stdout
            return "10.78.0.10/24" in out

        log_text = lambda: (tmp_path / "keepalived.log").read_text(errors="replace")  # noqa: E731
        wait_until(lambda: told("MASTER") and has_floating(), 15, f"keepalived MASTER:\n{log_text()}")
        ours = [pid for pid in pids_in(ns) if Path(f"/proc/{pid}/comm").read_text().strip() == "keepalived"]
        for pid in ours:  # its parent and VRRP child: not root; CAP_NET_ADMIN and CAP_NET_RAW, no more
            status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
            assert status["Uid"].split()[:2] == ["65534", "65534"] and status["CapEff"].strip() == "0000000000003000"
        assert len(ours) == 2, ours
        (folder / "gateway.state").write_text("1\n")  # our check: the gateway does not answer
        wait_until(lambda: told("FAULT") and not has_floating(), 15, f"keepalived FAULT:\n{log_text()}")
    finally:
        if process is not None:
            os.killpg(process.pid, 15)
            process.wait(10)
        os.close(fifo)
        subprocess.run(["ip", "netns", "del", ns], check=False)
