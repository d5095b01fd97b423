"""Fetch the front-end libraries of ``packages.json`` from the npm registry into this folder.

    python webui/static/vendor/fetch.py            # every package
    python webui/static/vendor/fetch.py sip.js     # one

Each package is ``npm pack NAME@VERSION`` (the npm client, as set up on the machine), its
tarball checked against the recorded sha256, and only the listed files (``files``: path in
the package -> path under ``dir``) written under ``dir``, the folder emptied first. A
library published only as ES modules (SIP.js: 190 files) is joined into one minified module
by esbuild from the npm registry (``bundle``: ``entry`` in the package, ``out`` under ``dir``,
the ``esbuild`` version; its licence comments kept at the end), so a page loads it in one
request, not 190 through the web UI's few request slots. The LAN has no internet:
the results are committed; this script is how they got there and how to upgrade (change the
version, run, put the new sha256 it prints in packages.json, review the diff).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "packages.json"


def bundle(tar: tarfile.TarFile, spec: dict, tmp: Path, target: Path) -> None:
    """``spec["bundle"]``: the package's ES modules joined into one minified module by esbuild."""
    b = spec["bundle"]
    unpacked = tmp / "unpacked"
    tar.extractall(unpacked, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))  # not in 3.11.2
    subprocess.run(["npm", "exec", "--yes", "--package", f"esbuild@{b['esbuild']}", "--", "esbuild",
                    str(unpacked / "package" / b["entry"]), "--bundle", "--format=esm", "--minify",
                    "--legal-comments=eof", "--target=es2020", f"--outfile={target / b['out']}"],
                   cwd=tmp, check=True)


def fetch(name: str, spec: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["npm", "pack", "--silent", f"{name}@{spec['version']}"], cwd=tmp, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        tgz = Path(tmp) / out
        digest = hashlib.sha256(tgz.read_bytes()).hexdigest()
        if digest != spec["sha256"]:
            sys.exit(f"{name}@{spec['version']}: sha256 {digest}, packages.json says {spec['sha256']}")
        target = HERE / spec["dir"]
        shutil.rmtree(target, ignore_errors=True)
        with tarfile.open(tgz) as tar:
            wanted = {f"package/{src}": dst for src, dst in spec.get("files", {}).items()}
            missing = set(wanted) - set(tar.getnames())
            if missing:
                sys.exit(f"{name}@{spec['version']} has no {', '.join(sorted(missing))}")
            for src, dst in sorted(wanted.items()):
                path = target / dst
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(tar.extractfile(src).read())
            if "bundle" in spec:
                bundle(tar, spec, Path(tmp), target)
        print(f"{name}@{spec['version']} sha256 {digest}: {', '.join(p.name for p in sorted(target.iterdir()))} "
              f"in {target.relative_to(HERE)}/")


def main(argv: list[str]) -> None:
    packages = json.loads(MANIFEST.read_text())
    for name in argv or sorted(packages):
        fetch(name, packages[name])


if __name__ == "__main__":
    main(sys.argv[1:])
