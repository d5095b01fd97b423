"""The mixed-load benchmark's pure parts (the benchmark itself runs in `make bench`, not here):
the supervisor's search terms, the open-loop schedule, and the figures taken from the rounds."""

from types import SimpleNamespace

from bench import mixed_load


def test_search_terms_are_parts_of_phone_numbers_or_names():
    terms = list(mixed_load.search_terms(200))
    numbers, names = terms[1::2], terms[0::2]
    assert all(t.isdigit() and t.startswith("139") and 4 <= len(t) <= 8 for t in numbers)
    assert all(t.startswith("Customer ") for t in names)
    assert terms == list(mixed_load.search_terms(200))  # the same every run


def test_search_terms_come_one_at_a_time():
    """The client asks for a million: built as a list when the load began, it held the client's
    loop for most of a second, and the first calls' screen pops were read late."""
    import inspect

    terms = mixed_load.search_terms(1_000_000)
    assert inspect.isgenerator(terms) and next(terms).startswith("Customer ")


def test_the_schedule_is_open_loop():
    assert abs(mixed_load.schedule(20.0, 100.0, 100.0) - 0.05) < 1e-9
    assert abs(mixed_load.schedule(20.0, 100.0, 100.26) - 0.04) < 1e-9  # on the grid, whatever came late
    assert mixed_load.schedule(2.0, 100.0, 100.999) < 0.002


def round_result(setup_ms, base_ms, route_ms, pops_ms, wall_ms, search_ms, cpu=None):
    cpu = cpu or {"asterisk": 6.0, "appliance": 12.0, "encoders": 1.0, "wall": 10.0,
                  "background_per_s": {"asterisk": 0.1, "appliance": 0.5, "encoders": 0.0}}
    return {"ours": {"latencies_ms": setup_ms, "failed": 0},
            "baseline": {"latencies_ms": base_ms, "failed": 0, "cpu_s": {"asterisk": 2.0, "appliance": 0.1}},
            "route_ms": route_ms, "pops_ms": pops_ms, "pages_ms": {"/wallboard": wall_ms, "search": search_ms},
            "errors": 0, "cpu_s": cpu}


def test_figures_are_the_medians_of_the_rounds_and_the_ratio_is_each_rounds_own():
    rounds = [round_result([15.0] * 100, [10.0] * 100, [5.0] * 100, [50.0] * 100, [80.0] * 10, [90.0] * 10),
              round_result([20.0] * 100, [10.0] * 100, [7.0] * 100, [70.0] * 100, [100.0] * 10, [120.0] * 10),
              round_result([40.0] * 100, [40.0] * 100, [9.0] * 100, [90.0] * 100, [900.0] * 10, [110.0] * 10)]
    rss = SimpleNamespace(peak_mb=250.0, at={"live_calls": 98}, max_calls=101)
    got = {f["figure"]: f for f in mixed_load.figures(rounds, 50.0, 10.0, 2000, rss)}
    assert got["mixed load call setup ratio"]["per_round"] == [1.5, 2.0, 1.0]
    assert got["mixed load call setup ratio"]["value"] == 1.5
    assert got["mixed load fastagi p99"]["value"] == 7.0
    assert got["mixed load screen pop p99"]["value"] == 70.0
    assert got["mixed load wallboard p99"]["value"] == 100.0  # one slow round does not make the figure
    assert got["mixed load customer search p99"]["value"] == 110.0
    assert got["peak rss"]["value"] == 250.0 and got["peak rss"]["goal"] == 300
    assert {f["unit"] for f in got.values()} == {"ms", "x", "MB"}


def test_a_calls_own_processor_time_is_the_mixed_phases_less_the_clients_load_alone():
    """500 calls in 10 s: Asterisk 6 s less 0.1 s/s of background, the supervisor and its
    encoders 13 s less 0.5 s/s: 10 ms and 16 ms a call; two cores at 80 % less the 0.6 s/s
    background leave 1.0 s/s: 38.5 calls a second."""
    rss = SimpleNamespace(peak_mb=250.0, at={}, max_calls=0)
    rounds = [round_result([15.0], [10.0], [5.0], [50.0], [80.0], [90.0])]
    got = {f["figure"]: f for f in mixed_load.figures(rounds, 50.0, 10.0, 2000, rss)}["mixed load cpu per call"]
    assert got["per_round"] == [{"asterisk": 10.0, "appliance": 16.0}] and got["value"] == 26.0
    assert mixed_load.carried_rate(rounds[0], 500, cores=2) == 38.5
    assert got["baseline_asterisk"] == [4.0]  # the static dialplan's 2 s for the same 500 calls


def test_the_profile_summary_counts_each_function_once_per_stack():
    raw = ("run (a.py:1);handle (agi.py:10);query (db.py:5) 6\n"
           "run (a.py:1);handle (agi.py:12);handle (agi.py:10) 2\n"
           "run (a.py:1);stream (web.py:3) 2\n")
    got = mixed_load.profile_summary(raw)
    assert got["samples"] == 10
    assert got["share"] == {"run a.py": 1.0, "handle agi.py": 0.8, "query db.py": 0.6, "stream web.py": 0.2}
