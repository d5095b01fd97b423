"""The FastAGI wire protocol, sans I/O: bytes in, values out, and back.

No socket, no gevent: the session (``appliance.agi.session``) carries these values over
a connection; this module only knows what the bytes mean.

What Asterisk sends and expects (``res/res_agi.c``):

- The request header: ``agi_key: value\\n`` lines ended by an empty line.
- A command is one line; Asterisk splits it into arguments on blanks, honouring double
  quotes and backslash escapes, and reads at most ``AGI_BUF_LEN - 1`` (2047) bytes of it.
  A longer line is cut there and *the rest is run as a second command*, so an over-long
  argument is as dangerous as a line break in one: both are refused here.
- A response is ``200 result=<n> [(<data>)] [key=value ...]``, ``510 ...``, ``511 ...``,
  a ``520`` usage block (``520-...`` up to a line starting ``520 ``), or the out-of-band
  ``HANGUP`` line that FastAGI sends when the caller hangs up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from appliance.errors import DomainError

#: Longest request header we accept (the blank line included).
MAX_ENV_BYTES: Final = 8192
#: Longest command line Asterisk reads as one command, the newline included.
MAX_COMMAND_BYTES: Final = 2047
#: ``AgiResponse.code`` of the out-of-band ``HANGUP`` line (not a real AGI status code).
HANGUP_CODE: Final = 0

_ENV_PREFIX = b"agi_"
_FORBIDDEN_IN_ARGS = ("\r", "\n", "\0")
_COMMAND_RE = re.compile(r"[A-Z]+(?: [A-Z]+)*")
_STATUS_RE = re.compile(r"(\d{3})([ -])(.*)", re.S)
# ``result=<value>``, then an optional ``(<data>)`` (greedy: GET VARIABLE values may hold
# parentheses), then optional ``key=value`` words such as ``endpos=1234``.
_RESULT_RE = re.compile(r"result=(\S*)(?: \((.*)\))?((?: \w+=\S*)*)\s*", re.S)
_USAGE_END = b"520 End of proper usage."


# -- errors ---------------------------------------------------------------------------
class AgiError(DomainError):
    """Base of the FastAGI errors; ``code`` is the stable id logged and put in the dialplan."""

    code = "agi.error"


class AgiProtocolError(AgiError):
    """Bytes that are not FastAGI, or a command we refuse to put on the wire."""

    code = "agi.bad_request"


class AgiHangup(AgiError):
    """The caller hung up (``HANGUP`` line, 511, ``result=-1``, or the connection is gone)."""

    code = "agi.hangup"


class AgiCommandError(AgiError):
    """Asterisk refused a command (510 unknown, 520 bad syntax, ...)."""

    code = "agi.command_error"

    def __init__(self, message: str, response: AgiResponse | None = None, *, code: str | None = None):
        super().__init__(message, code=code)
        self.response = response


class AgiCommandTimeout(AgiError):
    """Asterisk did not answer a command in time."""

    code = "agi.timeout"


# -- the request ----------------------------------------------------------------------
def _check_env_line(line: bytes, complete: bool) -> None:
    """Reject a header line as soon as it cannot be one (even before its newline)."""
    head = line[: len(_ENV_PREFIX)]
    if head != _ENV_PREFIX[: len(head)]:
        raise AgiProtocolError(f"request line does not start with 'agi_': {line[:40]!r}")
    if complete and b": " not in line:
        raise AgiProtocolError(f"request line without ': ': {line[:40]!r}")


def parse_env(data: bytes) -> tuple[dict[str, str] | None, bytes]:
    """Parse the request header at the start of ``data``.

    Returns ``(env, rest)`` once the blank line has arrived, ``(None, data)`` while it is
    incomplete; raises ``AgiProtocolError`` as soon as the bytes cannot be a header.
    A trailing CR on a line is tolerated.
    """
    env: dict[str, str] = {}
    pos = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            _check_env_line(data[pos:], complete=False)
            if len(data) >= MAX_ENV_BYTES:
                raise AgiProtocolError(f"request header longer than {MAX_ENV_BYTES} bytes",
                                       code="agi.request_too_large")
            return None, data
        if nl >= MAX_ENV_BYTES:
            raise AgiProtocolError(f"request header longer than {MAX_ENV_BYTES} bytes",
                                   code="agi.request_too_large")
        line = data[pos:nl].removesuffix(b"\r")
        pos = nl + 1
        if not line:
            if not env:
                raise AgiProtocolError("empty request header")
            return env, data[pos:]
        _check_env_line(line, complete=True)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AgiProtocolError(f"request line is not UTF-8: {line[:40]!r}", code="agi.bad_encoding") from exc
        key, _, value = text.partition(": ")
        env[key] = value


class AgiRequest:
    """What Asterisk told us about the call, from the request header.

    Values are Asterisk's own: a missing caller id is the string ``unknown``.
    """

    __slots__ = ("env", "script", "params", "args", "channel", "uniqueid", "linkedid",
                 "callerid", "calleridname", "extension", "context", "dnid")

    def __init__(self, env: Mapping[str, str]):
        self.env: dict[str, str] = dict(env)
        get = self.env.get
        self.script, self.params = _script_and_params(get("agi_network_script"), get("agi_request", ""))
        self.args: list[str] = []
        while (arg := get(f"agi_arg_{len(self.args) + 1}")) is not None:
            self.args.append(arg)
        self.channel: str = get("agi_channel", "")
        self.uniqueid: str = get("agi_uniqueid", "")
        self.linkedid: str = get("agi_linkedid") or self.uniqueid
        self.callerid: str = get("agi_callerid", "")
        self.calleridname: str = get("agi_calleridname", "")
        self.extension: str = get("agi_extension", "")
        self.context: str = get("agi_context", "")
        self.dnid: str = get("agi_dnid", "")

    def __repr__(self) -> str:
        return f"<AgiRequest {self.script!r} channel={self.channel!r} uniqueid={self.uniqueid!r}>"


def _script_and_params(network_script: str | None, request: str) -> tuple[str, dict[str, str]]:
    """``route?x=y`` (or, without ``agi_network_script``, ``agi://h:p/route?x=y``) -> name, params."""
    if network_script is not None:
        path, _, query = network_script.partition("?")
    else:
        parts = urlsplit(request)
        path, query = parts.path, parts.query
    return path.lstrip("/"), dict(parse_qsl(query, keep_blank_values=True))


# -- commands -------------------------------------------------------------------------
def quote(arg: str | int | float) -> str:
    """One command argument in double quotes, ``\\`` and ``"`` escaped; CR, LF, NUL refused."""
    if isinstance(arg, bool) or not isinstance(arg, (str, int, float)):
        raise TypeError(f"AGI argument must be str, int or float, not {type(arg).__name__}")
    text = str(arg)
    if any(ch in text for ch in _FORBIDDEN_IN_ARGS):
        raise AgiProtocolError(f"AGI argument contains CR, LF or NUL: {text[:40]!r}", code="agi.injection")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(command: str, *args: str | int | float) -> bytes:
    """One command line: ``command`` (upper-case words, e.g. ``"SET VARIABLE"``) then each
    argument quoted, always, so that no value can split into two arguments or two commands.

    >>> format_command("SET VARIABLE", "CC_PING", "pong")
    b'SET VARIABLE "CC_PING" "pong"\\n'
    """
    if not _COMMAND_RE.fullmatch(command):
        raise AgiProtocolError(f"not an AGI command name: {command[:40]!r}", code="agi.bad_command")
    line = " ".join([command, *(quote(arg) for arg in args)]).encode("utf-8") + b"\n"
    if len(line) > MAX_COMMAND_BYTES:
        raise AgiProtocolError(f"AGI command of {len(line)} bytes; Asterisk would split it after "
                               f"{MAX_COMMAND_BYTES}", code="agi.command_too_long")
    return line


# -- responses ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AgiResponse:
    """One answer from Asterisk.

    ``result`` is the text after ``result=`` (``''`` for error codes); ``data`` is the text in
    parentheses, or for 5xx the message (the whole usage text for a 520 block).
    """

    code: int
    result: str
    data: str | None = None

    @property
    def is_hangup(self) -> bool:
        """The out-of-band ``HANGUP`` line, 511 (dead channel) or ``result=-1``."""
        return self.code in (HANGUP_CODE, 511) or (self.code == 200 and self.result == "-1")


def response_needs_more(block: bytes) -> bool:
    """True while ``block`` (the response lines read so far) is an unfinished 520 usage block.

    Some Asterisk versions print usage text without a final newline, so the closing
    ``520 End of proper usage.`` may share a line with it.
    """
    if not block.startswith(b"520-"):
        return False
    last = block.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    return not (last.startswith(b"520 ") or last.endswith(_USAGE_END))


def parse_response(block: bytes) -> AgiResponse:
    """Parse one response: a single line, or a complete 520 block (see ``response_needs_more``)."""
    text = block.decode("utf-8", "replace").rstrip("\r\n")
    if text.strip() == "HANGUP":
        return AgiResponse(HANGUP_CODE, "", "HANGUP")
    match = _STATUS_RE.fullmatch(text)
    if not match:
        raise AgiProtocolError(f"not an AGI response: {text[:60]!r}", code="agi.bad_response")
    code, sep, rest = int(match[1]), match[2], match[3]
    if sep == "-":
        if code != 520 or response_needs_more(block):
            raise AgiProtocolError(f"incomplete AGI response block: {text[:60]!r}", code="agi.bad_response")
        body = text.split("\n")[1:]  # after "520-Invalid command syntax.  Proper usage follows:"
        if body and body[-1].startswith("520 "):
            body.pop()
        elif body:
            body[-1] = body[-1].removesuffix(_USAGE_END.decode())
        return AgiResponse(code, "", "\n".join(line.rstrip("\r") for line in body).strip("\n"))
    if code != 200:
        return AgiResponse(code, "", rest)
    result = _RESULT_RE.fullmatch(rest)
    if not result:
        raise AgiProtocolError(f"200 response without result=: {text[:60]!r}", code="agi.bad_response")
    return AgiResponse(200, result[1], result[2])
