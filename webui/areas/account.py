"""My account, for every signed-in user: language, API tokens (pages and API), who am I."""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import ValidationError
from webui.apidoc import Operation, body, errors, items, ref, resp
from webui.http import EVERYONE, created, current_user, json_body, no_content, problem_of, render


# -- schemas the API descriptions below share ----------------------------------------------
TOKEN_SCHEMA = {"type": "object", "required": ["id", "name", "created_at", "expires_at", "expired"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "created_at": {"type": "string"},
    "last_used_at": {"type": ["string", "null"]}, "expires_at": {"type": ["string", "null"]},
    "expired": {"type": "boolean"}}}
TOKEN_MADE_SCHEMA = {"type": "object", "required": ["token", "name", "expires_at"], "properties": {
    "token": {"type": "string"}, "name": {"type": "string"}, "expires_at": {"type": ["string", "null"]}}}


def install(app, deps) -> None:
    users = deps.users

    def show_account(new_token=None, problem=None):
        return render("account.tpl", tokens=users.list_tokens(current_user()["id"]), new_token=new_token,
                      problem=problem)

    @app.get("/account", name="account", roles=EVERYONE)
    def account():
        return show_account()

    @app.post("/account/language", name="account_language", roles=EVERYONE)
    def account_language():
        users.set_language(current_user()["id"], request.forms.getunicode("language") or "")
        bottle.redirect("/account")

    @app.post("/account/tokens", name="account_token_create", roles=EVERYONE)
    def account_token_create():
        try:
            token = users.create_token(current_user()["id"], request.forms.getunicode("name") or "",
                                       request.forms.getunicode("expires_in_days") or None)
        except ValidationError as exc:
            response.status = exc.http_status
            return show_account(problem=problem_of(exc))
        return show_account(new_token=token)  # not a redirect: the token is shown this once

    @app.post("/account/tokens/<token_id:int>/delete", name="account_token_revoke", roles=EVERYONE)
    def account_token_revoke(token_id):
        users.revoke_token(current_user()["id"], token_id)
        bottle.redirect("/account")


    @app.get("/api/v1/me", name="api_me", roles=EVERYONE,
             api=Operation({"tags": ["tokens"], "summary": "Who the token or session belongs to",
                            "responses": {"200": resp("the user", ref("User")), **errors(401)}}))
    def api_me():
        return current_user()

    @app.get("/api/v1/tokens", name="api_tokens", roles=EVERYONE,
             api=Operation({"tags": ["tokens"], "summary": "Your API tokens (their names, never the tokens)",
                            "responses": {"200": resp("tokens", items(TOKEN_SCHEMA)), **errors(401)}}))
    def api_tokens():
        return {"items": users.list_tokens(current_user()["id"])}

    @app.post("/api/v1/tokens", name="api_token_create", roles=EVERYONE,
              api=Operation({"tags": ["tokens"], "summary": "Create an API token; it is in this response only",
                             "requestBody": body({"type": "object", "required": ["name"], "properties": {
                                 "name": {"type": "string", "minLength": 1, "maxLength": 64},
                                 "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650,
                                                     "description": "left out or null: until revoked"}}}),
                             "responses": {"201": resp("created", TOKEN_MADE_SCHEMA),
                                           **errors(400, 401, 422)}}))
    def api_token_create():
        body = json_body()
        name = body.get("name")
        token = users.create_token(current_user()["id"], name if isinstance(name, str) else "",
                                   body.get("expires_in_days"))
        made = users.list_tokens(current_user()["id"])[-1]  # the newest (no greenlet switch in between)
        return created({"token": token, "name": name.strip(), "expires_at": made["expires_at"]})

    @app.delete("/api/v1/tokens/<token_id:int>", name="api_token_revoke", roles=EVERYONE,
                api=Operation({"tags": ["tokens"], "summary": "Revoke one of your tokens",
                               "responses": {"204": resp("revoked"), **errors(401, 404)}}))
    def api_token_revoke(token_id):
        users.revoke_token(current_user()["id"], token_id)
        return no_content()

