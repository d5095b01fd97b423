"""Hot standby end to end: two appliances in two network namespaces joined by a bridge,
keepalived and rsync from the rootfs as real processes, SIPp calling the floating address at a
steady rate. The active box is killed (kill -9 of every process), the standby takes over; the
killed box comes back as standby (no second active); then the new active's cable is pulled
and the first box takes over again. Each time: the gap in accepted calls and the committed
call records missing on the new active are measured (issue 20: at most 3 s after detection, nothing
older than 1 s missing).  Then, on the same two boxes: VRRP dropped on the bridge between them
(a split brain: both active), the alarm on both, and when VRRP passes again exactly one stays
active and the other's writes made meanwhile are kept aside under a name, not dropped."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness import REPO, wait_until
from hapair import DATA_LIMIT, Pair, mark, marked, pids_in, run_scenario

pytestmark = [pytest.mark.asterisk, pytest.mark.alone]  # takeover timings and the alarms they raise: not beside other shards

# Seconds without accepted calls (issue 20's goal: at most 3 s): VRRP's detection (VRRPv3, 3
# advertisements of 0.5 s plus a skew of 6/256 of one at priority 250: 1.0-1.6 s after the
# failure, measured) plus the takeover (the replica opened, Asterisk configured and started:
# 0.4-0.6 s on a quiet machine). Measured 1.8-2.1 s here on a quiet machine and 1.9-2.0 s in CI
# (this module runs alone, after the shards); 3.2-6.8 s beside a loaded suite (load 9-30 on 2
# cores), which is why it runs alone. The figures are written to tests/artifacts/ha-failover.json
# (and by `make bench`: bench/ha.py).
GAP_LIMIT = 3.0
# From the failure to keepalived making the standby MASTER: 1.5 s by the protocol (measured
# 1.0-1.6 s; with VRRPv2's whole seconds it was 2.1-2.9 s). A kill -9 of the active box's
# processes one by one may end keepalived's VRRP child with SIGTERM first (its parent gone): it
# then says goodbye (priority 0) and the standby takes over at once (seen: 0.1 s). With room for
# a machine shared by the whole suite (2.09 s seen with an image build beside it); the 0.5 s
# advert itself is checked on the generated configuration (tests/unit/test_ha_roles.py).
DETECTION_LIMIT = 2.5
# From keepalived making the standby MASTER to its first accepted call: the issue's "new calls
# succeed at most 3 s after the failure is detected" (measured 0.4-0.6 s quiet, 2.3 s loaded).
AFTER_DETECTION_LIMIT = 3.0
FIGURES = REPO / "tests" / "artifacts" / "ha-failover.json"


@pytest.fixture(scope="module")
def pair(tmp_path_factory, rootfs):
    built = Pair(tmp_path_factory.mktemp("pair"), rootfs).build()
    try:
        yield built
    finally:
        built.close()


def test_the_standby_takes_over_and_the_old_active_comes_back_as_standby(pair, tmp_path_factory):
    figures = run_scenario(pair, tmp_path_factory.mktemp("sipp"))
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))
    for case in figures.values():
        assert case["records_written"] >= 5 and case["records_missing"] == [], figures
        assert case["replication_lag_seconds"] is not None and case["replication_lag_seconds"] <= DATA_LIMIT, figures
        assert case["takeover_gap_seconds"] <= GAP_LIMIT, figures
        assert case["calls_after_detection_seconds"] <= AFTER_DETECTION_LIMIT, figures
        assert case["detected_after_seconds"] <= DETECTION_LIMIT, figures
        assert "ha.split_brain" not in case["new_active_alarms"], figures


def test_a_split_brain_is_an_alarm_and_heals_to_one_active_keeping_the_losers_writes_aside(pair):
    a, b = pair.boxes["a"], pair.boxes["b"]
    # as the first test left them: box a active, box b's cable pulled; plugged in again, b stands by
    pair.cable("b", True)
    pair.wait_role("b", "standby", 30)
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
    wait_until(lambda: (winner.status().get("replication") or {}).get("copies", 0) >= 2, 30,
               "the active box copying to the one that gave way")
    assert {winner.role(), loser.role()} == {"active", "standby"}  # and it stays so
    folder = loser.data_dir / "kept-aside"

    def kept_from_the_split():  # newest first (box b also kept one when its cable was pulled)
        kept = loser.status().get("kept_aside") or []
        return kept and json.loads((folder / kept[0]).with_suffix(".json").read_text())["reason"] == "split brain"

    wait_until(kept_from_the_split, 15, f"box {loser.name}'s database kept aside: {loser.status()}")
    kept = loser.status()["kept_aside"]
    assert marked(folder / kept[0], f"written on box {loser.name} during the split")  # kept, under a name
    assert marked(winner.db_path, f"written on box {winner.name} during the split")
    assert not marked(winner.db_path, f"written on box {loser.name} during the split")
    wait_until(lambda: "ha.peer_writes_kept_aside" in winner.alarms() and "ha.split_brain" not in winner.alarms(),
               10, f"the active box's alarms: {winner.alarms()}")
    assert "ha.writes_kept_aside" in loser.alarms() and "ha.split_brain" not in loser.alarms()
    # the alarm stood since box b's cable was pulled (the first file it kept); it names the
    # newest once the active box has looked at the other again (once a second)
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
