"""Recording a prompt from a phone: an admin dials ``*30`` (``dialplan_vars.PROMPT_RECORD_CODE``)
from their own phone, keys a prompt's number, records, hears it back and keeps it.

**Who may**: only a phone whose agent is linked to an active web account with the admin
role, the same people who may upload prompts in the web UI.  The phone is the one that
placed the call, as for the agents' feature codes: a SIP phone by its digest-authenticated
endpoint, an analog phone by its port's caller ID, so nobody can pose as an admin's phone
by typing something.  No PIN: the admin's own desk phone is the credential, and every
recording is audited with the admin's name and the phone.

**Files**: Record() writes the take as ``<spool>/prompt-record/<uniqueid>-take.wav``; it is
converted like an upload (``PromptService.converted``: 8 kHz mono, level raised or a silent
one refused) into ``<uniqueid>-draft.wav`` for the admin to hear; keeping it stores the take
through ``PromptService.record``, the same conversion again, as an ``upload`` prompt the web
UI lists at once.  Takes of a call that hung up are swept at the next ``begin``.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from appliance.db import models as m
from appliance.errors import ValidationError

logger = logging.getLogger(__name__)

SPOOL = "prompt-record"
STALE_SECONDS = 3600
_UNIQUEID = re.compile(r"^[0-9]+\.[0-9]+$")


class PhoneRecorder:
    def __init__(self, prompts, spool_dir: Path, asterisk_spool: str):
        self.prompts = prompts  # services.prompts.PromptService
        self.dir = Path(spool_dir) / SPOOL
        self.asterisk_dir = f"{asterisk_spool}/{SPOOL}"

    @staticmethod
    def admin_at(extension: str):
        """The admin account whose agent sits at phone ``extension``, or None."""
        if not extension:
            return None
        agent = (m.Agent.select(m.Agent, m.User).join(m.Phone).switch(m.Agent).join(m.User)
                 .where(m.Phone.extension == extension, m.User.role == "admin", m.User.active == True)  # noqa: E712
                 .first())
        return agent.user if agent else None

    def begin(self) -> None:
        """A recording call starts: the spool is there, and what hung-up calls left is gone."""
        self.dir.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - STALE_SECONDS
        for old in self.dir.glob("*.wav"):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)

    def _path(self, uniqueid: str, what: str) -> Path:
        if not _UNIQUEID.fullmatch(uniqueid or ""):
            raise ValidationError(f"not a channel id: {uniqueid!r}", code="prompt_record.bad_call")
        return self.dir / f"{uniqueid}-{what}.wav"

    def take_file(self, uniqueid: str) -> str:
        """Where Record() writes this call's take, as Asterisk sees it, without the extension."""
        return f"{self.asterisk_dir}/{self._path(uniqueid, 'take').stem}"

    def _take(self, uniqueid: str) -> bytes:
        path = self._path(uniqueid, "take")
        if not path.is_file():
            raise ValidationError("nothing was recorded", code="prompt.empty")
        return path.read_bytes()

    def check_take(self, uniqueid: str) -> str:
        """Convert the take as an upload would be (``ValidationError`` when it is silent, too
        short...); the converted copy to play back, as Asterisk sees it, without extension."""
        converted = self.prompts.converted(self._take(uniqueid))
        draft = self._path(uniqueid, "draft")
        draft.write_bytes(converted.wav)
        return f"{self.asterisk_dir}/{draft.stem}"

    def keep(self, uniqueid: str, number: str, user, extension: str) -> dict:
        """Store the take as prompt ``number`` ('' for a new one); the prompt as the API shows it."""
        prompt = self.prompts.record(number, self._take(uniqueid), f"{user.username} (phone {extension})",
                                     language=user.language, description=f"recorded on phone {extension}")
        for what in ("take", "draft"):
            self._path(uniqueid, what).unlink(missing_ok=True)
        return prompt
