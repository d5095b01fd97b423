"""OpenAPI operation descriptions, declared by each area beside its route:

    @app.get("/api/v1/me", name="api_me", roles=EVERYONE,
             api=Operation({"tags": ["tokens"], "summary": "Who the token or session belongs to",
                            "responses": {"200": resp("the user", ref("User")), **errors(401)}}))

and the pieces they are made of (a response, the error statuses, a JSON body, a list, a
reference to a shared schema).  ``webui.openapi`` walks the app's routes and reads each
one's ``Operation`` from its config.  A leaf module: it imports nothing of the web UI.
"""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
JSON = "application/json"
STATUS_TEXT = {
    400: "the body is not JSON, or not a JSON object (`request.bad_json`)",
    401: "no valid session or bearer token (`unauthorized`)",
    403: "your role may not do this (`forbidden`), the token's scopes do not include the one this needs "
         "(`auth.scope`, `params.scope`), the token may not be used from this address (`auth.address`), a cookie "
         "session sent no CSRF token (`csrf_failed`), or the calling permission does not allow the number "
         "(`call.not_permitted`, `params.number_class`)",
    404: "no such object (`<kind>.not_found`, ...)",
    409: "conflicts with what exists: a duplicate key (`<kind>.exists`), still in use (`<kind>.in_use`), or "
         "changed by someone else since you read it (`<kind>.changed`)",
    413: "the request body or the uploaded file is larger than accepted (`request.too_large`, `fax.too_large`)",
    422: "validation failed (`validation_failed`): `fields` says what is wrong with each field",
    429: "a limit on how often this may be done was reached (`voicecode.number_limit`, `voicecode.sender_limit`); "
         "`Retry-After` says in how many seconds to try again",
    500: "an unexpected failure (`internal`); `error_id` is also in the appliance's log",
    503: "a component (Asterisk, AMI) is not available (`ami.unavailable`, `config.apply_failed`)",
}


def resp(description: str, schema: dict | None = None) -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = {JSON: {"schema": schema}}
    return out


def file_resp(description: str, mimetype: str) -> dict:
    """An answer that is a file sent as it is (a download)."""
    return {"description": description, "content": {mimetype: {"schema": {"type": "string", "format": "binary"}}}}


def errors(*codes: int) -> dict:
    return {str(c): resp(STATUS_TEXT[c], ERROR) for c in (*codes, 500)}


def body(schema: dict) -> dict:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def items(schema: dict) -> dict:
    return {"type": "object", "properties": {"items": {"type": "array", "items": schema}}, "required": ["items"]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


class Operation:
    """One route's OpenAPI operation (tags, summary, description, requestBody, responses...).

    Not a dict on purpose: bottle keeps a route's extra keywords in ``route.config``, and
    flattens a dict given there into dotted keys (``api.summary``...); an object stays whole."""

    __slots__ = ("spec",)

    def __init__(self, spec: dict):
        self.spec = spec

    def __repr__(self) -> str:
        return f"Operation({self.spec.get('summary')!r})"
