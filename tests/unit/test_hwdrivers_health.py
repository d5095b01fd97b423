"""One hardware status from fixture trees: each case of tests/fixtures/dahdi gives a
defined outcome with stable problem codes, and odd files never raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwdrivers import pci
from hwdrivers.dahdi_status import DahdiDevice, DahdiStatus, Span
from hwdrivers.health import assess, hardware_health

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dahdi"


def codes(health):
    return [(p.code, p.severity, p.subject) for p in health.problems]


def test_healthy_e1_pri():
    health = hardware_health(FIXTURES / "e1_pri_ok")
    assert health.status == "ok" and health.problems == ()
    (card,) = health.cards
    assert (card.name, card.family, card.driver, card.driver_bound, card.firmware_ok, card.spans) == (
        "Wildcard TE205P (4th Gen)", "E1/T1 digital", "wct4xxp", True, None, (1, 2))
    assert [(s.number, s.type, s.ok, s.alarms) for s in health.spans] == [(1, "E1", True, ()), (2, "E1", True, ())]
    assert health.ports == ()


@pytest.mark.parametrize("case, alarm, spans", [
    ("e1_red", "RED", ["span 1", "span 2"]),
    ("e1_yellow", "YELLOW", ["span 1"]),
    ("e1_blue", "BLUE", ["span 1"]),
])
def test_span_in_alarm_is_critical(case, alarm, spans):
    health = hardware_health(FIXTURES / case)
    assert health.status == "critical"
    assert codes(health) == [("dahdi.span_alarm", "critical", s) for s in spans]
    assert health.spans[0].alarms == (alarm,) and not health.spans[0].ok
    assert alarm in health.problems[0].message


def test_slips_and_line_errors_are_warnings_with_counts():
    health = hardware_health(FIXTURES / "e1_slips_errors")
    assert health.status == "warning"
    assert codes(health) == [("dahdi.slips", "warning", "span 1"), ("dahdi.line_errors", "warning", "span 1")]
    assert (health.spans[0].slips, health.spans[0].errors) == (148, 42)
    assert "148" in health.problems[0].message and "crc4 12" in health.problems[1].message


def test_analog_card_ports():
    health = hardware_health(FIXTURES / "analog_fxs_fxo")
    assert [(p.channel, p.type, p.state) for p in health.ports] == [
        (1, "fxs", "in-use"), (2, "fxs", "in-use"), (3, "fxs", "in-use"), (4, "fxs", "in-use"),
        (5, "fxo", "idle"), (6, "fxo", "idle"), (7, "fxo", "idle"), (8, "fxo", "alarm")]
    assert codes(health) == [("dahdi.irq_misses", "warning", "span 1"), ("dahdi.port_alarm", "warning", "channel 8")]
    assert health.spans[0].irq_misses == 1762187
    assert "no battery" in health.problems[1].message


def test_card_without_firmware():
    health = hardware_health(FIXTURES / "no_firmware")
    assert health.status == "critical"
    assert codes(health) == [("dahdi.no_firmware", "critical", "pci 0000:1b:08.0")]
    assert "dahdi-fw-te820.bin" in health.problems[0].message
    (card,) = health.cards
    assert (card.firmware, card.firmware_ok, card.spans) == ("dahdi-fw-te820.bin", False, ())


def test_no_card():
    health = hardware_health(FIXTURES / "no_card")
    assert (health.cards, health.spans, health.ports) == ((), (), ())
    assert codes(health) == [("dahdi.no_card", "info", "pci")]
    assert health.status == "info"


def test_garbled_files_are_problems_not_exceptions():
    health = hardware_health(FIXTURES / "garbled")
    assert [c for c, _, _ in codes(health)] == ["dahdi.unreadable"] * 3
    assert {Path(p.subject).name for p in health.problems} == {"0000:00:02.0", "1", "span-2"}
    assert [s.number for s in health.spans] == [1, 2]


def test_nonexistent_root_is_no_card(tmp_path):
    assert codes(hardware_health(tmp_path / "absent")) == [("dahdi.no_card", "info", "pci")]


@pytest.mark.parametrize("junk", [b"\xff\xfe\x00garbage", b"", b"Span x: y"])
def test_any_junk_in_proc_is_survived(tmp_path, junk):
    (tmp_path / "proc/dahdi").mkdir(parents=True)
    (tmp_path / "proc/dahdi/1").write_bytes(junk)
    (tmp_path / "proc/dahdi/7").mkdir()  # a directory where a file should be
    health = hardware_health(tmp_path)
    assert [p.code for p in health.problems] == ["dahdi.no_card", "dahdi.unreadable", "dahdi.unreadable"]


def card(model_key, bound=True):
    vendor, device = model_key
    dev = pci.PciDevice("0000:02:00.0", vendor, device, 0, 0, "driver" if bound else None)
    return pci.PciScan((pci.DetectedCard(dev, pci.classify(dev)),))


def test_driver_not_loaded():
    health = assess(card((0xD161, 0x0800), bound=False), DahdiStatus(loaded=True))
    assert codes(health) == [("dahdi.driver_not_loaded", "critical", "pci 0000:02:00.0")]
    assert "wctdm24xxp" in health.problems[0].message


def test_bound_driver_without_spans_and_no_firmware_needed():
    health = assess(card((0xD161, 0x0800)), DahdiStatus(loaded=True))
    assert codes(health) == [("dahdi.no_spans", "critical", "pci 0000:02:00.0")]


def test_firmware_card_with_loaded_module_but_unbound_is_no_firmware():
    health = assess(card((0xD161, 0x800F), bound=False), DahdiStatus(loaded=True), frozenset({"wcaxx"}))
    assert codes(health) == [("dahdi.no_firmware", "critical", "pci 0000:02:00.0")]


def test_registered_but_unconfigured_span():
    status = DahdiStatus(loaded=True, devices=(DahdiDevice("pci:0000:02:00.0", spans=(1,)),),
                         spans=(Span(1, "TE2/0/1", spantype="E1"),))
    health = assess(card((0xD161, 0x1220)), status)
    assert codes(health) == [("dahdi.span_unconfigured", "warning", "span 1")]
    assert health.cards[0].spans == (1,)


def test_as_dict_carries_the_status():
    data = hardware_health(FIXTURES / "e1_red").as_dict()
    assert data["status"] == "critical"
    assert data["problems"][0]["code"] == "dahdi.span_alarm"
    assert data["cards"][0]["name"] == "Wildcard TE220 (5th Gen)"
