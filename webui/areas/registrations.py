"""Whether phones and trunks are registered, live: ``/api/v1/registrations`` (what the
engine knows now, appliance/engine/registrations.py) and the state shown in the phones'
and trunks' lists, which ``static/registrations.js`` keeps up to date from the
``registration`` events of ``/api/v1/events``.  Staff only.
"""

from __future__ import annotations

import json

from appliance.engine.registrations import PORT_MISSING, PORT_STATES
from webui.apidoc import Operation, errors, resp
from webui.http import STAFF

KINDS = ("phones", "trunks")
STATES = ("registered", "unreachable", "unregistered", "rejected", "not_registering", "unknown")
SNAPSHOT_SCHEMA = {"type": "object", "required": ["known", "phones", "trunks"], "properties": {
    "known": {"type": "boolean", "description": "false while the telephony engine is not connected"},
    "phones": {"type": "object", "additionalProperties": {"enum": ["registered", "unreachable", *PORT_STATES]},
               "description": "extension -> state of each phone with a contact (a phone not listed is not "
                              "registered), and of each analog phone (kind fxs): its FXS port's, `port_idle`, "
                              "`port_busy`, `port_ringing`, `port_unavailable`, or `port_missing` when the "
                              "telephony card does not have the port"},
    "trunks": {"type": "object", "additionalProperties": {"enum": ["registered", "unregistered", "rejected"]},
               "description": "name -> state of each trunk that registers to its provider"}}}
UNKNOWN = {"known": False, "phones": {}, "trunks": {}}


def snapshot(deps) -> dict:
    return deps.registrations() if deps.registrations is not None else UNKNOWN


def state_of(kind: str, row: dict, now: dict) -> str:
    """A phone's or trunk's registration as its list shows it; an analog phone's (kind fxs)
    is its port's: idle, busy, ringing, unavailable, or missing when the card does not have
    it (known without the engine).  static/registrations.js has the same rule."""
    if kind == "trunks" and not row.get("register"):
        return "not_registering"
    held = now[kind].get(row["extension" if kind == "phones" else "name"])
    analog = kind == "phones" and row.get("kind") == "fxs"
    if analog and held == PORT_MISSING:
        return held
    if not now["known"]:
        return "unknown"
    return held or (PORT_MISSING if analog else "unregistered")


def word_key(state: str) -> str:
    """The message id of a state: ``agents.reg.<state>``, a port's ``fxs.port.<state>``."""
    return f"fxs.port.{state.removeprefix('port_')}" if state in PORT_STATES else f"agents.reg.{state}"


def messages(translate) -> str:
    """The states' words for the script, as JSON safe inside a <script> element."""
    return json.dumps({s: translate(word_key(s)) for s in STATES + PORT_STATES},
                      ensure_ascii=False).replace("<", "\\u003c")


def install(app, deps) -> None:
    @app.get("/api/v1/registrations", name="api_registrations", scope="calls:read", roles=STAFF,
             api=Operation({"tags": ["live"], "summary": "Which phones and trunks are registered, now",
                            "description": "From Asterisk's contacts and outbound registrations, kept up to date "
                                           "by its events; each change is also a `registration` event on "
                                           "`/api/v1/events` (`{\"kind\": \"phones\"|\"trunks\", \"key\", \"state\"}`; "
                                           "`kind` `all` with state `unknown` when the engine lost Asterisk).",
                            "responses": {"200": resp("the registrations", SNAPSHOT_SCHEMA), **errors(401, 403)}}))
    def api_registrations():
        return snapshot(deps)
