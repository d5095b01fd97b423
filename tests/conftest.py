"""Shared by every tier.  gevent's monkey patching must come first: the
integration tests run the appliance's real services, which run on gevent."""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402  (after the patching)

import pytest  # noqa: E402


def pytest_sessionstart(session):
    """Test files of different tiers may not share a name: pytest (rootdir imports, no
    packages) would import one as the other and stop collecting with a puzzling error."""
    import collections
    from pathlib import Path

    names = collections.Counter(p.name for tier in ("unit", "integration", "browser")
                                for p in (Path(__file__).parent / tier).glob("test_*.py"))
    clashes = sorted(name for name, n in names.items() if n > 1)
    if clashes:
        raise SystemExit(f"test files with the same name in two tiers: {', '.join(clashes)}; rename one")


# A new password hash costs 50-100 ms of CPU at the appliance's scrypt cost (n=2**14): some 40 %
# of the processor time of test_admin_console and test_console, whose fixtures make accounts
# and sign them in. Tests hash at n=2**8 (the same code; each hash keeps its own parameters, so
# a sign-in verifies at the cost it was made with), except those marked ``full_scrypt``: the
# ones about that cost (sign-ins and PIN checks that must not stall the loop) and the default's.
CHEAP_SCRYPT = {"n": 2**8, "r": 8, "p": 1}


@pytest.fixture(autouse=True)
def scrypt_cost(request, monkeypatch):
    if request.node.get_closest_marker("full_scrypt") is None:
        from appliance.services import users

        monkeypatch.setattr(users, "SCRYPT_COST", CHEAP_SCRYPT)


def pytest_addoption(parser):
    parser.addoption("--claims", default=None, metavar="DIR",
                     help="take test files one at a time from a queue shared by every process given "
                          "the same DIR, the longest first; tests/parallel.py runs N such processes")
    parser.addoption("--only-files", default=None, metavar="LIST",
                     help="collect only the test files named in LIST, one a line (tests/parallel.py: "
                          "the files with tests marked alone, so their run does not import the others)")


def pytest_ignore_collect(collection_path, config):
    listed = config.getoption("only_files")
    if listed and collection_path.is_file() and collection_path.name.startswith("test_"):
        from pathlib import Path

        wanted = {line for line in Path(listed).read_text().splitlines() if line}
        if collection_path.is_relative_to(config.rootpath):
            return str(collection_path.relative_to(config.rootpath)) not in wanted
    return None


def alive(pid: str) -> bool:
    """Whether the process ``pid`` (a file name in --claims' busy folder) still runs: one that
    died on a file that computes must not hold the others back for good."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (ValueError, PermissionError):  # not a process id (tests/unit/test_suite_queue.py's stand-ins)
        return True
    return True


def _file_of(item) -> str:
    return item.nodeid.split("::")[0]


def _by_file(items) -> dict[str, list]:
    """Test file -> its tests, in the order given."""
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(_file_of(item), []).append(item)
    return files


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects the tests marked alone
def pytest_collection_modifyitems(config, items):
    """``--claims DIR`` orders the files the longest first (``measured_seconds``);
    ``pytest_runtestloop`` then runs only those this process claims."""
    if not config.getoption("claims"):
        return
    from pathlib import Path

    # the files that hold tests marked alone, for the run after this one (tests/parallel.py):
    # collecting every file again for those took some 20 s with nothing else to do
    alone = sorted({_file_of(item) for item in items if item.get_closest_marker("alone")})
    listing = Path(config.getoption("claims")).parent / "alone-files"
    partial = listing.with_name(f"alone-files.{os.getpid()}")
    partial.write_text("".join(f"{path}\n" for path in alone))
    partial.replace(listing)
    files = _by_file(items)
    seconds = measured_seconds(files)
    items[:] = [item for path in sorted(files, key=lambda p: (-seconds(p), p)) for item in files[path]]


def pytest_runtestloop(session):
    """``--claims DIR``: the N processes side by side (tests/parallel.py) share one queue of
    test files instead of fixed shards: each, when it is about to need its next file, takes the
    first one in the order above that nobody has taken (a file created with O_EXCL in DIR is
    the claim).  Fixed shards were balanced by seconds measured in another run under other
    load, and one shard ran two minutes alone at the end (6 December, 819 s); taken this way,
    the processes end within about one short file of each other whatever the files took.
    Whole files, so a module's Asterisk starts once; a browser file is followed by another
    browser file while any is left, so the one Chromium (tests/browser/conftest.py) lives on.

    The call tier mostly waits (on Asterisk, SIPp, timers: test_ivr.py used 8 s of processor
    for its 92 s), the others mostly compute; so while as many other processes as there are
    cores are on files that compute, a process takes the next file of the call tier instead,
    and the waiting overlaps the computing rather than adding load to it (each process says
    what it is on in DIR/../busy/<pid>); with no file of the call tier left, it waits for a core."""
    folder = session.config.getoption("claims")
    if not folder or session.config.option.collectonly:
        return None  # pytest's own loop
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection")
    import time
    from pathlib import Path

    files = _by_file(session.items)
    left = list(files)  # the longest first
    run: list = []
    busy = Path(folder).parent / "busy"
    busy.mkdir(exist_ok=True)
    mine = busy / str(os.getpid())
    cores = os.cpu_count() or 1

    def waits(path: str) -> bool:
        return path.startswith("tests/integration/")

    def computing_elsewhere() -> int:
        count = 0
        for other in busy.iterdir():
            try:
                count += other != mine and other.read_text() == "computes" and alive(other.name)
            except OSError:  # gone: that process has ended
                pass
        return count

    def claimed(path: str) -> bool:
        return (Path(folder) / path.replace("/", "__")).exists()

    def cores_taken() -> bool:
        """Only files that compute are left, and as many other processes as there are cores are
        on such files: the next one waits for one of them to end (three side by side on two
        cores each took half again as long, and ended late together)."""
        left[:] = [p for p in left if not claimed(p)]
        return bool(left) and not any(waits(p) for p in left) and computing_elsewhere() >= cores

    def claim(after, wait=True):
        """The next file's tests that this process took, or []: the queue is empty; None: the
        cores are taken (``cores_taken``) and not ``wait``."""
        if cores_taken():
            if not wait:
                return None
            mine.write_text("waits for a core")
            while cores_taken():
                time.sleep(0.2)
        order = list(left)
        if after is not None and "browser" in getattr(after, "fixturenames", ()):
            order = [p for p in left if "browser" in getattr(files[p][0], "fixturenames", ())] + order
        if computing_elsewhere() >= cores:
            order = [p for p in left if waits(p)] + order
        for path in order:
            if path not in left:
                continue
            left.remove(path)
            try:
                os.close(os.open(Path(folder) / path.replace("/", "__"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            mine.write_text("waits" if waits(path) else "computes")
            return files[path]
        mine.unlink(missing_ok=True)
        return []

    queue = claim(None)
    while queue:
        item = queue.pop(0)
        if not queue:  # the next file now, so that this one's teardown knows what comes next
            queue = claim(item, wait=False)
        nextitem = queue[0] if queue else None
        run.append(item)
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        if queue is None:  # this file done first, then the wait for a core
            queue = claim(item)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)
    taken = set(map(id, run))
    session.config.hook.pytest_deselected(items=[item for item in session.items if id(item) not in taken])
    return True


# Seconds a test takes when no run has been measured yet, by tier (tests/durations.json and
# build/test-durations.json hold measured ones, per file).
GUESS_SECONDS = {"integration": 20.0, "browser": 6.0, "fuzz": 30.0}


def measured_seconds(files: dict):
    """``seconds(path)``: a test file's seconds in the last run (build/test-durations.json, over
    the committed tests/durations.json), or a guess by tier and number of tests."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    measured = {}
    for source in (root / "tests" / "durations.json", root / "build" / "test-durations.json"):  # newest last
        try:
            measured.update(json.loads(source.read_text()))
        except (OSError, ValueError):
            pass

    def seconds(path: str) -> float:
        if path in measured:
            return float(measured[path])
        tier = path.split("/")[1] if path.count("/") >= 2 else ""
        return GUESS_SECONDS.get(tier, 0.3) * len(files[path])

    return seconds
