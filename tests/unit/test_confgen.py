"""Config generation: golden files (reviewed in diffs), safety of values, and the
apply step (atomic, reloads only what changed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from appliance.confgen import RENDERERS, apply, asterisk_conf, render_all
from appliance.confgen.model import AmiUser, AsteriskModel, Did, Network, Paths, Phone, Queue, Trunk
from appliance.confgen.writer import ConfigValueError

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def model(**changes) -> AsteriskModel:
    base = dict(
        paths=Paths(etc="/appliance/etc", run="/appliance/run", log="/appliance/log",
                    spool="/appliance/spool", lib="/appliance/lib"),
        network=Network(sip_bind="0.0.0.0", sip_port=5060, ami_port=5038, agi_port=4573),
        ami=AmiUser("appliance", "0123456789abcdef"),
        trunks=(Trunk("pstn", host="192.0.2.10", match=("192.0.2.10", "192.0.2.11")),
                Trunk("itsp", host="sip.example.net", username="acct1", secret="tr-secret", register=True,
                      max_channels=30)),
        phones=(Phone("1001", "ph-secret-1", "Alice"), Phone("1002", "ph-secret-2")),
        queues=(Queue("sales", survey=True, survey_prompt=("/appliance/lib/prompts/rate-us",), voicemail=True),
                Queue("support", strategy="leastrecent", wrapup_seconds=10, overflow_queue="sales",
                      periodic_announce_seconds=0, announce_holdtime=False)),
        dids=(Did("88001000", "pstn"),),
        agents=("1001",),
        blocked_sources=("198.51.100.7", "203.0.113.9"),
        phone_subnets=("192.168.1.0/24", "10.8.0.0/16"),
    )
    base.update(changes)
    return AsteriskModel(**base)


@pytest.mark.parametrize("renderer", [*RENDERERS, asterisk_conf], ids=lambda r: r.FILENAME)
def test_golden(renderer):
    text = renderer.render(model())
    golden = GOLDEN / renderer.FILENAME
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), f"{renderer.FILENAME} changed: review, then UPDATE_GOLDEN=1"


def test_renderers_are_pure():
    assert render_all(model()) == render_all(model())


@pytest.mark.parametrize("bad", ["Al\nice", "x\r[evil]", "nul\x00"])
def test_line_breaks_in_values_are_refused(bad):
    with pytest.raises(ConfigValueError):
        render_all(model(phones=(Phone("1001", "s", bad),)))


def test_semicolon_cannot_start_a_comment():
    text = render_all(model(phones=(Phone("1001", "pa;ss"),)))["pjsip.conf"]
    assert "password = pa\\;ss" in text


@pytest.mark.parametrize("bad", ["sal es", "sales]", "../etc", ""])
def test_names_are_restricted(bad):
    with pytest.raises(ConfigValueError):
        render_all(model(queues=(Queue(bad),)))


def test_unknown_strategy_refused():
    with pytest.raises(ValueError):
        render_all(model(queues=(Queue("q", strategy="roundabout"),)))


def test_ami_user_has_only_the_classes_we_use():
    text = render_all(model())["manager.conf"]
    assert "bindaddr = 127.0.0.1" in text
    assert "write = call,agent,originate,reporting" in text
    write_line = next(line for line in text.splitlines() if line.startswith("write ="))
    granted = set(write_line.split("=", 1)[1].strip().split(","))
    assert not granted & {"system", "config", "command", "all"}


def test_every_phone_uses_digest_auth_and_anchored_media():
    text = render_all(model())["pjsip.conf"]
    assert text.count("type = auth") == 3  # two phones, one trunk with credentials
    assert "direct_media = yes" not in text
    assert text.count("direct_media = no") == 4


class Recorder:
    def __init__(self):
        self.commands = []

    def __call__(self, command):
        self.commands.append(command)
        return ""


def test_apply_writes_everything_first_time_and_nothing_twice(tmp_path):
    cli = Recorder()
    first = apply.apply(model(), tmp_path, cli)
    assert sorted(first.changed) == sorted(r.FILENAME for r in RENDERERS)
    assert first.restart_needed  # modules.conf was new
    assert "module reload res_pjsip.so" in cli.commands
    cli.commands.clear()
    second = apply.apply(model(), tmp_path, cli)
    assert second.changed == [] and cli.commands == []


def test_apply_reloads_only_the_changed_module(tmp_path):
    apply.apply(model(), tmp_path, None)
    cli = Recorder()
    result = apply.apply(model(queues=(Queue("sales"),)), tmp_path, cli)
    assert result.changed == ["queues.conf", "extensions.conf"]
    assert cli.commands == ["module reload app_queue.so", "dialplan reload"]
    assert not result.restart_needed


def test_bad_value_writes_nothing(tmp_path):
    apply.apply(model(), tmp_path, None)
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    with pytest.raises(ConfigValueError):
        apply.apply(model(phones=(Phone("1001", "x\ny"),), queues=()), tmp_path, None)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


def test_write_atomic_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "x.conf"
    assert apply.write_atomic(target, "a\n")
    assert not apply.write_atomic(target, "a\n")
    assert apply.write_atomic(target, "b\n")
    assert [p.name for p in tmp_path.iterdir()] == ["x.conf"]
    assert target.read_text() == "b\n"


def test_an_ipv6_agi_host_is_bracketed_in_every_agi_address():
    conf = render_all(model(network=Network(sip_bind="::", sip_port=5060, ami_port=5038, agi_port=4573,
                                            agi_host="fd00::1")))["extensions.conf"]
    assert "agi://[fd00::1]:4573/route" in conf and "agi://fd00::1" not in conf
