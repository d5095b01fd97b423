"""Pieces of OpenAPI operation descriptions (responses, error statuses, bodies), shared by
``webui.openapi`` and the areas that describe their own operations.  A leaf module."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
JSON = "application/json"
STATUS_TEXT = {
    400: "the body is not JSON, or not a JSON object (`request.bad_json`)",
    401: "no valid session or bearer token (`unauthorized`)",
    403: "your role may not do this (`forbidden`), a cookie session sent no CSRF token (`csrf_failed`), or "
         "the calling permission does not allow the number (`call.not_permitted`, `params.number_class`)",
    404: "no such object (`<kind>.not_found`, ...)",
    409: "conflicts with what exists: a duplicate key (`<kind>.exists`), still in use (`<kind>.in_use`), or "
         "changed by someone else since you read it (`<kind>.changed`)",
    413: "the request body or the uploaded file is larger than accepted (`request.too_large`, `fax.too_large`)",
    422: "validation failed (`validation_failed`): `fields` says what is wrong with each field",
    500: "an unexpected failure (`internal`); `error_id` is also in the appliance's log",
    503: "a component (Asterisk, AMI) is not available (`ami.unavailable`, `config.apply_failed`)",
}


def _resp(description: str, schema: dict | None = None) -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = {JSON: {"schema": schema}}
    return out


def _errors(*codes: int) -> dict:
    return {str(c): _resp(STATUS_TEXT[c], ERROR) for c in (*codes, 500)}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _items(schema: dict) -> dict:
    return {"type": "object", "properties": {"items": {"type": "array", "items": schema}}, "required": ["items"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}
