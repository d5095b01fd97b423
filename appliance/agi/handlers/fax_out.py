"""FastAGI script ``fax_out``: the dialplan's word on an attempt to send a fax
(``appliance/services/fax_out.py``): ``dialed,<job>,<DIALSTATUS>`` when nobody answered,
``sent,<job>`` from the h extension once the answered call is over (SendFAX's FAXSTATUS,
FAXPAGES and FAXERROR are read from the channel)."""

from __future__ import annotations

SCRIPT = "fax_out"


def make_handler(sender):
    def handle(session, request) -> None:
        args = list(request.args) + ["", "", ""]
        what, token = args[0], args[1]
        if what == "dialed":
            sender.report_dialed(token, args[2])
        elif what == "sent":
            sender.report_sent(token, session.get_variable("FAXSTATUS") or "",
                               session.get_variable("FAXPAGES") or "", session.get_variable("FAXERROR") or "")

    return handle
