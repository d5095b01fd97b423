"""The rootfs's own programs (rsync, keepalived, ping), run from our process.

On the appliance the rootfs is ``/`` and a program is its path.  On a developer's machine
and in the tests the rootfs is a directory (``image_build.rootfs``): the program is started
through that tree's own dynamic loader with that tree's libraries, so it runs on this
machine's files (the database, the data folder) without a chroot or a mount, exactly the
binary the image carries.
"""

from __future__ import annotations

import os
from pathlib import Path

LOADER = "lib64/ld-linux-x86-64.so.2"
LIBRARY_PATH = ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu")


def program(rootfs: str | os.PathLike | None, path: str) -> list[str]:
    """The argv prefix that starts ``path`` (absolute, as inside the rootfs)."""
    if not rootfs:
        return [path]
    root = Path(rootfs)
    return [str(root / LOADER), "--library-path", ":".join(str(root / p) for p in LIBRARY_PATH),
            str(root / path.lstrip("/"))]
