"""Every main page in a real browser, in both languages: it renders without script or
console errors, speaks the user's language, and a screenshot is kept for a person to look at
under tests/artifacts/screenshots/<lang>/."""

from __future__ import annotations

import re

import pytest

from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser

# (file name, path, role that sees the page): the pages people work in.
MAIN_PAGES = (
    ("live", "/", "admin"),
    ("live-agent", "/", "agent"),
    ("wallboard", "/wallboard", "supervisor"),
    ("config-queues", "/admin/queues", "admin"),
    ("config-queue-members", "/admin/queues/sales/members", "admin"),
    ("config-agents", "/admin/agents", "admin"),
    ("config-phones", "/admin/phones", "admin"),
    ("config-trunks", "/admin/trunks", "admin"),
    ("config-dids", "/admin/dids", "admin"),
    ("config-time-conditions", "/admin/time_conditions", "admin"),
    ("config-holidays", "/admin/holidays", "admin"),
    ("config-blacklist", "/admin/blacklist", "admin"),
    ("config-pause-reasons", "/admin/pause_reasons", "admin"),
    ("config-dispositions", "/admin/dispositions", "admin"),
    ("config-queues-supervisor", "/admin/queues", "supervisor"),
    ("audit", "/admin/audit", "admin"),
    ("account", "/account", "agent"),
    ("customers", "/customers", "supervisor"),
    ("customers-agent", "/customers", "agent"),
    ("customer", "/customers/1", "agent"),
    ("customer-new", "/customers/new", "agent"),
    ("workspace", "/workspace", "agent"),
    ("calls", "/calls", "supervisor"),
    ("calls-agent", "/calls", "agent"),
    ("call", "/calls/seed.1", "agent"),
    ("workspace-supervisor", "/workspace", "supervisor"),
    ("config-customer-fields", "/admin/customer_fields", "admin"),
    ("config-users", "/admin/users", "admin"),
    ("menus", "/admin/menus", "admin"),  # every menu's flow as a tree, and the prompts
    ("menu", "/admin/menus/main", "admin"),  # one menu: keys to add, remove or skip, what leads in
    ("menus-supervisor", "/admin/menus", "supervisor"),
)
# A message id shown as itself (missing from the catalogs) looks like ``admin.add_x``.
RAW_ID = re.compile(r"\b(?:%s)\.[a-z_]+(?:\.[a-z_0-9]+)*\b" % "|".join(
    sorted({key.split(".")[0] for key in i18n.catalog("en")})))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_main_page_renders_and_is_photographed(page_as, web, lang):
    pages = {}
    for name, path, role in MAIN_PAGES:
        page = pages.get(role) or pages.setdefault(role, page_as(role, lang))
        response = page.goto(web.url + path)
        assert response.status == 200, (path, role, response.status)
        assert page.get_attribute("html", "lang") == ("zh-CN" if lang == "zh_CN" else "en")
        text = page.inner_text("body")
        assert not RAW_ID.search(text), (path, RAW_ID.search(text).group(0))
        nav = page.inner_text("header nav")
        assert i18n.translate(lang, "nav.dashboard") in nav, (path, nav)
        screenshot(page, lang, name)
    for role, page in pages.items():
        assert not page.problems, (role, page.problems)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_sign_in_and_error_pages_are_photographed(browser, web, lang):
    context = browser.new_context(locale="zh-CN" if lang == "zh_CN" else "en-US")
    page = context.new_page()
    page.goto(f"{web.url}/login?lang={lang}")
    assert page.inner_text("h1") == i18n.translate(lang, "app.name")
    screenshot(page, lang, "login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not the password")
    with page.expect_navigation():
        page.click("form button")
    assert i18n.translate(lang, "login.failed") in page.inner_text(".alert")
    screenshot(page, lang, "login-failed")
    response = page.goto(f"{web.url}/no-such-page?lang={lang}")
    assert response.status == 404
    screenshot(page, lang, "not-found")
    context.close()


def test_an_agent_is_refused_the_configuration_pages(page_as, web):
    page = page_as("agent", "en")
    assert "/admin/" not in page.inner_html("header")
    response = page.goto(web.url + "/admin/queues")
    assert response.status == 403
    assert i18n.translate("en", "error.code.forbidden") in page.inner_text("h1")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_first_run_wizard_pages_render_and_are_photographed(page_as, web, lang):
    """Each step of the wizard of a fresh appliance, with a field error on the way."""
    web.deps.site.begin_setup()
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/queues")
    assert page.url.endswith("/setup/password")  # held there
    page.fill("[name=password]", "new-secret-12")
    page.fill("[name=confirm]", "new-secret-21")
    with page.expect_navigation():
        page.click("main form button.primary")
    assert i18n.translate(lang, "field.password_mismatch") in page.inner_text(".field-error")
    screenshot(page, lang, "setup-password-error")
    for step in ("password", "region", "trunk", "queue", "finish"):
        response = page.goto(f"{web.url}/setup/{step}")
        assert response.status == 200 and page.get_attribute("html", "lang") == ("zh-CN" if lang == "zh_CN" else "en")
        text = page.inner_text("body")
        assert not RAW_ID.search(text), (step, RAW_ID.search(text).group(0))
        assert i18n.translate(lang, "setup.step." + step) in page.inner_text("ol.wizard-steps")
        screenshot(page, lang, f"setup-{step}")
    assert not page.problems, page.problems


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_alarm_on_the_dashboard_and_its_restart_button(page_as, web, lang):
    """The serial console stopped after a crash loop and an E1 line is in RED alarm: the
    dashboard says so in the admin's language and its Restart button asks the supervisor; a
    team leader sees it without one."""
    asked = []
    web.deps.restart_service = lambda name, who: asked.append((name, who))
    health = web.deps.health()
    health["components"] = {**health.get("components", {}), "hardware": {
        "up": False, "state": "critical", "problems": ["dahdi.span_alarm"],
        "details": [{"code": "dahdi.span_alarm", "severity": "critical", "subject": "span 1",
                     "message": "span 1 (TE2/0/1 E1 PRI) is in alarm: RED"}]}}
    health.update(
        {"status": "degraded", "services": {"console": {"state": "crash-loop"}},
         "alarms": [{"service": "console", "code": "supervisor.crash_loop",
                     "text": "console exited 6 times within 60s; not restarting it"}]})
    page = page_as("admin", lang)
    text = page.inner_text("#alarms")
    assert i18n.translate(lang, "alarms.supervisor.crash_loop", service=i18n.translate(lang, "service.console")) in text
    assert i18n.translate(lang, "hw.dahdi.span_alarm", subject="span 1") in text
    screenshot(page, lang, "dashboard-alarm")
    with page.expect_navigation():
        page.click("#alarms button")
    assert asked == [("console", "admin")]
    supervisor = page_as("supervisor", lang)
    assert supervisor.query_selector("#alarms") and not supervisor.query_selector("#alarms button")
    assert not page.problems and not supervisor.problems, (page.problems, supervisor.problems)
