"""Parsing DAHDI's /proc/dahdi text and sysfs attributes, from fixture trees copied
from (or laid out exactly like) real cards' output: tests/fixtures/dahdi/README.md."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hwdrivers.dahdi_status import (Channel, SpanFormatError, alarms_from_mask, parse_alarm_mask,
                                    parse_channel_line, parse_proc_span, read_status)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dahdi"


def test_healthy_e1_span():
    span = parse_proc_span((FIXTURES / "e1_pri_ok/proc/dahdi/1").read_text())
    assert (span.number, span.name, span.description) == (1, "TE2/0/1", "T2XXP (PCI) Card 0 Span 1")
    assert (span.coding, span.framing, span.crc4) == ("HDB3", "CCS", False)
    assert span.clock_source and not span.master
    assert span.alarms == () and span.ok
    assert span.kind == "E1" and span.configured
    assert len(span.channels) == 31
    assert span.channels[0] == Channel(1, "TE2/0/1/1", "Clear", True, (), "VPMOCT064")
    assert span.channels[15].signalling == "HDLCFCS"
    assert span.unknown_words == ()


def test_red_span_in_the_older_ccs_hdb3_order():
    span = parse_proc_span((FIXTURES / "e1_red/proc/dahdi/1").read_text())
    assert (span.coding, span.framing, span.crc4) == ("HDB3", "CCS", True)
    assert span.alarms == ("RED",) and not span.ok


@pytest.mark.parametrize("case, word", [("e1_yellow", "YELLOW"), ("e1_blue", "BLUE")])
def test_yellow_and_blue(case, word):
    span = parse_proc_span((FIXTURES / case / "proc/dahdi/1").read_text())
    assert span.alarms == (word,)
    assert span.clock_source


def test_counters():
    span = parse_proc_span((FIXTURES / "e1_slips_errors/proc/dahdi/1").read_text())
    assert span.counters == {"bpv": 27, "crc4": 12, "fas": 3, "timing_slips": 148}
    assert span.slips == 148 and span.errors == 42
    assert span.ok  # counters are not alarms


def test_analog_channels_and_port_types():
    span = parse_proc_span((FIXTURES / "analog_fxs_fxo/proc/dahdi/1").read_text())
    assert span.master and span.counters == {"irq_misses": 1762187}
    assert [c.port_type for c in span.channels] == ["fxs"] * 4 + ["fxo"] * 4
    assert [c.in_use for c in span.channels] == [True] * 4 + [False] * 4
    assert span.channels[7].alarms == ("RED",)
    assert span.kind == "analog"


def test_header_with_every_word():
    span = parse_proc_span('Span 3: TE4/0/3 "T4XXP (PCI) Card 0 Span 3" (MASTER) B8ZS/ESF YELLOW LOOP ClockSource \n')
    assert span.master and span.clock_source
    assert (span.coding, span.framing, span.kind) == ("B8ZS", "ESF", "T1")
    assert span.alarms == ("YELLOW", "LOOP")


def test_unconfigured_digital_span():
    span = parse_proc_span('Span 1: TE4/0/1 "T4XXP (PCI) Card 0 Span 1" \n\n\t   1 TE4/0/1/1 \n\t   2 TE4/0/1/2 \n')
    assert span.coding == "" and span.channels[0].signalling == ""
    span = replace(span, spantype="E1")
    assert span.digital and not span.configured


@pytest.mark.parametrize("line, sig, in_use, alarms", [
    ("\t   5 WCTDM/0/4 FXSKS (In use) ", "FXSKS", True, ()),
    ("  4 WCTDM/0/3 FXOKS (In use)", "FXOKS", True, ()),  # as documentation pastes it, tabs lost
    ("\t  16 TE2/0/1/16 Hardware-assisted HDLC (In use) ", "Hardware-assisted HDLC", True, ()),
    ("\t   2 WCTDM/0/1 ", "", False, ()),
    ("\t   1 WCFXO/0 FXSKS RED ", "FXSKS", False, ("RED",)),
    ("\t   9 TE4/0/1/9 E&M-E1 ", "E&M-E1", False, ()),
])
def test_channel_lines(line, sig, in_use, alarms):
    channel = parse_channel_line(line)
    assert (channel.signalling, channel.in_use, channel.alarms) == (sig, in_use, alarms)


def test_sigcap_types_an_unconfigured_port():
    fxs = Channel(1, "WCTDM/0/0", sigcap=("FXOLS", "FXOGS", "FXOKS", "Clear"))
    fxo = Channel(2, "WCTDM/0/1", sigcap=("FXSLS", "FXSKS", "Clear"))
    both = Channel(3, "WCTDM/0/2", sigcap=("FXSKS", "FXOKS"))
    assert (fxs.port_type, fxo.port_type, both.port_type) == ("fxs", "fxo", "empty")


@pytest.mark.parametrize("mask, words", [(0, ()), (8, ("RED",)), (4, ("YELLOW",)), (16, ("BLUE",)),
                                         (8 | 4, ("YELLOW", "RED")), (32, ("NOTOPEN",)), (1, ("RECOVERING",))])
def test_alarm_mask(mask, words):
    assert alarms_from_mask(mask) == words
    assert parse_alarm_mask(f"0x{mask:x}\n") == words


@pytest.mark.parametrize("text", ["", 'Span 1: TE2/0/1 "T2XXP (PCI) Car', "garbage\n", "\x00\x00\x00"])
def test_garbled_proc_file_raises_span_format_error(text):
    with pytest.raises(SpanFormatError):
        parse_proc_span(text)


def test_read_status_merges_proc_and_sysfs():
    status = read_status(FIXTURES / "e1_red")
    assert status.loaded and status.errors == ()
    assert [(s.number, s.spantype, s.basechan, s.alarms) for s in status.spans] == [
        (1, "E1", 1, ("RED",)), (2, "E1", 32, ("RED",))]
    (device,) = status.devices
    assert (device.pci_slot, device.span_count, device.spans) == ("0000:03:00.0", 2, (1, 2))


def test_sysfs_alarm_mask_wins_over_proc_words(tmp_path):
    span_dir = tmp_path / "sys/bus/dahdi_spans/devices/span-1"
    span_dir.mkdir(parents=True)
    (span_dir / "alarms").write_text("0x10\n")
    (tmp_path / "proc/dahdi").mkdir(parents=True)
    (tmp_path / "proc/dahdi/1").write_text('Span 1: TE2/0/1 "x" HDB3/CCS \n')
    (span,) = read_status(tmp_path).spans
    assert span.alarms == ("BLUE",)


def test_read_status_gives_analog_channels_their_sigcap():
    (span,) = read_status(FIXTURES / "analog_fxs_fxo").spans
    assert span.channels[0].sigcap[:3] == ("FXOLS", "FXOGS", "FXOKS")
    assert span.spantype == "ANALOG_MIXED"


def test_no_card_no_dahdi():
    status = read_status(FIXTURES / "no_card")
    assert (status.loaded, status.spans, status.devices, status.errors) == (False, (), (), ())


def test_card_without_firmware_registers_nothing():
    status = read_status(FIXTURES / "no_firmware")
    assert status.loaded and status.spans == () and status.devices == ()


def test_garbled_files_become_errors_and_the_rest_is_still_read():
    status = read_status(FIXTURES / "garbled")
    assert sorted(Path(e.path).name for e in status.errors) == ["1", "span-2"]
    span1, span2 = status.spans
    assert not span1.from_proc and span1.spantype == "E1" and span1.configured  # sysfs only
    assert span2.from_proc and span2.counters == {} and span2.alarms == ()
