"""Line input and output over a serial port (pyserial), for people typing on a
terminal at 115200 baud.

The port is in raw mode (no echo, no line editing by the kernel), so this module
echoes what is typed, handles backspace, Ctrl-U (clear the line), Ctrl-C (cancel the
prompt) and Ctrl-D (log out), drops the escape sequences that arrow keys send, and
hides what is typed at a password prompt.  Output lines end in CR LF.

Anything with ``read(n) -> bytes`` (returning ``b''`` after its timeout) and
``write(bytes)`` works as the port; ``serial.Serial`` is the one used.
"""

from __future__ import annotations

import codecs
import time

import serial

MAX_LINE = 256
READ_TIMEOUT = 0.2  # how often a read comes back empty, so deadlines are kept

BACKSPACES = (b"\x7f", b"\x08")
CTRL_C, CTRL_D, CTRL_U, ESC = b"\x03", b"\x04", b"\x15", b"\x1b"


class Hangup(Exception):
    """The line is gone (the device closed or reported an error)."""


class Cancelled(Exception):
    """Ctrl-C at a prompt: abandon what was being asked."""


class EndOfInput(Exception):
    """Ctrl-D on an empty line: the person wants to log out."""


def open_port(device: str, baud: int) -> serial.Serial:
    """The console's serial port, 8N1, no flow control, reads that time out."""
    return serial.Serial(device, baudrate=baud, bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE,
                         stopbits=serial.STOPBITS_ONE, timeout=READ_TIMEOUT, xonxoff=False, rtscts=False)


class Terminal:
    def __init__(self, port, *, clock=time.monotonic):
        self.port = port
        self.clock = clock
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._after_cr = False

    # -- output ----------------------------------------------------------------
    def write(self, text: str) -> None:
        data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8", "replace")
        try:
            self.port.write(data)
            self.port.flush()
        except (serial.SerialException, OSError) as exc:
            raise Hangup(str(exc)) from None

    def line(self, text: str = "") -> None:
        self.write(text + "\n")

    # -- input -----------------------------------------------------------------
    def _read(self) -> bytes:
        try:
            return self.port.read(1)
        except (serial.SerialException, OSError) as exc:
            raise Hangup(str(exc)) from None

    def discard_input(self, seconds: float) -> None:
        """Read and throw away whatever is typed for ``seconds`` (the sign-in lockout)."""
        deadline = self.clock() + seconds
        while self.clock() < deadline:
            self._read()
        self._decoder.reset()

    def _skip_escape_sequence(self) -> None:
        """ESC [ ... final byte (arrow keys, function keys): nothing we act on."""
        first = self._read()
        if first not in (b"[", b"O"):
            return
        while True:
            byte = self._read()
            if not byte or 0x40 <= byte[0] <= 0x7E:
                return

    def readline(self, prompt: str = "", *, secret: bool = False, timeout: float | None = None) -> str | None:
        """One line as typed, without the line end; None if ``timeout`` seconds pass first.

        ``secret``: nothing is echoed (passwords).  Raises ``Cancelled`` on Ctrl-C,
        ``EndOfInput`` on Ctrl-D with nothing typed, ``Hangup`` when the line is gone.
        """
        self.write(prompt)
        deadline = None if timeout is None else self.clock() + timeout
        chars: list[str] = []
        while True:
            if deadline is not None and self.clock() >= deadline:
                self.line()
                return None
            byte = self._read()
            if not byte:
                continue
            if byte in (b"\r", b"\n"):
                if byte == b"\n" and self._after_cr:  # CR LF from the terminal: one line end
                    self._after_cr = False
                    continue
                self._after_cr = byte == b"\r"
                self.line()
                return "".join(chars).strip()
            self._after_cr = False
            if byte in BACKSPACES:
                if chars:
                    chars.pop()
                    if not secret:
                        self.write("\b \b")
            elif byte == CTRL_C:
                self.line("^C")
                raise Cancelled()
            elif byte == CTRL_D:
                if not chars:
                    self.line()
                    raise EndOfInput()
            elif byte == CTRL_U:
                if not secret:
                    self.write("\b \b" * len(chars))
                chars.clear()
            elif byte == ESC:
                self._skip_escape_sequence()
            elif byte[0] < 0x20:
                continue  # other control characters (tab, bell, ...) are ignored
            else:
                text = self._decoder.decode(byte)
                if text and len(chars) < MAX_LINE:
                    chars.append(text)
                    if not secret:
                        self.write(text)
