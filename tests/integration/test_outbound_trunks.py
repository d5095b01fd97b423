"""Outside calls through the trunks in order, on real Asterisk with two SIPp carriers (one
appliance for the whole module): a desk phone's call that the first trunk refuses with 503
still goes out on the second, whose callee answers; a first trunk that is full
(``max_channels`` 2, two calls up) is skipped and the next call goes to the second without
the first seeing an INVITE; the call record names the trunk that carried each call."""

from __future__ import annotations

import re
import socket

import pytest

from appliance.db.models import CallRecord
from harness import Phone, Sipp, channels, free_port, sip_address, started, wait_until

pytestmark = pytest.mark.asterisk

FIRST_IP, SECOND_IP = "127.0.0.2", "127.0.0.3"  # each carrier its own address (PJSIP identifies by it)


@pytest.fixture(scope="module")
def office(make_module_appliance, tmp_path_factory):
    app = make_module_appliance()
    logs = tmp_path_factory.mktemp("sipp")
    ports = {"first": free_port(socket.SOCK_DGRAM, FIRST_IP), "second": free_port(socket.SOCK_DGRAM, SECOND_IP)}
    cfg = app.config
    cfg.create("trunks", {"name": "first", "host": FIRST_IP, "port": ports["first"], "match": FIRST_IP,
                          "outbound_priority": 1, "max_channels": 2}, actor="test")
    cfg.create("trunks", {"name": "second", "host": SECOND_IP, "port": ports["second"], "match": SECOND_IP,
                          "outbound_priority": 2}, actor="test")
    cfg.create("phones", {"extension": "1001", "secret": "pw-1001-secret", "callerid_name": "Alice"}, actor="test")
    cfg.create("agents", {"number": "1001", "name": "Alice", "phone": "1001"}, actor="test")
    started(app)
    phone = Phone("1001", "pw-1001-secret", sip_address(app), logs)
    return app, ports, logs, phone


def carrier(office, trunk: str, scenario: str, hold_ms: int = 1000, calls: int = 1) -> Sipp:
    _, ports, logs, _ = office
    ip = FIRST_IP if trunk == "first" else SECOND_IP
    return Sipp(scenario, ip, ports[trunk], None, {}, logs, calls=calls, extra_args=("-d", str(hold_ms))).start()


def record_of(number: str):
    return wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == number), 15, f"the record of {number}")


def dialled(app) -> list[tuple[str, str]]:
    """(number, trunk endpoint) of every Dial Asterisk placed on a trunk, in order."""
    log = (app.settings.asterisk_dir / "log" / "messages.log").read_text(errors="replace")
    return re.findall(r"Called PJSIP/([+0-9]+)@(trunk-[a-z0-9_-]+)", log)


def test_a_trunk_that_answers_503_passes_the_call_to_the_next(office):
    app, _, _, phone = office
    number = "01062345678"
    first, second = carrier(office, "first", "trunk_503.xml"), carrier(office, "second", "trunk_answer.xml")
    try:
        phone.dial(number)  # answered by the second carrier, who hangs up after a second
        assert first.wait(30) == 0, first.errors()  # it got the INVITE and refused it
        assert second.wait(30) == 0, second.errors()  # its callee got the INVITE and answered
    finally:
        first.stop()
        second.stop()
    assert [d for d in dialled(app) if d[0] == number] == [(number, "trunk-first"), (number, "trunk-second")]
    rec = record_of(number)
    assert (rec.direction, rec.agent, rec.disposition, rec.trunk) == ("outbound", "1001", "answered", "second")


def test_a_full_trunk_is_skipped_for_the_next(office):
    app, _, logs, _ = office
    held, next_call = ["01062345001", "01062345002"], "01062345003"
    first = carrier(office, "first", "trunk_answer.xml", hold_ms=8000, calls=2)  # holds both channels of "first"
    second = carrier(office, "second", "trunk_answer.xml")
    calls = [Sipp("phone_dial.xml", "127.0.0.1", free_port(socket.SOCK_DGRAM), sip_address(app), {"agent": "1001"},
                  logs, service=number, timeout_s=60, extra_args=("-au", "1001", "-ap", "pw-1001-secret")).start()
             for number in held]
    try:
        wait_until(lambda: sum(name.startswith("PJSIP/trunk-first-") for name in channels(app)) == 2, 20,
                   "two calls up on trunk first")
        office[3].dial(next_call)  # "first" is full: straight to "second"
        assert second.wait(30) == 0, second.errors()
        assert first.wait(30) == 0, first.errors()  # its two calls, held, then hung up
        for call in calls:
            assert call.wait(30) == 0, call.errors()
    finally:
        for sipp in (first, second, *calls):
            sipp.stop()
    placed = [d for d in dialled(app) if d[0] in (*held, next_call)]
    assert sorted(placed) == [(held[0], "trunk-first"), (held[1], "trunk-first"), (next_call, "trunk-second")]
    assert [record_of(n).trunk for n in (*held, next_call)] == ["first", "first", "second"]
