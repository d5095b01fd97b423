"""One hardware status for the supervisor, the web UI and the serial console.

``assess`` is pure: it takes the PCI scan and DAHDI's status and decides what is wrong,
as ``Problem`` values with stable codes (documented in docs/hardware.md, where a
technician finds what each means and what to do).  ``hardware_health(root)`` is the
one call that reads the files and assesses them; it never raises on odd files, because
a status page that crashes on a garbled file hides every other problem with it.

The counters DAHDI keeps (slips, line errors, IRQ misses) only grow until the driver is
reloaded; a non-zero value is reported as it stands.  Telling whether they are growing
now is the caller's job (compare two readings).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from hwdrivers import pci
from hwdrivers.dahdi_status import DahdiStatus, ReadError, Span, read_status

SEVERITIES = ("info", "warning", "critical")

# What an alarm word on a span means for calls, from worst to mildest.
ALARM_SEVERITY = {"RED": "critical", "BLUE": "critical", "YELLOW": "critical", "LOOP": "warning",
                  "RECOVERING": "warning", "NOTOPEN": "warning"}


@dataclass(frozen=True)
class Problem:
    code: str  # stable: dahdi.no_card, dahdi.span_alarm, ... (docs/hardware.md)
    severity: str  # info | warning | critical
    subject: str  # what it is about: "pci 0000:05:0e.0", "span 1", "channel 8", a path
    message: str


@dataclass(frozen=True)
class CardStatus:
    slot: str
    name: str
    family: str
    driver: str
    driver_bound: bool
    firmware: str | None
    firmware_ok: bool | None  # None: the card needs no firmware
    spans: tuple[int, ...]


@dataclass(frozen=True)
class SpanStatus:
    number: int
    name: str
    description: str
    type: str
    alarms: tuple[str, ...]
    ok: bool
    configured: bool
    slips: int
    errors: int
    irq_misses: int


@dataclass(frozen=True)
class PortStatus:
    channel: int
    span: int
    name: str
    type: str  # fxs | fxo | empty
    state: str  # in-use | idle | unconfigured | alarm


@dataclass(frozen=True)
class HardwareHealth:
    cards: tuple[CardStatus, ...]
    spans: tuple[SpanStatus, ...]
    ports: tuple[PortStatus, ...]
    problems: tuple[Problem, ...]

    @property
    def status(self) -> str:
        """``ok``, or the worst severity among the problems."""
        worst = max((SEVERITIES.index(p.severity) for p in self.problems), default=-1)
        return "ok" if worst < 0 else SEVERITIES[worst]

    def as_dict(self) -> dict:
        return {"status": self.status, **asdict(self)}


# ---------------------------------------------------------------- cards

def _card_spans(card: pci.DetectedCard, status: DahdiStatus) -> tuple[int, ...]:
    for device in status.devices:
        if device.pci_slot == card.device.slot:
            return device.spans
    return ()


def _card_problem(card: pci.DetectedCard, spans: tuple[int, ...], loaded_modules: frozenset[str]):
    model, slot = card.model, card.device.slot
    subject = f"pci {slot}"
    if spans:
        return None
    if model.firmware and (card.driver_bound or model.driver in loaded_modules):
        return Problem("dahdi.no_firmware", "critical", subject,
                       f"{model.name}: driver {model.driver} is loaded but the card registered no span; "
                       f"it needs the firmware file {model.firmware}")
    if not card.driver_bound and model.driver not in loaded_modules:
        return Problem("dahdi.driver_not_loaded", "critical", subject,
                       f"{model.name}: kernel module {model.driver} is not loaded")
    return Problem("dahdi.no_spans", "critical", subject,
                   f"{model.name}: driver {model.driver} is loaded but the card registered no span")


def _card_status(card: pci.DetectedCard, spans: tuple[int, ...], problem: Problem | None) -> CardStatus:
    model = card.model
    firmware_ok = None if model.firmware is None else not (problem and problem.code == "dahdi.no_firmware")
    return CardStatus(slot=card.device.slot, name=model.name, family=model.family, driver=model.driver,
                      driver_bound=card.driver_bound, firmware=model.firmware, firmware_ok=firmware_ok,
                      spans=spans)


# ---------------------------------------------------------------- spans and ports

def _span_problems(span: Span) -> list[Problem]:
    subject = f"span {span.number}"
    label = f"span {span.number} ({span.name})"
    problems = []
    if span.alarms:
        severity = max((ALARM_SEVERITY.get(a, "warning") for a in span.alarms), key=SEVERITIES.index)
        problems.append(Problem("dahdi.span_alarm", severity, subject,
                                f"{label} is in alarm: {' '.join(span.alarms)}"))
    if span.digital and not span.configured:
        problems.append(Problem("dahdi.span_unconfigured", "warning", subject,
                                f"{label} has no line settings: dahdi_cfg has not configured it"))
    if span.slips:
        problems.append(Problem("dahdi.slips", "warning", subject,
                                f"{label}: {span.slips} timing slips (clock source mismatch)"))
    if span.errors:
        counts = ", ".join(f"{k} {v}" for k, v in span.counters.items() if k in ("bpv", "crc4", "ebit", "fas") and v)
        problems.append(Problem("dahdi.line_errors", "warning", subject, f"{label}: line errors ({counts})"))
    if span.counters.get("irq_misses"):
        problems.append(Problem("dahdi.irq_misses", "warning", subject,
                                f"{label}: {span.counters['irq_misses']} missed interrupts"))
    return problems


def _span_status(span: Span) -> SpanStatus:
    return SpanStatus(number=span.number, name=span.name, description=span.description, type=span.kind,
                      alarms=span.alarms, ok=span.ok, configured=span.configured, slips=span.slips,
                      errors=span.errors, irq_misses=span.counters.get("irq_misses", 0))


def _ports(span: Span) -> list[PortStatus]:
    """The analog ports of a span; a digital span's timeslots are not ports (a dynamic
    span's channels list both FXS and FXO among their capabilities)."""
    if span.digital:
        return []
    ports = []
    for channel in span.channels:
        kind = channel.port_type
        if kind == "digital":
            continue
        if channel.alarms:
            state = "alarm"
        elif not channel.signalling:
            state = "unconfigured"
        else:
            state = "in-use" if channel.in_use else "idle"
        ports.append(PortStatus(channel=channel.number, span=span.number, name=channel.name, type=kind,
                                state=state))
    return ports


def _port_problem(port: PortStatus) -> Problem | None:
    if port.state != "alarm":
        return None
    what = "no battery on the line (unplugged or cut)" if port.type == "fxo" else "the port reports an alarm"
    return Problem("dahdi.port_alarm", "warning", f"channel {port.channel}",
                   f"{port.type.upper()} port {port.name} (channel {port.channel}): {what}")


# ---------------------------------------------------------------- assessment

def assess(scan: pci.PciScan, status: DahdiStatus, loaded_modules: frozenset[str] = frozenset()) -> HardwareHealth:
    """Decide what is wrong from what was read.  Pure."""
    problems: list[Problem] = []
    cards = []
    for card in scan.cards:
        spans = _card_spans(card, status)
        problem = _card_problem(card, spans, loaded_modules)
        problems += [problem] if problem else []
        cards.append(_card_status(card, spans, problem))
    if not scan.cards and not status.spans:
        problems.append(Problem("dahdi.no_card", "info", "pci",
                                "no telephony card found: calls use SIP only"))
    ports = [port for span in status.spans for port in _ports(span)]
    for span in status.spans:
        problems += _span_problems(span)
    problems += [p for p in map(_port_problem, ports) if p]
    problems += [Problem("dahdi.unreadable", "warning", path, reason)
                 for path, reason in scan.unreadable]
    problems += [Problem("dahdi.unreadable", "warning", e.path, e.reason) for e in status.errors]
    return HardwareHealth(cards=tuple(cards), spans=tuple(map(_span_status, status.spans)),
                          ports=tuple(ports), problems=tuple(problems))


def loaded_modules(root: str | os.PathLike = "/") -> frozenset[str]:
    """Kernel modules present under ``<root>/sys/module``."""
    base = Path(root, "sys/module")
    return frozenset(p.name for p in base.iterdir()) if base.is_dir() else frozenset()


def hardware_health(root: str | os.PathLike = "/") -> HardwareHealth:
    """Read ``root`` (``/`` on the appliance) and assess it; never raises on odd files."""
    try:
        scan = pci.scan(root)
    except OSError as exc:
        scan = pci.PciScan((), ((str(Path(root, "sys/bus/pci/devices")), str(exc)),))
    try:
        status = read_status(root)
    except OSError as exc:
        status = DahdiStatus(loaded=False, errors=(ReadError(str(root), str(exc)),))
    try:
        modules = loaded_modules(root)
    except OSError:
        modules = frozenset()
    return assess(scan, status, modules)
