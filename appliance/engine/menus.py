"""Voice menus (IVR): what a caller hears and where each key takes them, as a pure step
function over a snapshot of the menus, and the checks a set of menus must pass.

FastAGI's ``menu`` handler calls ``step`` once per turn: on entering a menu, and each
time the dialplan's ``Read()`` comes back with keys or with nothing.  The answer is
either ``Read`` (play these prompts, read so many keys, wait so long: the dialplan does
it, so digits pressed during the prompt cut it short) or ``Leave`` (go on to a queue,
an agent, a phone, a message, the fallback).  The caller's place in the menus travels in
channel variables (menu, mode, tries, hops), so no state lives in the process between
turns and a configuration change reaches the very next turn.

Menus form a graph (an option may lead to any menu, menus are reused); ``check`` refuses
a graph in which a caller who presses nothing, or keeps pressing wrong keys, would go
round for ever, and options that point at nothing.  At run time a hop limit and a
fallback for anything missing keep the caller out of silence even then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from appliance import dialplan_vars as v

DIGITS = "0123456789*#"
ACTIONS = ("menu", "queue", "agent", "extension", "directory", "voicemail", "fax", "repeat", "hangup",
           "order_status")
# What a caller who presses nothing, or a wrong key too often, may be sent to.
FALLTHROUGH_ACTIONS = tuple(a for a in ACTIONS if a not in ("directory", "repeat", "order_status"))
# The order states the order-status action says (the caller's latest order; drafts are not orders yet).
ORDER_STATES = ("review", "approved", "rejected", "shipped", "delivered", "returned", "cancelled")
NEEDS_TARGET = {"menu": "menus", "queue": "queues", "extension": "phones", "voicemail": "queues"}  # agent: empty = the transferring agent
MAX_HOPS = 50  # menus entered in one call before the caller is sent to the fallback
MODE_MENU = "menu"
MODE_DIRECTORY = "directory"  # "directory:<digit>": reading a work number for that option
MAX_WORK_NUMBER = 16


@dataclass(frozen=True)
class Action:
    kind: str  # one of ACTIONS
    target: str = ""


@dataclass(frozen=True)
class Menu:
    name: str
    prompt: tuple[str, ...]  # files Asterisk plays, without extension
    options: Mapping[str, Action] = field(default_factory=dict)  # key -> action (enabled options only)
    timeout_seconds: int = 5
    max_tries: int = 3
    on_invalid: Action = Action("hangup")
    on_timeout: Action = Action("hangup")
    skip: bool = False  # callers pass straight on to ``on_timeout``
    language: str = "zh_CN"  # which of ``MenuTable.prompts`` callers hear around the greeting


@dataclass(frozen=True)
class Prompts:
    """The appliance's own sentences around menus, in one language (Asterisk core sounds
    by default; ``confgen.from_db.menu_table`` fills them from ``appliance.sounds``)."""

    invalid: tuple[str, ...] = ("pm-invalid-option",)  # before the greeting again, after a wrong key
    timeout: tuple[str, ...] = ()  # before the greeting again, after no key
    directory: tuple[str, ...] = ("vm-enter-num-to-call",)
    # the order-status action: a sentence per order state (and ``none``), digits 0-9
    orders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    digits: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def order_said(self, order: Mapping | None) -> tuple[str, ...]:
        """What the caller hears of their latest order (``order_status``): its state's
        sentence, and the tracking number's digits once it has shipped; no order: that
        there is none."""
        sentence, tracking = order_status(order)
        said = self.orders.get(sentence.removeprefix("order-"), ())
        return said + tuple(f for d in tracking if d.isdigit() for f in self.digits.get(d, ()))


def order_status(order: Mapping | None) -> tuple[str, str]:
    """What is said of a customer's latest order, by the voice menu and in an agent's
    internal message alike: the sentence's key in ``appliance.sounds`` (``order-<state>``,
    or ``order-none`` for no order or a draft) and the tracking number once it has shipped
    (else "")."""
    state = (order or {}).get("state")
    if state not in ORDER_STATES:
        return "order-none", ""
    return f"order-{state}", str(order.get("tracking") or "") if state == "shipped" else ""


@dataclass(frozen=True)
class MenuTable:
    """The live menus and what their options may lead to, as of the last applied change."""

    menus: Mapping[str, Menu] = field(default_factory=dict)
    queues: frozenset[str] = frozenset()
    agents: Mapping[str, str] = field(default_factory=dict)  # work number (with a phone) -> queue offered if busy
    phones: frozenset[str] = frozenset()
    prompts: Mapping[str, Prompts] = field(default_factory=dict)  # language -> its sentences

    def prompts_for(self, menu: Menu) -> Prompts:
        return self.prompts.get(menu.language) or Prompts()


@dataclass(frozen=True)
class Read:
    """Play ``prompt`` and read up to ``max_digits`` keys (``#`` ends a longer entry)."""

    menu: str
    mode: str
    tries: int
    hops: int
    prompt: tuple[str, ...]
    max_digits: int
    timeout_seconds: int
    language: str = "zh_CN"  # the menu's: Asterisk's CHANNEL(language) from here on


@dataclass(frozen=True)
class Leave:
    """Leave the menus for ``context``/``exten`` with these channel variables."""

    context: str
    exten: str
    reason: str = ""  # why the caller goes to the fallback or hears 'not available'
    variables: Mapping[str, str] = field(default_factory=dict)
    language: str = ""  # of the menu the caller leaves (what they hear next speaks it); '' fallback


def _fallback(reason: str) -> Leave:
    return Leave(v.FALLBACK_CONTEXT, reason, reason=reason)


def enter(table: MenuTable, name: str, hops: int = 0) -> Read | Leave:
    """The caller arrives at menu ``name``."""
    menu = table.menus.get(name)
    if menu is None:
        return _fallback("menu-unavailable")
    if hops >= MAX_HOPS:
        return _fallback("menu-loop")
    if menu.skip:
        return act(table, menu, menu.on_timeout, hops + 1)
    return Read(menu.name, MODE_MENU, 0, hops + 1, menu.prompt, 1, menu.timeout_seconds, menu.language)


def step(table: MenuTable, name: str, mode: str, tries: int, hops: int, keys: str,
         back_agent: str = "", order_of=None) -> Read | Leave:
    """One turn in menu ``name``: the caller keyed ``keys`` ('' = nothing before the timeout).
    ``back_agent`` is the agent who transferred the caller into the menus, if any;
    ``order_of()`` the caller's latest order (``{"state", "tracking"}`` or None), asked only
    when the caller chose the order-status action."""
    menu = table.menus.get(name)
    if menu is None:
        return _fallback("menu-unavailable")
    if mode.startswith(MODE_DIRECTORY):
        return _directory_step(table, menu, mode, tries, hops, keys)
    said = table.prompts_for(menu)
    if not keys:
        if tries + 1 >= menu.max_tries:
            return act(table, menu, menu.on_timeout, hops, back_agent=back_agent)
        return Read(menu.name, MODE_MENU, tries + 1, hops, said.timeout + menu.prompt, 1, menu.timeout_seconds,
                    menu.language)
    option = menu.options.get(keys[0])
    if option is None:
        if tries + 1 >= menu.max_tries:
            return act(table, menu, menu.on_invalid, hops, back_agent=back_agent)
        return Read(menu.name, MODE_MENU, tries + 1, hops, said.invalid + menu.prompt, 1, menu.timeout_seconds,
                    menu.language)
    return act(table, menu, option, hops, digit=keys[0], tries=tries, back_agent=back_agent, order_of=order_of)


def act(table: MenuTable, menu: Menu, action: Action, hops: int, *, digit: str = "", tries: int = 0,
        back_agent: str = "", order_of=None) -> Read | Leave:
    """Carry out one of ``menu``'s actions."""
    if action.kind == "repeat":
        return Read(menu.name, MODE_MENU, tries, hops, menu.prompt, 1, menu.timeout_seconds, menu.language)
    if action.kind == "order_status":  # say it, then the menu again (in the menu's language)
        said = table.prompts_for(menu).order_said(order_of() if order_of is not None else None)
        return Read(menu.name, MODE_MENU, tries, hops, said + menu.prompt, 1, menu.timeout_seconds, menu.language)
    if action.kind == "menu":
        return enter(table, action.target, hops)
    if action.kind == "directory" and digit:
        return Read(menu.name, f"{MODE_DIRECTORY}:{digit}", 0, hops, table.prompts_for(menu).directory,
                    MAX_WORK_NUMBER, menu.timeout_seconds, menu.language)
    leave = _leave(table, action, back_agent)
    return leave if leave.context == v.FALLBACK_CONTEXT else dataclasses.replace(leave, language=menu.language)


def _leave(table: MenuTable, action: Action, back_agent: str) -> Leave:
    kind, target = action.kind, action.target
    if kind == "queue":
        if target not in table.queues:
            return _fallback("menu-no-queue")
        return Leave(v.QUEUE_CONTEXT, target, variables={v.THEN_QUEUE: target})
    if kind == "agent":
        return _to_agent(table, target or back_agent, "")
    if kind == "extension":
        if target not in table.phones:
            return _fallback("menu-no-extension")
        return Leave(v.PHONE_CONTEXT, target)
    if kind == "voicemail":  # a message for the team of the queue named
        if target not in table.queues:
            return _fallback("menu-no-queue")
        return Leave(v.VOICEMAIL_CONTEXT, target, variables={v.VOICEMAIL_REASON: "menu"})
    if kind == "fax":  # the caller's fax machine is received like one on a fax line
        return Leave(v.FAX_CONTEXT, v.FAX_CALLER_EXTEN)
    if kind == "hangup":
        return Leave(v.MENU_END_CONTEXT, v.MENU_GOODBYE_EXTEN)
    return _fallback("menu-bad-action")


def _to_agent(table: MenuTable, agent: str, queue: str) -> Leave:
    """The agent alone if free, else the caller is offered ``queue`` (or the agent's own)."""
    if agent not in table.agents:
        return _fallback("menu-no-agent")
    then = queue if queue in table.queues else table.agents[agent]
    return Leave(v.DIRECTORY_CONTEXT, agent, variables={v.THEN_QUEUE: then})


def _directory_step(table: MenuTable, menu: Menu, mode: str, tries: int, hops: int, keys: str) -> Read | Leave:
    option = menu.options.get(mode.partition(":")[2])
    keys = keys.rstrip("#")
    if option is not None and keys in table.agents:
        return dataclasses.replace(_to_agent(table, keys, option.target), language=menu.language)
    if tries + 1 >= menu.max_tries:
        return act(table, menu, menu.on_invalid if keys else menu.on_timeout, hops)
    said = table.prompts_for(menu)
    prompt = (said.invalid if keys else said.timeout) + said.directory
    return Read(menu.name, mode, tries + 1, hops, prompt, MAX_WORK_NUMBER, menu.timeout_seconds, menu.language)


# -- checks ------------------------------------------------------------------------------
def check(menus: Mapping[str, Menu], queues: set[str] | frozenset[str], agents: set[str] | frozenset[str],
          phones: set[str] | frozenset[str]) -> dict[str, list[str]]:
    """Menu name -> what is wrong with it (menus without problems are left out).

    - every option, and the invalid and timeout actions, lead somewhere that exists;
    - a caller who never presses a key, or keeps pressing wrong ones, leaves the menus
      in the end (following timeout and invalid actions never goes round in a circle);
    - ``directory`` and ``repeat`` only on keys (they need one).
    """
    known = {"menus": set(menus), "queues": set(queues), "phones": set(phones)}
    problems: dict[str, list[str]] = {}

    def target_problem(action: Action) -> str | None:
        if action.kind not in ACTIONS:
            return f"unknown action {action.kind!r}"
        kind = NEEDS_TARGET.get(action.kind)
        if kind and action.target not in known[kind]:
            what = {"menus": "menu", "queues": "queue", "phones": "extension"}[kind]
            return f"no {what} {action.target!r}" if action.target else f"{action.kind}: which {what}?"
        if action.kind == "agent" and action.target and action.target not in agents:
            return f"no agent {action.target!r} with a phone"
        if action.kind == "directory" and action.target and action.target not in queues:
            return f"no queue {action.target!r}"
        return None

    for menu in menus.values():
        found = []
        for digit, action in sorted(menu.options.items()):
            if digit not in DIGITS:
                found.append(f"key {digit!r} is not a phone key")
            problem = target_problem(action)
            if problem:
                found.append(f"key {digit}: {problem}")
        for label, action in (("invalid", menu.on_invalid), ("timeout", menu.on_timeout)):
            if action.kind not in FALLTHROUGH_ACTIONS:
                found.append(f"{label} action cannot be {action.kind}")
                continue
            problem = target_problem(action)
            if problem:
                found.append(f"{label} action: {problem}")
        for label, attr in (("timeout", "on_timeout"), ("invalid", "on_invalid")):
            circle = _circle(menus, menu.name, attr)
            if circle:
                who = "a caller who presses nothing" if label == "timeout" else "a caller who keeps pressing wrong keys"
                found.append(f"{who} would go round for ever: {' > '.join(circle)}")
        if found:
            problems[menu.name] = found
    return problems


def _circle(menus: Mapping[str, Menu], start: str, attr: str) -> list[str]:
    """The menus a caller passes following ``attr`` actions from ``start``, if they come back round."""
    path, current = [], start
    while current in menus and current not in path:
        path.append(current)
        menu = menus[current]
        action = menu.on_timeout if menu.skip else getattr(menu, attr)
        if action.kind != "menu":
            return []
        current = action.target
    return path + [current] if current in path else []


def tree(menus: Mapping[str, Menu], root: str, _seen: tuple[str, ...] = ()) -> dict:
    """The flow from ``root`` as nested dicts for the admin's tree view; a menu met again on
    the same branch is shown as a reference (``"again": true``), not expanded."""
    menu = menus.get(root)
    if menu is None:
        return {"menu": root, "missing": True}
    if root in _seen:
        return {"menu": root, "again": True}
    seen = _seen + (root,)

    def node(label: str, action: Action) -> dict:
        out = {"key": label, "action": action.kind, "target": action.target}
        if action.kind == "menu":
            out["next"] = tree(menus, action.target, seen)
        return out

    steps = [node(d, a) for d, a in sorted(menu.options.items(), key=lambda kv: DIGITS.index(kv[0])
                                           if kv[0] in DIGITS else 99)]
    steps.append(node("invalid", menu.on_invalid))
    steps.append(node("timeout", menu.on_timeout))
    return {"menu": root, "skip": menu.skip, "steps": steps}
