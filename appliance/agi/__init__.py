"""FastAGI: the sans-I/O codec (``protocol``), the command layer over a gevent socket
(``session``), the server (``server``) and the handlers, one per script (``handlers``).

pyst2 is not used here: see ``appliance.agi.session`` for why.
"""

from appliance.agi.protocol import (
    AgiCommandError,
    AgiCommandTimeout,
    AgiError,
    AgiHangup,
    AgiProtocolError,
    AgiRequest,
    AgiResponse,
)

__all__ = ["AgiCommandError", "AgiCommandTimeout", "AgiError", "AgiHangup", "AgiProtocolError",
           "AgiRequest", "AgiResponse"]
