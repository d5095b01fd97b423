"""Dialer pacing (appliance/engine/pacing.py) with numbers: no clock, no database."""

from __future__ import annotations

import pytest

from appliance.engine import pacing
from appliance.engine.pacing import Floor, Settings, Window, adapt, ideal_level, lines_to_dial

PROG, POWER, PRED = Settings(pacing.PROGRESSIVE), Settings(pacing.POWER, ratio=2), Settings(pacing.PREDICTIVE)
# 100 calls ended, 30 answered by a person (30 %), none abandoned; 20 s to answer, 100 s handled
THIRTY = Window(dialled=100, answered=30, abandoned=0, ring_seconds=20, handle_seconds=100)


def test_progressive_dials_one_line_per_free_agent_less_those_ringing():
    assert lines_to_dial(PROG, 1.0, Floor(agents_ready=3, agents_busy=5, lines_ringing=0, entries=100)) == 3
    assert lines_to_dial(PROG, 1.0, Floor(agents_ready=3, agents_busy=5, lines_ringing=2, entries=100)) == 1
    assert lines_to_dial(PROG, 1.0, Floor(agents_ready=3, agents_busy=0, lines_ringing=3, entries=100)) == 0


def test_power_dials_its_ratio_per_free_agent():
    assert lines_to_dial(POWER, 1.0, Floor(agents_ready=1, agents_busy=0, lines_ringing=0, entries=10)) == 2
    assert lines_to_dial(Settings(pacing.POWER, ratio=2.5), 1.0, Floor(2, 0, 1, 10)) == 4


def test_no_line_without_an_agent_signed_in_and_ready():
    for settings in (PROG, POWER, PRED):
        assert lines_to_dial(settings, 3.0, Floor(agents_ready=0, agents_busy=0, lines_ringing=0, entries=50),
                             THIRTY) == 0
    # every agent busy: progressive and power wait; predictive dials ahead of those soon free
    busy = Floor(agents_ready=0, agents_busy=8, lines_ringing=0, entries=50)
    assert lines_to_dial(PROG, 1.0, busy, THIRTY) == lines_to_dial(POWER, 1.0, busy, THIRTY) == 0
    assert lines_to_dial(PRED, 2.0, busy, THIRTY) == 3  # 8 busy x 20 s ring / 100 s handled = 1.6 soon free
    assert lines_to_dial(PRED, 2.0, busy, Window()) == 0  # nothing measured: nobody is expected free


def test_never_more_lines_than_entries_left_or_room_left():
    assert lines_to_dial(POWER, 1.0, Floor(agents_ready=4, agents_busy=0, lines_ringing=0, entries=3)) == 3
    assert lines_to_dial(POWER, 1.0, Floor(agents_ready=4, agents_busy=0, lines_ringing=0, entries=0)) == 0
    assert lines_to_dial(POWER, 1.0, Floor(agents_ready=4, agents_busy=0, lines_ringing=0, entries=50, room=5)) == 5


def test_answer_rate_30_percent_sets_the_predictive_level_to_one_over_it_within_the_cap():
    assert ideal_level(THIRTY, Settings(pacing.PREDICTIVE, max_lines_per_agent=5)) == pytest.approx(1 / 0.3)
    assert ideal_level(THIRTY, PRED) == 3.0  # the default cap, 3 lines per agent
    assert ideal_level(Window(dialled=5, answered=1), PRED) == 1.0  # too few calls to believe: progressive
    # climbing a quarter of the way (at least 0.1) from 1 to 1/0.3 (cap 5), never past it
    settings, level, seen = Settings(pacing.PREDICTIVE, max_lines_per_agent=5), 1.0, []
    for _ in range(40):
        level = adapt(level, THIRTY, settings)
        seen.append(level)
    assert seen[0] == pytest.approx(1 + (1 / 0.3 - 1) / 4) and seen[1] > seen[0]
    assert max(seen) == pytest.approx(1 / 0.3) and seen.index(max(seen)) < 20
    # 4 ready agents at level 3.33: 13 lines
    assert lines_to_dial(settings, level, Floor(agents_ready=4, agents_busy=0, lines_ringing=0, entries=100),
                         THIRTY) == 13


def test_predictive_counts_busy_agents_soon_free():
    # 2 ready, 10 busy, a ring of 20 s against 100 s handled: 2 more expected free, so 4 x 2.5 = 10 lines
    assert lines_to_dial(PRED, 2.5, Floor(agents_ready=2, agents_busy=10, lines_ringing=0, entries=100), THIRTY) == 10


def test_abandon_over_the_target_lowers_the_level_and_near_it_holds():
    over = Window(dialled=200, answered=57, abandoned=3, ring_seconds=20, handle_seconds=100)  # 5 % abandoned
    assert over.abandon_rate == pytest.approx(5.0)
    lowered = adapt(3.0, over, PRED)
    assert lowered == pytest.approx(3.0 * 3 / 5)
    assert adapt(lowered, over, PRED) < lowered
    assert adapt(1.05, over, PRED) == 1.0  # never below one line per agent
    held = Window(dialled=300, answered=97, abandoned=3)  # 3 / 100 = 3 %: at the target, hold
    assert adapt(2.0, held, PRED) == 2.0
    under = Window(dialled=300, answered=100, abandoned=0)  # ideal 3 (capped): a quarter of the way
    assert adapt(2.0, under, PRED) == pytest.approx(2.25)
    assert adapt(2.95, under, PRED) == pytest.approx(3.0)  # at least 0.1, never past the ideal
    # a stricter target (1 %) with the same 3 %: lowered
    assert adapt(2.0, held, Settings(pacing.PREDICTIVE, target_abandon=1.0)) < 2.0


@pytest.mark.parametrize("ready,busy,ringing", [(1, 0, 0), (3, 7, 0), (5, 0, 4), (2, 2, 9), (10, 30, 3)])
@pytest.mark.parametrize("level", [1.0, 2.7, 3.0, 8.0, 50.0])
def test_the_cap_is_never_exceeded(ready, busy, ringing, level):
    for settings in (Settings(pacing.PREDICTIVE, max_lines_per_agent=2.5), Settings(pacing.POWER, ratio=9,
                                                                                     max_lines_per_agent=2.5)):
        n = lines_to_dial(settings, level, Floor(ready, busy, ringing, entries=1000), THIRTY)
        assert ringing + n <= 2.5 * (ready + busy) or n == 0
    assert adapt(50.0, THIRTY, Settings(pacing.PREDICTIVE, max_lines_per_agent=2.5)) <= 2.5


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        lines_to_dial(Settings("preview"), 1.0, Floor(1, 0, 0, 1))
