"""The guest's web UI and API over HTTPS (qemu forwards the guest's port 443 to a free port on
the host's loopback), as the first administrator: signed in with a cookie and the session's
CSRF token, or, after ``make_token``, with an API token as programs use it (docs/api.md
"A token for programs").  Shared by the boot tests."""

from __future__ import annotations

import http.client
import json
import re
import ssl
from urllib.parse import urlencode


class GuestWeb:
    def __init__(self, vm):
        self.vm, self.cookie, self.csrf, self.token = vm, "", "", ""

    def call(self, method: str, path: str, body=None, headers=None, timeout: float = 60) -> tuple[int, bytes, dict]:
        conn = http.client.HTTPSConnection("127.0.0.1", self.vm.https_port, timeout=timeout,
                                           context=ssl._create_unverified_context())
        sent = {"Accept": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        elif self.cookie:
            sent["Cookie"] = self.cookie
            if self.csrf and method != "GET":
                sent["X-CSRF-Token"] = self.csrf
        try:
            conn.request(method, path, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
            for name, value in answer.getheaders():
                if name.lower() == "set-cookie" and value.startswith("cc_session="):
                    self.cookie = value.split(";", 1)[0]
            return answer.status, data, dict(answer.getheaders())
        finally:
            conn.close()

    def json(self, method: str, path: str, data=None, expect: int = 200, **kw) -> dict:
        body = None if data is None else json.dumps(data).encode()
        status, raw, _ = self.call(method, path, body, {"Content-Type": "application/json"} if body else {}, **kw)
        assert status == expect, (method, path, status, raw[:500])
        return json.loads(raw) if raw else {}

    def sign_in(self, password: str, page: str = "/admin/upgrade") -> None:
        """Sign in as ``admin`` and take the CSRF token from ``page`` (or the first-run
        wizard's step it is held on)."""
        status, _, headers = self.call("POST", "/login", urlencode({"username": "admin", "password": password}),
                                       {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html",
                                        "Origin": f"https://127.0.0.1:{self.vm.https_port}"})
        assert status in (302, 303) and self.cookie, (status, headers)
        location = None
        for _ in range(3):  # the first-run wizard holds an admin's pages on /setup
            status, raw, headers = self.call("GET", location or page, headers={"Accept": "text/html"})
            if status in (302, 303):
                location = "/" + headers["Location"].split("://", 1)[-1].partition("/")[2]
                continue
            break
        self.csrf = re.search(rb'(?:csrf_token" value|data-csrf)="([^"]+)"', raw).group(1).decode()

    def make_token(self, name: str) -> str:
        """An API token with the admin's full access, made from the signed-in session; every
        request after this one carries it instead of the cookie."""
        self.token = self.json("POST", "/api/v1/tokens", {"name": name}, expect=201)["token"]
        return self.token


def dump_guest(shell, commands: tuple[str, ...], path) -> str:
    """What the guest says of itself when a step failed: each command's output through the
    test's root shell (``image_build.qemu.TestShell``), written to ``path`` and printed, so
    a failure's output says why; never raises (the failure is what matters)."""
    parts = []
    for command in commands:
        try:
            _, out = shell.run(command, timeout=120, check=False)
        except Exception as e:  # noqa: BLE001 (the guest may be gone)
            out = f"({e})"
        parts.append(f"### {command}\n{out}")
    text = "\n".join(parts)
    path.write_text(text)
    print(text)
    return text
