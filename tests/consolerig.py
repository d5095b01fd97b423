"""The technician's side of a serial console under test: a pseudo-terminal pair the
console's pyserial port opens by name, and a network backend that records instead of
changing the machine's addresses.  Used by the console's unit tests and the full-disk
boot test."""

from __future__ import annotations

import os
import re
import select
import time

from appliance.network import Interface, LanConfig


class Pty:
    """The technician's side of the serial line."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.text = ""

    def type(self, *lines: str) -> None:
        for line in lines:
            os.write(self.master, line.encode() + b"\r")

    def expect(self, pattern: str, timeout: float = 5.0) -> re.Match:
        """Wait for ``pattern`` in what the console wrote; consume up to the match."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.text)
            if match:
                self.text = self.text[match.end():]
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the console never wrote {pattern!r}; it wrote:\n{self.text}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                self.text += os.read(self.master, 4096).decode("utf-8", "replace")

    def expect_all(self, *patterns: str) -> None:
        """Each pattern in turn, in this order."""
        for pattern in patterns:
            self.expect(pattern)

    def close(self):
        os.close(self.master)
        os.close(self.slave)


class FakeNetwork:
    def __init__(self):
        self.applied: list[tuple[str, LanConfig]] = []
        self.applied_at: list[float] = []  # time.monotonic() of each apply
        self.fail = False

    def interfaces(self):
        return [Interface("lo", "UNKNOWN", "00:00:00:00:00:00", ("127.0.0.1/8",)),
                Interface("eth0", "UP", "52:54:00:12:34:56", ("192.168.1.10/24",))]

    def default_gateway(self):
        return "192.168.1.1"

    def apply(self, ifname, config, keep_addresses=False):
        if self.fail:
            raise OSError("netlink said no")
        self.applied.append((ifname, config))
        self.applied_at.append(time.monotonic())
