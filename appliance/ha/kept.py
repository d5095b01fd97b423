"""The databases a box of the pair kept aside, reached from the other box (issue 20).

The box that stood down is the standby: it runs no web UI, so the active box's web UI
reaches its ``kept-aside/`` folder through the standby's status port (``HaNode``'s status
server): ``GET /ha/kept-aside`` (the list), ``GET /ha/kept-aside/<name>`` (the file, in
chunks) and ``DELETE /ha/kept-aside/<name>``.  Each request carries ``X-Appliance-Pair: <unix
time> <HMAC-SHA256>`` over the method, the path and the time, keyed from the pair's shared
secret, and is refused (403) unsigned, signed with another secret or more than ``WINDOW``
seconds off; the status port's own ``/ha/status`` stays as it was.  Like the replication's
rsync, the file itself travels unencrypted on the pair's LAN.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from appliance.errors import DomainError, FieldError
from appliance.services import kept_aside

logger = logging.getLogger(__name__)

PREFIX = "/ha/kept-aside"
HEADER = "X-Appliance-Pair"
WINDOW = 30.0  # seconds a signature is good for, either way (the two boxes' clocks)
CHUNK = 1024 * 1024


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"appliance kept-aside", hashlib.sha256).digest()


def signature(secret: str, method: str, path: str, at: float) -> str:
    stamp = str(int(at))
    mac = hmac.new(_key(secret), f"{method} {path} {stamp}".encode(), hashlib.sha256).hexdigest()
    return f"{stamp} {mac}"


def signed(secret: str, method: str, path: str, header: str | None, now: float) -> bool:
    stamp, _, mac = (header or "").partition(" ")
    if not stamp.isdigit() or abs(now - int(stamp)) > WINDOW:
        return False
    return hmac.compare_digest(signature(secret, method, path, int(stamp)), f"{stamp} {mac}")


def app(folder: Path, secret: str, clock=time.time):
    """The WSGI answer to the other box's requests for this box's kept databases."""

    def answer(start_response, status: str, body: bytes = b"", kind: str = "text/plain"):
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    def serve(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if not secret or not signed(secret, method, path, environ.get("HTTP_X_APPLIANCE_PAIR"), clock()):
            return answer(start_response, "403 Forbidden", b"not signed by the pair\n")
        if path == PREFIX and method == "GET":
            return answer(start_response, "200 OK", json.dumps(kept_aside.listing(folder)).encode(),
                          "application/json")
        name = path[len(PREFIX) + 1:] if path.startswith(PREFIX + "/") else ""
        try:
            found = kept_aside.file_of(folder, name)
        except kept_aside.KeptNotFound:
            return answer(start_response, "404 Not Found", b"no such database kept aside\n")
        if method == "DELETE":
            kept_aside.remove(folder, name)
            logger.warning("hot standby: the other box removed the database kept aside %s", found)
            return answer(start_response, "204 No Content")
        if method != "GET":
            return answer(start_response, "405 Method Not Allowed")
        f = open(found, "rb")
        start_response("200 OK", [("Content-Type", "application/vnd.sqlite3"),
                                  ("Content-Length", str(found.stat().st_size))])
        return environ.get("wsgi.file_wrapper", _chunks)(f, CHUNK)

    return serve


def _chunks(f, size: int):
    with f:
        while chunk := f.read(size):
            yield chunk


class PeerFiles:
    """The other box's kept databases, for ``KeptAside``: signed requests to its status port."""

    def __init__(self, address: str, port: int, secret: str, *, timeout: float = 5.0, clock=time.time,
                 seen=lambda: None):
        self.address, self.port, self.secret = address, port, secret
        self.timeout, self.clock = timeout, clock
        self.seen = seen  # the node's last look at the peer (``HaNode.peer_status``), or None

    def _request(self, method: str, path: str):
        request = urllib.request.Request(f"http://{self.address}:{self.port}{path}", method=method,
                                         headers={HEADER: signature(self.secret, method, path, self.clock())})
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                raise kept_aside.not_found(urllib.parse.unquote(path.rsplit("/", 1)[-1])) from None
            raise self._unreachable(f"HTTP {exc.code}") from None
        except OSError as exc:
            raise self._unreachable(str(exc)) from None

    def _unreachable(self, why: str) -> DomainError:
        logger.warning("hot standby: the other box's kept databases are out of reach (%s)", why)
        return kept_aside.PeerUnreachable(FieldError(
            "error.code.ha.peer_unreachable", "the other box ({address}) does not answer: its databases kept "
            "aside cannot be reached now", address=self.address), params={"address": self.address})

    def list(self) -> list[dict]:
        """The peer's kept databases; not asked (so a page never waits on a silent peer) when
        the last look found it silent or holding none."""
        last = self.seen()
        if last is not None and not last.get("reachable"):
            raise self._unreachable("it did not answer the last look")
        if last is not None and not last.get("kept_aside"):
            return []
        with self._request("GET", PREFIX) as answer:
            try:
                return [f for f in json.loads(answer.read(1024 * 1024)) if kept_aside.NAME.match(f.get("name", ""))]
            except (ValueError, AttributeError, TypeError):
                raise self._unreachable("not a list") from None

    def open(self, name: str):
        """``(size, chunks)``: the file streamed from the other box."""
        answer = self._request("GET", f"{PREFIX}/{urllib.parse.quote(name)}")
        size = int(answer.headers.get("Content-Length") or 0)

        def chunks():
            with answer:
                while chunk := answer.read(CHUNK):
                    yield chunk

        return size, chunks()

    def remove(self, name: str) -> None:
        self._request("DELETE", f"{PREFIX}/{urllib.parse.quote(name)}").close()
