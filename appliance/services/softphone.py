"""Softphones in the agent's browser (issue 21 point 5): which agents sit at one, and what
the workspace needs to register it.

A phone marked ``webrtc`` (the phones page) is registered by its agent's workspace over
SIP on WebSocket (Asterisk's HTTP server, confgen/http.py) with SIP.js, and rings there. The
call is the same call as a desk phone's: the workspace's toolbar holds, transfers and hangs
it up through the engine, and the screen pop and dispositions follow it.
"""

from __future__ import annotations

from appliance.confgen.http import WS_PATH
from appliance.db import models as m
from appliance.errors import Conflict, FieldError, NotFound


class Softphones:
    def __init__(self, db, port: int):
        self.db = db
        self.port = port  # webrtc_port: where browsers reach Asterisk's WebSocket (0: no softphones)

    def _phone_of(self, number: str) -> m.Phone | None:
        agent = m.Agent.get_or_none(m.Agent.number == number)
        if agent is None:
            raise NotFound(FieldError("softphone.error.no_agent", "no such agent"), code="not_found")
        return agent.phone if agent.phone_id else None

    def sits_at_browser(self, number: str) -> bool:
        """Whether agent ``number`` takes calls on a softphone in the browser."""
        phone = self._phone_of(number)
        return bool(phone and phone.webrtc)

    def registration(self, number: str) -> dict:
        """What the workspace registers agent ``number``'s softphone with: the extension and
        its SIP password, and where Asterisk's WebSocket is (the page's own host name; wss
        when the page is HTTPS)."""
        phone = self._phone_of(number)
        if phone is None or not phone.webrtc:
            raise Conflict(FieldError("softphone.error.not_a_browser_phone",
                                      "this agent's phone is not a softphone in the browser"),
                           code="softphone.not_a_browser_phone")
        if not self.port:
            raise Conflict(FieldError("softphone.error.off", "softphones are off on this appliance (webrtc_port = 0)"),
                           code="softphone.off")
        return {"extension": phone.extension, "password": phone.secret, "display_name": phone.callerid_name,
                "port": self.port, "path": WS_PATH}
