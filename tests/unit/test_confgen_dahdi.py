"""DAHDI's files written for the cards found (fixture trees copied from real cards):
E1 spans, FXS agent ports with their extensions, FXO lines; nothing at all without a
card; a removed card's files emptied; dahdi_cfg and the chan_dahdi reload only on change."""

from __future__ import annotations

import json
from pathlib import Path

from appliance.confgen import modules
from appliance.confgen.dahdi import EXTENSIONS_FILE, apply_dahdi, load_extensions
from appliance.confgen.model import AmiUser, AsteriskModel, Network, Paths
from hwdrivers.dahdi_conf import DahdiSettings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dahdi"


class Calls:
    def __init__(self):
        self.dahdi_cfg, self.cli = [], []

    def apply(self, fixture, tmp_path, extensions=None, settings=DahdiSettings()):
        return apply_dahdi(FIXTURES / fixture, tmp_path / "etc-dahdi" / "system.conf", tmp_path / "generated",
                           extensions=extensions or {}, settings=settings, dahdi_cfg=self.dahdi_cfg.append,
                           cli=self.cli.append)


def test_e1_card_gets_both_files_and_dahdi_cfg_once(tmp_path):
    calls = Calls()
    result = calls.apply("e1_pri_ok", tmp_path)
    assert (result.outcome, result.spans, result.cards_present) == ("written", 2, True)
    system = (tmp_path / "etc-dahdi" / "system.conf").read_text()
    assert "span=1,1,0,ccs,hdb3,crc4" in system and "span=2,2,0,ccs,hdb3,crc4" in system
    assert "dchan=16" in system and "loadzone=cn" in system
    chan = (tmp_path / "generated" / "chan_dahdi.conf").read_text()
    assert "signalling = pri_cpe" in chan and "channel => 1-15,17-31" in chan
    assert calls.dahdi_cfg == [tmp_path / "etc-dahdi" / "system.conf"]
    assert calls.cli == ["module reload chan_dahdi.so"]
    again = calls.apply("e1_pri_ok", tmp_path)
    assert again.outcome == "unchanged" and again.cards_present
    assert len(calls.dahdi_cfg) == 1 and len(calls.cli) == 1


def test_analog_card_fxs_ports_with_extensions_and_fxo_lines_as_trunks(tmp_path):
    ext_file = tmp_path / EXTENSIONS_FILE
    ext_file.write_text(json.dumps({"1": "8001", "2": "8002"}))
    result = Calls().apply("analog_fxs_fxo", tmp_path, extensions=load_extensions(ext_file))
    assert (result.outcome, result.agent_ports, result.trunk_lines) == ("written", 2, 4)
    system = (tmp_path / "etc-dahdi" / "system.conf").read_text()
    assert "fxoks=1-2" in system and "fxsks=5-8" in system
    chan = (tmp_path / "generated" / "chan_dahdi.conf").read_text()
    assert "<8001>" in chan and "<8002>" in chan


def test_no_card_is_a_quiet_outcome(tmp_path):
    calls = Calls()
    result = calls.apply("no_card", tmp_path)
    assert (result.outcome, result.cards_present) == ("no_card", False)
    assert "SIP only" in result.message
    assert not (tmp_path / "etc-dahdi").exists() and not (tmp_path / "generated").exists()
    assert calls.dahdi_cfg == [] and calls.cli == []


def test_a_removed_card_leaves_no_spans_behind(tmp_path):
    calls = Calls()
    calls.apply("e1_pri_ok", tmp_path)
    result = calls.apply("no_card", tmp_path)
    assert result.outcome == "written" and not result.cards_present
    assert "span=" not in (tmp_path / "etc-dahdi" / "system.conf").read_text()
    assert "channel =>" not in (tmp_path / "generated" / "chan_dahdi.conf").read_text()


def test_bad_settings_write_nothing(tmp_path):
    calls = Calls()
    result = calls.apply("e1_pri_ok", tmp_path, settings=DahdiSettings(tone_zone="china"))
    assert result.outcome == "invalid" and "tone zone" in result.message
    assert not (tmp_path / "etc-dahdi" / "system.conf").exists() and calls.dahdi_cfg == []
    bad_extension = calls.apply("analog_fxs_fxo", tmp_path, extensions={1: "80 01"})
    assert bad_extension.outcome == "invalid"


def test_extensions_file_missing_or_garbled(tmp_path):
    assert load_extensions(tmp_path / "none.json") == {}
    (tmp_path / "bad.json").write_text("[1, 2")
    assert load_extensions(tmp_path / "bad.json") == {}


def test_chan_dahdi_is_loaded_only_with_a_card():
    model = AsteriskModel(paths=Paths("/e", "/r", "/l", "/s", "/b"), network=Network(), ami=AmiUser("a", "s"))
    assert "chan_dahdi.so" not in modules.render(model)
    assert "load => chan_dahdi.so" in modules.render(AsteriskModel(**{**model.__dict__, "dahdi": True}))


def test_the_appliance_configures_dahdi_and_reports_the_cards(tmp_path):
    """Wiring: where the files go off the image, the model's module list, the health component."""
    from appliance import settings
    from appliance.main import Appliance
    from provisioning import firstboot

    def appliance(fixture):
        s = settings.load(None, {"data_dir": str(tmp_path / fixture), "hardware_root": str(FIXTURES / fixture)})
        firstboot.run(s)
        return Appliance(s)

    sip_only = appliance("no_card")
    assert sip_only.configure_dahdi().outcome == "no_card" and not sip_only.model().dahdi
    hw = sip_only.health()["components"]["hardware"]
    assert (hw["up"], hw["state"], hw["problems"], hw["details"]) == (True, "info", ["dahdi.no_card"], [])

    e1 = appliance("e1_red")
    assert e1.configure_dahdi().outcome == "written" and e1.model().dahdi
    assert "span=1," in (tmp_path / "e1_red" / "dahdi" / "system.conf").read_text()
    assert (e1.pbx.generated_dir / "chan_dahdi.conf").exists()
    health = e1.health()
    assert health["components"]["hardware"]["up"] is False and "dahdi.span_alarm" in \
        health["components"]["hardware"]["problems"]
    red = next(d for d in health["components"]["hardware"]["details"] if d["code"] == "dahdi.span_alarm")
    assert (red["severity"], red["subject"]) == ("critical", "span 1") and "RED" in red["message"]
    assert health["status"] != "ok"


def test_chan_dahdi_conf_written_before_the_first_start_is_handed_to_asterisks_group(tmp_path):
    """On a fresh image DAHDI is configured before Asterisk's instance directory is made
    its group's: chan_dahdi.conf kept the appliance's group and Asterisk could not read it
    ("Permission denied", seen on the image in qemu)."""
    import os

    from appliance.pbx import AsteriskInstance
    from appliance.privileges import Account

    pbx = AsteriskInstance(tmp_path / "asterisk", None, account=Account("asterisk", os.getuid(), 4242, (4242,)))
    pbx.generated_dir.mkdir(parents=True)
    early = pbx.generated_dir / "chan_dahdi.conf"
    early.write_text("[channels]\n")
    assert early.stat().st_gid != 4242
    model = AsteriskModel(paths=pbx.paths, network=Network(), ami=AmiUser("a", "s"))
    pbx.prepare(model)
    assert early.stat().st_gid == 4242
