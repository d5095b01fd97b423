"""Scoped API tokens on My account in a real browser, in both languages (issue 22 point 2):
a token with no scopes says it has the full access of its owner's role; a new token is made
with two scopes and an address list (a bad address is shown next to the field, what was
typed kept), listed with its scopes in the reader's words and its networks, works within its
scopes from its address and is refused outside them, and is revoked after a confirmation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_agent_makes_a_scoped_token_and_revokes_it(page_as, web, lang):
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    page = page_as("agent", lang)
    page.goto(web.url + "/account")
    page.fill("input[name=name]", "old-crm")
    page.click("form[action='/account/tokens'] button.primary")
    old = page.locator("tr[data-token]").filter(has_text="old-crm")
    expect(old.locator(".token-scopes")).to_have_text(_("tokens.full_access"))
    expect(old.locator(".token-addresses")).to_have_text(_("tokens.any_address"))

    page.fill("input[name=name]", "shop")
    page.check("input[name=scopes][value='customers:write']")
    page.check("input[name=scopes][value='calls:read']")
    page.fill("#token-addresses", "127.0.0.0/8, 2001:db8::/32, not-an-address")
    page.click("form[action='/account/tokens'] button.primary")
    expect(page.locator(".field-error")).to_have_text(_("tokens.field.address", value="not-an-address"))
    expect(page.locator("input[name=scopes][value='customers:write']")).to_be_checked()
    expect(page.locator("input[name=name]")).to_have_value("shop")
    screenshot(page, lang, "account-token-error")

    page.fill("#token-addresses", "127.0.0.0/8, 2001:db8::/32")
    page.click("form[action='/account/tokens'] button.primary")
    token = page.inner_text("#new-token").strip()
    row = page.locator("tr[data-token]").filter(has_text="shop")
    sep = "、" if lang == "zh_CN" else ", "
    expect(row.locator(".token-scopes")).to_have_text(
        sep.join([_("tokens.scope.calls_read"), _("tokens.scope.customers_write")]))
    expect(row.locator(".token-addresses")).to_have_text("127.0.0.0/8 2001:db8::/32")
    screenshot(page, lang, "account-tokens")
    assert not page.problems, page.problems

    # the token works within its scopes from this (loopback) address, and nowhere else
    auth = {"Authorization": "Bearer " + token}
    assert page.request.get(web.url + "/api/v1/customers", headers=auth).status == 200
    refused = page.request.get(web.url + "/api/v1/recordings", headers=auth)
    assert refused.status == 403 and refused.json()["params"] == {"scope": "recordings:read"}

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.danger").click()
    expect(page.locator("tr[data-token]").filter(has_text="shop")).to_have_count(0)
    assert page.request.get(web.url + "/api/v1/customers", headers=auth).status == 401
