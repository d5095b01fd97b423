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

from appliance import labels
from appliance.services.wallboard import DEFAULT_SERVICE_LEVEL_SECONDS, TodayFigures, queue_figures
from webui.apidoc import Operation, errors, ref, resp
from webui import i18n
from webui.areas.live import live_view
from webui.http import STAFF, UNSAFE, agent_directory, lang, render

# Message ids wallboard.js needs (it draws everything from JSON).
JS_MESSAGE_PREFIXES = ("wallboard.", "agent_state.", "call_state.", "live.", "error.")
CONFIG_SECONDS = 5.0  # how long the configured queues and trunks are cached (forgotten on any change)


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


class ConfigCopy:
    """The configured queues, trunks and pause reasons, re-read at most every few seconds
    (each open wallboard reads them after every call) and at once after any change."""

    def __init__(self, config, seconds: float = CONFIG_SECONDS):
        self.config = config
        self.seconds = seconds
        self._copy: dict | None = None
        self._read_at = 0.0

    def get(self) -> dict:
        if self._copy is None or time.monotonic() - self._read_at > self.seconds:
            self._copy = {kind: self.config.list(kind) for kind in ("queues", "trunks", "pause_reasons")}
            self._read_at = time.monotonic()
        return self._copy

    def forget(self) -> None:
        self._copy = None


def install(app, deps) -> None:
    today = TodayFigures(deps.db, deps.site.timezone if deps.site is not None
                         else deps.extra.get("timezone") or "Asia/Shanghai")
    copy = ConfigCopy(deps.config)
    deps.extra["wallboard_figures"] = today  # for benchmarks and tests

    @app.hook("after_request")
    def forget_config():
        if request.method in UNSAFE:
            copy.forget()
            today.forget()  # a queue's service-level threshold may have changed

    def board() -> dict:
        config = copy.get()
        # the day's figures count today's call records: off the loop (a recount after each call)
        figures = deps.queries.run(today.figures, time.time())
        return wallboard_view(live_view(deps.live(), agent_directory().all()), figures, config["queues"], config["trunks"])

    @app.get("/wallboard", name="wallboard", roles=STAFF)
    def wallboard():
        language = lang()
        js = {k: v for k, v in i18n.catalog(language).items() if k.startswith(JS_MESSAGE_PREFIXES)}
        names = {a["number"]: a["name"] for a in agent_directory().all()}
        reasons = [{"code": r["code"], "label": r["name"]} for r in labels.pause_reasons(language, copy.get()["pause_reasons"])]
        return render("wallboard.tpl", data=json_script({"board": board(), "names": names, "reasons": reasons}),
                      messages=json_script(js))

    @app.get("/api/v1/wallboard", name="api_wallboard", roles=STAFF,
             api=Operation({
              "tags": ["live"], "summary": "The wallboard: live queues, agents, calls and trunks with today's figures",
              "description": "Staff only. Every configured queue with its live waiting callers, longest wait and "
                             "available agents, and today's figures from the call records since local midnight "
                             "(the `timezone` setting): `offered` (calls that entered the queue), `answered`, "
                             "`answered_in_time` (within the queue's `service_level_seconds`), `abandoned` (the "
                             "caller hung up while waiting), `service_level` (answered in time / offered, null "
                             "when nothing was offered) and `average_answer_seconds`; `totals` over all queues; "
                             "the live agents and calls as in GET /api/v1/live; each trunk's current calls "
                             "against its `max_channels` (0: no limit).",
              "responses": {"200": resp("the wallboard", ref("Wallboard")), **errors(401, 403)}}))
    def api_wallboard():
        return board()


def json_script(data) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>`` can close it."""
    return json.dumps(data, ensure_ascii=False, default=str).replace("<", "\\u003c")
