"""Card detection: the ID table (most specific entry wins) and the sysfs scan over
fixture trees laid out like /sys/bus/pci/devices (tests/fixtures/dahdi/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwdrivers import pci
from hwdrivers.pci import PciDevice, classify

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dahdi"


def device(vendor, dev, subvendor=0, subdevice=0, driver=None):
    return PciDevice("0000:01:00.0", vendor, dev, subvendor, subdevice, driver)


@pytest.mark.parametrize("ids, name, driver, family, spans, ports", [
    ((0xD161, 0x0205, 0x0004), "Wildcard TE205P (4th Gen)", "wct4xxp", pci.DIGITAL, 2, 0),
    ((0xD161, 0x0205, 0x0003), "Wildcard TE205P (3rd Gen)", "wct4xxp", pci.DIGITAL, 2, 0),
    ((0xD161, 0x0205, 0x0000), "Wildcard TE205P", "wct4xxp", pci.DIGITAL, 2, 0),
    ((0xD161, 0x1820, 0xD161), "Wildcard TE820 (5th Gen)", "wct4xxp", pci.DIGITAL, 8, 0),
    ((0x1B74, 0xD430, 0x1B74), "OpenVox D430E", "wct4xxp", pci.DIGITAL, 4, 0),
    ((0x1B74, 0x0115, 0x1B74), "OpenVox D115P/D115E", "opvxd115", pci.DIGITAL, 1, 0),
    ((0x1923, 0x0100, 0x1923), "Sangoma A104d", "wanpipe", pci.DIGITAL, 4, 0),
    ((0xD161, 0x0800, 0x0000), "Wildcard TDM800P", "wctdm24xxp", pci.ANALOG, 0, 8),
    ((0xD161, 0x800F, 0xD161), "Digium A4A", "wcaxx", pci.ANALOG, 0, 4),
    ((0x1B74, 0x1610, 0x1B74), "OpenVox A1610P", "opvxa24xx", pci.ANALOG, 0, 16),
])
def test_table_entries(ids, name, driver, family, spans, ports):
    model = classify(device(*ids))
    assert (model.name, model.driver, model.family, model.spans, model.ports) == (name, driver, family, spans, ports)


@pytest.mark.parametrize("subvendor, subdevice, name, driver", [
    # One Tiger Jet chip, five different cards: only the subsystem IDs tell them apart.
    (0xB100, 0x0000, "Wildcard TDM400P", "wctdm"),
    (0x8085, 0x0000, "Wildcard X101P", "wcfxo"),
    (0x71FE, 0x0000, "Wildcard TE110P", "wcte11xp"),
    (0x9100, 0x0000, "OpenVox A1200P/A1200E", "opvxa1200"),
    (0x9500, 0x0003, "OpenVox A800P", "opvxa1200"),  # beats the 9500/any entry: more specific
    (0x9500, 0x0001, "OpenVox A1200P/A1200E", "opvxa1200"),
])
def test_tiger_jet_cards_are_told_apart_by_subsystem(subvendor, subdevice, name, driver):
    model = classify(device(0xE159, 0x0001, subvendor, subdevice))
    assert (model.name, model.driver) == (name, driver)


def test_unknown_tiger_jet_subvendor_is_not_a_card():
    assert classify(device(0xE159, 0x0001, 0x1234, 0x0000)) is None


def test_firmware_is_named_for_cards_that_need_it():
    assert classify(device(0xD161, 0x1820)).firmware == "dahdi-fw-te820.bin"
    assert classify(device(0xD161, 0x8007)).firmware == "dahdi-fw-hx8.bin"
    assert classify(device(0xD161, 0x0205, 0x0004)).firmware is None


def test_table_has_no_duplicate_keys():
    keys = [(m.vendor, m.device, m.subvendor, m.subdevice) for m in pci.KNOWN_CARDS]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("text, expected", [("0xd161\n", 0xD161), ("0x0001", 1), ("1b74\n", 0x1B74)])
def test_parse_id(text, expected):
    assert pci.parse_id(text) == expected


@pytest.mark.parametrize("text", ["", "not-hex", "0x12345", "\x00\x00"])
def test_parse_id_refuses_garbage(text):
    with pytest.raises(ValueError):
        pci.parse_id(text)


def test_scan_finds_the_card_and_its_bound_driver():
    result = pci.scan(FIXTURES / "e1_pri_ok")
    assert [(c.device.slot, c.model.name, c.device.driver) for c in result.cards] == [
        ("0000:05:0e.0", "Wildcard TE205P (4th Gen)", "wct4xxp")]
    assert result.unreadable == ()


def test_scan_reports_an_unbound_card():
    (card,) = pci.scan(FIXTURES / "no_firmware").cards
    assert card.model.name == "Wildcard TE820 (5th Gen)"
    assert not card.driver_bound


def test_no_card_is_an_empty_list_not_an_error():
    result = pci.scan(FIXTURES / "no_card")
    assert result.cards == () and result.unreadable == ()


def test_missing_sysfs_is_no_card(tmp_path):
    assert pci.scan(tmp_path) == pci.PciScan(())


def test_garbled_id_file_is_reported_not_raised():
    result = pci.scan(FIXTURES / "garbled")
    assert [c.device.slot for c in result.cards] == ["0000:05:0e.0"]
    (path, reason), = result.unreadable
    assert path.endswith("0000:00:02.0") and "not-hex" in reason
