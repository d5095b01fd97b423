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


SETTINGS = (
    Setting("data_dir", Path, REPO_ROOT / "var", "where the database, secrets, Asterisk instance and logs live"),
    Setting("rootfs", str, str(REPO_ROOT / "build" / "rootfs" / "current"),
            "the appliance rootfs to chroot Asterisk into; empty on the appliance itself (Asterisk is native)"),
    Setting("sip_bind", str, "0.0.0.0", "address SIP listens on"),
    Setting("sip_port", int, 5060, "SIP UDP port"),
    Setting("ami_port", int, 5038, "AMI port (always bound to 127.0.0.1)"),
    Setting("agi_host", str, "127.0.0.1", "address the FastAGI server listens on"),
    Setting("agi_port", int, 4573, "FastAGI port"),
    Setting("rtp_start", int, 10000, "first RTP port"),
    Setting("rtp_end", int, 20000, "last RTP port"),
    Setting("web_host", str, "127.0.0.1", "address the web UI listens on"),
    Setting("web_port", int, 8080, "web UI port"),
    Setting("agi_pool_size", int, 200, "FastAGI sessions served at once"),
    Setting("log_level", str, "INFO", "DEBUG, INFO, WARNING or ERROR"),
    Setting("recording_dir", str, "", "where the MP3s of recorded calls are kept; empty: <data_dir>/recordings"),
    Setting("recording_bitrate_kbps", int, 8, "MP3 bitrate of recordings (8 kbit/s at 8 kHz: 1 KB per second)"),
    Setting("recording_workers", int, 0, "encoder processes; 0: one per core less one, at least one"),
    Setting("recording_reserve_mb", int, 500,
            "new calls are not recorded once free space falls to this (or 2% of the disk, if larger)"),
)
_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    rootfs: str
    sip_bind: str
    sip_port: int
    ami_port: int
    agi_host: str
    agi_port: int
    rtp_start: int
    rtp_end: int
    web_host: str
    web_port: int
    agi_pool_size: int
    log_level: str
    recording_dir: str
    recording_bitrate_kbps: int
    recording_workers: int
    recording_reserve_mb: int

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
    def secrets_path(self) -> Path:
        return self.data_dir / "secrets.json"


assert {f.name for f in fields(Settings)} == set(_BY_KEY), "SETTINGS and Settings disagree"


def _coerce(setting: Setting, raw: object, source: str) -> object:
    if setting.kind is int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{source}: {setting.key} must be a whole number, not {raw!r}") from None
        if setting.key.endswith("_port") and not 0 <= value <= 65535:
            raise SettingsError(f"{source}: {setting.key} must be a port number (0-65535), not {value}")
        return value
    if setting.kind is Path:
        return Path(str(raw)).expanduser()
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


def describe() -> str:
    return "\n".join(f"{s.key} = {s.default}    ; {s.doc}" for s in SETTINGS)


if __name__ == "__main__":
    print("[appliance]")
    print(describe())
