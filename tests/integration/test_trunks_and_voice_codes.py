"""Outside calls through the trunks in order, and voice verification codes, on real Asterisk
with two SIPp carriers (one appliance for the whole module).

- A desk phone's call that the first trunk refuses with 503 still goes out on the second,
  whose callee answers; a first trunk that is full (``max_channels`` 2, two calls up) is
  skipped and the next call goes to the second without the first seeing an INVITE; the call
  record names the trunk that carried each call.
- A voice code to a callee who answers: Asterisk plays the call's own audio, which is the
  code's digits in Chinese, twice; the result reads ``answered`` (and ``said``), on the row
  and on the event bus, and the code is nowhere in Asterisk's logs, ours or the database.
  A busy callee reads ``busy``.
"""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import pytest

from appliance import sounds
from appliance.db.models import CallRecord
from appliance.services.prompts import resolve_in_root
from harness import Phone, Sipp, channels, free_port, played, sip_address, started, wait_until

pytestmark = pytest.mark.asterisk

FIRST_IP, SECOND_IP = "127.0.0.2", "127.0.0.3"  # each carrier its own address (PJSIP identifies by it)


class Kept(logging.Handler):
    """Every log record of the appliance's own code, as formatted text."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def ours():
    kept = Kept()
    root = logging.getLogger()
    level = root.level
    root.addHandler(kept)
    root.setLevel(logging.DEBUG)
    yield kept
    root.removeHandler(kept)
    root.setLevel(level)


@pytest.fixture(scope="module")
def office(make_module_appliance, tmp_path_factory, ours):
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
    app.users.create("boss", "Boss-password-1", "admin")
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


CODE = "582073"


def voice_code_audio(app, name: str) -> bytes:
    return (app.pbx.run_dir / "voice-codes" / name).read_bytes()


def expected_chinese(app, code: str) -> bytes:
    """What the callee must hear, made here from the files themselves: a second of silence
    (Asterisk's core sound) and the appliance's Chinese digits, twice."""
    core = resolve_in_root(Path(app.settings.rootfs), "/usr/share/asterisk/sounds/en")
    silence = (core / "silence" / "1.gsm").read_bytes()
    digits = b"".join((sounds.SOURCE_DIR / "zh_CN" / f"cc-digit-{d}.gsm").read_bytes() for d in code)
    return (silence + digits) * 2


def test_a_voice_code_is_said_to_a_callee_who_answers_and_never_logged(office, ours):
    app, _, _, _ = office
    events = app.bus.subscribe()
    callee = carrier(office, "first", "trunk_answer_listen.xml")
    try:
        sent = app.voice_codes.send("13912345678", CODE, "zh_CN", actor="boss", sender="token:1")
        file = wait_until(lambda: next((f for f in played(app) if "/voice-codes/vc-" in f), None), 30,
                          "Asterisk to play the code's audio")
        assert voice_code_audio(app, file.rsplit("/", 1)[1]) == expected_chinese(app, CODE)
        row = wait_until(lambda: app.voice_codes.get(sent["id"])["said"] and app.voice_codes.get(sent["id"]), 30,
                         "the code said to the end, twice")
        assert callee.wait(30) == 0, callee.errors()
    finally:
        callee.stop()
    assert row["state"] == "answered"
    rec = record_of("13912345678")
    assert (rec.direction, rec.disposition, rec.trunk, rec.agent) == ("outbound", "answered", "first", "")
    assert ("voicecode", "answered") in [(t, e.get("event")) for t, e in events.drain() if t == "voicecode"]
    wait_until(lambda: not list((app.pbx.run_dir / "voice-codes").glob("*.gsm")), 15, "the call's audio removed")
    assert not [f for f in played(app) if "digit" in f]  # no digit played one by one (their names would tell)
    for log in app.pbx.log_dir.rglob("*"):
        if log.is_file():
            assert CODE not in log.read_text(errors="replace"), log
    assert not [line for line in ours.lines if CODE in line]
    assert CODE.encode() not in app.settings.db_path.read_bytes()


def test_a_voice_code_to_a_busy_callee_reads_busy(office):
    app, _, _, _ = office
    events = app.bus.subscribe()
    callee = carrier(office, "first", "trunk_busy.xml")
    try:
        sent = app.voice_codes.send("13912345679", CODE, "en", actor="boss", sender="token:1")
        assert callee.wait(30) == 0, callee.errors()
        row = wait_until(lambda: app.voice_codes.get(sent["id"])["state"] != "calling"
                         and app.voice_codes.get(sent["id"]), 20, "the result")
    finally:
        callee.stop()
    assert (row["state"], row["said"]) == ("busy", False)
    rec = record_of("13912345679")
    assert (rec.direction, rec.disposition, rec.fallback_reason, rec.trunk) == ("outbound", "unanswered", "dial-busy",
                                                                                "first")
    assert [e["event"] for t, e in events.drain() if t == "voicecode"] == ["busy"]
    wait_until(lambda: not list((app.pbx.run_dir / "voice-codes").glob("*.gsm")), 15, "the call's audio removed")
