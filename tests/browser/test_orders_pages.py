"""An order's whole life in the browser, in both languages: the agent opens a customer's
page, takes an order with a gift and submits it for review; the admin approves it, ships
it with a tracking number, records the payment and marks it delivered; the stock went
down, the customer earned points, and the sales page counts it.  Screenshots of each step
go to tests/artifacts/screenshots/<lang>/."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from appliance.services.orders import OrderService
from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser
LANGS = ["en", "zh_CN"]


@pytest.mark.parametrize("lang", LANGS)
def test_an_order_from_the_customer_page_to_delivered(page_as, web, lang):
    orders = OrderService(web.db, web.deps.crm)
    orders.create_product({"code": "C-01", "name": "保湿霜", "price": "128.00", "unit": "瓶", "stock": 10}, "admin")
    orders.create_product({"code": "G-01", "name": "小样", "price": "0", "gift": True, "stock": 3}, "admin")
    customer = m.Customer.get(m.Customer.name == "王芳")  # Alice's customer

    agent = page_as("agent", lang)
    agent.goto(f"{web.url}/customers/{customer.id}")
    agent.click("#new-order")
    agent.select_option("select[name='product.0']", "C-01")
    agent.fill("input[name='quantity.0']", "2")
    agent.fill("input[name='price.0']", "120")
    agent.select_option("select[name='product.1']", "G-01")
    agent.fill("input[name='address']", "上海市徐汇区漕溪北路1号")
    agent.select_option("select[name='payment_method']", "cod")
    screenshot(agent, lang, "order-form")
    agent.click("#submit-for-review")
    agent.wait_for_url("**/orders/*")
    order = m.SalesOrder.get()
    assert agent.inner_text("#order-state") == i18n.translate(lang, "orders.state.review")
    assert agent.inner_text("#order-total") == "¥240.00"
    assert agent.locator("#act-approve").count() == 0  # agents do not review

    admin = page_as("admin", lang)
    admin.goto(f"{web.url}/orders/{order.id}")
    admin.click("#act-approve")
    assert admin.inner_text("#order-state") == i18n.translate(lang, "orders.state.approved")
    admin.fill("#ship-courier", "顺丰")
    admin.fill("#ship-tracking", "SF1234567890")
    admin.click("#act-ship")
    assert admin.inner_text("#order-state") == i18n.translate(lang, "orders.state.shipped")
    assert "SF1234567890" in admin.inner_text("#order-tracking")
    admin.click("#record-payment")
    assert admin.inner_text("#order-owed") == "¥0.00"
    admin.click("#act-deliver")
    assert admin.inner_text("#order-state") == i18n.translate(lang, "orders.state.delivered")
    screenshot(admin, lang, "order-delivered")
    assert [p.stock for p in m.Product.select().order_by(m.Product.code)] == [8, 2]
    assert orders.points_balance(customer.id) == 24  # ¥240 paid, one point per ¥10
    steps = admin.locator("#order-history li").count()
    assert steps == 6  # taken, submitted, approved, shipped, paid, delivered

    admin.goto(f"{web.url}/orders/sales")
    assert i18n.translate(lang, "orders.sales.total", n=1, amount="¥240.00") in admin.inner_text("#sales-total")
    screenshot(admin, lang, "orders-sales")
    agent.goto(f"{web.url}/customers/{customer.id}")
    assert i18n.translate(lang, "orders.order_title", n=order.id) in agent.inner_text("#history")
    assert not agent.problems and not admin.problems, (agent.problems, admin.problems)
