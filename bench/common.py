"""What every benchmark shares: the machine description and the results file."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return {"hostname": platform.node(), "cpu": cpu, "cores": os.cpu_count(),
            "memory_gib": round(mem_kb / 1024 / 1024, 1), "kernel": platform.release(),
            "python": platform.python_version()}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def figure(name: str, value: float, unit: str, baseline: float | None = None, **extra) -> dict:
    item = {"figure": name, "value": round(value, 4), "unit": unit}
    if baseline is not None:
        item["baseline"] = round(baseline, 4)
        item["ratio"] = round(value / baseline, 4) if baseline else None
    item.update(extra)
    return item


def write_results(name: str, figures: list[dict]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    stamp = {"machine": machine(), "date": now.isoformat(timespec="seconds")}
    path = RESULTS / f"{now.date().isoformat()}-{name}.json"
    path.write_text(json.dumps([{**f, **stamp} for f in figures], indent=2, ensure_ascii=False) + "\n")
    return path


def median(values):
    return statistics.median(values) if values else float("nan")


def new_appliance(name: str, **overrides):
    """A fresh appliance (first boot done, not started) in its own temporary folder, with its
    own ports (``overrides``: settings of its own): (app, settings, work folder)."""
    import tempfile

    from appliance.main import Appliance
    from image_build.rootfs import ensure_rootfs
    from integration.conftest import appliance_settings
    from provisioning import firstboot

    repo = Path(__file__).resolve().parent.parent
    rootfs = ensure_rootfs(repo / "build")
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    settings = appliance_settings(work, rootfs, **{"log_level": "WARNING", **overrides})
    firstboot.run(settings)
    return Appliance(settings), settings, work
