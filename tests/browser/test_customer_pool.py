"""An agent and the customers that are not theirs, in both languages: the admin turns the
shared pool (公海) on and an agent claims a customer of nobody (the one who comes second is
told), the screen pop's link opens the record of whoever is calling read-only, and an
unknown caller's pop leads to the new-customer form with the number filled in."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from appliance.services.crm import Viewer
from webharness import LIVE, screenshot
from webui import i18n

pytestmark = pytest.mark.browser
LANGS = ["en", "zh_CN"]


def calling_alice(web, caller: str) -> None:
    """The live snapshot with one call from ``caller`` connected to Alice's agent 1001."""
    call = {"linkedid": "7.1", "caller": caller, "caller_name": "", "did": "88001000", "queue": "sales",
            "agent": "1001", "state": "talking", "duration": 12.0}
    web.deps.live = lambda: {**LIVE, "calls": [call]}


def customer_id(name: str) -> int:
    return m.Customer.get(m.Customer.name == name).id


@pytest.mark.parametrize("lang", LANGS)
def test_admin_turns_the_pool_on_and_an_agent_claims_a_customer(page_as, web, lang):
    agent = page_as("agent", lang)
    agent.goto(web.url + "/customers")
    assert agent.locator("#pool-link").count() == 0  # off until an admin turns it on
    admin = page_as("admin", lang)
    admin.goto(web.url + "/customers")
    admin.click("#pool-link")
    assert "张伟" in admin.inner_text("#pool") and i18n.translate(lang, "crm.pool_off_staff") in admin.inner_text(
        "#pool-off")
    admin.check("#p-enabled")
    admin.click("#pool-settings button")
    assert admin.is_checked("#p-enabled")

    agent.goto(web.url + "/customers")
    agent.click("#pool-link")
    assert agent.locator("#pool tbody tr").count() == 1 and "张伟" in agent.inner_text("#pool")
    assert i18n.translate(lang, "crm.pool_held", n=2) in agent.inner_text("#pool-held")
    screenshot(agent, lang, "customer-pool")
    claim = agent.locator("#pool tbody button")
    assert claim.inner_text() == i18n.translate(lang, "crm.claim")
    claim.click()
    agent.wait_for_url(f"**/customers/{customer_id('张伟')}")
    assert i18n.translate(lang, "crm.claimed_by", agent="1001", who="alice", at="")[:8] in agent.inner_text("main")
    assert agent.locator("#edit").count() == 1 and agent.locator("#read-only").count() == 0
    assert m.Customer.get_by_id(customer_id("张伟")).account_manager.number == "1001"
    assert not agent.problems, agent.problems


@pytest.mark.parametrize("lang", LANGS)
def test_the_second_agent_to_claim_is_told_someone_was_first(page_as, web, lang):
    web.deps.crm.save_pool_settings({"enabled": True}, actor="admin")
    page = page_as("agent", lang)
    page.goto(web.url + "/customers/pool")
    assert "张伟" in page.inner_text("#pool")
    # Bob claims it while Alice still has the list open
    web.deps.crm.claim(Viewer("bob", "agent", frozenset({"1002"})), customer_id("张伟"), actor="bob")
    page.click("#pool tbody button")
    alert = page.locator("p.alert")
    alert.wait_for()
    assert i18n.translate(lang, "error.code.customers.claimed") in alert.inner_text()
    assert m.Customer.get_by_id(customer_id("张伟")).account_manager.number == "1002"
    screenshot(page, lang, "customer-pool-claimed")


@pytest.mark.parametrize("lang", LANGS)
def test_the_pop_opens_the_record_of_a_caller_who_is_not_the_agents_read_only(page_as, web, lang):
    acme = customer_id("Acme Trading Ltd")  # Bob's customer
    page = page_as("agent", lang)
    page.goto(web.url + f"/customers/{acme}")
    assert page.title() and page.locator("#read-only").count() == 0  # no call: not found
    assert "Acme" not in page.inner_text("main")
    calling_alice(web, "+862188001234")
    page.goto(web.url + "/workspace")
    link = page.locator("#pop-customer")
    link.wait_for()
    assert link.inner_text() == "Acme Trading Ltd"
    link.click()
    page.wait_for_url(f"**/customers/{acme}")
    assert i18n.translate(lang, "crm.read_only_caller") in page.inner_text("#read-only")
    assert "Acme Trading Ltd" in page.inner_text("h1")
    for writable in ("#edit", "#follow-ups", "textarea[name=body]", "#claim"):
        assert page.locator(writable).count() == 0, writable
    screenshot(page, lang, "customer-caller-read-only")
    assert not page.problems, page.problems


@pytest.mark.parametrize("lang", LANGS)
def test_an_unknown_callers_pop_offers_a_new_customer_with_the_number(page_as, web, lang):
    calling_alice(web, "13600000009")
    page = page_as("agent", lang)
    page.goto(web.url + "/workspace")
    new = page.locator("#pop-new-customer")
    new.wait_for()
    assert new.inner_text() == i18n.translate(lang, "crm.pop_new_customer")
    new.click()
    page.wait_for_url("**/customers/new?phone=13600000009")
    assert page.input_value("#c-phone") == "13600000009"
    page.fill("#c-name", "赵敏")
    page.click("form.grid button.primary")
    made = m.Customer.get(m.Customer.phone == "13600000009")
    page.wait_for_url(f"**/customers/{made.id}")
    assert made.name == "赵敏" and made.account_manager.number == "1001"
    assert not page.problems, page.problems
