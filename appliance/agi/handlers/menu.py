"""FastAGI script ``menu``: one turn of a voice menu.

Arguments (from ``cc-menu`` in the generated dialplan): the event (``enter`` or
``keys``), the menu, the mode, tries, hops and the keys read.  The pure
``engine.menus`` step decides; this handler only sets the channel variables: for
``Read`` the prompt and how many keys to read (the dialplan plays and reads, so keys
pressed during the prompt cut it short), for ``Leave`` the destination; entering or
leaving a menu sets ``CHANNEL(language)`` to the menu's, which picks the appliance's
own sentences the caller hears next (goodbye, the survey...).  Each turn is handed to
``on_step`` (``db.writers.MenuStepWriter``: one ``menu_step`` row, the IVR report's record):
the menu, what the caller keyed, and the menu it led to or the way they left.  The menus come
from an in-memory snapshot refreshed whenever configuration is applied, so a change
reaches the next turn of every call without touching Asterisk.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from appliance import dialplan_vars as v
from appliance.engine.menus import MODE_DIRECTORY, Leave, MenuTable, Read, enter, step

logger = logging.getLogger(__name__)

SCRIPT = "menu"
# where a caller who leaves the menus goes, as the IVR report names it (``menu_step.left``)
LEFT = {v.QUEUE_CONTEXT: "queue", v.DIRECTORY_CONTEXT: "agent", v.PHONE_CONTEXT: "extension",
        v.VOICEMAIL_CONTEXT: "voicemail", v.FAX_CONTEXT: "fax", v.MENU_END_CONTEXT: "hangup",
        v.FALLBACK_CONTEXT: "fallback"}


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def make_handler(current_table: Callable[[], MenuTable], order_of: Callable[[str], dict | None] | None = None,
                 on_step: Callable[[dict], None] | None = None):
    """``order_of(number)``: the latest order of the customer calling from ``number``
    (the order-status action; ``services.orders.OrderService.latest_for_number``);
    ``on_step(row)``: each turn as a ``menu_step`` row (``turn``)."""
    def handle(session, request) -> None:
        args = list(request.args) + [""] * 6
        event, name, mode, tries, hops, keys = args[:6]
        table = current_table()
        if event == "enter":
            outcome = enter(table, name, _int(hops))
        else:
            back_agent = session.get_variable(v.AGENT) or "" if _needs_agent(table, name) else ""
            latest = (lambda: order_of(request.callerid or "")) if order_of is not None else None
            outcome = step(table, name, mode, _int(tries), _int(hops), keys, back_agent=back_agent, order_of=latest)
        if on_step is not None:
            on_step({"at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "linkedid": request.linkedid,
                     **turn(table, event, name, mode, keys, outcome)})
        if isinstance(outcome, Read):
            variables = {}
            if event == "enter" or outcome.menu != name:  # the sentences around it speak its language
                variables[v.LANGUAGE] = outcome.language
            variables.update({v.MENU: outcome.menu, v.MENU_MODE: outcome.mode, v.MENU_TRIES: outcome.tries,
                              v.MENU_HOPS: outcome.hops, v.MENU_PROMPT: "&".join(outcome.prompt),
                              v.MENU_MAXDIGITS: outcome.max_digits, v.MENU_TIMEOUT: outcome.timeout_seconds,
                              v.MENU_READ_OPTIONS: "t" if outcome.max_digits == 1 else "", v.MENU_ACTION: "read"})
            session.set_variables(variables)  # one round trip where it can: the caller waits for each
            return
        _leave(session, request, name, outcome)

    return handle


def turn(table: MenuTable, event: str, name: str, mode: str, keys: str, outcome: Read | Leave) -> dict:
    """One turn as the IVR report keeps it: the menu, what the caller did there (enter, a
    key of an option, an invalid key, nothing before the timeout, keys of a work number in the
    directory) and where it took them: the menu they are in now, or how they left."""
    if event == "enter":
        kind = "enter"
    elif mode.startswith(MODE_DIRECTORY):
        kind = "directory"
    elif not keys:
        kind = "timeout"
    else:
        menu = table.menus.get(name)
        kind = "key" if menu is not None and keys[0] in menu.options else "invalid"
    if isinstance(outcome, Read):
        return {"menu": name[:32], "kind": kind, "keys": keys[:16], "next_menu": outcome.menu, "left": ""}
    return {"menu": name[:32], "kind": kind, "keys": keys[:16], "next_menu": "",
            "left": LEFT.get(outcome.context, "fallback")}


def _needs_agent(table: MenuTable, name: str) -> bool:
    """Only a menu with an option back to 'the agent who sent the caller' reads CC_AGENT."""
    menu = table.menus.get(name)
    return menu is not None and any(a.kind == "agent" and not a.target
                                    for a in (*menu.options.values(), menu.on_invalid, menu.on_timeout))


def _leave(session, request, name: str, outcome: Leave) -> None:
    variables = {}
    if outcome.reason:
        logger.info("caller %s (%s) leaves menu %s: %s", request.callerid, request.channel, name, outcome.reason)
        variables[v.FALLBACK_REASON] = outcome.reason
    variables.update(outcome.variables)
    if outcome.language:
        variables[v.LANGUAGE] = outcome.language
    variables.update({v.ROUTE_RULE: "menu", v.DEST_CONTEXT: outcome.context, v.DEST_EXTEN: outcome.exten,
                      v.MENU_ACTION: "go"})
    session.set_variables(variables)
