"""FastAGI script ``agent``: agents' feature codes dialled from their own phone.

``*21`` sign in, ``*22`` sign out, ``*23`` pause (reason ``break``), ``*24`` available
again, and ``long`` (``*25``, or the appliance calling the phone): signed in for the
shift, the dialplan then keeps the phone in AgentLogin as ``CC_AGENT``.  The agent is
the one whose phone places the call (the PJSIP endpoint of the channel; for an analog
phone on an FXS port, the phone of kind fxs on that port, whatever caller ID it shows), so
nobody can sign in someone else from their desk.  The handler sets
``CC_RESULT`` (``ok`` or an error id) and the dialplan plays a confirmation or an error.
"""

from __future__ import annotations

import logging

from appliance import dialplan_vars as v
from appliance.db import models as m
from appliance.errors import DomainError

logger = logging.getLogger(__name__)

SCRIPT = "agent"
PHONE_PAUSE_REASON = "break"
ACTIONS = ("login", "logout", "pause", "unpause", "long")


def endpoint_of(channel: str, callerid: str = "") -> str:
    """``PJSIP/1001-0000002a`` -> ``1001``; ``DAHDI/5-1`` -> the port's caller ID."""
    tech, _, rest = channel.partition("/")
    if tech == "DAHDI":
        return callerid if callerid.isdigit() else ""
    return rest.rsplit("-", 1)[0] if tech == "PJSIP" and "-" in rest else ""


def extension_at(channel: str, callerid: str = "") -> str:
    """The extension of the phone on ``channel``: an analog phone by its FXS port (the phone
    of kind fxs on ``DAHDI/<port>``: the port is the phone, whatever caller ID it shows; a
    port with no phone is none), any other as ``endpoint_of`` says."""
    tech, _, rest = channel.partition("/")
    port = rest.split("-", 1)[0]
    if tech == "DAHDI":
        row = m.Phone.get_or_none(m.Phone.dahdi_channel == int(port)) if port.isdigit() else None
        return row.extension if row is not None else ""
    return endpoint_of(channel, callerid)


def make_handler(agents):
    def handle(session, request) -> None:
        action = request.args[0] if request.args else ""
        extension = extension_at(request.channel, request.callerid)
        result = "ok"
        if action not in ACTIONS:
            result = "agent.bad_action"
        else:
            agent = (m.Agent.select(m.Agent.number).join(m.Phone)
                     .where(m.Phone.extension == extension).first()) if extension else None
            if agent is None:
                result = "agent.no_agent_at_phone"
            else:
                try:
                    if action == "pause":
                        agents.pause(agent.number, PHONE_PAUSE_REASON)
                    elif action == "long":
                        agents.login(agent.number, mode="long")
                        session.set_variable(v.AGENT, agent.number)
                    else:
                        getattr(agents, action)(agent.number)
                except DomainError as exc:
                    result = exc.code
        if result != "ok":
            logger.warning("feature code %s from phone %s refused: %s", action, extension or request.channel, result)
        session.set_variable(v.RESULT, result)

    return handle
