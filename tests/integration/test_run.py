"""What `make run` starts, as a separate process: the appliance answers on its web port,
prints a first admin password that signs in, reports each component's health, serves its
OpenAPI document, and a config change made through the token-authenticated API reaches
the running Asterisk without a restart, and a call then takes the new route."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import gevent
import pytest

from harness import REPO, TRUNK_IP, Phone, free_port, rtp_range, trunk_call, wait_until

pytestmark = pytest.mark.asterisk


class Http:
    """A tiny browser: cookies, form posts, JSON; never raises on an HTTP status."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, method, path, *, data=None, json_body=None, headers=None):
        headers = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=30) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def json(self, method, path, **kw):
        status, text = self.request(method, path, **kw)
        return status, (json.loads(text) if text else None)


@pytest.fixture
def running(tmp_path, rootfs):
    web_port = free_port()
    sip_port = free_port(socket.SOCK_DGRAM)
    rtp_start, rtp_end = rtp_range()
    settings = {
        "data_dir": tmp_path / "data", "rootfs": rootfs, "web_port": web_port, "sip_bind": "127.0.0.1",
        "sip_port": sip_port, "ami_port": free_port(), "agi_port": free_port(),
        "rtp_start": rtp_start, "rtp_end": rtp_end,
    }
    argv = [sys.executable, "-m", "appliance.main"]
    for key, value in settings.items():
        argv += ["--set", f"{key}={value}"]
    log = open(tmp_path / "appliance.log", "w+")
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines = []

    def printed_password():
        line = proc.stdout.readline()
        if line:
            lines.append(line)
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError(f"the appliance exited ({proc.returncode}):\n{log.read()[-4000:]}")
        match = re.search(r"password '([^']+)'", "".join(lines))
        return match.group(1) if match else None

    try:
        password = wait_until(printed_password, 90, "the first admin password on stdout")
        base = f"http://127.0.0.1:{web_port}"
        yield {"base": base, "password": password, "sip": ("127.0.0.1", sip_port), "stdout": lines,
               "tmp": tmp_path, "log": tmp_path / "appliance.log"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode == 0, f"the appliance did not stop cleanly ({proc.returncode})"


def test_make_run_appliance_end_to_end(running):
    web = Http(running["base"])
    assert json.loads(running["stdout"][0])["web"] == running["base"] + "/"

    # health: each component, all up once Asterisk and AMI are there
    def healthy():
        status, body = web.json("GET", "/api/health")
        return body if status == 200 and body["status"] == "ok" else None

    health = wait_until(healthy, 60, "health ok")
    assert set(health["components"]) == {"asterisk", "ami", "agi", "db", "hardware", "recording", "mail", "ha",
                                           "webhooks"}
    assert health["components"]["ha"] == {"state": "off", "up": True, "enabled": False}  # a box on its own
    assert all(c["up"] for c in health["components"].values())
    # this machine has no telephony card: a notice, not an alarm
    assert health["components"]["hardware"]["problems"] == ["dahdi.no_card"]
    assert health["services"]["asterisk"]["state"] == "running" and health["alarms"] == []

    # anonymous callers are refused; the printed password signs in
    assert web.json("GET", "/api/v1/queues")[0] == 401
    status, page = web.request("POST", "/login", data={"username": "admin", "password": running["password"]})
    # ... straight into the first-run setup (in Chinese, the first admin's language until
    # they choose), which asks for their own password first
    assert status == 200 and "首次设置" in page and 'action="/setup/password"' in page, page[:500]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    # a token for the API, made through the signed-in session
    status, made = web.json("POST", "/api/v1/tokens", json_body={"name": "test"}, headers={"X-CSRF-Token": csrf})
    assert status == 201
    api = Http(running["base"])
    auth = {"Authorization": f"Bearer {made['token']}"}

    status, spec = api.json("GET", "/api/openapi.json", headers=auth)
    assert status == 200 and spec["openapi"].startswith("3.1") and "/api/v1/queues" in spec["paths"]

    assert "pid" not in json.dumps(health)  # anonymous: states, no process ids
    pid_before = api.json("GET", "/api/health", headers=auth)[1]["components"]["asterisk"]["pid"]
    created = [
        ("trunks", {"name": "pstn", "host": TRUNK_IP, "match": TRUNK_IP}),
        ("queues", {"name": "sales", "strategy": "leastrecent"}),
        ("dids", {"number": "88001000", "queue": "sales", "trunk": "pstn"}),
        ("phones", {"extension": "1001", "secret": "pw-1001-secret", "callerid_name": "Alice"}),
        ("agents", {"number": "1001", "name": "Alice", "phone": "1001"}),
    ]
    for kind, body in created:
        status, out = api.json("POST", f"/api/v1/{kind}", json_body=body, headers=auth)
        assert status == 201, (kind, out)
    status, out = api.json("POST", "/api/v1/queues/sales/members", json_body={"agent": "1001"}, headers=auth)
    assert status == 201, out
    status, out = api.json("POST", "/api/v1/queues", json_body={"name": "x", "ring_timeout": "soon"}, headers=auth)
    assert status == 422 and "ring_timeout" in out["fields"]

    # the running Asterisk took it without a restart: a call reaches the agent through the new queue
    phone = Phone("1001", "pw-1001-secret", running["sip"], running["tmp"] / "sipp", ring_ms=300).start()
    try:
        status, out = api.json("POST", "/api/v1/agents/1001/login", headers=auth)
        assert status == 200 and out["queues"] == ["sales"], out

        def agent_free():
            live = api.json("GET", "/api/v1/live", headers=auth)[1]
            return any(a["name"] == "1001" and a["state"] == "free" for a in live["agents"])

        wait_until(agent_free, 20, "agent 1001 available in the live view")
        # the live event stream (Server-Sent Events) sees the call offered, answered and ended
        stream = urllib.request.urlopen(urllib.request.Request(running["base"] + "/api/v1/events", headers=auth),
                                        timeout=60)
        events = []
        reader = gevent.spawn(lambda: [events.append(json.loads(line[6:])) for line in
                                       (raw.decode().rstrip("\n") for raw in stream) if line.startswith("data: ")])
        call = trunk_call(running["sip"], "88001000", "13900000001", running["tmp"] / "sipp", hold_ms=2000)
        assert call.run(60) == 0, call.errors()
        call_events = lambda: [e.get("event") for e in events if e.get("caller") == "13900000001"]  # noqa: E731
        wait_until(lambda: {"offered", "answered", "ended"} <= set(call_events()), 10, "call events on the stream")
        assert any(e.get("name") == "1001" and e.get("state") == "in_call" for e in events)
        reader.kill()
        stream.close()
    finally:
        phone.stop()
    status, after = web.json("GET", "/api/health")
    assert after["components"]["asterisk"]["pid"] == pid_before
    assert after["components"]["asterisk"]["restarts"] == 0
    log = running["log"].read_text()
    assert "call " in log and "answered 13900000001 -> sales/1001" in log, log[-3000:]
