"""Proves a real ISDN PRI call crosses chan_dahdi on the appliance image without a card: two
DAHDI dynamic spans looped back to back (``dahdi_dynamic_loc``), the appliance's E1 declared by
its own setting (``dahdi_dynamic_spans = loc,1:0,31,0``, user side) and configured through the
generated system.conf and chan_dahdi.conf, facing a "carrier": a second Asterisk on the same
box, added only by this test, on the network side of span ``loc,1:1`` with a dialplan of its own.

* the D-channel comes up on both sides (``pri show spans``);
* a call from the carrier to the DID 88001000 arrives in the appliance's trunk context and is
  routed by its FastAGI route handler; the appliance writes its call record (inbound, DID
  88001000; no DID is configured, so it ends in the ``no-route`` fallback: routing it to a queue
  and an agent is the configured-DID case, not yet in this test);
* a call out of the appliance's Asterisk through its DAHDI group leaves on the span and the
  carrier answers it (originated on the appliance's CLI: the outbound routes do not choose
  DAHDI groups yet);
* the carrier's span taken down (its Asterisk stopped, the span destroyed with ``dahdi_cfg -s``)
  shows on ``/api/health`` (``dahdi.span_alarm``, critical, span 1) and on the serial console's
  DAHDI page (RED).

The carrier and the setting reach the guest from outside the image: the setting as a systemd
``tmpfiles.extra`` credential, a root shell on a second serial port as a unit given through
SMBIOS (``image_build.qemu.TestShell``); the image itself is the one ``make image`` built
(``BOOT_IMAGE`` names another).  Run by ``make boot-test`` beside test_boot.py.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from image_build.image import IMAGE_NAME
from image_build.qemu import TestShell, boot, credential_args

pytestmark = [pytest.mark.boot, pytest.mark.timeout(2400)]

REPO = Path(__file__).resolve().parents[2]
IMAGE = Path(os.environ.get("BOOT_IMAGE") or Path(os.environ.get("BOOT_IMAGE_DIR", REPO / "build" / "image"))
             / f"{IMAGE_NAME}.raw")
ARTIFACTS = REPO / "tests" / "artifacts" / "boot"
APPLIANCE_CLI = "asterisk -C /var/lib/appliance/asterisk/etc/asterisk.conf -rx"
CARRIER_CLI = "asterisk -C /run/carrier/etc/asterisk.conf -rx"
DID = "88001000"
OUTSIDE_NUMBER = "02160001234"

SETTING = "[appliance]\ndahdi_dynamic_spans = loc,1:0,31,0\n"
CARRIER_FILES = {
    "asterisk.conf": """[directories]
astetcdir => /run/carrier/etc
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => /run/carrier/lib
astdbdir => /run/carrier/lib
astkeydir => /run/carrier/lib
astdatadir => /usr/share/asterisk
astagidir => /run/carrier/lib
astspooldir => /run/carrier/spool
astrundir => /run/carrier/run
astlogdir => /run/carrier/log
""",
    "modules.conf": "[modules]\nautoload = no\n" + "".join(f"load = {m}.so\n" for m in (
        "res_timing_timerfd", "chan_dahdi", "pbx_config", "app_dial", "app_playback", "app_system",
        "res_clioriginate", "codec_ulaw", "codec_alaw", "format_gsm", "format_wav", "func_callerid")),
    # the network side of the PRI, facing the appliance's user side
    "chan_dahdi.conf": "[channels]\nsignalling = pri_net\nswitchtype = euroisdn\ncontext = carrier\n"
                       "group = 0\ncallerid = asreceived\nchannel => 32-46,48-62\n",
    # the operator: answers whatever the appliance dials out, and notes it
    "extensions.conf": "[carrier]\nexten => _X.,1,Answer()\n"
                       " same => n,System(echo answered ${EXTEN} >> /run/carrier/answered)\n"
                       " same => n,Playback(demo-congrats)\n same => n,Hangup()\n",
    "logger.conf": "[logfiles]\nmessages => notice,warning,error,verbose\n",
}
# the carrier's span: the second of the looped pair (span 2, channels 32-62 after the appliance's)
CARRIER_SYSTEM_CONF = "dynamic=loc,1:1,31,0\nbchan=32-46,48-62\ndchan=47\n"


def _tmpfiles_line(path: str, text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    return f"f+ {path} 0644 root root - {escaped}\n"


def _wait(shell: TestShell, command: str, pattern: str, timeout: float, what: str) -> str:
    """Run ``command`` in the guest until its output matches ``pattern``."""
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        _, out = shell.run(command, timeout=120, check=False)
        if re.search(pattern, out):
            return out
        time.sleep(3)
    raise AssertionError(f"{what}: not within {timeout:.0f} s; last output:\n{out[-2000:]}")


# What the guest says of itself when a step fails: the appliance's journal (its own log and
# Python's tracebacks: appliance.main logs to standard error), the first-boot unit's, and
# Asterisk's messages (the route handler's FastAGI lines)
GUEST_DIAGNOSTICS = ("journalctl -u appliance-firstboot -u appliance --no-pager -o short-monotonic | tail -n 400",
                     "ls -la /var/lib/appliance/",
                     "tail -n 150 /var/lib/appliance/asterisk/log/messages")


def _dump_guest(shell: TestShell) -> str:
    """The guest's diagnostics (``GUEST_DIAGNOSTICS``), written beside the serial log and
    printed, so a failure's output says why; never raises (the failure is what matters)."""
    parts = []
    for command in GUEST_DIAGNOSTICS:
        try:
            _, out = shell.run(command, timeout=120, check=False)
        except Exception as e:  # the guest may be gone
            out = f"({e})"
        parts.append(f"### {command}\n{out}")
    text = "\n".join(parts)
    (ARTIFACTS / "pri-guest-diagnostics.log").write_text(text)
    print(text)
    return text


def test_a_pri_call_crosses_chan_dahdi_on_looped_dynamic_spans(tmp_path):
    if not IMAGE.exists():
        pytest.fail(f"{IMAGE} is missing: run `make image` first (make boot-test does)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shell = TestShell(tmp_path / "shell.sock", ARTIFACTS / "pri-shell.log")
    tmpfiles = _tmpfiles_line("/etc/appliance/appliance.conf.d/50-dahdi-test.conf", SETTING)
    extra = (*shell.qemu_args(), *credential_args({"tmpfiles.extra": tmpfiles}))
    timings = {}
    with boot(IMAGE, ARTIFACTS / "pri-serial.log", workdir=tmp_path, extra=extra) as vm:
        shell.connect(timeout=900)  # at multi-user.target: a loaded machine takes minutes
        try:
            _wait(shell, "cat /var/lib/appliance/first-admin-password.txt 2>/dev/null; true", r"\S", 900,
                  "the first admin password")
            _, password = shell.run("cat /var/lib/appliance/first-admin-password.txt")
            password = password.strip()
            # the appliance made its span from the setting and wrote both files
            _wait(shell, f"{APPLIANCE_CLI} 'pri show spans'", r"PRI span 1/0", 600, "the appliance's PRI span")
            timings["appliance_span_s"] = round(vm.elapsed, 1)
            _, system_conf = shell.run("cat /var/lib/appliance/dahdi/system.conf")
            assert "dynamic=loc,1:0,31,0" in system_conf and "dchan=16" in system_conf, system_conf
            assert not re.search(r"(?m)^span=", system_conf), system_conf

            # the carrier: its span, its Asterisk
            shell.run("mkdir -p /run/carrier/etc /run/carrier/lib /run/carrier/spool /run/carrier/run "
                      "/run/carrier/log")
            for name, text in CARRIER_FILES.items():
                shell.write_file(f"/run/carrier/etc/{name}", text)
            shell.write_file("/run/carrier/system.conf", CARRIER_SYSTEM_CONF)
            shell.run("dahdi_cfg -c /run/carrier/system.conf")
            shell.run("systemd-run --unit=carrier-pbx --quiet /usr/sbin/asterisk "
                      "-C /run/carrier/etc/asterisk.conf -f -n")
            _wait(shell, f"{CARRIER_CLI} 'pri show spans'", r"PRI span 2/0: Up", 300, "the carrier's D-channel")
            _wait(shell, f"{APPLIANCE_CLI} 'pri show spans'", r"PRI span 1/0: Up, Active", 120,
                  "the appliance's D-channel")
            timings["pri_up_s"] = round(vm.elapsed, 1)

            # a call from the carrier to the DID: routed by the appliance, which keeps its record
            shell.run(f"{CARRIER_CLI} 'channel originate DAHDI/g0/{DID} application Wait 6'")
            record = ("/opt/appliance/venv/bin/python -c \"import sqlite3; c = sqlite3.connect("
                      "'file:/var/lib/appliance/appliance.db?mode=ro', uri=True); print(c.execute("
                      "'select direction, did, fallback_reason from call_record order by id desc limit 1')"
                      ".fetchall())\"")
            _wait(shell, record, rf"\('inbound', '{DID}', 'no-route'\)", 120, "the inbound call's record")
            _, log = shell.run(f"grep -h 'cc-from-trunk' /var/lib/appliance/asterisk/log/messages* | "
                               f"grep 'DAHDI/i1/' | grep -c 'route'")
            assert int(log.split()[-1]) >= 1, log  # it came over span 1 into the route handler

            # a call out through the span: the carrier answers it
            shell.run(f"{APPLIANCE_CLI} 'channel originate DAHDI/g0/{OUTSIDE_NUMBER} application Wait 3'")
            _wait(shell, "cat /run/carrier/answered 2>/dev/null; true", f"answered {OUTSIDE_NUMBER}", 120,
                  "the carrier answering the outbound call")
            timings["calls_done_s"] = round(vm.elapsed, 1)

            # the carrier's span goes away: RED on the appliance's span, on /api/health and the console
            shell.run("systemctl stop carrier-pbx")
            shell.run("dahdi_cfg -s -c /run/carrier/system.conf", check=False)  # -s exits 1 by design
            _wait(shell, "cat /sys/bus/dahdi_spans/devices/span-1/alarms", r"0x8", 30, "span 1 RED")
            health = vm.wait_http_json(
                "/api/health", 300, https=True,
                accept=lambda status, data: "dahdi.span_alarm" in data["components"]["hardware"]["problems"])
            hardware = health["components"]["hardware"]
            assert hardware["state"] == "critical" and not hardware["up"], hardware
            assert [d["subject"] for d in hardware["details"]] == ["span 1"], hardware  # no port alarms
            assert "RED" in hardware["details"][0]["message"], hardware
        except BaseException:
            _dump_guest(shell)
            raise
        finally:
            shell.close()

        vm.expect(r"login: ", 300)
        vm.sign_in("admin", password, timeout=120)
        vm.type("dahdi")
        page = vm.expect(r"(?s)Telephony cards \(DAHDI\).*?console> ", 120).group(0)
        assert re.search(r"Span 1\s+E1\s+DYN/loc/1:0\s+RED", page), page
        assert "dahdi.span_alarm" in page, page
        vm.type("logout")
    (ARTIFACTS / "timings-pri.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(timings)
