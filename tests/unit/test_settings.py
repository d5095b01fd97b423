from pathlib import Path

import pytest

from appliance.settings import SETTINGS, SettingsError, describe, load


def test_defaults():
    s = load()
    assert s.web_port == 8080 and s.sip_port == 5060
    assert s.db_path == s.data_dir / "appliance.db"


def test_layers_file_dropin_then_command_line(tmp_path):
    conf = tmp_path / "appliance.conf"
    conf.write_text("[appliance]\nweb_port = 9000\nsip_port = 5070\n")
    (tmp_path / "appliance.conf.d").mkdir()
    (tmp_path / "appliance.conf.d" / "10-local.conf").write_text("[appliance]\nsip_port = 5080\n")
    s = load(conf, {"web_port": "9100"})
    assert (s.web_port, s.sip_port) == (9100, 5080)


def test_unknown_key_names_key_and_file(tmp_path):
    conf = tmp_path / "appliance.conf"
    conf.write_text("[appliance]\nweb_prot = 1\n")
    with pytest.raises(SettingsError, match=r"appliance.conf: unknown setting 'web_prot'"):
        load(conf)


def test_bad_values(tmp_path):
    with pytest.raises(SettingsError, match="whole number"):
        load(None, {"web_port": "eighty"})
    with pytest.raises(SettingsError, match="port number"):
        load(None, {"sip_port": "70000"})
    with pytest.raises(SettingsError, match="unknown setting"):
        load(None, {"nope": 1})
    with pytest.raises(SettingsError, match="time zone name"):
        load(None, {"timezone": "Mars/Olympus"})
    assert load(None, {"timezone": "Europe/Berlin"}).timezone == "Europe/Berlin"
    with pytest.raises(SettingsError, match="calling_window must be hours"):
        load(None, {"calling_window": "weekdays 9 to 5"})
    assert load(None, {"calling_window": ""}).calling_window == ""  # any hour
    assert load(None, {}).calling_window == "daily 09:00-20:00"
    # the dialplan calls agi://<agi_host> on every call: a name there is a DNS lookup per call
    for key in ("agi_host", "sip_bind", "web_host"):
        with pytest.raises(SettingsError, match=f"{key} must be an IP address"):
            load(None, {key: "localhost"})
    assert load(None, {"agi_host": "127.0.0.9"}).agi_host == "127.0.0.9"


def test_docs_cover_every_setting():
    text = describe()
    assert all(s.key in text for s in SETTINGS)
    assert isinstance(load().data_dir, Path)
