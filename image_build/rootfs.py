"""Step 1 of every build: the appliance root filesystem.

One way to get Asterisk, for everybody: the firmware image, ``make run`` on a
developer's machine and the test suite all use the directory this step makes.
It is built by mmdebstrap from Debian's archive (``sid``: bookworm has no Asterisk
package, and sid's Asterisk needs sid's libc) into ``build/rootfs/<key>/``, where
``<key>`` is a hash of every input of the build.  A finished build is marked with
``.complete``; an unfinished one is thrown away, never reused.  ``build/rootfs/current``
points at the newest complete one.

Run as a program it prints the path of the rootfs, building it if needed::

    python -m image_build.rootfs [--build-dir build]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import sys
from pathlib import Path

from appliance.proc import run

logger = logging.getLogger(__name__)

SUITE = "sid"
VARIANT = "minbase"

# What the appliance runs.  Changing this list changes the cache key, so the next
# build starts from scratch.
PACKAGES = (
    "asterisk",
    "asterisk-modules",
    "asterisk-core-sounds-en-gsm",
    "asterisk-moh-opsound-gsm",
    # Outbound fax: an uploaded PDF rendered to the TIFF G3 pages SendFAX transmits.
    "ghostscript",
    # Prompts uploaded as MP3 decoded to the PCM we resample and level (lameenc only encodes).
    "mpg123",
    # Hot standby (appliance/ha): keepalived moves the floating address between the two
    # boxes (VRRP); ping is the check both boxes agree on (the gateway answers); rsync
    # (its daemon on the standby, password from the pair's shared secret) carries the
    # database snapshot and the finished recordings, prompts and faxes.  sid's
    # sqlite3-tools 3.53.4-2 has no sqlite3_rsync (docs/architecture.md, "Hot standby").
    "keepalived",
    "iputils-ping",
    "rsync",
)

# The snapshot mirror's Release files carry an old Valid-Until date.
APT_OPTIONS = ('Acquire::Check-Valid-Until "false"',)

# Where a developer's or test's Asterisk instance directory is bind-mounted when the
# rootfs is used as a chroot (see appliance/pbx.py).  Made empty here.
INSTANCE_MOUNTPOINT = "/appliance"

MANIFEST = "usr/share/appliance/packages.txt"

# Bump when the steps below change in a way the inputs above do not show.
RECIPE_VERSION = 1


def cache_key() -> str:
    recipe = {
        "suite": SUITE,
        "variant": VARIANT,
        "packages": sorted(PACKAGES),
        "apt": APT_OPTIONS,
        "mountpoint": INSTANCE_MOUNTPOINT,
        "recipe": RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def mmdebstrap_command(packages, hooks, target: Path, variant: str = VARIANT, options=()) -> list[str]:
    """mmdebstrap of ``SUITE`` with ``packages`` and shell ``hooks`` run on the finished
    tree (``$1`` is its path): the test rootfs here, the image's base in image.py."""
    return ["mmdebstrap", f"--variant={variant}", "--include=" + ",".join(packages), *options,
            *[f"--aptopt={opt}" for opt in APT_OPTIONS], *[f"--customize-hook={hook}" for hook in hooks],
            SUITE, str(target)]


def mmdebstrap_argv(target: Path) -> list[str]:
    return mmdebstrap_command(PACKAGES, (
        f'mkdir -p "$1{INSTANCE_MOUNTPOINT}" "$1/usr/share/appliance"',
        f'chroot "$1" dpkg-query -W > "$1/{MANIFEST}"',
    ), target)


def build_cached(cache: Path, key: str, argv_for, what: str) -> Path:
    """``cache/key``, made by running ``argv_for(partial)`` unless a complete one is
    there.  Marked with ``.complete`` once finished; an unfinished one is thrown away."""
    target = cache / key
    if (target / ".complete").exists():
        logger.debug("%s %s is cached", what, target)
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / (key + ".partial")
    if partial.exists():
        logger.info("removing an unfinished build at %s", partial)
        shutil.rmtree(partial)
    if target.exists():
        shutil.rmtree(target)
    run(argv_for(partial), what=f"build {what} with mmdebstrap")
    (partial / ".complete").write_text(key + "\n")
    os.rename(partial, target)
    return target


def ensure_rootfs(build_dir: Path) -> Path:
    """Return the path of a complete rootfs, building it first if there is none."""
    base = Path(build_dir).resolve() / "rootfs"
    if not (base / cache_key() / ".complete").exists():
        logger.info("building the appliance rootfs (%s, %s) into %s", SUITE, " ".join(PACKAGES), base / cache_key())
    target = build_cached(base, cache_key(), mmdebstrap_argv, "the appliance rootfs")
    current = base / "current"
    tmp_link = base / ".current.tmp"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(target.name)
    os.replace(tmp_link, current)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(ensure_rootfs(args.build_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
