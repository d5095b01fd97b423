"""Callers' messages (voicemail): after hours on a DID that says so, or when a queue's
callers reach nobody, the caller leaves a message for the queue's team.

Why Record() and our pipeline rather than app_voicemail: a message is one more recording.
Record() writes a WAV into the same spool MixMonitor uses, and the same pipeline makes the
verified 8 kbit/s MP3 with its SHA-256, survives crashes (start-up reconciliation), obeys
the disk guard, retention and the archive, and serves it with HTTP Range. app_voicemail
would bring mailboxes with PINs, its own folder tree and file formats, MWI and e-mail,
none of which a team's shared list of call-backs needs, and a second place where audio
lives outside the recording pipeline's guarantees.

A message's recording is keyed ``<linkedid>-msg`` (the call's own recording, if any, keeps
the linkedid) and marked with the policy ``voicemail``, so the recordings list leaves it
out. Its ``voice_message`` row says for whom it is: the queue, and the caller's account
manager when the caller is a customer who has one. "Handled" records who and when, for
the whole team to see.
"""

from __future__ import annotations

import logging

from peewee import JOIN

from appliance.db import models as m
from appliance.errors import Conflict, FieldError, NotFound, ValidationError
from appliance.recording.pipeline import RecordingRefused
from appliance.services.crm import Viewer
from appliance.services.recording import VOICEMAIL_POLICY

logger = logging.getLogger(__name__)

KEY_SUFFIX = "-msg"
STATES = ("open", "handled", "all")
NOTE_MAX = 1000
EVERYONE_SEES = Viewer("voicemail", "admin")  # the caller's record, whoever manages it (as the screen pop)


def recording_key(linkedid: str) -> str:
    return f"{linkedid}{KEY_SUFFIX}"


class VoicemailService:
    def __init__(self, db, recordings, crm, account_manager_of=lambda caller: None, *, now=m.utcnow):
        self.db = db
        self.recordings = recordings  # RecordingService: the pipeline, the spool as Asterisk sees it
        self.crm = crm
        self.account_manager_of = account_manager_of
        self.now = now

    # -- the call path (FastAGI ``voicemail``) ----------------------------------------------
    def begin(self, linkedid: str, queue: str, *, caller: str = "", caller_name: str = "", did: str = "",
              reason: str = "") -> str | None:
        """A caller is about to leave a message for ``queue``: the WAV path for Record() as
        Asterisk sees it, or None when it cannot be kept (the disk guard)."""
        key = recording_key(linkedid)
        try:
            wav = self.recordings.pipeline.begin(key, policy=VOICEMAIL_POLICY)
        except RecordingRefused as exc:
            logger.warning("call %s: no message can be left (%s)", linkedid, exc.message)
            return None
        m.VoiceMessage.insert(linkedid=linkedid, recording_key=key, caller=caller[:64], caller_name=caller_name[:128],
                              did=did[:32], queue=queue[:32], agent=self.account_manager_of(caller) or "",
                              reason=(reason or "no-answer")[:32], created_at=self.now(),
                              note="").on_conflict_ignore().execute()
        logger.info("call %s: the caller leaves a message for %s (%s)", linkedid, queue, reason)
        return f"{self.recordings.asterisk_spool}/{wav.name}"

    def call_ended(self, record: dict) -> None:
        """The call is over: its message (if one was being left) goes to the encoders; an
        empty one (the caller hung up at the beep) is not kept."""
        key = recording_key(record["linkedid"])

        def done(state: str | None) -> None:
            if state is None:
                m.VoiceMessage.delete().where(m.VoiceMessage.recording_key == key).execute()
                logger.info("call %s: the caller left no message", record["linkedid"])

        self.recordings.hand_over(key, partial=record.get("disposition") == "interrupted", answered=False, then=done)

    # -- the team ---------------------------------------------------------------------------
    def search(self, *, state: str = "open", queue: str = "", scope: tuple[set, set] | None = None,
               limit: int = 200) -> list[dict]:
        """Newest first. ``scope`` (agents, queues): an agent sees the messages of their
        queues and those left for them; None: everything (staff)."""
        if state not in STATES:
            raise ValidationError("state: open, handled or all",
                                  fields={
                                      "state": FieldError("field.choice", "open, handled or all",
                                                          choices="open, handled, all")})
        query = self._rows()
        if state == "open":
            query = query.where(m.VoiceMessage.handled_at.is_null())
        elif state == "handled":
            query = query.where(m.VoiceMessage.handled_at.is_null(False))
        if queue:
            query = query.where(m.VoiceMessage.queue == queue)
        if scope is not None:
            agents, queues = scope
            query = query.where(m.VoiceMessage.agent.in_(list(agents)) | m.VoiceMessage.queue.in_(list(queues)))
        return [self.view(row) for row in query.order_by(m.VoiceMessage.created_at.desc(),
                                                          m.VoiceMessage.id.desc()).limit(max(1, min(limit, 1000)))]

    def get(self, message_id: int, scope: tuple[set, set] | None = None) -> dict:
        row = self._rows().where(m.VoiceMessage.id == message_id).first()
        if row is None or (scope is not None and row.agent not in scope[0] and row.queue not in scope[1]):
            raise NotFound(f"no message {message_id}", code="voicemail.not_found")
        return self.view(row)

    def audio_file(self, message_id: int, scope=None):
        self.get(message_id, scope)
        row = m.VoiceMessage.get_by_id(message_id)
        return self.recordings.audio_file(row.recording_key)

    def handled(self, message_id: int, username: str, note: str = "", scope=None) -> dict:
        """Someone dealt with it (called back, passed it on): who and when, for the team."""
        message = self.get(message_id, scope)
        if message["handled_at"] is not None:
            raise Conflict(f"{message['handled_by']} already handled this message", code="voicemail.already_handled")
        note = (note or "").strip()
        if len(note) > NOTE_MAX:
            raise ValidationError("note: at most 1000 characters",
                                  fields={"note": FieldError("field.max_length", "at most 1000 characters", n=1000)})
        m.VoiceMessage.update(handled_by=username, handled_at=self.now(), note=note).where(
            m.VoiceMessage.id == message_id, m.VoiceMessage.handled_at.is_null()).execute()
        logger.info("%s handled message %s from %s", username, message_id, message["caller"])
        return self.get(message_id)

    def _rows(self):
        return (m.VoiceMessage.select(m.VoiceMessage, m.Recording)
                .join(m.Recording, JOIN.LEFT_OUTER, on=(m.Recording.linkedid == m.VoiceMessage.recording_key),
                      attr="recording"))

    def view(self, row) -> dict:
        rec = getattr(row, "recording", None)
        rec = rec if rec is not None and rec.linkedid else None
        return {"id": row.id, "linkedid": row.linkedid, "caller": row.caller, "caller_name": row.caller_name,
                "did": row.did, "queue": row.queue, "agent": row.agent, "reason": row.reason,
                "created_at": row.created_at, "handled_by": row.handled_by, "handled_at": row.handled_at,
                "note": row.note, "recording": rec.state if rec else "missing",
                "duration_seconds": rec.duration_seconds if rec else None,
                "playable": bool(rec and rec.state == "complete"),
                "customer": self.crm.find_by_phone(EVERYONE_SEES, row.caller) if row.caller else None}


__all__ = ["VoicemailService", "recording_key", "STATES"]
