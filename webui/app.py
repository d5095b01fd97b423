"""The web UI and HTTP API: an explicit ``Bottle()`` built by ``make_app(deps)``: the
plugins, then each area of ``webui/areas/`` installing its own routes.

Each route declares beside it who may call it (``roles=``, and under /api/ the token scope
it needs, ``scope=``: both read by ``plugins.AuthPlugin``)
and how big its body may be (``body_limit=``, read by ``edge.BodyLimitPlugin``).  The
helpers every area uses are in the leaf module ``webui.http``.  ``WebDeps`` is built by the
composition root (``appliance/main.py`` ``start_web``, and the tests' ``tests/webdeps.py``):
this module builds no service.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Callable

import bottle
from bottle import Bottle, request, response

from webui.areas import (account, agent_setup, agents, callrecords, configuration, crm, dispositions, fax, live, menus,
                         recordings, registrations, services, session, sipguard, status, users, voicecodes, voicemail,
                         wallboard, wizard, workspace)
from webui.areas import (backup, billing, calllists, campaigns, compliance, customer_import, customer_mail, ha, kb,
                         orders, provisioning, reports, scripts, softphone, upgrade, webhooks, workorders)
from webui.edge import BodyLimitPlugin
from webui.http import UNSAFE, AgentDirectory, error_body, render_error
from webui.plugins import AuthPlugin, CsrfPlugin, DatabasePlugin, ErrorsPlugin, route_roles, route_scope

logger = logging.getLogger(__name__)

# In the order they are installed (the wizard last: its plugin holds admins on /setup while it is pending).
AREAS = (session, live, configuration, agent_setup, registrations, agents, account, status, crm, customer_import,
         callrecords, workspace, dispositions, recordings, voicemail, fax, wallboard, users, services, sipguard, wizard,
         menus, voicecodes, billing, orders, reports, compliance, workorders, calllists,
         campaigns, scripts, kb, customer_mail, ha, backup, webhooks, provisioning, softphone, upgrade)


@dataclass
class WebDeps:
    db: object
    config: object  # ConfigService
    users: object  # UserService
    agents: object  # AgentService (login/logout)
    health: Callable[[], dict]
    live: Callable[[], dict]
    session_seconds: int = 12 * 3600
    secure_cookies: bool = False  # set when the UI is served over HTTPS
    directory_seconds: float = 5.0  # how long the configured agents are cached for the live view
    bus: object = None  # appliance.bus.EventBus: live changes for /api/v1/events
    calls: object = None  # appliance.services.calls.CallControl: supervisor functions
    recordings: object = None  # appliance.services.recording.RecordingService
    menus: object = None  # appliance.services.menus.MenuService
    prompts: object = None  # appliance.services.prompts.PromptService
    events_max_seconds: float = 600.0  # an event stream ends after this; EventSource reconnects by itself
    crm: object = None  # appliance.services.crm.CustomerService
    customer_excel: object = None  # appliance.services.customer_excel.CustomerExcel: import and export
    call_records: object = None  # appliance.services.callrecords.CallRecords: search, one call, export
    workspace: object = None  # appliance.services.workspace.WorkspaceService
    dispositions: object = None  # appliance.services.dispositions.DispositionService
    voicemail: object = None  # appliance.services.voicemail.VoicemailService
    faxes: object = None  # appliance.services.fax.FaxService
    fax_sender: object = None  # appliance.services.fax_out.FaxSender
    voice_codes: object = None  # appliance.services.voicecodes.VoiceCodeService
    sip_guard: object = None  # appliance.services.sipguard.SipGuard: blocked SIP sources, phones' subnets
    site: object = None  # appliance.services.site.SiteService: time zone, language, first-run wizard
    restart_service: Callable[[str, str], None] | None = None  # (service, who): asks the supervisor
    queries: object = None  # appliance.db.querypool.QueryPool: heavy reads off the loop
    agent_setup: object = None  # appliance.services.agent_setup.AgentSetup: a new agent on one page
    registrations: Callable[[], dict] | None = None  # phones' and trunks' SIP registrations, live
    card: Callable[[], object] | None = None  # () -> services.fxs.CardFacts: what the telephony card has
    billing: object = None  # appliance.services.billing.BillingService: rate plans, monthly bills
    reports: object = None  # appliance.services.reports.ReportService: reports from the 15-minute summaries
    report_schedules: object = None  # appliance.services.report_schedule.ReportSchedules: reports e-mailed
    compliance: object = None  # appliance.services.compliance.OutboundCheck: do-not-call, window, caller-ID pools
    workorders: object = None  # appliance.services.workorders.WorkOrderService
    call_lists: object = None  # appliance.services.calllists.CallLists: outbound lists, their import and export
    campaigns: object = None  # appliance.services.campaigns.Campaigns: campaigns and preview dialling
    scripts: object = None  # appliance.services.scripts.CallScripts: call scripts (话术) and their walks
    kb: object = None  # appliance.services.kb.KnowledgeBase: articles, categories, attachments, search
    backups: object = None  # appliance.services.backup.BackupService: backup files, restore, their runs
    customer_mail: object = None  # appliance.services.customer_mail.CustomerMail: templates, e-mail to customers
    webhooks: object = None  # appliance.services.webhooks.WebhookService: subscriptions, the deliveries' outbox
    provisioning: object = None  # appliance.services.provisioning.ProvisioningService: desk phones' files
    softphones: object = None  # appliance.services.softphone.Softphones: agents' softphones in the browser
    extra: dict = field(default_factory=dict)


def make_app(deps: WebDeps) -> Bottle:
    for name in ("queries", "site", "crm", "customer_excel", "call_records", "workspace", "agent_setup", "dispositions",
                 "billing", "reports", "compliance",
                 "call_lists", "campaigns", "scripts", "customer_mail", "provisioning",
                 "softphones"):
        if getattr(deps, name) is None:
            raise ValueError(f"WebDeps.{name} is needed: the composition root builds it (appliance/main.py start_web)")
    app = Bottle()
    defer_route_compiling(app.router)  # before the first route: make_app took 1.3-3 s without it
    app.config["deps"] = deps
    directory = app.config["directory"] = AgentDirectory(deps.config, deps.directory_seconds)
    # Row ids are SQLite integers: a path with a 40-digit "id" is no route (404), where
    # bottle's own filter (-?\d+) let it reach the database as an OverflowError (a 500).
    app.router.add_filter("int", lambda conf: (r"\d{1,18}", int, lambda x: str(int(x))))
    app.uninstall(bottle.JSONPlugin)  # the same, but UTF-8 rather than \u escapes for Chinese names
    app.install(bottle.JSONPlugin(json_dumps=lambda data: json.dumps(data, ensure_ascii=False, default=str)))
    app.install(ErrorsPlugin(render_error))
    app.install(BodyLimitPlugin())  # before anything reads a body: routes declare body_limit= to take more
    app.install(DatabasePlugin(deps.db))
    app.install(AuthPlugin(deps.users, agents_of=directory.of_user))
    app.install(CsrfPlugin())
    app.hook("after_request")(lambda: after_request(directory, deps.softphones.port))
    for status_code in (404, 405, 500):
        app.error(status_code)(_outside_routes)
    for area in AREAS:
        area.install(app, deps)
    for route in app.routes:
        route_roles(route)  # a route that declares no roles= fails here, not at its first request
        route_scope(route)  # nor an API route without the token scope it needs (scope=)
    compile_routes(app.router)
    return app


def defer_route_compiling(router: bottle.Router) -> None:
    """Bottle's router compiles the regular expression of every dynamic route of a method
    again each time a route is added: quadratic, 1.3 s for our 350 routes on an idle machine
    and 3 s on a busy one, all of it on the gevent loop (on a hot-standby takeover the calls
    wait behind it).  Until ``compile_routes``, adding a route compiles nothing."""
    router._compile = lambda method: None


def compile_routes(router: bottle.Router) -> None:
    """Each method's routes compiled once; a route added later is compiled as it comes."""
    del router._compile
    for method in router.dyna_routes:
        router._compile(method)


def after_request(directory: AgentDirectory, webrtc_port: int = 0) -> None:
    if request.method in UNSAFE:
        directory.forget()  # an agent added, renamed, signed in...
    if not request.path.startswith("/static/"):
        response.set_header("Cache-Control", "no-store")
    response.set_header("X-Content-Type-Options", "nosniff")
    response.set_header("X-Frame-Options", "DENY")
    response.set_header("Referrer-Policy", "same-origin")
    if request.environ.get("wsgi.url_scheme") == "https":
        # a browser that once reached the appliance over HTTPS never tries plain HTTP again
        response.set_header("Strict-Transport-Security", "max-age=31536000")
    # the softphones' WebSocket is Asterisk's, on its own port of this host (services/softphone.py)
    sockets = f"; connect-src 'self' ws://*:{webrtc_port} wss://*:{webrtc_port}" if webrtc_port else ""
    response.set_header("Content-Security-Policy",
                        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'" + sockets)


# -- errors outside any route's plugins (no such path, wrong method, a failure in bottle) ----
def _outside_routes(err):
    status = err.status_code
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "internal")
    if status >= 500:
        logger.error("request %s %s failed outside the routes: %s", request.method, request.path, err.body)
    if request.path.startswith("/api/"):
        response.content_type = "application/json; charset=utf-8"
        message = {404: "no such path", 405: "method not allowed"}.get(status, "internal error")
        return json.dumps(error_body(code, message))
    try:
        return render_error(status, "", None)  # the status says it: no such page, wrong method
    except Exception:
        logger.exception("rendering the %s page failed", status)
        return f"<!doctype html><title>{status}</title><h1>{status}</h1>"




__all__ = ["WebDeps", "make_app"]
