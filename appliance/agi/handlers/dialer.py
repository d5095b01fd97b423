"""FastAGI script ``dialer``: the dialplan's word on a call the dialer placed
(``appliance/services/dialer.py``): ``dialed,<attempt>,<DIALSTATUS>`` from the dialling
side's h extension; ``connect,<attempt>`` as the callee picks up, which sets
``CC_CAMPAIGN_AGENT`` to the agent to put them through to, or leaves it empty (nobody
free: the dialplan says so and hangs up).  Registered with ``fallback=False``: an empty
agent is the dialplan's own fallback, so a failure here still ends in the sentence."""

from __future__ import annotations

from appliance import dialplan_vars as v

SCRIPT = v.DIALER_SCRIPT


def make_handler(dialer):
    def handle(session, request) -> None:
        args = list(request.args) + ["", "", ""]
        if args[0] == "dialed":
            dialer.dialed(args[1], args[2])
        elif args[0] == "connect":
            agent = dialer.connect(args[1])
            if agent:
                session.set_variable(v.CAMPAIGN_AGENT, agent)

    return handle
