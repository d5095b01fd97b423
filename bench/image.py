"""``make bench-image``: how long the image takes to build, and how long it takes under
qemu (software emulation, no KVM) from power-on to "calls accepted": Asterisk fully
booted with the appliance's AMI session connected, and the web UI answering
``/api/health`` on the guest's address.  Figures to ``bench/results/<date>-image.json``.

Not part of ``make bench``: a build and a boot take minutes (the figures say how many).
The results file says whether the base was built (``image-from-scratch``) or reused
(``image-cached-base``); ``--no-build`` only boots the image already there
(``image-boot``).

``--against DISK`` boots another image (the unchanged one) in turn with this one (or
``--together``, both at once), ``--rounds`` times each, and gives this image's figures as a
ratio to the other's: the build machine is shared, and only boots that met the same machine
compare.  ``--phases``
gives the guest a root shell (``image_build.qemu.TestShell``, on a second serial port) and
reads, once calls are accepted, where the boot went: the guest's systemd and journal
timestamps, phase by phase (``timeline``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import figure, write_results
from image_build import image, qemu

logger = logging.getLogger("bench.image")
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts" / "boot"


# Two virtual CPUs, as every boot figure before 7 December was measured (the tests use one:
# image_build/qemu.py TEST_CPUS says why); a guest panic costs a boot, not a figure.
BOOT_CPUS = 2


def calls_accepted(status: int, data: dict) -> bool:
    components = data.get("components", {})
    return status == 200 and components.get("ami", {}).get("up") and components.get("asterisk", {}).get("up")


# -- where a boot went: the guest's own clock (seconds since the kernel started) ----------

# systemd's manager timestamps (``systemctl show``): the initrd's systemd started, the
# root's systemd started (switch-root done), its units loaded
MANAGER_TIMESTAMPS = ("InitRDTimestampMonotonic", "UserspaceTimestampMonotonic", "UnitsLoadFinishTimestampMonotonic")
# (unit, property): when a unit started (InactiveExit) or was up (ActiveEnter)
UNIT_TIMESTAMPS = (
    ("local-fs.target", "ActiveEnterTimestampMonotonic"),
    ("sysinit.target", "ActiveEnterTimestampMonotonic"),
    ("basic.target", "ActiveEnterTimestampMonotonic"),
    ("appliance-firstboot.service", "InactiveExitTimestampMonotonic"),
    ("appliance-firstboot.service", "ActiveEnterTimestampMonotonic"),
    ("appliance.service", "InactiveExitTimestampMonotonic"),
    ("serial-getty@ttyS0.service", "ActiveEnterTimestampMonotonic"),
)
# lines of the boot's journal (``journalctl -o short-monotonic``), the first that matches
JOURNAL_MARKS = (
    ("initrd root device", r"Reached target .*[Ii]nitrd [Rr]oot [Dd]evice"),
    ("switch root", r"Switching root"),
    ("asterisk up", r"appliance\.main: Asterisk is up"),
    ("ami connected", r"AMI connected to"),
    ("web listening", r"appliance\.main: web UI on"),
)


def parse_show(text: str) -> dict[str, float]:
    """``systemctl show -p A -p B``'s ``A=123`` lines (microseconds) as seconds; 0 is "never"."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and value.isdigit() and int(value):
            found[key] = int(value) / 1e6
    return found


def parse_journal_marks(text: str, marks=JOURNAL_MARKS) -> dict[str, float]:
    """The first ``[  12.345678] ...`` line of ``journalctl -o short-monotonic`` that each
    mark's pattern matches, as seconds."""
    found = {}
    lines = [(float(m.group(1)), m.group(2)) for m in re.finditer(r"(?m)^\[\s*(\d+\.\d+)\]\s*(.*)$", text)]
    for name, pattern in marks:
        regex = re.compile(pattern)
        hit = next((t for t, rest in lines if regex.search(rest)), None)
        if hit is not None:
            found[name] = hit
    return found


def timeline(shell: qemu.TestShell, vm: qemu.VM, accepted: float) -> dict:
    """Where the boot went, read in the booted guest: each moment in seconds since the
    kernel started (the guest's monotonic clock), the firmware and boot loader's time as the
    host's seconds from power-on to the kernel's start, and the critical chain and blame as
    systemd tells them (text)."""
    before = vm.elapsed
    _, uptime = shell.run("cat /proc/uptime")
    after = vm.elapsed
    kernel_at = (before + after) / 2 - float(uptime.split()[0])  # host seconds at the kernel's start
    _, manager = shell.run("systemctl show " + " ".join(f"-p {p}" for p in MANAGER_TIMESTAMPS))
    moments = {"kernel": 0.0}
    shown = parse_show(manager)
    for prop, name in zip(MANAGER_TIMESTAMPS, ("initrd systemd", "root systemd", "units loaded")):
        if prop in shown:
            moments[name] = shown[prop]
    for unit, prop in UNIT_TIMESTAMPS:
        _, out = shell.run(f"systemctl show -p {prop} {unit}")
        value = parse_show(out).get(prop)
        if value is not None:
            moments[f"{unit} {'started' if prop.startswith('Inactive') else 'up'}"] = value
    _, journal = shell.run("journalctl -b -o short-monotonic --no-pager", timeout=120)
    moments.update(parse_journal_marks(journal))
    moments["calls accepted (polled)"] = accepted - kernel_at
    _, chain = shell.run("systemd-analyze critical-chain appliance.service --no-pager", check=False)
    _, blame = shell.run("systemd-analyze blame --no-pager | head -n 25", check=False)
    _, sizes = shell.run("ls -l /efi/slot-a 2>/dev/null; cat /proc/cmdline", check=False)
    return {"firmware and boot loader (host)": round(kernel_at, 2),
            "moments": {k: round(v, 2) for k, v in sorted(moments.items(), key=lambda kv: kv[1])},
            "critical_chain": chain.strip(), "blame": blame.strip(), "journal": journal, "esp": sizes.strip()}


# -- boots ----------------------------------------------------------------------------------

def load() -> list[float]:
    return [round(x, 1) for x in os.getloadavg()]


def boot_once(disk: Path, firmware: str, label: str, phases: bool = False) -> dict:
    """One first boot of ``disk``: seconds from power-on to calls accepted, to the console's
    sign-in prompt and to systemd, with the load average before and after (and the guest's
    timeline with ``phases``)."""
    result = {"image": str(disk), "label": label, "started": time.strftime("%H:%M:%S"), "load_before": load()}
    with tempfile.TemporaryDirectory() as tmp:
        shell = qemu.TestShell(Path(tmp) / "shell.sock", ARTIFACTS / f"bench-shell-{label}.log") if phases else None
        with qemu.boot(disk, ARTIFACTS / f"bench-serial-{firmware}-{label}.log", firmware=firmware,
                       workdir=Path(tmp), cpus=BOOT_CPUS, extra=shell.qemu_args() if shell else ()) as vm:
            vm.wait_http_json("/api/health", 600, accept=calls_accepted, https=True)
            result["accepted"] = vm.elapsed  # polled every 2 s: up to 2 s late
            vm.expect(r"login: ", 300)
            result["console"] = vm.seen_at(r"login: ")
            result["user_space"] = vm.seen_at(qemu.USERSPACE)
            if shell is not None:
                shell.connect(timeout=300)
                try:
                    result["timeline"] = timeline(shell, vm, result["accepted"])
                finally:
                    shell.close()
    result["load_after"] = load()
    if "timeline" in result:
        (ARTIFACTS / f"bench-journal-{label}.log").write_text(result["timeline"].pop("journal"))
    return result


def boot_figures(run: dict, firmware: str) -> list[dict]:
    """One boot's figures (``boot_once``), its timeline beside the first when read."""
    note = f"{qemu.cpu_note()}, {BOOT_CPUS} vCPUs"
    extra = {"load_before": run["load_before"], "load_after": run["load_after"]}
    timeline = {"timeline": run["timeline"]} if "timeline" in run else {}
    return [figure(f"boot to calls accepted ({firmware})", run["accepted"], "s", note=note + "; polled every 2 s",
                   **extra, **timeline),
            figure(f"boot to the console's sign-in prompt ({firmware})", run["console"], "s", note=note, **extra),
            figure(f"boot to systemd started ({firmware})", run["user_space"], "s", note=note, **extra)]


def kept_boot(disk: Path, firmware: str, label: str, phases: bool) -> dict:
    """``boot_once``, or ``{"failed": why}`` when the boot did not get there (a guest that never
    reached systemd under load, a panic): one failed boot of several leaves the others' figures."""
    try:
        return boot_once(disk, firmware, label, phases)
    except Exception as exc:  # noqa: BLE001 - any way a boot fails is this round's, not the run's
        return {"failed": f"{type(exc).__name__}: {exc}"}


def compare(disk: Path, against: Path, firmware: str, rounds: int, phases: bool, together: bool,
            prefix: str = "") -> list[dict]:
    """This image and the other booted ``rounds`` times each, one after the other (the other
    first in odd rounds, this one first in even ones) or, ``together``, both at once (then
    both meet the same load, at the price of sharing the cores with each other): this image's
    medians with the other's as the baseline, every boot's figures kept beside."""
    boots: dict[str, list[dict]] = {"this": [], "against": []}
    for n in range(rounds):
        order = (("against", against), ("this", disk)) if n % 2 == 0 else (("this", disk), ("against", against))
        if together:
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                futures = {label: pool.submit(kept_boot, path, firmware, f"{prefix}{label}{n + 1}", phases)
                           for label, path in order}
            runs = [(label, future.result()) for label, future in futures.items()]
        else:
            runs = [(label, kept_boot(path, firmware, f"{prefix}{label}{n + 1}", phases)) for label, path in order]
        for label, run in runs:
            if "failed" in run:
                logger.warning("%s, round %d: the boot failed: %s", label, n + 1, run["failed"])
            else:
                logger.warning("%s, round %d: calls accepted at %.1f s (load %s)", label, n + 1, run["accepted"],
                               run["load_before"])
            boots[label].append(run)
    how = "booted together" if together else "in turn"
    note = f"{qemu.cpu_note()}, {BOOT_CPUS} vCPUs; {rounds} boot(s) of each image {how}, medians"
    figures = []
    for key, name in (("accepted", f"boot to calls accepted ({firmware})"),
                      ("console", f"boot to the console's sign-in prompt ({firmware})"),
                      ("user_space", f"boot to systemd started ({firmware})")):
        mine = [b[key] for b in boots["this"] if b.get(key) is not None]
        theirs = [b[key] for b in boots["against"] if b.get(key) is not None]
        if mine and theirs:
            figures.append(figure(name, statistics.median(mine), "s", baseline=statistics.median(theirs),
                                  note=note, runs=[round(v, 2) for v in mine],
                                  baseline_runs=[round(v, 2) for v in theirs],
                                  failed_boots={label: sum("failed" in b for b in runs) for label, runs in boots.items()}))
    figures.append({"figure": "boots", "image": str(disk), "baseline_image": str(against),
                    "boots": {label: runs for label, runs in boots.items()}})
    return figures



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=str(REPO / "build"), type=Path)
    parser.add_argument("--no-build", action="store_true", help="boot the image already built")
    parser.add_argument("--firmware", default="bios", choices=("bios", "uefi"))
    parser.add_argument("--against", type=Path, help="another image (raw disk) booted in turn with this one")
    parser.add_argument("--rounds", type=int, default=1, help="with --against: boots of each image")
    parser.add_argument("--together", action="store_true", help="with --against: boot both images at once")
    parser.add_argument("--phases", action="store_true", help="read the guest's timeline once calls are accepted")
    parser.add_argument("--name", default="", help="the results file's name (bench/results/<date>-<name>.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx = image.Context(args.build_dir)
    figures = []
    name = "image-boot"
    if not args.no_build:
        cached = (ctx.out / "base" / ctx.key / ".complete").exists()
        name = "image-cached-base" if cached else "image-from-scratch"
        started = time.monotonic()
        image.build_image(ctx)
        steps = dict(ctx.timings)
        figures.append(figure("image build" + (" (base cached)" if cached else " (from scratch)"),
                              time.monotonic() - started, "s", steps=steps))
        figures.append(figure("image raw size", ctx.disk.stat().st_size / 2**20, "MiB",
                              allocated_mib=ctx.disk.stat().st_blocks * 512 // 2**20))
        zst = ctx.disk.with_name(ctx.disk.name + ".zst")
        figures.append(figure("image zstd size", zst.stat().st_size / 2**20, "MiB"))
    if args.against:
        figures += compare(ctx.disk, args.against, args.firmware, args.rounds, args.phases, args.together,
                           prefix=f"{args.name}-" if args.name else "")
    else:
        figures += boot_figures(boot_once(ctx.disk, args.firmware, "image", args.phases), args.firmware)
    path = write_results(args.name or name, figures)
    print(path)
    print(json.dumps([f for f in figures if f.get("figure") != "boots"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
