"""The first-run wizard (``/setup``): what an admin fills in before anything else on a
fresh appliance (the steps and their rules are in ``appliance/services/site.py``).

While it is pending, every page an admin opens is sent to the step they are at (the
API, sign-in and sign-out, their account page and the static files are not); agents and
supervisors are not held up (with no trunk yet there is nothing for them to do, but
nothing they can break either).  Registered by ``install`` from ``make_app``.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import DomainError, NotFound
from appliance.services.config import timezones
from appliance.services.site import LANGUAGES, OPTIONAL, QUEUE_FIELDS, STEPS, TRUNK_FIELDS
from webui.http import ADMIN, current_user, form_data, issue_session, problem_of, render

# Routes an admin may use while the wizard is pending, besides the wizard's own.
NOT_HELD = ("logout", "login", "login_form", "static", "health", "account", "account_language")
AGENT_ROWS = 5  # the agents step's rows: the first few agents (more on the one-page set-up, /admin/new-agent)
AGENT_FIELDS = ("display_name", "extension")


class SetupPlugin:
    """Sends an admin's page requests to ``/setup`` while the wizard is pending.  Installed
    after ``AuthPlugin``, so it runs inside it and knows who is asking."""

    name, api = "setup", 2

    def __init__(self, site):
        self.site = site

    def apply(self, callback, route):
        if route.name in NOT_HELD or (route.name or "").startswith("setup") or route.rule.startswith("/api/"):
            return callback

        def wrapper(*args, **kwargs):
            user = current_user()
            if user is not None and user["role"] == "admin" and request.method == "GET" and self.site.setup_pending():
                bottle.redirect("/setup")
            return callback(*args, **kwargs)

        return wrapper


def install(app, deps) -> None:
    site = deps.site
    app.install(SetupPlugin(site))

    def fields_of(kind: str, names: tuple) -> list:
        return [f for f in deps.config.fields(kind) if f.name in names]

    def show(step: str, errors=None, values=None, problem=None, made=None):
        state = site.setup_state()
        if not state["pending"]:
            bottle.redirect("/")
        data = {"step": step, "state": state, "steps": STEPS, "errors": errors or {}, "values": values or {},
                "problem": problem, "refs": {}, "mine": {}}
        if step == "region":
            data.update(timezones=timezones(), languages=LANGUAGES)
        elif step == "trunk":
            data.update(kind="trunks", fields=fields_of("trunks", TRUNK_FIELDS))
            if not values and state["trunk"]:
                data["values"] = _existing(deps.config, "trunks", state["trunk"])
        elif step == "queue":
            data.update(kind="queues", fields=fields_of("queues", QUEUE_FIELDS))
            if not values and state["queue"]:
                data["values"] = {**_existing(deps.config, "queues", state["queue"]), "did": state["did"]}
        elif step == "agents":
            data.update(rows=AGENT_ROWS, made=made)
        return render("wizard.tpl", **data)

    @app.get("/setup", name="setup", roles=ADMIN)
    def setup():
        state = site.setup_state()
        bottle.redirect(f"/setup/{state['next']}" if state["pending"] else "/")

    @app.get("/setup/<step:re:password|region|trunk|queue|agents|finish>", name="setup_step", roles=ADMIN)
    def setup_step(step):
        return show(step)

    @app.post("/setup/<step:re:password|region|trunk|queue|agents|finish>", name="setup_save", roles=ADMIN)
    def setup_save(step):
        user = current_user()
        forms = request.forms
        values = {}
        try:
            if step == "password":
                site.save_password(user, forms.getunicode("password") or "", forms.getunicode("confirm") or "")
                issue_session(deps, user["id"])  # the new password ended the session it was chosen in
            elif step == "region":
                values = {"timezone": forms.getunicode("timezone") or "", "language": forms.getunicode("language"),
                          "area_code": forms.getunicode("area_code")}
                site.save_region(user, values["timezone"], values["language"], values["area_code"])
            elif step in OPTIONAL and forms.get("skip"):
                site.skip(user, step)
            elif step == "trunk":
                values = form_data(fields_of("trunks", TRUNK_FIELDS))
                site.save_trunk(user, values)
            elif step == "queue":
                values = form_data(fields_of("queues", QUEUE_FIELDS))
                did = forms.getunicode("did") or ""
                site.save_queue(user, values, did)
                values["did"] = did
            elif step == "agents":
                values = {f"{name}-{i}": forms.getunicode(f"{name}-{i}") or "" for i in range(AGENT_ROWS)
                          for name in AGENT_FIELDS}
                filled = [i for i in range(AGENT_ROWS) if any(values[f"{name}-{i}"].strip() for name in AGENT_FIELDS)]
                try:
                    made = site.save_agents(user, [{name: values[f"{name}-{i}"] for name in AGENT_FIELDS}
                                                   for i in filled])
                except DomainError as exc:  # named by the rows filled in: by the form's rows instead
                    exc.fields = _rows_errors(exc.fields, filled)
                    raise
                return show(step, made=made)  # the passwords, this once; then on to the next step
            else:
                site.finish(user)
                bottle.redirect("/")
        except DomainError as exc:
            response.status = exc.http_status
            if exc.fields and step != "finish":
                return show(step, errors=exc.fields, values=values)
            return show(step, values=values, problem=problem_of(exc))
        bottle.redirect("/setup")


def _rows_errors(fields: dict, filled: list[int]) -> dict:
    """``<n>.<field>`` of the n-th row filled in as ``<row>.<field>`` of the form's row; the
    account is named by the extension, so its errors (and the work number's) are the extension's."""
    out = {}
    for name, error in fields.items():
        n, _, field = name.partition(".")
        if n.isdigit() and int(n) < len(filled):
            row = filled[int(n)]
            name = f"{field}-{row}" if field in AGENT_FIELDS else f"extension-{row}" if field in (
                "username", "number") else field
        out.setdefault(name, error)
    return out


def _existing(config, kind: str, key: str) -> dict:
    try:
        return config.get(kind, key)
    except NotFound:
        return {}
