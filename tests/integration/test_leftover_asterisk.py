"""An Asterisk left running by an appliance process that was killed (kill -9) is found and
stopped by the next start on the same data directory: exactly one Asterisk runs afterwards,
the new one; health is ok and a phone added after the restart registers.  A port held by
another program refuses the start with the reason in health, and the AMI client hangs up
on an Asterisk that does not hold this start's token."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness import REPO, Phone, free_port, rtp_range, started, wait_until

pytestmark = pytest.mark.asterisk


def asterisks_of(instance_dir: Path) -> list[int]:
    """Pids of the Asterisk daemons (not CLI clients) that see ``instance_dir`` at their
    /appliance: read from /proc here, independently of the code under test."""
    mine = os.stat(instance_dir)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "asterisk":
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"-f" not in argv:
                continue
            theirs = os.stat(entry / "root" / "appliance")
        except OSError:
            continue
        if (theirs.st_dev, theirs.st_ino) == (mine.st_dev, mine.st_ino):
            found.append(int(entry.name))
    return sorted(found)


class Run:
    """``python -m appliance.main`` as a separate process on fixed settings."""

    def __init__(self, tmp_path: Path, settings: dict, name: str):
        self.argv = [sys.executable, "-m", "appliance.main"]
        for key, value in settings.items():
            self.argv += ["--set", f"{key}={value}"]
        self.log = open(tmp_path / f"{name}.log", "w+")
        self.proc = subprocess.Popen(self.argv, cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.base = f"http://127.0.0.1:{settings['web_port']}"
        self.token = None  # health names the Asterisk pid only to a signed-in caller

    def printed_status(self):
        line = self.proc.stdout.readline()
        if self.proc.poll() is not None:
            self.log.seek(0)
            raise AssertionError(f"the appliance exited ({self.proc.returncode}):\n{self.log.read()[-4000:]}")
        return json.loads(line) if line.startswith("{") else None

    def health(self):
        try:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            with urllib.request.urlopen(urllib.request.Request(self.base + "/api/health", headers=headers),
                                        timeout=10) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as err:
            return json.loads(err.read())
        except OSError:
            return None

    def healthy(self):
        health = self.health()
        return health if health and health["status"] == "ok" else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _session_token(base: str, password: str) -> str:
    """Sign in with the first admin password and make an API token (as test_run does)."""
    import http.cookiejar
    import urllib.parse

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    data = urllib.parse.urlencode({"username": "admin", "password": password}).encode()
    page = opener.open(urllib.request.Request(base + "/login", data=data), timeout=30).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    req = urllib.request.Request(base + "/api/v1/tokens", data=json.dumps({"name": "t"}).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    return json.loads(opener.open(req, timeout=30).read())["token"]


def test_restart_after_kill_9_stops_the_leftover_asterisk(tmp_path, rootfs):
    rtp_start, rtp_end = rtp_range()
    settings = {
        "data_dir": tmp_path / "data", "rootfs": rootfs, "web_port": free_port(), "sip_bind": "127.0.0.1",
        "sip_port": free_port(socket.SOCK_DGRAM), "ami_port": free_port(), "agi_port": free_port(),
        "rtp_start": rtp_start, "rtp_end": rtp_end,
    }
    instance_dir = tmp_path / "data" / "asterisk"
    first = Run(tmp_path, settings, "first")
    second = None
    try:
        wait_until(first.printed_status, 90, "the first appliance started")
        password = (tmp_path / "data" / "first-admin-password.txt").read_text().strip()
        wait_until(first.healthy, 60, "health ok")
        first.token = _session_token(first.base, password)
        old_pid = wait_until(first.healthy, 60, "health ok")["components"]["asterisk"]["pid"]
        assert asterisks_of(instance_dir) == [old_pid]

        first.proc.kill()  # kill -9: no chance to stop its Asterisk
        first.proc.wait(10)
        first.log.close()
        assert asterisks_of(instance_dir) == [old_pid], "the killed appliance's Asterisk should still run"

        second = Run(tmp_path, settings, "second")
        wait_until(second.printed_status, 90, "the second appliance started")
        wait_until(second.healthy, 60, "health ok after the restart")
        second.token = _session_token(second.base, password)
        health = wait_until(second.healthy, 60, "health ok after the restart")
        new_pid = health["components"]["asterisk"]["pid"]
        assert new_pid != old_pid
        assert asterisks_of(instance_dir) == [new_pid], "exactly one Asterisk, the new one"
        assert health["components"]["ami"]["up"] and health["services"]["asterisk"]["restarts"] == 0
        assert health["process"] == {"user": "root", "world_readable": []}  # make run: root, files private
        second.log.flush()
        assert f"still running (pid {old_pid}" in (tmp_path / "second.log").read_text()

        # a phone added now reaches the Asterisk that answers on the SIP port
        token = second.token
        req = urllib.request.Request(second.base + "/api/v1/phones", method="POST",
                                     data=json.dumps({"extension": "1001", "secret": "pw-1001-secret"}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
        assert urllib.request.urlopen(req, timeout=30).status == 201
        phone = Phone("1001", "pw-1001-secret", ("127.0.0.1", settings["sip_port"]), tmp_path / "sipp").start()
        phone.stop()
    finally:
        if first.proc.poll() is None:
            first.stop()
        if second is not None:
            second.stop()
        for pid in asterisks_of(instance_dir):  # never leave one behind, whatever failed
            os.kill(pid, signal.SIGKILL)


def test_a_port_held_by_another_program_refuses_the_start_and_names_it(make_appliance):
    from appliance.pbx import PortBusy

    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        app = make_appliance(sip_port=port)
        with pytest.raises(PortBusy) as refused:  # Asterisk is critical: the appliance does not start
            app.start(web=False)
        assert f"UDP port 127.0.0.1:{port} is in use (held by pid {os.getpid()} (" in str(refused.value)
        assert app.health()["status"] == "down"
        assert not app.pbx.running and asterisks_of(app.pbx.instance_dir) == []
    finally:
        holder.close()


def test_ami_hangs_up_on_an_asterisk_without_this_starts_token(make_appliance):
    from appliance.ami.client import AmiClient
    from appliance.dialplan_vars import INSTANCE_GLOBAL

    app = started(make_appliance())
    s = app.settings
    assert app.pbx.token and app.health()["components"]["ami"]["reason"] is None

    def client(expected):
        return AmiClient("127.0.0.1", s.ami_port, "appliance", app.secrets["ami_secret"], backoff=(0.1, 0.2),
                         identity=lambda: (INSTANCE_GLOBAL, expected))

    stranger = client("a-token-of-another-start")
    none_started = client(None)
    ours = client(app.pbx.token)
    try:
        for c in (stranger, none_started, ours):
            c.start()
        assert ours.wait_connected(15)
        wait_until(lambda: stranger.last_error and none_started.last_error, 15, "both refused")
        assert {stranger.state, none_started.state} <= {"wrong_instance", "connecting"}
        assert not stranger.connected and not none_started.connected
        assert "is not the one this appliance started" in stranger.last_error
        assert f"{INSTANCE_GLOBAL} is {app.pbx.token!r}" in stranger.last_error
        assert "ours is not running" in none_started.last_error
    finally:
        for c in (stranger, none_started, ours):
            c.stop()
