"""FastAGI script ``prompt_record``: the steps of recording a prompt from a phone
(``cc-prompt-record`` in the generated dialplan; who may and where the files go:
``services.prompt_phone``).

Actions, each checking again that the calling phone is an admin's:

- ``start``: the call speaks the admin's language (``CHANNEL(language)``);
- ``number,<keys>,<READSTATUS>``: which prompt (its number; only ``#`` for a new one; a
  timeout is no answer) and where Record() writes the take (``CC_PR_TAKE``);
- ``take``: the take converted like an upload, to play back (``CC_PR_DRAFT``), or the
  refusal's id (``prompt.silent``, ``prompt.too_short``...);
- ``keep,<number>``: stored as that prompt; ``CC_PR_SAVED`` says its number back.

``CC_RESULT`` is ``ok`` or an error id; the dialplan resets it before every call, so a
handler that failed (registered without the fallback) reads as not ok.
"""

from __future__ import annotations

import logging

from appliance import dialplan_vars as v
from appliance import sounds
from appliance.agi.handlers.agent import extension_at
from appliance.errors import DomainError

logger = logging.getLogger(__name__)

SCRIPT = "prompt_record"


def make_handler(recorder, sounds_base: str):
    """``recorder``: services.prompt_phone.PhoneRecorder; ``sounds_base``: the appliance's own
    sentences as Asterisk sees them (for "saved as number N")."""

    def handle(session, request) -> None:
        args = list(request.args) + ["", "", ""]
        action = args[0]
        extension = extension_at(request.channel, request.callerid)
        user = recorder.admin_at(extension)
        if user is None:
            logger.warning("prompt recording refused: phone %s is not an admin's", extension or request.channel)
            session.set_variable(v.RESULT, "prompt_record.not_allowed")
            return
        language = sounds.language_of(user.language)
        result = "ok"
        try:
            if action == "start":
                recorder.begin()
                session.set_variable(v.LANGUAGE, language)
            elif action == "number":
                number, status = args[1].strip(), args[2]
                if not number and status != "OK":  # nothing keyed before the timeout (only # is 'new')
                    result = "prompt_record.no_number"
                elif number and recorder.prompts.recordable(number) is None:
                    result = "prompts.not_recordable"
                else:
                    session.set_variable(v.PROMPT_NUMBER, number)
                    session.set_variable(v.PROMPT_TAKE, recorder.take_file(request.uniqueid))
            elif action == "take":
                session.set_variable(v.PROMPT_DRAFT, recorder.check_take(request.uniqueid))
            elif action == "keep":
                prompt = recorder.keep(request.uniqueid, args[1].strip(), user, extension)
                said = sounds.playable("rec-saved", language, sounds_base) + sounds.number(
                    str(prompt["number"]), language, sounds_base)
                session.set_variable(v.PROMPT_SAVED, "&".join(said))
            else:
                result = "prompt_record.bad_action"
        except DomainError as exc:
            result = exc.code
        if result != "ok":
            logger.info("prompt recording from phone %s (%s): %s %s", extension, user.username, action, result)
        session.set_variable(v.RESULT, result)

    return handle
