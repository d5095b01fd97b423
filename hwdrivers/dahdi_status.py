"""DAHDI's view of the spans and channels: parsed from /proc/dahdi and sysfs.

Two sources, because neither has everything:

* ``/proc/dahdi/<span>`` (``dahdi_seq_show`` in ``dahdi-base.c``) is the only place
  with the error counters (BPV, CRC4, E-bit, FAS, IRQ misses, timing slips) and with the
  signalling each channel was configured with.  Its header line is
  ``Span 1: TE4/0/1 "T4XXP (PCI) Card 0 Span 1" (MASTER) HDB3/CCS/CRC4 RED ClockSource``:
  the line coding is printed before the framing (some published captures show
  ``CCS/HDB3``; either order is read),
  alarms are bare words, and a counter line appears only once it is non-zero.
* sysfs (``dahdi-sysfs.c``, newer DAHDI releases) has the span type (E1/T1/FXS/FXO...),
  the alarms as a bit mask (``0x8`` is RED), which PCI device registered which span
  (``/sys/bus/dahdi_devices/devices/pci:<slot>/span-N``), and for each channel the
  signalling it *can* do (``sigcap``): that is how an unconfigured analog port is known
  to be FXS or FXO.

The parsers are pure functions of text.  ``read_status`` is the only I/O; every file it
cannot read or parse becomes a ``ReadError`` in the result, never an exception.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

# include/dahdi/user.h: DAHDI_ALARM_*, and the words fill_alarm_string() prints for them.
ALARM_BITS = ((16, "BLUE"), (4, "YELLOW"), (8, "RED"), (2, "LOOP"), (1, "RECOVERING"), (32, "NOTOPEN"))
ALARM_WORDS = frozenset(word for _, word in ALARM_BITS)

# sigstr() in dahdi-base.c, longest first so that "E&M-E1" is not read as "E&M".
SIGNALLING = ("Hardware-assisted HDLC", "SF (ToneOnly)", "Unconfigured", "DACS+RBS", "HDLCRAW", "HDLCFCS",
              "HDLCNET", "E&M-E1", "FXSLS", "FXSKS", "FXSGS", "FXOLS", "FXOKS", "FXOGS", "Clear", "Slave",
              "MTP2", "DACS", "E&M", "CAS")

COUNTERS = {
    "BPV count": "bpv",
    "CRC4 error count": "crc4",
    "E-bit error count": "ebit",
    "FAS error count": "fas",
    "IRQ misses": "irq_misses",
    "Timing slips": "timing_slips",
}
LINE_CODINGS = ("B8ZS", "AMI", "HDB3")
FRAMINGS = ("ESF", "D4", "CCS", "CAS")
DIGITAL_TYPES = ("E1", "T1", "J1")
DYNAMIC_KINDS = {31: "E1", 24: "T1"}  # channels of a dynamic span -> the line it carries

_HEADER = re.compile(r'^Span (\d+): (\S+) "(.*)"(.*)$')
_CHANNEL = re.compile(r"^\s*(\d+)\s+(\S+)(.*)$")
_COUNTER = re.compile(r"^\s*([A-Za-z0-9 -]+): (\d+)\s*$")
_EC = re.compile(r"\(EC: (.*) - (ACTIVE|INACTIVE)\)")


class SpanFormatError(ValueError):
    """A /proc/dahdi file that is not what dahdi_seq_show writes (truncated, garbled)."""


@dataclass(frozen=True)
class Channel:
    number: int
    name: str
    signalling: str = ""  # as configured by dahdi_cfg; "" when not configured
    in_use: bool = False
    alarms: tuple[str, ...] = ()
    echo_canceller: str = ""
    sigcap: tuple[str, ...] = ()  # what the hardware can do (sysfs), () when unknown

    @property
    def port_type(self) -> str:
        """``fxs`` (a phone plugs in), ``fxo`` (a line plugs in), ``empty``, or ``digital``.

        DAHDI names signalling after the far end: an FXS port is configured with FXO
        signalling (``fxoks``) and an FXO port with FXS signalling.
        """
        if self.signalling.startswith("FXO"):
            return "fxs"
        if self.signalling.startswith("FXS"):
            return "fxo"
        can_fxo = any(s.startswith("FXO") for s in self.sigcap)
        can_fxs = any(s.startswith("FXS") for s in self.sigcap)
        if can_fxo != can_fxs:
            return "fxs" if can_fxo else "fxo"
        return "empty" if can_fxo else "digital"


@dataclass(frozen=True)
class Span:
    number: int
    name: str
    description: str = ""
    spantype: str = ""  # E1, T1, J1, FXS, FXO, ... ("" when only /proc was readable)
    master: bool = False
    clock_source: bool = False
    coding: str = ""  # HDB3, B8ZS, AMI; "" until dahdi_cfg configured the span
    framing: str = ""  # CCS, CAS, ESF, D4
    crc4: bool = False
    alarms: tuple[str, ...] = ()
    counters: dict[str, int] = field(default_factory=dict)
    channels: tuple[Channel, ...] = ()
    basechan: int = 0
    unknown_words: tuple[str, ...] = ()
    from_proc: bool = True  # False: /proc/dahdi/<n> was unreadable, only sysfs is known

    @property
    def dynamic(self) -> bool:
        """A dahdi_dynamic span (no card under it: E1 over Ethernet, or a looped pair)."""
        return self.spantype == "DYNAMIC" or self.name.startswith("DYN/")

    @property
    def kind(self) -> str:
        """E1/T1/J1 for a digital span, ``analog`` for FXS/FXO ports, else ``unknown``.

        A dynamic span has no line settings to tell (its driver takes none): it is an E1
        when it has 31 channels, a T1 with 24."""
        if self.spantype in DIGITAL_TYPES:
            return self.spantype
        if self.dynamic:
            return DYNAMIC_KINDS.get(len(self.channels), "unknown")
        if self.coding == "HDB3" or self.crc4 or (self.framing in ("CCS", "CAS") and self.coding != "B8ZS"):
            return "E1"
        if self.coding == "B8ZS" or self.framing in ("ESF", "D4"):
            return "T1"
        if self.spantype in ("FXS", "FXO", "ANALOG_MIXED") or any(
                c.port_type in ("fxs", "fxo") for c in self.channels):
            return "analog"
        return "unknown"

    @property
    def digital(self) -> bool:
        return self.kind in DIGITAL_TYPES

    @property
    def configured(self) -> bool:
        """Has dahdi_cfg run for this span?  A digital span gets a line coding, an analog
        one signalling on its channels.  Unknown (assumed yes) when /proc was unreadable."""
        if not self.from_proc:
            return True
        if self.dynamic:  # never any line settings: configured means its channels are
            return any(c.signalling for c in self.channels)
        if self.digital:
            return bool(self.coding or self.framing)
        return any(c.signalling and c.signalling != "Unconfigured" for c in self.channels)

    @property
    def ok(self) -> bool:
        return not self.alarms

    @property
    def slips(self) -> int:
        return self.counters.get("timing_slips", 0)

    @property
    def errors(self) -> int:
        return sum(self.counters.get(k, 0) for k in ("bpv", "crc4", "ebit", "fas"))


@dataclass(frozen=True)
class DahdiDevice:
    """A card as registered with DAHDI (/sys/bus/dahdi_devices/devices/<name>)."""

    name: str  # pci:0000:03:00.0
    manufacturer: str = ""
    devicetype: str = ""
    span_count: int | None = None
    spans: tuple[int, ...] = ()

    @property
    def pci_slot(self) -> str | None:
        bus, _, slot = self.name.partition(":")
        return slot if bus == "pci" and slot else None


@dataclass(frozen=True)
class ReadError:
    path: str
    reason: str


@dataclass(frozen=True)
class DahdiStatus:
    loaded: bool  # is the dahdi core module there at all?
    devices: tuple[DahdiDevice, ...] = ()
    spans: tuple[Span, ...] = ()
    errors: tuple[ReadError, ...] = ()


# ---------------------------------------------------------------- pure parsers

def alarms_from_mask(mask: int) -> tuple[str, ...]:
    """The span alarm bit mask of sysfs ``alarms`` -> words, in the order /proc prints them."""
    return tuple(word for bit, word in ALARM_BITS if mask & bit)


def parse_alarm_mask(text: str) -> tuple[str, ...]:
    """``0x8\\n`` -> ("RED",); ValueError when the file is not a number."""
    return alarms_from_mask(int(text.strip(), 0))


def _header_words(rest: str) -> dict:
    found: dict = {"alarms": [], "unknown": []}
    for word in rest.split():
        if word == "(MASTER)":
            found["master"] = True
        elif word == "ClockSource":
            found["clock_source"] = True
        elif word in ALARM_WORDS:
            found["alarms"].append(word)
        elif "/" in word and all(p in LINE_CODINGS + FRAMINGS + ("CRC4",) for p in word.split("/")):
            parts = word.split("/")
            found["coding"] = next((p for p in parts if p in LINE_CODINGS), "")
            found["framing"] = next((p for p in parts if p in FRAMINGS), "")
            found["crc4"] = "CRC4" in parts
        else:
            found["unknown"].append(word)
    return found


def parse_channel_line(line: str) -> Channel:
    """``\\t   1 TE4/0/1/1 Clear (In use) RED (EC: VPMOCT064 - INACTIVE)`` -> Channel."""
    match = _CHANNEL.match(line)
    if not match:
        raise SpanFormatError(f"not a channel line: {line.strip()[:60]!r}")
    number, name, rest = int(match.group(1)), match.group(2), match.group(3).strip()
    signalling = next((s for s in SIGNALLING if rest.startswith(s)), "")
    rest = rest[len(signalling):]
    ec = _EC.search(rest)
    words = _EC.sub("", rest).split()
    return Channel(
        number=number, name=name, signalling="" if signalling == "Unconfigured" else signalling,
        in_use="(In use)" in rest,
        alarms=tuple(w for w in words if w in ALARM_WORDS),
        echo_canceller=ec.group(1) if ec else "",
    )


def parse_proc_span(text: str) -> Span:
    """The text of /proc/dahdi/<n> -> Span; SpanFormatError if it is not that."""
    lines = text.splitlines()
    header = _HEADER.match(lines[0].strip()) if lines else None
    if not header:
        raise SpanFormatError("no 'Span N: NAME \"description\"' header line")
    words = _header_words(header.group(4))
    counters: dict[str, int] = {}
    channels: list[Channel] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        counter = _COUNTER.match(line)
        if counter and counter.group(1).strip() in COUNTERS:
            counters[COUNTERS[counter.group(1).strip()]] = int(counter.group(2))
        else:
            channels.append(parse_channel_line(line))
    return Span(
        number=int(header.group(1)), name=header.group(2), description=header.group(3),
        master=words.get("master", False), clock_source=words.get("clock_source", False),
        coding=words.get("coding", ""), framing=words.get("framing", ""), crc4=words.get("crc4", False),
        alarms=tuple(words["alarms"]), counters=counters, channels=tuple(channels),
        unknown_words=tuple(words["unknown"]),
    )


def merge_sysfs(span: Span, attrs: dict[str, str]) -> Span:
    """Overlay what sysfs knows (type, alarm mask, first channel) on a /proc span.

    The sysfs alarm mask wins over the words in /proc: it is a number, not prose.
    """
    changes: dict = {}
    if attrs.get("spantype"):
        changes["spantype"] = attrs["spantype"].strip()
    if "alarms" in attrs:
        changes["alarms"] = parse_alarm_mask(attrs["alarms"])
    if attrs.get("basechan", "").strip().isdigit():
        changes["basechan"] = int(attrs["basechan"])
    if not span.name and attrs.get("name"):
        changes["name"] = attrs["name"].strip()
    if not span.description and attrs.get("desc"):
        changes["description"] = attrs["desc"].strip()
    if attrs.get("is_sync_master", "").strip() == "1":
        changes["master"] = True
    return replace(span, **changes)


def with_sigcaps(span: Span, sigcaps: dict[int, tuple[str, ...]]) -> Span:
    """Give each channel the signalling capabilities sysfs lists for its number."""
    if not sigcaps:
        return span
    return replace(span, channels=tuple(replace(c, sigcap=sigcaps.get(c.number, c.sigcap))
                                        for c in span.channels))


# ---------------------------------------------------------------- the reading edge

def _read(path: Path) -> str:
    return path.read_text(errors="strict")


def _read_attrs(directory: Path, names: tuple[str, ...]) -> dict[str, str]:
    return {n: _read(directory / n) for n in names if (directory / n).is_file()}


def _numbered(directory: Path, prefix: str = "") -> dict[int, Path]:
    """Entries ``<prefix><number>`` of a directory, by number (others are ignored)."""
    if not directory.is_dir():
        return {}
    found = {}
    for entry in directory.iterdir():
        tail = entry.name[len(prefix):] if entry.name.startswith(prefix) else ""
        if tail.isdigit():
            found[int(tail)] = entry
    return found


SPAN_ATTRS = ("name", "desc", "spantype", "alarms", "basechan", "channels", "is_sync_master", "lineconfig")


def _span_from_sysfs(number: int, attrs: dict[str, str]) -> Span:
    return merge_sysfs(Span(number=number, name="", from_proc=False), attrs)


def _read_span(number: int, proc: Path | None, sysdir: Path | None, errors: list[ReadError]) -> Span | None:
    attrs: dict[str, str] = {}
    if sysdir is not None:
        try:
            attrs = _read_attrs(sysdir, SPAN_ATTRS)
            parse_alarm_mask(attrs.get("alarms", "0"))
        except (OSError, ValueError) as exc:
            errors.append(ReadError(str(sysdir), f"span {number} sysfs attributes unreadable: {exc}"))
            attrs = {}
    span = None
    if proc is not None:
        try:
            span = parse_proc_span(_read(proc))
        except (OSError, ValueError) as exc:
            errors.append(ReadError(str(proc), f"span {number}: {exc}"))
    if span is None:
        return _span_from_sysfs(number, attrs) if attrs else None
    return merge_sysfs(span, attrs)


def _read_sigcaps(root: Path, errors: list[ReadError]) -> dict[int, tuple[str, ...]]:
    base = root / "sys/bus/dahdi_channels/devices"
    sigcaps: dict[int, tuple[str, ...]] = {}
    for chan_dir in sorted(base.iterdir()) if base.is_dir() else ():
        try:
            channo = int(_read(chan_dir / "channo"))
            sigcaps[channo] = tuple(_read(chan_dir / "sigcap").split())
        except (OSError, ValueError) as exc:
            errors.append(ReadError(str(chan_dir), f"channel attributes unreadable: {exc}"))
    return sigcaps


def _read_devices(root: Path, errors: list[ReadError]) -> tuple[DahdiDevice, ...]:
    base = root / "sys/bus/dahdi_devices/devices"
    devices = []
    for path in sorted(base.iterdir()) if base.is_dir() else ():
        try:
            attrs = _read_attrs(path, ("manufacturer", "type", "span_count"))
            count = attrs.get("span_count", "").strip()
            devices.append(DahdiDevice(
                name=path.name, manufacturer=attrs.get("manufacturer", "").strip(),
                devicetype=attrs.get("type", "").strip(),
                span_count=int(count) if count else None,
                spans=tuple(sorted(_numbered(path, "span-"))),
            ))
        except (OSError, ValueError) as exc:
            errors.append(ReadError(str(path), f"DAHDI device attributes unreadable: {exc}"))
            devices.append(DahdiDevice(name=path.name, spans=tuple(sorted(_numbered(path, "span-")))))
    return tuple(devices)


def read_status(root: str | os.PathLike = "/") -> DahdiStatus:
    """Everything DAHDI says under ``root`` (``/`` on the appliance, a fixture tree in tests)."""
    root = Path(root)
    errors: list[ReadError] = []
    proc = _numbered(root / "proc/dahdi")
    sysfs = _numbered(root / "sys/bus/dahdi_spans/devices", "span-")
    loaded = any(p.exists() for p in (root / "proc/dahdi", root / "sys/module/dahdi",
                                      root / "sys/bus/dahdi_spans"))
    sigcaps = _read_sigcaps(root, errors)
    spans = []
    for number in sorted(set(proc) | set(sysfs)):
        span = _read_span(number, proc.get(number), sysfs.get(number), errors)
        if span is not None:
            spans.append(with_sigcaps(span, sigcaps))
    return DahdiStatus(loaded=loaded, devices=_read_devices(root, errors), spans=tuple(spans),
                       errors=tuple(errors))
