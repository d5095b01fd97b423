"""FastAGI script ``voicemail``: a caller is about to leave a message for a queue.

Called as ``voicemail,<queue>`` from ``cc-voicemail``. Sets ``CC_VM_FILE`` to the WAV
Record() is to write (in the recording spool, named from the linkedid: no call data in
the path), or leaves it empty when the message cannot be kept, and the dialplan sends the
caller to the fallback's message. Registered with ``fallback=False``: the dialplan's own
check of ``CC_VM_FILE`` is the fallback.
"""

from __future__ import annotations

from appliance import dialplan_vars as v

SCRIPT = "voicemail"


def make_handler(voicemail):
    def handle(session, request) -> None:
        queue = request.args[0] if request.args else ""
        linkedid = session.get_full_variable("${CHANNEL(linkedid)}") or request.uniqueid
        path = voicemail.begin(linkedid, queue, caller=request.callerid, caller_name=request.calleridname,
                               did=session.get_variable(v.DID) or "",
                               reason=session.get_variable(v.VOICEMAIL_REASON) or "")
        if path:
            session.set_variable(v.VOICEMAIL_FILE, path)

    return handle
