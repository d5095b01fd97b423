"""``make test``: the suite in N pytest processes side by side, one shard each, then the
15 slowest tests of them all.

Not pytest-xdist: its workers hand commands from a reader thread to the main thread through
``threading`` primitives, which gevent's monkey patching (tests/conftest.py) turns into
gevent's, and the worker stops with ``LoopExit`` (tried with xdist 3.8 / execnet 2.1). Plain
processes need nothing of the kind: each test already has its own Asterisk, directories and
ports (tests/harness.py gives each process its own block of ports).

    python tests/parallel.py N [pytest arguments...]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    count, args = int(argv[0]), argv[1:]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="appliance-test-shards-") as tmp:
        folder = Path(tmp)
        shards = []
        for index in range(count):
            log = open(folder / f"shard-{index}.log", "wb")
            argv_i = [sys.executable, "-m", "pytest", "-q", f"--shard={index}/{count}",
                      f"--junitxml={folder / f'shard-{index}.xml'}", *args]
            shards.append((index, subprocess.Popen(argv_i, cwd=REPO, stdout=log, stderr=subprocess.STDOUT), log))
        worst = 0
        for index, process, log in shards:
            rc = process.wait()
            log.close()
            text = (folder / f"shard-{index}.log").read_text(errors="replace")
            lines = text.rstrip().splitlines()
            # a passing shard shows its summary; a failing one shows everything it said
            shown = lines if rc not in (0, 5) else lines[-3:]
            print(f"===== shard {index + 1} of {count} (exit {rc}) =====")
            print("\n".join(shown))
            worst = max(worst, 0 if rc == 5 else rc)  # 5: this shard collected nothing
        print(f"===== slowest 15 tests (setup + call + teardown), {count} shards =====")
        for seconds, name in slowest(folder.glob("shard-*.xml"))[:15]:
            print(f"{seconds:8.2f}s  {name}")
    print(f"===== {count} shards in {time.monotonic() - started:.0f}s wall clock =====")
    return worst


def slowest(reports) -> list[tuple[float, str]]:
    found = []
    for report in reports:
        try:
            root = ET.parse(report).getroot()
        except (ET.ParseError, OSError):
            continue
        for case in root.iter("testcase"):
            name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
            found.append((float(case.get("time") or 0), name))
    return sorted(found, reverse=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
