from appliance.supervisor import RespawnPolicy


def test_backoff_doubles_then_caps():
    p = RespawnPolicy(backoff_min=1, backoff_max=4, crash_limit=10, crash_window=60)
    assert [p.on_exit(t) for t in (0, 1, 2, 3)] == [1, 2, 4, 4]


def test_crash_loop_gives_up():
    p = RespawnPolicy(crash_limit=3, crash_window=10)
    assert all(p.on_exit(t) is not None for t in (0, 1, 2))
    assert p.on_exit(3) is None


def test_old_exits_are_forgotten():
    p = RespawnPolicy(backoff_min=1, crash_limit=2, crash_window=10)
    p.on_exit(0)
    p.on_exit(1)
    assert p.on_exit(100) == 1
