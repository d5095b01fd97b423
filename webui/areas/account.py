"""My account, for every signed-in user: language, API tokens (pages and API), who am I.

A token may be limited to scopes and source addresses (``appliance/services/token_scopes.py``);
making, listing and revoking tokens needs a token of its owner's full role (``scope="full"``) or
the browser session, so a scoped token never mints itself a wider one."""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import FieldError, ValidationError
from appliance.services import token_scopes
from webui.apidoc import Operation, body, errors, items, ref, resp
from webui.http import EVERYONE, created, current_user, json_body, no_content, problem_of, render


# -- schemas the API descriptions below share ----------------------------------------------
SCOPES_SCHEMA = {"type": "array", "items": {"enum": list(token_scopes.SCOPES)}, "uniqueItems": True,
                 "description": "what the token is limited to (see the bearer scheme's `x-scopes`); "
                                "empty: the full access of its owner's role"}
ADDRESSES_SCHEMA = {"type": "array", "items": {"type": "string"}, "maxItems": token_scopes.MAX_ADDRESSES,
                    "description": "IPv4 or IPv6 addresses and networks (CIDR) the token may be used from; "
                                   "empty: any address"}
TOKEN_SCHEMA = {"type": "object", "required": ["id", "name", "created_at", "expires_at", "expired", "scopes",
                                               "addresses"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "created_at": {"type": "string"},
    "last_used_at": {"type": ["string", "null"]}, "expires_at": {"type": ["string", "null"]},
    "expired": {"type": "boolean"}, "scopes": SCOPES_SCHEMA, "addresses": ADDRESSES_SCHEMA}}
TOKEN_MADE_SCHEMA = {"type": "object", "required": ["token", "name", "expires_at", "scopes", "addresses"],
                     "properties": {"token": {"type": "string"}, "name": {"type": "string"},
                                    "expires_at": {"type": ["string", "null"]}, "scopes": SCOPES_SCHEMA,
                                    "addresses": ADDRESSES_SCHEMA}}


def install(app, deps) -> None:
    users = deps.users

    def show_account(new_token=None, problem=None, asked=None):
        return render("account.tpl", tokens=users.list_tokens(current_user()["id"]), new_token=new_token,
                      problem=problem, asked=asked or {}, scopes=token_scopes.SCOPES, scope_msgid=token_scopes.msgid)

    @app.get("/account", name="account", roles=EVERYONE)
    def account():
        return show_account()

    @app.post("/account/language", name="account_language", roles=EVERYONE)
    def account_language():
        users.set_language(current_user()["id"], request.forms.getunicode("language") or "")
        bottle.redirect("/account")

    @app.post("/account/tokens", name="account_token_create", roles=EVERYONE)
    def account_token_create():
        asked = {"name": request.forms.getunicode("name") or "",
                 "scopes": [s for s in request.forms.getall("scopes") if s in token_scopes.SCOPES],
                 "addresses": request.forms.getunicode("addresses") or ""}
        try:
            token = users.create_token(current_user()["id"], asked["name"],
                                       request.forms.getunicode("expires_in_days") or None,
                                       scopes=request.forms.getall("scopes"), addresses=asked["addresses"])
        except ValidationError as exc:
            response.status = exc.http_status
            return show_account(problem=problem_of(exc), asked={**asked, "fields": exc.fields})
        return show_account(new_token=token)  # not a redirect: the token is shown this once

    @app.post("/account/tokens/<token_id:int>/delete", name="account_token_revoke", roles=EVERYONE)
    def account_token_revoke(token_id):
        users.revoke_token(current_user()["id"], token_id)
        bottle.redirect("/account")


    @app.get("/api/v1/me", name="api_me", scope="any", roles=EVERYONE,
             api=Operation({"tags": ["tokens"], "summary": "Who the token or session belongs to",
                            "responses": {"200": resp("the user", ref("User")), **errors(401)}}))
    def api_me():
        return current_user()

    @app.get("/api/v1/tokens", name="api_tokens", scope="full", roles=EVERYONE,
             api=Operation({"tags": ["tokens"], "summary": "Your API tokens (names, scopes, addresses; never the tokens)",
                            "responses": {"200": resp("tokens", items(TOKEN_SCHEMA)), **errors(401, 403)}}))
    def api_tokens():
        return {"items": users.list_tokens(current_user()["id"])}

    @app.post("/api/v1/tokens", name="api_token_create", scope="full", roles=EVERYONE,
              api=Operation({"tags": ["tokens"], "summary": "Create an API token; it is in this response only",
                             "description": "Only with a token of the full access of its owner's role (no "
                                            "scopes) or a browser session: a scoped token cannot make another.",
                             "requestBody": body({"type": "object", "required": ["name"], "properties": {
                                 "name": {"type": "string", "minLength": 1, "maxLength": 64},
                                 "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650,
                                                     "description": "left out or null: until revoked"},
                                 "scopes": SCOPES_SCHEMA, "addresses": ADDRESSES_SCHEMA}}),
                             "responses": {"201": resp("created", TOKEN_MADE_SCHEMA),
                                           **errors(400, 401, 403, 422)}}))
    def api_token_create():
        body = json_body()
        name = body.get("name")
        for listed in ("scopes", "addresses"):
            if body.get(listed) is not None and not isinstance(body[listed], list):
                raise ValidationError(f"{listed}: a list", code="token.invalid",
                                      fields={listed: FieldError("tokens.field.list", "a list")})
        token = users.create_token(current_user()["id"], name if isinstance(name, str) else "",
                                   body.get("expires_in_days"), scopes=body.get("scopes"),
                                   addresses=body.get("addresses"))
        made = users.list_tokens(current_user()["id"])[-1]  # the newest (no greenlet switch in between)
        return created({"token": token, "name": name.strip(), "expires_at": made["expires_at"],
                        "scopes": made["scopes"], "addresses": made["addresses"]})

    @app.delete("/api/v1/tokens/<token_id:int>", name="api_token_revoke", scope="full", roles=EVERYONE,
                api=Operation({"tags": ["tokens"], "summary": "Revoke one of your tokens",
                               "responses": {"204": resp("revoked"), **errors(401, 403, 404)}}))
    def api_token_revoke(token_id):
        users.revoke_token(current_user()["id"], token_id)
        return no_content()

