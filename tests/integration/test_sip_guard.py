"""The SIP guard against a real Asterisk: SIPp guesses passwords from 127.0.0.5 and is
blocked (even the right password then fails) while Alice's phone on 127.0.0.1 registers
and a trunk call from 127.0.0.2 is answered; the block ends by an admin's unblock or when
its time is up, and survives a restart; phones can be kept to the LAN's subnets."""

from __future__ import annotations

import socket

import pytest

from appliance.db.models import AuditLog, CallRecord, SipBlock
from harness import (Phone, Sipp, configure_basic, free_port, signed_in_phone, sip_address, started, trunk_call,
                     wait_until)

pytestmark = pytest.mark.asterisk

GUESSER = "127.0.0.5"
RIGHT = "pw-1001-secret"


def from_source(app, tmp_path, scenario: str, source: str, password: str, calls: int = 1,
                extension: str = "1001") -> int:
    sipp = Sipp(scenario, source, free_port(socket.SOCK_DGRAM, source), sip_address(app), {"agent": extension},
                tmp_path / "sipp", calls=calls, extra_args=("-au", extension, "-ap", password))
    return sipp.run(60)


def registers(app, tmp_path, source: str, password: str = RIGHT) -> bool:
    """A REGISTER with ``password`` from ``source`` gets 200 OK (its contact on port 5999)."""
    sipp = Sipp("agent_phone_register.xml", source, free_port(socket.SOCK_DGRAM, source), sip_address(app),
                {"agent": "1001", "contact_port": 5999}, tmp_path / "sipp",
                extra_args=("-au", "1001", "-ap", password))
    return sipp.run(30) == 0


def refused(app, tmp_path, source: str, extension: str = "1001", password: str = RIGHT) -> bool:
    """The right password from ``source`` does not register (phone_register_refused.xml)."""
    return from_source(app, tmp_path, "phone_register_refused.xml", source, password, extension=extension) == 0


def asterisk_blocks(app) -> str:
    return app.pbx.cli("pjsip show identifies")


def blocked_in_asterisk(app, address: str) -> bool:
    return f"cc-blocked/cc-blocked" in asterisk_blocks(app) and f"{address}/32" in asterisk_blocks(app)


def guard_settings(**more):
    return {"sip_guard_failures": 5, "sip_guard_window_seconds": 60, "sip_guard_block_seconds": 600, **more}


def answered_trunk_call(app, tmp_path, caller: str) -> None:
    call = trunk_call(sip_address(app), "88001000", caller, tmp_path / "sipp", hold_ms=1000)
    assert call.run(40) == 0, call.errors()
    record = wait_until(lambda: CallRecord.get_or_none(CallRecord.caller == caller), 15, "the call record")
    assert record.disposition == "answered" and record.agent == "1001"


def test_guessing_source_blocked_while_phones_and_trunk_work(make_appliance, tmp_path):
    app = make_appliance(**guard_settings())
    configure_basic(app)
    started(app)
    phone = signed_in_phone(app, tmp_path, calls=2)
    try:
        # four wrong guesses: one short of the limit, nothing happens
        assert from_source(app, tmp_path, "phone_register_wrong.xml", GUESSER, "guess", calls=4) == 0
        assert not SipBlock.select().exists()
        # the fifth blocks the source, in the database and then in Asterisk
        assert from_source(app, tmp_path, "phone_register_wrong.xml", GUESSER, "guess", calls=1) == 0
        block = wait_until(lambda: SipBlock.get_or_none(SipBlock.address == GUESSER), 10, "the block")
        assert block.failures == 5 and block.accounts == "1001" and block.kinds == "wrong_password"
        wait_until(lambda: blocked_in_asterisk(app, GUESSER), 10, "Asterisk to identify the source as blocked")
        # now the right password from there fails too, and so does any other extension
        assert refused(app, tmp_path, GUESSER)
        assert refused(app, tmp_path, GUESSER, extension="9999", password="whatever")
        # everyone else is unaffected: Alice's phone registers again, a trunk call is answered
        phone.register()
        answered_trunk_call(app, tmp_path, "13800000001")
        assert [b["address"] for b in app.sip_guard.blocks()] == [GUESSER]
        assert {e["kind"] for e in app.sip_guard.recent_events()} >= {"wrong_password"}
        # an admin lets it in again: the right password registers from there at once
        app.sip_guard.unblock(GUESSER, "boss")
        assert not blocked_in_asterisk(app, GUESSER)
        assert registers(app, tmp_path, GUESSER)
        assert SipBlock.get_by_id(block.id).ended_by == "boss"
        assert AuditLog.get_or_none(AuditLog.action == "unblock", AuditLog.object_id == GUESSER).username == "boss"
    finally:
        phone.stop()


def test_block_ends_by_itself(make_appliance, tmp_path):
    app = make_appliance(**guard_settings(sip_guard_failures=3, sip_guard_block_seconds=3))
    configure_basic(app)
    started(app)
    assert from_source(app, tmp_path, "phone_register_wrong.xml", GUESSER, "guess", calls=3) == 0
    wait_until(lambda: blocked_in_asterisk(app, GUESSER), 10, "the block in Asterisk")
    assert refused(app, tmp_path, GUESSER)
    # its time is up (a few seconds by the settings): it ends, and the source registers
    wait_until(lambda: not blocked_in_asterisk(app, GUESSER), 20, "the block to end by itself")
    assert SipBlock.get(SipBlock.address == GUESSER).ended_by == "expired"
    assert registers(app, tmp_path, GUESSER)


def test_block_survives_a_restart(make_appliance, tmp_path):
    app = make_appliance(**guard_settings(sip_guard_failures=3))
    configure_basic(app)
    started(app)
    assert from_source(app, tmp_path, "phone_register_wrong.xml", GUESSER, "guess", calls=3) == 0
    wait_until(lambda: blocked_in_asterisk(app, GUESSER), 10, "the block in Asterisk")
    app.stop()
    # a new process over the same database starts Asterisk with the block in place
    again = started(make_appliance(**guard_settings(sip_guard_failures=3)))
    assert blocked_in_asterisk(again, GUESSER)
    assert refused(again, tmp_path, GUESSER)
    assert [b["address"] for b in again.sip_guard.blocks()] == [GUESSER]


def test_trusted_addresses_never_blocked(make_appliance, tmp_path):
    app = make_appliance(**guard_settings(sip_guard_failures=3))
    configure_basic(app)
    started(app)
    app.sip_guard.save_settings("boss", trusted="127.0.0.7")
    # a trusted address scanning (a trunk's own REGISTER is refused as the trunk's, with no
    # security event: its protection is in tests/unit/test_sip_guard_policy.py)
    assert from_source(app, tmp_path, "phone_register_wrong.xml", "127.0.0.7", "guess", calls=4,
                       extension="9999") == 0
    assert from_source(app, tmp_path, "phone_register_wrong.xml", GUESSER, "guess", calls=3) == 0
    wait_until(lambda: blocked_in_asterisk(app, GUESSER), 10, "the untrusted guesser blocked")
    assert [b["address"] for b in app.sip_guard.blocks()] == [GUESSER]
    # trusting a blocked address lets it in
    app.sip_guard.save_settings("boss", trusted="127.0.0.7, 127.0.0.0/29")
    wait_until(lambda: not blocked_in_asterisk(app, GUESSER), 10, "the newly trusted source unblocked")
    assert SipBlock.get(SipBlock.address == GUESSER).ended_by == "trusted"


def test_phones_kept_to_the_lan_subnets(make_appliance, tmp_path):
    app = make_appliance(**guard_settings(sip_guard_failures=50))
    configure_basic(app)
    started(app)
    assert registers(app, tmp_path, "127.0.0.6")  # allowed from anywhere by default
    app.sip_guard.save_settings("boss", phone_subnets="127.0.0.0/30")
    assert "permit = 127.0.0.0/30" in (app.pbx.generated_dir / "pjsip.conf").read_text()
    assert refused(app, tmp_path, "127.0.0.6")  # outside: the right password does not register
    phone = signed_in_phone(app, tmp_path)  # 127.0.0.1, inside
    try:
        answered_trunk_call(app, tmp_path, "13800000002")  # the trunk is no phone: unaffected
    finally:
        phone.stop()
    app.sip_guard.save_settings("boss", phone_subnets="")
    assert registers(app, tmp_path, "127.0.0.6")
