"""Voice verification codes: ``POST /api/v1/voice-codes`` calls a number and says a code
digit by digit, twice, in the language asked for.

``send`` checks the request (a number the sender's calling permission allows: the same
check as every way out, services/calling.py, a refusal audited; a code of 4 to 8 digits; a
language the appliance speaks), the limits (``per_number`` calls to one number and
``per_sender`` calls from one API token, or one signed-in account, in any hour:
``TooManyRequests`` with the seconds to wait otherwise), stores a row without the code,
and originates the call: AMI ``Originate`` of ``Local/<number>@cc-voicecode-dial`` (the
trunks in order, with failover: confgen.extensions._dial_out) answered into
``cc-voicecode-say``.

The code is never stored and never logged, by us or by Asterisk: it is not in the row, not
in the AMI action, not in a dialplan argument.  What Asterisk plays is one audio file made
for the call (the digits' own GSM sound files, which are raw 33-byte frames, put end to
end with a second of silence before each saying), in Asterisk's run folder under a random
name, read by ``Playback`` (its log line names only the file), and removed when the call
is over.  Saying the digits one by one with ``SayDigits`` or ``Playback(digits/4&...)``
would write them into Asterisk's verbose log (``Executing ... SayDigits("...", "4821")``,
``Playing 'digits/4.gsm'``), which keeps verbose level 3.

The dialplan reports to FastAGI ``voicecode`` with the call's token ``<id>-<nonce>``:
``dialed`` with DIALSTATUS when nobody answered (busy, no answer, failed), ``answered``
when the callee picked up, ``said`` once the code was said to the end, ``ended`` from the h
extension.  Each result is published on the event bus (topic ``voicecode``).  A call
nobody reported on within ``report_seconds`` (Asterisk restarted meanwhile) is failed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
from pathlib import Path

import gevent

from appliance import dialplan_vars as v
from appliance import numbers
from appliance import sounds as own_sounds
from appliance.db import models as m
from appliance.engine import voicecodes as rules
from appliance.errors import FieldError, NotFound, TooManyRequests, ValidationError
from appliance.services.calling import CallingPolicy

logger = logging.getLogger(__name__)

PATH = "voice-code"  # the way out, as the audit log of a refusal names it
CODE = re.compile(r"[0-9]{4,8}")
NUMBER = re.compile(r"\+?[0-9]{3,31}")
WINDOW_SECONDS = 3600
RING_SECONDS = 90  # the Originate's wait for an answer (the trunks' Dial rings 60 s each)
GSM_FRAME = 33  # bytes of one 20 ms GSM 06.10 frame: .gsm files are whole frames end to end
AUDIO_SUFFIX = ".gsm"


class VoiceCodeService:
    def __init__(self, db, ami, bus, *, audio_dir: Path, asterisk_audio_dir: str, core_sounds: Path,
                 own_sounds_dir: Path = own_sounds.SOURCE_DIR, calling: CallingPolicy | None = None,
                 per_number: int = 5, per_sender: int = 100, report_seconds: float = 300.0, now=m.utcnow):
        self.db = db
        self.ami = ami
        self.bus = bus
        self.calling = calling or CallingPolicy(db)
        self.audio_dir = Path(audio_dir)  # the per-call audio, as we see it...
        self.asterisk_audio_dir = asterisk_audio_dir.rstrip("/")  # ...and as Asterisk sees it
        self.core_sounds = Path(core_sounds)  # Asterisk's English core sounds (digits/N, silence/1)
        self.own_sounds_dir = Path(own_sounds_dir)  # ours: <language>/cc-digit-N.gsm
        self.per_number = per_number
        self.per_sender = per_sender
        self.report_seconds = report_seconds
        self.now = now
        self._loop = None

    # -- a request ---------------------------------------------------------------------------
    def send(self, number, code, language, *, actor: str, sender: str) -> dict:
        number, code, language = self._checked(number, code, language)
        decision = self.calling.check_user(actor, number, PATH)
        if decision.number_class in (numbers.INTERNAL, numbers.EMERGENCY):
            raise ValidationError(f"{number} is not a number a code can be said to ({decision.number_class})",
                                  code="voicecode.bad_number",
                                  fields={"number": FieldError("field.outside_number", "a customer's phone number")})
        now = self.now()
        self._limit(m.VoiceCode.number == number, self.per_number, now, "voicecode.number_limit",
                    f"{number} was sent {self.per_number} codes in the last hour")
        self._limit(m.VoiceCode.sender == sender, self.per_sender, now, "voicecode.sender_limit",
                    f"{self.per_sender} codes were sent in the last hour with these credentials")
        audio = self.audio(code, language)
        name = f"vc-{secrets.token_hex(12)}"
        with self.db.atomic():
            row = m.VoiceCode.create(number=number, language=language, requested_by=actor[:64], sender=sender[:64],
                                     call_token=secrets.token_hex(8), audio=name, state=rules.CALLING, detail="",
                                     created_at=now)
        token = f"{row.id}-{row.call_token}"
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.audio_dir / f"{name}{AUDIO_SUFFIX}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "wb") as out:
            out.write(audio)
        logger.info("%s: voice code %s to %s (%s)", actor, row.id, number, language)
        try:
            resp = self.ami.send_action("Originate", {
                "Channel": f"Local/{number}@{v.VOICECODE_DIAL_CONTEXT}",
                "Context": v.VOICECODE_SAY_CONTEXT, "Exten": "s", "Priority": 1,
                "Variable": f"__{v.VOICECODE_JOB}={token},{v.VOICECODE_FILE}={self.asterisk_audio_dir}/{name}",
                "Timeout": RING_SECONDS * 1000, "Async": "true"})
            refused = resp.get("Message") if resp.name == "Error" else None
        except Exception as exc:  # AMI down: no call
            refused = str(exc) or exc.__class__.__name__
        if refused:
            self._remove(name)
            self._end(row.id, rules.FAILED, "not-started")
            logger.warning("voice code %s: Asterisk did not start the call: %s", row.id, refused)
        return self.get(row.id)

    def _checked(self, number, code, language) -> tuple[str, str, str]:
        fields = {}
        number = numbers.clean(number) if isinstance(number, str) else ""
        if not NUMBER.fullmatch(number):
            fields["number"] = FieldError("field.dialled_number", "digits, optionally starting with +")
        if not (isinstance(code, str) and CODE.fullmatch(code)):
            fields["code"] = FieldError("field.voice_code", "4 to 8 digits")
        if language is None or language == "":
            language = own_sounds.DEFAULT_LANGUAGE
        if language not in own_sounds.LANGUAGES:
            choices = ", ".join(own_sounds.LANGUAGES)
            fields["language"] = FieldError("field.choice", f"one of {choices}", choices=choices)
        if fields:
            raise ValidationError("the voice code request is not valid", code="voicecode.invalid", fields=fields)
        return number, code, language

    def _limit(self, which, limit: int, now: dt.datetime, code: str, message: str) -> None:
        start = now - dt.timedelta(seconds=WINDOW_SECONDS)
        times = [t for (t,) in m.VoiceCode.select(m.VoiceCode.created_at)
                 .where(which, m.VoiceCode.created_at > start).tuples()]
        wait = rules.retry_after(times, now, limit, WINDOW_SECONDS)
        if wait:
            logger.warning("voice code refused: %s (try again in %d s)", message, wait)
            raise TooManyRequests(message, code=code, retry_after=wait, params={"seconds": str(wait)})

    # -- the audio -------------------------------------------------------------------------------
    def sound_file(self, key: str, language: str) -> Path:
        """The GSM file of a digit ``0``-``9`` (or ``silence``) in ``language``: ours in
        Chinese, Asterisk's core sounds in English (appliance.sounds decides which)."""
        if key == rules.SILENCE:
            return self.core_sounds / "silence" / f"1{AUDIO_SUFFIX}"
        [played] = own_sounds.playable(f"digit-{key}", language, str(self.own_sounds_dir))
        path = Path(played) if played.startswith("/") else self.core_sounds / played
        return path.with_name(path.name + AUDIO_SUFFIX)

    def audio(self, code: str, language: str) -> bytes:
        """What the callee hears: ``rules.spoken`` as one GSM file."""
        parts = []
        for key in rules.spoken(code):
            data = self.sound_file(key, language).read_bytes()
            parts.append(data[:len(data) - len(data) % GSM_FRAME])
        return b"".join(parts)

    def _remove(self, name: str) -> None:
        if name.startswith("vc-"):
            (self.audio_dir / f"{name}{AUDIO_SUFFIX}").unlink(missing_ok=True)

    # -- reading -----------------------------------------------------------------------------------
    def get(self, code_id: int) -> dict:
        row = m.VoiceCode.get_or_none(m.VoiceCode.id == code_id)
        if row is None:
            raise NotFound(FieldError("error.msg.voice_code_not_found", f"no voice code {code_id}", id=code_id),
                           code="voicecode.not_found")
        return _view(row)

    # -- the dialplan's reports ----------------------------------------------------------------------
    def _current(self, token: str):
        code_id, _, nonce = (token or "").partition("-")
        row = m.VoiceCode.get_or_none(m.VoiceCode.id == int(code_id)) if code_id.isdigit() else None
        if row is None or not secrets.compare_digest(row.call_token.encode(), nonce.encode("utf-8", "replace")):
            logger.warning("voice code report %r is about no call of ours; ignored", token)
            return None
        return row

    def report(self, what: str, token: str, status: str = "") -> None:
        row = self._current(token)
        if row is None:
            return
        if what == "dialed":  # nobody answered
            self._remove(row.audio)
            if row.state == rules.CALLING:
                self._end(row.id, rules.result_of(status), (status or "no trunk")[:64])
        elif what == "answered" and row.state == rules.CALLING:
            self._end(row.id, rules.ANSWERED, "")
        elif what == "said":
            m.VoiceCode.update(said=status == "SUCCESS").where(m.VoiceCode.id == row.id).execute()
        elif what == "ended":
            self._remove(row.audio)

    def _end(self, code_id: int, state: str, detail: str) -> None:
        m.VoiceCode.update(state=state, detail=detail, ended_at=self.now()).where(m.VoiceCode.id == code_id).execute()
        view = self.get(code_id)
        logger.info("voice code %s to %s: %s", code_id, view["number"], state)
        self.bus.publish("voicecode", {"event": state, **view})

    # -- housekeeping ----------------------------------------------------------------------------------
    def sweep(self) -> None:
        """Calls nobody reported on in time are failed; audio files of calls that are over go."""
        stale = self.now() - dt.timedelta(seconds=self.report_seconds)
        for row in m.VoiceCode.select().where(m.VoiceCode.state == rules.CALLING, m.VoiceCode.created_at < stale):
            self._remove(row.audio)
            self._end(row.id, rules.FAILED, "no-report")
        live = {a for (a,) in m.VoiceCode.select(m.VoiceCode.audio).where(m.VoiceCode.created_at >= stale).tuples()}
        for path in self.audio_dir.glob(f"vc-*{AUDIO_SUFFIX}") if self.audio_dir.exists() else ():
            if path.stem not in live:
                path.unlink(missing_ok=True)

    def start(self, interval: float = 60.0) -> None:
        def loop():
            while True:
                try:
                    self.sweep()
                except Exception:
                    logger.exception("voice codes: housekeeping failed")
                gevent.sleep(interval)

        self._loop = gevent.spawn(loop)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill()


def _view(row) -> dict:
    def iso(value):
        return value.isoformat(timespec="seconds") + "Z" if value else None

    return {"id": row.id, "number": row.number, "language": row.language, "state": row.state,
            "said": bool(row.said), "requested_by": row.requested_by, "created_at": iso(row.created_at),
            "ended_at": iso(row.ended_at), "reason": row.detail}
