"""Which telephony cards sit on the PCI bus: a table of known cards and a scan of sysfs.

The IDs come from the tables the DAHDI tools themselves match against
(``dahdi-tools: xpp/perl_modules/Dahdi/Hardware/PCI.pm``, the list behind
``dahdi_hardware`` and ``dahdi_genconf``), OpenVox's copy of that file in
``openvox-company/dahdi-linux-complete-3.0.0-3.0.0`` for the OpenVox D/A series, the
``pci_device_id`` table of ``drivers/dahdi/opvxa1200/base.c`` and the firmware list of
``drivers/dahdi/firmware/Makefile``.  ``docs/hardware.md`` lists them.

Matching follows ``PCI.pm``: the most specific entry wins (vendor:device with
subsystem vendor and device, then with subsystem vendor only, then vendor:device).  It
matters: Digium's older cards all share the Tiger Jet ``e159:0001`` chip and differ only
in the subsystem vendor (a TDM400P, an X100P, a TE110P and an OpenVox A1200P look
alike without it).

``classify`` is pure.  ``scan`` reads ``<root>/sys/bus/pci/devices/*``; a device whose
ID files cannot be read or parsed is reported in ``PciScan.unreadable`` instead of
raising, and is never a card.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DIGITAL = "E1/T1 digital"
ANALOG = "analog FXS/FXO"

DIGIUM = 0xD161
TIGERJET = 0xE159  # the PCI bridge of Digium's first-generation cards and their clones
OPENVOX = 0x1B74
SANGOMA = 0x1923
XILINX = 0x10EE  # Digium's first-generation TE410P was a Xilinx part


@dataclass(frozen=True)
class CardModel:
    """One entry of the table: how a card identifies itself and what it offers.

    ``spans`` is the number of E1/T1 ports of a digital card (0 for analog cards);
    ``ports`` the number of analog module sockets (0 for digital cards).  A card
    sold in a smaller variant under the same ID (a TE235 is a TE435 with two spans)
    has the larger number: the spans DAHDI registers are what count.  ``firmware``
    names the file the driver must load before it registers any span; without it the
    card is seen on the bus and does nothing.
    """

    vendor: int
    device: int
    name: str
    driver: str
    family: str
    spans: int = 0
    ports: int = 0
    subvendor: int | None = None
    subdevice: int | None = None
    firmware: str | None = None

    @property
    def pci_id(self) -> str:
        key = f"{self.vendor:04x}:{self.device:04x}"
        if self.subvendor is not None:
            key += f"/{self.subvendor:04x}"
            if self.subdevice is not None:
                key += f":{self.subdevice:04x}"
        return key


def _digital(device, name, driver, spans, *, vendor=DIGIUM, subvendor=None, firmware=None):
    return CardModel(vendor, device, name, driver, DIGITAL, spans=spans, subvendor=subvendor, firmware=firmware)


def _analog(device, name, driver, ports, *, vendor=DIGIUM, subvendor=None, subdevice=None, firmware=None):
    return CardModel(vendor, device, name, driver, ANALOG, ports=ports, subvendor=subvendor,
                     subdevice=subdevice, firmware=firmware)


KNOWN_CARDS: tuple[CardModel, ...] = (
    # wct4xxp (Digium TE2xx/TE4xx/TE8xx)
    _digital(0x0314, "Wildcard TE410P/TE405P (1st Gen)", "wct4xxp", 4, vendor=XILINX),
    _digital(0x1420, "Wildcard TE420 (5th Gen)", "wct4xxp", 4),
    _digital(0x1410, "Wildcard TE410P (5th Gen)", "wct4xxp", 4),
    _digital(0x1405, "Wildcard TE405P (5th Gen)", "wct4xxp", 4),
    _digital(0x0420, "Wildcard TE420 (4th Gen)", "wct4xxp", 4, subvendor=0x0004),
    _digital(0x0410, "Wildcard TE410P (4th Gen)", "wct4xxp", 4, subvendor=0x0004),
    _digital(0x0405, "Wildcard TE405P (4th Gen)", "wct4xxp", 4, subvendor=0x0004),
    _digital(0x0410, "Wildcard TE410P (3rd Gen)", "wct4xxp", 4, subvendor=0x0003),
    _digital(0x0405, "Wildcard TE405P (3rd Gen)", "wct4xxp", 4, subvendor=0x0003),
    _digital(0x0410, "Wildcard TE410P (2nd Gen)", "wct4xxp", 4),
    _digital(0x0405, "Wildcard TE405P (2nd Gen)", "wct4xxp", 4),
    _digital(0x1220, "Wildcard TE220 (5th Gen)", "wct4xxp", 2),
    _digital(0x1205, "Wildcard TE205P (5th Gen)", "wct4xxp", 2),
    _digital(0x1210, "Wildcard TE210P (5th Gen)", "wct4xxp", 2),
    _digital(0x0220, "Wildcard TE220 (4th Gen)", "wct4xxp", 2, subvendor=0x0004),
    _digital(0x0205, "Wildcard TE205P (4th Gen)", "wct4xxp", 2, subvendor=0x0004),
    _digital(0x0210, "Wildcard TE210P (4th Gen)", "wct4xxp", 2, subvendor=0x0004),
    _digital(0x0205, "Wildcard TE205P (3rd Gen)", "wct4xxp", 2, subvendor=0x0003),
    _digital(0x0210, "Wildcard TE210P (3rd Gen)", "wct4xxp", 2, subvendor=0x0003),
    _digital(0x0205, "Wildcard TE205P", "wct4xxp", 2),
    _digital(0x0210, "Wildcard TE210P", "wct4xxp", 2),
    _digital(0x1820, "Wildcard TE820 (5th Gen)", "wct4xxp", 8, firmware="dahdi-fw-te820.bin"),
    # wcte12xp, wcte13xp, wcte43x (Digium single/dual/quad span, newer generations)
    _digital(0x0120, "Wildcard TE12xP", "wcte12xp", 1),
    _digital(0x8000, "Wildcard TE121", "wcte12xp", 1),
    _digital(0x8001, "Wildcard TE122", "wcte12xp", 1),
    _digital(0x800A, "Wildcard TE131/TE133", "wcte13xp", 1, firmware="dahdi-fw-te133.bin"),
    _digital(0x800B, "Wildcard TE132/TE134", "wcte13xp", 1, firmware="dahdi-fw-te134.bin"),
    _digital(0x800E, "Wildcard TE435/TE235", "wcte43x", 4, firmware="dahdi-fw-te435.bin"),
    _digital(0x8013, "Wildcard TE436/TE236", "wcte43x", 4, firmware="dahdi-fw-te436.bin"),
    # First-generation single-span cards on the Tiger Jet bridge
    _digital(0x0001, "Wildcard TE110P", "wcte11xp", 1, vendor=TIGERJET, subvendor=0x71FE),
    _digital(0x0001, "Wildcard TE110P", "wcte11xp", 1, vendor=TIGERJET, subvendor=0x79FE),
    _digital(0x0001, "Wildcard TE110P", "wcte11xp", 1, vendor=TIGERJET, subvendor=0x795E),
    _digital(0x0001, "Wildcard TE110P", "wcte11xp", 1, vendor=TIGERJET, subvendor=0x79DE),
    _digital(0x0001, "Wildcard TE110P", "wcte11xp", 1, vendor=TIGERJET, subvendor=0x797E),
    _digital(0x0001, "Wildcard T100P/E100P", "wct1xxp", 1, vendor=TIGERJET, subvendor=0x6159),
    # OpenVox D series (wct4xxp-compatible) and D115/D130 (opvxd115)
    _digital(0xD430, "OpenVox D430E", "wct4xxp", 4, vendor=OPENVOX),
    _digital(0x1420, "OpenVox D420P", "wct4xxp", 4, vendor=OPENVOX),
    _digital(0xD410, "OpenVox D410E", "wct4xxp", 4, vendor=OPENVOX),
    _digital(0xD230, "OpenVox D230E", "wct4xxp", 2, vendor=OPENVOX),
    _digital(0xD210, "OpenVox D210E", "wct4xxp", 2, vendor=OPENVOX),
    _digital(0x0115, "OpenVox D115P/D115E", "opvxd115", 1, vendor=OPENVOX),
    _digital(0xD130, "OpenVox D130P/D130E", "opvxd115", 1, vendor=OPENVOX),
    # Sangoma AFT cards: driven by Sangoma's wanpipe, which registers DAHDI spans
    _digital(0x0100, "Sangoma A104d", "wanpipe", 4, vendor=SANGOMA),
    _digital(0x0300, "Sangoma A101", "wanpipe", 1, vendor=SANGOMA),
    _digital(0x0400, "Sangoma A104u", "wanpipe", 4, vendor=SANGOMA),
    _analog(0x0040, "Sangoma A200 (Remora)", "wanpipe", 24, vendor=SANGOMA),
    # wctdm24xxp (Digium TDM/AEX and Hx8)
    _analog(0x2400, "Wildcard TDM2400P", "wctdm24xxp", 24),
    _analog(0x0800, "Wildcard TDM800P", "wctdm24xxp", 8),
    _analog(0x8002, "Wildcard AEX800", "wctdm24xxp", 8),
    _analog(0x8003, "Wildcard AEX2400", "wctdm24xxp", 24),
    _analog(0x8005, "Wildcard TDM410P", "wctdm24xxp", 4),
    _analog(0x8006, "Wildcard AEX410P", "wctdm24xxp", 4),
    _analog(0x8007, "Wildcard HA8", "wctdm24xxp", 8, firmware="dahdi-fw-hx8.bin"),
    _analog(0x8008, "Wildcard HB8", "wctdm24xxp", 8, firmware="dahdi-fw-hx8.bin"),
    # wcaxx (Digium A4A/A4B/A8A/A8B)
    _analog(0x800C, "Digium A8A", "wcaxx", 8, firmware="dahdi-fw-a8a.bin"),
    _analog(0x800D, "Digium A8B", "wcaxx", 8, firmware="dahdi-fw-a8b.bin"),
    _analog(0x800F, "Digium A4A", "wcaxx", 4, firmware="dahdi-fw-a4a.bin"),
    _analog(0x8010, "Digium A4B", "wcaxx", 4, firmware="dahdi-fw-a4b.bin"),
    # wctdm (TDM400P and OpenVox A400P), wcfxo (X100P), on the Tiger Jet bridge
    *(_analog(0x0001, "Wildcard TDM400P", "wctdm", 4, vendor=TIGERJET, subvendor=sub)
      for sub in (0xA159, 0xE159, 0xB100, 0xB1D9, 0xB118, 0xB119, 0xA9FD, 0xA8FD, 0xA800, 0xA801, 0xA908,
                  0xA901)),
    *(_analog(0x0001, "Wildcard X101P", "wcfxo", 1, vendor=TIGERJET, subvendor=sub)
      for sub in (0x8084, 0x8085, 0x8086, 0x8087)),
    _analog(0x5608, "Wildcard X100P", "wcfxo", 1, vendor=0x1057),
    # OpenVox analog: A1200P/A800P (opvxa1200), A810/A1610/A2410 (opvxa24xx)
    *(_analog(0x0001, "OpenVox A1200P/A1200E", "opvxa1200", 12, vendor=TIGERJET, subvendor=sub)
      for sub in (0x9100, 0x9519, 0x95D9, 0x9500, 0x9532, 0x8519, 0x9559, 0x9599)),
    _analog(0x0001, "OpenVox A800P", "opvxa1200", 8, vendor=TIGERJET, subvendor=0x9500, subdevice=0x0003),
    _analog(0x2410, "OpenVox A2410P", "opvxa24xx", 24, vendor=OPENVOX),
    _analog(0x1610, "OpenVox A1610P", "opvxa24xx", 16, vendor=OPENVOX),
    _analog(0x0810, "OpenVox A810P", "opvxa24xx", 8, vendor=OPENVOX),
)


@dataclass(frozen=True)
class PciDevice:
    """What sysfs says about one PCI function; ``driver`` is the bound kernel driver."""

    slot: str
    vendor: int
    device: int
    subvendor: int
    subdevice: int
    driver: str | None = None


@dataclass(frozen=True)
class DetectedCard:
    device: PciDevice
    model: CardModel

    @property
    def driver_bound(self) -> bool:
        return self.device.driver is not None


@dataclass(frozen=True)
class PciScan:
    cards: tuple[DetectedCard, ...]
    unreadable: tuple[tuple[str, str], ...] = ()  # (path, why)


def _specificity(model: CardModel) -> int:
    return (model.subvendor is not None) + (model.subdevice is not None)


def classify(device: PciDevice, table: tuple[CardModel, ...] = KNOWN_CARDS) -> CardModel | None:
    """The most specific table entry that matches ``device``, or None for anything else."""
    candidates = [
        m for m in table
        if m.vendor == device.vendor and m.device == device.device
        and m.subvendor in (None, device.subvendor) and m.subdevice in (None, device.subdevice)
    ]
    return max(candidates, key=_specificity, default=None)


def parse_id(text: str) -> int:
    """``0xd161\\n`` (as sysfs writes it) -> 0xd161; ValueError for anything else."""
    value = int(text.strip(), 16)
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{text.strip()!r} is not a 16-bit PCI ID")
    return value


def _read_device(path: Path) -> PciDevice:
    ids = [parse_id((path / name).read_text()) for name in ("vendor", "device", "subsystem_vendor",
                                                            "subsystem_device")]
    driver_link = path / "driver"
    driver = os.path.basename(os.readlink(driver_link)) if driver_link.is_symlink() else None
    return PciDevice(path.name, *ids, driver=driver)


def scan(root: str | os.PathLike = "/", table: tuple[CardModel, ...] = KNOWN_CARDS) -> PciScan:
    """Known telephony cards under ``<root>/sys/bus/pci/devices``; no card -> no entries."""
    base = Path(root, "sys/bus/pci/devices")
    cards: list[DetectedCard] = []
    unreadable: list[tuple[str, str]] = []
    for path in sorted(base.iterdir()) if base.is_dir() else ():
        try:
            device = _read_device(path)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            unreadable.append((str(path), str(exc) or type(exc).__name__))
            continue
        model = classify(device, table)
        if model is not None:
            cards.append(DetectedCard(device, model))
    return PciScan(tuple(cards), tuple(unreadable))
