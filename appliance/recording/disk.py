"""The disk guard, pure: may a new call be recorded, and how many days of recordings fit.

A recording needs room twice: its WAV grows in the spool during the call at 16 KB/s
(8 kHz, 16-bit), sixteen times what its MP3 will take. So new recordings are refused
while the free space is above zero but below a reserve, not when it runs out: the
reserve is what calls already being recorded, and their MP3s, still need. The default,
the larger of 500 MB and 2% of the file system, holds about 8.7 hours of WAV, e.g. 30
calls of 17 minutes recorded at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from appliance.recording import errors

DEFAULT_RESERVE_MIN_BYTES = 500 * 1000 * 1000
DEFAULT_RESERVE_FRACTION = 0.02
DEFAULT_WINDOW_DAYS = 7


def reserve_bytes(total_bytes: int, min_bytes: int = DEFAULT_RESERVE_MIN_BYTES,
                  fraction: float = DEFAULT_RESERVE_FRACTION) -> int:
    """The space kept free: ``min_bytes`` or ``fraction`` of the file system, whichever is larger."""
    return max(min_bytes, int(total_bytes * fraction))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    alarm: str = ""  # a stable code when refused
    message: str = ""


def may_start_recording(free_bytes: int, reserve: int) -> Decision:
    """Refuse a new recording once free space is at or below the reserve."""
    if free_bytes > reserve:
        return Decision(True)
    return Decision(False, errors.DISK_FULL,
                    f"recording storage is full: {free_bytes / 1e6:.0f} MB free, {reserve / 1e6:.0f} MB kept in "
                    f"reserve; new calls are not recorded until space is freed")


# A rate needs a day of recording behind it: the first hour's test calls averaged over one
# day once read as 7,648,503 days of storage left (issue 15.2).  Past ten years the figure
# says nothing more than "plenty", and the page says that instead.
MIN_HISTORY_DAYS = 1.0
PLENTY_DAYS = 3650


def days_left(free_bytes: int, recent_bytes_per_day: float, reserve: int = 0,
              history_days: float | None = None) -> float | None:
    """Days until new recordings are refused at the recent rate; None if nothing was recorded
    lately or, given ``history_days`` (since the first recording of all), before a whole day
    of recording has given a rate."""
    if recent_bytes_per_day <= 0:
        return None
    if history_days is not None and history_days < MIN_HISTORY_DAYS:
        return None
    return max(0.0, (free_bytes - reserve) / recent_bytes_per_day)


def days_basis(recent_bytes_per_day: float, history_days: float | None) -> str:
    """Why ``days_left`` is what it is: ``rate`` (measured), ``too_soon`` (less than a day of
    recording so far) or ``nothing`` (nothing recorded in the window)."""
    if history_days is not None and history_days < MIN_HISTORY_DAYS:
        return "too_soon"
    return "rate" if recent_bytes_per_day > 0 else "nothing"


def bytes_per_day(completed: Iterable[tuple[dt.datetime, int]], now: dt.datetime,
                  window_days: int = DEFAULT_WINDOW_DAYS, first_ever: dt.datetime | None = None) -> float:
    """Average MP3 bytes per day over the last ``window_days``, from (completed_at, bytes) pairs.

    ``first_ever`` is when the first recording of all was completed: an appliance younger
    than the window is averaged over the days it has (its first hour's calls do not read as
    a week's), but over one day at least. Without it, the oldest pair given stands in.
    """
    since = now - dt.timedelta(days=window_days)
    total, first = 0, None
    for at, size in completed:
        if at is None or at < since or at > now:
            continue
        total += size or 0
        first = at if first is None or at < first else first
    if first is None:
        return 0.0
    first = first_ever if first_ever is not None and first_ever < first else first
    days = max(1.0, min(float(window_days), (now - first).total_seconds() / 86400))
    return total / days
