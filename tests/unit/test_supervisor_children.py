"""The supervisor with real child processes: each child killed and brought back, a
child that keeps dying stopped with an alarm, restarts only when a child's inputs
change, children switched on and off by their settings, and the one status, also as
the file the serial console reads.  Last, the real console process under it."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from appliance.supervisor import (
    CRASH_LOOP,
    RESTART_REQUESTS,
    START_FAILED,
    STATUS_FILE,
    ProcessChild,
    RespawnPolicy,
    Supervisor,
    digest,
    read_status,
    request_restart,
    write_status,
)
from harness import wait_until

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def fast_policy(limit=3):
    return RespawnPolicy(backoff_min=0.05, backoff_max=0.2, crash_window=60, crash_limit=limit)


@pytest.fixture
def supervisor(tmp_path):
    made = []

    def make(**kw):
        made.append(Supervisor(tmp_path / "run" / STATUS_FILE, interval=0.1, **kw))
        return made[-1]

    yield make
    for s in made:
        s.stop()


def add_sleeper(sup, name, **kw):
    child = ProcessChild(name, lambda: SLEEPER, stop_timeout=2)
    sup.add(child.watch(policy=kw.pop("policy", fast_policy()), **kw))
    return child


def kill(child):
    pid = child.pid
    os.kill(pid, signal.SIGKILL)
    return pid


def test_each_child_killed_comes_back(supervisor, tmp_path):
    sup = supervisor()
    children = [add_sleeper(sup, "one"), add_sleeper(sup, "two", critical=True)]
    sup.start()
    assert sup.status()["status"] == "ok"
    for child in children:
        old = kill(child)
        watch = sup.watches[child.name]
        wait_until(lambda: watch.state == "running" and child.pid not in (None, old), 10, f"{child.name} back")
        assert watch.restarts == 1 and watch.alarm is None
    def restarts_published():
        published = read_status(tmp_path / "run" / STATUS_FILE) or {}
        return published.get("status") == "ok" and {n: s["restarts"] for n, s in
                                                     published.get("services", {}).items()} == {"one": 1, "two": 1}

    # the file is written a moment after each change: an "ok" from before the second restart
    # was once read under load (two: 0)
    wait_until(restarts_published, 5, "both restarts in the status file")
    assert read_status(tmp_path / "run" / STATUS_FILE)["stale"] is False


def test_a_child_that_keeps_dying_is_stopped_with_an_alarm(supervisor, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    sup = supervisor()
    flaky = add_sleeper(sup, "flaky", policy=fast_policy(limit=2))
    steady = add_sleeper(sup, "steady")
    sup.start()
    watch = sup.watches["flaky"]
    for _ in range(3):
        wait_until(lambda: watch.state == "running" and flaky.pid, 10, "flaky running")
        kill(flaky)
        wait_until(lambda: watch.state != "running", 10, "the exit noticed")
    wait_until(lambda: watch.state == "crash-loop", 10, "crash loop detected")
    steady_pid = steady.pid
    status = sup.status()
    assert status["status"] == "degraded" and status["services"]["steady"]["state"] == "running"
    assert status["alarms"] == [{"service": "flaky", "code": CRASH_LOOP,
                                 "text": "flaky exited 3 times within 60s; not restarting it"}]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL] == [
        f"alarm {CRASH_LOOP}: flaky exited 3 times within 60s; not restarting it"]
    sup.reconcile()  # nothing changed: it stays stopped, it does not spin
    assert watch.state == "crash-loop" and flaky.pid is None and steady.pid == steady_pid
    wait_until(lambda: read_status(tmp_path / "run" / STATUS_FILE)["alarms"], 5, "alarm published")


def test_a_crash_looped_child_is_restarted_when_someone_asks(supervisor, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    sup = supervisor()
    flaky = add_sleeper(sup, "flaky", policy=fast_policy(limit=0))
    sup.start()
    kill(flaky)
    watch = sup.watches["flaky"]
    wait_until(lambda: watch.state == "crash-loop", 10, "crash loop detected")
    run_dir = tmp_path / "run"
    # the console or the web UI, another process: a request file the next reconcile takes
    request_restart(run_dir, "flaky", "admin (ttyS0)")
    request_restart(run_dir, "nosuch", "admin")
    with pytest.raises(ValueError):
        request_restart(run_dir, "../status.json", "admin")  # never a path
    wait_until(lambda: watch.state == "running" and flaky.pid, 10, "flaky started again")
    assert watch.alarm is None and sup.status()["status"] == "ok"
    assert list((run_dir / RESTART_REQUESTS).iterdir()) == []  # both taken, the unknown one too
    messages = [r.getMessage() for r in caplog.records]
    assert "restarting flaky: admin (ttyS0) asked" in messages
    assert "admin asked to restart 'nosuch': there is no such service" in messages
    # its own policy still holds after the restart: a new crash stops it again
    kill(flaky)
    wait_until(lambda: watch.state == "crash-loop", 10, "stopped again by its own policy")


def test_a_critical_child_down_makes_the_appliance_down(supervisor):
    sup = supervisor()
    core = add_sleeper(sup, "core", critical=True, policy=fast_policy(limit=0))
    sup.start()
    kill(core)
    wait_until(lambda: sup.status()["status"] == "down", 10, "down")


def test_restart_only_when_inputs_change(supervisor, tmp_path):
    config = tmp_path / "child.conf"
    config.write_text("a")
    sup = supervisor()
    watched = add_sleeper(sup, "watched", inputs=lambda: digest(config))
    other = add_sleeper(sup, "other", inputs=lambda: digest("fixed"))
    sup.start()
    pids = (watched.pid, other.pid)
    sup.reconcile()
    sup.reconcile()
    assert (watched.pid, other.pid) == pids  # nothing changed: nothing restarted
    config.write_text("b")
    wait_until(lambda: watched.pid not in (None, pids[0]), 5, "restart on the new input")
    assert other.pid == pids[1] and sup.watches["watched"].restarts == 0
    # a crash-looped child gets another chance when its inputs change
    sup.watches["watched"].policy = fast_policy(limit=0)
    kill(watched)
    wait_until(lambda: sup.watches["watched"].state == "crash-loop", 5, "crash loop")
    config.write_text("c")
    wait_until(lambda: sup.watches["watched"].state == "running" and watched.pid, 5, "started again")
    assert sup.watches["watched"].alarm is None


def test_children_follow_their_enabled_setting(supervisor, tmp_path):
    switch = tmp_path / "on"
    sup = supervisor()
    child = add_sleeper(sup, "dhcp", enabled=switch.exists)
    sup.start()
    assert sup.watches["dhcp"].state == "disabled" and child.pid is None and sup.status()["status"] == "ok"
    switch.touch()
    wait_until(lambda: child.pid, 5, "started when enabled")
    pid = child.pid
    switch.unlink()
    wait_until(lambda: sup.watches["dhcp"].state == "disabled", 5, "stopped when disabled")
    wait_until(lambda: not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text(),
               5, "process gone")


def test_a_child_that_cannot_start_is_alarmed_then_given_up(supervisor):
    sup = supervisor()
    sup.add(ProcessChild("missing", lambda: ["/nonexistent/program"]).watch(policy=fast_policy(limit=2)))
    sup.start()  # not critical: the others start anyway
    watch = sup.watches["missing"]
    assert watch.state == "failed" and watch.alarm_code == START_FAILED
    wait_until(lambda: watch.state == "crash-loop", 5, "given up")
    assert watch.alarm_code == CRASH_LOOP


def test_a_critical_child_that_cannot_start_stops_the_rest(supervisor):
    sup = supervisor()
    other = add_sleeper(sup, "other")
    sup.add(ProcessChild("core", lambda: ["/nonexistent/program"]).watch(critical=True))
    with pytest.raises(OSError):
        sup.start()
    assert other.pid is None and sup.watches["other"].state == "stopped"


def test_status_file_says_when_its_writer_is_gone(tmp_path):
    path = tmp_path / STATUS_FILE
    assert read_status(path) is None
    assert write_status(path, {"status": "ok"}) and not write_status(path, {"status": "ok"})  # only on change
    assert read_status(path)["stale"] is False
    path.write_text(path.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))
    assert read_status(path)["stale"] is True


def test_the_serial_console_under_the_supervisor(tmp_path):
    """The child the appliance adds when ``serial_device`` is set: killed, it comes back
    and answers on the same line."""
    from appliance import settings
    from appliance.main import supervised_children
    from provisioning import firstboot
    from test_console import Pty

    pty = Pty()
    s = settings.load(None, {"data_dir": str(tmp_path / "data"), "serial_device": pty.path, "ami_port": "1",
                             "hardware_root": str(Path(__file__).resolve().parent.parent / "fixtures/dahdi/no_card")})
    password = firstboot.run(s)
    sup = Supervisor(s.run_dir / STATUS_FILE, interval=0.1)  # where the console reads it
    (console,) = supervised_children(s)
    console.policy = fast_policy()
    sup.add(console)
    try:
        sup.start()
        pty.expect("login: ", timeout=20)
        child_pid = console.child.pid
        os.kill(child_pid, signal.SIGKILL)
        wait_until(lambda: console.restarts == 1 and console.state == "running", 10, "console respawned")
        pty.expect("login: ", timeout=20)
        pty.type("admin", password)
        pty.expect("Signed in as admin")
        sup.publish()
        pty.type("services")
        pty.expect(r"Services: ok")
        pty.expect(r"console +running .* restarts 1")
    finally:
        sup.stop()
        pty.close()
