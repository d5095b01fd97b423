"""Reports in the web UI and the API: traffic curve, arrivals heat map, agent efficiency,
abandoned calls with their call-backs and survey scores, each a chart over a table, for
any range of the office's days, with its Excel export; and the admin's rebuild of the
summaries.  Team leaders and admins see every report; an agent sees their own efficiency.
Registered by ``install`` from ``make_app``; roles declared on each route.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from bottle import HTTPResponse, request

from appliance import labels
from appliance.db.worker import in_worker
from appliance.errors import NotFound, ValidationError
from appliance.services import report_views as views
from appliance.services.reports import DIRECTIONS, GRAINS, rebuild_days
from webui import i18n
from webui.apidoc import Operation, errors, resp
from webui.http import ADMIN, EVERYONE, agent_directory, json_body, lang, render, viewer

FILTERS = ("from", "to", "grain", "queue", "did", "agent", "direction")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OBJECT = {"type": "object"}
PARAMETERS = [{"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
              for name, text in (("from", "first day on the office's clock, YYYY-MM-DD (default: the 1st of this month)"),
                                 ("to", "last day, YYYY-MM-DD (default: today); at most 3 years after `from`"),
                                 ("grain", "traffic only: 15min (31 days at most), hour (92 days), day, week or month"),
                                 ("queue", "queue name (a deleted queue's history too)"), ("did", "the DID dialled"),
                                 ("agent", "work number"), ("direction", "inbound, outbound or internal"))]


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
        if not me.staff and kind != "agents":
            raise NotFound(f"no report {kind}", code="reports.not_found")
        return service.spec(args(), None if me.staff else me.agents)

    def run(kind: str, spec) -> dict:
        return deps.queries.run(getattr(service, "traffic" if kind == "traffic" else kind), spec)

    def filter_lines(spec, language: str) -> list[str]:
        def t(msgid, **kw):
            return i18n.translate(language, msgid, **kw)

        lines = [t("reports.filter.range", first=spec["from"].isoformat(), last=spec["to"].isoformat(),
                   zone=spec["zone"].key if hasattr(spec["zone"], "key") else str(spec["zone"]))]
        for name in ("queue", "did", "agent"):
            if spec[name]:
                lines.append(t(f"reports.filter.{name}", value=spec[name]))
        if spec["direction"]:
            lines.append(t("reports.filter.direction", value=labels.label(language, "direction", spec["direction"])))
        return lines

    def words_of(language: str):
        return (lambda msgid, **kw: i18n.translate(language, msgid, **kw),
                lambda kind, code: labels.label(language, kind, code))

    @app.get("/reports", name="reports", roles=EVERYONE)
    def reports_home():
        return report_page("traffic" if viewer().staff else "agents")

    @app.get("/reports/<kind>", name="report", roles=EVERYONE)
    def report_page(kind):
        language = lang()
        words, label = words_of(language)
        problem, spec, tables, chart = None, None, [], None
        if kind not in views.KINDS or (not viewer().staff and kind != "agents"):
            raise NotFound(f"no report {kind}", code="reports.not_found")
        try:
            spec = checked(kind)
            result = run(kind, spec)
            tables, chart = views.tables(kind, result, words, label), views.chart(kind, result, words)
        except ValidationError as exc:  # a bad filter: said next to the form, in the reader's words
            problem = [(name, i18n.field_error(language, error)) for name, error in exc.fields.items()]
        query = {k: v for k, v in args().items() if v}
        return render("reports.tpl", kind=kind, kinds=views.KINDS if viewer().staff else ("agents",),
                      args=args(), spec=spec, problem=problem, tables=tables,
                      chart_json=json.dumps(chart, ensure_ascii=False) if chart else "",
                      notices=[words(msgid, **params) for msgid, params in (spec or {}).get("notices", [])],
                      filter_lines=filter_lines(spec, language) if spec else [],
                      grains=GRAINS, directions=DIRECTIONS,
                      queues=[q["name"] for q in deps.config.list("queues")],
                      staff=viewer().staff, agents=agent_directory().all() if viewer().staff else [],
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

    @app.get("/api/v1/reports/<report>", name="api_report", roles=EVERYONE,
             api=Operation({"tags": ["reports"], "summary": "One report's figures for a range of the office's days",
                            "description": "`report`: `traffic` (per period of `grain`: offered, answered, abandoned, no_agent, "
                                           "service_level, asa, aht, and totals), `heatmap` (inbound arrivals by weekday "
                                           "0 = Monday and hour), `agents` (signed-in, talk, wrap-up, pauses by reason, "
                                           "occupancy, calls per hour), `abandoned` (with call-backs), `surveys`. Seconds "
                                           "are seconds, rates fractions. Agents may read `agents`, their own only; "
                                           "other reports are `404` to them. A bad filter is `422` naming the field.",
                            "parameters": PARAMETERS,
                            "responses": {"200": resp("the report", OBJECT), **errors(401, 404, 422)}}))
    def api_report(report):
        spec = checked(report)
        result = run(report, spec)
        return {"report": report, "from": spec["from"].isoformat(), "to": spec["to"].isoformat(),
                "timezone": getattr(spec["zone"], "key", str(spec["zone"])), "grain": spec["grain"],
                "filter": {k: spec[k] for k in ("queue", "did", "agent", "direction") if spec[k]},
                "notices": [msgid for msgid, _ in spec["notices"]], **result}

    @app.post("/api/v1/reports/rebuild", name="api_reports_rebuild", roles=ADMIN,
              api=Operation({"tags": ["reports"], "summary": "Rebuild the 15-minute summaries from the call records",
                             "description": "Optional body `{\"from\": \"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}` (UTC days; "
                                            "default: everything). Runs off the call-serving loop; answers the number "
                                            "of summary rows written.",
                             "responses": {"200": resp("rows written", OBJECT), **errors(401, 403, 422)}}))
    def api_reports_rebuild():
        body = json_body(optional=True)
        first, last = (str(body.get(name) or "") for name in ("from", "to"))
        return {"rows": in_worker(deps.db, rebuild_days, deps.db, first, last)}
