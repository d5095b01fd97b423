"""Work orders in the real Chromium, in both languages: an admin defines a type in the
workflow editor (first refused for having no final state, with the reason), a work order is
opened from a customer's page and moved on, and the field engineer's dispatch link opens a
375 px page where the order is moved on with a note and a photo."""

from __future__ import annotations

import pytest

from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_type_an_order_from_a_customer_and_the_dispatch_page(page_as, browser, web, lang):
    t = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/workorder-types/new")
    page.fill("#t-label", "上门维修" if lang == "zh_CN" else "Home repair")
    page.fill("#t-name", "repair")
    for i, (name, label, limit) in enumerate((("new", "新建", "60"), ("on_site", "已到场", "120"),
                                              ("done", "完成", "0"))):
        page.fill(f"input[name=state_name_{i}]", name)
        page.fill(f"input[name=state_label_{i}]", label)
        page.fill(f"input[name=state_limit_{i}]", limit)
    page.check("input[name=initial][value='0']")
    for i, (a, b) in enumerate((("new", "on_site"), ("on_site", "done"))):
        page.fill(f"input[name=tr_from_{i}]", a)
        page.fill(f"input[name=tr_to_{i}]", b)
    page.fill("input[name=f_name_0]", "model")
    page.fill("input[name=f_label_0]", "型号" if lang == "zh_CN" else "Model")
    page.check("input[name=f_required_0]")
    with page.expect_navigation():
        page.click("#type-form button.primary")
    assert t("workorders.wf.no_final") in page.inner_text("#problem")  # nothing final: refused, said why
    screenshot(page, lang, "workorder-type-refused")
    page.check("input[name=state_final_2]")
    with page.expect_navigation():
        page.click("#type-form button.primary")
    assert page.url.endswith("/admin/workorder-types")
    assert ("上门维修" if lang == "zh_CN" else "Home repair") in page.inner_text("#types")
    screenshot(page, lang, "workorder-types")

    # from a customer's page
    page.goto(web.url + "/customers/1")
    with page.expect_navigation():
        page.click("#new-workorder")
    assert page.inner_text("#wo-customer") == "王芳"
    page.fill("#wo-title", "热水器漏水" if lang == "zh_CN" else "Water heater leaks")
    page.fill("#wo-f-model", "X-100")
    with page.expect_navigation():
        page.click("#new-order button.primary")
    assert page.inner_text("#wo-state") == "新建"
    order_id = int(page.url.rsplit("/", 1)[1])
    page.select_option("#wo-to", "on_site")
    page.fill("#wo-move-note", "到了" if lang == "zh_CN" else "on my way")
    with page.expect_navigation():
        page.click("#wo-move button.primary")
    assert page.inner_text("#wo-state") == "已到场"
    assert t("wo.event.move") in page.inner_text("#wo-history")
    with page.expect_navigation():
        page.click("#wo-dispatch button")
    url = page.get_attribute("#wo-link a", "href")
    screenshot(page, lang, "workorder")
    assert not page.problems, page.problems

    # the engineer's phone: no sign-in, 375 px wide
    phone = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN" if lang == "zh_CN" else "en-US",
                                extra_http_headers={"Accept-Language": "zh-CN" if lang == "zh_CN" else "en-US"})
    try:
        engineer = phone.new_page()
        engineer.goto(url + f"?lang={lang}")
        assert engineer.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
        engineer.check("#d-form input[name=to][value=done]")
        engineer.fill("#d-note", "已修好" if lang == "zh_CN" else "fixed")
        engineer.set_input_files("#d-photos", files=[{"name": "fixed.png", "mimeType": "image/png", "buffer": PNG}])
        screenshot(engineer, lang, "dispatch-phone")
        with engineer.expect_navigation():
            engineer.click("#d-form button.primary")
        engineer.wait_for_selector("#d-moved")
        assert engineer.inner_text("#d-state") == "完成"
        assert engineer.query_selector("img.thumb") is not None
        screenshot(engineer, lang, "dispatch-phone-done")
    finally:
        phone.close()
    order = web.deps.workorders.get(__import__("appliance.services.crm", fromlist=["Viewer"]).Viewer("admin", "admin"),
                                    order_id)
    assert (order["state"], order["history"][-1]["photos"] != []) == ("done", True)
