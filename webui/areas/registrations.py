"""Whether phones and trunks are registered, live: ``/api/v1/registrations`` (what the
engine knows now, appliance/engine/registrations.py) and the state shown in the phones'
and trunks' lists, which ``static/registrations.js`` keeps up to date from the
``registration`` events of ``/api/v1/events``.  Staff only.
"""

from __future__ import annotations

import json

from webui.apidoc import Operation, errors, resp
from webui.http import STAFF

KINDS = ("phones", "trunks")
STATES = ("registered", "unreachable", "unregistered", "rejected", "not_registering", "unknown")
SNAPSHOT_SCHEMA = {"type": "object", "required": ["known", "phones", "trunks"], "properties": {
    "known": {"type": "boolean", "description": "false while the telephony engine is not connected"},
    "phones": {"type": "object", "additionalProperties": {"enum": ["registered", "unreachable"]},
               "description": "extension -> state of each phone with a contact; a phone not listed is not registered"},
    "trunks": {"type": "object", "additionalProperties": {"enum": ["registered", "unregistered", "rejected"]},
               "description": "name -> state of each trunk that registers to its provider"}}}
UNKNOWN = {"known": False, "phones": {}, "trunks": {}}


def snapshot(deps) -> dict:
    return deps.registrations() if deps.registrations is not None else UNKNOWN


def state_of(kind: str, row: dict, now: dict) -> str:
    """A phone's or trunk's registration as its list shows it (static/registrations.js has the same rule)."""
    if kind == "trunks" and not row.get("register"):
        return "not_registering"
    if not now["known"]:
        return "unknown"
    return now[kind].get(row["extension" if kind == "phones" else "name"]) or "unregistered"


def messages(translate) -> str:
    """The states' words for the script, as JSON safe inside a <script> element."""
    return json.dumps({s: translate("agents.reg." + s) for s in STATES}, ensure_ascii=False).replace("<", "\\u003c")


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
