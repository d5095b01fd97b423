"""The FastAGI server: one gevent greenlet per AGI() call, handlers looked up by script.

The dialplan convention, which every ``AGI()`` in our dialplan follows
(``appliance.confgen.extensions._after_agi``)::

    same => n,AGI(agi://127.0.0.1:4573/route)
    same => n,GotoIf($["${AGISTATUS}" != "SUCCESS" | "${CC_AGI_FAILED}" = "1"
                       | "${CC_DEST_CONTEXT}" = ""]?cc-fallback,agi-failed,1)
    same => n,Goto(${CC_DEST_CONTEXT},${CC_DEST_EXTEN},1)

- On success the server sets nothing: the handler sets its own variables.
- When the script is unknown, or its handler raises anything (a bug, ``AgiCommandError``,
  ``handler_timeout`` exceeded), the server logs it with the channel and sets
  ``CC_AGI_FAILED=1``, ``CC_FALLBACK_REASON`` (``agi.unknown_script``,
  ``agi.handler_error`` or ``agi.timeout``), ``CC_DEST_CONTEXT=<fallback_context>`` and
  ``CC_DEST_EXTEN=s``, ``CC_AGI_FAILED`` first, so the caller reaches the fallback even
  if the connection dies half-way.
- If the caller hung up there is no channel left to rescue: counted, closed, one info line.
- A request that is not FastAGI (garbage, an HTTP probe, too long, too slow) has no
  channel either: one warning naming the peer and the error code, counted, closed.
- If this server is down or refuses, Asterisk sets ``AGISTATUS=FAILURE``: the same
  fallback, by the dialplan alone. The caller never waits in silence for a decision.

Concurrency is bounded by a ``gevent.pool.Pool(pool_size)``: while it is full the server
stops accepting, and new connections wait in the kernel's accept backlog (128) until a
handler finishes. Asterisk's connect has already succeeded by then, so those callers wait
(in silence) rather than fail: size the pool above the number of channels that can run
an AGI at once.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import deque
from dataclasses import asdict, dataclass

import gevent
from gevent.pool import Pool
from gevent.server import StreamServer

from appliance.agi.handlers import HandlerRegistry
from appliance.agi.protocol import AgiCommandTimeout, AgiError, AgiHangup, AgiProtocolError, AgiRequest
from appliance.agi.session import AgiSession, SocketStream
from appliance.dialplan_vars import AGI_FAILED, DEST_CONTEXT, DEST_EXTEN, FALLBACK_CONTEXT, FALLBACK_REASON

logger = logging.getLogger(__name__)

REASON_UNKNOWN_SCRIPT = "agi.unknown_script"
REASON_HANDLER_ERROR = "agi.handler_error"
REASON_TIMEOUT = "agi.timeout"

#: How long the fallback commands may take altogether.
FALLBACK_TIMEOUT = 5.0


@dataclass
class AgiStats:
    """Counters. ``requests`` counts accepted connections; each one, once finished, counts
    in exactly one of ``ok``, ``handler_errors``, ``bad_requests``, ``unknown_scripts`` and
    ``hangups``; ``active`` is the number being served now."""

    requests: int = 0
    ok: int = 0
    handler_errors: int = 0
    bad_requests: int = 0
    unknown_scripts: int = 0
    hangups: int = 0
    active: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class FastAgiServer:
    """Serves FastAGI requests from Asterisk with the handlers in ``registry``."""

    def __init__(self, host: str, port: int, registry: HandlerRegistry, *, pool_size: int = 200,
                 fallback_context: str = FALLBACK_CONTEXT, request_timeout: float = 5.0,
                 handler_timeout: float = 30.0):
        self.registry = registry
        self.fallback_context = fallback_context
        self.request_timeout = request_timeout
        self.handler_timeout = handler_timeout
        self.stats = AgiStats()
        # (script, seconds from connection to last answer) of the latest successful requests:
        # the time FastAGI adds to a call, read by the health page and the benchmarks
        self.latency: deque[tuple[str, float]] = deque(maxlen=20000)
        self.pool = Pool(pool_size)
        self._server = StreamServer((host, port), self._handle, spawn=self.pool)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self._server.start()
        logger.info("FastAGI listening on %s:%s (pool %s, scripts: %s)", *self.address,
                    self.pool.size, ", ".join(self.registry.names()) or "none")

    def stop(self, timeout: float | None = None) -> None:
        """Stop accepting; calls still running get ``timeout`` seconds (default 1) to finish."""
        if self._server.started:
            self._server.stop(timeout=timeout)
            logger.info("FastAGI stopped")

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    @property
    def address(self) -> tuple[str, int] | None:
        """The bound (host, port) while listening (the real port when 0 was asked), else None."""
        if not self._server.started or self._server.socket is None:
            return None
        host, port = self._server.socket.getsockname()[:2]
        return host, port

    # -- one connection ----------------------------------------------------------------
    def _handle(self, sock: socket.socket, peer: tuple) -> None:
        self.stats.requests += 1
        self.stats.active += 1
        stream = SocketStream(sock)
        started = time.perf_counter()
        try:
            script = self._serve(stream, _peer_name(peer))
            if script is not None:
                self.latency.append((script, time.perf_counter() - started))
        finally:
            self.stats.active -= 1
            stream.close()

    def _serve(self, stream: SocketStream, peer: str) -> None:
        try:
            with gevent.Timeout(self.request_timeout, AgiProtocolError(
                    f"no complete request within {self.request_timeout:g}s", code="agi.request_timeout")):
                env = stream.read_env()
        except (AgiProtocolError, OSError) as exc:
            self.stats.bad_requests += 1
            code = exc.code if isinstance(exc, AgiProtocolError) else "agi.connection_error"
            logger.warning("bad FastAGI request from %s: %s (%s)", peer, code, exc)
            return

        request = AgiRequest(env)
        session = AgiSession(stream, request)
        handler = self.registry.get(request.script)
        if handler is None:
            self.stats.unknown_scripts += 1
            logger.warning("unknown FastAGI script %r from %s (channel %s, uniqueid %s): caller goes to %s",
                           request.script, peer, request.channel, request.uniqueid, self.fallback_context)
            self._fallback(session, REASON_UNKNOWN_SCRIPT)
            return

        timeout = gevent.Timeout(self.handler_timeout)
        try:
            with timeout:
                handler(session, request)
        except AgiHangup as exc:
            self.stats.hangups += 1
            logger.info("caller hung up during %r (channel %s, uniqueid %s): %s",
                        request.script, request.channel, request.uniqueid, exc)
            return
        except gevent.Timeout as exc:
            if exc is not timeout:
                raise
            self._handler_failed(session, REASON_TIMEOUT, exc)
        except Exception as exc:  # a handler bug must not leave the caller in silence
            reason = REASON_TIMEOUT if isinstance(exc, AgiCommandTimeout) else REASON_HANDLER_ERROR
            self._handler_failed(session, reason, exc)
        else:
            self.stats.ok += 1
            return request.script
        return None

    def _handler_failed(self, session: AgiSession, reason: str, exc: BaseException) -> None:
        request = session.request
        self.stats.handler_errors += 1
        if not self.registry.sends_to_fallback(request.script):
            logger.error("FastAGI %r failed (%s) on channel %s, uniqueid %s: the call goes on without it",
                         request.script, reason, request.channel, request.uniqueid, exc_info=exc)
            return
        logger.error("FastAGI %r failed (%s) on channel %s, uniqueid %s: caller goes to %s",
                     request.script, reason, request.channel, request.uniqueid, self.fallback_context,
                     exc_info=exc)
        self._fallback(session, reason)

    def _fallback(self, session: AgiSession, reason: str) -> None:
        """Point the dialplan at the fallback context; never raises."""
        request = session.request
        try:
            with gevent.Timeout(FALLBACK_TIMEOUT, AgiCommandTimeout("fallback commands took too long")):
                session.set_variable(AGI_FAILED, "1")
                session.set_variable(FALLBACK_REASON, reason)
                session.set_variable(DEST_CONTEXT, self.fallback_context)
                session.set_variable(DEST_EXTEN, "s")
        except AgiHangup:
            logger.info("caller hung up before the fallback was set (channel %s, uniqueid %s)",
                        request.channel, request.uniqueid)
        except (AgiError, OSError) as exc:
            logger.warning("could not set the fallback on channel %s, uniqueid %s: %s (%s); "
                           "the dialplan's own checks remain", request.channel, request.uniqueid,
                           exc.code if isinstance(exc, AgiError) else "agi.connection_error", exc)


def _peer_name(peer: tuple | str) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)
