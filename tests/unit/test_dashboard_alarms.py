"""The dashboard's alarms and restarting a service from the web UI and the API: the dashboard
shows the supervisor's alarms and the telephony cards' problems to staff, with a restart
button for admins on a stopped service; the request reaches the supervisor through
``deps.restart_service`` (on the appliance a request file, tested with the real supervisor in
test_supervisor_children.py), is audited, and is refused for unknown services, non-admins and
when there is no supervisor to ask."""

from __future__ import annotations

from appliance.db import models as m
from test_webui import env, sign_in, token_for  # noqa: F401 (env is a fixture)

CRASHED = {"services": {"asterisk": {"state": "running"}, "console": {"state": "crash-loop"}},
           "alarms": [{"service": "console", "code": "supervisor.crash_loop",
                       "text": "console exited 6 times within 60s; not restarting it"}]}


def test_an_admin_restarts_a_crash_looped_service_from_the_api(env):  # noqa: F811
    asked = []
    env.health.update(CRASHED)
    env.deps.restart_service = lambda name, who: asked.append((name, who))
    res = env.app.post("/api/v1/services/console/restart", headers=token_for(env, "admin"))
    assert res.status_int == 202 and res.json == {"service": "console", "restart": "requested"}
    assert asked == [("console", "admin")]
    entry = m.AuditLog.get(m.AuditLog.object_type == "services")
    assert (entry.username, entry.action, entry.object_id) == ("admin", "restart", "console")
    missing = env.app.post("/api/v1/services/nosuch/restart", headers=token_for(env, "admin"), status=404).json
    assert missing["error"] == "services.not_found"
    env.app.post("/api/v1/services/console/restart", headers=token_for(env, "sup"), status=403)
    assert asked == [("console", "admin")]
    env.deps.restart_service = None  # a web UI run on its own, no supervisor behind it
    assert env.app.post("/api/v1/services/console/restart", headers=token_for(env, "admin"),
                        status=503).json["error"] == "services.no_supervisor"


def test_the_dashboard_shows_alarms_and_offers_admins_the_restart(env):  # noqa: F811
    asked = []
    env.deps.restart_service = lambda name, who: asked.append((name, who))
    sign_in(env.app, "admin")
    assert 'id="alarms"' not in env.app.get("/").text  # nothing wrong, nothing shown
    env.health.update(CRASHED)
    page = env.app.get("/")
    assert "serial console kept crashing and was stopped" in page.text
    form = next(f for f in page.forms.values() if f.action == "/services/console/restart")
    assert form.submit().status_int == 302 and asked == [("console", "admin")]
    env.app.reset()  # signed out
    sign_in(env.app, "sup")
    page = env.app.get("/")
    assert "console kept crashing" in page.text and "/services/console/restart" not in page.text


def test_a_line_in_alarm_is_on_the_dashboard_in_the_users_language(env):  # noqa: F811
    env.health["components"]["hardware"] = {
        "up": False, "state": "critical", "problems": ["dahdi.span_alarm"],
        "details": [{"code": "dahdi.span_alarm", "severity": "critical", "subject": "span 1",
                     "message": "span 1 (TE2/0/1) is in alarm: RED"}]}
    sign_in(env.app, "admin")
    page = env.app.get("/")
    assert "Line span 1 is in alarm" in page.text and "RED" in page.text
    assert not any(f.action.startswith("/services/") for f in page.forms.values())  # nothing to restart
    env.users.set_language(env.ids["admin"], "zh_CN")
    assert "线路 span 1 告警" in env.app.get("/").text
    env.app.reset()
    sign_in(env.app, "alice")  # agents do not get the alarms
    assert 'id="alarms"' not in env.app.get("/").text
