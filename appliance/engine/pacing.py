"""Dialer pacing (issue 16): how many new calls a campaign places now.  Pure: numbers in,
numbers out; no clock, no database, no gevent (``services/dialer.py`` gathers the facts
and places the calls).

The modes where the appliance dials:

- ``progressive``: one line per free agent;
- ``power``: ``ratio`` lines per free agent (a campaign field);
- ``predictive``: as many lines as the measured answer rate allows for the agents who can
  take a call: those free now, and the busy ones who finish before the answers come, each
  with the chance ``soon_free_chance`` (ring time / 2 x handle time; times ``adapt``'s factor
  when it is under 1), so ``B ~ Binomial(busy, that chance)`` of them, not their mean (a call
  answered while the busy agents happen to run long is abandoned all the same).  Answered
  calls are ``X ~ Binomial(lines, answer rate)``, the ones beyond the agents are abandoned,
  and the most lines are dialled for which ``E[max(0, X - free - B)]`` is at most ``budget``
  of the ``lines x answer rate`` expected answered, ``budget`` being the target abandon rate
  (3 % by default) times a factor ``adapt`` steers from the abandon rate measured over the
  rolling window (down in proportion when it is over the target, held near it, up a step
  when well under).  The dial level shown is those lines per free agent.

Whatever the mode, the hard rules (``lines_to_dial``): no call with no agent of the
campaign signed in and ready to work (free, or busy on a call or its wrap-up: not paused,
not signed out); progressive and power dial only for agents free now (predictive also dials
ahead of the busy ones soon free); never more lines ringing than ``max_lines_per_agent`` per
agent signed in (free or busy); never more than the entries that may be dialled now, or than
the room other caps leave (the campaign's own concurrency).

An *abandoned* call is one a person answered that no agent could take: it hears a short
message at once and is counted.  The abandon rate is abandoned / (answered + abandoned), in
percent, over the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PROGRESSIVE, POWER, PREDICTIVE = "progressive", "power", "predictive"
MODES = (PROGRESSIVE, POWER, PREDICTIVE)

DEFAULT_RATIO = 2.0
DEFAULT_TARGET_ABANDON = 3.0  # percent
DEFAULT_MAX_LINES_PER_AGENT = 3.0  # VICIdial's "maximum adapt dial level" default, as a hard cap here
MAX_LINES_PER_AGENT = 10.0  # what an admin may set at most
MIN_LEVEL = 1.0
MIN_DIALLED = 20  # calls ended in the window before the answer rate is believed (until then: one line per agent)
MIN_PICKED_UP = 10  # answered calls in the window before the abandon rate steers the factor
STEP_UP = 0.05  # the factor's rise per adaptation while the abandon rate is well under the target
# the factor's bounds: the budget is 10 % to 150 % of the target.  In simulation
# (tests/unit/test_pacing_simulation.py) the model is a little optimistic at 1.5 (2.97 % of the
# answers abandoned at a 3 % target; 2.3 % at 1, 3.3 % at 2); on the real Asterisk it was
# cautious (1.1 % at 1.5, the factor held at its top): the factor's room above 1 is for that
MIN_FACTOR, MAX_FACTOR = 0.1, 1.5
HOLD_SHARE = 0.7  # at or above this share of the target, the factor holds
ABANDON_SLACK = 1  # abandons beyond the target's share before the factor is cut: one is not yet a trend


@dataclass(frozen=True)
class Settings:
    mode: str
    ratio: float = DEFAULT_RATIO  # power: lines per free agent
    target_abandon: float = DEFAULT_TARGET_ABANDON  # predictive: percent of answered calls
    max_lines_per_agent: float = DEFAULT_MAX_LINES_PER_AGENT  # every mode: the hard cap


@dataclass(frozen=True)
class Window:
    """The campaign's calls that ended within the rolling window."""

    dialled: int = 0  # calls placed and ended (answered, abandoned, no answer, busy, failed)
    answered: int = 0  # put through to an agent
    abandoned: int = 0  # a person answered, no agent could take the call
    ring_seconds: float = 0.0  # mean time from dialling to the answer
    handle_seconds: float = 0.0  # mean time an agent spends on an answered call (talk and wrap-up)

    @property
    def picked_up(self) -> int:
        return self.answered + self.abandoned

    @property
    def answer_rate(self) -> float | None:
        """Share of calls a person answered; None until ``MIN_DIALLED`` calls ended."""
        if self.dialled < MIN_DIALLED:
            return None
        return self.picked_up / self.dialled

    @property
    def abandon_rate(self) -> float:
        """Percent of answered calls abandoned (0 with none answered)."""
        return 100.0 * self.abandoned / self.picked_up if self.picked_up else 0.0


@dataclass(frozen=True)
class Floor:
    """The campaign's agents and lines now."""

    agents_ready: int  # signed in, free, not held for an answered call
    agents_busy: int  # signed in, on a call, ringing or in wrap-up
    lines_ringing: int  # calls placed, not answered yet
    entries: int  # entries that may be dialled now
    room: int | None = None  # what other caps leave (the campaign's concurrency); None: no cap


def _cap(settings: Settings) -> float:
    return max(MIN_LEVEL, min(settings.max_lines_per_agent, MAX_LINES_PER_AGENT))


def adapt(factor: float, window: Window, settings: Settings) -> float:
    """The predictive budget factor after one more look at the window: down in proportion
    when the abandon rate is over the target (by more than ``ABANDON_SLACK`` call), held
    near it, else up one step; always within [``MIN_FACTOR``, ``MAX_FACTOR``]."""
    factor = max(MIN_FACTOR, min(factor, MAX_FACTOR))
    target = max(settings.target_abandon, 0.0)
    rate = window.abandon_rate
    if window.picked_up < MIN_PICKED_UP:
        return factor
    if rate > target and window.abandoned > target / 100.0 * window.picked_up + ABANDON_SLACK:
        return max(MIN_FACTOR, min(factor * target / rate, factor - STEP_UP))
    if rate >= HOLD_SHARE * target:
        return factor
    return min(MAX_FACTOR, factor + STEP_UP)


def _binomial(n: int, p: float) -> list[float]:
    """P(K = k) for k = 0..n, K ~ Binomial(n, p)."""
    p = min(max(p, 0.0), 1.0)
    return [math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]


def expected_abandoned(lines: int, answer_rate: float, agents: int, busy: int = 0, soon: float = 0.0) -> float:
    """E[max(0, X - agents - B)] for X ~ Binomial(lines, answer_rate) and B ~ Binomial(busy,
    soon): the answered calls no agent is there for, ``agents`` free now and each of ``busy``
    free in time with the chance ``soon``."""
    p = min(max(answer_rate, 0.0), 1.0)
    if lines <= agents or p == 0.0:
        return 0.0
    answers = _binomial(lines, p)
    freed = _binomial(busy, soon) if busy > 0 and soon > 0 else [1.0]
    return sum(pb * sum((k - agents - b) * answers[k] for k in range(agents + b + 1, lines + 1))
               for b, pb in enumerate(freed))


def soon_free_chance(window: Window) -> float:
    """The chance that one busy agent is free when one of the calls placed now is answered
    (predictive only): the answers come over the next ring time ``R``, at a time ``s`` spread
    evenly over it, and an agent's call ends within ``s`` with the chance ``s / H`` (``H`` the
    handle time, its rest spread evenly): on average ``R / 2H`` (``1 - H / 2R`` when ``R > H``).
    Counting the whole ring (``R / H``) as if every answer came at its end abandoned 5 % of
    the answers at a 3 % target in simulation."""
    ring, handle = window.ring_seconds, window.handle_seconds
    if handle <= 0 or ring <= 0:
        return 0.0
    return ring / (2 * handle) if ring <= handle else 1.0 - handle / (2 * ring)


def predictive_lines(answer_rate: float, agents: int, budget: float, most: int, busy: int = 0,
                     soon: float = 0.0) -> int:
    """The most lines (at most ``most``) whose expected abandoned calls are within ``budget``
    (a share) of the calls expected answered; at least one per agent expected (those free
    and the busy ones' mean)."""
    lines = min(math.floor(agents + busy * soon + 1e-9), most)
    while lines < most and expected_abandoned(lines + 1, answer_rate, agents, busy, soon) <= \
            budget * (lines + 1) * answer_rate:
        lines += 1
    return lines


def wanted_lines(settings: Settings, factor: float, floor: Floor, window: Window) -> int:
    """Lines the mode wants up (ringing) now, before the hard rules."""
    ready = floor.agents_ready
    if settings.mode == PROGRESSIVE:
        return ready
    if settings.mode == POWER:
        return math.floor(max(MIN_LEVEL, settings.ratio) * ready + 1e-9)
    if settings.mode == PREDICTIVE:
        factor = max(MIN_FACTOR, min(factor, MAX_FACTOR))
        # the busy agents it dials ahead of, scaled down with the factor: when the abandon
        # rate is over the target, anticipation is what gave the calls nobody took
        busy, soon = max(floor.agents_busy, 0), soon_free_chance(window) * min(1.0, factor)
        rate = window.answer_rate
        if rate is None or ready + busy * soon < 1:
            return math.floor(ready + busy * soon + 1e-9)
        budget = max(settings.target_abandon, 0.0) / 100.0 * factor
        return predictive_lines(rate, ready, budget, _most(settings, floor), busy, soon)
    raise ValueError(f"not a dialler mode: {settings.mode!r}")


def _most(settings: Settings, floor: Floor) -> int:
    """The hard cap: lines per agent signed in (free or busy)."""
    return math.floor(_cap(settings) * (floor.agents_ready + floor.agents_busy) + 1e-9)


def lines_to_dial(settings: Settings, factor: float, floor: Floor, window: Window = Window()) -> int:
    """New calls to place now (0 or more), the hard rules applied."""
    if floor.agents_ready + floor.agents_busy <= 0 or floor.entries <= 0:
        return 0
    if floor.agents_ready <= 0 and settings.mode != PREDICTIVE:
        return 0
    n = min(wanted_lines(settings, factor, floor, window), _most(settings, floor)) - floor.lines_ringing
    n = min(n, floor.entries)
    if floor.room is not None:
        n = min(n, floor.room)
    return max(0, n)


def dial_level(settings: Settings, factor: float, floor: Floor, window: Window = Window()) -> float:
    """The dial level a campaign shows: the lines its mode wants per free agent now (the
    power ratio, 1 for progressive)."""
    if settings.mode == PROGRESSIVE:
        return 1.0
    if settings.mode == POWER:
        return min(max(MIN_LEVEL, settings.ratio), _cap(settings))
    if floor.agents_ready <= 0:
        return 0.0
    wanted = min(wanted_lines(settings, factor, floor, window), _most(settings, floor))
    return wanted / floor.agents_ready
