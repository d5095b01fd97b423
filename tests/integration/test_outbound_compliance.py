"""Outbound compliance on real Asterisk: an agent's desk phone keys a number on the do-not-call
list and then a number outside the calling window; both are refused (the phone hears it, the
carrier, a SIPp trunk, never sees an INVITE) and recorded with the rule that refused them. With
the window open the same number goes out, presenting the default caller-ID pool's number in
the From the carrier receives."""

from __future__ import annotations

import datetime as dt
import re
import socket
from zoneinfo import ZoneInfo

import pytest

from appliance.db.models import CallRecord, CallRefusal
from harness import TRUNK_IP, Phone, Sipp, configure_basic, free_port, played, sip_address, started, wait_until

pytestmark = pytest.mark.asterisk

LISTED, CUSTOMER, POOL_NUMBER = "13912345678", "13800000001", "02188880001"
REFUSAL = "/appliance/lib/sounds/zh_CN/cc-not-permitted.gsm"


def closed_window(timezone: str) -> str:
    """A calling window that does not hold the office's present hour."""
    hour = dt.datetime.now(ZoneInfo(timezone)).hour
    return "daily 20:00-23:00" if hour < 12 else "daily 01:00-04:00"


def test_a_desk_phone_is_refused_a_listed_number_and_outside_the_window_and_goes_out_with_the_pools_number(
        make_appliance, tmp_path):
    app = make_appliance(caller_language="zh_CN")
    configure_basic(app)  # agent 1001 at phone 1001
    carrier_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    app.config.update("trunks", "pstn", {"port": carrier_port}, actor="test")
    check = app.calling
    check.put_pool_number("main", POOL_NUMBER, per_hour=10, per_day=100, actor="test")
    check.save_settings("test", default_pool="main", window=closed_window(app.site.timezone()))
    check.dnc_add("+86 139 1234 5678", "asked not to be called", "test")
    started(app)
    messages = tmp_path / "carrier-messages.log"
    carrier = Sipp("trunk_answer.xml", TRUNK_IP, carrier_port, None, {}, tmp_path / "sipp",
                   extra_args=("-d", "1000", "-trace_msg", "-message_file", str(messages))).start()
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp").start()
    try:
        phone.dial(LISTED)  # on the do-not-call list: refused whatever the hour
        wait_until(lambda: CallRefusal.select().count() == 1, 20, "the do-not-call refusal")
        phone.dial(CUSTOMER)  # outside the window
        wait_until(lambda: CallRefusal.select().count() == 2, 20, "the window refusal")
        wait_until(lambda: played(app).count(REFUSAL) == 2, 20, "both refusals heard on the phone")
        assert carrier.process.poll() is None  # the carrier is still waiting for its first call
        check.save_settings("test", window="")  # any hour now
        phone.dial(CUSTOMER)
        assert carrier.wait(30) == 0, carrier.errors()
    finally:
        phone.stop()
        carrier.stop()
    refusals = [(r.path, r.rule, r.number, r.agent) for r in CallRefusal.select().order_by(CallRefusal.id)]
    assert refusals == [("phone", "dnc", LISTED, "1001"), ("phone", "window", CUSTOMER, "1001")]
    log = (app.settings.asterisk_dir / "log" / "messages.log").read_text(errors="replace")
    assert re.findall(r"Called PJSIP/([+0-9]+)@", log) == [CUSTOMER]  # the only number that left
    invite = messages.read_text(errors="replace").split("INVITE sip:", 1)[1]
    from_line = next(line for line in invite.splitlines() if line.lower().startswith("from:"))
    assert f"sip:{POOL_NUMBER}@" in from_line, from_line
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == CUSTOMER), 15, "the outgoing call's record")
    assert (rec.direction, rec.agent) == ("outbound", "1001")
    assert [u["used_day"] for u in check.pool_usage("main")] == [1]
