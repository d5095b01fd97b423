"""DAHDI dynamic spans (``dahdi_dynamic_spans``), against trees captured from the real
``dahdi_dynamic_loc`` pair on the appliance image in qemu (tests/fixtures/dahdi/README.md):
the setting parsed and refused when wrong, the spans made by dahdi_cfg before they are read,
only the declared span taken (the carrier's looped peer left alone), system.conf without a
``span=`` line for it (dahdi_cfg would fail), and the peer gone shows as the span's RED alarm,
once, not as 31 port alarms."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance import settings
from appliance.confgen.dahdi import DYNAMIC_CONF, apply_dahdi
from appliance.confgen.writer import ConfigValueError
from appliance.proc import CommandFailed
from hwdrivers.dahdi_conf import (
    DahdiSettings,
    DynamicSpan,
    model_from_status,
    parse_dynamic_spans,
    render_chan_dahdi_conf,
    render_system_conf,
    span_group,
)
from hwdrivers.dahdi_status import read_status
from hwdrivers.health import hardware_health

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dahdi"
OURS = DynamicSpan("loc", "1:0")

# What the appliance wrote on the image for `dahdi_dynamic_spans = loc,1:0,31,0` (and
# dahdi_cfg accepted: the PRI came up against the carrier's pri_net span).
SYSTEM_CONF_ON_THE_IMAGE = """\
# dynamic spans (dahdi_dynamic): made by dahdi_cfg, no card under them
dynamic=loc,1:0,31,0

# span 1: E1 PRI, user side (cpe), Dynamic 'loc' span at '1:0'
# (a dynamic span has no line settings: no span= line)
bchan=1-15,17-31
dchan=16
echocanceller=oslec,1-15,17-31

loadzone=cn
defaultzone=cn
"""


def test_the_setting_is_parsed_with_defaults():
    assert parse_dynamic_spans("") == ()
    assert parse_dynamic_spans("loc,1:0 eth,eth1/00:50:c2:65:d4:01,24,1") == (
        DynamicSpan("loc", "1:0", 31, 0), DynamicSpan("eth", "eth1/00:50:c2:65:d4:01", 24, 1))
    assert OURS.name == "DYN/loc/1:0" and OURS.conf_line() == "dynamic=loc,1:0,31,0"


@pytest.mark.parametrize("text, words", [
    ("usb,1:0", "driver"),
    ("loc", "driver,address"),
    ("loc,1:0,30", r"31 \(E1\) or 24"),
    ("loc,1:0,31,-1", "timing"),
    ("loc,1:0,x", "whole numbers"),
    ("loc,1;0", "address"),
    ("loc,1:0 loc,1:0,31", "twice"),
])
def test_a_wrong_setting_is_refused_naming_it(text, words):
    with pytest.raises(ConfigValueError, match=words):
        parse_dynamic_spans(text)
    with pytest.raises(settings.SettingsError, match="dahdi_dynamic_spans"):
        settings.load(None, {"dahdi_dynamic_spans": text})


def test_the_captured_spans_read_as_e1_with_their_channels_configured():
    status = read_status(FIXTURES / "dynamic_pri_up")
    assert [(s.number, s.name, s.kind, s.configured, s.alarms) for s in status.spans] == [
        (1, "DYN/loc/1:0", "E1", True, ()), (2, "DYN/loc/1:1", "E1", True, ())]
    assert [c.signalling for c in status.spans[0].channels if c.number == 16] == ["HDLCFCS"]  # the D-channel


def test_only_the_declared_span_is_taken_and_written_without_a_span_line():
    status = read_status(FIXTURES / "dynamic_pri_up")
    model = model_from_status(status, dynamic=(OURS,))
    assert [(s.span, s.basechan, s.line, s.side, s.dynamic) for s in model.spans] == [(1, 1, "E1", "cpe", True)]
    system = render_system_conf(model)
    assert system.split("\n", 1)[1].split("\n", 2)[2] == SYSTEM_CONF_ON_THE_IMAGE
    assert not [line for line in system.splitlines() if line.startswith("span=")]
    chan = render_chan_dahdi_conf(model)
    assert "signalling = pri_cpe" in chan and "switchtype = euroisdn" in chan and "channel => 1-15,17-31" in chan
    assert "32" not in chan  # the carrier's span 2 is not the appliance's
    # the group its card route dials (DAHDI/g11), as a card's span 1 is: the qemu PRI test's
    # outbound call found the span in group 0, so the outbound route's Dial found no channel
    assert [s.group for s in model.spans] == [span_group(1)] == [11]
    assert "group = 11" in chan and "group = 0" not in chan
    assert model_from_status(status).spans == ()  # none declared: a dynamic span is nobody's


def _kernel(tmp_path):
    """A hardware root where DAHDI is loaded with no span, until dahdi_cfg makes them."""
    root = tmp_path / "hw"
    (root / "proc/dahdi").mkdir(parents=True)
    runs = []

    def dahdi_cfg(path):
        runs.append(Path(path).name)
        if Path(path).name == DYNAMIC_CONF:
            assert Path(path).read_text().splitlines()[-1] == "dynamic=loc,1:0,31,0"
            shutil.rmtree(root)
            shutil.copytree(FIXTURES / "dynamic_pri_up", root)
    return root, runs, dahdi_cfg


def test_apply_makes_the_spans_first_then_writes_and_applies_system_conf(tmp_path):
    root, runs, dahdi_cfg = _kernel(tmp_path)
    result = apply_dahdi(root, tmp_path / "dahdi" / "system.conf", tmp_path / "generated", extensions={},
                         settings=DahdiSettings(), dahdi_cfg=dahdi_cfg, dynamic=(OURS,))
    assert (result.outcome, result.spans, result.cards_present) == ("written", 1, True)
    assert runs == [DYNAMIC_CONF, "system.conf"]
    assert (tmp_path / "dahdi" / "system.conf").read_text().endswith(SYSTEM_CONF_ON_THE_IMAGE)
    # the next start (the spans are there, nothing changed): dahdi_cfg still remakes them
    again = apply_dahdi(root, tmp_path / "dahdi" / "system.conf", tmp_path / "generated", extensions={},
                        settings=DahdiSettings(), dahdi_cfg=dahdi_cfg, dynamic=(OURS,))
    assert again.outcome == "unchanged" and runs == [DYNAMIC_CONF, "system.conf", "system.conf"]


def test_dahdi_cfg_failing_to_make_the_spans_is_reported_not_raised(tmp_path):
    root = tmp_path / "hw"
    (root / "proc/dahdi").mkdir(parents=True)

    def dahdi_cfg(path):
        raise CommandFailed("configure the DAHDI spans", ["dahdi_cfg"], 1,
                            "DAHDI dynamic span creation failed: No such device")

    result = apply_dahdi(root, tmp_path / "dahdi" / "system.conf", tmp_path / "generated", extensions={},
                         settings=DahdiSettings(), dahdi_cfg=dahdi_cfg, dynamic=(OURS,))
    assert result.outcome == "invalid" and "No such device" in result.dahdi_cfg_error
    assert not result.cards_present and not (tmp_path / "generated" / "chan_dahdi.conf").exists()


def test_the_peer_gone_is_the_spans_red_alarm_and_nothing_else():
    """The carrier's span destroyed (dahdi_cfg -s) on the image: the appliance's span is RED
    after a second with nothing received; before this change each of its 31 timeslots was
    also reported as an analog port in alarm."""
    health = hardware_health(FIXTURES / "dynamic_peer_gone")
    assert health.status == "critical"
    assert [(p.code, p.severity, p.subject) for p in health.problems] == [("dahdi.span_alarm", "critical", "span 1")]
    assert "RED" in health.problems[0].message and health.ports == ()
    assert hardware_health(FIXTURES / "dynamic_pri_up").status == "ok"
