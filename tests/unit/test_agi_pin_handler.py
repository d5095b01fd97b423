"""The FastAGI 'pin' handler: the keyed member PIN against the caller's customer record."""

from __future__ import annotations

from types import SimpleNamespace

from appliance import dialplan_vars as v
from appliance.agi.handlers import pin
from appliance.services.users import hash_password

MEMBER = SimpleNamespace(pin_hash=hash_password("4321"))
NO_PIN = SimpleNamespace(pin_hash="")


class Session:
    def __init__(self):
        self.variables = {}

    def set_variable(self, name, value):
        self.variables[name] = value


def check(keyed, customer, caplog=None):
    session = Session()
    handler = pin.make_handler(lambda caller: customer)
    handler(session, SimpleNamespace(args=[keyed] if keyed is not None else [], callerid="13800000081",
                                     channel="PJSIP/trunk-pstn-1"))
    return session.variables[v.RESULT]


def test_right_wrong_and_missing_pins(caplog):
    assert check("4321", MEMBER) == "ok"
    assert check("1234", MEMBER) == "pin.wrong"
    assert check("", MEMBER) == "pin.wrong"
    assert check(None, MEMBER) == "pin.wrong"
    assert check("43a1", MEMBER) == "pin.wrong"
    assert check("4321", NO_PIN) == "pin.no_customer"
    assert check("4321", None) == "pin.no_customer"
    assert "1234" not in caplog.text  # the digits keyed are never logged
