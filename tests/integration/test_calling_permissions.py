"""Calling permissions on real Asterisk: an agent's desk phone keys an international number and
is told in the office's language that this phone may not call it, the carrier (a SIPp trunk)
never sees an INVITE for it and the refusal is audited; a long-distance number keyed next goes
out to the carrier and is the agent's outgoing call, whose record carries its cost at hang-up
(the default rate plan's long-distance price for the first minute, plus the fee per call)."""

from __future__ import annotations

import json
import re
import socket

import pytest

from appliance.db.models import AuditLog, CallRecord
from harness import TRUNK_IP, Phone, Sipp, configure_basic, free_port, played, sip_address, started, wait_until

pytestmark = pytest.mark.asterisk

ABROAD, BEIJING = "0012125551234", "01062345678"


def test_a_desk_phone_may_not_dial_abroad_but_may_dial_long_distance(make_appliance, tmp_path):
    app = make_appliance(caller_language="zh_CN")
    configure_basic(app)  # agent 1001 (no web account: an agent's default, up to domestic) at phone 1001
    carrier_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    app.config.update("trunks", "pstn", {"port": carrier_port}, actor="test")
    app.billing.save(None, {"name": "电信", "first_seconds": 60, "next_seconds": 6, "call_fee": "0.02",
                            "is_default": True, "rates": [{"class": "long_distance", "per_minute": "0.30"}]},
                     actor="test")
    started(app)
    # the carrier answers one call (whichever comes first), talks a second and hangs up
    carrier = Sipp("trunk_answer.xml", TRUNK_IP, carrier_port, None, {}, tmp_path / "sipp",
                   extra_args=("-d", "1000")).start()
    phone = Phone("1001", "pw-1001-secret", sip_address(app), tmp_path / "sipp").start()
    try:
        # abroad: answered, told why, hung up on by the appliance (the scenario waits for the BYE)
        phone.dial(ABROAD)
        refusal = "/appliance/lib/sounds/zh_CN/cc-not-permitted.gsm"
        assert refusal in wait_until(lambda: played(app), 20, "the refusal on the phone")
        [row] = AuditLog.select().where(AuditLog.action == "refused")
        assert (row.username, row.object_type, row.object_id) == ("agent 1001", "call", ABROAD)
        assert json.loads(row.detail)["number_class"] == "international"
        assert carrier.process.poll() is None  # the carrier is still waiting for its first call
        # long distance: through the trunk to the carrier, who answers and hangs up
        phone.dial(BEIJING)
        assert carrier.wait(30) == 0, carrier.errors()
    finally:
        phone.stop()
        carrier.stop()
    log = (app.settings.asterisk_dir / "log" / "messages.log").read_text(errors="replace")
    dialled = re.findall(r"Called PJSIP/([+0-9]+)@", log)
    assert dialled == [BEIJING], dialled  # the only number that ever left for the carrier
    rec = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == BEIJING), 15, "the outgoing call's record")
    assert (rec.direction, rec.agent, rec.trunk) == ("outbound", "1001", "pstn")
    # talked about a second: the first unit (60 s) at 0.30 a minute, 30 fen, plus 2 fen a call
    assert 0 < rec.talk_seconds < 60
    assert (rec.cost, rec.rate_plan, rec.destination_class) == (32, "电信", "long_distance")
    assert AuditLog.select().where(AuditLog.action == "refused").count() == 1
