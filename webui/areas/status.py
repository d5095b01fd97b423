"""The health document (for monitors: no sign-in, no process ids without one) and the
OpenAPI document of the whole API."""

from __future__ import annotations

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
    @app.get("/api/health", name="health", roles=PUBLIC)
    def health():
        body = deps.health()
        if current_user() is None:  # a monitor needs states, not the process ids an attacker would like
            body = without_pids(body)
        if body.get("status") == "down":
            return json_error(503, body)
        return body

    @app.get("/api/openapi.json", name="openapi", roles=EVERYONE)
    def openapi_spec():
        return openapi.build(app, deps.config, deps.crm)

