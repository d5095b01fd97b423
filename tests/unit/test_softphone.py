"""The softphone in the browser, web side (issue 21 point 5): the registration an agent's
workspace asks for (their own agent only, a browser phone only, softphones on), the
workspace's softphone card only for an agent at a browser phone, and the page's
Content-Security-Policy letting it reach Asterisk's WebSocket port and nothing more."""

from __future__ import annotations

import webtest
from test_webui import env, seed_agents, session_for  # noqa: F401  (env is a fixture)

from appliance.services.softphone import Softphones
from webui.app import make_app

PORT = 18089


def softphone_office(env, port=PORT):  # noqa: F811
    seed_agents(env.deps.config)  # 1001 Alice (user alice, phone 1001), 1002 Bob (user bob, no phone)
    env.deps.config.create("phones", {"extension": "1003", "secret": "pw-1003-secret", "callerid_name": "Carol",
                                      "webrtc": True}, actor="t")
    env.deps.config.create("agents", {"number": "1003", "name": "Carol", "phone": "1003", "user": "sup"}, actor="t")
    env.deps.softphones = Softphones(env.db, port)
    env.app = webtest.TestApp(make_app(env.deps))
    return env


def test_registration_goes_to_the_agent_at_a_browser_phone_only(env):  # noqa: F811
    office = softphone_office(env)
    sup, _ = session_for(office, "sup")
    reg = office.app.get("/api/v1/agents/1003/softphone", headers=sup).json
    assert reg == {"extension": "1003", "password": "pw-1003-secret", "display_name": "Carol", "port": PORT,
                   "path": "/ws"}
    desk = office.app.get("/api/v1/agents/1001/softphone", headers=sup, status=409).json
    assert desk["error"] == "softphone.not_a_browser_phone"
    no_phone = office.app.get("/api/v1/agents/1002/softphone", headers=sup, status=409).json
    assert no_phone["error"] == "softphone.not_a_browser_phone"
    office.app.get("/api/v1/agents/4040/softphone", headers=sup, status=404)
    alice, _ = session_for(office, "alice")  # an agent never gets another agent's SIP password
    assert office.app.get("/api/v1/agents/1003/softphone", headers=alice, status=403).json["error"] == "forbidden"


def test_softphones_off_says_so(env):  # noqa: F811
    office = softphone_office(env, port=0)
    sup, _ = session_for(office, "sup")
    answer = office.app.get("/api/v1/agents/1003/softphone?lang=zh_CN", headers=sup, status=409).json
    assert answer["error"] == "softphone.off"


def test_workspace_shows_the_softphone_for_a_browser_phone_and_allows_its_socket(env):  # noqa: F811
    office = softphone_office(env)
    sup, _ = session_for(office, "sup")
    page = office.app.get("/workspace?agent=1003", headers=sup)
    assert 'id="softphone"' in page.text and 'src="/static/softphone.js"' in page.text
    csp = page.headers["Content-Security-Policy"]
    assert f"connect-src 'self' ws://*:{PORT} wss://*:{PORT}" in csp
    desk = office.app.get("/workspace?agent=1001", headers=sup)
    assert 'id="softphone"' not in desk.text and "softphone.js" not in desk.text


def test_no_softphones_no_socket_in_the_policy(env):  # noqa: F811
    office = softphone_office(env, port=0)
    sup, _ = session_for(office, "sup")
    assert "connect-src" not in office.app.get("/workspace", headers=sup).headers["Content-Security-Policy"]


def test_the_module_script_is_served_as_javascript(env):  # noqa: F811
    office = softphone_office(env)
    for path in ("/static/softphone.js", "/static/vendor/sipjs/sip.min.js"):
        assert office.app.get(path).content_type in ("application/javascript", "text/javascript"), path
