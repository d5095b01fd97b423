"""Calling permissions: may this person's call go to a number of this class?  Pure.

A permission names the dearest class of number it allows (``appliance.numbers.CLASSES``,
from internal up to premium: each allows every class before it).  Emergency numbers are
allowed to everyone, always.  An agent's permission is their own setting
(``Agent.call_permission``), or ``role``: their web account's role decides, through
``ROLE_DEFAULTS``:

- agents: up to ``domestic`` (our phones, local and other-area fixed lines, mobiles,
  toll-free and 400 numbers): everything a call center's customers are reached on;
- supervisors: up to ``international``: they call back the escalations and customers abroad
  that an agent hands over, and answer for their calls;
- admins: everything, ``premium`` included (premium-rate and unrecognised numbers are what
  toll fraud is paid out through; only the people who can change the permissions anyway
  may call them).

A phone that is no agent's, or a call in the phones' dialplan whose phone cannot be told
(``NOBODY``), may call only our own phones.
"""

from __future__ import annotations

from appliance.numbers import CLASSES, DOMESTIC, EMERGENCY, INTERNAL, INTERNATIONAL, PREMIUM

ROLE = "role"  # an agent's setting: as their web account's role says
PERMISSIONS = (ROLE,) + CLASSES  # the choices of Agent.call_permission
ROLE_DEFAULTS = {"admin": PREMIUM, "supervisor": INTERNATIONAL, "agent": DOMESTIC}
DEFAULT_ROLE = "agent"  # an agent without a web account
NOBODY = INTERNAL  # nobody we know placed the call: our own phones only


def permission_of(role: str | None, setting: str = ROLE) -> str:
    """The permission in force: the agent's own ``setting`` unless it is ``role``, else
    their ``role``'s default (an agent without a web account: ``DEFAULT_ROLE``'s)."""
    if setting in CLASSES:
        return setting
    return ROLE_DEFAULTS.get(role or DEFAULT_ROLE, ROLE_DEFAULTS[DEFAULT_ROLE])


def strictest(permissions) -> str:
    """The least of several permissions (a web account that is several agents)."""
    return min(permissions, key=CLASSES.index)


def permits(permission: str, number_class: str) -> bool:
    """Whether ``permission`` allows calling a number of ``number_class``."""
    if number_class == EMERGENCY:
        return True
    if permission not in CLASSES or number_class not in CLASSES:
        return False
    return CLASSES.index(number_class) <= CLASSES.index(permission)
