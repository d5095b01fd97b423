"""FastAGI script ``campaign``: a campaign call without an agent, and answering-machine
detection (``services/agentless.py``; the dialplan is ``confgen.extensions._campaigns``).

Arguments: ``<action>,<campaign>,<attempt>,...`` where the action is

- ``amd``: sets CC_AMD_ARGS (AMD()'s arguments, empty with detection off), the call's
  language and CC_CA_QUEUE;
- ``amd-result,<AMDSTATUS>,<AMDCAUSE>``: sets CC_AMD_NEXT (go | hangup | message | agent);
- ``message``: sets CC_CA_PLAY (the prompt and the said values), CC_CA_QUEUE, CC_RESULT ok;
- ``key,<try>,<keys>``: sets CC_CA_NEXT (queue | again | bye);
- ``survey,<question>,<keys>``: keeps the answer, sets CC_CA_PLAY to the next question and
  CC_RESULT ok, or CC_RESULT done;
- ``heard,<PLAYBACKSTATUS>``, ``ended``: the message played, the call over.
"""

from __future__ import annotations

from appliance import dialplan_vars as v

SCRIPT = v.CAMPAIGN_SCRIPT


def make_handler(service):
    def handle(session, request) -> None:
        args = list(request.args) + [""] * 5
        action, campaign, attempt, first, second = args[:5]
        if action == "amd":
            said = service.amd(campaign, attempt)
            session.set_variable(v.LANGUAGE, said["language"])
            session.set_variable(v.CAMPAIGN_QUEUE, said["queue"])
            session.set_variable(v.AMD_ARGS, said["args"])
        elif action == "amd-result":
            session.set_variable(v.AMD_NEXT, service.amd_result(campaign, attempt, first, second))
        elif action == "message":
            said = service.message(campaign, attempt)
            session.set_variable(v.LANGUAGE, said["language"])
            session.set_variable(v.CAMPAIGN_QUEUE, said["queue"])
            session.set_variable(v.CAMPAIGN_PLAY, said["play"])
            session.set_variable(v.RESULT, "ok")
        elif action == "key":
            session.set_variable(v.CAMPAIGN_NEXT, service.key(campaign, attempt, first, second))
        elif action == "survey":
            play = service.survey(campaign, attempt, first, second)
            if play is None:
                session.set_variable(v.RESULT, "done")
            else:
                session.set_variable(v.CAMPAIGN_PLAY, play)
                session.set_variable(v.RESULT, "ok")
        elif action == "heard":
            service.heard(campaign, attempt, first)
        elif action == "ended":
            service.ended(campaign, attempt)
        else:
            raise ValueError(f"FastAGI campaign: no action {action!r}")

    return handle
