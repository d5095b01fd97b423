"""Predictive pacing (appliance/engine/pacing.py) against a simulated callee population, without
Asterisk: the population of ``make bench``'s ``predictive`` (bench/predictive.py, issue 16
point 10): 12 agents, each number rings 2 to 8 s (and half a second to set up), 30 % answer
and talk 8 to 20 s, the others ring out.  The dialler's loop as ``services/dialer.py`` runs it:
once a second the lines to place from the agents free and busy and the lines ringing, the
factor adapted every 10 s from the campaign's ended calls (progressive's first, as a campaign
switched to predictive has them).  An answered call takes the agent free longest, or is
abandoned.

The benchmark measures the same on the real Asterisk; a run of it is one draw (a 3 % target is
2 or 3 of a run's answers).  Here 24 seeded runs of each mode: their means are what the model
gives, apart from the machine's noise."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from appliance.engine import pacing
from appliance.engine.pacing import Floor, Settings, Window, adapt, lines_to_dial

AGENTS = 12
ANSWER_SHARE = 0.3
SECONDS = 300
TARGET = 3.0
RUNS = 24


@dataclass
class Call:
    placed: float
    answered_at: float  # when it rings out or is answered
    answers: bool
    result: str = ""  # answered | abandoned | no-answer, once decided
    ended: float = 0.0
    talk: float = 0.0


@dataclass
class Run:
    mode: str
    seed: int
    history: list = field(default_factory=list)  # calls ended before (the window's start)
    talk: float = 0.0

    def play(self) -> list[Call]:
        rnd = random.Random(self.seed)
        settings, factor, adapted, window = Settings(self.mode, target_abandon=TARGET), 1.0, -60.0, Window()
        free_at = [0.0] * AGENTS
        calls: list[Call] = []
        for now in range(SECONDS):
            for call in (c for c in calls if not c.result and c.answered_at <= now):
                self._settle(call, free_at, rnd)
            if self.mode == pacing.PREDICTIVE and now - adapted >= 10:
                window = _window(self.history + [c for c in calls if c.result and c.ended <= now])
                factor, adapted = adapt(factor, window, settings), now
            ready = sum(1 for t in free_at if t <= now)
            ringing = sum(1 for c in calls if not c.result)
            for _ in range(lines_to_dial(settings, factor, Floor(ready, AGENTS - ready, ringing, 10_000), window)):
                calls.append(Call(now, now + 0.5 + rnd.uniform(2, 8), rnd.random() < ANSWER_SHARE))
        return calls

    def _settle(self, call: Call, free_at: list[float], rnd: random.Random) -> None:
        if not call.answers:
            call.result, call.ended = "no-answer", call.answered_at
            return
        free = [i for i, t in enumerate(free_at) if t <= call.answered_at]
        if not free:
            call.result, call.ended = "abandoned", call.answered_at + 5
            return
        agent = min(free, key=lambda i: free_at[i])
        call.talk = rnd.uniform(8, 20)
        call.result, call.ended = "answered", call.answered_at + call.talk
        free_at[agent] = call.ended
        self.talk += call.talk


def _window(ended: list[Call]) -> Window:
    answered = [c for c in ended if c.result == "answered"]
    picked = [c for c in ended if c.result in ("answered", "abandoned")]
    ring = sum(c.answered_at - c.placed for c in picked) / len(picked) if picked else 0.0
    handle = sum(c.talk for c in answered) / len(answered) if answered else 0.0
    return Window(len(ended), len(answered), len(picked) - len(answered), ring, handle)


def _abandon_rate(calls: list[Call]) -> float:
    answered = sum(1 for c in calls if c.result == "answered")
    abandoned = sum(1 for c in calls if c.result == "abandoned")
    return 100.0 * abandoned / (answered + abandoned)


def test_predictive_gives_half_again_the_talk_time_of_progressive_within_the_abandon_target():
    ratios, rates = [], []
    for seed in range(RUNS):
        progressive = Run(pacing.PROGRESSIVE, seed)
        history = progressive.play()
        assert _abandon_rate(history) == 0.0  # one line per free agent: nobody is ever left without one
        predictive = Run(pacing.PREDICTIVE, 1000 + seed, history=history)
        rates.append(_abandon_rate(predictive.play()))
        ratios.append(predictive.talk / progressive.talk)
    # measured: 1.65 and 2.97 % (14 runs of 24 meet both); counting the busy agents' mean as
    # certain and the whole ring as theirs to finish in, with a factor up to 2: 5.2 %
    assert sum(ratios) / RUNS >= 1.5, ratios
    assert sum(rates) / RUNS <= TARGET, rates
