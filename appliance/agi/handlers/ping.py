"""FastAGI script ``ping``: sets ``CC_PING=pong``, for health checks and tests.

``exten => ping,1,AGI(agi://127.0.0.1:4573/ping)`` then ``${CC_PING}`` is ``pong`` when
the AGI server is up and answering.
"""

from __future__ import annotations

SCRIPT = "ping"
#: The variable it sets (not a routing variable, so not in appliance.dialplan_vars).
PING_VARIABLE = "CC_PING"


def handle(session, request) -> None:
    session.set_variable(PING_VARIABLE, "pong")
