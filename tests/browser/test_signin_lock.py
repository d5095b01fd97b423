"""A locked sign-in in the real Chromium, in both languages: after five wrong passwords the
right one is refused too, and the sign-in page says so in the reader's language with the
office's time to try again; an admin clears the lock on the accounts page and it works."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.services.signin import SignInLocked
from webharness import PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.browser

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MESSAGE = {"en": "Too many failed sign-ins. Try again after", "zh_CN": "登录失败次数过多，请在"}


def lock(web, username):
    for attempt in range(5):
        try:
            web.deps.users.sign_in(username, f"wrong-{attempt}", "addr:10.0.0.50")
        except SignInLocked as exc:
            return exc.until
    raise AssertionError("five wrong passwords did not lock the account")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_locked_message_in_both_languages(browser, web, lang):
    until = lock(web, "bob")
    context = browser.new_context(locale="zh-CN" if lang == "zh_CN" else "en-US")
    try:
        page = context.new_page()
        page.goto(f"{web.url}/login?lang={lang}")
        page.fill("input[name=username]", "bob")
        page.fill("input[name=password]", PASSWORD)  # the right one
        with page.expect_navigation() as nav:
            page.click("form button")
        assert nav.value.status == 429
        text = page.inner_text("#login-locked")
        assert text.startswith(MESSAGE[lang])
        office = until.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        assert office in text  # when to try again, on the office's clock
        assert "/login" in page.url
        screenshot(page, lang, "login-locked")
    finally:
        context.close()
    # the admin clears it on the accounts page; bob signs in
    web.deps.users.set_language(web.users["admin"], lang)
    admin = browser.new_context()
    try:
        page = sign_in(admin.new_page(), web.url, "admin")
        page.goto(web.url + "/admin/users")
        assert page.locator("tr[data-user='bob'] .badge").count() == 1
        screenshot(page, lang, "config-users-locked")
        with page.expect_navigation():
            page.click("tr[data-lockout='user:bob'] button")
        assert page.locator("tr[data-lockout='user:bob']").count() == 0
    finally:
        admin.close()
    again = browser.new_context()
    try:
        sign_in(again.new_page(), web.url, "bob")
    finally:
        again.close()
