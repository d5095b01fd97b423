"""The table of number places (``appliance/places.py``) answers what phonenumbers' geocoder and
carrier data answer, prefix by prefix, in Chinese and English: read back from its file, for
every 7th of China's 130,000 place prefixes (two numbers each), every carrier prefix of every
country, and every region's example number seen from a Chinese office; a file of another
phonenumbers version is not current; the appliance's loading never imports phonenumbers' data."""

import json
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumber, carrier, geocoder
from phonenumbers.carrierdata import CARRIER_DATA
from phonenumbers.geodata import GEOCODE_DATA

from appliance import places

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def table_file(tmp_path_factory):
    """Built as the appliance and the image build it: ``python -m appliance.places build``."""
    path = tmp_path_factory.mktemp("places") / "number-places.bin"
    subprocess.run(places.build_argv(path), cwd=REPO, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def table(table_file):
    return places.PlaceTable.load(table_file)  # what the appliance reads: the file, not the build


def _number(digits: str, fill: str) -> PhoneNumber:
    """A number whose E.164 digits start with ``digits`` (country code first), made up to 13."""
    code = next(int(digits[:n]) for n in (1, 2, 3) if int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    national = (digits[len(str(code)):] + fill)[:13 - len(str(code))]
    return PhoneNumber(country_code=code, national_number=int(national))


def test_chinas_places_are_phonenumbers_answers_in_both_languages(table):
    prefixes = sorted(k for k in GEOCODE_DATA if k.startswith("86"))[::7]
    assert len(prefixes) > 18_000
    checked = 0
    for prefix in prefixes:
        for fill in ("0000000", "9876543"):
            number = _number(prefix, fill)
            for lang in ("zh", "en"):
                assert table.description(number, lang) == \
                    geocoder.description_for_valid_number(number, lang, region="CN"), (prefix, fill, lang)
                checked += 1
    assert table.description(_number("861391234", "5678"), "zh") == "江苏省常州市"  # what the seeds show
    assert checked > 70_000


def test_carriers_of_every_country_are_phonenumbers_answers(table):
    for prefix in sorted(CARRIER_DATA):
        number = _number(prefix, "1234567")
        for lang in ("zh", "en"):
            assert table.carrier(number, lang) == carrier.name_for_valid_number(number, lang), (prefix, lang)
    assert table.carrier(_number("8613912345678", ""), "zh") == "中国移动"


def test_a_foreign_number_is_its_country_seen_from_china(table):
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        number = phonenumbers.example_number(region)
        if number is None:
            continue
        for lang in ("zh", "en"):
            assert table.description(number, lang) == \
                geocoder.description_for_valid_number(number, lang, region="CN"), (region, lang)
    assert table.description(phonenumbers.parse("+85291234567"), "zh") == "香港"


def test_a_file_of_another_phonenumbers_version_is_not_current(table_file, tmp_path):
    assert places.current(table_file)
    assert not places.current(table_file, "US")
    header, rest = table_file.read_bytes().split(b"\n", 1)
    older = tmp_path / "older.bin"
    older.write_bytes(json.dumps({**json.loads(header), "phonenumbers": "8.0.0"}).encode() + b"\n" + rest)
    assert not places.current(older)
    assert not places.current(tmp_path / "missing.bin")


def test_the_appliance_loads_the_table_and_never_imports_the_data(table_file):
    """``load_places`` as ``Appliance.start`` runs it: numbers are placed nowhere until the
    table is loaded, then as phonenumbers places them, with none of its data imported (a
    table not current is built by the same command as ``table_file``: the integration
    appliances share one, tests/integration/conftest.py)."""
    code = f"""
import sys, types
from pathlib import Path
from appliance import main, numbers
numbers.places_pending()
before = numbers.describe("+8613912345678", "zh")["region"]
main.load_places(types.SimpleNamespace(places_path=Path({str(table_file)!r})))
print(before, numbers.describe("+8613912345678", "zh")["region"], numbers.province_city("01058888888", "en"),
      sorted(m for m in sys.modules if m.startswith(("phonenumbers.geo", "phonenumbers.carrier"))))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "None 江苏省常州市 ('Beijing', 'Beijing') []"
