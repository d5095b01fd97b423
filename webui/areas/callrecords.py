"""Call records in the web UI and the API: search, one call (with the agent's disposition
and note, the customer and the recording player), and Excel export.  Registered by
``install`` from ``make_app``; roles declared on each route; agents see their own calls.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bottle import HTTPResponse, request

from appliance import labels
from appliance.db.worker import in_worker
from appliance.engine.rating import yuan
from appliance.errors import ValidationError
from appliance.recording.policy import STATES
from appliance.services.callrecords import COLUMNS, DIRECTIONS, DISPOSITIONS, MAX_PER_PAGE
from webui.apidoc import Operation, errors, resp
from webui import i18n
from webui.params import page_arg, query_int
from webui.http import EVERYONE, agent_directory, lang, problem_of, render, viewer

# The export's columns that hold codes, and the kind of code each is (appliance/labels.py).
EXPORT_CODES = {"direction": "direction", "disposition": "disposition", "outcome": "disposition",
                "route_rule": "route_rule", "recording": "recording_state"}

FILTERS = ("from", "to", "agent", "queue", "number", "direction", "disposition")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- schemas the API descriptions below share ----------------------------------------------
FILTER_PARAMETERS = [{"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
                     for name, text in (("from", "first day, YYYY-MM-DD (UTC)"), ("to", "last day, YYYY-MM-DD (UTC)"),
                                        ("agent", "work number"), ("queue", "queue name"),
                                        ("number", "the caller's number or the DID dialled"),
                                        ("direction", "inbound, outbound or internal"),
                                        ("disposition", "answered, abandoned, unanswered, fallback or interrupted"))]
FILTER_PARAMETERS += [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                      {"name": "per_page", "in": "query", "required": False,
                       "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]
OBJECT = {"type": "object"}
SCOPE_NOTE = " Agents see the calls they took; others are `404`."


def install(app, deps) -> None:
    records = deps.call_records

    def scope() -> frozenset | None:
        me = viewer()
        return None if me.staff else me.agents

    def filters() -> dict:
        return {k: request.query.getunicode(k) or "" for k in FILTERS}

    def page_link(args: dict, page: int) -> str:
        query = {k: v for k, v in args.items() if v}
        if page > 1:
            query["page"] = page
        return "/calls" + ("?" + urlencode(query) if query else "")

    @app.get("/calls", name="calls", roles=EVERYONE)
    def calls_page():
        args = filters()
        problem, result = None, {"items": [], "total": 0, "page": 1, "pages": 1, "per_page": 50}
        page = page_arg()
        try:
            result = deps.queries.run(records.search, scope(), args, page=page)
        except ValidationError as exc:  # a bad filter: the form says why, next to the field
            problem = problem_of(exc)
        return render("calls.tpl", known=set(i18n.catalog(lang())), recording_states=STATES, result=result, args=args, problem=problem, directions=DIRECTIONS,
                      dispositions=DISPOSITIONS, queues=[q["name"] for q in deps.config.list("queues")],
                      queue_names=deps.config.display_names("queues"),
                      outcome_names=deps.dispositions.names(lang()),
                      agents=agent_directory().all(), page_url=lambda n: page_link(args, n),
                      export_url=page_link(args, 1).replace("/calls", "/calls/export", 1),
                      refusals=deps.queries.run(deps.compliance.refusals, None,
                                                None if scope() is None else tuple(scope()), 20))

    @app.get("/calls/export", name="calls_export", roles=EVERYONE)
    def calls_export():
        language = lang()
        headers = {c: i18n.translate(language, "calls.col." + c) for c in COLUMNS}
        outcomes = deps.dispositions.names(language)  # the admin's dispositions by their names

        def words(column, code):
            if column == "outcome" and code in outcomes:
                return outcomes[code]
            return labels.label(language, EXPORT_CODES[column], code) if column in EXPORT_CODES else code

        data = in_worker(deps.db, records.export, scope(), filters(), headers,  # up to 100,000 rows
                         words, i18n.translate(language, "nav.calls"))
        return HTTPResponse(data, headers={"Content-Type": XLSX,
                                           "Content-Disposition": 'attachment; filename="calls.xlsx"'})

    @app.get("/calls/<linkedid>", name="call_detail", roles=EVERYONE)
    def call_detail(linkedid):
        mine = sorted(viewer().agents)
        return render("call.tpl", call=records.get(scope(), linkedid), known=set(i18n.catalog(lang())), yuan=yuan,
                      queue_names=deps.config.display_names("queues"), trunk_names=deps.config.display_names("trunks"),
                      outcome_names=deps.dispositions.names(lang()),
                      my_agent=mine[0] if mine else None)

    @app.get("/api/v1/call-records", name="api_call_records", scope="calls:read", roles=EVERYONE,
             api=Operation({"tags": ["calls"], "summary": "Search call records, newest first, a page at a time",
                            "description": "Each with the agent's disposition (`outcome`) and the recording's "
                                           "state." + SCOPE_NOTE, "parameters": FILTER_PARAMETERS,
                            "responses": {"200": resp("one page", OBJECT), **errors(401, 422)}}))
    def api_call_records():
        return deps.queries.run(records.search, scope(), filters(), page=page_arg(),
                                per_page=query_int("per_page", 50, 1, MAX_PER_PAGE))

    @app.get("/api/v1/call-records/<linkedid>", name="api_call_record", scope="calls:read", roles=EVERYONE,
             api=Operation({"tags": ["calls"], "summary": "One call with its outcomes, customer and recording state",
                            "description": SCOPE_NOTE.strip(),
                            "responses": {"200": resp("the call", OBJECT), **errors(401, 404)}}))
    def api_call_record(linkedid):
        return records.get(scope(), linkedid)
