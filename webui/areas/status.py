"""The health document (for monitors: no sign-in, no process ids without one) and the
OpenAPI document of the whole API."""

from __future__ import annotations

from webui.apidoc import Operation, errors, ref, resp
from webui import openapi
from webui.http import EVERYONE, PUBLIC, current_user, json_error


def without_pids(value):
    """``value`` (the health document) with every ``pid`` left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_pids(v) for k, v in value.items() if k != "pid"}
    if isinstance(value, list):
        return [without_pids(v) for v in value]
    return value


def install(app, deps) -> None:
    @app.get("/api/health", name="health", scope="any", roles=PUBLIC,
             api=Operation({"tags": ["status"], "summary": "Health of each component; no sign-in needed",
                            "description": "200 while `status` is `ok` or `degraded`, 503 when `down` (Asterisk is not "
                                           "running), so a load balancer or monitor can use the status code alone.",
                            "security": [],
                            "responses": {"200": resp("ok or degraded", ref("Health")),
                                          "503": resp("down", ref("Health"))}}))
    def health():
        body = deps.health()
        if current_user() is None:  # a monitor needs states, not the process ids an attacker would like
            body = without_pids(body)
        if body.get("status") == "down":
            return json_error(503, body)
        return body

    @app.get("/api/openapi.json", name="openapi", scope="any", roles=EVERYONE,
             api=Operation({"tags": ["status"], "summary": "This document (for any signed-in user or token)",
                            "responses": {"200": resp("the OpenAPI document", {"type": "object"}), **errors(401)}}))
    def openapi_spec():
        return openapi.build(app, deps.config, deps.crm)

