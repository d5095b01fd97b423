"""Retention of recordings, pure: how long each is kept, and which are due to go.

A recording is kept ``keep_days`` after it was made: its queue's setting when the queue has
one (``recording_keep_days`` > 0), else its call direction's (``recording_rules.keep_days``);
0 keeps it for ever. A caller's message (voicemail) counts as inbound.

With an archive configured, a recording is never deleted from the appliance before its
archived copy was verified: it is *held* (and deleted at a later run, once archived). The
archive itself is the customer's long-term store: the appliance never deletes anything
there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetentionRules:
    by_direction: Mapping[str, int] = field(default_factory=dict)  # direction -> days (0: kept)
    by_queue: Mapping[str, int] = field(default_factory=dict)  # queue -> days (0: the direction's)

    def keep_days(self, direction: str, queue: str) -> int:
        days = self.by_queue.get(queue, 0) if queue else 0
        if days > 0:
            return days
        return self.by_direction.get(direction or "inbound", 0)


@dataclass(frozen=True)
class Kept:
    """A complete recording, as retention sees it."""

    row_id: int
    direction: str
    queue: str
    created_at: dt.datetime
    archived: bool


@dataclass(frozen=True)
class Plan:
    expire: tuple[int, ...]  # row ids whose MP3 goes now
    held: tuple[int, ...]  # due, but waiting for their archived copy


def plan(recordings: Iterable[Kept], rules: RetentionRules, now: dt.datetime, *, archive_on: bool) -> Plan:
    expire, held = [], []
    for rec in recordings:
        days = rules.keep_days(rec.direction, rec.queue)
        if days <= 0 or rec.created_at + dt.timedelta(days=days) > now:
            continue
        (held if archive_on and not rec.archived else expire).append(rec.row_id)
    return Plan(tuple(expire), tuple(held))


def oldest_due(rules: RetentionRules, now: dt.datetime) -> dt.datetime | None:
    """Nothing made after this can be due: the shortest retention bounds the query."""
    days = [d for d in (*rules.by_direction.values(), *rules.by_queue.values()) if d > 0]
    return now - dt.timedelta(days=min(days)) if days else None
