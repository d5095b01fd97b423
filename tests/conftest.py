"""Shared by every tier.  gevent's monkey patching must come first: the
integration tests run the appliance's real services, which run on gevent."""

from gevent import monkey

monkey.patch_all()


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


def pytest_addoption(parser):
    parser.addoption("--shard", default=None, metavar="I/N",
                     help="run only every N-th test starting at the I-th (0-based); tests/parallel.py "
                          "runs the N shards side by side")


def pytest_collection_modifyitems(config, items):
    """``--shard I/N`` keeps the test files given to shard I: whole files, so a file's
    module-scoped Asterisk or Chromium starts once, not once per shard, spread so that each
    shard has about the same seconds to run (``shard_of``)."""
    shard = config.getoption("shard")
    if not shard:
        return
    index, count = (int(n) for n in shard.split("/"))
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    given = shard_of(files, count)
    kept = [item for item in items if given[item.nodeid.split("::")[0]] == index]
    config.hook.pytest_deselected(items=[item for item in items if given[item.nodeid.split("::")[0]] != index])
    items[:] = kept


# Seconds a test takes when no run has been measured yet, by tier (tests/durations.json and
# build/test-durations.json hold measured ones, per file).
GUESS_SECONDS = {"integration": 20.0, "browser": 6.0, "fuzz": 30.0}


def shard_of(files: dict, count: int) -> dict[str, int]:
    """Test file -> shard: the longest first, each to the shard with the fewest seconds so far
    (the same answer in every shard's process: it depends only on the files and the timings)."""
    import heapq
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

    loads = [(0.0, i) for i in range(count)]
    given = {}
    for path in sorted(files, key=lambda p: (-seconds(p), p)):
        load, i = heapq.heappop(loads)
        given[path] = i
        heapq.heappush(loads, (load + seconds(path), i))
    return given
