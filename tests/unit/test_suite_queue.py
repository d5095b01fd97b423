"""``make test``'s processes side by side (tests/parallel.py) taking test files from one queue
(tests/conftest.py ``--claims``): every test runs once, a file's tests all in one process, the
longest file first, a file of the call tier first while as many other processes as there are
cores compute, and the files with tests marked alone listed for the run after.  Real pytest
processes over a small tree of test files that uses this repository's tests/conftest.py."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import wait_until

CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"
# no plugin but pytest's own: each process starts in a second, not several; the conftest's
# imports (the appliance's) from this checkout
PLAIN = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(CONFTEST.parent.parent)}
# each test appends "<node id> <pid>" to the log named by SUITE_QUEUE_LOG
BODY = """import os

import pytest


def _note(name):
    with open(os.environ["SUITE_QUEUE_LOG"], "a") as log:
        log.write(f"{__name__}::{name} {os.getpid()}\\n")

"""


@pytest.fixture
def tree(tmp_path):
    """tests/{unit,integration}/test_*.py under tmp_path, with the repository's conftest."""
    tests = tmp_path / "tests"
    for tier in ("unit", "integration"):
        (tests / tier).mkdir(parents=True)
    (tests / "conftest.py").write_text(f"exec(compile(open({str(CONFTEST)!r}).read(), {str(CONFTEST)!r}, 'exec'))\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    alone: run alone\n    asterisk: real Asterisk\n")

    def write(path: str, count: int, alone: bool = False):
        tests_of = "".join(f"{'@pytest.mark.alone' + chr(10) if alone and i == 0 else ''}def test_{i}():\n"
                           f"    _note('test_{i}')\n\n\n" for i in range(count))
        (tmp_path / path).write_text(BODY + tests_of)

    return tmp_path, write


def run(root: Path, processes: int, *extra: str) -> list[tuple[str, int]]:
    """``processes`` pytest processes on one queue; the (test, pid) each test ran in, in order."""
    log = root / "ran.log"
    log.unlink(missing_ok=True)
    env = {**PLAIN, "SUITE_QUEUE_LOG": str(log)}
    (root / "work" / "claims").mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--claims={root / 'work' / 'claims'}",
            "-m", "not alone", *extra, "tests"]
    started = [subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
               for _ in range(processes)]
    for process in started:
        out = process.communicate(timeout=120)[0].decode()
        assert process.returncode == 0, out
    ran = [line.rsplit(" ", 1) for line in log.read_text().splitlines()]
    return [(name, int(pid)) for name, pid in ran]


def test_every_test_runs_once_and_a_files_tests_in_one_process(tree):
    root, write = tree
    for i in range(6):
        write(f"tests/unit/test_part{i}.py", 3 + i)
    write("tests/integration/test_calls.py", 2, alone=True)
    ran = run(root, 2)
    names = [name for name, _ in ran]
    expected = {f"test_part{i}::test_{n}" for i in range(6) for n in range(3 + i)} | {"test_calls::test_1"}
    assert sorted(names) == sorted(expected)  # once each; the one marked alone left for the run after
    for module in {name.split("::")[0] for name in names}:
        assert len({pid for name, pid in ran if name.startswith(module + "::")}) == 1, module
    # the files with tests marked alone, for tests/parallel.py's second run
    assert (root / "work" / "alone-files").read_text() == "tests/integration/test_calls.py\n"


def test_the_longest_file_first_unless_the_cores_are_taken_by_files_that_compute(tree):
    root, write = tree
    write("tests/unit/test_long.py", 2)
    write("tests/integration/test_short_call.py", 1)
    (root / "tests" / "durations.json").write_text(json.dumps(
        {"tests/unit/test_long.py": 100.0, "tests/integration/test_short_call.py": 10.0}))
    assert [name for name, _ in run(root, 1)][0] == "test_long::test_0"
    # as many other processes as there are cores on files that compute: the call tier's file
    # first; then, with only the file that computes left, a wait until one of them is done
    for claimed in (root / "work" / "claims").iterdir():
        claimed.unlink()
    (root / "ran.log").unlink()
    with computing_elsewhere(root) as (files, others):
        process = start(root)
        wait_until(lambda: (root / "ran.log").exists(), 60, "the first test")
        wait_until(lambda: waiting(root, process), 60, "the process waiting for a core")
        assert (root / "ran.log").read_text().split()[0] == "test_short_call::test_0"
        files[0].write_text("waits")  # one of them on a file of the call tier now
        assert finished(process)
    assert [line.split()[0] for line in (root / "ran.log").read_text().splitlines()] == [
        "test_short_call::test_0", "test_long::test_0", "test_long::test_1"]


@contextlib.contextmanager
def computing_elsewhere(root: Path):
    """As many other processes as there are cores, each saying it is on a file that computes
    (in --claims' busy folder, by process id); each one ends when the block does."""
    busy = root / "work" / "busy"
    busy.mkdir(parents=True, exist_ok=True)
    (root / "work" / "claims").mkdir(parents=True, exist_ok=True)
    others = [subprocess.Popen(["sleep", "600"]) for _ in range(os.cpu_count() or 1)]
    try:
        files = [busy / str(other.pid) for other in others]
        for file in files:
            file.write_text("computes")
        yield files, others
    finally:
        for other in others:
            other.kill()
            other.wait()


def start(root: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--claims={root / 'work' / 'claims'}",
            "-m", "not alone", "tests"]
    return subprocess.Popen(argv, cwd=root, env={**PLAIN, "SUITE_QUEUE_LOG": str(root / "ran.log")},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def waiting(root: Path, process: subprocess.Popen) -> bool:
    mine = root / "work" / "busy" / str(process.pid)
    return mine.exists() and mine.read_text() == "waits for a core"


def finished(process: subprocess.Popen) -> bool:
    out = process.communicate(timeout=120)[0].decode()
    assert process.returncode == 0, out
    return True


def test_the_tests_marked_alone_are_collected_from_their_own_files_only(tree):
    root, write = tree
    write("tests/unit/test_other.py", 1)
    (root / "tests" / "unit" / "test_broken.py").write_text("raise SystemExit('collected')\n")
    write("tests/integration/test_calls.py", 2, alone=True)
    listing = root / "alone-files"
    listing.write_text("tests/integration/test_calls.py\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "alone",
                          f"--only-files={listing}", "tests"], cwd=root, capture_output=True, text=True,
                         env={**PLAIN, "SUITE_QUEUE_LOG": str(root / "ran.log")}, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr  # test_broken.py was never imported
    assert (root / "ran.log").read_text().split()[0] == "test_calls::test_0"


def test_a_process_that_died_on_a_file_that_computes_holds_no_core(tree):
    root, write = tree
    write("tests/unit/test_compute.py", 1)
    with computing_elsewhere(root) as (files, others):
        process = start(root)
        try:
            wait_until(lambda: waiting(root, process), 60, "the process waiting for a core")
            assert not (root / "ran.log").exists()  # the file that computes not begun
            others[0].kill()  # gone without a word: its busy file still says it computes
            others[0].wait()
            assert files[0].read_text() == "computes" and finished(process)
        finally:
            process.kill()
    assert (root / "ran.log").read_text().split()[0] == "test_compute::test_0"
    assert not (root / "work" / "busy" / str(process.pid)).exists()  # done: it says so
