"""The supervisor's wallboard: live queues, agents, calls and trunks with today's figures,
kept live by the Server-Sent Events stream, and the supervisor's buttons (listen, whisper,
barge, force hang-up, force sign-out, force pause) wired to the existing API.

Routes are registered by ``install(app, deps)`` from ``make_app``; who may use
them is declared on each route (supervisors and admins).  The page draws itself from
the JSON of ``GET /api/v1/wallboard`` (embedded in the page, then fetched again after a
call ends) and applies each live event as it comes; clocks tick in the browser.
"""

from __future__ import annotations

import json
import time

from bottle import request
from gevent.event import AsyncResult

from appliance import labels
from appliance.services import fxs
from appliance.services.wallboard import DEFAULT_SERVICE_LEVEL_SECONDS, TodayFigures, queue_figures
from webui.apidoc import Operation, body, errors, ref, resp
from webui import i18n
from webui.areas.live import live_with_customers
from webui.http import STAFF, UNSAFE, agent_directory, current_user, json_body, lang, render

# Message ids wallboard.js needs (it draws everything from JSON).
JS_MESSAGE_PREFIXES = ("wallboard.", "agent_state.", "call_state.", "live.", "error.")


def wallboard_view(live: dict, today: dict, queues: list[dict], trunks: list[dict]) -> dict:
    """The live view, today's figures and the configuration as one wallboard.

    Every configured queue has a row (live waiting callers and available agents, today's
    figures, its service-level threshold); a queue the engine reports that is not configured
    (yet) still shows.  Each trunk says how many current calls use it against ``max_channels``
    (0: no limit)."""
    live_queues = {q.get("name"): q for q in live.get("queues") or []}
    figures = today.get("queues") or {}
    rows = []
    for name in [q["name"] for q in queues] + sorted(set(live_queues) - {q["name"] for q in queues}):
        config = next((q for q in queues if q["name"] == name), {})
        now = live_queues.get(name, {})
        rows.append({"name": name, "display_name": config.get("display_name") or "",
                     "service_level_seconds": config.get("service_level_seconds", DEFAULT_SERVICE_LEVEL_SECONDS),
                     "waiting": now.get("waiting", 0), "longest_wait": now.get("longest_wait", 0.0),
                     "available": now.get("available", 0), "members": now.get("members") or [],
                     **(figures.get(name) or queue_figures({}))})
    calls = [c for c in live.get("calls") or [] if c.get("state") != "ended"]
    lines = [{"name": t["name"], "max_channels": t.get("max_channels") or 0,
              "calls": sum(1 for c in calls if c.get("trunk") == t["name"])} for t in trunks]
    return {"date": today.get("date"), "timezone": today.get("timezone"), "since": today.get("since"),
            "totals": today.get("totals") or queue_figures({}), "queues": rows,
            "agents": live.get("agents") or [], "calls": calls, "trunks": lines}


class SharedBoard:
    """The wallboard's part that is the same for every supervisor (today's figures, the queues,
    the trunks and card lines; the live part is read per request): computed once for all who
    ask within ``seconds`` of its computation while ``key()`` (what it counts: the
    configuration copy, the newest call record) stays the same, and once for all who ask while
    it is being computed (they wait for that one)."""

    def __init__(self, compute, key, seconds: float = 1.0, clock=time.monotonic):
        self.compute, self.key, self.seconds, self.clock = compute, key, seconds, clock
        self.computed = 0
        self._done: tuple | None = None  # (key, at, board)
        self._pending: tuple | None = None  # (key, AsyncResult)

    def get(self) -> dict:
        key, now = self.key(), self.clock()
        if self._done is not None and same(self._done[0], key) and now - self._done[1] <= self.seconds:
            return self._done[2]
        if self._pending is not None and same(self._pending[0], key):
            return self._pending[1].get()
        waiting = AsyncResult()
        self._pending = (key, waiting)
        try:
            board = self.compute()
        except BaseException as exc:
            waiting.set_exception(exc if isinstance(exc, Exception) else RuntimeError("the wallboard was interrupted"))
            raise
        finally:
            if self._pending is not None and self._pending[1] is waiting:
                self._pending = None
        self.computed += 1
        self._done = (key, now, board)
        waiting.set(board)
        return board

    def forget(self) -> None:
        self._done = None


def same(a: tuple, b: tuple) -> bool:
    """Keys alike: each part the very same object (the configuration copy), or equal."""
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b))


def install(app, deps) -> None:
    today = TodayFigures(deps.db, deps.site.timezone if deps.site is not None
                         else deps.extra.get("timezone") or "Asia/Shanghai")
    copy = app.config["config_copy"]  # the live area's (installed first)
    deps.extra["wallboard_figures"] = today  # for benchmarks and tests

    @app.hook("after_request")
    def forget_figures():
        if request.method in UNSAFE:
            today.forget()  # a queue's service-level threshold may have changed
            shared.forget()

    def compute() -> tuple:
        config = copy.get()
        # the day's figures count today's call records: off the loop (a recount after each call),
        # not behind the customer searches (at most once a second: the board is shared)
        figures = deps.queries.run_urgent(today.figures, time.time())
        card = deps.card() if deps.card is not None else fxs.CardFacts()
        lines = config["trunks"] + [  # the card's ways out, at what the card carries
            {"name": r["name"], "max_channels": card.capacity(r["line"], r["span"])}
            for r in config["card_routes"] if card.capacity(r["line"], r["span"])]
        return figures, config["queues"], lines

    def key() -> tuple:
        return copy.get(), today.latest()

    shared = SharedBoard(compute, key)
    deps.extra["wallboard_board"] = shared  # for tests

    def board() -> dict:
        # the live part (who waits, who talks, each trunk's calls) as it is now, for each request:
        # a page redraws from it on each live event, so a second-old copy showed a caller late
        figures, queues, lines = shared.get()
        return wallboard_view(live_with_customers(deps.live()), figures, queues, lines)

    @app.get("/wallboard", name="wallboard", roles=STAFF)
    def wallboard():
        """``?tv=1``: the wall-screen mode (dark, large type, no buttons, nothing to click)."""
        language = lang()
        js = {k: v for k, v in i18n.catalog(language).items() if k.startswith(JS_MESSAGE_PREFIXES)}
        names = {a["number"]: a["name"] for a in agent_directory().all()}
        reasons = [{"code": r["code"], "label": r["name"]}
                   for r in labels.pause_reasons(language, copy.get()["pause_reasons"])]
        phone = deps.users.own_extension(current_user()["id"])
        tv = request.query.get("tv") == "1"
        return render("wallboard.tpl", tv=tv, messages=json_script(js),
                      data=json_script({"board": board(), "names": names, "reasons": reasons, "phone": phone,
                                        "tv": tv}))

    @app.post("/api/v1/wallboard/phone", name="api_wallboard_phone", scope="calls:control", roles=STAFF,
              api=Operation({
                  "tags": ["live"], "summary": "Name the supervisor's own phone (kept with their account)",
                  "description": "Staff only. The extension of a configured phone that the wallboard rings to "
                                 "listen to, whisper to or barge into an agent's call, kept with the signed-in "
                                 "user's account (the same on every browser); an empty `phone` forgets it. The "
                                 "wallboard page carries it back.",
                  "requestBody": body({"type": "object", "required": ["phone"], "properties": {
                      "phone": {"type": "string", "description": "an extension, or '' for none"}}}),
                  "responses": {"200": resp("saved", {"type": "object", "properties": {"phone": {"type": "string"}}}),
                                **errors(400, 401, 403, 422)}}))
    def api_wallboard_phone():
        return {"phone": deps.users.set_own_extension(current_user()["id"], json_body().get("phone"))}

    @app.get("/api/v1/wallboard", name="api_wallboard", scope="calls:read", roles=STAFF,
             api=Operation({
              "tags": ["live"], "summary": "The wallboard: live queues, agents, calls and trunks with today's figures",
              "description": "Staff only. Every configured queue with its live waiting callers, longest wait and "
                             "available agents, and today's figures from the call records since local midnight "
                             "(the `timezone` setting): `offered` (calls that entered the queue), `answered`, "
                             "`answered_in_time` (within the queue's `service_level_seconds`), `abandoned` (the "
                             "caller hung up while waiting), `service_level` (answered in time / offered, null "
                             "when nothing was offered) and `average_answer_seconds`; `totals` over all queues; "
                             "the live agents and calls as in GET /api/v1/live; each trunk's current calls "
                             "against its `max_channels` (0: no limit), and each card route the telephony card "
                             "has against its capacity (a PRI span's B-channels, the FXO lines). One board for "
                             "every supervisor: computed at most once a second, and again at once after a new "
                             "call record or a configuration change; the live part is as it is now.",
              "responses": {"200": resp("the wallboard", ref("Wallboard")), **errors(401, 403)}}))
    def api_wallboard():
        return board()


def json_script(data) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>`` can close it."""
    return json.dumps(data, ensure_ascii=False, default=str).replace("<", "\\u003c")
