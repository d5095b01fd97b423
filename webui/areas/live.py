"""The live view: the dashboard page, ``/api/v1/live`` and the live events
(``/api/v1/events``, Server-Sent Events).  A user with the agent role sees only their own
agents, those agents' queues and their calls (``viewer().agents``).
"""

from __future__ import annotations

import json
import logging
import time

from bottle import request, response

from appliance.bus import Interest
from appliance.errors import FieldError, Unavailable
from appliance.services.callers import customer_names
from webui.apidoc import Operation, errors, ref, resp
from webui import i18n
from webui.http import EVERYONE, UNSAFE, agent_directory, current_user, lang, render, viewer

logger = logging.getLogger(__name__)

# Message ids the dashboard's script needs (it re-draws the tables from /api/v1/live).
JS_MESSAGE_PREFIXES = ("agent_state.", "call_state.", "state.", "component.", "live.", "health.",
                       "labels.component_state.")
# The states the live engine reports (appliance/engine/live.py); each has a message id.
AGENT_STATES = ("logged_out", "free", "ringing", "in_call", "unavailable", "paused")
CALL_STATES = ("new", "queued", "ringing", "talking", "ended")  # each has a call_state.* message
# call states in which nobody has answered the caller (no_agent: sent on to voicemail or a message)
NOT_ANSWERED = ("new", "queued", "ringing", "no_agent")
CONFIG_SECONDS = 5.0  # how long the configured queues and trunks are cached (forgotten on any change)


def live_view(snapshot: dict, directory: list[dict], only_agents: set[str] | None = None,
              configured: list[dict] = (), customers: dict[str, str] | None = None) -> dict:
    """The engine's live snapshot as the dashboard and ``/api/v1/live`` show it.

    Adds what the snapshot does not say itself (without overriding it): per queue the
    number of its members who are ``available`` (state free), per agent the configured
    ``display_name``.  Every ``configured`` queue (``name``, ``display_name``) has a row, with
    zeros while the engine has reported nothing of it (no agent signed in yet), configured
    queues first in their order.  With ``customers`` (caller -> the CRM customer's name),
    each call carries ``customer_name`` ('' for a number that is no customer's).  With
    ``only_agents`` (an agent signed in) only those agents, their queues and their calls remain.
    """
    agents = [dict(a) for a in snapshot.get("agents") or []]
    queues = {q.get("name"): dict(q) for q in snapshot.get("queues") or []}
    calls = [dict(c) for c in snapshot.get("calls") or []]
    names = {a.get("number"): a.get("name") for a in directory}
    state_of = {a.get("name"): a.get("state") for a in agents}
    for a in agents:
        a.setdefault("display_name", names.get(a.get("name")) or "")
    for q in configured:
        row = queues.setdefault(q["name"], {"name": q["name"], "waiting": 0, "longest_wait": 0.0, "members": []})
        row.setdefault("display_name", q.get("display_name") or "")
    order = [q["name"] for q in configured]
    queues = [queues[n] for n in order] + [queues[n] for n in sorted(set(queues) - set(order), key=str)]
    for q in queues:
        members = q.get("members")
        if "available" not in q and isinstance(members, list):
            q["available"] = sum(1 for name in members if state_of.get(name) == "free")
    if customers is not None:
        for c in calls:
            c["customer_name"] = customers.get(c.get("caller") or "", "")
    if only_agents is not None:
        agents = [a for a in agents if a.get("name") in only_agents]
        mine = {q for a in agents for q in a.get("queues") or []}
        mine |= {q for a in directory if a.get("number") in only_agents for q in a.get("queues") or []}
        queues = [q for q in queues if q.get("name") in mine]
        calls = [c for c in calls if c.get("agent") in only_agents]
    return {**snapshot, "queues": queues, "agents": agents, "calls": calls}


def live_summary(live: dict) -> dict:
    """The four figures at the top of the dashboard (live.js computes the same)."""
    queues, agents, calls = live["queues"], live["agents"], live["calls"]
    return {
        "waiting": sum(q.get("waiting") or 0 for q in queues),
        "longest_wait": max((q.get("longest_wait") or 0 for q in queues), default=0),
        "available": sum(1 for a in agents if a.get("state") == "free"),
        "signed_in": sum(1 for a in agents if a.get("state") not in (None, "logged_out")),
        "calls": sum(1 for c in calls if c.get("state") != "ended"),
    }


def call_times(call: dict) -> tuple:
    """(waited, talked, total) seconds of a live call, from whatever the engine reports."""
    total = call.get("duration")
    waited = call.get("wait_seconds")
    if waited is None and call.get("state") in NOT_ANSWERED:
        waited = total
    return waited, call.get("talk_seconds"), total


class ConfigCopy:
    """The configured queues, trunks, card routes and pause reasons, re-read at most every few
    seconds (each open wallboard reads them after every call) and at once after any change."""

    def __init__(self, config, seconds: float = CONFIG_SECONDS):
        self.config = config
        self.seconds = seconds
        self._copy: dict | None = None
        self._read_at = 0.0

    def get(self) -> dict:
        if self._copy is None or time.monotonic() - self._read_at > self.seconds:
            self._copy = {kind: self.config.list(kind)
                          for kind in ("queues", "trunks", "card_routes", "pause_reasons")}
            self._read_at = time.monotonic()
        return self._copy

    def forget(self) -> None:
        self._copy = None


def live_with_customers(snapshot: dict, only_agents: set[str] | None = None) -> dict:
    """``live_view`` of this request's app: the configured agents and queues, and the callers'
    customers' names from the CRM."""
    return live_view(snapshot, agent_directory().all(), only_agents, request.app.config["config_copy"].get()["queues"],
                     customer_names(c.get("caller") for c in snapshot.get("calls") or []))


# -- live events (Server-Sent Events) ---------------------------------------------------------
def visible(topic: str, data: dict, scope, username: str = "") -> bool:
    """Whether an event reaches this reader: staff see everything (``scope`` None); an agent
    sees their own agents' state, the calls offered to or taken by them, and their queues.
    A message between users reaches only its sender and its recipient, whatever their role."""
    if topic == "message":
        return bool(username) and username in (data.get("from"), data.get("to"))
    if scope is None:
        return True
    agents, queues = scope
    if topic == "agent":
        return data.get("name") in agents
    if topic == "call":
        return data.get("agent") in agents or data.get("offered_to") in agents
    if topic == "queue":
        return data.get("name") in queues
    return False


def interest(scope, username: str = "") -> Interest:
    """What ``visible`` lets through, said to the bus as data (``appliance.bus.Interest``): the
    bus finds an event's readers in its index instead of asking each of them."""
    messages = {"from": {username}, "to": {username}} if username else {}
    if scope is None:
        return Interest({"message": messages}, other_topics=True)
    agents, queues = scope
    return Interest({"agent": {"name": set(agents)}, "call": {"agent": set(agents), "offered_to": set(agents)},
                     "queue": {"name": set(queues)}, "message": messages})


def event_stream(subscription, scope, max_seconds: float, keepalive: float = 15.0, username: str = ""):
    """``text/event-stream`` lines: ``event: <topic>`` and ``data: <json>`` per change,
    a comment line as keep-alive; ends (and unsubscribes) after ``max_seconds``."""
    deadline = time.monotonic() + max_seconds
    try:
        yield "retry: 2000\n\n"
        while (left := deadline - time.monotonic()) > 0:
            items = subscription.wait(min(keepalive, left))
            if not items:
                yield ": keep-alive\n\n"
                continue
            # one write for what arrived together, each event encoded once for every reader
            text = "".join(encoded(item) for item in items if visible(*item, scope, username))
            if text:
                yield text
    finally:
        subscription.close()


_ENCODED: dict[int, tuple[tuple, str]] = {}  # id(item) -> (item, its lines): the bus hands every reader one tuple


def encoded(item: tuple) -> str:
    """``event:`` and ``data:`` lines of a published ``(topic, data)``, encoded once however
    many streams send it (a queue's change goes to each of its agents)."""
    cached = _ENCODED.get(id(item))
    if cached is not None and cached[0] is item:
        return cached[1]
    topic, data = item
    text = f"event: {topic}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
    if len(_ENCODED) >= 2048:  # older items have been sent by now (or dropped by a slow reader)
        _ENCODED.clear()
    _ENCODED[id(item)] = (item, text)  # the item held, so its id is not reused while cached
    return text


def install(app, deps) -> None:
    copy = app.config["config_copy"] = ConfigCopy(deps.config)  # the wallboard's too

    @app.hook("after_request")
    def forget_config():
        if request.method in UNSAFE:
            copy.forget()

    def health_now() -> dict:
        """The aggregated health; the live page must still draw if reading it fails."""
        try:
            return deps.health()
        except Exception:
            logger.exception("reading the appliance's health failed")
            return {"status": "down", "components": {}}

    def live_for_user() -> dict:
        me = viewer()
        return live_with_customers(deps.live(), None if me.staff else set(me.agents))

    @app.get("/", name="dashboard", roles=EVERYONE)
    def dashboard():
        live = live_for_user()
        js = {k: v for k, v in i18n.catalog(lang()).items() if k.startswith(JS_MESSAGE_PREFIXES)}
        return render("dashboard.tpl", live=live, summary=live_summary(live), health=health_now(),
                      known=set(i18n.catalog(lang())),
                      my_agents=agent_directory().of_user(current_user()["username"]), js_messages=js,
                      call_times=call_times, agent_states=AGENT_STATES)

    @app.get("/api/v1/live", name="api_live", scope="calls:read", roles=EVERYONE,
             api=Operation({"tags": ["live"], "summary": "Live queues, agents and calls",
                            "description": "The same data the live page shows, refreshed by the engine from AMI events. "
                                           "A user with the agent role sees only their own agents, the queues those "
                                           "agents are in and their calls.",
                            "responses": {"200": resp("snapshot", ref("Live")), **errors(401)}}))
    def api_live():
        return live_for_user()

    @app.get("/api/v1/events", name="api_events", scope="calls:read", roles=EVERYONE,
             api=Operation({"tags": ["live"], "summary": "Live changes as Server-Sent Events",
                            "description": "text/event-stream: `event: agent|call|queue` with a JSON `data:` line per "
                                           "change (a `call` event with `\"event\": \"offered\"` and `offered_to` is the "
                                           "screen pop). Staff see everything; an agent only their own agents, the "
                                           "calls offered to or taken by them, and their queues. The stream ends "
                                           "after a while; EventSource reconnects by itself.",
                            "responses": {"200": {"description": "the event stream",
                                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                                          **errors(401, 503)}}))
    def api_events():
        if deps.bus is None:
            raise Unavailable(FieldError("error.msg.events_unavailable", "live events are not available in this process"),
                              code="events.unavailable")
        me = viewer()
        scope = None
        if me.role == "agent":
            mine = [a for a in agent_directory().all() if a["number"] in me.agents]
            scope = (set(me.agents), {q for a in mine for q in a.get("queues") or []})
        subscription = deps.bus.subscribe(interest=interest(scope, me.username))
        response.content_type = "text/event-stream; charset=utf-8"
        response.set_header("X-Accel-Buffering", "no")
        return event_stream(subscription, scope, deps.events_max_seconds, username=me.username)
