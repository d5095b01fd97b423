"""The browser tier: Debian's headless Chromium, driven by Playwright, against the real
web UI served by gevent's WSGIServer over a real SQLite file.

The web app is the one ``Appliance.start_web`` serves (``make_app`` with the real
configuration, user and CRM services); only the telephony side is stood in for
(agent sign-in, live snapshot, health, call control), as in the unit tier.  Pages that
need a real call are tested in the integration tier.

Playwright's own browser download is never used: ``/usr/bin/chromium`` comes from the
host packages (``make deps``).  The server runs in this process on the gevent hub;
Playwright's sync API waits on gevent's patched selectors, so the server keeps serving
while a test waits on the browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from webharness import CHROMIUM, CHROMIUM_FLAGS, ROLE_USER, Calls, PageProblems, Web, seeded_web


_shared: dict = {}


@pytest.fixture
def browser():
    """One Chromium for each run of consecutive tests that use it, across files (launching
    one takes some 3 s of wall clock and 1 s of CPU here, and the tier has 30-odd files): closed
    as soon as the next test does not use it (``pytest_runtest_teardown``), because
    Playwright's sync API keeps an asyncio loop running on this thread while it is open, which
    code run later in the session (pyroute2's own loop) must not meet. Between files every
    context a test left open is closed, so a file starts from a browser as clean as a new one."""
    if "chromium" not in _shared:
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} is missing: `make deps` installs Debian's chromium package")
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        _shared.update(playwright=playwright, chromium=chromium)
    return _shared["chromium"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield  # the test's own fixtures (its contexts, its web server) are torn down first
    if "chromium" not in _shared:
        return
    if nextitem is None or "browser" not in getattr(nextitem, "fixturenames", ()):
        _shared.pop("chromium").close()
        _shared.pop("playwright").stop()
    elif nextitem.path != item.path:
        for context in _shared["chromium"].contexts:
            context.close()


@pytest.fixture
def web(tmp_path):
    """The web UI on a free loopback port over a fresh, migrated SQLite file."""
    from gevent.pywsgi import WSGIServer

    db, deps, app, ids = seeded_web(tmp_path, calls=Calls(), events_max_seconds=2.0)
    server = WSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    yield Web(url=f"http://127.0.0.1:{server.server_port}", db=db, deps=deps, server=server, users=ids)
    server.stop(timeout=2)
    db.close()


@pytest.fixture
def page_as(browser, web):
    """``page_as(role, lang)``: a fresh browser context signed in as the user of that role,
    in that language, on the page the sign-in form leads them to.  ``page.problems`` lists
    what went wrong behind the scenes.

    Signed in as the form does it (a server-side session, its cookie in the browser) but
    without typing into the form: the tests of signing in itself use ``sign_in``."""
    from webui.http import SESSION_COOKIE

    contexts = []

    def open_page(role: str = "admin", lang: str = "en", width: int = 1366, height: int = 900):
        username = ROLE_USER[role]
        web.deps.users.set_language(web.users[username], lang)
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="zh-CN" if lang == "zh_CN" else "en-US")
        context.set_default_timeout(10_000)
        cookie, _ = web.deps.users.start_session(web.users[username], web.deps.session_seconds)
        context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": web.url, "httpOnly": True,
                              "sameSite": "Lax"}])
        contexts.append(context)
        page = context.new_page()
        page.problems = PageProblems(page).items
        page.goto(web.url + "/login")  # signed in already: on to their landing page
        assert "/login" not in page.url, f"{username} is not signed in"
        return page

    yield open_page
    for context in contexts:
        context.close()
