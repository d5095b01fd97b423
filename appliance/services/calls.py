"""Call control through AMI: agents' outgoing calls (click-to-dial), and supervisor
functions on live calls: listen (silent), whisper to the agent, barge into a three-way,
force hang-up.

Click-to-dial rings the agent's own phone first (AMI ``Originate``); when they pick up,
the dialplan (``cc-outbound``) dials the number through the trunks in order.

Listening is Asterisk's ChanSpy on the agent's channel, run on a channel that rings the
supervisor's own phone first (AMI ``Originate``): the supervisor answers and hears both
sides.  ``whisper`` lets the agent (only) hear the supervisor; ``barge`` lets both sides
hear them.  Everything here is permission-checked by the web layer (staff only).

Every call to a number (click-to-dial, a transfer or consultation to a number) is checked
against the calling permission of the agent whose line it is on first
(services/calling.py): a refusal is ``CallNotPermitted``, audited.
"""

from __future__ import annotations

import logging
import re
import time

from appliance import dialplan_vars as v
from appliance.db import models as m
from appliance.engine.live import IN_CALL, RINGING
from appliance.errors import Conflict, FieldError, NotFound, Unavailable, ValidationError
from appliance.services.agents import ami_action, phone_channel
from appliance.services.calling import CONSULT, DIAL, TRANSFER
from appliance.services.compliance import OutboundCheck

logger = logging.getLogger(__name__)

# ChanSpy options: q = no beep/announcement to anyone, E = end when the spied channel hangs
# up, w = whisper (the spied channel hears us), B = barge (both sides of the bridge hear us).
SPY_OPTIONS = {"listen": "qE", "whisper": "qEw", "barge": "qEB"}


NUMBER = re.compile(r"\+?[0-9]{3,32}")


def _dialled(to: str, code: str) -> str:
    """A transfer's or consultation's number as dialled, or ``ValidationError`` ``code``."""
    number = (to or "").replace(" ", "").replace("-", "")
    if not NUMBER.fullmatch(number):
        raise ValidationError(f"{to!r} is not a phone number", code=code,
                              fields={"to": FieldError("field.dialled_number", "digits, optionally starting with +")})
    return number


class CallControl:
    def __init__(self, ami, live, execute=None, calling: OutboundCheck | None = None):
        self.ami = ami
        self.live = live
        self.execute = execute or (lambda commands: None)  # carries out live-state commands (publish)
        # without the site: China, our area code unknown; the composition root passes the window
        self.calling = calling or OutboundCheck(None, None, live, default_window="")

    def _action(self, name: str, headers: dict):
        return ami_action(self.ami, name, headers)

    def dial(self, agent: str, number: str, actor: str, override_window: bool = False) -> dict:
        """Ring ``agent``'s phone; once they answer, call ``number`` for them, presenting the
        default caller-ID pool's number if one is set.  ``override_window``: a supervisor or
        admin calling outside the calling window (services/compliance.py)."""
        number = (number or "").replace(" ", "").replace("-", "")
        if not NUMBER.fullmatch(number):
            raise ValidationError(f"{number!r} is not a phone number", code="dial.bad_number",
                                  fields={
                                      "number": FieldError("field.dialled_number",
                                                           "digits, optionally starting with +")})
        row = m.Agent.select(m.Agent, m.Phone).join(m.Phone).where(m.Agent.number == agent).first()
        if row is None:
            if m.Agent.select().where(m.Agent.number == agent).exists():
                raise ValidationError(f"agent {agent} has no phone to call from", code="agent.no_phone",
                                      fields={"phone": FieldError("field.phone_to_call", "required to place calls")})
            raise NotFound(f"no agent with work number {agent}", code="agent.not_found")
        clearance = self.calling.check_agent(agent, number, DIAL, actor, override_window=override_window)
        variables = f"{v.AGENT}={agent}"
        caller_id = getattr(clearance, "caller_id", "")  # a plain CallingPolicy chooses none
        if caller_id:  # cc-outbound presents it
            variables += f",{v.CALLER_ID}={caller_id}"
        resp = self._action("Originate", {
            "Channel": phone_channel(row.phone),
            "Context": v.OUTBOUND_CONTEXT,
            "Exten": number,
            "Priority": 1,
            "CallerID": f'"{number}" <{number}>',  # the agent's phone shows whom it is about to call
            "Variable": variables,
            "Timeout": 30000,
            "Async": "true",
        })
        if resp.name == "Error":
            raise Unavailable(f"Asterisk refused the call: {resp.get('Message')}", code="dial.failed")
        logger.info("%s: agent %s calls %s", actor, agent, number)
        return {"agent": agent, "number": number, "status": "ringing the agent's phone",
                "caller_id": caller_id}

    def _talking_call(self, agent: str):
        for call in self.live.calls.values():
            if call.agent == agent and call.state == "talking" and call.customer_channel:
                return call
        raise Conflict(f"agent {agent} is not talking with anyone", code="transfer.no_call")

    def transfer(self, agent: str, to_kind: str, to: str, actor: str) -> dict:
        """Blind transfer of ``agent``'s customer to a queue, another agent (then their first
        queue), a voice menu (which may send the caller back to this agent) or a number; the
        agent's leg is released."""
        if to_kind == "number":  # refused before anything else: whatever the call, not this number
            self.calling.check_agent(agent, _dialled(to, "transfer.bad_target"), TRANSFER, actor)
        call = self._talking_call(agent)
        variables = []
        if to_kind == "queue":
            if not m.Queue.select().where(m.Queue.name == to).exists():
                raise ValidationError(f"no queue {to}", code="transfer.bad_target",
                                      fields={"to": FieldError("field.no_such", "no such queue", key=to)})
            context, exten = v.QUEUE_CONTEXT, to
        elif to_kind == "agent":
            target = m.Agent.get_or_none(m.Agent.number == to)
            queue = target.memberships.join(m.Queue).order_by(m.Queue.name).first() if target else None
            if target is None or queue is None or to == agent:
                raise ValidationError(f"cannot transfer to agent {to}", code="transfer.bad_target",
                                      fields={
                                          "to": FieldError("field.transfer_agent",
                                                           "an agent who is a member of a queue, not yourself")})
            # their own one-member queue first, then (if busy or away) their first queue
            context, exten = v.AGENT_FIRST_CONTEXT, to
            variables = [f"{v.THEN_QUEUE}={queue.queue.name}", f"{v.FIRST_TIMEOUT}=20"]
        elif to_kind == "menu":
            if not m.Menu.select().where(m.Menu.name == to, m.Menu.live == True).exists():  # noqa: E712
                raise ValidationError(f"no live menu {to}", code="transfer.bad_target",
                                      fields={"to": FieldError("field.no_live_menu", "no such menu, or not live")})
            # a fresh start in the menus; CC_AGENT lets an option lead back to this agent
            context, exten = v.MENU_CONTEXT, "s"
            variables = [f"{v.MENU}={to}", f"{v.MENU_HOPS}=0", f"{v.MENU_TRIES}=0", f"{v.MENU_MODE}=",
                         f"{v.AGENT}={agent}"]
        elif to_kind == "number":
            number = _dialled(to, "transfer.bad_target")
            # no CC_AGENT: the agent lets go at once (click-to-dial sets it, to mark their call)
            context, exten = v.OUTBOUND_CONTEXT, number
        else:
            raise ValidationError("transfer to a queue, an agent, a menu or a number", code="transfer.bad_kind",
                                  fields={
                                      "to_kind": FieldError("field.choice", "queue, agent, menu or number",
                                                            choices="queue, agent, menu, number")})
        self._redirect(call.customer_channel, context, exten, dict(a.split("=", 1) for a in variables))
        logger.info("%s: agent %s transferred call %s to %s %s", actor, agent, call.linkedid, to_kind, to)
        return {"linkedid": call.linkedid, "to_kind": to_kind, "to": to, "transferred": True}

    def _redirect(self, channel: str, context: str, exten: str, variables: dict | None = None) -> None:
        for name, value in (variables or {}).items():
            self._action("Setvar", {"Channel": channel, "Variable": name, "Value": value})
        resp = self._action("Redirect", {"Channel": channel, "Context": context, "Exten": exten, "Priority": 1})
        if resp.name == "Error":
            raise Unavailable(f"Asterisk refused to move the call: {resp.get('Message')}", code="calls.redirect_failed")

    # -- hold, consultation, attended transfer, three-way ----------------------------
    # The customer's leg waits in cc-hold (music), the agent's in cc-held (silence) or
    # calls someone from cc-consult; see confgen/extensions.py for the dialplan side.
    def _agent_call(self, agent: str, states: tuple[str, ...], code: str):
        for call in self.live.calls.values():
            if call.agent == agent and call.state in states and call.customer_channel and call.agent_channel:
                return call
        raise Conflict(f"agent {agent} has no call that is {' or '.join(states)}", code=code)

    def _setvars(self, channel: str, variables: dict) -> None:
        for name, value in variables.items():
            resp = self._action("Setvar", {"Channel": channel, "Variable": name, "Value": value})
            if resp.name == "Error":
                raise Unavailable(f"the call has gone: {resp.get('Message')}", code="calls.gone")

    def _move(self, channel: str, context: str, exten: str = "s", extra: tuple[str, str, str] | None = None) -> None:
        """AMI Redirect of one leg, or of two at once (so neither is left alone in a bridge)."""
        headers = {"Channel": channel, "Context": context, "Exten": exten, "Priority": 1}
        if extra:
            headers.update({"ExtraChannel": extra[0], "ExtraContext": extra[1], "ExtraExten": extra[2],
                            "ExtraPriority": 1})
        resp = self._action("Redirect", headers)
        if resp.name == "Error":
            raise Unavailable(f"Asterisk refused to move the call: {resp.get('Message')}", code="calls.redirect_failed")

    def _bridge(self, channel1: str, channel2: str) -> None:
        resp = self._action("Bridge", {"Channel1": channel1, "Channel2": channel2, "Tone": "no"})
        if resp.name == "Error":
            raise Unavailable(f"Asterisk refused to connect the call: {resp.get('Message')}", code="calls.bridge_failed")

    def hold(self, agent: str, actor: str) -> dict:
        """The customer hears music; the agent's phone stays connected, in silence."""
        call = self._agent_call(agent, ("talking",), "hold.no_call")
        self._setvars(call.customer_channel, {v.PEER: call.agent_channel})
        self._setvars(call.agent_channel, {v.PEER: call.customer_channel})
        self.live.take_control(call.linkedid)
        self._move(call.customer_channel, v.HOLD_CONTEXT, extra=(call.agent_channel, v.HELD_CONTEXT, "s"))
        logger.info("%s: agent %s holds call %s", actor, agent, call.linkedid)
        return {"linkedid": call.linkedid, "held": True}

    def unhold(self, agent: str, actor: str) -> dict:
        call = self._agent_call(agent, ("held",), "hold.not_held")
        self._bridge(call.agent_channel, call.customer_channel)
        logger.info("%s: agent %s takes call %s off hold", actor, agent, call.linkedid)
        return {"linkedid": call.linkedid, "held": False}

    def consult(self, agent: str, to_kind: str, to: str, actor: str) -> dict:
        """Put the customer on hold and call another agent or a number (to transfer the call
        after talking to them, or to bring them into a three-way call)."""
        if to_kind == "number":
            self.calling.check_agent(agent, _dialled(to, "consult.bad_target"), CONSULT, actor)
        call = self._agent_call(agent, ("talking", "held"), "consult.no_call")
        if to_kind == "agent":
            target = m.Agent.select(m.Agent, m.Phone).join(m.Phone).where(m.Agent.number == to).first()
            if target is None or to == agent:
                raise ValidationError(f"cannot call agent {to}", code="consult.bad_target",
                                      fields={"to": FieldError("field.other_agent", "another agent with a phone")})
            exten, phone, consult_agent = target.phone.extension, phone_channel(target.phone), to
        elif to_kind == "number":
            exten = _dialled(to, "consult.bad_target")
            phone, consult_agent = "", ""
        else:
            raise ValidationError("consult an agent or a number", code="consult.bad_kind",
                                  fields={
                                      "to_kind": FieldError("field.choice", "agent or number",
                                                            choices="agent, number")})
        self._setvars(call.agent_channel, {v.PEER: call.customer_channel, v.CONSULT_PHONE: phone,
                                           v.TRANSFER_DONE: ""})
        self.live.take_control(call.linkedid)
        self.live.consulting(call.linkedid, consult_agent)
        if call.state == "talking":
            self._setvars(call.customer_channel, {v.PEER: call.agent_channel})
            self._move(call.agent_channel, v.CONSULT_CONTEXT, exten, extra=(call.customer_channel, v.HOLD_CONTEXT, "s"))
        else:
            self._move(call.agent_channel, v.CONSULT_CONTEXT, exten)
        logger.info("%s: agent %s consults %s %s on call %s", actor, agent, to_kind, to, call.linkedid)
        return {"linkedid": call.linkedid, "to_kind": to_kind, "to": to, "status": "calling"}

    def _consulted_call(self, agent: str):
        call = self._agent_call(agent, ("consulting",), "consult.none")
        if not call.consult_channel or not call.consult_answered:
            raise Conflict("the other party has not answered yet", code="consult.not_answered")
        return call

    def complete_transfer(self, agent: str, actor: str) -> dict:
        """Attended transfer: the customer goes on with the party the agent consulted."""
        call = self._consulted_call(agent)
        self._setvars(call.agent_channel, {v.TRANSFER_DONE: "1"})
        self._bridge(call.customer_channel, call.consult_channel)
        self.execute(self.live.transferred(call.linkedid, time.time()))
        logger.info("%s: agent %s handed call %s over", actor, agent, call.linkedid)
        return {"linkedid": call.linkedid, "transferred": True}

    def cancel_consult(self, agent: str, actor: str) -> dict:
        """Hang up on the consulted party; the agent is back with the customer."""
        call = self._agent_call(agent, ("consulting",), "consult.none")
        if call.consult_channel:
            self._action("Hangup", {"Channel": call.consult_channel, "Cause": 16})
        else:  # not ringing yet: the agent's leg goes straight back to the customer
            self._bridge(call.agent_channel, call.customer_channel)
        logger.info("%s: agent %s back with the customer of call %s", actor, agent, call.linkedid)
        return {"linkedid": call.linkedid, "consulting": False}

    def conference(self, agent: str, actor: str) -> dict:
        """Three-way: the customer, the agent and the consulted party all hear each other."""
        call = self._consulted_call(agent)
        room = "cc-" + re.sub(r"[^0-9A-Za-z]", "-", call.linkedid)
        for channel in (call.agent_channel, call.consult_channel, call.customer_channel):
            self._setvars(channel, {v.CONFERENCE_ROOM: room})
        self._move(call.agent_channel, v.CONFERENCE_CONTEXT, extra=(call.consult_channel, v.CONFERENCE_CONTEXT, "s"))
        self._move(call.customer_channel, v.CONFERENCE_CONTEXT)
        logger.info("%s: agent %s made call %s a three-way call", actor, agent, call.linkedid)
        return {"linkedid": call.linkedid, "conference": room}

    def intercept(self, linkedid: str, phone: str, actor: str) -> dict:
        """A supervisor takes a live call over: the customer is put through to ``phone``
        (the supervisor's extension) and the agent's leg is released."""
        call = self.live.calls.get(linkedid)
        if call is None or not call.customer_channel:
            raise NotFound(f"no answered call {linkedid}", code="calls.not_found")
        if not m.Phone.select().where(m.Phone.extension == phone).exists():
            raise ValidationError(f"no phone {phone}", code="intercept.no_phone",
                                  fields={"phone": FieldError("field.not_a_phone", "not a configured phone")})
        self._redirect(call.customer_channel, v.PHONE_CONTEXT, phone)
        logger.warning("%s intercepted call %s (agent %s) to phone %s", actor, linkedid, call.agent, phone)
        return {"linkedid": linkedid, "phone": phone, "intercepted": True}

    def pickup(self, agent: str, linkedid: str, actor: str) -> dict:
        """``agent`` takes a call that is waiting or ringing someone else: rung alone, then
        (if they do not answer) back into the call's queue."""
        call = self.live.calls.get(linkedid)
        if call is None or call.state not in ("queued", "ringing") or not call.queue:
            raise Conflict(f"call {linkedid} is not waiting for an agent", code="pickup.not_waiting")
        if not m.Agent.select().where(m.Agent.number == agent, m.Agent.phone.is_null(False)).exists():
            raise ValidationError(f"agent {agent} has no phone", code="agent.no_phone")
        self._redirect(call.channel, v.AGENT_FIRST_CONTEXT, agent,
                       {v.THEN_QUEUE: call.queue, v.FIRST_TIMEOUT: "20"})
        logger.info("%s: agent %s picks up call %s from %s", actor, agent, linkedid, call.queue)
        return {"linkedid": linkedid, "agent": agent, "picked_up": True}

    def spy(self, agent: str, phone: str, mode: str, actor: str) -> dict:
        """Ring ``phone`` (the supervisor's extension); once answered it listens to ``agent``'s call."""
        if mode not in SPY_OPTIONS:
            raise ValidationError(f"mode must be one of {', '.join(SPY_OPTIONS)}", code="spy.bad_mode",
                                  fields={
                                      "mode": FieldError("field.choice", f"one of {', '.join(SPY_OPTIONS)}",
                                                         choices=", ".join(SPY_OPTIONS))})
        listener = m.Phone.get_or_none(m.Phone.extension == phone)
        if listener is None:
            raise ValidationError(f"no phone {phone} to listen on", code="spy.no_phone",
                                  fields={"phone": FieldError("field.not_a_phone", "not a configured phone")})
        state = self.live.agents.get(agent)
        if state is None or state.state not in (IN_CALL, RINGING) or not state.interface:
            raise Conflict(f"agent {agent} is not on a call", code="spy.agent_not_in_call")
        if state.interface == phone_channel(listener):
            raise ValidationError("a supervisor cannot listen on the agent's own phone", code="spy.same_phone",
                                  fields={"phone": FieldError("field.own_phone", "use your own phone")})
        resp = self._action("Originate", {
            "Channel": phone_channel(listener),  # a supervisor's analog phone too
            "Application": "ChanSpy",
            "Data": f"{state.interface}-,{SPY_OPTIONS[mode]}",
            "CallerID": f'"{mode} {agent}" <{agent}>',
            "Timeout": 30000,
            "Async": "true",
        })
        if resp.name == "Error":
            raise Unavailable(f"Asterisk refused to start {mode}: {resp.get('Message')}", code="spy.failed")
        logger.info("%s: %s on agent %s from phone %s", actor, mode, agent, phone)
        return {"agent": agent, "phone": phone, "mode": mode, "status": "ringing your phone"}

    def end_call(self, agent: str, actor: str) -> dict:
        """The agent hangs up their own call (the toolbar's button): the whole call ends; an
        agent signed in for the shift stays connected for the next one."""
        call = next((c for c in self.live.calls.values() if agent in (c.agent, c.consult_agent)), None)
        if call is None:
            raise Conflict(f"agent {agent} has no call to hang up", code="calls.no_call")
        return self.hangup(call.linkedid, actor=actor)

    def hangup(self, linkedid: str, actor: str) -> dict:
        """Force hang-up of a live call (the caller's channel; the rest of the call follows)."""
        call = self.live.calls.get(linkedid)
        if call is None:
            raise NotFound(f"no live call {linkedid}", code="calls.not_found")
        resp = self._action("Hangup", {"Channel": call.channel, "Cause": 16})
        if resp.name == "Error":
            raise Unavailable(f"Asterisk refused to hang up: {resp.get('Message')}", code="calls.hangup_failed")
        logger.warning("%s forced hang-up of call %s (%s)", actor, linkedid, call.caller)
        return {"linkedid": linkedid, "hung_up": True}
