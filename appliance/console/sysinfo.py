"""The machine's own health, as a technician reads it on the console: CPU, memory,
disks and their SMART verdict, temperatures, uptime.

``collect`` reads it (psutil, and ``smartctl -H`` through the one subprocess chokepoint
when smartctl is installed); it never raises, because the console must show what it can.
What counts as a problem (a nearly full disk, a hot sensor, a failing disk) is decided in
``problems``, which is pure.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from appliance import proc

logger = logging.getLogger(__name__)

DISK_WARN_PERCENT = 90.0
# Filesystems that are not storage the appliance writes to.
PSEUDO_FS = frozenset({"squashfs", "tmpfs", "devtmpfs", "iso9660", "proc", "sysfs", "ramfs"})


@dataclass(frozen=True)
class Disk:
    mountpoint: str
    device: str
    fstype: str
    total: int
    used: int
    percent: float


@dataclass(frozen=True)
class Sensor:
    chip: str
    label: str
    celsius: float
    high: float | None
    critical: float | None


@dataclass(frozen=True)
class Smart:
    device: str
    verdict: str  # passed | failed | unknown
    detail: str


@dataclass(frozen=True)
class SystemHealth:
    cpu_percent: float
    cpu_count: int
    load: tuple[float, float, float]
    memory_total: int
    memory_available: int
    memory_percent: float
    swap_percent: float
    uptime_seconds: float
    disks: tuple[Disk, ...] = ()
    sensors: tuple[Sensor, ...] = ()
    smart: tuple[Smart, ...] = ()
    smartctl: bool = False  # whether smartctl is installed at all
    errors: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return asdict(self)


def _disks() -> list[Disk]:
    disks, seen = [], set()
    for part in psutil.disk_partitions(all=False):
        if part.fstype in PSEUDO_FS or part.device in seen:
            continue
        seen.add(part.device)
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        disks.append(Disk(part.mountpoint, part.device, part.fstype, usage.total, usage.used, usage.percent))
    return disks


def _sensors() -> list[Sensor]:
    reader = getattr(psutil, "sensors_temperatures", None)
    readings = reader() if reader else {}
    return [Sensor(chip, t.label or chip, t.current, t.high, t.critical)
            for chip, temps in sorted(readings.items()) for t in temps]


def block_devices(sys_root: str = "/sys") -> list[str]:
    """Whole physical disks (``/dev/sda``, ``/dev/nvme0n1``): entries of /sys/block with a device."""
    base = Path(sys_root, "block")
    if not base.is_dir():
        return []
    return [f"/dev/{p.name}" for p in sorted(base.iterdir()) if (p / "device").exists()]


def parse_smart(device: str, output: str) -> Smart:
    """``smartctl -H`` output -> a verdict (ATA says PASSED/FAILED!, SCSI and NVMe say OK)."""
    for line in output.splitlines():
        if "self-assessment test result:" in line or "SMART Health Status:" in line:
            result = line.split(":", 1)[1].strip()
            verdict = "passed" if result.upper() in ("PASSED", "OK") else "failed"
            return Smart(device, verdict, result)
    last = next((ln.strip() for ln in reversed(output.splitlines()) if ln.strip()), "no answer")
    return Smart(device, "unknown", last)


def _smart(devices: list[str]) -> list[Smart]:
    results = []
    for device in devices:
        try:
            done = proc.run(["smartctl", "-H", device], what=f"read the SMART status of {device}",
                            capture=True, check=False, timeout=20)
            results.append(parse_smart(device, done.stdout or ""))
        except (OSError, subprocess.TimeoutExpired) as exc:
            results.append(Smart(device, "unknown", str(exc)))
    return results


def collect(*, sys_root: str = "/sys", smartctl: str | None = None) -> SystemHealth:
    """Read the machine's health now.  ``smartctl``: its path, or None to look it up."""
    errors = []

    def attempt(what, read, default):
        try:
            return read()
        except Exception as exc:  # one unreadable part must not hide the rest
            logger.warning("could not read %s: %s", what, exc)
            errors.append(f"{what}: {exc}")
            return default

    smartctl = smartctl if smartctl is not None else shutil.which("smartctl", path=proc.BASE_ENV["PATH"])
    memory = attempt("memory", psutil.virtual_memory, None)
    swap = attempt("swap", psutil.swap_memory, None)
    return SystemHealth(
        cpu_percent=attempt("CPU", lambda: psutil.cpu_percent(interval=0.2), 0.0),
        cpu_count=os.cpu_count() or 1,
        load=attempt("load", os.getloadavg, (0.0, 0.0, 0.0)),
        memory_total=memory.total if memory else 0,
        memory_available=memory.available if memory else 0,
        memory_percent=memory.percent if memory else 0.0,
        swap_percent=swap.percent if swap else 0.0,
        uptime_seconds=attempt("uptime", lambda: time.time() - psutil.boot_time(), 0.0),
        disks=tuple(attempt("disks", _disks, [])),
        sensors=tuple(attempt("temperatures", _sensors, [])),
        smart=tuple(attempt("SMART", lambda: _smart(block_devices(sys_root)), [])) if smartctl else (),
        smartctl=bool(smartctl),
        errors=tuple(errors),
    )


def problems(health: SystemHealth) -> list[tuple[str, str]]:
    """(code, subject) of what needs a technician's eye.  Pure."""
    found = []
    for disk in health.disks:
        if disk.percent >= DISK_WARN_PERCENT:
            found.append(("system.disk_full", disk.mountpoint))
    for sensor in health.sensors:
        limit = sensor.high or sensor.critical
        if limit and sensor.celsius >= limit:
            found.append(("system.too_hot", f"{sensor.chip} {sensor.label}"))
    for smart in health.smart:
        if smart.verdict == "failed":
            found.append(("system.disk_failing", smart.device))
    return found


USB_MOUNT_ROOTS = ("/media/", "/mnt/", "/run/media/")


def usb_folders(mounts: str | None = None) -> list[str]:
    """The mount points of removable disks (a USB stick: ``/dev/sd*`` mounted under /media,
    /mnt or /run/media), from ``/proc/mounts``; ``mounts``: its text, for tests."""
    if mounts is None:
        try:
            with open("/proc/mounts") as f:
                mounts = f.read()
        except OSError:
            return []
    found = []
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        source, point = parts[0], parts[1].replace("\\040", " ")
        if source.startswith("/dev/sd") and point.startswith(USB_MOUNT_ROOTS):
            found.append(point)
    return found
