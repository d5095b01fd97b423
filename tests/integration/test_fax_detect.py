"""Faxes that arrive where voice calls do, on the real Asterisk: a voice DID with
``fax_detect`` hands a calling fax machine (SendFAX's CNG tone) to the fax receiver while
a person calling the same number still waits in the queue; and a voice menu whose timeout
action is "receive a fax" takes the fax of a machine that presses no key."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from harness import configure_basic, sip_address, trunk_call, wait_until
from test_fax import fax_machine_calls, fax_of, fax_page
from test_ivr import two_level_menus

pytestmark = pytest.mark.asterisk

VOICE_DID = "88001000"
MACHINE = "861066667777"
TWO_PAGES = [fax_page(1, 1000), fax_page(2, 1100)]


def test_a_voice_number_with_fax_detection_takes_a_fax_and_still_queues_people(make_appliance, tmp_path):
    app = make_appliance()
    configure_basic(app)
    app.config.update("queues", "sales", {"max_wait_seconds": 20}, actor="test")  # nobody signed in: callers wait
    app.config.update("dids", VOICE_DID, {"fax_detect": True}, actor="test")
    fax_machine_calls(app, VOICE_DID, TWO_PAGES, f"Branch <{MACHINE}>")
    fax = fax_of(MACHINE)
    assert (fax.state, fax.pages, fax.did) == ("received", 2, VOICE_DID), (fax.error_code, fax.detail)

    person = trunk_call(sip_address(app), VOICE_DID, "13800000777", tmp_path / "sipp", hold_ms=4000).start()
    assert person.wait(60) == 0, person.errors()
    record = wait_until(lambda: m.CallRecord.get_or_none(m.CallRecord.caller == "13800000777"), 15, "record")
    assert record.queue == "sales" and record.route_rule != "fax"
    assert m.Fax.get_or_none(m.Fax.caller == "13800000777") is None  # a person is never taken for a fax


def test_a_menu_that_times_out_into_the_fax_receiver_takes_a_machines_fax(make_appliance):
    app = make_appliance()
    configure_basic(app)
    menu_did = "88003000"  # a number of its own, answered by the menus
    two_level_menus(app, menu_did, timeout_seconds=1, max_tries=1, timeout_action="fax")
    fax_machine_calls(app, menu_did, TWO_PAGES, f"Branch <{MACHINE}>")
    fax = fax_of(MACHINE)
    assert (fax.state, fax.pages, fax.did) == ("received", 2, menu_did), (fax.error_code, fax.detail)
