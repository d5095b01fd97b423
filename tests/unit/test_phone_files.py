"""Desk phones that provision themselves: MAC addresses, the phones' models and
credentials in the configuration store, and each vendor's file (golden files: review a
change in the diff, then regenerate with UPDATE_GOLDEN=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from appliance.db import models as m
from appliance.errors import Conflict, ValidationError
from appliance.services.config import ConfigService
from provisioning import phones
from provisioning.phones.model import Colleague, PhoneFile, normalise_mac, posix_rule, utc_offset_minutes

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "phones"
TEAM = (Colleague("1002", "韩梅梅"), Colleague("1003", "Jim <Green> & Co"), Colleague("1004", ""))


@pytest.mark.parametrize("spelling", ["00:15:65:AA:BB:CC", "00-15-65-aa-bb-cc", "0015.65aa.bbcc", "001565AABBCC",
                                      " 00 15 65 aa bb cc "])
def test_a_mac_in_any_common_spelling_is_normalised(spelling):
    assert normalise_mac(spelling) == "001565aabbcc"


@pytest.mark.parametrize("bad", ["", "00:15:65:AA:BB", "00:15:65:AA:BB:CG", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff",
                                 "01:00:5e:00:00:01", "001565aabbccdd"])
def test_what_is_not_a_phones_mac_is_refused(bad):
    with pytest.raises(ValueError):
        normalise_mac(bad)


def test_a_phone_gets_a_mac_a_model_and_a_provisioning_password(db):
    cfg = ConfigService(db)
    made = cfg.create("phones", {"extension": "1001", "secret": "s3cret-pass", "mac": "00-15-65-AA-BB-CC",
                                 "model": "yealink-t46u"}, actor="t")
    assert made["mac"] == "001565aabbcc" and made["model"] == "yealink-t46u" and made["fetched_at"] is None
    password = m.Phone.get(m.Phone.extension == "1001").prov_password
    assert len(password) == 16 and password not in str(made)
    cfg.update("phones", "1001", {"callerid_name": "Li Lei", "mac": "00:15:65:aa:bb:cc"}, actor="t")  # itself: fine
    assert m.Phone.get(m.Phone.extension == "1001").prov_password == password  # kept, not made again
    # a phone without a MAC stays a phone configured by hand, as many as wanted
    for ext in ("1002", "1003"):
        assert cfg.create("phones", {"extension": ext, "secret": "s3cret-pass"}, actor="t")["mac"] is None


def test_a_mac_is_unique_whatever_its_spelling(db):
    cfg = ConfigService(db)
    cfg.create("phones", {"extension": "1001", "secret": "s3cret-pass", "mac": "001565aabbcc",
                          "model": "yealink-t46u"}, actor="t")
    with pytest.raises(Conflict) as refused:
        cfg.create("phones", {"extension": "1002", "secret": "s3cret-pass", "mac": "00:15:65:AA:BB:CC",
                              "model": "fanvil-x4u"}, actor="t")
    assert refused.value.code == "phones.mac_exists" and set(refused.value.fields) == {"mac"}
    cfg.create("phones", {"extension": "1002", "secret": "s3cret-pass"}, actor="t")
    with pytest.raises(Conflict):
        cfg.update("phones", "1002", {"mac": "0015.65aa.bbcc", "model": "fanvil-x4u"}, actor="t")


@pytest.mark.parametrize("data, field, msgid", [
    ({"mac": "00:15:65:AA:BB"}, "mac", "field.mac"),
    ({"mac": "00:15:65:AA:BB:CC"}, "model", "field.phone_model_needed"),
    ({"model": "grandstream-gxp2160"}, "mac", "field.phone_mac_needed"),
    ({"mac": "00:15:65:AA:BB:CC", "model": "cisco-7960"}, "model", "field.choice"),
])
def test_a_phone_half_described_is_refused_with_the_field_named(db, data, field, msgid):
    with pytest.raises(ValidationError) as refused:
        ConfigService(db).create("phones", {"extension": "1001", "secret": "s3cret-pass", **data}, actor="t")
    assert refused.value.fields[field].msgid == msgid
    assert not m.Phone.select().exists()


def phone(model: str, mac: str, **more) -> PhoneFile:
    return PhoneFile(**{"mac": mac, "model": model, "extension": "1001", "secret": "Secret-Of-1001",
                        "display_name": "李雷 Li Lei", "server": "192.168.1.10", "colleagues": TEAM, **more})


CASES = {
    "y000000000000.cfg": lambda: phones.render_common("yealink", phone("yealink-t46u", "001565aabbcc")),
    "001565aabbcc.cfg": lambda: phones.render(phone("yealink-t46u", "001565aabbcc", codecs=("g722", "alaw", "ulaw"))),
    "cfgc074ad112233.xml": lambda: phones.render(phone("grandstream-gxp2160", "c074ad112233", language="en",
                                                       timezone="Europe/Berlin", codecs=("ulaw", "alaw"))),
    "0c383e445566.cfg": lambda: phones.render(phone("fanvil-x4u", "0c383e445566", sip_port=5070)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    text = CASES[name]()
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{name} changed: review, then UPDATE_GOLDEN=1"


def test_each_file_is_named_as_its_phone_asks_and_parsed_back():
    for model, mac, name in (("yealink-t46u", "001565aabbcc", "001565aabbcc.cfg"),
                             ("grandstream-grp2612", "c074ad112233", "cfgc074ad112233.xml"),
                             ("fanvil-x6u", "0c383e445566", "0c383e445566.cfg")):
        assert phones.file_name(model, mac) == name and phones.file_request(name) == ("phone", mac)
    assert phones.file_request("y000000000000.cfg") == ("common", "yealink")
    for other in ("../../etc/passwd", "001565aabbcc.cfg.bak", "cfg001565AABBCC.xml", "index.html", ""):
        assert phones.file_request(other) is None


def test_blf_keys_stop_at_what_the_model_has():
    assert len(phone("yealink-t31p", "001565aabbcc").blf()) == 1
    assert "linekey.3" not in phones.render(phone("yealink-t31p", "001565aabbcc"))
    assert [c.extension for c in phone("yealink-t46u", "001565aabbcc").blf()] == ["1002", "1003", "1004"]


def test_values_cannot_break_out_of_their_line_or_element():
    text = phones.render(phone("yealink-t46u", "001565aabbcc", display_name="x\nstatic.security.user_password = 1"))
    assert "\nstatic.security.user_password" not in text
    xml = phones.render(phone("fanvil-x4u", "0c383e445566", display_name="</LCDTitle><x>"))
    assert "</LCDTitle><x>" not in xml and "&lt;/LCDTitle&gt;&lt;x&gt;" in xml


def test_time_zones_in_the_phones_forms():
    assert utc_offset_minutes("Asia/Shanghai") == 480 and utc_offset_minutes("Asia/Kolkata") == 330
    assert utc_offset_minutes("Europe/Berlin") == 60  # the standard offset, summer or winter
    assert posix_rule("Asia/Shanghai") == "CST-8"
    assert posix_rule("Asia/Shanghai", zoneinfo_dir=Path("/nonexistent")) == "UTC-8"
