"""Layered settings: defaults in code, one shipped file, ``conf.d/`` drop-ins, then
the command line.  One table (``SETTINGS``) drives parsing, validation and the docs
(``python -m appliance.settings`` prints them).  An unknown key is an error that
names the key and the file.

Files are INI with a single ``[appliance]`` section.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    code = "settings.invalid"


@dataclass(frozen=True)
class Setting:
    key: str
    kind: type
    default: object
    doc: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None  # whole numbers: the smallest allowed
    address: bool = False  # an IP address, never a host name (Asterisk would look it up, for AGI on every call)


SETTINGS = (
    Setting("data_dir", Path, REPO_ROOT / "var", "where the database, secrets, Asterisk instance and logs live"),
    Setting("rootfs", str, str(REPO_ROOT / "build" / "rootfs" / "current"),
            "the appliance rootfs to chroot Asterisk into; empty on the appliance itself (Asterisk is native)"),
    Setting("service_user", str, "",
            "the account the appliance runs as (appliance on the image): the first-boot steps, run "
            "as root, hand it the data directory; empty: whoever runs it (make run, the tests)"),
    Setting("asterisk_user", str, "",
            "the account Asterisk runs as (asterisk on the image; its group shares the Asterisk "
            "instance directory with the appliance); empty: the appliance's own"),
    Setting("sip_bind", str, "0.0.0.0", "IP address SIP listens on", address=True),
    Setting("sip_port", int, 5060, "SIP UDP port"),
    Setting("ami_port", int, 5038, "AMI port (always bound to 127.0.0.1)"),
    Setting("agi_host", str, "127.0.0.1", "IP address the FastAGI server listens on (and the dialplan calls)",
            address=True),
    Setting("agi_port", int, 4573, "FastAGI port"),
    Setting("rtp_start", int, 10000, "first RTP port"),
    Setting("rtp_end", int, 20000, "last RTP port"),
    Setting("web_host", str, "127.0.0.1", "IP address the web UI listens on", address=True),
    Setting("web_port", int, 8080, "web UI port (only a redirect to HTTPS when web_https_port is set)"),
    Setting("web_https_port", int, 0,
            "HTTPS port of the web UI (443 on the image), with the self-signed certificate made at "
            "first boot; 0: plain HTTP only"),
    Setting("webrtc_port", int, 0,
            "port of Asterisk's own HTTP server where softphones in the browser register (SIP over WebSocket, "
            "on web_host: wss with the web UI's certificate when web_https_port is set, else ws; 8089 on "
            "the image); 0: no softphones", minimum=0),
    Setting("web_max_connections", int, 1024,
            "web connections held at once (more wait in the kernel's backlog); lowered at start if the "
            "open-files limit cannot hold them beside FastAGI (docs/operations.md, limits of the web UI)",
            minimum=1),
    Setting("web_max_per_source", int, 256,
            "web connections from one address at once; the next are answered 503 and closed", minimum=1),
    Setting("web_header_seconds", int, 10,
            "a web request's line and headers (and a TLS handshake) must arrive within this; an idle kept-alive "
            "connection is closed after it", minimum=1),
    Setting("web_body_idle_seconds", int, 30, "a web request whose body stops arriving for this long is ended (408)",
            minimum=1),
    Setting("web_max_active", int, 4,
            "web requests the app works on at once (the rest wait): keeps the loop's queue short for FastAGI",
            minimum=1),
    Setting("web_queue_seconds", int, 15,
            "a web request waiting longer than this for its turn is answered 503 busy, try again", minimum=1),
    Setting("web_query_threads", int, 2,
            "threads running the web UI's heavy database reads (searches, lists, day figures) off the call loop",
            minimum=1),
    Setting("web_query_queue", int, 32,
            "heavy reads waiting for those threads at most; more are answered 503 busy, try again", minimum=1),
    Setting("agi_pool_size", int, 200, "FastAGI sessions served at once"),
    Setting("log_level", str, "INFO", "DEBUG, INFO, WARNING or ERROR"),
    Setting("timezone", str, "Asia/Shanghai",
            "the call center's local time zone: where 'today' begins on the wallboard (an IANA name)"),
    Setting("calling_window", str, "daily 09:00-20:00",
            "hours outbound calls may be placed, on the office's clock (opening-hours syntax), until an admin "
            "sets them in the web UI; empty: any hour"),
    Setting("serial_device", str, "",
            "the technician's console on this serial port (/dev/ttyS0 on the image); empty: no console"),
    Setting("serial_baud", int, 115200, "speed of the console's serial port"),
    Setting("console_language", str, "en", "language the console starts in", choices=("en", "zh_CN")),
    Setting("console_lockout_seconds", int, 60,
            "how long the console ignores input after 3 wrong passwords (the first lock; each next one twice as long)"),
    Setting("console_idle_seconds", int, 600, "a console session with no input this long is signed out"),
    Setting("lan_interface", str, "",
            "the LAN port the console may readdress (e.g. eth0); empty: the console changes no address"),
    Setting("lan_fallback_address", str, "192.168.1.250/24",
            "added to the LAN port when DHCP gave it no address (shown on the console); empty: none"),
    Setting("lan_fallback_seconds", int, 30, "how long DHCP may take before the fallback address is added"),
    Setting("network_confirm_seconds", int, 60,
            "a LAN address change not confirmed on the console within this time is rolled back"),
    Setting("dahdi_system_conf", str, "",
            "where DAHDI's system.conf is written; empty: <data_dir>/dahdi/ (on the image "
            "/etc/dahdi/system.conf is a link to it)"),
    Setting("dahdi_side", str, "cpe", "ISDN side of the E1/T1 spans: cpe (the carrier is the network) or net",
            choices=("cpe", "net")),
    Setting("dahdi_tone_zone", str, "cn", "DAHDI tone zone (dial, busy and ring tones): a country code"),
    Setting("dahdi_echo_canceller", str, "oslec", "DAHDI echo canceller module (oslec, mg2, hwec, ...)"),
    Setting("dahdi_dynamic_spans", str, "",
            "DAHDI dynamic spans the appliance makes and uses as E1/T1 PRI spans, separated by spaces: "
            "driver,address[,channels[,timing]] (eth,eth1/00:50:c2:65:d4:01,31,1: an E1 over Ethernet; "
            "loc,1:0: one of two spans looped back to back, for tests); empty: none"),
    Setting("hardware_root", Path, Path("/"),
            "where /sys and /proc are read for telephony cards (a fixture tree in tests)"),
    Setting("recording_dir", str, "", "where the MP3s of recorded calls are kept; empty: <data_dir>/recordings"),
    Setting("places_file", str, "",
            "where the table of number places (phonenumbers' place names and operators, in Chinese and English) "
            "is built when the image did not ship one; empty: <data_dir>/cache/number-places.bin"),
    Setting("recording_bitrate_kbps", int, 8, "MP3 bitrate of recordings (8 kbit/s at 8 kHz: 1 KB per second)"),
    Setting("recording_workers", int, 0, "encoder processes; 0: one per core less one, at least one"),
    Setting("recording_reserve_mb", int, 500,
            "new calls are not recorded once free space falls to this (or 2% of the disk, if larger)"),
    Setting("recording_archive_dir", str, "",
            "a second disk or a mounted network share recordings are copied to (checked by SHA-256); empty: none"),
    Setting("recording_housekeeping_minutes", int, 60,
            "every so many minutes: recordings archived, and those past their retention deleted"),
    Setting("backup_schedule", str, "off",
            "a backup (database, settings, secrets, prompts) made by itself: off, daily or weekly, written to "
            "<recording_archive_dir>/backups (or <data_dir>/backups without an archive); the default until an "
            "admin chooses on /admin/backup",
            choices=("off", "daily", "weekly")),
    Setting("backup_keep", int, 7, "backups of the schedule kept; older ones are deleted (the default until an "
            "admin chooses on /admin/backup)", minimum=1),
    Setting("backup_upload_mb", int, 2048,
            "the largest backup file a restore in the web UI accepts (refused before it is read)", minimum=1),
    Setting("fax_attempts", int, 3, "a fax to send is tried this many times (busy, no answer, a failed transmission)"),
    Setting("fax_retry_minutes", int, 5, "minutes between two tries of a fax to send"),
    Setting("fax_renders_at_once", int, 1,
            "uploaded PDFs drawn as fax pages at the same time (each keeps a core busy); others wait their turn"),
    Setting("fax_render_seconds", int, 60,
            "the most processor time drawing one uploaded PDF may take (5 s plus 2 s a page, up to this); "
            "a PDF that needs more is refused"),
    Setting("voice_codes_per_number", int, 5,
            "voice verification codes one number may be called with in an hour (more: 429 with Retry-After)",
            minimum=1),
    Setting("voice_codes_per_sender", int, 100,
            "voice verification codes one API token (or signed-in account) may send in an hour", minimum=1),
    Setting("upload_memory_mb", int, 512,
            "the memory a process reading one uploaded file (a fax PDF, an Excel import) may use"),
    Setting("smtp_host", str, "",
            "mail server received faxes and callers' messages are e-mailed through; empty: no e-mail"),
    Setting("smtp_port", int, 587, "mail server port (587 submission with STARTTLS, 465 TLS, 25 plain)"),
    Setting("smtp_security", str, "starttls", "how the mail server is spoken to", choices=("starttls", "tls", "none")),
    Setting("smtp_user", str, "", "mail server login; empty: none"),
    Setting("smtp_password", str, "", "mail server password"),
    Setting("mail_from", str, "callcenter@localhost", "sender address of the appliance's e-mails"),
    Setting("mail_retry_hours", int, 48, "an e-mail the server does not take is tried again for this long"),
    Setting("caller_language", str, "zh_CN",
            "the language of the appliance's own sentences callers hear (survey, goodbye, messages) until a "
            "voice menu sets its own", choices=("zh_CN", "en")),
    Setting("sip_guard_failures", int, 10,
            "a SIP source with this many failed authentications (wrong password, unknown extension, refused "
            "address) within sip_guard_window_seconds is blocked"),
    Setting("sip_guard_window_seconds", int, 600, "how far back failed SIP authentications are counted"),
    Setting("sip_guard_block_seconds", int, 3600, "how long a blocked SIP source stays blocked"),
    Setting("phone_ntp_server", str, "cn.pool.ntp.org",
            "the time server desk phones that provision themselves are told to use (docs/operations.md)"),
)
_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    rootfs: str
    service_user: str
    asterisk_user: str
    sip_bind: str
    sip_port: int
    ami_port: int
    agi_host: str
    agi_port: int
    rtp_start: int
    rtp_end: int
    web_host: str
    web_port: int
    web_https_port: int
    webrtc_port: int
    web_max_connections: int
    web_max_per_source: int
    web_header_seconds: int
    web_body_idle_seconds: int
    web_max_active: int
    web_queue_seconds: int
    web_query_threads: int
    web_query_queue: int
    agi_pool_size: int
    log_level: str
    timezone: str
    calling_window: str
    serial_device: str
    serial_baud: int
    console_language: str
    console_lockout_seconds: int
    console_idle_seconds: int
    lan_interface: str
    lan_fallback_address: str
    lan_fallback_seconds: int
    network_confirm_seconds: int
    dahdi_system_conf: str
    dahdi_side: str
    dahdi_tone_zone: str
    dahdi_echo_canceller: str
    dahdi_dynamic_spans: str
    hardware_root: Path
    recording_dir: str
    places_file: str
    recording_bitrate_kbps: int
    recording_workers: int
    recording_reserve_mb: int
    recording_archive_dir: str
    recording_housekeeping_minutes: int
    backup_schedule: str
    backup_keep: int
    backup_upload_mb: int
    fax_attempts: int
    fax_retry_minutes: int
    fax_renders_at_once: int
    fax_render_seconds: int
    voice_codes_per_number: int
    voice_codes_per_sender: int
    upload_memory_mb: int
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password: str
    mail_from: str
    mail_retry_hours: int
    caller_language: str
    sip_guard_failures: int
    sip_guard_window_seconds: int
    sip_guard_block_seconds: int
    phone_ntp_server: str

    @property
    def db_path(self) -> Path:
        return self.data_dir / "appliance.db"

    @property
    def asterisk_dir(self) -> Path:
        return self.data_dir / "asterisk"

    @property
    def recordings_path(self) -> Path:
        return Path(self.recording_dir) if self.recording_dir else self.data_dir / "recordings"

    @property
    def places_path(self) -> Path:
        return Path(self.places_file) if self.places_file else self.data_dir / "cache" / "number-places.bin"

    @property
    def secrets_path(self) -> Path:
        return self.data_dir / "secrets.json"

    @property
    def tls_dir(self) -> Path:
        """The web UI's HTTPS certificate and key, made at first boot."""
        return self.data_dir / "tls"

    @property
    def run_dir(self) -> Path:
        """Files that describe the running appliance (the supervisor's status)."""
        return self.data_dir / "run"

    @property
    def mail_dir(self) -> Path:
        """The e-mail outbox (one JSON file per message; ``failed/`` for the undeliverable)."""
        return self.data_dir / "mail"

    @property
    def network_dir(self) -> Path:
        return self.data_dir / "network"

    @property
    def dahdi_dir(self) -> Path:
        """The installer's DAHDI choices (fxs-extensions.json), and system.conf off the image."""
        return self.data_dir / "dahdi"

    @property
    def dahdi_system_conf_path(self) -> Path:
        return Path(self.dahdi_system_conf) if self.dahdi_system_conf else self.dahdi_dir / "system.conf"


assert {f.name for f in fields(Settings)} == set(_BY_KEY), "SETTINGS and Settings disagree"


def _coerce(setting: Setting, raw: object, source: str) -> object:
    if setting.kind is int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{source}: {setting.key} must be a whole number, not {raw!r}") from None
        if setting.minimum is not None and value < setting.minimum:
            raise SettingsError(f"{source}: {setting.key} must be at least {setting.minimum}, not {value}")
        if setting.key.endswith("_port") and not 0 <= value <= 65535:
            raise SettingsError(f"{source}: {setting.key} must be a port number (0-65535), not {value}")
        return value
    if setting.kind is Path:
        return Path(str(raw)).expanduser()
    if setting.choices and str(raw) not in setting.choices:
        raise SettingsError(f"{source}: {setting.key} must be one of {', '.join(setting.choices)}, not {raw!r}")
    if setting.address:
        import ipaddress

        try:
            ipaddress.ip_address(str(raw))
        except ValueError:
            raise SettingsError(f"{source}: {setting.key} must be an IP address such as 127.0.0.1, not {raw!r} "
                                "(a host name would be looked up in DNS)") from None
    if setting.key == "timezone":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(raw))
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"{source}: timezone must be a time zone name such as Asia/Shanghai, "
                                f"not {raw!r}") from None
    if setting.key == "dahdi_dynamic_spans":
        from appliance.confgen.writer import ConfigValueError
        from hwdrivers.dahdi_conf import parse_dynamic_spans

        try:
            parse_dynamic_spans(str(raw))
        except ConfigValueError as exc:
            raise SettingsError(f"{source}: dahdi_dynamic_spans: {exc}") from None
    if setting.key == "calling_window" and str(raw).strip():
        from appliance.engine.schedule import ScheduleError, parse

        try:
            parse(str(raw))
        except ScheduleError as exc:
            raise SettingsError(f"{source}: calling_window must be hours such as 'daily 09:00-20:00' or "
                                f"'mon-fri 09:00-18:00; sat 10:00-12:00': {exc.args[0]}") from None
    return str(raw)


def _read_file(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(), source=str(path))
    except configparser.Error as exc:
        raise SettingsError(f"{path}: {exc}") from None
    unknown_sections = [s for s in parser.sections() if s != "appliance"]
    if unknown_sections:
        raise SettingsError(f"{path}: unknown section [{unknown_sections[0]}] (only [appliance])")
    values = dict(parser["appliance"]) if parser.has_section("appliance") else {}
    for key in values:
        if key not in _BY_KEY:
            raise SettingsError(f"{path}: unknown setting {key!r}")
    return values


def load(config_file: Path | None = None, overrides: dict[str, object] | None = None) -> Settings:
    """Defaults, then ``config_file`` and its ``<file>.d/*.conf``, then ``overrides``."""
    layers: list[tuple[str, dict]] = []
    if config_file is not None:
        config_file = Path(config_file)
        if config_file.exists():
            layers.append((str(config_file), _read_file(config_file)))
        dropins = config_file.with_name(config_file.name + ".d")
        for dropin in sorted(dropins.glob("*.conf")) if dropins.is_dir() else ():
            layers.append((str(dropin), _read_file(dropin)))
    if overrides:
        for key in overrides:
            if key not in _BY_KEY:
                raise SettingsError(f"command line: unknown setting {key!r}")
        layers.append(("command line", {k: v for k, v in overrides.items() if v is not None}))
    values = {s.key: s.default for s in SETTINGS}
    for source, layer in layers:
        for key, raw in layer.items():
            values[key] = _coerce(_BY_KEY[key], raw, source)
    return Settings(**values)


def from_command_line(argv: list[str] | None, description: str) -> Settings:
    """``--config FILE`` and ``--set KEY=VALUE`` (repeatable): the command line of every process."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, default=None, help="settings file (INI, [appliance] section)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one setting")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r}: expected KEY=VALUE")
        overrides[key] = raw
    return load(args.config, overrides)


def command_line(settings: Settings) -> list[str]:
    """``--set`` arguments giving a child process exactly these settings."""
    argv = []
    for s in SETTINGS:
        argv += ["--set", f"{s.key}={getattr(settings, s.key)}"]
    return argv


def describe() -> str:
    return "\n".join(f"{s.key} = {s.default}    ; {s.doc}" + (f" ({', '.join(s.choices)})" if s.choices else "")
                     for s in SETTINGS)


if __name__ == "__main__":
    print("[appliance]")
    print(describe())
