"""FastAGI script ``fax``: a call reached a DID set for fax (``cc-fax,<did>``).

Sets ``CC_FAX_FILE`` to the TIFF ReceiveFAX is to write (in the fax spool, named from the
linkedid: no call data in the path), or leaves it empty and the dialplan sends the caller
to the fallback. Registered with ``fallback=False``: that check is the fallback.
"""

from __future__ import annotations

from appliance import dialplan_vars as v

SCRIPT = "fax"


def make_handler(faxes):
    def handle(session, request) -> None:
        did = request.args[0] if request.args else ""
        linkedid = session.get_full_variable("${CHANNEL(linkedid)}") or request.uniqueid
        path = faxes.begin(linkedid, did, caller=request.callerid, caller_name=request.calleridname)
        if path:
            session.set_variable(v.FAX_FILE, path)

    return handle
