"""Agents signing in and out of their queues.

The database says who is signed in (it survives restarts); Asterisk's queue
membership is brought in line with it through AMI, at each sign-in/out and after
every (re)connection to AMI (``sync``).
"""

from __future__ import annotations

import logging

from appliance.db import models as m
from appliance.dialplan_vars import personal_queue
from appliance.errors import NotFound, Unavailable, ValidationError

logger = logging.getLogger(__name__)


def ami_action(ami, name: str, headers: dict):
    """Send an AMI action for a user's request: a clear 503 when Asterisk is not connected."""
    if not ami.connected:
        raise Unavailable("the telephony engine is not connected; try again shortly", code="ami.unavailable")
    return ami.send_action(name, headers)


def interface_of(agent: m.Agent) -> str:
    return f"PJSIP/{agent.phone.extension}"


class AgentService:
    def __init__(self, db, ami):
        self.db = db
        self.ami = ami

    def _agent(self, number: str) -> m.Agent:
        agent = m.Agent.get_or_none(m.Agent.number == number)
        if agent is None:
            raise NotFound(f"no agent with work number {number}", code="agent.not_found")
        return agent

    def login(self, number: str) -> dict:
        agent = self._agent(number)
        if agent.phone_id is None:
            raise ValidationError(f"agent {number} has no phone to take calls on",
                                  code="agent.no_phone", fields={"phone": "required to sign in"})
        queues = [qm.queue.name for qm in agent.memberships]
        if not queues:
            raise ValidationError(f"agent {number} is not a member of any queue",
                                  code="agent.no_queue", fields={"queues": "add the agent to a queue first"})
        for qm in agent.memberships:
            self._queue_add(agent, qm.queue.name, qm.penalty)
        self._queue_add(agent, personal_queue(agent.number), 0)
        agent.logged_in = True
        agent.paused, agent.pause_reason = False, ""
        agent.save()
        logger.info("agent %s signed in to %s", number, ", ".join(queues))
        return {"agent": number, "logged_in": True, "queues": queues}

    def logout(self, number: str) -> dict:
        agent = self._agent(number)
        if agent.phone_id is not None:
            for qm in agent.memberships:
                self._queue_remove(agent, qm.queue.name)
            self._queue_remove(agent, personal_queue(agent.number))
        agent.logged_in = False
        agent.paused, agent.pause_reason = False, ""
        agent.save()
        logger.info("agent %s signed out", number)
        return {"agent": number, "logged_in": False}

    def pause(self, number: str, reason: str) -> dict:
        """Stop offering calls to a signed-in agent, saying why (a pause reason code)."""
        agent = self._agent(number)
        if not m.PauseReason.select().where(m.PauseReason.code == reason).exists():
            raise ValidationError(f"unknown pause reason {reason!r}", code="agent.bad_pause_reason",
                                  fields={"reason": "not in the list of pause reasons"})
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
        iface = interface_of(agent)
        resp = self._action("QueueAdd", {"Queue": queue, "Interface": iface, "MemberName": agent.number,
                                         "StateInterface": iface, "Penalty": penalty})
        if resp.name == "Error" and "already there" not in (resp.get("Message") or "").lower():
            raise Unavailable(f"Asterisk refused to add agent {agent.number} to {queue}: {resp.get('Message')}",
                              code="agent.queue_add_failed")

    def _queue_remove(self, agent: m.Agent, queue: str) -> None:
        resp = self._action("QueueRemove", {"Queue": queue, "Interface": interface_of(agent)})
        if resp.name == "Error" and "not there" not in (resp.get("Message") or "").lower():
            logger.warning("QueueRemove %s from %s: %s", agent.number, queue, resp.get("Message"))

    def sync(self) -> None:
        """Make Asterisk's queue members match the database (after connect)."""
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
