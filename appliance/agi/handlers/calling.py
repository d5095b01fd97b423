"""FastAGI script ``calling``: may the desk phone placing this call dial this number?

The phones' dialplan (``cc-from-phone``) sends every number that is not one of our
extensions or feature codes here first (the number is the one argument). The phone is the
channel's PJSIP endpoint (an analog phone on an FXS port: the phone on that port); a
customer a phone handed over by a blind transfer of its own (SIP REFER) runs in the phones'
context on the customer's channel, so there the phone is the one Asterisk names in
``BLINDTRANSFER``. The decision is the calling permission of the agent at
that phone (services/calling.py: the same decision as click-to-dial, audited when refused).

The check is the whole outbound compliance check (services/compliance.py: permission,
blacklist, do-not-call, calling window, trunks' capacity, the default caller-ID pool).
Sets ``CC_RESULT`` (``ok``, ``call.not_permitted`` or ``compliance.<rule>``),
``CC_REFUSED_RULE`` (the rule that refused it, or empty), ``CC_NUMBER_CLASS`` (the number's
class), ``CC_CALLERID`` (the pool's number the call presents, or empty) and, when the
phone's own agent dials, ``CC_AGENT`` (so the call is theirs, as a click-to-dial call is).  Anything but ``ok`` is refused by the dialplan: a handler that
failed never lets a call out.
"""

from __future__ import annotations

from appliance import dialplan_vars as v
from appliance.agi.handlers.agent import endpoint_of, extension_at
from appliance.db import models as m
from appliance.errors import CallNotPermitted

SCRIPT = v.CALLING_SCRIPT


def make_handler(policy):
    def handle(session, request) -> None:
        number = request.args[0] if request.args else ""
        extension = extension_at(request.channel, request.callerid)
        transferred = False
        if not (extension and m.Phone.select().where(m.Phone.extension == extension).exists()):
            transferer = session.get_variable("BLINDTRANSFER") or ""
            if transferer:
                extension, transferred = endpoint_of(transferer), True
        decision = policy.check_phone(extension, number)
        session.set_variable(v.NUMBER_CLASS, decision.number_class)
        if decision.allowed and not transferred and decision.whose.startswith("agent "):
            session.set_variable(v.AGENT, decision.whose.removeprefix("agent "))
        rule = getattr(decision, "rule", "") if not decision.allowed else ""
        session.set_variable(v.REFUSED_RULE, rule)
        session.set_variable(v.CALLER_ID, getattr(decision, "caller_id", "") if decision.allowed else "")
        code = CallNotPermitted.code if rule in ("", "permission") else f"compliance.{rule}"
        session.set_variable(v.RESULT, "ok" if decision.allowed else code)

    return handle
