"""system.conf and chan_dahdi.conf generation: golden files (reviewed in diffs;
UPDATE_GOLDEN=1 rewrites them), the FXS/FXO naming, E1/T1 layouts, refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from appliance.confgen.writer import ConfigValueError
from hwdrivers.dahdi_conf import (AgentPort, DahdiModel, DahdiSettings, PriSpan, RENDERERS, TrunkLine,
                                  channel_ranges, model_from_status, render_chan_dahdi_conf,
                                  render_system_conf)
from hwdrivers.dahdi_status import read_status

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "dahdi"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dahdi"


def model(**changes) -> DahdiModel:
    base = dict(
        spans=(PriSpan(1, 1, description="T2XXP (PCI) Card 0 Span 1"),
               PriSpan(2, 32, line="T1", side="net", timing=0, crc4=False, group=2)),
        agent_ports=(AgentPort(57, "8001", "李伟"), AgentPort(58, "8002")),
        trunk_lines=(TrunkLine(59), TrunkLine(60, group=3, context="cc-from-trunk")),
        settings=DahdiSettings(),
    )
    base.update(changes)
    return DahdiModel(**base)


@pytest.mark.parametrize("filename", sorted(RENDERERS))
def test_golden(filename):
    text = RENDERERS[filename](model())
    golden = GOLDEN / filename
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), f"{filename} changed: review, then UPDATE_GOLDEN=1"


def test_e1_and_t1_layouts():
    e1, t1 = model().spans
    assert (channel_ranges(e1.bchans), e1.dchan) == ("1-15,17-31", 16)
    assert (channel_ranges(t1.bchans), t1.dchan) == ("32-54", 55)
    text = render_system_conf(model())
    assert "span=1,1,0,ccs,hdb3,crc4\nbchan=1-15,17-31\ndchan=16\n" in text
    assert "span=2,0,0,esf,b8zs\nbchan=32-54\ndchan=55\n" in text


def test_fxs_ports_get_fxo_signalling_and_fxo_lines_fxs_signalling():
    system = render_system_conf(model())
    chan = render_chan_dahdi_conf(model())
    assert "fxoks=57-58\n" in system and "fxsks=59-60\n" in system
    agent_block = chan.split("; FXS port for agent extension 8001\n")[1].split("\n\n")[0]
    assert agent_block.splitlines() == ["signalling = fxo_ks", "context = cc-from-phone", "group = 9",
                                        'callerid = "李伟" <8001>', "channel => 57"]
    trunk_block = chan.split("; FXO line on channel 60, trunk group 3\n")[1]
    assert trunk_block.splitlines() == ["signalling = fxs_ks", "context = cc-from-trunk", "group = 3",
                                        "callerid = asreceived", "channel => 60"]


def test_pri_side_and_switchtype():
    chan = render_chan_dahdi_conf(model())
    assert "signalling = pri_cpe\nswitchtype = euroisdn\n" in chan
    assert "signalling = pri_net\nswitchtype = national\n" in chan


def test_zone_and_echo_canceller_are_settings():
    text = render_system_conf(model(settings=DahdiSettings(tone_zone="us", echo_canceller="mg2")))
    assert "loadzone=us\ndefaultzone=us\n" in text
    assert "echocanceller=mg2,1-15,17-31\n" in text and "oslec" not in text


def test_default_zone_is_china():
    assert "loadzone=cn\ndefaultzone=cn\n" in render_system_conf(model())


@pytest.mark.parametrize("changes, words", [
    (dict(settings=DahdiSettings(tone_zone="china")), "tone zone"),
    (dict(settings=DahdiSettings(echo_canceller="magic")), "echo canceller"),
    (dict(spans=(PriSpan(1, 1, side="user"),)), "side"),
    (dict(spans=(PriSpan(1, 1, line="J2"),)), "E1 or T1"),
    (dict(agent_ports=(AgentPort(16, "8001"),)), "channel 16"),
    (dict(agent_ports=(AgentPort(57, "80 01"),)), "80 01"),
    (dict(agent_ports=(AgentPort(57, "8001", 'Al" <9>'),)), "quotes"),
    (dict(agent_ports=(AgentPort(57, "8001", "Al\nice"),)), "line break"),
])
def test_bad_models_are_refused(changes, words):
    with pytest.raises(ConfigValueError, match=words):
        render_system_conf(model(**changes))
    with pytest.raises(ConfigValueError):
        render_chan_dahdi_conf(model(**changes))


def test_model_from_detected_e1_card():
    m = model_from_status(read_status(FIXTURES / "e1_pri_ok"))
    assert [(s.span, s.basechan, s.line, s.side, s.timing) for s in m.spans] == [
        (1, 1, "E1", "cpe", 1), (2, 32, "E1", "cpe", 2)]
    assert "span=2,2,0,ccs,hdb3,crc4\nbchan=32-46,48-62\ndchan=47\n" in render_system_conf(m)


def test_model_from_detected_analog_card():
    m = model_from_status(read_status(FIXTURES / "analog_fxs_fxo"), {1: "8001", 2: "8002", 5: "ignored"},
                          names={1: "Li Wei"}, trunk_group=4)
    assert m.agent_ports == (AgentPort(1, "8001", "Li Wei"), AgentPort(2, "8002"))
    assert m.trunk_lines == tuple(TrunkLine(c, 4) for c in (5, 6, 7, 8))
    text = render_system_conf(m)
    assert "fxoks=1-2\n" in text and "fxsks=5-8\n" in text and "fxoks=3" not in text


def test_renderers_are_pure():
    assert render_system_conf(model()) == render_system_conf(model())
    assert render_chan_dahdi_conf(model()) == render_chan_dahdi_conf(model())


@pytest.mark.parametrize("channels, text", [((), ""), ((5,), "5"), ((3, 1, 2), "1-3"), ((1, 2, 4, 6, 7), "1-2,4,6-7")])
def test_channel_ranges(channels, text):
    assert channel_ranges(channels) == text
