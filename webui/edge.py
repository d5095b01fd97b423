"""The web UI's edge: how many connections it holds, how long a request may take to
arrive, and how big its body may be, so that no client (a slow one, a malicious one, a
thousand of them) can take from the call path what it needs: descriptors, the loop's
time, the disk (issue 13).

- ``WebServer``: gevent's ``WSGIServer`` with a pool of ``max_connections`` (while it is
  full the server stops accepting: further clients wait in the kernel's accept backlog and
  cost this process no descriptor) and at most ``max_per_source`` connections from one
  address (the next are answered ``503`` and closed at once).
- ``GuardedHandler``: the request line and headers must arrive within ``header_seconds``
  of the connection (or of the previous response, on a kept-alive connection); a TLS
  handshake within the same time.  The body is read through a ``BodyReader``.  Responses
  are never timed: an event stream (``/api/v1/events``) stays open as long as it likes.
- ``BodyReader``: counts what the route reads and stops at its cap (``TooLarge``, 413),
  whatever Content-Length said (chunked, or a lying client); a read that waits more than
  ``body_idle_seconds`` for data ends the request (``RequestTimeout``, 408).  A body the app
  refused or did not read is not drained afterwards: the connection is closed instead.
- ``BodyLimitPlugin``: each route declares its cap beside it (``body_limit=`` in the route's
  config, bytes); the default is ``DEFAULT_BODY_LIMIT``.  A Content-Length above the cap is
  refused before a byte of the body is read, before even who is asking is known.

The arithmetic of descriptors (what ``max_connections`` may be for a given ``ulimit -n``)
is ``web_connection_cap``; docs/operations.md, "Limits of the web UI", explains it.
"""

from __future__ import annotations

import logging
from collections import Counter

import gevent
from gevent.lock import Semaphore
from gevent.pool import Pool
from gevent.pywsgi import Input, WSGIHandler, WSGIServer

from appliance.errors import BadRequest, DomainError, FieldError, TooLarge

logger = logging.getLogger(__name__)

KIB = 1024
MIB = 1024 * KIB
DEFAULT_BODY_LIMIT = 1 * MIB  # a form or a JSON object; uploads declare their own
MULTIPART_OVERHEAD = 64 * KIB  # the form's other fields and part headers around an uploaded file

# Descriptors per web connection at worst: its socket, and while a request runs its own
# SQLite connection (the database file, its WAL and its shared-memory index).
FDS_PER_WEB_CONNECTION = 4
# Descriptors kept for everything else besides FastAGI's sessions: AMI, the database
# connections of the loop and of the query threads, the recording encoders' pipes,
# Asterisk's and the supervised children's pipes, log files, recordings being converted.
FDS_RESERVED = 256

_BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n"
                  b"Retry-After: 5\r\nContent-Length: 42\r\n\r\ntoo many connections from this address\r\n\r\n")


# Cheap answers that must not wait behind the app's heavy work; gated apart, two at a time.
UNGATED_PATHS = frozenset({"/api/health"})
_BUSY_BODY = (b'{"error": "busy", "message": "the appliance is busy: try again in a moment", "fields": {}}')


class RequestTimeout(DomainError):
    """The client stopped sending the body it announced."""

    code = "request.timeout"
    http_status = 408


def web_connection_cap(wanted: int, nofile: int, agi_sessions: int) -> int:
    """How many web connections fit in ``nofile`` descriptors while FastAGI's
    ``agi_sessions`` and ``FDS_RESERVED`` stay free: ``wanted``, or fewer (at least 16)."""
    room = (nofile - agi_sessions - FDS_RESERVED) // FDS_PER_WEB_CONNECTION
    return max(16, min(wanted, room))


def raise_fd_limit() -> tuple[int, int]:
    """RLIMIT_NOFILE's soft limit raised to its hard limit (a process may, unprivileged);
    the (soft, hard) limits after."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard_value = 1 << 20
    else:
        hard_value = hard
    if soft != resource.RLIM_INFINITY and soft < hard_value:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard_value, hard))
            soft = hard_value
        except (ValueError, OSError) as exc:
            logger.warning("could not raise the open-files limit from %s to %s: %s", soft, hard_value, exc)
    return (hard_value if soft == resource.RLIM_INFINITY else soft), hard_value


class BodyReader:
    """``wsgi.input`` with a cap and an idle timeout (see the module's docstring).  ``limit``
    is set per route by ``BodyLimitPlugin``; until then, ``DEFAULT_BODY_LIMIT``."""

    def __init__(self, inner, limit: int = DEFAULT_BODY_LIMIT, idle_seconds: float | None = None,
                 content_length: int | None = None):
        self.inner = inner
        self.limit = limit
        self.idle_seconds = idle_seconds
        self.content_length = content_length
        self.position = 0
        self.cut = False  # refused, over the cap or timed out: not to be drained, the connection closes

    def refuse(self) -> None:
        """The app answers without reading the body."""
        self.cut = True

    def _call(self, fn, size):
        if size is None or size < 0 or size > self.limit - self.position + 1:
            size = self.limit - self.position + 1  # one more than allowed: enough to know it is too much
        if size <= 0:
            return b""
        timer = gevent.Timeout.start_new(self.idle_seconds) if self.idle_seconds else None
        try:
            data = fn(size)
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            self.cut = True
            raise RequestTimeout(FieldError("error.msg.body_timeout",
                                            f"no part of the request body came for {self.idle_seconds:g} s",
                                            seconds=f"{self.idle_seconds:g}")) from None
        finally:
            if timer is not None:
                timer.cancel()
        self.position += len(data)
        if self.position > self.limit:
            self.cut = True
            size = describe_bytes(self.limit)
            raise TooLarge(FieldError("error.msg.body_too_large", f"the request body is larger than {size}", size=size),
                           fields={"limit_bytes": str(self.limit)})
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._call(self.inner.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._call(self.inner.readline, size)

    def readlines(self, hint=None) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")

    def _discard(self) -> None:
        """Called by gevent after the response: what the app left unread is drained (to
        read the next request on the connection) only if it is small and the body was not
        cut; otherwise the connection is closed (``GuardedHandler``)."""
        if self.cut:
            return
        left = (self.content_length or 0) - self.position
        if left > DEFAULT_BODY_LIMIT or (left > 0 and getattr(self.inner, "chunked_input", False)):
            self.cut = True
            return
        discard = getattr(self.inner, "_discard", None)
        if discard is None:
            return
        timer = gevent.Timeout.start_new(self.idle_seconds) if self.idle_seconds else None
        try:
            discard()
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            self.cut = True
        finally:
            if timer is not None:
                timer.cancel()


def describe_bytes(n: int) -> str:
    return f"{n // MIB} MiB" if n >= MIB and n % MIB == 0 else (f"{n // KIB} KiB" if n >= KIB else f"{n} bytes")


class BodyLimitPlugin:
    """The per-route cap on request bodies.  Installed just inside the errors plugin, so
    that nothing (the CSRF check reading a form, the route) reads a body before it."""

    name, api = "body_limit", 2

    def __init__(self, default: int = DEFAULT_BODY_LIMIT):
        self.default = default

    def apply(self, callback, route):
        limit = route.config.get("body_limit") or self.default

        def wrapper(*args, **kwargs):
            from bottle import request

            env = request.environ
            reader = env.get("wsgi.input")
            if not isinstance(reader, BodyReader):
                reader = env["wsgi.input"] = BodyReader(reader, limit, content_length=request.content_length)
            reader.limit = limit
            if request.content_length > limit:
                reader.refuse()
                logger.warning("%s %s from %s refused: a body of %s bytes (cap %s)", request.method, request.path,
                               request.remote_addr, request.content_length, limit)
                size = describe_bytes(limit)
                raise TooLarge(FieldError("error.msg.body_too_large", f"the request body is larger than {size}",
                                          size=size), fields={"limit_bytes": str(limit)})
            parse_form(request)
            return callback(*args, **kwargs)

        return wrapper


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def parse_form(request) -> None:
    """Read a form body here, once, so that one that cannot be read (a multipart part whose
    name holds control characters, a broken boundary) is a 400 for whoever sent it, not a
    ValueError wherever a route or plugin first touches ``request.forms`` (found by the fuzz
    tier).  Bottle keeps what it parsed; the route reads it from there as before."""
    if request.content_type.split(";", 1)[0].strip().lower() not in FORM_TYPES:
        return
    try:
        request.POST  # noqa: B018 (parsed and cached by bottle)
    except DomainError:
        raise  # the body's own cap or timeout, from the BodyReader
    except (ValueError, UnicodeError, KeyError, IndexError) as exc:
        raise BadRequest(f"the form could not be read: {exc}", code="request.malformed_body") from None


class GuardedHandler(WSGIHandler):
    """One connection: headers on time, bodies through a ``BodyReader``."""

    _header_timer: gevent.Timeout | None = None
    _reader: BodyReader | None = None

    def handle_one_request(self):
        limits = self.server.limits
        self._reader = None
        timer = self._header_timer = gevent.Timeout.start_new(limits.header_seconds)
        try:
            result = super().handle_one_request()
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            self.close_connection = True
            return None  # a half-sent request (or an idle kept-alive connection): closed, silently
        finally:
            timer.cancel()
        if self._reader is not None and self._reader.cut:
            self.close_connection = True
            return None
        return result

    def run_application(self):
        """The app runs for at most ``max_active`` requests at once; the others wait (costing
        the loop nothing) up to ``queue_seconds``, then get 503.  However many clients ask,
        the loop's queue of runnable web work stays short, so a FastAGI request that becomes
        ready waits behind a few web requests, not hundreds.  Only the app's call is counted:
        the response body (an event stream, a download) is written outside it."""
        gate = self.server.gate
        if self.environ.get("PATH_INFO") in UNGATED_PATHS:
            gate = self.server.health_gate  # a monitor's question does not wait behind searches
        if not gate.acquire(timeout=self.server.limits.queue_seconds):
            self.server.refused_busy += 1
            if self._reader is not None:
                self._reader.refuse()
            self.close_connection = True
            self.result = [_BUSY_BODY]
            self.start_response("503 Service Unavailable", [("Content-Type", "application/json; charset=utf-8"),
                                                            ("Retry-After", "1"), ("Connection", "close"),
                                                            ("Content-Length", str(len(_BUSY_BODY)))])
            self.process_result()
            return
        app = self.application

        def gated(environ, start_response):
            try:
                return app(environ, start_response)
            finally:
                gate.release()

        self.application = gated
        try:
            super().run_application()
        finally:
            self.application = app

    def get_environ(self):
        env = super().get_environ()
        # the headers are in: from here on, the request's time is the app's (and the body's)
        if self._header_timer is not None:
            self._header_timer.cancel()
        if isinstance(env.get("wsgi.input"), Input):
            self._reader = BodyReader(self.wsgi_input, DEFAULT_BODY_LIMIT, self.server.limits.body_idle_seconds,
                                      self.content_length)
            self.wsgi_input = env["wsgi.input"] = self._reader
        return env


class WebLimits:
    def __init__(self, max_connections: int = 1024, max_per_source: int = 256, header_seconds: float = 10.0,
                 body_idle_seconds: float = 30.0, max_active: int = 4, queue_seconds: float = 15.0):
        self.max_connections = max_connections
        self.max_per_source = max_per_source
        self.header_seconds = header_seconds
        self.body_idle_seconds = body_idle_seconds
        self.max_active = max_active
        self.queue_seconds = queue_seconds

    def __repr__(self) -> str:
        return (f"WebLimits(max_connections={self.max_connections}, max_per_source={self.max_per_source}, "
                f"header_seconds={self.header_seconds}, body_idle_seconds={self.body_idle_seconds}, "
                f"max_active={self.max_active}, queue_seconds={self.queue_seconds})")


def _source(address) -> str:
    return address[0] if isinstance(address, tuple) and address else ""


class WebServer(WSGIServer):
    """``WSGIServer`` within ``WebLimits``; ``stats`` counts what the limits turned away."""

    handler_class = GuardedHandler

    def __init__(self, listener, application, limits: WebLimits, **kwargs):
        self.limits = limits
        self.per_source: Counter[str] = Counter()
        self.refused_per_source = 0
        self.refused_busy = 0
        self.gate = Semaphore(limits.max_active)
        self.health_gate = Semaphore(2)
        super().__init__(listener, application, spawn=Pool(limits.max_connections), log=None, **kwargs)

    @property
    def connections(self) -> int:
        return sum(self.per_source.values())

    def do_handle(self, sock, address):
        """In the accept loop, before a greenlet is spawned: an address over its share is
        answered and closed at once (an attacker re-connecting in a loop costs an accept
        and a close, not a greenlet)."""
        if self.per_source[_source(address)] >= self.limits.max_per_source:
            self._refuse(sock, _source(address))
            return
        super().do_handle(sock, address)

    def _refuse(self, sock, source: str) -> None:
        self.refused_per_source += 1
        if self.refused_per_source in (1, 10, 100, 1000) or self.refused_per_source % 10000 == 0:
            logger.warning("web: %s has %s connections open, refusing more (%s refused so far)", source,
                           self.per_source[source], self.refused_per_source)
        try:
            sock.setblocking(False)
            sock.send(_BUSY_RESPONSE)  # a fresh socket's buffer takes it whole; never waited for
        except OSError:
            pass
        sock.close()

    def _admit(self, sock, address) -> str | None:
        source = _source(address)
        if self.per_source[source] >= self.limits.max_per_source:  # those accepted in the same batch
            self._refuse(sock, source)
            return None
        self.per_source[source] += 1
        return source

    def _release(self, source: str) -> None:
        self.per_source[source] -= 1
        if self.per_source[source] <= 0:
            del self.per_source[source]

    def handle(self, sock, address):
        source = self._admit(sock, address)
        if source is None:
            return
        try:
            return super().handle(sock, address)
        finally:
            self._release(source)

    def wrap_socket_and_handle(self, client_socket, address):
        """TLS: the handshake, too, within ``header_seconds``."""
        source = self._admit(client_socket, address)
        if source is None:
            return
        try:
            try:
                with gevent.Timeout(self.limits.header_seconds):
                    tls = self.wrap_socket(client_socket, **self.ssl_args)
            except (gevent.Timeout, OSError):
                client_socket.close()
                return
            try:
                return WSGIServer.handle(self, tls, address)
            finally:
                tls.close()
        finally:
            self._release(source)
