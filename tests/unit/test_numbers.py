"""The number module over real Chinese numbers: one canonical form (E.164), every stored form
found, the home region of fixed lines and mobiles in both languages, the number's type."""

import pytest

from appliance import numbers
from appliance.db import models as m
from webharness import migrated


@pytest.mark.parametrize("typed, e164", [
    ("+86 139 1234 5678", "+8613912345678"),
    ("0086 139-1234-5678", "+8613912345678"),
    ("8613912345678", "+8613912345678"),
    ("13912345678", "+8613912345678"),
    ("+13912345678", "+8613912345678"),  # a caller of ours stored with a stray +
    ("021-6123 4567", "+862161234567"),  # a fixed line with its area code
    ("+86 21 6123 4567", "+862161234567"),
    ("0044 20 7946 0000", "+442079460000"),  # a foreign number
    ("+1 415 555 0123", "+14155550123"),
    ("61234567", "61234567"),  # a fixed line without its area code: no number of the plan alone
    ("1001", "1001"),  # an extension
    ("anonymous", "anonymous"),
])
def test_normalise_to_e164(typed, e164):
    assert numbers.normalise(typed) == e164


def test_one_number_in_all_its_forms_has_one_key_and_finds_every_form():
    forms = ("+8613912345678", "8613912345678", "13912345678", "+13912345678", "008613912345678")
    assert {numbers.key(f) for f in forms} == {"+8613912345678"}
    for f in forms:
        assert set(forms) <= set(numbers.variants(f)), f
    assert {numbers.key(f) for f in ("02161234567", "+862161234567", "862161234567")} == {"+862161234567"}
    assert numbers.key("+1001") == numbers.key("1001") == "1001"
    assert numbers.key("+85291234567") != numbers.key("91234567")  # Hong Kong is not a local number
    assert numbers.variants("") == []


@pytest.mark.parametrize("number, zh, en, operator_zh, operator_en", [
    ("+86 139 1234 5678", "江苏省常州市", "Changzhou, Jiangsu", "中国移动", "China Mobile"),
    ("0086 186 1234 5678", "北京市", "Beijing", "中国联通", "China Unicom"),
    ("13800000001", "北京市", "Beijing", "中国移动", "China Mobile"),
    ("021 6123 4567", "上海市", "Shanghai", None, None),
    ("0755-8888 1234", "广东省深圳市", "Shenzhen, Guangdong", None, None),
    ("+86 10 6512 3456", "北京市", "Beijing", None, None),
    ("0044 20 7946 0000", "英国", "United Kingdom", None, None),
])
def test_home_region_of_fixed_lines_and_mobiles_in_both_languages(number, zh, en, operator_zh, operator_en):
    assert (numbers.home_region(number, "zh_CN").region, numbers.home_region(number, "zh_CN").carrier) == (
        zh, operator_zh)
    assert (numbers.home_region(number, "en").region, numbers.home_region(number, "en").carrier) == (
        en, operator_en)


def test_no_home_region_for_what_is_not_a_number():
    for text in ("61234567", "1001", "anonymous", "", None):
        assert numbers.home_region(text, "zh_CN") is None


@pytest.mark.parametrize("number, kind", [
    ("13912345678", "mobile"), ("02161234567", "fixed_line"), ("4008123456", "shared_cost"),
    ("8008123456", "toll_free"), ("+442079460000", "fixed_line"), ("1001", "unknown"), ("", "unknown"),
])
def test_number_type(number, kind):
    assert numbers.number_type(number) == kind


def test_a_lookup_by_number_finds_every_stored_form(tmp_path):
    """Customer phones and call-record callers exist in several forms already (no migration
    rewrote them): a lookup in any form finds them all."""
    db = migrated(tmp_path / "t.db")
    stored = ("+8613912345678", "13912345671", "8613912345672", "+13912345673", "02161234567")
    for i, phone in enumerate(stored):
        m.Customer.create(name=f"c{i}", phone=phone)
    asked = {"13912345678": "c0", "+8613912345671": "c1", "0086 139 1234 5672": "c2", "13912345673": "c3",
             "+86 21 6123 4567": "c4", "862161234567": "c4"}
    for number, name in asked.items():
        row = m.Customer.select().where(m.Customer.phone.in_(numbers.variants(number))).first()
        assert row is not None and row.name == name, number
    db.close()


def test_the_place_key_groups_every_form_of_a_number_by_its_seven_digits():
    import sqlite3

    keys = {text: sqlite3.connect(":memory:").execute(f"SELECT {numbers.place_key_sql('n')} FROM (SELECT ? AS n)",
                                                      (text,)).fetchone()[0]
            for text in ("13912345678", "+8613912345678", "8613912340001", "008613912349999", "075588889999",
                         "+8675588880000", "+85291234567", "anonymous")}
    assert keys == {"13912345678": "1391234", "+8613912345678": "1391234", "8613912340001": "1391234",
                    "008613912349999": "1391234", "075588889999": "7558888", "+8675588880000": "7558888",
                    "+85291234567": "+85291234567", "anonymous": "anonymous"}
    # and one number of a key is placed where every other one is
    assert numbers.province_city("13912340001", "zh_CN") == numbers.province_city("13912349999", "zh_CN")

