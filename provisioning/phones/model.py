"""What every vendor's file is made from: one phone as the database describes it
(``PhoneFile``), the models the appliance knows, MAC addresses, and the office's time
zone in the forms phones read (an offset, a POSIX rule)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

# Model code -> (vendor, name people read, programmable keys BLF can use beside the
# phone's own line).  The models the brochures' customers buy.
MODELS: dict[str, tuple[str, str, int]] = {
    "yealink-t31p": ("yealink", "Yealink SIP-T31P", 1),
    "yealink-t33g": ("yealink", "Yealink SIP-T33G", 3),
    "yealink-t43u": ("yealink", "Yealink SIP-T43U", 11),
    "yealink-t46u": ("yealink", "Yealink SIP-T46U", 15),
    "yealink-t54w": ("yealink", "Yealink SIP-T54W", 26),
    "yealink-t57w": ("yealink", "Yealink SIP-T57W", 28),
    "grandstream-gxp1625": ("grandstream", "Grandstream GXP1625", 1),
    "grandstream-gxp2160": ("grandstream", "Grandstream GXP2160", 24),
    "grandstream-gxp2170": ("grandstream", "Grandstream GXP2170", 48),
    "grandstream-grp2612": ("grandstream", "Grandstream GRP2612", 16),
    "grandstream-grp2615": ("grandstream", "Grandstream GRP2615", 40),
    "fanvil-x3u": ("fanvil", "Fanvil X3U", 2),
    "fanvil-x4u": ("fanvil", "Fanvil X4U", 29),
    "fanvil-x5u": ("fanvil", "Fanvil X5U", 29),
    "fanvil-x6u": ("fanvil", "Fanvil X6U", 59),
}
LANGUAGES = ("zh_CN", "en")
TRANSPORTS = ("udp",)  # pjsip.conf's one transport today

_MAC_SEPARATORS = re.compile(r"[\s:.\-]")


def normalise_mac(text: str) -> str:
    """A MAC address in any common spelling (``00:15:65:AA:BB:CC``, ``00-15-65-aa-bb-cc``,
    ``0015.65aa.bbcc``, ``001565aabbcc``) as 12 lower-case hex digits; ValueError if it is
    not one (or is all zeros, all ones, or a multicast address: no phone has those)."""
    digits = _MAC_SEPARATORS.sub("", str(text)).lower()
    if not re.fullmatch(r"[0-9a-f]{12}", digits):
        raise ValueError("not a MAC address")
    if digits in ("000000000000", "ffffffffffff") or int(digits[1], 16) & 1:
        raise ValueError("not a phone's MAC address")
    return digits


_MAC_CFG = re.compile(r"([0-9a-f]{12})\.cfg")


def mac_cfg_of(name: str) -> str | None:
    """The MAC of a ``<mac>.cfg`` name (Yealink's and Fanvil's own files), else None."""
    found = _MAC_CFG.fullmatch(name)
    return found.group(1) if found and found.group(1) != "000000000000" else None


def mac_cfg_name(mac: str) -> str:
    return f"{mac}.cfg"


def vendor_of(model: str) -> str:
    return MODELS[model][0]


def blf_keys(model: str) -> int:
    return MODELS[model][2]


@dataclass(frozen=True)
class Colleague:
    extension: str
    name: str


@dataclass(frozen=True)
class PhoneFile:
    """One phone's file, as the database and the office say (no I/O here)."""

    mac: str
    model: str
    extension: str
    secret: str  # the SIP password: only ever written into the file, never logged
    display_name: str
    server: str  # the address the phone reaches the appliance's SIP at
    sip_port: int = 5060
    transport: str = "udp"
    language: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    ntp_server: str = "cn.pool.ntp.org"
    codecs: tuple[str, ...] = ("alaw", "ulaw")
    colleagues: tuple[Colleague, ...] = ()  # BLF keys, in order

    def blf(self) -> tuple[Colleague, ...]:
        """The colleagues the model has keys for."""
        return self.colleagues[:blf_keys(self.model)]


def utc_offset_minutes(timezone: str, at: dt.datetime | None = None) -> int:
    """The zone's standard offset from UTC in minutes (daylight saving left out) in
    January of ``at``'s year (of this year when None)."""
    zone = ZoneInfo(timezone)
    year = (at or dt.datetime.now(dt.timezone.utc)).year
    winter, summer = (dt.datetime(year, m, 1, tzinfo=zone) for m in (1, 7))
    offsets = [winter.utcoffset() - (winter.dst() or dt.timedelta()),
               summer.utcoffset() - (summer.dst() or dt.timedelta())]
    return int(min(offsets).total_seconds() // 60)


def has_daylight_saving(timezone: str, year: int = 2026) -> bool:
    zone = ZoneInfo(timezone)
    return any(dt.datetime(year, m, 1, tzinfo=zone).dst() for m in range(1, 13))


def posix_rule(timezone: str, zoneinfo_dir: Path = Path("/usr/share/zoneinfo")) -> str:
    """The zone as a POSIX TZ rule (``CST-8``, ``CET-1CEST,M3.5.0,M10.5.0/3``): the footer
    of its TZif file; built from the offset when there is no file (``UTC-8`` style)."""
    try:
        data = (zoneinfo_dir / timezone).read_bytes()
        footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii")
        if data.startswith(b"TZif") and footer and not footer.startswith("TZif"):
            return footer
    except (OSError, UnicodeDecodeError):
        pass
    minutes = -utc_offset_minutes(timezone)
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else ''}{hours}" + (f":{rest:02d}" if rest else "")


def offset_words(minutes: int) -> str:
    """``+8``, ``-3:30``, ``+5:45``: the offset as phones' menus write it."""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}" + (f":{rest:02d}" if rest else "")
