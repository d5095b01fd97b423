"""Dialer pacing (issue 16): how many new calls a campaign places now.  Pure: numbers in,
numbers out; no clock, no database, no gevent (``services/dialer.py`` gathers the facts
and places the calls).

The modes where the appliance dials:

- ``progressive``: one line per free agent;
- ``power``: ``ratio`` lines per free agent (a campaign field);
- ``predictive``: ``level`` lines per free agent, where the level adapts (``adapt``) to the
  answer rate measured over the rolling window (1 / answer rate: with 30 % of calls
  answered, 3.3 lines find one person), steps down when the abandon rate over the window
  is over the target (3 % by default) and holds when it is near it; the agents expected
  to finish their call within one ring time (busy agents x ring time / handle time) count
  as free for this mode.

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
MIN_DIALLED = 20  # calls ended in the window before the answer rate is believed (until then: level 1)
MIN_PICKED_UP = 10  # answered calls in the window before the abandon rate steers the level
STEP_UP = 0.1  # the level's least rise per adaptation while the abandon rate is well under the target
CLOSING = 0.25  # ...else this share of the way to the level the answer rate calls for
HOLD_SHARE = 0.7  # at or above this share of the target, the level holds


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


def ideal_level(window: Window, settings: Settings) -> float:
    """Lines per free agent that would find one person each, from the answer rate (1 until
    it is measured), within the cap."""
    rate = window.answer_rate
    if rate is None:
        return MIN_LEVEL
    if rate <= 0:
        return _cap(settings)
    return max(MIN_LEVEL, min(1.0 / rate, _cap(settings)))


def adapt(level: float, window: Window, settings: Settings) -> float:
    """The predictive dial level after one more look at the window: down in proportion when
    the abandon rate is over the target, held near it, else up a quarter of the way (at
    least one step) towards the level the answer rate calls for; always within [1, cap]."""
    cap = _cap(settings)
    level = max(MIN_LEVEL, min(level, cap))
    target = max(settings.target_abandon, 0.0)
    rate = window.abandon_rate
    if window.picked_up >= MIN_PICKED_UP and rate > target:
        cut = target / rate if rate else 1.0
        return max(MIN_LEVEL, min(level * cut, level - STEP_UP))
    ideal = ideal_level(window, settings)
    if window.picked_up >= MIN_PICKED_UP and rate >= HOLD_SHARE * target:
        return min(level, ideal)
    if level > ideal:
        return max(ideal, level - STEP_UP)
    return min(ideal, level + max(STEP_UP, CLOSING * (ideal - level)))


def soon_free(floor: Floor, window: Window) -> float:
    """Busy agents expected to finish within one ring time (predictive only)."""
    if floor.agents_busy <= 0 or window.handle_seconds <= 0 or window.ring_seconds <= 0:
        return 0.0
    return floor.agents_busy * min(1.0, window.ring_seconds / window.handle_seconds)


def wanted_lines(settings: Settings, level: float, floor: Floor, window: Window) -> float:
    """Lines the mode wants up (ringing) now, before the hard rules."""
    ready = floor.agents_ready
    if settings.mode == PROGRESSIVE:
        return float(ready)
    if settings.mode == POWER:
        return max(MIN_LEVEL, settings.ratio) * ready
    if settings.mode == PREDICTIVE:
        return level * (ready + soon_free(floor, window))
    raise ValueError(f"not a dialler mode: {settings.mode!r}")


def lines_to_dial(settings: Settings, level: float, floor: Floor, window: Window = Window()) -> int:
    """New calls to place now (0 or more), the hard rules applied."""
    if floor.agents_ready + floor.agents_busy <= 0 or floor.entries <= 0:
        return 0
    if floor.agents_ready <= 0 and settings.mode != PREDICTIVE:
        return 0
    cap = math.floor(_cap(settings) * (floor.agents_ready + floor.agents_busy) + 1e-9)
    want = math.floor(wanted_lines(settings, level, floor, window) + 1e-9)
    n = min(want, cap) - floor.lines_ringing
    n = min(n, floor.entries)
    if floor.room is not None:
        n = min(n, floor.room)
    return max(0, n)


def level_of(settings: Settings, level: float) -> float:
    """The dial level a campaign shows: lines per free agent for its mode."""
    if settings.mode == PROGRESSIVE:
        return 1.0
    if settings.mode == POWER:
        return min(max(MIN_LEVEL, settings.ratio), _cap(settings))
    return max(MIN_LEVEL, min(level, _cap(settings)))
