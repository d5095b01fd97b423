"""Reports in the web UI and the API: traffic curve, arrivals heat map, agent efficiency,
abandoned calls with their call-backs, survey scores, the voice menus, callers by region and
by trunk, outbound results, call costs and sales, each a chart over a table, for
any range of the office's days, with its Excel export; and the admin's rebuild of the
summaries.  Team leaders and admins see every report; an agent sees their own efficiency.
Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import bottle
from bottle import HTTPResponse, request, response

from appliance import labels
from appliance.db.worker import in_worker
from appliance.errors import NotFound, ValidationError
from appliance.services import report_views as views
from appliance.services.report_schedule import PERIODS, SCHEDULE_KINDS
from appliance.services.reports import DIRECTIONS, GRAINS, rebuild_days
from webui import i18n
from webui.apidoc import Operation, body, errors, items, resp
from webui.http import (ADMIN, EVERYONE, STAFF, agent_directory, created, current_user, json_body, lang, no_content,
                        render, viewer)

FILTERS = ("from", "to", "grain", "queue", "did", "agent", "direction", "team")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OBJECT = {"type": "object"}
OWN_KINDS = ("agents", "timeline")  # what an agent may see of their own
SCHEDULE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "report": {"type": "string"}, "period": {"type": "string"},
    "recipients": {"type": "string"}, "queue": {"type": "string"}, "language": {"type": "string"},
    "last_period": {"type": "string", "description": "the last period sent (2026-12-05, 2026-11-30 for a week, 2026-11)"},
    "last_error": {"type": "string", "description": "why the last period could not be sent (`mail-off`...)"},
    "created_by": {"type": "string"}}}
PARAMETERS = [{"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
              for name, text in (("from", "first day on the office's clock, YYYY-MM-DD (default: the 1st of this month)"),
                                 ("to", "last day, YYYY-MM-DD (default: today); at most 3 years after `from`"),
                                 ("grain", "traffic only: 15min (31 days at most), hour (92 days), day, week or month"),
                                 ("queue", "queue name (a deleted queue's history too)"), ("did", "the DID dialled"),
                                 ("agent", "work number"), ("direction", "inbound, outbound or internal"),
                                 ("team", "a team: a queue's agents (each agent's team: the queue they are a member "
                                          "of with the lowest penalty); its queue's calls and its agents' outgoing "
                                          "calls, or its agents' figures; not for `sales`"))]


def install(app, deps) -> None:
    service = deps.reports

    def args() -> dict:
        return {k: (request.query.getunicode(k) or "").strip() for k in FILTERS}

    def checked(kind: str):
        """The report's kind and the viewer's filter, checked: agents get their own
        efficiency only (a 404 for any other report)."""
        if kind not in views.KINDS:
            raise NotFound(f"no report {kind}", code="reports.not_found")
        me = viewer()
        if not me.staff and kind not in OWN_KINDS:
            raise NotFound(f"no report {kind}", code="reports.not_found")
        asked = args()
        if kind in views.AGENT_FILTER_ONLY:  # nothing of theirs has a queue, DID or direction
            asked.update(queue="", did="", direction="")
        if kind in views.NO_TEAM_FILTER:
            asked["team"] = ""
        if kind == "timeline" and not asked["from"] and not asked["to"]:  # one day: today
            asked["from"] = asked["to"] = service.today().isoformat()
        return service.spec(asked, None if me.staff else me.agents)

    def run(kind: str, spec) -> dict:
        spec["lang"] = lang()  # the places of the regions report are named in the reader's language
        return deps.queries.run(getattr(service, kind), spec)

    def filter_lines(spec, language: str) -> list[str]:
        return views.filter_lines(spec, *words_of(language))

    def words_of(language: str):
        return (lambda msgid, **kw: i18n.translate(language, msgid, **kw),
                lambda kind, code: labels.label(language, kind, code))

    # -- reports e-mailed on a schedule (before /reports/<kind>: "schedules" is no report) ------
    schedules = deps.report_schedules

    def schedules_page(problem=None, values=None, status=200):
        response.status = status
        return render("report_schedules.tpl", rows=schedules.list(), kinds=SCHEDULE_KINDS, report_kinds=views.KINDS, periods=PERIODS,
                      queues=[q["name"] for q in deps.config.list("queues")], problem=problem,
                      values=values or {}, mail_on=schedules.outbox.enabled)

    @app.get("/reports/schedules", name="report_schedules", roles=STAFF)
    def report_schedules():
        return schedules_page()

    @app.post("/reports/schedules", name="report_schedule_create", roles=STAFF)
    def report_schedule_create():
        values = {k: request.forms.getunicode(k) or "" for k in ("report", "period", "recipients", "queue", "language")}
        try:
            schedules.create(values, actor=current_user()["username"])
        except ValidationError as exc:
            problem = [(name, i18n.field_error(lang(), error)) for name, error in exc.fields.items()]
            return schedules_page(problem, values, exc.http_status)
        bottle.redirect("/reports/schedules")

    @app.post("/reports/schedules/<schedule_id:int>/delete", name="report_schedule_delete", roles=STAFF)
    def report_schedule_delete(schedule_id):
        schedules.delete(schedule_id, actor=current_user()["username"])
        bottle.redirect("/reports/schedules")

    @app.get("/api/v1/report-schedules", name="api_report_schedules", scope="reports:read", roles=STAFF,
             api=Operation({"tags": ["reports"], "summary": "The reports e-mailed after each day, week or month",
                            "responses": {"200": resp("schedules", items(SCHEDULE)), **errors(401, 403)}}))
    def api_report_schedules():
        return {"items": schedules.list()}

    @app.post("/api/v1/report-schedules", name="api_report_schedule_create", scope="config", roles=STAFF,
              api=Operation({"tags": ["reports"], "summary": "E-mail a report after each day, week or month",
                             "description": "The last complete period goes out within 5 minutes, then one per "
                                            "period, as an Excel workbook through the outbox.",
                             "requestBody": body({"type": "object", "required": ["report", "period", "recipients"],
                                                  "properties": {"report": {"enum": list(SCHEDULE_KINDS)},
                                                                 "period": {"enum": list(PERIODS)},
                                                                 "recipients": {"type": "string"},
                                                                 "queue": {"type": "string"},
                                                                 "language": {"enum": ["zh_CN", "en"]}}}),
                             "responses": {"201": resp("the schedule", SCHEDULE), **errors(400, 401, 403, 422)}}))
    def api_report_schedule_create():
        return created(schedules.create(json_body(), actor=current_user()["username"]))

    @app.delete("/api/v1/report-schedules/<schedule_id:int>", name="api_report_schedule_delete",
                scope="config", roles=STAFF,
                api=Operation({"tags": ["reports"], "summary": "Stop e-mailing a report",
                               "responses": {"204": {"description": "gone"}, **errors(401, 403, 404)}}))
    def api_report_schedule_delete(schedule_id):
        schedules.delete(schedule_id, actor=current_user()["username"])
        return no_content()

    @app.get("/reports", name="reports", roles=EVERYONE)
    def reports_home():
        return report_page("traffic" if viewer().staff else "agents")

    @app.get("/reports/<kind>", name="report", roles=EVERYONE)
    def report_page(kind):
        language = lang()
        words, label = words_of(language)
        problem, spec, tables, chart = None, None, [], None
        if kind not in views.KINDS or (not viewer().staff and kind not in OWN_KINDS):
            raise NotFound(f"no report {kind}", code="reports.not_found")
        try:
            spec = checked(kind)
            result = run(kind, spec)
            tables, chart = views.tables(kind, result, words, label), views.chart(kind, result, words, label)
        except ValidationError as exc:  # a bad filter: said next to the form, in the reader's words
            problem = [(name, i18n.field_error(language, error)) for name, error in exc.fields.items()]
        query = {k: v for k, v in args().items() if v}
        return render("reports.tpl", kind=kind, kinds=views.KINDS if viewer().staff else OWN_KINDS,
                      args=args(), spec=spec, problem=problem, tables=tables,
                      chart_json=json.dumps(chart, ensure_ascii=False) if chart else "",
                      notices=[words(msgid, **params) for msgid, params in (spec or {}).get("notices", [])],
                      filter_lines=filter_lines(spec, language) if spec else [],
                      grains=GRAINS, directions=DIRECTIONS,
                      queues=[q["name"] for q in deps.config.list("queues")],
                      teams=[q["name"] for q in deps.config.list("queues") if not q["name"].startswith("cc-")],
                      team_filter=kind not in views.NO_TEAM_FILTER,
                      staff=viewer().staff, agents=agent_directory().all() if viewer().staff else [],
                      agent_only=kind in views.AGENT_FILTER_ONLY,
                      export_url=f"/reports/{kind}/export" + ("?" + urlencode(query) if query else ""))

    @app.get("/reports/<kind>/export", name="report_export", roles=EVERYONE)
    def report_export(kind):
        language = lang()
        words, label = words_of(language)
        spec = checked(kind)
        result = run(kind, spec)
        title = words(f"reports.kind.{kind}")
        data = in_worker(deps.db, views.workbook, title, filter_lines(spec, language),
                         views.tables(kind, result, words, label), words, label)
        name = f"report-{kind}-{spec['from'].isoformat()}-{spec['to'].isoformat()}.xlsx"
        return HTTPResponse(data, headers={"Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/api/v1/reports/<report>", name="api_report", scope="reports:read", roles=EVERYONE,
             api=Operation({"tags": ["reports"], "summary": "One report's figures for a range of the office's days",
                            "description": "`report`: `traffic` (per period of `grain`: offered, answered, abandoned, no_agent, "
                                           "service_level, asa, aht, and totals), `heatmap` (inbound arrivals by weekday "
                                           "0 = Monday and hour), `agents` (signed-in, talk, wrap-up, pauses by reason, "
                                           "occupancy, calls per hour), `timeline` (one day: each agent's states), `abandoned` (with call-backs), `surveys`, "
                                           "`ivr` (per menu: entered, keys, invalid, timeouts, where callers left or hung up), "
                                           "`regions` (incoming callers by province and city), `trunks`, `outbound` (campaign "
                                           "attempts by campaign, agent and day), `costs` (charges in fen and yuan by trunk, agent, "
                                           "team and destination class), `sales` (orders sold by day, agent and product). `team`: "
                                           "a queue's agents, as the bills count them (not for `sales`). Seconds "
                                           "are seconds, rates fractions. Agents may read `agents` and `timeline`, their own only; "
                                           "other reports are `404` to them. A bad filter is `422` naming the field.",
                            "parameters": PARAMETERS,
                            "responses": {"200": resp("the report", OBJECT), **errors(401, 404, 422)}}))
    def api_report(report):
        spec = checked(report)
        result = run(report, spec)
        return {"report": report, "from": spec["from"].isoformat(), "to": spec["to"].isoformat(),
                "timezone": getattr(spec["zone"], "key", str(spec["zone"])), "grain": spec["grain"],
                "filter": {k: spec[k] for k in ("queue", "did", "agent", "direction", "team") if spec[k]},
                "notices": [msgid for msgid, _ in spec["notices"]], **result}

    @app.post("/api/v1/reports/rebuild", name="api_reports_rebuild", scope="config", roles=ADMIN,
              api=Operation({"tags": ["reports"], "summary": "Rebuild the 15-minute summaries from the call records",
                             "description": "Optional body `{\"from\": \"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}` (UTC days; "
                                            "default: everything). Runs off the call-serving loop; answers the number "
                                            "of summary rows written.",
                             "responses": {"200": resp("rows written", OBJECT), **errors(401, 403, 422)}}))
    def api_reports_rebuild():
        body = json_body(optional=True)
        first, last = (str(body.get(name) or "") for name in ("from", "to"))
        return {"rows": in_worker(deps.db, rebuild_days, deps.db, first, last, service.zone())}
