"""The configuration: a page and an API per kind (queues, agents, phones, trunks, DIDs...,
``ConfigService.KINDS``), a queue's members, and the audit log of every change.  Staff read,
admins change.
"""

from __future__ import annotations

import datetime as dt

import bottle
from bottle import request, response

from appliance import labels
from appliance.errors import DomainError, FieldError, ValidationError
from appliance.services import fxs
from appliance.services.config import KEYS, KINDS, declared, queue_member_counts
from appliance.services.site import utc_midnight, zone_of
from webui.apidoc import Operation, body, errors, items, ref, resp
from webui.areas import provisioning, registrations
from webui.http import (ADMIN, STAFF, KIND_RE, actor, agent_directory, created, differences, form_data, json_body,
                        lang, no_content, problem_of, render, with_etag)
from webui.params import MAX_OFFSET, page_arg, query_date, query_int


# -- schemas the API descriptions below share ----------------------------------------------
AUDIT_PAGE = 50  # audit log lines a page shows

MEMBER_SCHEMA = {"type": "object", "required": ["queue", "agent", "penalty"], "properties": {
    "queue": {"type": "string"}, "agent": {"type": "string", "description": "the agent's work number"},
    "penalty": {"type": "integer"}}}
KIND_REF_SCHEMA = ref("{Schema}")
# The columns of a kind's list where its fields are too many for one screen (1366 px); the
# rest are in the edit form, the members one click from the row.
LIST_COLUMNS = {"queues": ("name", "display_name", "strategy", "ring_timeout", "max_wait_seconds")}
ROUTE_KINDS = ("trunks", "card_routes")  # their pages show the whole outbound route, in order


def install(app, deps) -> None:
    cfg = deps.config

    def show_kind(kind, errors=None, values=None, problem=None):
        fields = cfg.fields(kind)
        return render("admin_list.tpl", kind=kind, key=KEYS[kind], fields=fields, rows=cfg.list(kind),
                      errors=errors or {}, values=values or cfg.defaults(kind), problem=problem,
                      refs=cfg.choices(fields), name_fields=declared(kind).label, columns=LIST_COLUMNS.get(kind),
                      member_counts=queue_member_counts() if kind == "queues" else {},
                      queue_names=cfg.display_names("queues") if kind == "agents" else {},
                      registrations=registrations.snapshot(deps) if kind in registrations.KINDS else None,
                      registration_state=registrations.state_of, registration_messages=registrations.messages,
                      registration_word=registrations.word_key,
                      outbound_route=fxs.outbound_route(card_facts()) if kind in ROUTE_KINDS else None,
                      card_ports=card_facts().fxs_channels if kind == "phones" else (),
                      provisioning=provisioning.page(deps) if kind == "phones" else None)

    def card_facts():
        return deps.card() if deps.card is not None else fxs.CardFacts()

    @app.get(f"/admin/<kind:re:{KIND_RE}>", name="admin_list", roles=STAFF)
    def admin_list(kind):
        return show_kind(kind)

    @app.post(f"/admin/<kind:re:{KIND_RE}>", name="admin_create", roles=ADMIN)
    def admin_create(kind):
        data = form_data(cfg.fields(kind))
        try:
            cfg.create(kind, data, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            if exc.fields:  # shown next to each field, with what was typed kept
                return show_kind(kind, errors=exc.fields, values=data)
            return show_kind(kind, values=data if exc.http_status < 500 else None, problem=problem_of(exc))
        bottle.redirect(f"/admin/{kind}")

    def show_edit(kind, key, values=None, errors=None, version=None, conflict=None, mine=None, problem=None):
        current = cfg.get(kind, key)
        fields = cfg.fields(kind)
        return render("admin_edit.tpl", kind=kind, key_value=key, fields=fields, values=values or current,
                      errors=errors or {}, version=version or current["version"], conflict=conflict,
                      mine=mine or {}, problem=problem, refs=cfg.choices(fields),
                      provisioning=provisioning.phone_page(deps, key) if kind == "phones" else None)

    @app.get(f"/admin/<kind:re:{KIND_RE}>/<key>", name="admin_edit", roles=ADMIN)
    def admin_edit(kind, key):
        return show_edit(kind, key)

    @app.post(f"/admin/<kind:re:{KIND_RE}>/<key>", name="admin_update", roles=ADMIN)
    def admin_update(kind, key):
        fields = cfg.fields(kind)
        data = form_data(fields)
        version = request.forms.getunicode("version") or ""
        try:
            cfg.update(kind, key, data, actor=actor(), version=version)
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            response.status = exc.http_status
            if exc.code == f"{kind}.changed":  # someone saved first: show theirs, with what this admin typed
                theirs = cfg.get(kind, key)
                return show_edit(kind, key, conflict=cfg.last_change(kind, key) or {"username": "?", "at": "?"},
                                 mine=differences(fields, data, theirs))
            if exc.fields:
                return show_edit(kind, key, values=data, errors=exc.fields, version=version)
            return show_edit(kind, key, values=data, version=version, problem=problem_of(exc))
        bottle.redirect(f"/admin/{kind}")

    @app.post(f"/admin/<kind:re:{KIND_RE}>/<key>/delete", name="admin_delete", roles=ADMIN)
    def admin_delete(kind, key):
        try:
            cfg.delete(kind, key, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return show_kind(kind, problem=problem_of(exc))
        bottle.redirect(f"/admin/{kind}")

    def show_members(name, problem=None):
        members = cfg.members(name)
        taken = {m["agent"] for m in members}
        agents = agent_directory().all()
        return render("members.tpl", queue=cfg.get("queues", name), members=members, problem=problem,
                      names={a["number"]: a["name"] for a in agents},
                      candidates=[a for a in agents if a["number"] not in taken])

    @app.get("/admin/queues/<name>/members", name="admin_members", roles=STAFF)
    def admin_members(name):
        return show_members(name)

    @app.post("/admin/queues/<name>/members", name="admin_member_add", roles=ADMIN)
    def admin_member_add(name):
        try:
            cfg.add_member(name, request.forms.getunicode("agent") or "", request.forms.getunicode("penalty") or 0,
                           actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return show_members(name, problem=problem_of(exc))
        bottle.redirect(f"/admin/queues/{name}/members")

    @app.post("/admin/queues/<name>/members/<agent>/delete", name="admin_member_remove", roles=ADMIN)
    def admin_member_remove(name, agent):
        try:
            cfg.remove_member(name, agent, actor=actor())
        except DomainError as exc:
            response.status = exc.http_status
            return show_members(name, problem=problem_of(exc))
        bottle.redirect(f"/admin/queues/{name}/members")

    def audit_filters() -> dict:
        """The audit log's filters from the query: kind, user, and a range of office dates."""
        zone = zone_of(deps.site.timezone() if getattr(deps, "site", None) is not None else None)
        since, until = query_date("from"), query_date("to")
        return {"kind": request.query.getunicode("kind") or "", "user": request.query.getunicode("user") or "",
                "since": utc_midnight(since, zone) if since else None,
                "until": utc_midnight(until + dt.timedelta(days=1), zone) if until else None}

    @app.get("/admin/audit", name="admin_audit", roles=ADMIN)
    def admin_audit():
        filters, page = audit_filters(), page_arg()
        total = deps.queries.run(cfg.audit_count, **filters)
        rows = deps.queries.run(cfg.audit, AUDIT_PAGE, (page - 1) * AUDIT_PAGE, **filters)
        return render("audit.tpl", rows=rows, total=total, page=page, per_page=AUDIT_PAGE,
                      choices=deps.queries.run(cfg.audit_choices), args=request.query.decode(),
                      summary=lambda kind, detail, action: labels.audit_summary(lang(), kind, detail, action))


    # -- JSON API --------------------------------------------------------------------------
    @app.get(f"/api/v1/<kind:re:{KIND_RE}>", name="api_list", scope="config", roles=STAFF,
             api=Operation({"tags": ["configuration"], "summary": "List the {kinds}",
                            "responses": {"200": resp("all of them, by key", items(KIND_REF_SCHEMA)), **errors(401, 403)}}))
    def api_list(kind):
        return {"items": cfg.list(kind)}

    @app.post(f"/api/v1/<kind:re:{KIND_RE}>", name="api_create", scope="config", roles=ADMIN,
              api=Operation({"tags": ["configuration"],
                             "summary": "Create a {kind}; Asterisk's configuration is regenerated and reloaded",
                             "requestBody": body(ref("{Schema}Create")),
                             "responses": {"201": resp("created", KIND_REF_SCHEMA), **errors(400, 401, 403, 409, 422, 503)}}))
    def api_create(kind):
        return created(cfg.create(kind, json_body(), actor=actor()))

    @app.get(f"/api/v1/<kind:re:{KIND_RE}>/<key>", name="api_get", scope="config", roles=STAFF,
             api=Operation({"tags": ["configuration"], "summary": "One {kind}",
                            "description": "The `ETag` header (and the object's `version`) changes with every saved "
                                           "change; send it back in `If-Match` when updating.",
                            "responses": {"200": resp("it", KIND_REF_SCHEMA), **errors(401, 403, 404)}}))
    def api_get(kind, key):
        return with_etag(cfg.get(kind, key))

    @app.route(f"/api/v1/<kind:re:{KIND_RE}>/<key>", method="PATCH", name="api_update", scope="config", roles=ADMIN,
               api=Operation({"tags": ["configuration"],
                              "summary": "Change some fields of a {kind}; applied to Asterisk without a restart",
                              "description": "With `If-Match: \"<version>\"` (the `ETag` or `version` you read) the "
                                             "change is made only if nobody changed the {kind} since: otherwise 409 "
                                             "`<kind>.changed`, and nothing is saved. Without it the last save wins.",
                              "parameters": [{"name": "If-Match", "in": "header", "required": False,
                                              "description": "the version you read", "schema": {"type": "string"}}],
                              "requestBody": body(ref("{Schema}Update")),
                              "responses": {"200": resp("changed", KIND_REF_SCHEMA),
                                            **errors(400, 401, 403, 404, 409, 422, 503)}}))
    def api_update(kind, key):
        """With ``If-Match: "<version>"`` only if nobody changed the object since it was read."""
        read = (request.get_header("If-Match") or "").strip().removeprefix("W/").strip('"')
        return with_etag(cfg.update(kind, key, json_body(), actor=actor(), version=None if read in ("", "*") else read))

    @app.delete(f"/api/v1/<kind:re:{KIND_RE}>/<key>", name="api_delete", scope="config", roles=ADMIN,
                api=Operation({"tags": ["configuration"], "summary": "Delete a {kind} (refused while it is in use)",
                               "responses": {"204": resp("deleted"), **errors(401, 403, 404, 409, 503)}}))
    def api_delete(kind, key):
        cfg.delete(kind, key, actor=actor())
        return no_content()

    @app.get("/api/v1/queues/<name>/members", name="api_members", scope="config", roles=STAFF,
             api=Operation({"tags": ["configuration"], "summary": "Members of a queue",
                            "responses": {"200": resp("members", items(MEMBER_SCHEMA)), **errors(401, 403, 404)}}))
    def api_members(name):
        return {"items": cfg.members(name)}

    @app.post("/api/v1/queues/<name>/members", name="api_member_add", scope="config", roles=ADMIN,
              api=Operation({"tags": ["configuration"],
                             "summary": "Add an agent to a queue (a signed-in agent starts taking its calls)",
                             "requestBody": body({"type": "object", "required": ["agent"], "properties": {
                                 "agent": {"type": "string", "description": "the agent's work number"},
                                 "penalty": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0}}}),
                             "responses": {"201": resp("added", MEMBER_SCHEMA),
                                           **errors(400, 401, 403, 404, 409, 422, 503)}}))
    def api_member_add(name):
        body = json_body()
        agent = body.get("agent")
        if not isinstance(agent, str) or not agent:
            raise ValidationError(FieldError("error.msg.member_agent_missing", "agent: the agent's work number is required"),
                                  fields={"agent": FieldError("field.required", "required")})
        return created(cfg.add_member(name, agent, body.get("penalty", 0), actor=actor()))

    @app.delete("/api/v1/queues/<name>/members/<agent>", name="api_member_remove", scope="config", roles=ADMIN,
                api=Operation({"tags": ["configuration"], "summary": "Remove an agent from a queue",
                               "responses": {"204": resp("removed"), **errors(401, 403, 404, 503)}}))
    def api_member_remove(name, agent):
        cfg.remove_member(name, agent, actor=actor())
        return no_content()

    @app.get("/api/v1/audit", name="api_audit", scope="config", roles=ADMIN,
             api=Operation({"tags": ["audit"], "summary": "Configuration changes: who, when, what (newest first)",
                            "description": "Each entry as stored: `detail` is the change's JSON (secrets as "
                                           "`(set)`). Filters: `kind` (the entry's `object_type`), `user`, and "
                                           "`from`/`to` (office dates, `to` included); 422 `request.bad_date`.",
                            "parameters": [{"name": "limit", "in": "query", "required": False,
                                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
                                           {"name": "offset", "in": "query", "required": False,
                                            "schema": {"type": "integer", "minimum": 0, "default": 0}},
                                           *({"name": name, "in": "query", "required": False,
                                              "schema": {"type": "string", **extra}}
                                             for name, extra in (("kind", {}), ("user", {}), ("from", {"format": "date"}),
                                                                 ("to", {"format": "date"})))],
                            "responses": {"200": resp("entries", items(ref("AuditEntry"))), **errors(401, 403, 422)}}))
    def api_audit():
        filters, limit, offset = audit_filters(), query_int("limit", 100, 1, 1000), query_int("offset", 0, 0, MAX_OFFSET)
        return {"items": deps.queries.run(cfg.audit, limit, offset, **filters)}

