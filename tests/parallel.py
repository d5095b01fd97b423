"""``make test``: the suite in N pytest processes side by side, each taking the next test
file nobody has taken yet, the longest first (``--claims``, tests/conftest.py), then the
tests marked ``alone`` (latency bounds under load they make themselves) with nothing beside
them, then the 15 slowest tests of them all.

Not pytest-xdist: its workers hand commands from a reader thread to the main thread through
``threading`` primitives, which gevent's monkey patching (tests/conftest.py) turns into
gevent's, and the worker stops with ``LoopExit`` (tried with xdist 3.8 / execnet 2.1). Plain
processes need nothing of the kind: each test file already has its own Asterisk (one per test,
or one per module), directories and ports (tests/harness.py gives each process its own block of
ports).

    python tests/parallel.py N [pytest arguments...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    count, args = int(argv[0]), argv[1:]
    marks = "not alone"
    if "-m" in args:  # the caller's selection, and ours
        at = args.index("-m")
        marks = f"({args[at + 1]}) and not alone"
        args = args[:at] + args[at + 2:]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="appliance-test-shards-") as tmp:
        folder = Path(tmp)
        # the processes side by side, taking test files from one queue (tests/conftest.py
        # ``pytest_runtestloop``), then the tests marked ``alone`` with nothing beside them
        claims = folder / "claims"
        claims.mkdir()
        shards = [(f"process {i + 1} of {count}", [f"--claims={claims}", "-m", marks]) for i in range(count)]
        worst = run(folder, shards, args)
        alone = marks.replace("and not alone", "and alone") if "(" in marks else "alone"
        listing = folder / "alone-files"  # written by the processes above (tests/conftest.py)
        if listing.exists() and listing.read_text().strip():
            worst = max(worst, run(folder, [("the tests marked alone", ["-m", alone, f"--only-files={listing}"])], args))
        else:
            print("===== no tests marked alone among those selected =====")
        timings = slowest(folder.glob("run-*.xml"))
        print(f"===== slowest 15 tests (setup + call + teardown), {count} shards =====")
        for seconds, name in timings[:15]:
            print(f"{seconds:8.2f}s  {name}")
        keep_durations(timings)
    print(f"===== {count} shards in {time.monotonic() - started:.0f}s wall clock =====")
    return worst


def run(folder: Path, jobs: list[tuple[str, list[str]]], args: list[str]) -> int:
    """One pytest process per job, side by side; their output once all have ended."""
    running = []
    for name, extra in jobs:
        stem = folder / f"run-{len(list(folder.glob('run-*.log')))}"
        log = open(f"{stem}.log", "wb")
        argv = [sys.executable, "-m", "pytest", "-q", f"--junitxml={stem}.xml", *extra, *args]
        running.append((name, stem, subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT), log))
    worst = 0
    for name, stem, process, log in running:
        rc = process.wait()
        log.close()
        lines = Path(f"{stem}.log").read_text(errors="replace").rstrip().splitlines()
        # a passing run shows its summary; a failing one shows everything it said
        print(f"===== {name} (exit {rc}) =====")
        print("\n".join(lines if rc not in (0, 5) else lines[-3:]))
        worst = max(worst, 0 if rc == 5 else rc)  # 5: nothing collected there
    return worst


def keep_durations(timings: list[tuple[float, str]]) -> None:
    """Each test file's seconds, for the next run's order (tests/conftest.py ``measured_seconds``):
    build/test-durations.json, over the committed tests/durations.json."""
    files: dict[str, float] = {}
    for seconds, name in timings:
        path = name.split("::")[0]
        files[path] = round(files.get(path, 0.0) + seconds, 1)
    if files:
        target = REPO / "build" / "test-durations.json"
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps(dict(sorted(files.items())), indent=1) + "\n")


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
