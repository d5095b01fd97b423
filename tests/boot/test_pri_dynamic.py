"""Proves a real ISDN PRI call crosses chan_dahdi on the appliance image without a card, from the
carrier to a queue and an agent, and from the agent's desk phone out over the span: two DAHDI
dynamic spans looped back to back (``dahdi_dynamic_loc``), the appliance's E1 declared by its
own setting (``dahdi_dynamic_spans = loc,1:0,31,0``, user side) and configured through the
generated system.conf and chan_dahdi.conf, facing a "carrier": a second Asterisk on the same
box, added only by this test, on the network side of span ``loc,1:1`` with a dialplan of its
own.  The same carrier Asterisk is also the agent's desk phone: a PJSIP registration to the
appliance over the guest's loopback (from 127.0.0.2) as the agent's extension, answering
whatever the appliance rings it with.

The appliance is configured only through its public API, over HTTPS through qemu's forwarded
web port, with an admin API token made from the first admin's signed-in session (docs/api.md):
a queue, a SIP phone and its agent (a member of the queue), the DID 88001000 routed to the
queue, a card route for span 1 first in the outbound route (a SIP trunk after it), and the
calling window opened to every hour (the office's clock may be outside 09:00-20:00).

* the D-channel comes up on both sides (``pri show spans``);
* the desk phone registers (``/api/v1/registrations``) and the agent signs in from it with the
  feature code ``*21``, as a real agent does (``/api/v1/agents/1001``: signed in, in the queue);
* a call from the carrier to the DID 88001000 over the span is queued and the agent's phone
  answers it, ringing with the caller's number: the call record (``/api/v1/call-records``) is
  inbound, DID 88001000, over the span's card route, the queue and the agent, answered;
* the agent's phone dials an outside number through the appliance's dialplan (the desk phone's
  keypad: calling permission and compliance, then the outbound route): the card route is
  taken, the call leaves on the span and the carrier answers it; the outbound call record names
  the agent and the card route;
* the carrier's span taken down (its Asterisk stopped, the span destroyed with ``dahdi_cfg -s``)
  shows on ``/api/health`` (``dahdi.span_alarm``, critical, span 1) and on the serial console's
  DAHDI page (RED).

One boot serves every check (a module-scoped fixture; the tests run in file order, each on
what the ones before it left).  The carrier and the setting reach the guest from outside the
image: the setting as a systemd ``tmpfiles.extra`` credential, a root shell on a second serial
port as a unit given through SMBIOS (``image_build.qemu.TestShell``); the image itself is the
one ``make image`` built (``BOOT_IMAGE`` names another image, ``BOOT_IMAGE_DIR`` another
folder).  Run by ``make boot-test`` beside test_boot.py.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from guestweb import GuestWeb, dump_guest
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
CALLER = "13912345678"  # the carrier's caller on the span
OUTSIDE_NUMBER = "02160001234"  # what the agent dials: a landline in another city (an agent may)
AGENT, PHONE_SECRET = "1001", "desk-phone-1001"  # the agent's work number is their phone's extension
QUEUE, CARD_ROUTE = "sales", "span1"

SETTING = "[appliance]\ndahdi_dynamic_spans = loc,1:0,31,0\n"


def carrier_files(phone_secret: str) -> dict[str, str]:
    """The carrier's Asterisk: the network side of the PRI, and also the agent's desk phone (a
    PJSIP registration to the appliance over the guest's loopback, from 127.0.0.2, answering
    whatever the appliance rings it with in a context of its own)."""
    return {
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
[options]
verbose = 3
""",
        "modules.conf": "[modules]\nautoload = no\n" + "".join(f"load = {m}.so\n" for m in (
            "res_timing_timerfd", "chan_dahdi", "pbx_config", "app_dial", "app_playback", "app_system",
            "res_clioriginate", "pbx_spool", "codec_ulaw", "codec_alaw", "codec_gsm", "format_gsm", "format_wav",
            "func_callerid",
            # the desk phone (res_pjsip needs the three sorcery modules, chan_pjsip pubsub; the
            # caller's number from the From header is res_pjsip_caller_id's)
            "res_sorcery_config", "res_sorcery_memory", "res_sorcery_astdb", "res_pjproject", "res_rtp_asterisk",
            "res_pjsip", "res_pjsip_session", "res_pjsip_pubsub", "chan_pjsip", "res_pjsip_sdp_rtp",
            "res_pjsip_endpoint_identifier_ip", "res_pjsip_outbound_authenticator_digest",
            "res_pjsip_outbound_registration", "res_pjsip_caller_id")),
        # the network side of the PRI, facing the appliance's user side
        "chan_dahdi.conf": "[channels]\nsignalling = pri_net\nswitchtype = euroisdn\ncontext = carrier\n"
                           "group = 0\ncallerid = asreceived\nchannel => 32-46,48-62\n",
        # the agent's desk phone: registers as the agent's extension; its calls to the
        # appliance authenticate as that phone; the appliance's calls to it are answered
        "pjsip.conf": f"""[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.2:5062

[desk-phone]
type = auth
auth_type = userpass
username = {AGENT}
password = {phone_secret}

[desk-phone]
type = registration
transport = transport-udp
outbound_auth = desk-phone
server_uri = sip:127.0.0.1:5060
client_uri = sip:{AGENT}@127.0.0.1:5060
contact_user = {AGENT}
retry_interval = 5
expiration = 600

[desk-phone]
type = endpoint
transport = transport-udp
context = desk-phone
disallow = all
allow = alaw,ulaw
direct_media = no
outbound_auth = desk-phone
from_user = {AGENT}
aors = desk-phone

[desk-phone]
type = aor
contact = sip:127.0.0.1:5060

[desk-phone]
type = identify
endpoint = desk-phone
match = 127.0.0.1
""",
        # the operator answers whatever the appliance dials out over the span, and notes it;
        # the desk phone answers whatever rings it, notes who called, and hangs up after a while
        "extensions.conf": "[carrier]\nexten => _X.,1,Answer()\n"
                           " same => n,System(echo answered ${EXTEN} >> /run/carrier/answered)\n"
                           " same => n,Playback(demo-congrats)\n same => n,Hangup()\n"
                           "[desk-phone]\nexten => _X.,1,Answer()\n"
                           " same => n,System(echo answered ${CALLERID(num)} >> /run/carrier/desk-phone)\n"
                           " same => n,Wait(3)\n same => n,Hangup()\n",
        "logger.conf": "[logfiles]\nmessages => notice,warning,error,verbose\n",
    }


# the carrier's span: the second of the looped pair (span 2, channels 32-62 after the appliance's)
CARRIER_SYSTEM_CONF = "dynamic=loc,1:1,31,0\nbchan=32-46,48-62\ndchan=47\n"


def _tmpfiles_line(path: str, text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    return f"f+ {path} 0644 root root - {escaped}\n"


def _until(probe, timeout: float, what: str):
    """Call ``probe`` every 3 s until it returns something true, and return that; ``probe.last``
    (what it saw last) is in the error if ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s; last seen:\n{str(probe.last)[-2000:]}")
        time.sleep(3)


def _wait(shell: TestShell, command: str, pattern: str, timeout: float, what: str) -> str:
    """Run ``command`` in the guest until its output matches ``pattern``."""
    def probe():
        _, probe.last = shell.run(command, timeout=120, check=False)
        return probe.last if re.search(pattern, probe.last) else None
    return _until(probe, timeout, what)


def _api_wait(web: GuestWeb, path: str, accept, timeout: float, what: str):
    """GET ``path`` on the guest's API until ``accept(answer)`` returns something true."""
    def probe():
        probe.last = web.json("GET", path)
        return accept(probe.last)
    return _until(probe, timeout, what)


def _ended_call(**fields):
    """An ``accept`` for ``/api/v1/call-records``: the ended call with ``fields``."""
    def accept(answer):
        return next((r for r in answer["items"] if r["end_time"] and all(r[k] == v for k, v in fields.items())),
                    None)
    return accept


class Guest:
    """The booted appliance with its carrier: the VM, the root shell, the API as the admin."""

    def __init__(self, vm, shell: TestShell, password: str):
        self.vm, self.shell, self.password = vm, shell, password
        self.web = GuestWeb(vm)
        self.timings: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.timings[name] = round(self.vm.elapsed, 1)


def _configure(web: GuestWeb) -> None:
    """A queue, the agent with a SIP phone in it, the DID on the span routed to the queue, the
    span's card route first in the outbound route (a SIP trunk after it, never reached here)."""
    for path, body in (
            ("/api/v1/queues", {"name": QUEUE}),
            ("/api/v1/phones", {"extension": AGENT, "secret": PHONE_SECRET}),
            ("/api/v1/agents", {"number": AGENT, "name": "Alice", "phone": AGENT}),
            (f"/api/v1/queues/{QUEUE}/members", {"agent": AGENT}),
            ("/api/v1/dids", {"number": DID, "queue": QUEUE}),
            ("/api/v1/card_routes", {"name": CARD_ROUTE, "line": "pri", "span": 1, "outbound_priority": 1}),
            ("/api/v1/trunks", {"name": "backup", "host": "127.0.0.9", "match": "127.0.0.9",
                                "outbound_priority": 2})):
        web.json("POST", path, body, expect=201)
    # a desk phone's calls are held to the calling window (daily 09:00-20:00 on the office's clock)
    assert web.json("PUT", "/api/v1/compliance/settings", {"window": ""})["window"] == ""


# What the guest says of itself when a step fails: the appliance's journal (its own log and
# Python's tracebacks: appliance.main logs to standard error), the first-boot unit's, and
# Asterisk's messages (the route handler's FastAGI lines)
GUEST_DIAGNOSTICS = ("journalctl -u appliance-firstboot -u appliance --no-pager -o short-monotonic | tail -n 400",
                     "ls -la /var/lib/appliance/",
                     "tail -n 150 /var/lib/appliance/asterisk/log/messages")


@pytest.fixture(scope="module")
def guest(tmp_path_factory, request):
    failed_before = request.session.testsfailed
    if not IMAGE.exists():
        pytest.fail(f"{IMAGE} is missing: run `make image` first (make boot-test does)")
    tmp_path = tmp_path_factory.mktemp("pri")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shell = TestShell(tmp_path / "shell.sock", ARTIFACTS / "pri-shell.log")
    tmpfiles = _tmpfiles_line("/etc/appliance/appliance.conf.d/50-dahdi-test.conf", SETTING)
    extra = (*shell.qemu_args(), *credential_args({"tmpfiles.extra": tmpfiles}))
    with boot(IMAGE, ARTIFACTS / "pri-serial.log", workdir=tmp_path, extra=extra) as vm:
        shell.connect(timeout=900)  # at multi-user.target: a loaded machine takes minutes
        try:
            _wait(shell, "cat /var/lib/appliance/first-admin-password.txt 2>/dev/null; true", r"\S", 900,
                  "the first admin password")
            _, password = shell.run("cat /var/lib/appliance/first-admin-password.txt")
            guest = Guest(vm, shell, password.strip())
            # the appliance made its span from the setting; its web UI answers
            _wait(shell, f"{APPLIANCE_CLI} 'pri show spans'", r"PRI span 1/0", 600, "the appliance's PRI span")
            guest.mark("appliance_span_s")
            vm.wait_http_json("/api/health", 300, https=True, accept=lambda status, data: status == 200)
            guest.web.sign_in(guest.password)
            guest.web.make_token("pri-test")
            _configure(guest.web)
            guest.mark("configured_s")

            # the carrier: its span, its Asterisk (the agent's desk phone too)
            shell.run("mkdir -p /run/carrier/etc /run/carrier/lib /run/carrier/spool/outgoing /run/carrier/run "
                      "/run/carrier/log")
            for name, text in carrier_files(PHONE_SECRET).items():
                shell.write_file(f"/run/carrier/etc/{name}", text)
            shell.write_file("/run/carrier/system.conf", CARRIER_SYSTEM_CONF)
            shell.run("dahdi_cfg -c /run/carrier/system.conf")
            shell.run("systemd-run --unit=carrier-pbx --quiet /usr/sbin/asterisk "
                      "-C /run/carrier/etc/asterisk.conf -f -n")
        except BaseException:
            dump_guest(shell, GUEST_DIAGNOSTICS, ARTIFACTS / "pri-guest-diagnostics.log")  # the boot or the set-up failed
            shell.close()
            raise
        try:
            yield guest
            (ARTIFACTS / "timings-pri.json").write_text(json.dumps(guest.timings, indent=1) + "\n")
            print(guest.timings)
        finally:
            if request.session.testsfailed > failed_before:
                dump_guest(shell, GUEST_DIAGNOSTICS, ARTIFACTS / "pri-guest-diagnostics.log")  # a check failed
            try:  # both Asterisks' logs, for whoever reads a failure
                _, logs = shell.run("tail -n 400 /var/lib/appliance/asterisk/log/messages* "
                                    "/run/carrier/log/messages", check=False)
                (ARTIFACTS / "pri-asterisk.log").write_text(logs)
            except (AssertionError, OSError):  # no shell (TimeoutError is an OSError)
                pass
            shell.close()


def test_the_pri_comes_up_between_the_appliance_and_the_carrier(guest):
    _, system_conf = guest.shell.run("cat /var/lib/appliance/dahdi/system.conf")
    assert "dynamic=loc,1:0,31,0" in system_conf and "dchan=16" in system_conf, system_conf
    assert not re.search(r"(?m)^span=", system_conf), system_conf
    _, chan_dahdi = guest.shell.run("cat /var/lib/appliance/asterisk/etc/appliance/chan_dahdi.conf")
    assert "group = 11" in chan_dahdi, chan_dahdi  # span 1's group, which its card route dials
    _wait(guest.shell, f"{CARRIER_CLI} 'pri show spans'", r"PRI span 2/0: Up", 300, "the carrier's D-channel")
    _wait(guest.shell, f"{APPLIANCE_CLI} 'pri show spans'", r"PRI span 1/0: Up, Active", 120,
          "the appliance's D-channel")
    guest.mark("pri_up_s")


def test_the_agent_signs_in_from_the_desk_phone_with_the_feature_code(guest):
    _api_wait(guest.web, "/api/v1/registrations", lambda answer: answer["phones"].get(AGENT) == "registered", 120,
              "the desk phone's registration")
    guest.shell.run(f"{CARRIER_CLI} 'channel originate PJSIP/*21@desk-phone application Wait 5'")
    agent = _api_wait(guest.web, f"/api/v1/agents/{AGENT}", lambda answer: answer["logged_in"] and answer, 60,
                      "the agent signed in")
    assert agent["queues"] == [QUEUE], agent


def test_a_carrier_call_to_the_did_is_queued_and_answered_by_the_agent(guest):
    # a call file: the CLI's originate gives the call no caller number
    guest.shell.write_file("/run/carrier/call", f'Channel: DAHDI/g0/{DID}\nCallerID: "Carrier" <{CALLER}>\n'
                                                "Application: Wait\nData: 20\n")
    guest.shell.run("mv /run/carrier/call /run/carrier/spool/outgoing/")
    record = _api_wait(guest.web, "/api/v1/call-records?direction=inbound",
                       _ended_call(direction="inbound", did=DID), 120, "the inbound call's record")
    assert (record["caller"], record["trunk"], record["queue"], record["agent"], record["disposition"],
            record["fallback_reason"]) == (CALLER, CARD_ROUTE, QUEUE, AGENT, "answered", ""), record
    _, answered = guest.shell.run("cat /run/carrier/desk-phone")
    assert f"answered {CALLER}" in answered, answered  # the agent's phone rang with the caller's number
    guest.mark("inbound_done_s")


def test_the_agent_dials_out_over_the_span(guest):
    guest.shell.run(f"{CARRIER_CLI} 'channel originate PJSIP/{OUTSIDE_NUMBER}@desk-phone application Wait 10'")
    _wait(guest.shell, "cat /run/carrier/answered 2>/dev/null; true", f"answered {OUTSIDE_NUMBER}", 120,
          "the carrier answering the outbound call")
    record = _api_wait(guest.web, "/api/v1/call-records?direction=outbound",
                       _ended_call(direction="outbound", caller=OUTSIDE_NUMBER), 60, "the outbound call's record")
    assert (record["agent"], record["trunk"], record["disposition"]) == (AGENT, CARD_ROUTE, "answered"), record
    guest.mark("outbound_done_s")


def test_the_carrier_gone_is_the_span_alarm_on_health_and_the_console(guest):
    shell, vm = guest.shell, guest.vm
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

    vm.expect(r"login: ", 300)
    vm.sign_in("admin", guest.password, timeout=120)
    vm.type("dahdi")
    page = vm.expect(r"(?s)Telephony cards \(DAHDI\).*?console> ", 120).group(0)
    assert re.search(r"Span 1\s+E1\s+DYN/loc/1:0\s+RED", page), page
    assert "dahdi.span_alarm" in page, page
    vm.type("logout")
    guest.mark("alarm_shown_s")
