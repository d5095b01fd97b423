"""The AGI command layer over one FastAGI connection (gevent).

Written here rather than borrowed from pyst2's ``asterisk.agi.AGI``. Its constructor is
not the only problem (it replaces the process-wide SIGHUP handler and dumps the
environment to stderr; that could be sidestepped with ``__new__``): its command layer
itself writes every command and result to stderr, writes ``str`` to a file object rather
than bytes to a socket, quotes without escaping, knows nothing of the FastAGI ``HANGUP``
line, spins forever if the connection closes inside a 520 usage block, and has no
timeouts. Overriding ``_quote``, ``send_command``, ``get_result`` and ``execute`` would
leave nothing of it but method names, so the hundred lines below are ours, over the
sans-I/O codec in ``appliance.agi.protocol``.

Every command is answered in order, so the session counts the commands it has sent and
not yet read an answer to: after a command timed out, the late answer is read and
dropped before the next command's own, and the fallback that follows a failed handler
is not confused by it.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Mapping
from typing import Protocol

import gevent

from appliance.agi.protocol import (
    HANGUP_CODE,
    AgiCommandError,
    AgiCommandTimeout,
    AgiHangup,
    AgiProtocolError,
    AgiRequest,
    AgiResponse,
    format_command,
    parse_env,
    parse_response,
    response_needs_more,
)

logger = logging.getLogger(__name__)

#: Longest response line we read (GET VARIABLE values are far shorter).
MAX_RESPONSE_LINE = 65536
_RECV_SIZE = 4096
_CONTROL_CHARS = re.compile(r"[\r\n\0]")
# MSet splits its argument on commas, then each pair on '=', taking quotes and backslashes
# away at both steps: a name or value of only these characters passes through it unchanged
_MSET_PLAIN = re.compile(r"[A-Za-z0-9_.@+*#:/&-]+")


class LineIO(Protocol):
    """What a session needs from its connection: a binary file's ``readline``/``write``/``flush``."""

    def readline(self, size: int = -1, /) -> bytes: ...

    def write(self, data: bytes, /) -> object: ...

    def flush(self) -> object: ...


class SocketStream:
    """Buffered line I/O over a gevent socket: reads the request header, then serves as
    the session's ``sock_file``. Bytes that arrive after the header are kept, and a read
    interrupted by a ``gevent.Timeout`` loses nothing."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._buf = b""

    def read_env(self) -> dict[str, str]:
        """Read the request header; ``AgiProtocolError`` for garbage or an early close."""
        while True:
            env, rest = parse_env(self._buf)
            if env is not None:
                self._buf = rest
                return env
            if not self._fill():
                raise AgiProtocolError("connection closed before the end of the request header",
                                       code="agi.request_incomplete")

    def readline(self, size: int = -1, /) -> bytes:
        """One line with its newline; shorter only at end of input or when ``size`` is reached."""
        while True:
            nl = self._buf.find(b"\n", 0, size if size > 0 else None)
            if nl >= 0:
                end = nl + 1
            elif 0 < size <= len(self._buf):
                end = size
            elif self._fill():
                continue
            else:
                end = len(self._buf)
            line, self._buf = self._buf[:end], self._buf[end:]
            return line

    def write(self, data: bytes, /) -> None:
        self.sock.sendall(data)

    def flush(self) -> None:
        """Nothing to flush: ``write`` sends at once."""

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> bool:
        chunk = self.sock.recv(_RECV_SIZE)
        self._buf += chunk
        return bool(chunk)


class AgiSession:
    """The AGI commands a handler sends on its caller's channel.

    ``command`` raises ``AgiHangup`` when the caller is gone (``HANGUP`` line, 511,
    ``result=-1``, connection lost), ``AgiCommandError`` for any other non-200 answer and
    ``AgiCommandTimeout`` when Asterisk does not answer within ``command_timeout`` seconds.
    """

    def __init__(self, sock_file: LineIO, request: AgiRequest, *, command_timeout: float = 10.0):
        self.request = request
        self.command_timeout = command_timeout
        self.hung_up = False
        self._io = sock_file
        self._unanswered = 0  # commands sent whose answer has not been read
        self._partial = b""  # lines of a 520 block read so far

    # -- the command layer ---------------------------------------------------------------
    def command(self, command: str, *args: str | int | float, timeout: float | None = None) -> AgiResponse:
        """Send ``command`` (e.g. ``"SET VARIABLE"``) with quoted ``args``; return its answer."""
        line = format_command(command, *args)  # refuses injection before anything is sent
        seconds = self.command_timeout if timeout is None else timeout
        with gevent.Timeout(seconds, AgiCommandTimeout(f"{command}: no answer within {seconds:g}s")):
            self._send(line)
            response = self._read_answer()
        if response.is_hangup:
            self.hung_up = True
            raise AgiHangup(f"{command}: the caller hung up ({response.code} result={response.result})")
        if response.code != 200:
            raise AgiCommandError(f"{command}: Asterisk answered {response.code} {response.data}", response)
        return response

    def _send(self, line: bytes) -> None:
        try:
            self._io.write(line)
            self._io.flush()
        except OSError as exc:
            raise AgiHangup(f"connection lost: {exc}") from exc
        self._unanswered += 1

    def _read_answer(self) -> AgiResponse:
        while True:
            response = self._read_response()
            if response.code == HANGUP_CODE:
                self.hung_up = True
                raise AgiHangup("the caller hung up")
            self._unanswered -= 1
            if self._unanswered <= 0:
                self._unanswered = 0
                return response
            logger.debug("dropped a late answer on %s: %s", self.request.channel, response)

    def _read_response(self) -> AgiResponse:
        while True:
            self._partial += self._readline()
            if not response_needs_more(self._partial):
                break
        block, self._partial = self._partial, b""
        return parse_response(block)

    def _readline(self) -> bytes:
        try:
            line = self._io.readline(MAX_RESPONSE_LINE)
        except OSError as exc:
            raise AgiHangup(f"connection lost: {exc}") from exc
        if line.endswith(b"\n"):
            return line
        if len(line) >= MAX_RESPONSE_LINE:
            raise AgiProtocolError(f"AGI response line longer than {MAX_RESPONSE_LINE} bytes",
                                   code="agi.bad_response")
        raise AgiHangup("Asterisk closed the connection")

    # -- the commands our handlers use ---------------------------------------------------
    def set_variable(self, name: str, value: str | int | float) -> None:
        self.command("SET VARIABLE", name, value)

    def set_variables(self, variables: Mapping[str, str | int | float]) -> None:
        """Several channel variables, in order: the plain ones (``_MSET_PLAIN``, not empty) in
        one round trip (``EXEC MSet``), any other one by ``SET VARIABLE`` after them. Each round
        trip waits for Asterisk and for this loop: on a call's setup path under load they add up
        (bench/mixed_load.py)."""
        items = [(name, str(value)) for name, value in variables.items()]
        plain = [(n, val) for n, val in items if _MSET_PLAIN.fullmatch(n) and _MSET_PLAIN.fullmatch(val)]
        if len(plain) < 2:
            plain = []
        if plain:
            self.exec_app("MSet", *(f"{n}={val}" for n, val in plain))
        for name, value in items:
            if (name, value) not in plain:
                self.set_variable(name, value)

    def get_variable(self, name: str) -> str | None:
        """The channel variable's value, or None when it is not set."""
        return self._value(self.command("GET VARIABLE", name))

    def get_full_variable(self, expression: str) -> str | None:
        """Evaluate an expression such as ``${CALLERID(num)}``; None when it is empty/unset."""
        return self._value(self.command("GET FULL VARIABLE", expression))

    @staticmethod
    def _value(response: AgiResponse) -> str | None:
        return (response.data or "") if response.result == "1" else None

    def verbose(self, message: str, level: int = 1) -> None:
        """Log to Asterisk's console; line breaks in ``message`` become spaces (it is only a log)."""
        self.command("VERBOSE", _CONTROL_CHARS.sub(" ", message), level)

    def exec_app(self, app: str, *args: str | int | float) -> AgiResponse:
        """Run a dialplan application; ``args`` are joined with ',' into one argument."""
        words = (app, ",".join(str(arg) for arg in args)) if args else (app,)
        response = self.command("EXEC", *words)
        if response.result == "-2":
            raise AgiCommandError(f"EXEC: no application {app!r}", response, code="agi.no_such_app")
        return response

    def answer(self) -> None:
        self.command("ANSWER")

    def stream_file(self, name: str, escape_digits: str = "") -> str:
        """Play a prompt (no extension); return the escape digit pressed, or ''."""
        result = self.command("STREAM FILE", name, escape_digits).result
        return chr(int(result)) if result.isdigit() and result != "0" else ""

    def hangup(self) -> None:
        self.command("HANGUP")
