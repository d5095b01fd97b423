"""Call records in the web UI and the API: search, one call (with the agent's disposition
and note, the customer and the recording player), and Excel export.  Registered by
``install`` from ``make_app``; roles in ``plugins.ROUTE_ROLES``; agents see their own calls.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bottle import HTTPResponse, request

from appliance.db.worker import in_worker
from appliance.errors import ValidationError
from appliance.recording.policy import STATES
from appliance.services.callrecords import COLUMNS, DIRECTIONS, DISPOSITIONS, MAX_PER_PAGE, CallRecords
from webui import i18n
from webui.app import _lang, problem_of, render
from webui.params import page_arg, query_int
from webui.plugins import current_user

FILTERS = ("from", "to", "agent", "queue", "number", "direction", "disposition")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def install(app, deps, directory) -> None:
    records = CallRecords(deps.db, timezone=deps.site.timezone if deps.site is not None else None)

    def scope() -> frozenset | None:
        user = current_user()
        if user["role"] in ("admin", "supervisor"):
            return None
        return frozenset(a["number"] for a in directory.of_user(user["username"]))

    def filters() -> dict:
        return {k: request.query.getunicode(k) or "" for k in FILTERS}

    def page_link(args: dict, page: int) -> str:
        query = {k: v for k, v in args.items() if v}
        if page > 1:
            query["page"] = page
        return "/calls" + ("?" + urlencode(query) if query else "")

    @app.get("/calls", name="calls")
    def calls_page():
        args = filters()
        problem, result = None, {"items": [], "total": 0, "page": 1, "pages": 1, "per_page": 50}
        page = page_arg()
        try:
            result = deps.queries.run(records.search, scope(), args, page=page)
        except ValidationError as exc:  # a bad filter: the form says why, next to the field
            problem = problem_of(exc)
        return render("calls.tpl", known=set(i18n.catalog(_lang())), recording_states=STATES, result=result, args=args, problem=problem, directions=DIRECTIONS,
                      dispositions=DISPOSITIONS, queues=[q["name"] for q in deps.config.list("queues")],
                      agents=directory.all(), page_url=lambda n: page_link(args, n),
                      export_url=page_link(args, 1).replace("/calls", "/calls/export", 1))

    @app.get("/calls/export", name="calls_export")
    def calls_export():
        lang = _lang()
        headers = {c: i18n.translate(lang, "calls.col." + c) for c in COLUMNS}
        data = in_worker(deps.db, records.export, scope(), filters(), headers)  # up to 100,000 rows
        return HTTPResponse(data, headers={"Content-Type": XLSX,
                                           "Content-Disposition": 'attachment; filename="calls.xlsx"'})

    @app.get("/calls/<linkedid>", name="call_detail")
    def call_detail(linkedid):
        mine = sorted(a["number"] for a in directory.of_user(current_user()["username"]))
        return render("call.tpl", call=records.get(scope(), linkedid), known=set(i18n.catalog(_lang())),
                      my_agent=mine[0] if mine else None)

    @app.get("/api/v1/call-records", name="api_call_records")
    def api_call_records():
        return deps.queries.run(records.search, scope(), filters(), page=page_arg(),
                                per_page=query_int("per_page", 50, 1, MAX_PER_PAGE))

    @app.get("/api/v1/call-records/<linkedid>", name="api_call_record")
    def api_call_record(linkedid):
        return records.get(scope(), linkedid)
