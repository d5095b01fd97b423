"""``make bench-image``: how long the image takes to build, and how long it takes under
qemu (software emulation, no KVM) from power-on to "calls accepted": Asterisk fully
booted with the appliance's AMI session connected, and the web UI answering
``/api/health`` on the guest's address.  Figures to ``bench/results/<date>-image.json``.

Not part of ``make bench``: a build and a boot take minutes (the figures say how many).
The results file says whether the base was built (``image-from-scratch``) or reused
(``image-cached-base``); ``--no-build`` only boots the image already there
(``image-boot``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench.common import figure, write_results
from image_build import image, qemu

REPO = Path(__file__).resolve().parent.parent


# Two virtual CPUs, as every boot figure before 7 December was measured (the tests use one:
# image_build/qemu.py TEST_CPUS says why); a guest panic costs a boot, not a figure.
BOOT_CPUS = 2


def calls_accepted(status: int, data: dict) -> bool:
    components = data.get("components", {})
    return status == 200 and components.get("ami", {}).get("up") and components.get("asterisk", {}).get("up")


def boot_figures(disk: Path, firmware: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        with qemu.boot(disk, REPO / "tests" / "artifacts" / "boot" / f"bench-serial-{firmware}.log",
                       firmware=firmware, workdir=Path(tmp), cpus=BOOT_CPUS) as vm:
            vm.wait_http_json("/api/health", 600, accept=calls_accepted, https=True)
            accepted = vm.elapsed  # polled every 2 s: up to 2 s late
            vm.expect(r"login: ", 300)
            console = vm.seen_at(r"login: ")
            user_space = vm.seen_at(qemu.USERSPACE)
    note = f"{qemu.cpu_note()}, {BOOT_CPUS} vCPUs"
    return [figure(f"boot to calls accepted ({firmware})", accepted, "s", note=note + "; polled every 2 s"),
            figure(f"boot to the console's sign-in prompt ({firmware})", console, "s", note=note),
            figure(f"boot to systemd started ({firmware})", user_space, "s", note=note)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=str(REPO / "build"), type=Path)
    parser.add_argument("--no-build", action="store_true", help="boot the image already built")
    parser.add_argument("--firmware", default="bios", choices=("bios", "uefi"))
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
    figures += boot_figures(ctx.disk, args.firmware)
    path = write_results(name, figures)
    print(path)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
