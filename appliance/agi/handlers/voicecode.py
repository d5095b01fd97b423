"""FastAGI script ``voicecode``: the dialplan's word on a call saying a verification code
(``appliance/services/voicecodes.py``): ``dialed,<job>,<DIALSTATUS>`` when nobody answered,
``answered,<job>`` as the callee picks up, ``said,<job>,<PLAYBACKSTATUS>`` after the code,
``ended,<job>`` from the h extension.  The code is in none of them."""

from __future__ import annotations

from appliance import dialplan_vars as v

SCRIPT = v.VOICECODE_SCRIPT


def make_handler(service):
    def handle(session, request) -> None:
        args = list(request.args) + ["", "", ""]
        service.report(args[0], args[1], args[2])

    return handle
