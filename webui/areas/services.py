"""Restarting one of the appliance's services (admins only): the way back for a child the
supervisor stopped after a crash loop, once the cause is fixed, or for one that misbehaves.

The request goes to the supervisor as ``deps.restart_service(name, who)`` (on the appliance:
``appliance.supervisor.request_restart``, taken within seconds); the answer is 202, the
outcome shows in ``/api/health`` and on the dashboard.  Audited.
"""

from __future__ import annotations

import bottle
from bottle import response

from appliance.db import models as m
from appliance.errors import FieldError, NotFound, Unavailable
from webui.apidoc import Operation, errors, resp
from webui.http import ADMIN, current_user


def install(app, deps) -> None:
    def restart(name: str) -> None:
        if deps.restart_service is None:
            raise Unavailable(FieldError("error.msg.no_restart_here", "services cannot be restarted from here"),
                              code="services.no_supervisor")
        if name not in (deps.health().get("services") or {}):
            raise NotFound(FieldError("field.no_such", f"no service named {name}", key=name[:64]), code="services.not_found")
        who = current_user()["username"]
        deps.restart_service(name, who)
        m.AuditLog.create(username=who, action="restart", object_type="services", object_id=name)

    @app.post("/api/v1/services/<name>/restart", name="api_service_restart", scope="config", roles=ADMIN,
              api=Operation({"tags": ["status"], "summary": "Restart one of the services the supervisor runs",
                             "description": "For a service stopped after a crash loop (its alarm "
                                            "`supervisor.crash_loop` in /api/health) once the cause is fixed, "
                                            "or one that misbehaves. The supervisor takes the request within "
                                            "seconds, forgets the earlier crashes and clears the alarm; the "
                                            "outcome shows in /api/health. Admins only; audited.",
                             "responses": {"202": resp("requested", {"type": "object", "properties": {
                                 "service": {"type": "string"}, "restart": {"const": "requested"}}}),
                                 **errors(401, 403, 404, 503)}}))
    def api_service_restart(name):
        restart(name)
        response.status = 202
        return {"service": name, "restart": "requested"}

    @app.post("/services/<name>/restart", name="service_restart", roles=ADMIN)
    def service_restart(name):
        restart(name)
        bottle.redirect("/")
