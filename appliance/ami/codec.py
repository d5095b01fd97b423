"""AMI wire format, without I/O: bytes in, frames out; actions in, bytes out.

Asterisk's manager protocol is lines of ``Key: Value`` ending in CR LF, a frame ending
in an empty line, after a one-line banner (``Asterisk Call Manager/9.0.0``).  Wazo's
``wazo_amid/ami/parser.py`` is the model: the decoder holds the unfinished remainder and
never touches a socket, so every fault (a frame split over a thousand reads, a line with
no colon, a megabyte of junk) is a unit test.

We write this rather than use pyst2's manager: on Python 3 it reads one byte per system
call, its reader thread dies on the first event carrying ``ChanVariable`` (``has_key``),
it matches responses first-in-first-out instead of by ActionID and passes CR/LF inside a
header value straight onto the wire, which lets a caller name inject a whole action.
``serialize_action`` refuses that by construction.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping

MAX_FRAME_BYTES = 1 << 20
_END = b"\n\n"


class HeaderInjection(ValueError):
    """An action name, header name or value carries CR, LF or NUL."""

    code = "ami.header_injection"


class MalformedFrame(Exception):
    """A frame that cannot be read; the decoder has skipped it and goes on."""

    code = "ami.malformed_frame"

    def __init__(self, reason: str, raw: bytes):
        self.reason = reason
        self.raw = raw[:200]
        super().__init__(f"{reason}: {self.raw!r}")


class Frame:
    """One AMI message: ordered headers, keys may repeat (``Output``, ``ChanVariable``)."""

    __slots__ = ("headers",)

    def __init__(self, headers: list[tuple[str, str]]):
        self.headers = headers

    def get(self, key: str, default: str | None = None) -> str | None:
        key = key.lower()
        for k, v in self.headers:
            if k.lower() == key:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        key = key.lower()
        return [v for k, v in self.headers if k.lower() == key]

    @property
    def kind(self) -> str:
        if self.get("Event") is not None:
            return "event"
        if self.get("Response") is not None:
            return "response"
        return "unknown"

    @property
    def name(self) -> str | None:
        """The event's name, or the response's status (``Success``, ``Error``, ``Follows``)."""
        event = self.get("Event")
        return event if event is not None else self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def as_dict(self) -> dict[str, str]:
        """First value wins for a repeated key, except ``Output`` lines, which are joined."""
        out: dict[str, str] = {}
        for k, v in self.headers:
            if k == "Output" and k in out:
                out[k] += "\n" + v
            else:
                out.setdefault(k, v)
        return out

    def __eq__(self, other) -> bool:
        return isinstance(other, Frame) and other.headers == self.headers

    def __repr__(self) -> str:
        return f"Frame({self.kind} {self.name!r}, {len(self.headers)} headers)"


def _parse_frame(raw: bytes) -> Frame | MalformedFrame:
    text = raw.decode("utf-8", errors="replace")
    headers = []
    for line in text.split("\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or key != key.strip():
            return MalformedFrame("line without a 'Key: value' form", raw)
        headers.append((key, value[1:] if value.startswith(" ") else value))
    if not headers:
        return MalformedFrame("empty frame", raw)
    return Frame(headers)


class Decoder:
    """Feed it whatever the socket gave; it returns the frames (or MalformedFrame) completed."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES):
        self.max_frame_bytes = max_frame_bytes
        self.banner: str | None = None
        self._buf = b""
        self._skipping = False  # inside an oversize frame: drop until its end

    def feed(self, data: bytes) -> list[Frame | MalformedFrame]:
        # AMI ends lines with CR LF; some tools send bare LF.  CR carries no meaning in
        # a header, so dropping every CR makes both the same and is safe across reads.
        buf = self._buf + data.replace(b"\r", b"")
        out: list[Frame | MalformedFrame] = []
        if self.banner is None:
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > self.max_frame_bytes:
                    out.append(MalformedFrame("no banner line", buf))
                    self.banner, buf = "", b""
                self._buf = buf
                return out
            first = buf[:nl]
            if b":" in first:  # no banner at all: a frame starts at once
                self.banner = ""
            else:
                self.banner = first.decode("utf-8", errors="replace")
                buf = buf[nl + 1:]
        start = 0
        while True:
            end = buf.find(_END, start)
            if end < 0:
                break
            raw = buf[start:end]
            start = end + len(_END)
            if self._skipping:
                self._skipping = False
                continue
            if not raw.strip(b"\n"):
                continue  # stray blank lines between frames
            if len(raw) > self.max_frame_bytes:
                out.append(MalformedFrame(f"frame larger than {self.max_frame_bytes} bytes", raw))
                continue
            out.append(_parse_frame(raw))
        rest = buf[start:]
        if self._skipping or len(rest) > self.max_frame_bytes:
            if not self._skipping:
                out.append(MalformedFrame(f"frame larger than {self.max_frame_bytes} bytes", rest))
                self._skipping = True
            rest = rest[-1:]  # keep a trailing LF: it may be half of the end marker
        self._buf = rest
        return out


def _checked(what: str, text: str) -> str:
    if any(c in text for c in "\r\n\0"):
        raise HeaderInjection(f"AMI {what} {text[:40]!r} contains CR, LF or NUL: refused")
    return text


def serialize_action(name: str, headers: Mapping[str, object] | Iterable[tuple[str, object]] | None,
                     action_id: str) -> bytes:
    """``Action: name``, ``ActionID``, then the headers; a list value repeats its header."""
    lines = [f"Action: {_checked('action name', str(name))}", f"ActionID: {_checked('ActionID', str(action_id))}"]
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for key, value in items:
        key = _checked("header name", str(key))
        if not key or ":" in key or key != key.strip():
            raise HeaderInjection(f"AMI header name {key!r} is not a valid name: refused")
        values = value if isinstance(value, (list, tuple)) else (value,)
        for v in values:
            if v is None:
                continue
            lines.append(f"{key}: {_checked(f'value of {key}', str(v))}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


class ActionIdGenerator:
    """Unique ActionIDs for one client: a random prefix and a counter."""

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix or os.urandom(4).hex()
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}-{next(self._counter)}"
