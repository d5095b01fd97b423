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
    """``--shard I/N`` keeps test number I, I+N, I+2N, ... of the collected order: test by test,
    not file by file, so the slow integration files spread over every shard."""
    shard = config.getoption("shard")
    if not shard:
        return
    index, count = (int(n) for n in shard.split("/"))
    kept = [item for i, item in enumerate(items) if i % count == index]
    config.hook.pytest_deselected(items=[item for i, item in enumerate(items) if i % count != index])
    items[:] = kept
