"""The technician's console, driven over a pseudo-terminal pair: the real console loop
reads and writes a pyserial port opened on the pty's slave side, the test types on the
master side.  Users are real (SQLite), the network backend is a fake that records what
it was told, Asterisk is an in-process AMI server speaking the real protocol."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path

import gevent
import pytest

from appliance.console import pbxview, sysinfo
from appliance.console.session import (
    ALARM_LOGIN_LOCKED,
    FACTORY_RESET_PHRASE,
    Console,
    ConsoleDeps,
    ConsoleOptions,
)
from appliance.console.terminal import Terminal, open_port
from appliance.db import models as m
from appliance.db import open_database
from appliance.db.migrate import migrate
from appliance.network import LanChanger, LanConfig
from appliance.services.signin import SignInLocked
from appliance.services.users import UserService
from hwdrivers.health import hardware_health
from consolerig import FakeNetwork, Pty
from webharness import migrated
from test_ami_client import SECRET, FakeAmi, frame

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dahdi"
ADMIN_PASSWORD = "correct-horse-1"


class Rig:
    """One console on one pty, with everything it talks to."""

    def __init__(self, tmp_path, **options):
        path = tmp_path / "appliance.db"
        if path.exists():  # a second console over the same database: a restart
            self.db = open_database(path)
            migrate(self.db)
        else:  # a copy of one migrated once per process
            self.db = migrated(path)
        self.users = UserService(self.db)
        if not self.users.list():  # a second console over the same database: a restart
            self.users.create("admin", ADMIN_PASSWORD, "admin")
            self.users.create("sup", "supervisor-pw", "supervisor")
        self.network = FakeNetwork()
        self.lan = LanChanger(self.network, tmp_path / "network", "eth0", options.pop("confirm_seconds", 30.0))
        self.alarms: list[tuple[str, str]] = []
        self.resets: list[int] = []
        self.restarts: list[tuple[str, str]] = []
        self.hardware_root = FIXTURES / "no_card"
        self.status = None
        self.system = sysinfo.collect
        self.pbx = lambda: pbxview.PbxReport(False, "connection refused")
        self.backups = None  # a test of backups sets its BackupService here
        self.sticks: list[str] = []
        self.upgrades = None  # a test of upgrades sets its Upgrades here
        deps = ConsoleDeps(users=self.users, system=lambda: self.system(),
                           hardware=lambda: hardware_health(self.hardware_root), services=lambda: self.status,
                           pbx=lambda: self.pbx(), network=self.network, lan=self.lan,
                           factory_reset=self._factory_reset, alarm=self._alarm,
                           restart=lambda name, who: self.restarts.append((name, who)),
                           rebuild_reports=lambda progress: self.rebuild(progress),
                           backups=lambda: self.backups, usb_folders=lambda: self.sticks,
                           upgrades=lambda: self.upgrades)
        self.pty = Pty()
        self.port = open_port(self.pty.path, 115200)
        self.console = Console(Terminal(self.port), deps,
                               ConsoleOptions(device="ttyS0", **{"lockout_seconds": 30.0, **options}))
        self.closed = False
        self.greenlet = gevent.spawn(self.console.run_forever)

    def rebuild(self, progress):
        from appliance.db.worker import in_worker
        from appliance.services.reports import rebuild_all

        return rebuild_all(self.db, progress, run=lambda fn, *args: in_worker(self.db, fn, *args))

    def _alarm(self, code, text):
        self.alarms.append((code, text))
        logging.getLogger("appliance.console").critical("alarm %s: %s", code, text)

    def _factory_reset(self):
        self.resets.append(1)
        return "console.factory.restart_needed"

    def sign_in(self, user="admin", password=ADMIN_PASSWORD):
        self.pty.expect("login: ")
        self.pty.type(user)
        self.pty.expect("password: ")
        self.pty.type(password)
        self.pty.expect(f"Signed in as {user}")
        self.pty.expect("console> ")

    def command(self, *lines):
        self.pty.type(*lines)

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.greenlet.kill()
        self.port.close()
        self.pty.close()
        self.db.close()


@pytest.fixture
def rig(tmp_path):
    made = []

    def make(**options):
        made.append(Rig(tmp_path, **options))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_three_wrong_passwords_lock_the_console_and_log_an_alarm(rig, caplog):
    r = rig(lockout_seconds=1.5)
    caplog.set_level(logging.WARNING)
    for attempt in range(3):
        r.pty.expect("login: ")
        r.command("admin", f"wrong-{attempt}")
        r.pty.expect("Sign-in refused")
    locked_at = time.monotonic()
    r.pty.expect(r"3 wrong passwords in a row: the console is locked for 2 s")
    r.command("admin", ADMIN_PASSWORD)  # typed during the lockout: thrown away
    r.pty.expect("login: ")
    assert time.monotonic() - locked_at >= 1.4
    assert [code for code, _ in r.alarms] == ["console.login_locked"]
    assert "3 wrong passwords in a row on ttyS0 (last user 'admin')" in r.alarms[0][1]
    assert any(rec.levelno == logging.CRITICAL and "console.login_locked" in rec.getMessage()
               for rec in caplog.records)
    assert "Signed in" not in r.pty.text
    r.pty.type("admin")  # the prompt after the lockout works again
    r.pty.expect("password: ")
    r.pty.type(ADMIN_PASSWORD)
    r.pty.expect("Signed in as admin")


def test_a_console_restarted_during_a_lock_still_waits_it_out(rig):
    r = rig(lockout_seconds=2.5)
    for attempt in range(3):
        r.pty.expect("login: ")
        r.command("admin", f"wrong-{attempt}")
    r.pty.expect(r"the console is locked for 3 s")
    locked_at = time.monotonic()
    r.close()  # the console process dies and the supervisor starts it again
    again = rig(lockout_seconds=2.5)
    again.pty.expect(r"Sign-in on this console is locked until \d\d:\d\d:\d\d UTC \(\d s\)")
    again.command("admin", ADMIN_PASSWORD)  # the right password, typed during the lock: thrown away
    again.pty.expect("login: ")
    assert time.monotonic() - locked_at >= 2.4
    assert "Signed in" not in again.pty.text
    again.command("admin", ADMIN_PASSWORD)
    again.pty.expect("Signed in as admin")
    actions = [(a.action, a.object_id) for a in m.AuditLog.select().where(m.AuditLog.object_type == "sign_in")]
    assert actions.count(("login_failed", "admin")) == 3 and ("lockout", "console:ttyS0") in actions


def test_an_account_locked_on_the_web_is_refused_on_the_console_until_cleared(rig):
    r = rig()
    for attempt in range(5):  # five wrong passwords on the web UI
        try:
            r.users.sign_in("admin", f"wrong-{attempt}", "addr:10.0.0.9")
        except SignInLocked:
            pass
    r.pty.expect("login: ")
    r.command("admin", ADMIN_PASSWORD)
    r.pty.expect(r"The account admin is locked until \d\d:\d\d:\d\d UTC")
    r.pty.expect("login: ")  # the console itself is not locked: the next prompt comes at once
    assert "Signed in" not in r.pty.text
    r.users.guard.clear("user:admin", "admin2")  # another admin on the accounts page
    r.command("admin", ADMIN_PASSWORD)
    r.pty.expect("Signed in as admin")


def test_a_good_sign_in_at_the_console_starts_its_count_again(rig):
    r = rig()
    for attempt in range(2):
        r.pty.expect("login: ")
        r.command("admin", f"wrong-{attempt}")
    r.sign_in()
    r.command("0")  # sign out
    for attempt in range(2):  # two more: four in 15 minutes, but never three in a row
        r.pty.expect("login: ")
        r.command("admin", f"wrong-again-{attempt}")
        r.pty.expect("Sign-in refused")
    r.sign_in()
    assert r.alarms == []


def test_only_admin_accounts_may_sign_in_and_two_failures_do_not_lock(rig):
    r = rig()
    r.pty.expect("login: ")
    r.command("sup", "supervisor-pw")  # right password, but not an admin
    r.pty.expect("Sign-in refused")
    r.pty.expect("login: ")
    r.command("nobody", "whatever")
    r.pty.expect("Sign-in refused")
    r.pty.expect("login: ")
    r.command("admin", ADMIN_PASSWORD)  # the third try is the right one: no lockout
    r.pty.expect("Signed in as admin")
    assert r.alarms == []


def test_health_summary_from_this_machine(rig):
    r = rig()
    r.sign_in()
    r.command("1")
    r.pty.expect_all("System health", r"Uptime +(\d+ d )?\d\d:\d\d:\d\d",
                     r"CPU +\d+ % busy, \d+ cores, load [\d.]+ [\d.]+ [\d.]+", r"Memory +[\d.]+ \w+ free of [\d.]+ \w+",
                     r"SMART +not checked: smartctl is not installed|SMART /dev/",
                     r"Nothing needs attention|item\(s\) need attention")


def test_health_points_at_a_full_disk_a_hot_sensor_and_a_failing_disk(rig):
    r = rig()
    r.system = lambda: sysinfo.SystemHealth(
        cpu_percent=5, cpu_count=2, load=(0.1, 0.2, 0.3), memory_total=2 << 30, memory_available=1 << 30,
        memory_percent=50, swap_percent=0, uptime_seconds=90061,
        disks=(sysinfo.Disk("/var", "/dev/sda2", "ext4", 100 << 30, 96 << 30, 96.0),),
        sensors=(sysinfo.Sensor("coretemp", "Package id 0", 101.0, 100.0, 105.0),),
        smart=(sysinfo.parse_smart("/dev/sda", "SMART overall-health self-assessment test result: FAILED!"),),
        smartctl=True)
    r.sign_in()
    r.command("health")
    r.pty.expect_all(r"Uptime +1 d 01:01:01", r"Disk /var +96.0 GiB of 100.0 GiB used \(96 %\)",
                     r"SMART /dev/sda  FAILED", r"coretemp Package id 0: 101.0 °C",
                     r"system.disk_full /var: the disk is nearly full", r"system.too_hot coretemp Package id 0",
                     r"system.disk_failing /dev/sda", r"3 item\(s\) need attention")


def test_dahdi_spans_alarms_and_no_card(rig):
    r = rig()
    r.sign_in()
    r.command("2")
    r.pty.expect("Telephony cards \\(DAHDI\\): info")
    r.pty.expect("No telephony card: calls use SIP only. This is not an alarm.")
    r.hardware_root = FIXTURES / "e1_red"
    r.command("dahdi")
    r.pty.expect("Telephony cards \\(DAHDI\\): critical")
    r.pty.expect(r"Span 1 +E1 .* RED")
    r.pty.expect(r"\[critical\] dahdi.span_alarm: span 1 .* RED")


def test_services_from_the_supervisor_status(rig):
    r = rig()
    r.sign_in()
    r.command("3")
    r.pty.expect("No status from the supervisor")
    r.status = {"status": "degraded", "age_seconds": 4.2, "stale": False,
                "services": {"asterisk": {"state": "crash-loop", "since": 0, "restarts": 5},
                             "web": {"state": "running", "since": 0, "restarts": 0}},
                "alarms": [{"service": "asterisk", "code": "supervisor.crash_loop", "text": "exited 6 times"}]}
    r.command("services")
    r.pty.expect(r"Services: degraded \(status written 4 s ago\)")
    r.pty.expect(r"asterisk +crash-loop .* restarts 5")
    r.pty.expect(r"web +running")
    r.pty.expect(r"! asterisk: exited 6 times")
    # a service is down: the technician may restart it (the supervisor takes the request)
    r.pty.expect(r"Restart which service\?")
    r.command("asterix")
    r.pty.expect("There is no service named asterix")
    r.command("3")
    r.pty.expect(r"Restart which service\?")
    r.command("")  # none
    r.pty.expect("console> ")
    r.command("3")
    r.pty.expect(r"Restart which service\?")
    r.command("asterisk")
    r.pty.expect("Restart of asterisk requested")
    assert r.restarts == [("asterisk", "admin (ttyS0)")]
    # everything running: nothing offered
    r.status["services"]["asterisk"]["state"] = "running"
    r.command("3")
    r.pty.expect(r"asterisk +running")
    r.pty.expect("console> ")
    assert r.restarts == [("asterisk", "admin (ttyS0)")]


class TelephonyAmi(FakeAmi):
    """Answers the two questions the console asks, as Asterisk 22 does."""

    def _answer(self, conn, f):
        action, aid = f.get("Action"), f.get("ActionID")
        if action == "PJSIPShowRegistrationsOutbound":
            self.actions.append(f)
            conn.sendall(frame(Response="Success", ActionID=aid, EventList="start", Message="Following")
                         + frame(Event="OutboundRegistrationDetail", ActionID=aid, ObjectType="registration",
                                 ObjectName="pstn-reg", ServerUri="sip:203.0.113.5", Status="Registered")
                         + frame(Event="AuthDetail", ActionID=aid, ObjectName="pstn-auth")
                         + frame(Event="OutboundRegistrationDetailComplete", ActionID=aid, EventList="Complete",
                                 ListItems="1"))
        elif action == "CoreShowChannels":
            self.actions.append(f)
            conn.sendall(frame(Response="Success", ActionID=aid, EventList="start", Message="Channels will follow")
                         + frame(Event="CoreShowChannel", ActionID=aid, Channel="PJSIP/trunk-00000001",
                                 CallerIDNum="13800000001", ConnectedLineNum="1001", Application="Queue",
                                 Duration="00:01:05", ChannelStateDesc="Up")
                         + frame(Event="CoreShowChannelsComplete", ActionID=aid, EventList="Complete",
                                 ListItems="1"))
        else:
            super()._answer(conn, f)


def test_trunks_and_calls_over_ami_or_asterisk_not_answering(rig):
    from harness import free_port

    r = rig()
    r.pbx = lambda: pbxview.query(pbxview.ami_client_factory(free_port(), "appliance", SECRET), timeout=1)
    r.sign_in()
    r.command("4")
    r.pty.expect("Asterisk not answering: no AMI session within 1 s")
    ami = TelephonyAmi().start()
    try:
        r.pbx = lambda: pbxview.query(pbxview.ami_client_factory(ami.port, "appliance", SECRET))
        r.command("calls")
        r.pty.expect("Trunk registrations")
        r.pty.expect(r"pstn-reg +Registered +sip:203.0.113.5")
        r.pty.expect("Active channels: 1")
        r.pty.expect(r"PJSIP/trunk-00000001 +13800000001 -> 1001 +Queue +00:01:05 Up")
    finally:
        ami.stop()


def test_network_addresses(rig):
    r = rig()
    r.sign_in()
    r.command("5")
    r.pty.expect(r"eth0 +UP +52:54:00:12:34:56 +192.168.1.10/24")
    r.pty.expect("Default gateway: 192.168.1.1")
    r.pty.expect("LAN port eth0: DHCP")


def test_static_address_kept_when_confirmed(rig, tmp_path):
    r = rig()
    r.sign_in()
    r.command("6", "static", "10.0.0.5/24", "10.0.0.1")
    r.pty.expect(r"Set eth0 to 10.0.0.5/24 via 10.0.0.1\? Type yes to apply: ")
    r.command("yes")
    r.pty.expect("Type confirm within 30 s")
    assert (tmp_path / "network" / "pending.json").exists()
    r.command("confirm")
    r.pty.expect("Kept.")
    r.pty.expect("console> ")
    assert r.network.applied == [("eth0", LanConfig("static", "10.0.0.5/24", "10.0.0.1"))]
    assert json.loads((tmp_path / "network" / "lan.json").read_text())["address"] == "10.0.0.5/24"
    assert not (tmp_path / "network" / "pending.json").exists()


def test_unconfirmed_change_is_rolled_back(rig, tmp_path):
    r = rig(confirm_seconds=1.0)
    r.sign_in()
    r.command("ip", "static", "10.0.0.5/24", "", "yes")
    r.pty.expect("Type confirm within 1 s", timeout=15)
    r.pty.expect("Not confirmed: eth0 is back to DHCP.", timeout=15)
    # measured where the changes happened, not where this test (maybe late, on a busy
    # machine) read about them
    assert r.network.applied_at[1] - r.network.applied_at[0] >= 0.95
    assert r.network.applied == [("eth0", LanConfig("static", "10.0.0.5/24", "")), ("eth0", LanConfig("dhcp"))]
    assert json.loads((tmp_path / "network" / "lan.json").read_text())["mode"] == "dhcp"
    assert not (tmp_path / "network" / "pending.json").exists()


def test_undo_and_bad_addresses(rig):
    r = rig()
    r.sign_in()
    r.command("6", "static", "10.0.0.0/24", "")
    r.pty.expect("Not done: '10.0.0.0/24' needs a prefix between /1 and /31 and a host address")
    r.command("6", "static", "10.0.0.5/24", "10.9.0.1")
    r.pty.expect("Not done: gateway 10.9.0.1 is not another address in 10.0.0.0/24")
    r.command("6", "static", "10.0.0.5/24", "", "no")
    r.pty.expect("Nothing changed.")
    r.command("6", "dhcp", "yes")
    r.pty.expect("Type confirm")
    r.command("undo")
    r.pty.expect("Not confirmed: eth0 is back to DHCP.")
    assert r.network.applied == [("eth0", LanConfig("dhcp")), ("eth0", LanConfig("dhcp"))]


def test_reset_admin_password(rig):
    r = rig()
    r.sign_in()
    r.command("7", "admin", "brand-new-pass", "not-the-same")
    r.pty.expect("The two passwords differ; nothing changed.")
    r.command("7", "sup")
    r.pty.expect("There is no admin account named sup.")
    r.command("password", "", "brand-new-pass", "brand-new-pass")
    r.pty.expect("Password of admin changed.")
    assert r.users.authenticate("admin", "brand-new-pass") is not None
    assert r.users.authenticate("admin", ADMIN_PASSWORD) is None
    assert "brand-new-pass" not in r.pty.text  # never echoed
    r.command("7", "admin", "")
    generated = r.pty.expect(r"New password \(shown once\): (\S+)").group(1)
    assert r.users.authenticate("admin", generated) is not None


def test_factory_reset_needs_the_typed_phrase(rig):
    r = rig()
    r.sign_in()
    r.command("8")
    r.pty.expect(f"Type {FACTORY_RESET_PHRASE} to go ahead")
    r.command("yes")
    r.pty.expect("Not confirmed: nothing was erased.")
    r.command("factory-reset", FACTORY_RESET_PHRASE.lower())
    r.pty.expect("Not confirmed: nothing was erased.")
    assert r.resets == []
    r.command("8", FACTORY_RESET_PHRASE)
    r.pty.expect("Factory reset scheduled")
    assert r.resets == [1]


def test_the_report_summaries_are_rebuilt_when_confirmed_in_both_languages(rig):
    from appliance.db.writers import CallRecordWriter

    r = rig()
    writer = CallRecordWriter(r.db)
    for n, enter in enumerate((1772409600, 1772409600 + 40 * 86400)):  # 2026-03-02 and 40 days later
        writer.write({"linkedid": f"x{n}", "direction": "inbound", "caller": "", "caller_name": "", "did": "",
                      "trunk": "", "queue": "q", "agent": "", "enter_time": enter, "answer_time": None,
                      "end_time": enter + 5, "wait_seconds": 5, "talk_seconds": 0, "disposition": "abandoned",
                      "fallback_reason": "", "hangup_cause": 16, "route_rule": "did", "survey": "",
                      "survey_score": None})
    m.ReportBucket.delete().execute()
    r.sign_in()
    r.command("r", "no")
    r.pty.expect("Not confirmed: nothing was rebuilt.")
    assert m.ReportBucket.select().count() == 0
    r.command("reports")
    r.pty.expect("recomputes every report summary")
    r.command("yes")
    r.pty.expect(r"  1/4 done, 0 summary rows so far")  # before the first call, two spans of 31 days, after
    r.pty.expect(r"  4/4 done, 2 summary rows so far")
    r.pty.expect(r"Report summaries rebuilt: 2 rows in [0-9.]+ s\.")
    assert sum(b.abandoned for b in m.ReportBucket.select()) == 2
    r.command("9", "r", "yes")
    r.pty.expect("输入 yes 开始重建")
    r.pty.expect(r"报表汇总已重建：2 行")
    # a standby's database is a replica: never written from its console
    r.console.deps.ha = lambda: {"role": "standby"}
    r.command("r")
    r.pty.expect("本机在双机热备中为备机")


def test_idle_session_is_signed_out_and_chinese_on_request(rig):
    r = rig(idle_seconds=1.0)
    r.sign_in()
    r.command("9")
    r.pty.expect("语言：中文。")
    r.pty.expect("控制台> ")
    r.pty.expect("1 秒无输入，已自动退出。", timeout=5)
    r.pty.expect("用户名: ")


def test_console_messages_are_in_both_catalogs():
    from appliance import i18n

    en, zh = i18n.catalog("en"), i18n.catalog("zh_CN")
    source = "".join(p.read_text() for p in Path("appliance/console").glob("*.py"))
    used = set(re.findall(r'"(console\.[a-z_.]+)"', source))
    used |= {f"console.{code}" for code in ("system.disk_full", "system.too_hot", "system.disk_failing")}
    used.discard(ALARM_LOGIN_LOCKED)
    assert len(used) > 50
    assert not used - set(en) and not used - set(zh)


def test_the_console_process_on_a_serial_line(tmp_path):
    """``python -m appliance.console`` as the supervisor starts it: settings, first-boot
    data, the first admin's password, real hardware files (a fixture root)."""
    import subprocess
    import sys

    from appliance import settings
    from provisioning import firstboot

    pty = Pty()
    overrides = {"data_dir": str(tmp_path / "data"), "serial_device": pty.path,
                 "hardware_root": str(FIXTURES / "e1_yellow"), "ami_port": "1", "web_https_port": "8443"}
    loaded = settings.load(None, overrides)
    password = firstboot.run(loaded)
    argv = [sys.executable, "-m", "appliance.console"]
    for key, value in overrides.items():
        argv += ["--set", f"{key}={value}"]
    child = subprocess.Popen(argv, cwd=Path(__file__).resolve().parents[2])
    try:
        pty.expect("technician's console on " + os.path.basename(pty.path), timeout=20)
        # the certificate the browser will show, to check it is this box's
        pty.expect(f"HTTPS certificate SHA-256 \\(check it in the browser\\): {firstboot.certificate_fingerprint(loaded)}")
        # a fresh box: the technician reads the first admin password off the sign-in screen
        pty.expect(f"First admin account: user admin, password {password} ")
        pty.expect("login: ")
        pty.type("admin", password)
        pty.expect("Signed in as admin")
        pty.type("dahdi")
        pty.expect(r"\[critical\] dahdi.span_alarm: .*YELLOW")
        pty.type("services")
        pty.expect("No status from the supervisor")
        pty.type("calls")
        pty.expect("Asterisk not answering")
        pty.type("password", "admin", "a-new-password-42", "a-new-password-42")
        pty.expect("console> ")
        pty.type("logout")
        pty.expect("Signed out.")
        banner = pty.expect(r"(?s)technician's console on (.*?)login: ").group(1)
        assert "First admin account" not in banner  # changed: never shown again
    finally:
        child.kill()
        child.wait(10)
        pty.close()


def test_banner_shows_the_web_ui_address_and_no_password_it_was_not_given(rig):
    from appliance.console.session import web_urls
    from appliance.network import Interface

    interfaces = [Interface("lo", "UNKNOWN", "", ("127.0.0.1/8", "::1/128")),
                  Interface("eth0", "UP", "52:54:00:12:34:56", ("10.0.2.15/24", "fe80::1/64")),
                  Interface("eth1", "DOWN", "52:54:00:12:34:57", ())]
    assert web_urls(interfaces, 80) == ["http://10.0.2.15/"]
    assert web_urls(interfaces, 8443, "https") == ["https://10.0.2.15:8443/"]
    assert web_urls(interfaces[:1], 80) == []
    r = rig()
    banner = r.pty.expect(r"(?s)technician's console on (.*?)login: ").group(1)
    assert "Web UI: no network address yet" in banner
    assert "First admin account" not in banner


def test_backup_onto_a_stick_and_restore_from_it_in_both_languages(rig, tmp_path):
    from appliance.services.backup import BackupService, Layout

    r = rig()
    data = tmp_path / "data"
    calls = {"up": 0}
    r.backups = BackupService(Layout(data_dir=data, db_path=tmp_path / "appliance.db", prompts_dir=data / "prompts",
                                     recordings_dir=data / "recordings", fax_dir=data / "fax"),
                              r.db, data / "backups", run=lambda fn, *a: fn(*a), calls_up=lambda: calls["up"])
    stick = tmp_path / "media" / "usb0"
    stick.mkdir(parents=True)
    r.sticks = [str(stick)]
    r.sign_in()
    r.command("b")
    r.pty.expect(f"USB sticks: {stick}")
    r.command("1", "", "no")  # onto the stick (the default), without recordings
    r.pty.expect(r"Backup written: .*usb0/backup-\d{8}-\d{6}\.tar\.gz \(")
    [made] = stick.glob("*.tar.gz")
    m.Queue.create(name="made-later")
    (stick / "zz-foreign.tar.gz").write_bytes(b"not a backup")
    r.command("backup", "2", str(stick / "zz-foreign.tar.gz"))
    r.pty.expect("Not done: this is not a backup of this appliance")
    calls["up"] = 2
    r.command("b", "2", str(made))
    r.pty.expect(r"A whole backup: made .* schema \d+\.")
    r.command("RESTORE")
    r.pty.expect("Not done: 2 calls are up; restore when they have ended")
    calls["up"] = 0
    r.command("b", "2", str(made), "restore")  # not the phrase
    r.pty.expect("Not confirmed: nothing was restored.")
    assert m.Queue.select().where(m.Queue.name == "made-later").exists()
    r.command("b", "2", str(made), "RESTORE")
    r.pty.expect("Restored and migrated to this version")
    r.pty.expect("Restart the appliance to run on the restored data.")
    assert not m.Queue.select().where(m.Queue.name == "made-later").exists()
    r.command("9", "b", "2", str(stick / "zz-foreign.tar.gz"))
    r.pty.expect("未执行：这不是本设备的备份文件")


def test_usb_sticks_are_the_removable_disks_mounted_under_media():
    mounts = ("/dev/vda1 / ext4 rw 0 0\n/dev/sdb1 /media/usb0 vfat rw 0 0\n"
              "/dev/sda2 /var/lib/appliance ext4 rw 0 0\ntmpfs /media/ram tmpfs rw 0 0\n"
              "/dev/sdc1 /run/media/admin/MY\\040STICK exfat rw 0 0\n")
    assert sysinfo.usb_folders(mounts) == ["/media/usb0", "/run/media/admin/MY STICK"]


def test_an_upgrade_from_a_usb_stick_is_checked_and_handed_in_as_the_web_upload_does(rig, tmp_path, monkeypatch):
    """The web upload's own steps (``Upgrades.receive``): a damaged bundle refused in both
    languages with nothing left, a good one staged for the root helper exactly as an upload
    is (same files, owned by the data directory's owner, though the console runs as root),
    its writing followed, and the restart only once RESTART is typed."""
    from appliance import slots
    from appliance.services.upgrade import Upgrades
    from image_build.image import make_bundle
    from test_upgrade import make_disk

    monkeypatch.setattr("appliance.console.session.UPGRADE_POLL_SECONDS", 0.2)
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "root.img").write_bytes(b"R" * 65536 + bytes(65536))
    (parts / "vmlinuz").write_bytes(b"kernel v2")
    (parts / "initrd.img").write_bytes(b"initrd v2")
    good = tmp_path / "good.upgrade"
    make_bundle(parts / "root.img", parts / "vmlinuz", parts / "initrd.img", good, {"version": "2.0.0"}, level=1)
    raw = good.read_bytes()
    data = tmp_path / "data"
    data.mkdir()
    as_root = os.geteuid() == 0  # as the console runs on the image (and the tests here)
    owner = (65534, 65534) if as_root else (os.getuid(), os.getgid())
    if as_root:
        os.chown(data, *owner)  # the appliance's account owns the data directory
    disk = make_disk(tmp_path / "disk", uefi=True)
    r = rig()
    r.upgrades = Upgrades(data, disk=disk, version=lambda: "1.0.0")
    folder = data / slots.UPGRADE_DIR
    r.sign_in()
    r.command("u")
    r.pty.expect("Running: version 1.0.0, system slot A.")
    r.pty.expect("No USB stick found")
    stick = tmp_path / "media" / "usb0"
    stick.mkdir(parents=True)
    r.sticks = [str(stick)]
    (stick / "callcenter-appliance.upgrade").write_bytes(raw)
    at = raw.index(b"initrd v2")
    (stick / "damaged.upgrade").write_bytes(raw[:at] + b"initrd v0" + raw[at + 9:])
    (stick / "notes.upgrade").write_text("not a bundle")
    r.command("upgrade")
    listed = r.pty.expect(r"Which one to install \(1-3").string
    assert re.search(r"1  callcenter-appliance\.upgrade +\d+\.\d KiB  version 2\.0\.0", listed), listed
    assert re.search(r"2  damaged\.upgrade .* version 2\.0\.0", listed)  # the manifest alone reads well
    assert re.search(r"3  notes\.upgrade .* This file is not an upgrade of the call-center appliance", listed)
    r.command("2")
    r.pty.expect("Not done: The file is damaged: initrd.img does not match its SHA-256 checksum. Nothing was changed")
    assert list(folder.iterdir()) == []  # nothing kept, nothing asked of the root helper
    assert (folder.stat().st_uid, folder.stat().st_gid) == owner  # the web UI can still hand one in
    r.command("9", "u")
    r.pty.expect("当前运行：版本 1.0.0，系统槽位 A。")
    r.command("2")
    r.pty.expect("文件已损坏：initrd.img 与它的 SHA-256 校验和不符")
    r.command("u", "1")
    r.pty.expect("版本 2.0.0 检查通过")
    r.pty.expect("正在把升级写入另一个槽位：0 / 0 MiB")
    # staged as the web upload stages it: the bundle and the request the root helper's path unit waits for
    assert sorted(p.name for p in folder.iterdir()) == [slots.INSTALL_REQUEST, slots.STAGED]
    assert (folder / slots.STAGED).read_bytes() == raw
    assert (folder / slots.INSTALL_REQUEST).read_text() == "admin (ttyS0)\n"
    assert {(p.stat().st_uid, p.stat().st_gid) for p in folder.iterdir()} == {owner}
    rebooted = []
    slots.serve_requests(data, disk, reboot=lambda: rebooted.append(1), stop_appliance=lambda: None)  # the root helper
    r.pty.expect("版本 2.0.0 已写入槽位 B")
    r.command("later")  # not the phrase
    r.pty.expect("未重启")
    assert not (folder / slots.REBOOT_REQUEST).exists()
    r.command("9", "u")
    r.pty.expect("Version 2.0.0 is written to slot B. Restarting into it ends every call in progress")
    r.command("RESTART")
    r.pty.expect("Restarting into the upgraded version")
    assert (folder / slots.REBOOT_REQUEST).read_text() == "admin (ttyS0)\n"
    slots.serve_requests(data, disk, reboot=lambda: rebooted.append(1), stop_appliance=lambda: None)
    assert rebooted == [1]
