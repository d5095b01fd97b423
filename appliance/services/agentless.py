"""Campaigns without agents (issue 16): a voice notification, "press a key to talk to an
agent" and an automatic survey; and answering-machine detection for every campaign call.

The dialer (``services/dialer.py``) originates each call with the channel variables
``CC_CAMPAIGN`` and ``CC_ATTEMPT`` (the ``campaign_attempt``) and sends it, answered, to
``cc-campaign-agentless,<mode>,1``; what happens then is the generated dialplan
(``confgen.extensions._campaigns``) asking FastAGI ``campaign`` (``agi/handlers/campaign.py``)
at each step, and this module answering:

- ``amd``: AMD()'s arguments when the campaign has detection on (``engine.agentless``),
  and ``amd_result``: AMDSTATUS on the attempt (machine, human, notsure) and what comes
  next: on a machine the campaign's choice, hang up, leave the message once the greeting
  and its beep are over (``WaitForSilence``), or pass the call on (to its queue here; to
  the agents in the dialer's modes).
- ``message``: the campaign's prompt (uploaded or recorded, ``services/prompts.py``),
  then the values of the entry's columns said in the campaign's language
  (``engine.saying``), put together for the call as one GSM file of the appliance's own
  sentences and Asterisk's core sounds (as a voice code's), removed when the call is over.
- ``key``: the key pressed after the message; the campaign's key sends the callee into
  the campaign's queue by the normal queue path (a normal queued call, recorded by
  policy, on the wallboard), anything else hears the message again, once.
- ``survey``: one question (a prompt) at a time, each answer (one key, or none) kept on the
  attempt as it comes.

Every result is on the attempt (``amd``, ``amd_cause``, ``heard``, ``keys``, ``answers``:
migration ``agentless_campaigns``), in the campaign's export, and on the event bus (topic
``campaign``).  ``clean`` and ``view`` are the campaign's settings for these modes
(``services/campaigns.py`` calls them).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from pathlib import Path

from appliance import sounds
from appliance.db import models as m
from appliance.engine import agentless as rules
from appliance.engine.saying import HOWS, Unsayable, say
from appliance.errors import NotFound
from appliance.services.calllists import _bad

logger = logging.getLogger(__name__)

MODES = ("notification", "press-key", "survey")
KEYS = "0123456789"
MAX_SPOKEN = 5
MAX_QUESTIONS = 10
COLUMN_MAX = 64
GSM_FRAME = 33  # bytes of one 20 ms GSM 06.10 frame
AUDIO_PREFIX = "ca-"
AUDIO_SUFFIX = ".gsm"
AUDIO_MAX_AGE_SECONDS = 3600  # a call's audio left behind (Asterisk restarted mid-call) goes after this


def _prompt_name(value, field: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if name and not m.Prompt.select().where(m.Prompt.name == name).exists():
        raise _bad(field, "field.no_such", "no such prompt", key=name)
    return name


def _spoken(value) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_SPOKEN:
        raise _bad("spoken", "campaigns.agentless.field.spoken", f"at most {MAX_SPOKEN} columns, each said as "
                   "digits, a number, a date or an amount", n=MAX_SPOKEN)
    out = []
    for item in value:
        column = item.get("column") if isinstance(item, dict) else None
        column = column.strip() if isinstance(column, str) else ""
        how = item.get("as") if isinstance(item, dict) else None
        if not column or len(column) > COLUMN_MAX or any(ord(c) < 32 for c in column) or how not in HOWS:
            raise _bad("spoken", "campaigns.agentless.field.spoken", f"at most {MAX_SPOKEN} columns, each said as "
                       "digits, a number, a date or an amount", n=MAX_SPOKEN)
        out.append({"column": column, "as": how})
    return out


def clean(data: dict, row: m.Campaign | None, values: dict) -> dict:
    """The settings of the modes without agents and of AMD in ``data`` (all of them for a
    new campaign, those given for a change), checked together with the mode and queue
    ``values`` already holds (or the row's)."""
    out: dict = {}

    def given(key: str) -> bool:
        return row is None or key in data

    if given("language"):
        language = data.get("language") or sounds.DEFAULT_LANGUAGE
        if language not in sounds.LANGUAGES:
            raise _bad("language", "field.choice", "zh_CN or en", choices=", ".join(sounds.LANGUAGES))
        out["language"] = language
    if given("prompt"):
        out["prompt"] = _prompt_name(data.get("prompt"), "prompt")
    if given("spoken"):
        out["spoken"] = json.dumps(_spoken(data.get("spoken")), ensure_ascii=False)
    if given("press_key"):
        key = data.get("press_key")
        key = "1" if key in (None, "") else key
        if not (isinstance(key, str) and len(key) == 1 and key in KEYS):
            raise _bad("press_key", "campaigns.agentless.field.press_key", "one key, 0 to 9")
        out["press_key"] = key
    if given("questions"):
        questions = data.get("questions") or []
        if (not isinstance(questions, list) or len(questions) > MAX_QUESTIONS
                or not all(isinstance(q, str) and q.strip() for q in questions)):
            raise _bad("questions", "campaigns.agentless.field.questions", f"at most {MAX_QUESTIONS} prompts",
                       n=MAX_QUESTIONS)
        out["questions"] = json.dumps([_prompt_name(q, "questions") for q in questions], ensure_ascii=False)
    if given("amd"):
        amd = data.get("amd", False)
        if not isinstance(amd, bool):
            raise _bad("amd", "field.boolean", "true or false")
        out["amd"] = amd
    if given("amd_action"):
        action = data.get("amd_action") or "hangup"
        if action not in rules.AMD_ACTIONS:
            raise _bad("amd_action", "field.choice", ", ".join(rules.AMD_ACTIONS), choices=", ".join(rules.AMD_ACTIONS))
        out["amd_action"] = action

    def now(key: str, default):
        if key in out:
            return out[key]
        if key in values:
            return values[key]
        return getattr(row, key) if row is not None else default

    mode, prompt, queue = now("mode", "preview"), now("prompt", ""), now("queue", "")
    if mode in ("notification", "press-key") and not prompt:
        raise _bad("prompt", "campaigns.agentless.field.prompt_needed", "this mode plays a prompt: choose one")
    if mode == "press-key" and not queue:
        raise _bad("queue", "campaigns.agentless.field.queue_needed", "the queue callers are put into")
    if mode == "survey" and not json.loads(now("questions", "[]")):
        raise _bad("questions", "campaigns.agentless.field.questions_needed", "at least one question")
    if now("amd", False) and now("amd_action", "hangup") == "message" and not prompt:
        raise _bad("amd_action", "campaigns.agentless.field.message_needs_prompt",
                   "a message for machines needs a prompt")
    if now("amd", False) and now("amd_action", "hangup") == "agent" and not queue and mode in MODES:
        raise _bad("amd_action", "campaigns.agentless.field.agent_needs_queue",
                   "passing machines to an agent needs a queue")
    return out


def view(row: m.Campaign) -> dict:
    return {"language": row.language, "prompt": row.prompt, "spoken": json.loads(row.spoken or "[]"),
            "press_key": row.press_key, "questions": json.loads(row.questions or "[]"), "amd": bool(row.amd),
            "amd_action": row.amd_action}


def attempt_results(attempt: m.CampaignAttempt) -> dict:
    """What an answered call of a campaign brought (the export and the API)."""
    return {"amd": attempt.amd, "amd_cause": attempt.amd_cause, "heard": bool(attempt.heard), "keys": attempt.keys,
            "answers": json.loads(attempt.answers or "[]")}


class AgentlessCalls:
    """The FastAGI ``campaign`` script's side: what to play, where to go, what came of it."""

    def __init__(self, db, files, *, audio_dir: Path, asterisk_audio_dir: str, bus=None, clock=m.utcnow,
                 amd: rules.AmdSettings = rules.DEFAULT_AMD):
        self.db = db
        self.files = files  # services.prompts.PromptFiles: prompts, core sounds, our sentences
        self.audio_dir = Path(audio_dir)  # each call's said values, as we see them...
        self.asterisk_audio_dir = asterisk_audio_dir.rstrip("/")  # ...and as Asterisk does
        self.bus = bus
        self.clock = clock
        self.amd_settings = amd

    # -- lookups --------------------------------------------------------------------------
    @staticmethod
    def _pair(campaign: str, attempt: str) -> tuple[m.Campaign, m.CampaignAttempt]:
        row = (m.CampaignAttempt.get_or_none(m.CampaignAttempt.id == int(attempt)) if str(attempt).isdigit()
               else None)
        if row is None or str(row.campaign_id) != str(campaign):
            raise NotFound(f"no attempt {attempt!r} of campaign {campaign!r}", code="campaigns.no_attempt")
        return row.campaign, row

    def _publish(self, event: str, campaign: m.Campaign, attempt: m.CampaignAttempt, **data) -> None:
        if self.bus is not None:
            self.bus.publish("campaign", {"event": event, "campaign": campaign.id, "attempt": attempt.id,
                                          "entry": attempt.entry_id, **data})

    # -- answering-machine detection -----------------------------------------------------
    def amd(self, campaign: str, attempt: str) -> dict:
        """AMD()'s arguments ('' with detection off), the call's language and queue."""
        row, a = self._pair(campaign, attempt)
        if a.answered_at is None:  # the first step of every answered campaign call
            a.answered_at = self.clock()
            a.save(only=[m.CampaignAttempt.answered_at])
        return {"args": self.amd_settings.arguments() if row.amd else "", "language": row.language,
                "queue": row.queue}

    def amd_result(self, campaign: str, attempt: str, status: str, cause: str) -> str:
        row, a = self._pair(campaign, attempt)
        result = rules.amd_result(status)
        a.amd, a.amd_cause = result, (cause or "")[:32]
        a.save()
        after = rules.after_amd(result, row.amd_action)
        logger.info("campaign %s attempt %s: AMD %s (%s): %s", row.name, a.id, result, cause, after)
        self._publish("amd", row, a, result=result, cause=a.amd_cause, then=after)
        return after

    # -- the message -----------------------------------------------------------------------
    def message(self, campaign: str, attempt: str) -> dict:
        """What the callee hears (``play``: &-separated, for Playback/Read), the key and queue."""
        row, a = self._pair(campaign, attempt)
        play = []
        prompt = m.Prompt.get_or_none(m.Prompt.name == row.prompt) if row.prompt else None
        if prompt is not None and self.files.present(prompt):
            play.append(self.files.playable(prompt))
        elif row.prompt:
            logger.error("campaign %s: its prompt %s is missing; the values are said without it", row.name,
                         row.prompt)
        audio, problems = self.values_audio(row, a.entry)
        if audio:
            play.append(self._store(a, audio))
        if problems:
            a.note = "; ".join(problems)[:500]
            a.save()
        if not play:
            raise NotFound(f"campaign {row.name} has nothing to play", code="campaigns.nothing_to_play")
        return {"play": "&".join(play), "key": row.press_key, "queue": row.queue, "language": row.language}

    def values_audio(self, row: m.Campaign, entry: m.CallListEntry) -> tuple[bytes, list[str]]:
        """The entry's spoken columns as one GSM stream, and what could not be said."""
        data = json.loads(entry.data or "{}")
        parts, problems = [], []
        for item in json.loads(row.spoken or "[]"):
            column, how = item["column"], item["as"]
            try:
                pieces = say(data.get(column), how, row.language)
            except Unsayable as exc:
                problems.append(f"{column}: {exc}")
                continue
            parts.extend(self._gsm(piece, row.language) for piece in pieces)
        return b"".join(parts), problems

    def _gsm(self, piece: str, language: str) -> bytes:
        names = (piece,) if "/" in piece else sounds.playable(piece, language, str(self.files.builtin_dir))
        out = b""
        for name in names:
            path = Path(name) if name.startswith("/") else Path(self.files.sounds_dir or "") / name
            data = path.with_name(path.name + AUDIO_SUFFIX).read_bytes()
            out += data[:len(data) - len(data) % GSM_FRAME]
        return out

    def _store(self, attempt: m.CampaignAttempt, audio: bytes) -> str:
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        self._sweep()
        name = f"{AUDIO_PREFIX}{attempt.id}-{secrets.token_hex(4)}"
        fd = os.open(self.audio_dir / f"{name}{AUDIO_SUFFIX}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "wb") as out:
            out.write(audio)
        return f"{self.asterisk_audio_dir}/{name}"

    def _sweep(self) -> None:
        old = time.time() - AUDIO_MAX_AGE_SECONDS
        for path in self.audio_dir.glob(f"{AUDIO_PREFIX}*{AUDIO_SUFFIX}"):
            if path.stat().st_mtime < old:
                path.unlink(missing_ok=True)

    def _remove(self, attempt_id: int) -> None:
        for path in self.audio_dir.glob(f"{AUDIO_PREFIX}{attempt_id}-*{AUDIO_SUFFIX}"):
            path.unlink(missing_ok=True)

    def heard(self, campaign: str, attempt: str, status: str) -> None:
        row, a = self._pair(campaign, attempt)
        a.heard = status == "SUCCESS"
        a.save()
        self._remove(a.id)
        self._publish("heard", row, a, heard=a.heard)

    def ended(self, campaign: str, attempt: str) -> None:
        _, a = self._pair(campaign, attempt)
        self._remove(a.id)

    # -- press a key -------------------------------------------------------------------------
    def key(self, campaign: str, attempt: str, tries: str, keys: str) -> str:
        row, a = self._pair(campaign, attempt)
        keys = keys[:1] if keys[:1] in KEYS + "*#" else ""
        after = rules.after_key(keys, row.press_key, int(tries) if str(tries).isdigit() else rules.KEY_TRIES)
        if keys:
            a.keys = (a.keys + keys)[-16:]
            a.save()
        if after == "queue":  # the message is over for good (the queue's dialplan has no h of ours)
            self._remove(a.id)
        logger.info("campaign %s attempt %s: key %r: %s", row.name, a.id, keys, after)
        self._publish("key", row, a, key=keys, then=after)
        return after

    # -- the survey ---------------------------------------------------------------------------
    def survey(self, campaign: str, attempt: str, question: str, keys: str) -> str | None:
        """Keeps the answer to question ``question`` (1-based; 0: none asked yet) and gives
        the next question to play, or None when the survey is over."""
        row, a = self._pair(campaign, attempt)
        questions = json.loads(row.questions or "[]")
        asked = int(question) if str(question).isdigit() else 0
        if 0 < asked <= len(questions):
            answers = rules.record_answer(json.loads(a.answers or "[]"), asked, keys)
            a.answers = json.dumps(answers)
            a.save()
            self._publish("answer", row, a, question=asked, key=answers[asked - 1])
        if asked >= len(questions):
            self._publish("survey", row, a, answers=json.loads(a.answers or "[]"))
            return None
        play = []
        if asked == 0 and row.prompt:  # the survey's introduction, if it has one
            intro = m.Prompt.get_or_none(m.Prompt.name == row.prompt)
            if intro is not None and self.files.present(intro):
                play.append(self.files.playable(intro))
        prompt = m.Prompt.get_or_none(m.Prompt.name == questions[asked])
        if prompt is None or not self.files.present(prompt):
            raise NotFound(f"campaign {row.name}: question prompt {questions[asked]} is missing",
                           code="campaigns.no_question")
        play.append(self.files.playable(prompt))
        return "&".join(play)
