"""A real HTTP receiver of webhooks for tests (http.server in a thread, on loopback): it
keeps every request and answers as a test sets it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LOOPBACK_OK = ("127.0.0.0/8",)  # for UrlGuard(allowed=...): these receivers listen on loopback


class Receiver:
    """What it answers is set per test: ``status`` (or a function of the body), ``huge``
    (an answer of 1 GB promised and streamed), ``hang`` (never answers), ``delay`` (seconds
    before answering: a slow receiver; each request is kept with its ``delay``); ``down()``
    stops listening (connections refused) and ``up()`` listens again on the same port."""

    def __init__(self):
        self.got: list[dict] = []
        self.status = 200
        self.huge = False
        self.hang = False
        self.delay = 0.0
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.hang:
                    receiver.release.wait(30)
                    return
                status = receiver.status(body) if callable(receiver.status) else receiver.status
                delay = receiver.delay
                receiver.got.append({"headers": dict(self.headers), "body": body, "status": status,
                                     "path": self.path, "delay": delay})
                if delay:
                    receiver.release.wait(delay)
                self.send_response(status)
                if receiver.huge:
                    self.send_header("Content-Length", str(1 << 30))
                    self.end_headers()
                    try:
                        chunk = b"x" * 65536
                        for _ in range(1 << 14):
                            self.wfile.write(chunk)
                    except OSError:
                        pass  # the sender hung up: what a bounded read does
                    return
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no")

        self._handler = Handler
        self.up(0)
        self.url = f"http://127.0.0.1:{self.port}/hooks?x=1"

    def up(self, port: int | None = None):
        """Listen (again) on ``port`` (this receiver's own by default)."""
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port if port is None else port), self._handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self):
        """Stop listening: a connection to it is refused (the receiver's host is up, its service not)."""
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        self.release.set()  # a handler still hanging from an earlier test ends
        self.release = threading.Event()
        self.got.clear()
        self.status, self.huge, self.hang, self.delay = 200, False, False, 0.0

    def types(self):
        return [json.loads(r["body"])["type"] for r in self.got]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver():
    """One receiver for a test module, as each test left it: call ``reset()`` first."""
    r = Receiver()
    yield r
    r.close()
