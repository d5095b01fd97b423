"""Agents signing in and out of their queues.

The database says who is signed in (it survives restarts); Asterisk's queue
membership is brought in line with it through AMI, at each sign-in/out and after
every (re)connection to AMI (``sync``).

Two ways to be signed in (``Agent.login_mode``): ``ring``, the agent's phone rings for
each call (the queue member is the phone), and ``long``, the phone stays connected in
app_agent_pool's AgentLogin for the shift and calls are bridged in with a beep (the
queue member is ``Local/<number>@cc-agent-pool/n``, its state read from ``Agent:<number>``).
A long sign-in ends when the phone hangs up (AMI ``AgentLogoff``) or on sign-out.
"""

from __future__ import annotations

import logging

from appliance import dialplan_vars as v
from appliance.db import models as m
from appliance.dialplan_vars import personal_queue
from appliance.errors import FieldError, NotFound, Unavailable, ValidationError
from appliance.engine.live import DISPOSITION_REASON

logger = logging.getLogger(__name__)


def ami_action(ami, name: str, headers: dict):
    """Send an AMI action for a user's request: a clear 503 when Asterisk is not connected."""
    if not ami.connected:
        raise Unavailable("the telephony engine is not connected; try again shortly", code="ami.unavailable")
    return ami.send_action(name, headers)


LOGIN_MODES = ("ring", "long")


def phone_channel(phone: m.Phone) -> str:
    """What rings the phone: its PJSIP endpoint, or an analog phone's FXS port ``DAHDI/<channel>``
    (the queue member and its state: app_queue sees the port busy while it has a call up)."""
    if phone.kind == "fxs" and phone.dahdi_channel is not None:
        return f"DAHDI/{phone.dahdi_channel}"
    return f"PJSIP/{phone.extension}"


def interface_of(agent: m.Agent) -> str:
    """The queue member that stands for the agent while signed in."""
    if agent.login_mode == "long":
        # /n: the Local channel stays in the call instead of optimising itself away, so the
        # call keeps one agent leg from offer to hang-up, as with a ringing phone
        return f"Local/{agent.number}@{v.AGENT_POOL_CONTEXT}/n"
    return phone_channel(agent.phone)


def state_interface_of(agent: m.Agent) -> str:
    return f"Agent:{agent.number}" if agent.login_mode == "long" else interface_of(agent)


class AgentService:
    def __init__(self, db, ami):
        self.db = db
        self.ami = ami

    def _agent(self, number: str) -> m.Agent:
        agent = m.Agent.get_or_none(m.Agent.number == number)
        if agent is None:
            raise NotFound(f"no agent with work number {number}", code="agent.not_found")
        return agent

    def _ready_to_sign_in(self, number: str) -> tuple[m.Agent, list[str]]:
        agent = self._agent(number)
        if agent.phone_id is None:
            raise ValidationError(f"agent {number} has no phone to take calls on",
                                  code="agent.no_phone",
                                  fields={"phone": FieldError("field.phone_to_sign_in", "required to sign in")})
        queues = [qm.queue.name for qm in agent.memberships]
        if not queues:
            raise ValidationError(f"agent {number} is not a member of any queue",
                                  code="agent.no_queue",
                                  fields={"queues": FieldError("field.queue_first", "add the agent to a queue first")})
        return agent, queues

    def login(self, number: str, mode: str = "ring") -> dict:
        """Sign in: add the agent to their queues (a second sign-in changes nothing but the mode)."""
        if mode not in LOGIN_MODES:
            raise ValidationError(f"unknown sign-in mode {mode!r}", code="agent.bad_login_mode",
                                  fields={"mode": FieldError("field.choice", "ring or long", choices="ring, long")})
        agent, queues = self._ready_to_sign_in(number)
        if agent.logged_in and agent.login_mode != mode:
            self._remove_from_queues(agent)  # the member under the old interface
        agent.login_mode = mode
        for qm in agent.memberships:
            self._queue_add(agent, qm.queue.name, qm.penalty)
        self._queue_add(agent, personal_queue(agent.number), 0)
        if agent.logged_in and agent.paused:
            self._queue_pause(agent, True, agent.pause_reason)  # a new member starts unpaused
        agent.logged_in = True
        agent.save()
        logger.info("agent %s signed in (%s) to %s", number, mode, ", ".join(queues))
        return {"agent": number, "logged_in": True, "mode": mode, "queues": queues}

    def call_for_long_signin(self, number: str) -> dict:
        """Ring the agent's phone; once answered it is signed in for the shift (``cc-agent-login``)."""
        agent, _ = self._ready_to_sign_in(number)
        if agent.phone.kind != "sip":
            raise ValidationError(f"agent {number} sits at an analog phone: pick it up and dial "
                                  f"{v.LONG_SIGNIN_CODE} to sign in for the shift",
                                  code="agent.long_signin_from_phone")
        if agent.logged_in and agent.login_mode == "long":
            raise ValidationError(f"agent {number} is already signed in for the shift",
                                  code="agent.already_signed_in")
        resp = self._action("Originate", {
            "Channel": phone_channel(agent.phone), "Context": v.AGENT_LOGIN_CONTEXT, "Exten": "s",
            "Priority": 1, "Timeout": 30000, "Async": "true",
            "CallerID": f'"{v.LONG_SIGNIN_CODE} {agent.number}" <{v.LONG_SIGNIN_CODE}>'})
        if resp.name == "Error":
            raise Unavailable(f"could not call agent {number}'s phone: {resp.get('Message')}",
                              code="agent.originate_failed")
        logger.info("calling agent %s's phone to sign them in for the shift", number)
        return {"agent": number, "logged_in": agent.logged_in, "mode": "long", "phone_ringing": True}

    def logout(self, number: str) -> dict:
        agent = self._agent(number)
        if agent.phone_id is not None:
            self._remove_from_queues(agent)
        if agent.logged_in and agent.login_mode == "long" and self.ami.connected:
            # hangs up the phone's AgentLogin; its AgentLogoff event comes back here, harmlessly
            self.ami.send_action("AgentLogoff", {"Agent": agent.number})
        agent.logged_in = False
        agent.login_mode = "ring"
        agent.paused, agent.pause_reason = False, ""
        agent.save()
        logger.info("agent %s signed out", number)
        return {"agent": number, "logged_in": False}

    def pool_logoff(self, number: str) -> None:
        """The phone of an agent signed in for the shift hung up (AMI ``AgentLogoff``): sign them out."""
        agent = m.Agent.get_or_none(m.Agent.number == number)
        if agent is not None and agent.logged_in and agent.login_mode == "long":
            logger.info("agent %s's phone left the shift; signing them out", number)
            self.logout(number)

    def _remove_from_queues(self, agent: m.Agent) -> None:
        for qm in agent.memberships:
            self._queue_remove(agent, qm.queue.name)
        self._queue_remove(agent, personal_queue(agent.number))

    def pause(self, number: str, reason: str) -> dict:
        """Stop offering calls to a signed-in agent, saying why (a pause reason code)."""
        agent = self._agent(number)
        if not m.PauseReason.select().where(m.PauseReason.code == reason).exists():
            raise ValidationError(f"unknown pause reason {reason!r}", code="agent.bad_pause_reason",
                                  fields={
                                      "reason": FieldError("field.not_a_pause_reason",
                                                           "not in the list of pause reasons")})
        if not agent.logged_in:
            raise ValidationError(f"agent {number} is not signed in", code="agent.not_signed_in")
        self._queue_pause(agent, True, reason)
        agent.paused, agent.pause_reason = True, reason
        agent.save()
        logger.info("agent %s paused (%s)", number, reason)
        return {"agent": number, "paused": True, "reason": reason}

    def unpause(self, number: str) -> dict:
        agent = self._agent(number)
        if not agent.logged_in:
            raise ValidationError(f"agent {number} is not signed in", code="agent.not_signed_in")
        self._queue_pause(agent, False, "")
        agent.paused, agent.pause_reason = False, ""
        agent.save()
        logger.info("agent %s available again", number)
        return {"agent": number, "paused": False}

    def hold_for_disposition(self, number: str) -> None:
        """The engine's ``HoldForDisposition``: paused in every queue until the disposition
        is saved.  Not stored on the agent (their own pause is): Asterisk restarting lets
        them go."""
        self._queue_pause(self._agent(number), True, DISPOSITION_REASON)
        logger.info("agent %s takes no next call before the disposition", number)

    def release_disposition(self, number: str) -> None:
        """The disposition is saved: available again (a pause of their own stays)."""
        agent = self._agent(number)
        if agent.paused:
            self._queue_pause(agent, True, agent.pause_reason)
        else:
            self._queue_pause(agent, False, "")
        logger.info("agent %s saved the disposition: %s", number, "paused" if agent.paused else "available")

    def _queue_pause(self, agent: m.Agent, paused: bool, reason: str) -> None:
        headers = {"Interface": interface_of(agent), "Paused": "true" if paused else "false"}
        if reason:
            headers["Reason"] = reason
        resp = self._action("QueuePause", headers)
        if resp.name == "Error":
            raise Unavailable(f"Asterisk refused to {'pause' if paused else 'unpause'} agent {agent.number}: "
                              f"{resp.get('Message')}", code="agent.pause_failed")

    def _action(self, name: str, headers: dict):
        return ami_action(self.ami, name, headers)

    def _queue_add(self, agent: m.Agent, queue: str, penalty: int) -> None:
        resp = self._action("QueueAdd", {"Queue": queue, "Interface": interface_of(agent),
                                         "MemberName": agent.number, "StateInterface": state_interface_of(agent),
                                         "Penalty": penalty})
        if resp.name == "Error" and "already there" not in (resp.get("Message") or "").lower():
            raise Unavailable(f"Asterisk refused to add agent {agent.number} to {queue}: {resp.get('Message')}",
                              code="agent.queue_add_failed")

    def _queue_remove(self, agent: m.Agent, queue: str) -> None:
        resp = self._action("QueueRemove", {"Queue": queue, "Interface": interface_of(agent)})
        if resp.name == "Error" and "not there" not in (resp.get("Message") or "").lower():
            logger.warning("QueueRemove %s from %s: %s", agent.number, queue, resp.get("Message"))

    def sync(self) -> None:
        """Make Asterisk's queue members match the database (after connect)."""
        self._end_lost_shifts()
        _, events = self.ami.send_action_list("QueueStatus", {})
        present = {(e.get("Queue"), e.get("Location") or e.get("Interface")) for e in events
                   if e.get("Event") == "QueueMember"}
        wanted = {}  # (queue, interface) -> (agent, penalty)
        query = (m.QueueMember.select(m.QueueMember, m.Agent, m.Queue)
                 .join(m.Agent).switch(m.QueueMember).join(m.Queue)
                 .where(m.Agent.logged_in == True, m.Agent.phone.is_null(False)))  # noqa: E712
        for qm in query:
            wanted[(qm.queue.name, interface_of(qm.agent))] = (qm.agent, qm.penalty)
        for agent in {a.number: a for a, _ in wanted.values()}.values():
            wanted[(personal_queue(agent.number), interface_of(agent))] = (agent, 0)
        for key, (agent, penalty) in wanted.items():
            if key not in present:
                self._queue_add(agent, key[0], penalty)
        for agent in {a.number: a for a, _ in wanted.values()}.values():
            if agent.paused:  # a pause outlives a restart of Asterisk
                self._queue_pause(agent, True, agent.pause_reason)
        for queue, iface in present - set(wanted):
            logger.info("removing stray queue member %s from %s", iface, queue)
            self.ami.send_action("QueueRemove", {"Queue": queue, "Interface": iface})

    def _end_lost_shifts(self) -> None:
        """Agents signed in for the shift whose phone is no longer in AgentLogin (Asterisk
        restarted, or the phone hung up while we were not listening) are signed out."""
        long_agents = list(m.Agent.select().where(m.Agent.logged_in == True,  # noqa: E712
                                                  m.Agent.login_mode == "long"))
        if not long_agents:
            return
        _, events = self.ami.send_action_list("Agents", {})
        in_pool = {e.get("Agent") for e in events
                   if e.get("Event") == "Agents" and e.get("Status") not in (None, "AGENT_LOGGEDOFF")}
        for agent in long_agents:
            if agent.number not in in_pool:
                logger.warning("agent %s was signed in for the shift but their phone is no longer "
                               "connected; signing them out", agent.number)
                self.logout(agent.number)
