"""Dialer pacing (appliance/engine/pacing.py) with numbers: no clock, no database."""

from __future__ import annotations

import pytest

from appliance.engine import pacing
from appliance.engine.pacing import Floor, Settings, Window, adapt, lines_to_dial

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
        assert lines_to_dial(settings, 1.0, Floor(agents_ready=0, agents_busy=0, lines_ringing=0, entries=50),
                             THIRTY) == 0
    # every agent busy: progressive and power wait; predictive dials ahead of those soon free
    busy = Floor(agents_ready=0, agents_busy=10, lines_ringing=0, entries=50)
    assert lines_to_dial(PROG, 1.0, busy, THIRTY) == lines_to_dial(POWER, 1.0, busy, THIRTY) == 0
    # 10 busy, each free when an answer comes with a chance of 20 s ring / (2 x 100 s handled): 1
    assert lines_to_dial(PRED, 1.0, busy, THIRTY) == 1
    assert lines_to_dial(PRED, 1.0, busy, Window()) == 0  # nothing measured: nobody is expected free


def test_never_more_lines_than_entries_left_or_room_left():
    assert lines_to_dial(POWER, 1.0, Floor(agents_ready=4, agents_busy=0, lines_ringing=0, entries=3)) == 3
    assert lines_to_dial(POWER, 1.0, Floor(agents_ready=4, agents_busy=0, lines_ringing=0, entries=0)) == 0
    assert lines_to_dial(POWER, 1.0, Floor(agents_ready=4, agents_busy=0, lines_ringing=0, entries=50, room=5)) == 5


def test_the_expected_abandons_of_a_binomial_answer_count():
    assert pacing.expected_abandoned(1, 0.3, 1) == 0.0
    assert pacing.expected_abandoned(2, 0.3, 1) == pytest.approx(0.09)  # both answer: one too many
    assert pacing.expected_abandoned(3, 0.3, 1) == pytest.approx(3 * 0.09 * 0.7 + 2 * 0.027)
    assert pacing.expected_abandoned(10, 0.0, 1) == 0.0


def test_answer_rate_30_percent_dials_what_the_abandon_target_allows_for_the_agents_free():
    # 3 % of the answered calls may find nobody: one agent gets one line (two would abandon 15 %),
    # four get 8, six get 13, ten get 26 (within the cap of 3 per agent)
    for ready, lines in ((1, 1), (2, 3), (4, 8), (6, 13), (10, 26)):
        floor = Floor(agents_ready=ready, agents_busy=0, lines_ringing=0, entries=1000)
        assert lines_to_dial(Settings(pacing.PREDICTIVE, max_lines_per_agent=10), 1.0, floor, THIRTY) == lines
    assert pacing.dial_level(PRED, 1.0, Floor(6, 0, 0, 1000), THIRTY) == pytest.approx(13 / 6)
    # lines already ringing count; before 20 calls ended the rate is not believed: one line per agent
    assert lines_to_dial(PRED, 1.0, Floor(6, 0, 10, 1000), THIRTY) == 3
    assert lines_to_dial(PRED, 1.0, Floor(6, 0, 0, 1000), Window(dialled=10, answered=3)) == 6
    # a looser target allows more lines
    assert lines_to_dial(Settings(pacing.PREDICTIVE, target_abandon=10), 1.0, Floor(6, 0, 0, 1000), THIRTY) > 13


def test_predictive_counts_busy_agents_soon_free():
    # 2 ready, 10 busy, a ring of 20 s against 100 s handled: the answers come over the 20 s,
    # so each busy agent is free for one with a chance of 20 / (2 x 100) = 0.1 (1 of them on
    # average): more lines than for the 2 ready alone (3)
    assert pacing.soon_free_chance(THIRTY) == pytest.approx(0.1)
    assert lines_to_dial(PRED, 1.0, Floor(agents_ready=2, agents_busy=10, lines_ringing=0, entries=100),
                         THIRTY) == 4
    assert lines_to_dial(PRED, 1.0, Floor(agents_ready=2, agents_busy=0, lines_ringing=0, entries=100), THIRTY) == 3


def test_busy_agents_soon_free_are_a_chance_not_their_mean():
    # 4 agents for certain allow 8 lines at 30 % answered and a 3 % target (above); 2 free and 2
    # of 10 busy on average allow fewer: the calls answered when the busy ones run long find nobody
    assert lines_to_dial(PRED, 1.0, Floor(agents_ready=4, agents_busy=0, lines_ringing=0, entries=100), THIRTY) == 8
    mean_only = pacing.expected_abandoned(8, 0.3, 4)
    assert pacing.expected_abandoned(8, 0.3, 2, busy=10, soon=0.2) > mean_only
    # the same with nobody busy, or no chance to finish in time, is the deterministic count
    assert pacing.expected_abandoned(8, 0.3, 4, busy=10, soon=0.0) == pytest.approx(mean_only)
    assert pacing.expected_abandoned(8, 0.3, 2, busy=2, soon=1.0) == pytest.approx(mean_only)


def test_an_answer_comes_on_average_halfway_through_the_ring():
    # ring 20 s, handled 100 s: a busy agent is free for an answer at s with a chance s / 100,
    # s spread over the 20 s: 0.1; a ring longer than the handle time: 1 - H / 2R
    assert pacing.soon_free_chance(Window(ring_seconds=20, handle_seconds=100)) == pytest.approx(0.1)
    assert pacing.soon_free_chance(Window(ring_seconds=100, handle_seconds=100)) == pytest.approx(0.5)
    assert pacing.soon_free_chance(Window(ring_seconds=200, handle_seconds=100)) == pytest.approx(0.75)
    assert pacing.soon_free_chance(Window(ring_seconds=20, handle_seconds=0)) == 0.0


def test_a_lowered_factor_also_dials_ahead_of_fewer_busy_agents():
    # abandons over the target came from agents expected free who were not: with the factor
    # at 0.5 each busy agent counts half as likely free; at the lowest (0.1), none of them
    busy = Floor(agents_ready=0, agents_busy=20, lines_ringing=0, entries=100)
    assert lines_to_dial(PRED, 1.0, busy, THIRTY) == 2  # 2 agents soon free on average
    assert lines_to_dial(PRED, 0.5, busy, THIRTY) == 1  # 1 agent soon free on average
    assert lines_to_dial(PRED, pacing.MIN_FACTOR, busy, THIRTY) == 0
    assert lines_to_dial(PRED, pacing.MAX_FACTOR, busy, THIRTY) == lines_to_dial(PRED, 1.0, busy, THIRTY)  # never beyond the estimate


def test_abandon_over_the_target_lowers_the_factor_and_with_it_the_lines():
    over = Window(dialled=200, answered=57, abandoned=3, ring_seconds=20, handle_seconds=100)  # 5 % abandoned
    assert over.abandon_rate == pytest.approx(5.0)
    lowered = adapt(1.0, over, PRED)
    assert lowered == pytest.approx(3 / 5)  # cut in proportion (at least a step)
    assert adapt(lowered, over, PRED) < lowered
    assert adapt(0.12, over, PRED) == pacing.MIN_FACTOR  # never below a tenth of the target
    floor = Floor(agents_ready=6, agents_busy=0, lines_ringing=0, entries=1000)
    assert lines_to_dial(PRED, lowered, floor, over) < lines_to_dial(PRED, 1.0, floor, over)
    one = Window(dialled=60, answered=17, abandoned=1)  # 5.6 %, but one abandon is not yet a trend: hold
    assert adapt(1.0, one, PRED) == 1.0
    held = Window(dialled=300, answered=97, abandoned=3)  # 3 / 100 = 3 %: at the target, hold
    assert adapt(1.0, held, PRED) == 1.0
    under = Window(dialled=300, answered=100, abandoned=0)
    assert adapt(1.0, under, PRED) == pytest.approx(1.0 + pacing.STEP_UP)
    assert adapt(pacing.MAX_FACTOR - 0.01, under, PRED) == pacing.MAX_FACTOR
    assert adapt(1.0, Window(dialled=30, answered=5, abandoned=2), PRED) == 1.0  # too few answers to steer
    # a stricter target (1 %) with the same 3 %: lowered
    assert adapt(1.0, held, Settings(pacing.PREDICTIVE, target_abandon=1.0)) < 1.0


@pytest.mark.parametrize("ready,busy,ringing", [(1, 0, 0), (3, 7, 0), (5, 0, 4), (2, 2, 9), (10, 30, 3)])
@pytest.mark.parametrize("factor", [0.1, 1.0, 1.5])
def test_the_cap_is_never_exceeded(ready, busy, ringing, factor):
    loose = Window(dialled=100, answered=5, ring_seconds=50, handle_seconds=60)  # 5 % answer: many lines wanted
    for settings in (Settings(pacing.PREDICTIVE, max_lines_per_agent=2.5, target_abandon=50),
                     Settings(pacing.POWER, ratio=9, max_lines_per_agent=2.5)):
        n = lines_to_dial(settings, factor, Floor(ready, busy, ringing, entries=1000), loose)
        assert ringing + n <= 2.5 * (ready + busy) or n == 0


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        lines_to_dial(Settings("preview"), 1.0, Floor(1, 0, 0, 1))
