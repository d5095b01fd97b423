"""Recording policy, pure: states, file names, what a worker's answer means, and the
start-up reconciliation plan. No file, database or process is touched here.

States of a ``recording`` row::

    recording ──call ends──► pending ──worker takes it──► encoding ──MP3 verified──► complete
        │                       ▲                            │  worker died, tries left
        │                       └────────────────────────────┘
        │                                                    ├─ bad WAV, disk full, tries used up ──► failed
        └─ no WAV after the call (found at start-up) ──► missing      complete ──MP3 gone──► missing
                                                                      complete ──MP3 altered──► corrupt

``expired``: kept its retention time; its MP3 was deleted (appliance/recording/retention.py).

``refused``: the disk guard did not let this call be recorded (no WAV, no MP3). A standby
(recorded muted, for on-demand start) that nobody started is deleted with its WAV at the
end of the call, or at the next start-up (``discard``).

``failed`` keeps its WAV. A ``recording.disk_full`` failure is tried again at the next
reconciliation; the others need a person.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from appliance.recording import errors

RECORDING, PENDING, ENCODING, COMPLETE, FAILED, MISSING, CORRUPT, REFUSED, EXPIRED = (
    "recording", "pending", "encoding", "complete", "failed", "missing", "corrupt", "refused", "expired")
STATES = (RECORDING, PENDING, ENCODING, COMPLETE, FAILED, MISSING, CORRUPT, REFUSED, EXPIRED)
RETRYABLE = (errors.DISK_FULL,)  # worth another try once the cause may have gone
DEFAULT_MAX_ATTEMPTS = 3

# Asterisk linkedids look like "1732345678.42" (or "host-1732345678.42" with systemname).
# They become file names, so anything else is refused rather than escaped.
_LINKEDID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")


def valid_linkedid(linkedid: str) -> bool:
    return bool(_LINKEDID.match(linkedid)) and ".." not in linkedid


def wav_name(linkedid: str) -> str:
    """The file MixMonitor writes in the spool for this call."""
    if not valid_linkedid(linkedid):
        raise ValueError(f"not a linkedid we make file names from: {linkedid!r}")
    return f"{linkedid}.wav"


def linkedid_of_wav(name: str) -> str | None:
    """The call a spool file belongs to, or None if it is not one of ours."""
    if not name.endswith(".wav"):
        return None
    linkedid = name[:-4]
    return linkedid if valid_linkedid(linkedid) else None


def mp3_name(linkedid: str, created_at: dt.datetime) -> str:
    """Where the MP3 goes, relative to the store: one folder per day, so no folder grows huge."""
    wav_name(linkedid)
    return f"{created_at:%Y/%m/%d}/{linkedid}.mp3"


@dataclass(frozen=True)
class Outcome:
    """What to write on the row after an encode attempt, and whether the WAV may go."""

    state: str
    error_code: str = ""
    detail: str = ""
    delete_wav: bool = False
    requeue: bool = False


def after_encode(result: dict | None, attempts: int, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Outcome:
    """The outcome of one attempt; ``result`` is the worker's answer, None if the worker died.

    Only a verified MP3 lets the WAV go. A dead worker is tried again (the crash may not
    be this file's fault) until ``max_attempts``, so a WAV that kills the encoder cannot
    keep the pool crashing.
    """
    if result is None:
        if attempts < max_attempts:
            return Outcome(PENDING, detail=f"encoder died (attempt {attempts} of {max_attempts}); trying again",
                           requeue=True)
        return Outcome(FAILED, errors.ENCODER_CRASHED, f"encoder died on this file {attempts} times")
    if result.get("ok"):
        return Outcome(COMPLETE, detail=result.get("detail", ""), delete_wav=True)
    return Outcome(FAILED, result.get("code") or errors.ENCODE_FAILED, result.get("detail", ""))


# -- start-up reconciliation -------------------------------------------------------------

@dataclass(frozen=True)
class RowFacts:
    """One row and what the adapter found on disk for it.

    ``mp3_ok``: None if the MP3 was not checked (or is absent), else whether it is the file
    the row describes (size, and checksum when asked) or, for a row not yet complete,
    whether it parses as a whole MP3.
    """

    id: int
    linkedid: str
    state: str
    error_code: str
    attempts: int
    wav_exists: bool
    mp3_exists: bool
    part_exists: bool
    mp3_ok: bool | None = None
    wanted: bool = True  # False: a standby nobody started (nothing to keep)


@dataclass(frozen=True)
class Action:
    kind: str  # create | remove_part | queue | adopt | flag | delete_wav | discard
    row_id: int | None = None
    linkedid: str = ""
    state: str = ""
    error_code: str = ""
    detail: str = ""


def plan_reconcile(rows: Iterable[RowFacts], spool_wavs: Iterable[str], active: Iterable[str] = (),
                   max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> list[Action]:
    """What to do at start-up so that every finished call's recording ends complete or flagged.

    ``spool_wavs`` are the linkedids of the WAVs in the spool; ``active`` the linkedids of
    calls still going on (their WAV is being written: left alone). Applying the plan and
    planning again gives an empty plan, or only ``queue`` actions for rows still pending.
    """
    active = set(active)
    actions: list[Action] = []
    known = set()
    for row in rows:
        known.add(row.linkedid)
        if row.linkedid in active:
            continue
        actions.extend(_plan_row(row, max_attempts))
    for linkedid in sorted(set(spool_wavs) - known - active):
        actions.append(Action("create", linkedid=linkedid, detail="WAV found in the spool without a row"))
    return actions


def _plan_row(row: RowFacts, max_attempts: int) -> list[Action]:
    out = [Action("remove_part", row.id)] if row.part_exists else []
    if row.state == RECORDING and not row.wanted:
        return out + [Action("discard", row.id)]
    if row.state in (RECORDING, PENDING, ENCODING):
        if row.state == ENCODING and row.attempts >= max_attempts and row.wav_exists:
            return out + [Action("flag", row.id, state=FAILED, error_code=errors.ENCODER_CRASHED,
                                 detail=f"encoding interrupted {row.attempts} times")]
        if row.wav_exists:
            return out + [Action("queue", row.id)]
        if row.mp3_exists and row.mp3_ok:
            # the WAV went after a verified MP3, but the row's update did not survive (power loss)
            return out + [Action("adopt", row.id)]
        return out + [Action("flag", row.id, state=MISSING, error_code=errors.MISSING,
                             detail="the call ended but its WAV is not in the spool")]
    if row.state == COMPLETE:
        if row.mp3_exists and row.mp3_ok is not False:
            return out + ([Action("delete_wav", row.id)] if row.wav_exists else [])
        if row.wav_exists:  # the WAV is still there: make the MP3 again
            return out + [Action("queue", row.id)]
        if not row.mp3_exists:
            return out + [Action("flag", row.id, state=MISSING, error_code=errors.MISSING,
                                 detail="the MP3 of this complete recording is gone")]
        return out + [Action("flag", row.id, state=CORRUPT, error_code=errors.CHECKSUM_MISMATCH,
                             detail="the MP3 differs from the one written (size or SHA-256)")]
    if row.state == FAILED and row.error_code in RETRYABLE and row.wav_exists:
        return out + [Action("queue", row.id)]
    return out
