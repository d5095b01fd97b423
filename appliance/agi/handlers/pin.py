"""FastAGI script ``pin``: is the member PIN the caller keyed the one on their customer
record?  Sets ``CC_RESULT`` to ``ok``, ``pin.wrong`` or ``pin.no_customer``; the dialplan
(``cc-pin``) counts the tries.  A wrong PIN is logged without the digits."""

from __future__ import annotations

import logging
from collections.abc import Callable

from appliance import dialplan_vars as v
from appliance.services.users import verify_password

logger = logging.getLogger(__name__)

SCRIPT = "pin"


def make_handler(customer_of: Callable[[str], object]):
    def handle(session, request) -> None:
        keyed = request.args[0] if request.args else ""
        customer = customer_of(request.callerid)
        if customer is None or not customer.pin_hash:
            result = "pin.no_customer"
        elif keyed.isdigit() and verify_password(keyed, customer.pin_hash):
            result = "ok"
        else:
            result = "pin.wrong"
        if result != "ok":
            logger.warning("member PIN refused for caller %s (channel %s): %s", request.callerid, request.channel, result)
        session.set_variable(v.RESULT, result)

    return handle
