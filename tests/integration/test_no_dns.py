"""A call never waits on DNS (issue 15): on a LAN whose resolver does not answer, a trunk
call is routed to the queue and answered as quickly as anywhere, and Asterisk sends no
DNS query at all, neither while it starts nor during the call.

SIP listens on every address (``0.0.0.0``), as on the image and in ``make run``: that is
what makes Asterisk look up the machine's own host name for each RTP stream. The
resolver is a loopback address of this test's own (``resolv.conf`` laid over the
rootfs's by the instance's ``chroot-etc``) where a socket takes the queries and never
answers, so a lookup costs what it costs on such a LAN: 2 x 5 s per name and family."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from appliance.engine.live import IN_CALL
from harness import configure_basic, free_port, signed_in_phone, started, trunk_call, wait_until

pytestmark = pytest.mark.asterisk

ROUTED_WITHIN_S = 5.0  # measured 0.3-0.9 s here; a lookup of one name would take 10 s


def question(packet: bytes) -> str:
    """The name a DNS query asks for."""
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        labels.append(packet[i + 1:i + 1 + packet[i]].decode(errors="replace"))
        i += packet[i] + 1
    return ".".join(labels)


@pytest.fixture
def silent_resolver():
    """A UDP socket on port 53 of a loopback address of our own that records queries and
    answers none."""
    for last in range(2, 250):
        address = f"127.53.{time.monotonic_ns() % 250}.{last}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((address, 53))
        except OSError:
            sock.close()
            continue
        sock.setblocking(False)
        break
    else:
        raise AssertionError("no loopback address free for the silent resolver")

    def queries() -> list[str]:
        asked = []
        while True:
            try:
                asked.append(question(sock.recv(4096)))
            except BlockingIOError:
                return asked

    yield address, queries
    sock.close()


def test_a_trunk_call_is_routed_at_once_and_no_dns_query_is_sent(make_appliance, silent_resolver, tmp_path):
    resolver, queries = silent_resolver
    app = make_appliance(sip_bind="0.0.0.0", sip_port=free_port(socket.SOCK_DGRAM, "0.0.0.0"))
    app.pbx.chroot_etc_dir.mkdir(parents=True, exist_ok=True)
    (app.pbx.chroot_etc_dir / "resolv.conf").write_text(f"nameserver {resolver}\n")
    configure_basic(app)
    started(app)
    # Asterisk sees our resolver (and no other) and our host table
    etc = Path(f"/proc/{app.pbx.pid}/root/etc")
    assert (etc / "resolv.conf").read_text() == f"nameserver {resolver}\n"
    assert f"\t{socket.gethostname()}" in (etc / "hosts").read_text()
    phone = signed_in_phone(app, tmp_path, ring_ms=200)
    try:
        began = time.monotonic()
        call = trunk_call(("127.0.0.1", app.settings.sip_port), "88001000", "13912345678", tmp_path / "sipp",
                          hold_ms=500).start()
        wait_until(lambda: app.live.agents["1001"].state == IN_CALL, ROUTED_WITHIN_S, "the agent in the call")
        routed = time.monotonic() - began
        assert call.wait(30) == 0, call.errors()
    finally:
        phone.stop()
    assert routed < ROUTED_WITHIN_S
    assert queries() == [], "Asterisk asked DNS"
