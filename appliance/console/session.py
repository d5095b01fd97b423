"""The technician's console: sign in, then a small menu over a terminal.

``Console`` is given a ``Terminal`` and its collaborators (``ConsoleDeps``); it holds no
socket, database or netlink handle of its own, so the tests drive the real loop over a
pseudo-terminal with fakes where a fake is needed.  Every text comes from the message
catalogs the web UI uses (``console.*`` ids in ``appliance/locales``), in English or Chinese.

Sign-in: admin accounts of the web UI, through the same throttle as the web UI
(``UserService.sign_in``, kept in the database): after ``max_failures`` wrong passwords
in a row (within 15 minutes) the console (key ``console:<device>``) logs the alarm
``console.login_locked`` and ignores everything typed for ``lockout_seconds``, twice as
long each next time; a console restarted meanwhile finds the lock and waits it out.  An
account locked by wrong passwords here or on the web is refused here too, the right
password included.  A session with no input for ``idle_seconds`` is logged out.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.console import sysinfo
from appliance.console.pbxview import PbxReport
from appliance.console.terminal import Cancelled, EndOfInput, Terminal
from appliance.db.models import utcnow
from appliance.errors import DomainError
from appliance.i18n import error_text, translate
from appliance.network import LanChanger, LanConfig, NetworkBackend, static_config
from appliance.services.signin import SignInLocked, console_rule

logger = logging.getLogger(__name__)

FACTORY_RESET_PHRASE = "FACTORY RESET"
RESTORE_PHRASE = "RESTORE"
RESTART_PHRASE = "RESTART"
UPGRADE_POLL_SECONDS = 2.0  # how often the writing of an upgrade is looked at
ALARM_LOGIN_LOCKED = "console.login_locked"  # a stable alarm code, not a message id
LANGUAGES = ("en", "zh_CN")


@dataclass
class ConsoleOptions:
    device: str = "console"
    max_failures: int = 3
    lockout_seconds: float = 60.0
    idle_seconds: float = 600.0
    language: str = "en"


@dataclass
class ConsoleDeps:
    users: object  # UserService: sign_in, guard, set_password, list
    system: Callable[[], sysinfo.SystemHealth]
    hardware: Callable[[], object]  # hwdrivers.health.hardware_health bound to a root
    services: Callable[[], dict | None]  # the supervisor's aggregated status, or None
    pbx: Callable[[], PbxReport]
    network: NetworkBackend
    lan: LanChanger
    factory_reset: Callable[[], str]  # erases (or schedules erasing); returns a message id
    alarm: Callable[[str, str], None] = field(default=lambda code, text: logger.critical("alarm %s: %s", code, text))
    # shown above the sign-in prompt: where the web UI answers, and on a fresh box the first
    # admin password (only while it still signs in: a changed password is never shown)
    web_urls: Callable[[], list[str]] = field(default=lambda: [])
    first_password: Callable[[], str | None] = field(default=lambda: None)
    certificate: Callable[[], str | None] = field(default=lambda: None)  # SHA-256 of the HTTPS certificate
    # first-boot steps not done yet (a full disk stopped them) and the MiB free on the data
    # disk, named on the sign-in screen; None once first boot has finished
    first_boot: Callable[[], tuple[list[str], int] | None] = field(default=lambda: None)
    # asks the supervisor to restart a service: (its name, who asked); None: not offered
    restart: Callable[[str, str], None] | None = None
    # hot standby's status as the box last wrote it (appliance.ha.node.status_of); None: off
    ha: Callable[[], dict | None] = field(default=lambda: None)
    # rebuilds the report summaries from the call records off the console's loop, calling
    # progress(done, total, rows) between steps; returns the rows written. None: not offered
    rebuild_reports: Callable[[Callable[[int, int, int], None]], int] | None = None
    # backup and restore (appliance.services.backup.BackupService over the console's own
    # database handle), the folders of the USB sticks mounted now, and what restarts the
    # appliance after a restore (returns a message id). None: not offered
    backups: Callable[[], object] | None = None
    usb_folders: Callable[[], list[str]] = field(default=lambda: [])
    restart_appliance: Callable[[], str] = field(default=lambda: "console.backup.restart_needed")
    # upgrades in place (appliance.services.upgrade.Upgrades, the web upload's own service):
    # a bundle on a USB stick checked and handed to the root helper. None: not offered
    upgrades: Callable[[], object] | None = None


def web_urls(interfaces, port: int, scheme: str = "http") -> list[str]:
    """The web UI's address on every IPv4 address but loopback's (pure)."""
    default = {"http": 80, "https": 443}.get(scheme)
    suffix = "" if port == default else f":{port}"
    urls = []
    for iface in interfaces:
        for address in iface.addresses:
            ip = address.split("/")[0]
            if ":" in ip or ip.startswith("127."):
                continue
            urls.append(f"{scheme}://{ip}{suffix}/")
    return urls


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days} d {text}" if days else text


class Console:
    def __init__(self, term: Terminal, deps: ConsoleDeps, options: ConsoleOptions | None = None):
        self.term = term
        self.deps = deps
        self.options = options or ConsoleOptions()
        self.lang = self.options.language if self.options.language in LANGUAGES else "en"
        self.user: dict | None = None  # who is signed in
        # (number, name, message id of the menu line, handler)
        self.commands = (
            ("1", "health", "console.menu.health", self.show_health),
            ("2", "dahdi", "console.menu.dahdi", self.show_dahdi),
            ("3", "services", "console.menu.services", self.show_services),
            ("4", "calls", "console.menu.calls", self.show_calls),
            ("5", "network", "console.menu.network", self.show_network),
            ("6", "ip", "console.menu.ip", self.set_ip),
            ("7", "password", "console.menu.password", self.reset_password),
            ("8", "factory-reset", "console.menu.factory_reset", self.factory_reset),
            ("9", "language", "console.menu.language", self.switch_language),
            ("r", "reports", "console.menu.reports", self.rebuild_reports),
            ("b", "backup", "console.menu.backup", self.backup),
            ("u", "upgrade", "console.menu.upgrade", self.upgrade),
            ("0", "logout", "console.menu.logout", None),
        )
        if deps.rebuild_reports is None:
            self.commands = tuple(c for c in self.commands if c[1] != "reports")
        if deps.backups is None:
            self.commands = tuple(c for c in self.commands if c[1] != "backup")
        if deps.upgrades is None:
            self.commands = tuple(c for c in self.commands if c[1] != "upgrade")

    def t(self, msgid: str, **kw) -> str:
        return translate(self.lang, msgid, **kw)

    def say(self, msgid: str, **kw) -> None:
        self.term.line(self.t(msgid, **kw))

    def ask(self, msgid: str, *, secret: bool = False, **kw) -> str | None:
        """A prompt in the session; None when the person stayed idle too long."""
        return self.term.readline(self.t(msgid, **kw), secret=secret, timeout=self.options.idle_seconds)

    # -- the loop --------------------------------------------------------------
    def run_forever(self) -> None:
        """Sign-in, session, sign-in again ... until the line hangs up (``Hangup``)."""
        while True:
            user = self.login()
            if user is not None:
                self.session(user)

    @property
    def who(self) -> str:
        """Who does it, for the logs and the audit: the signed-in account on this console."""
        return f"{self.user['username'] if self.user else 'console'} ({self.options.device})"

    @property
    def source(self) -> str:
        """This console's key in the sign-in throttle (appliance/services/signin.py)."""
        return "console:" + self.options.device

    def _wait_out_lock(self) -> bool:
        """If this console is locked (by wrong passwords typed here, before a restart too),
        say until when and throw away what is typed until then.  True if it was locked."""
        try:
            until = self.deps.users.guard.locked(self.source)
        except Exception:  # no accounts yet: login() says so
            return False
        if until is None:
            return False
        seconds = max(1, int((until - utcnow()).total_seconds() + 0.999))
        self.say("console.locked_until", at=until.strftime("%H:%M:%S UTC"), seconds=seconds)
        self.term.discard_input(seconds)
        return True

    def login(self) -> dict | None:
        self.term.line()
        self.say("console.banner", device=self.options.device)
        if self._wait_out_lock():
            return None
        self._show_where()
        try:
            username = self.term.readline(self.t("console.login"))
            if not username:
                return None
            password = self.term.readline(self.t("console.password"), secret=True)
        except (Cancelled, EndOfInput):
            return None
        rule = console_rule(self.options.max_failures, self.options.lockout_seconds)
        try:
            user = self.deps.users.sign_in(username, password or "", self.source, via="console", source_rule=rule,
                                           roles=("admin",), forgive_source=True)
        except SignInLocked as exc:
            self._locked(username, exc)
            return None
        except Exception:  # no accounts yet (first boot did not finish): say so, stay up
            logger.exception("console: accounts cannot be read")
            self.say("console.login_unavailable")
            return None
        if user is not None:
            logger.info("console: %s signed in on %s", username, self.options.device)
            return user
        logger.warning("console: sign-in refused for %r on %s", username, self.options.device)
        self.say("console.login_refused")
        return None

    def _locked(self, username: str, exc: SignInLocked) -> None:
        """Wrong passwords locked this console or the account (here, on the web, before a
        restart): the console says until when; a lock of the console throws away what is
        typed until it ends, a new one raises the alarm."""
        if exc.new:
            self.say("console.login_refused")
        if self.source not in exc.keys:  # the account is locked, not this console
            self.say("console.account_locked", user=username, at=exc.until.strftime("%H:%M:%S UTC"),
                     seconds=exc.retry_after)
            return
        if exc.new:
            failures = self.options.max_failures
            self.deps.alarm(ALARM_LOGIN_LOCKED,
                            f"{failures} wrong passwords in a row on {self.options.device} "
                            f"(last user {username!r}); console locked for {exc.retry_after} s")
            self.say("console.locked", failures=failures, seconds=exc.retry_after)
        else:
            self.say("console.locked_until", at=exc.until.strftime("%H:%M:%S UTC"), seconds=exc.retry_after)
        self.term.discard_input(exc.retry_after)

    def _show_where(self) -> None:
        """The web UI's addresses and the first admin password: what a technician at a
        fresh box needs.  A failure here never keeps anyone from signing in."""
        try:
            unfinished = self.deps.first_boot()
            if unfinished:
                steps, free_mb = unfinished
                self.say("console.firstboot_unfinished", steps=", ".join(steps), free_mb=free_mb)
            urls = self.deps.web_urls()
            if urls:
                self.say("console.web_ui", urls="  ".join(urls))
            else:
                self.say("console.web_ui_none")
            fingerprint = self.deps.certificate()
            if fingerprint:
                self.say("console.certificate", fingerprint=fingerprint)
            password = self.deps.first_password()
            if password:
                self.say("console.first_password", password=password)
        except Exception:
            logger.exception("console: could not tell the web UI's address")

    def session(self, user: dict) -> None:
        self.user = user
        self.say("console.welcome", user=user["username"])
        self.show_menu()
        while True:
            try:
                answer = self.ask("console.prompt")
            except Cancelled:
                continue
            except EndOfInput:
                answer = "logout"
            if answer is None:
                self.say("console.idle_logout", seconds=f"{self.options.idle_seconds:.0f}")
                return
            if not answer:
                continue
            word = answer.split()[0].lower()
            if word in ("?", "help", "menu"):
                self.show_menu()
                continue
            command = next((c for c in self.commands if word in (c[0], c[1])), None)
            if command is None:
                self.say("console.unknown_command", command=word)
                continue
            handler = command[3]
            if handler is None:
                self.say("console.bye")
                logger.info("console: %s signed out", user["username"])
                return
            try:
                handler()
            except Cancelled:
                self.say("console.cancelled")
            except EndOfInput:
                pass
            except DomainError as exc:
                self.say("console.error", message=error_text(self.lang, exc))

    def show_menu(self) -> None:
        self.term.line()
        for number, name, msgid, _ in self.commands:
            self.term.line(f"  {number}  {name:<14} {self.t(msgid)}")
        self.say("console.menu_hint")

    # -- what the technician reads -------------------------------------------
    def show_health(self) -> None:
        h = self.deps.system()
        self.say("console.health.title")
        self.say("console.health.uptime", uptime=_duration(h.uptime_seconds))
        self.say("console.health.cpu", percent=f"{h.cpu_percent:.0f}", cores=h.cpu_count,
                 load=" ".join(f"{x:.2f}" for x in h.load))
        self.say("console.health.memory", available=_size(h.memory_available), total=_size(h.memory_total),
                 percent=f"{h.memory_percent:.0f}")
        for d in h.disks:
            self.say("console.health.disk", mount=d.mountpoint, used=_size(d.used), total=_size(d.total),
                     percent=f"{d.percent:.0f}", device=d.device)
        if not h.smartctl:
            self.say("console.health.no_smartctl")
        for s in h.smart:
            self.say("console.health.smart", device=s.device, verdict=s.verdict.upper(), detail=s.detail)
        if not h.sensors:
            self.say("console.health.no_sensors")
        for s in h.sensors:
            self.say("console.health.temperature", sensor=f"{s.chip} {s.label}", celsius=f"{s.celsius:.1f}")
        found = sysinfo.problems(h)
        for code, subject in found:
            self.say("console.problem", code=code, subject=subject, text=self.t(f"console.{code}"))
        for error in h.errors:
            self.say("console.health.unreadable", detail=error)
        self.say("console.health.ok" if not found else "console.health.attention", count=len(found))

    def show_dahdi(self) -> None:
        hw = self.deps.hardware()
        self.say("console.dahdi.title", status=hw.status)
        for card in hw.cards:
            spans = ",".join(map(str, card.spans)) or "-"
            self.say("console.dahdi.card", slot=card.slot, name=card.name, driver=card.driver, spans=spans)
        for span in hw.spans:
            state = "OK" if span.ok else " ".join(span.alarms) or "-"
            self.say("console.dahdi.span", number=span.number, type=span.type, name=span.name, state=state,
                     slips=span.slips, errors=span.errors)
        for port in hw.ports:
            self.say("console.dahdi.port", channel=port.channel, type=port.type.upper(), state=port.state)
        codes = [p.code for p in hw.problems]
        if codes == ["dahdi.no_card"]:
            self.say("console.dahdi.no_card")
            return
        for p in hw.problems:
            self.say("console.dahdi.problem", severity=p.severity, code=p.code, message=p.message)
        if not hw.problems:
            self.say("console.dahdi.all_ok")

    def show_ha(self) -> None:
        """This box's role in a hot-standby pair, the other box and the replication lag."""
        ha = self.deps.ha()
        if not ha:
            return
        peer = ha.get("peer") or {}
        lag = (ha.get("replication") or {}).get("lag_seconds")
        self.say("console.ha.line", role=self.t("labels.ha_role." + str(ha.get("role"))),
                 peer=ha.get("peer_address", "?"),
                 peer_role=self.t("labels.ha_role." + str(peer.get("role"))) if peer.get("reachable")
                 else self.t("ha.peer_silent"),
                 lag=f"{lag:.2f}" if isinstance(lag, (int, float)) else "-")
        for alarm in ha.get("alarms") or ():
            self.say("console.services.alarm", service="ha",
                     text=self.t("alarms." + alarm.get("code", ""), **(alarm.get("params") or {})))

    def show_services(self) -> None:
        self.show_ha()
        status = self.deps.services()
        if status is None:
            self.say("console.services.none")
            return
        age = status.get("age_seconds")
        self.say("console.services.title", status=status.get("status", "?"),
                 age=f"{age:.0f}" if isinstance(age, (int, float)) else "?")
        if status.get("stale"):
            self.say("console.services.stale")
        for name, svc in sorted((status.get("services") or {}).items()):
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(svc.get("since") or 0))
            self.say("console.services.line", name=name, state=svc.get("state", "?"), since=since,
                     restarts=svc.get("restarts", 0))
        for name, component in sorted((status.get("components") or {}).items()):
            self.say("console.services.component", name=name,
                     state=self.t("console.services.up" if component.get("up") else "console.services.not_up"))
        for alarm in status.get("alarms") or ():
            self.say("console.services.alarm", service=alarm.get("service", "?"), text=alarm.get("text", ""))
        services = status.get("services") or {}
        stopped = [n for n, svc in services.items() if svc.get("state") not in ("running", "disabled")]
        if stopped and self.deps.restart is not None and not status.get("stale"):
            self.offer_restart(services)

    def offer_restart(self, services: dict) -> None:
        """A service is down (a crash loop stopped it, say): the technician may restart it."""
        name = (self.ask("console.services.restart_prompt") or "").strip()
        if not name:
            return
        if name not in services:
            self.say("console.services.restart_unknown", name=name)
            return
        who = self.who
        self.deps.restart(name, who)
        logger.warning("console: %s asked to restart %s", who, name)
        self.say("console.services.restart_requested", name=name)

    def show_calls(self) -> None:
        report = self.deps.pbx()
        if not report.answering:
            self.say("console.calls.not_answering", reason=report.reason)
            return
        self.say("console.calls.registrations")
        for reg in report.registrations:
            self.term.line(f"  {reg.name:<16} {reg.status:<13} {reg.server}")
        if not report.registrations:
            self.say("console.calls.no_registrations")
        self.say("console.calls.active", count=len(report.calls))
        for call in report.calls:
            self.term.line(f"  {call.channel:<32} {call.caller:>14} -> {call.connected:<14} "
                           f"{call.application:<10} {call.duration:>8} {call.state}")

    def show_network(self) -> None:
        self.say("console.network.title")
        for iface in self.deps.network.interfaces():
            addresses = " ".join(iface.addresses) or "-"
            self.term.line(f"  {iface.name:<12} {iface.state:<8} {iface.mac:<17}  {addresses}")
        self.say("console.network.gateway", gateway=self.deps.network.default_gateway() or "-")
        lan = self.deps.lan
        if lan.ifname:
            self.say("console.network.lan", port=lan.ifname, config=lan.current().describe())
        else:
            self.say("console.network.no_lan")

    # -- what the technician changes ------------------------------------------
    def set_ip(self) -> None:
        lan = self.deps.lan
        if not lan.ifname:
            self.say("console.network.no_lan")
            return
        self.say("console.network.lan", port=lan.ifname, config=lan.current().describe())
        mode = (self.ask("console.ip.mode") or "").lower()
        if mode == "dhcp":
            config = LanConfig("dhcp")
        elif mode in ("static", ""):
            address = self.ask("console.ip.address") or ""
            gateway = self.ask("console.ip.gateway") or ""
            config = static_config(address, gateway)  # a DomainError is shown by the session
        else:
            self.say("console.ip.bad_mode", mode=mode)
            return
        if (self.ask("console.ip.apply", port=lan.ifname, config=config.describe()) or "").lower() != "yes":
            self.say("console.ip.not_applied")
            return
        deadline = lan.apply(config)
        self.say("console.ip.applied", seconds=f"{lan.confirm_seconds:.0f}")
        try:
            self._await_confirmation(deadline)
        finally:  # Ctrl-C, a hang-up or a bug: the change does not stay unconfirmed
            restored = lan.rollback("not confirmed on the console")
            if restored is not None:
                self.say("console.ip.rolled_back", port=lan.ifname, config=restored.describe())

    def _await_confirmation(self, deadline: float) -> None:
        lan = self.deps.lan
        while True:
            remaining = deadline - lan.clock()
            if remaining <= 0:
                return
            answer = self.term.readline(self.t("console.ip.confirm_prompt"), timeout=remaining)
            if answer is None:
                return
            if answer.lower() == "confirm":
                lan.confirm()
                self.say("console.ip.kept")
                return
            if answer.lower() in ("undo", "no"):
                return

    def reset_password(self) -> None:
        username = self.ask("console.password.which") or "admin"
        admins = {u["username"] for u in self.deps.users.list() if u["role"] == "admin"}
        if username not in admins:
            self.say("console.password.no_admin", user=username)
            return
        password = self.ask("console.password.new", secret=True)
        if password is None:
            return
        generated = not password
        if generated:
            password = secrets.token_urlsafe(9)
        elif self.ask("console.password.again", secret=True) != password:
            self.say("console.password.mismatch")
            return
        self.deps.users.set_password(username, password, actor=self.user["username"] if self.user else "console")
        logger.warning("console: password of %s reset on %s", username, self.options.device)
        self.say("console.password.changed", user=username)
        self.say("console.password.ended")
        if generated:
            self.say("console.password.generated", password=password)

    def factory_reset(self) -> None:
        self.say("console.factory.warning")
        answer = self.ask("console.factory.confirm", phrase=FACTORY_RESET_PHRASE)
        if answer != FACTORY_RESET_PHRASE:
            self.say("console.factory.refused")
            return
        logger.critical("console: factory reset confirmed on %s", self.options.device)
        self.say(self.deps.factory_reset())

    def rebuild_reports(self) -> None:
        """The report summaries recomputed from the call records (after a restore, a bulk
        import, a changed service level): confirmed, then span by span with progress.  Never
        on a box that is not the active one of a hot-standby pair: its database is a replica."""
        ha = self.deps.ha() or {}
        if ha and ha.get("role") not in ("active", "off"):
            self.say("console.reports.not_active", role=self.t("labels.ha_role." + str(ha.get("role"))))
            return
        self.say("console.reports.warning")
        if (self.ask("console.reports.confirm") or "").strip().lower() != "yes":
            self.say("console.reports.not_run")
            return
        who = self.user["username"] if self.user else "console"
        logger.warning("console: %s rebuilds the report summaries on %s", who, self.options.device)
        began = time.monotonic()
        try:
            rows = self.deps.rebuild_reports(
                lambda done, total, rows: self.say("console.reports.progress", done=done, total=total, rows=rows))
        except Exception as exc:  # noqa: BLE001 - said on the console, logged; the summaries keep what was done
            logger.exception("console: report summaries not rebuilt")
            self.say("console.reports.failed", detail=str(exc) or type(exc).__name__)
            return
        self.say("console.reports.done", rows=rows, seconds=f"{time.monotonic() - began:.1f}")

    def backup(self) -> None:
        """Make a backup onto a USB stick (or any folder), or restore one from there: the file
        checked and described first, the restore confirmed by typing RESTORE, refused while
        calls are up; then the appliance restarts on the restored data."""
        ha = self.deps.ha() or {}
        if ha and ha.get("role") not in ("active", "off"):
            self.say("console.backup.not_active", role=self.t("labels.ha_role." + str(ha.get("role"))))
            return
        service = self.deps.backups()
        sticks = self.deps.usb_folders()
        self.say("console.backup.sticks", folders=", ".join(sticks) if sticks else self.t("console.backup.no_stick"))
        choice = (self.ask("console.backup.choose") or "").strip().lower()
        who = self.who
        if choice in ("1", "backup"):
            default = sticks[0] if sticks else str(service.local_dir)
            folder = (self.ask("console.backup.folder", default=default) or "").strip() or default
            size = service.layout.media_bytes()
            media = (self.ask("console.backup.media", size=_size(size)) or "").strip().lower() == "yes"
            self.say("console.backup.working")
            run = service.backup_now(who, media=media, folder=Path(folder))
            self.say("console.backup.written", path=run["path"], size=_size(run["size"]))
        elif choice in ("2", "restore"):
            found = sorted((p for s in sticks for p in Path(s).glob("*.tar.gz")), key=lambda p: p.name)
            default = str(found[-1]) if found else ""
            path = (self.ask("console.backup.which", default=default or "-") or "").strip() or default
            if not path:
                return
            self.say("console.backup.checking")
            manifest = service.check_file(Path(path))  # a refusal is said by the session, in our words
            self.say("console.backup.describe", made=manifest.get("created_at"), host=manifest.get("host"),
                     version=manifest.get("appliance_version"), level=manifest.get("migration_level"))
            if (self.ask("console.backup.confirm", phrase=RESTORE_PHRASE) or "").strip() != RESTORE_PHRASE:
                self.say("console.backup.not_restored")
                return
            logger.critical("console: %s restores %s", who, path)
            self.say("console.backup.working")
            service.restore(Path(path), who)
            self.say("console.backup.restored")
            self.say(self.deps.restart_appliance())
        else:
            self.say("console.backup.nothing")

    def upgrade(self) -> None:
        """An upgrade from a USB stick: the ``*.upgrade`` files found there listed (name,
        version from the manifest, size), the chosen one checked and handed to the root helper
        by the web upload's own steps (``Upgrades.receive``: the same checks, the same
        refusals, nothing left of a refused file), its writing to the other slot followed, and
        the restart into it only once ``RESTART`` is typed."""
        service = self.deps.upgrades()
        status = service.status()
        running = status["running"]
        self.say("console.upgrade.running",
                 version=self.t("upgrade.development") if running["version"] == "development" else running["version"],
                 slot=running["slot"] or self.t("upgrade.no_slots"))
        state = status["upgrade"]
        if state["state"] == "writing":
            self._follow_writing(service)
            return
        if state["state"] == "ready":
            self._offer_restart(service, state)
            return
        if state["state"] == "failed":
            self._say_failed(state)
        sticks = self.deps.usb_folders()
        if not sticks:
            self.say("console.upgrade.no_stick")
            return
        found = service.bundles_in(sticks)
        if not found:
            self.say("console.upgrade.none_found", folders=", ".join(sticks))
            return
        for number, bundle in enumerate(found, 1):
            what = (self.t("console.upgrade.version", version=bundle["version"]) if bundle["refused"] is None
                    else self.t(bundle["refused"].msgid, **bundle["refused"].params))
            self.term.line(f"  {number}  {bundle['name']:<36} {_size(bundle['size']):>10}  {what}")
        answer = (self.ask("console.upgrade.choose", n=len(found)) or "").strip()
        if not answer:
            self.say("console.backup.nothing")
            return
        if not answer.isdigit() or not 1 <= int(answer) <= len(found):
            self.say("console.upgrade.no_such", answer=answer)
            return
        chosen = found[int(answer) - 1]
        who = self.who
        self.say("console.upgrade.checking", name=chosen["name"])
        manifest = service.receive_file(chosen["path"], who)  # a refusal is said by the session, in our words
        logger.warning("console: %s handed in the upgrade %s (version %s)", who, chosen["path"], manifest["version"])
        self.say("console.upgrade.handed_in", version=manifest["version"])
        self._follow_writing(service)

    def _follow_writing(self, service) -> None:
        """The root helper writes the other slot (minutes): its progress until it is done,
        then the restart offered.  Enter stops watching; the writing goes on."""
        while True:
            state = service.status()["upgrade"]
            if state["state"] == "ready":
                self._offer_restart(service, state)
                return
            if state["state"] == "failed":
                self._say_failed(state)
                return
            if state["state"] != "writing":
                return
            prompt = self.t("console.upgrade.writing", done=state.get("done", 0) // 2 ** 20,
                            total=state.get("total", 0) // 2 ** 20)
            if self.term.readline(prompt, timeout=UPGRADE_POLL_SECONDS) is not None:
                self.say("console.upgrade.left_writing")
                return

    def _say_failed(self, state: dict) -> None:
        self.term.line(self.t("upgrade.failed") + " " + self.t(state["msgid"], **(state.get("params") or {})))

    def _offer_restart(self, service, state: dict) -> None:
        self.say("console.upgrade.ready", version=state.get("version", "?"), slot=str(state.get("slot", "?")).upper())
        if (self.ask("console.upgrade.confirm", phrase=RESTART_PHRASE) or "").strip() != RESTART_PHRASE:
            self.say("console.upgrade.not_restarted")
            return
        service.restart(self.who)
        self.say("upgrade.restarting")

    def switch_language(self) -> None:
        self.lang = "zh_CN" if self.lang == "en" else "en"
        self.say("console.language_set")
        self.show_menu()
