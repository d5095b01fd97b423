"""Calling permissions on every way a call leaves the building: click-to-dial, blind and
consulted transfers to a number (services/calls.py), faxes (services/fax_out.py) and numbers
keyed on a desk phone (FastAGI ``calling``, agi/handlers/calling.py).

Each asks ``CallingPolicy`` with who places the call and the number; the number's class
comes from ``appliance.numbers.classify`` (where the office is: the site's ``home_region``
and ``area_code``; our own extensions and work numbers are ``internal``), the decision from
the pure ``appliance.engine.calling``.  Whose permission counts:

- a call made on an agent's phone (click-to-dial, transfer, consult, the keypad): that
  agent's, whoever pressed the button (a supervisor acting for an agent places the call on
  the agent's line, as the agent could);
- a fax: the web account's that sends it (its agents' own settings if it is an agent,
  the strictest of them if several, else its role's);
- a phone that is nobody's: ``NOBODY`` (our own phones only).

Every refusal is a row of the audit log (action ``refused``, object ``call``, the number;
the detail says the path, whose permission, the class and why) and a warning in the log;
the API answers 403 ``call.not_permitted`` with ``params.number_class``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from appliance import numbers
from appliance.db import models as m
from appliance.engine.calling import NOBODY, permission_of, permits, strictest
from appliance.errors import CallNotPermitted

logger = logging.getLogger(__name__)

# The ways out, as the audit log names them.
DIAL, TRANSFER, CONSULT, FAX, PHONE = "dial", "transfer", "consult", "fax", "phone"
REFUSED = "refused"  # the audit log's action


@dataclass(frozen=True)
class Decision:
    allowed: bool
    dialled: numbers.Dialled
    permission: str  # the permission in force
    whose: str  # "agent 1001", "user alice", "phone 1003"

    @property
    def number_class(self) -> str:
        return self.dialled.number_class


class CallingPolicy:
    def __init__(self, db, site=None):
        self.db = db
        self.site = site  # SiteService (home_region, area_code); None: China, area code unknown

    # -- where the office is, what is ours ----------------------------------------------
    def classify(self, number: str) -> numbers.Dialled:
        region = self.site.home_region() if self.site is not None else "CN"
        area = self.site.area_code() if self.site is not None else ""
        return numbers.classify(number, home_region=region, area_code=area, internal=self._internal())

    @staticmethod
    def _internal() -> set[str]:
        """Our phones' extensions: what a number can reach without leaving the building (an
        agent's work number is a name for people, not something the phones dial)."""
        return {p for (p,) in m.Phone.select(m.Phone.extension).tuples()}

    # -- whose permission --------------------------------------------------------------------
    @staticmethod
    def of_agent(agent: str) -> str:
        row = m.Agent.get_or_none(m.Agent.number == agent)
        if row is None:
            return NOBODY
        return permission_of(row.user.role if row.user_id else None, row.call_permission)

    @staticmethod
    def of_user(username: str) -> str:
        user = m.User.get_or_none(m.User.username == username)
        if user is None:
            return NOBODY
        own = [a.call_permission for a in m.Agent.select(m.Agent.call_permission).where(m.Agent.user == user.id)]
        return strictest([permission_of(user.role, setting) for setting in own] or [permission_of(user.role)])

    @classmethod
    def of_phone(cls, extension: str) -> tuple[str, str]:
        """(permission, whose) for a call keyed on phone ``extension``."""
        agent = (m.Agent.select(m.Agent.number).join(m.Phone).where(m.Phone.extension == extension)
                 .order_by(m.Agent.number).first()) if extension else None
        if agent is None:
            return NOBODY, f"phone {extension or '?'}"
        return cls.of_agent(agent.number), f"agent {agent.number}"

    # -- deciding ------------------------------------------------------------------------------
    def decide(self, permission: str, whose: str, number: str, path: str, actor: str) -> Decision:
        """The decision; a refusal is audited and logged here, on every path."""
        dialled = self.classify(number)
        decision = Decision(permits(permission, dialled.number_class), dialled, permission, whose)
        if not decision.allowed:
            detail = {"path": path, "whose": whose, "permission": permission, "number_class": dialled.number_class,
                      "why": dialled.why}
            m.AuditLog.create(username=(actor or "system")[:64], action=REFUSED, object_type="call",
                              object_id=dialled.number[:64],
                              detail=json.dumps(detail, ensure_ascii=False, sort_keys=True))
            logger.warning("%s: %s call to %s refused for %s (permission %s, the number is %s: %s)", actor, path,
                           dialled.number, whose, permission, dialled.number_class, dialled.why)
        return decision

    # ``**more``: what services/compliance.py's OutboundCheck (this class with every outbound
    # rule) also takes (``override_window``...); the permission alone has no use for it.
    def check_agent(self, agent: str, number: str, path: str, actor: str, **more) -> Decision:
        """A call on ``agent``'s line, or ``CallNotPermitted``."""
        return _or_raise(self.decide(self.of_agent(agent), f"agent {agent}", number, path, actor))

    def check_user(self, username: str, number: str, path: str, **more) -> Decision:
        """A call the web account ``username`` places (a fax), or ``CallNotPermitted``."""
        return _or_raise(self.decide(self.of_user(username), f"user {username}", number, path, username))

    def check_phone(self, extension: str, number: str, **more) -> Decision:
        """A number keyed on a desk phone: the decision (the dialplan says no itself)."""
        permission, whose = self.of_phone(extension)
        return self.decide(permission, whose, number, PHONE, whose)


def _or_raise(decision: Decision) -> Decision:
    if not decision.allowed:
        cls = decision.number_class
        raise CallNotPermitted(f"{decision.whose} may not call {decision.dialled.number}: it is a {cls} number "
                               f"({decision.dialled.why}) and the calling permission is {decision.permission}",
                               params={"number_class": cls})
    return decision
