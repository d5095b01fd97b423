"""Voice verification codes: the pure rules.  No I/O.

- ``retry_after``: a sliding-window limit (so many calls per number, per sender, in an hour):
  0 when one more is allowed, else the whole seconds until the oldest call in the window
  leaves it.
- ``result_of``: what the dialplan's DIALSTATUS of an unanswered attempt means to the sender.
- ``spoken``: what is said, as a list of sound keys: a moment of silence, the code digit by
  digit, a pause, the code again.
"""

from __future__ import annotations

import datetime as dt

CALLING, ANSWERED, BUSY, NO_ANSWER, FAILED = "calling", "answered", "busy", "no_answer", "failed"
STATES = (CALLING, ANSWERED, BUSY, NO_ANSWER, FAILED)
ENDED = (ANSWERED, BUSY, NO_ANSWER, FAILED)
TIMES = 2  # the code is said twice
# DIALSTATUS of an attempt nobody answered -> the result (CONGESTION, CHANUNAVAIL and
# anything else: no trunk could place the call)
DIAL_RESULTS = {"BUSY": BUSY, "NOANSWER": NO_ANSWER, "CANCEL": NO_ANSWER}
SILENCE = "silence"  # one second of silence, between the two sayings and before the first


def retry_after(times: list[dt.datetime], now: dt.datetime, limit: int, window_seconds: int) -> int:
    """Seconds to wait before one more call is allowed, given the times of the calls made
    (0: allowed now).  ``limit`` calls at most within any ``window_seconds``."""
    start = now - dt.timedelta(seconds=window_seconds)
    recent = sorted(t for t in times if t > start)
    if len(recent) < limit:
        return 0
    # the call that must leave the window before one more fits
    leaves = recent[len(recent) - limit] + dt.timedelta(seconds=window_seconds)
    return max(1, int((leaves - now).total_seconds() + 0.999))


def result_of(dialstatus: str) -> str:
    return DIAL_RESULTS.get((dialstatus or "").upper(), FAILED)


def spoken(code: str) -> list[str]:
    """Sound keys in order: ``silence`` or a digit ``0``-``9``."""
    digits = [d for d in code if d.isdigit()]
    said: list[str] = []
    for _ in range(TIMES):
        said += [SILENCE, *digits]
    return said
