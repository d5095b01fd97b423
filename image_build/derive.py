"""Another upgrade bundle from one ``make image`` made, without building again: the same
kernel and initrd, the root filesystem with files written into it (``debugfs``, no mount)
and a version of its own.  The upgrade boot test makes its v2 (another version stamp) and
its broken v3 (the appliance's service fails) this way in seconds instead of two builds::

    python -m image_build.derive build/image/callcenter-appliance.upgrade out.upgrade \\
        --version 2.0.0 [--put /etc/some/file=local-file ...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from appliance import slots
from appliance.proc import run
from appliance.tarfiles import SAFE
from image_build.image import make_bundle

MIB = 1024 * 1024


def derive(bundle: Path, out: Path, version: str, files: dict[str, bytes], level: int = 1) -> dict:
    """``out``: ``bundle`` with ``files`` (path in the image -> content) written into its
    root filesystem and ``version`` stamped in it and in the manifest."""
    files = {**files, str(slots.VERSION_FILE): (version + "\n").encode()}
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        work = Path(tmp)
        with tarfile.open(bundle) as tar:
            manifest = slots._manifest(tar.extractfile(slots.MANIFEST).read())
            tar.extractall(work, members=[tar.getmember(n) for n in (slots.KERNEL, slots.INITRD)], **SAFE)
            root = work / "root.img"
            _inflate_sparse(tar.extractfile(slots.ROOT), root)
        commands = []
        for number, (path, content) in enumerate(sorted(files.items())):
            local = work / f"file{number}"
            local.write_bytes(content)
            parent = str(Path(path).parent)
            commands += [f"mkdir {parent}", f"rm {path}", f"write {local} {path}", f"sif {path} mode 0100644"]
        script = work / "debugfs.cmd"
        script.write_text("\n".join(commands) + "\n")
        # debugfs goes on after a failed command (a folder that exists, a file that does not)
        run(["debugfs", "-w", "-f", str(script), str(root)], what="write files into the root filesystem",
            capture=True)
        run(["e2fsck", "-fy", str(root)], what="check the root filesystem", capture=True, check=False)
        return make_bundle(root, work / slots.KERNEL, work / slots.INITRD, out,
                           {**{k: v for k, v in manifest.items() if k not in ("files", "format", "image")},
                            "version": version}, level=level)


def _inflate_sparse(stream, target: Path) -> None:
    """The gzip ``stream`` inflated into ``target``, its zero MiBs left as holes."""
    with open(target, "wb") as f:
        for piece in slots._inflate(iter(lambda: stream.read(MIB), b"")):
            if piece.count(0) == len(piece):
                f.seek(len(piece), 1)
            else:
                f.write(piece)
        f.truncate(f.tell())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--version", required=True)
    parser.add_argument("--put", action="append", default=[], metavar="PATH=LOCAL",
                        help="write the local file LOCAL at PATH in the root filesystem")
    args = parser.parse_args(argv)
    if not shutil.which("debugfs"):
        print("debugfs (e2fsprogs) is needed", file=sys.stderr)
        return 2
    files = {path: Path(local).read_bytes() for path, _, local in (p.partition("=") for p in args.put)}
    print(derive(args.bundle, args.out, args.version, files)["version"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
