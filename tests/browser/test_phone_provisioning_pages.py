"""Desk phones that configure themselves, in the real Chromium in both languages, and
fetched as a phone fetches them from the harness's real web server (urllib's own HTTP
Digest, a Yealink's User-Agent): the phones page shows the address for DHCP option 66,
each vendor's notes and each phone's last fetch in the reader's words (never a model's
code); the phone's page shows the user name and password to key into it; a MAC is typed in
any spelling and a wrong one is refused beside the field."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from appliance.db import models as m
from webharness import screenshot

pytestmark = pytest.mark.browser

YEALINK_UA = "Yealink SIP-T46U 108.86.0.45 00:15:65:aa:bb:cc"


def as_phone(web, name: str, user: str | None, password: str | None):
    """(status, text, headers) of ``/prov/<name>`` asked the way a phone asks: urllib's
    Digest handler answers the challenge."""
    handlers = []
    if user is not None:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, web.url + "/prov/", user, password)
        handlers.append(urllib.request.HTTPDigestAuthHandler(passwords))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(web.url + "/prov/" + name, headers={"User-Agent": YEALINK_UA})
    try:
        with opener.open(req, timeout=10) as res:
            return res.status, res.read().decode(), res.headers
    except urllib.error.HTTPError as exc:
        body = exc.read()  # "" (a str) from Debian 12's Python 3.11.2 when its Digest handler gives up
        return exc.code, body.decode() if isinstance(body, bytes) else body, exc.headers


def provision(web, extension="1001", mac="00:15:65:AA:BB:CC", model="yealink-t46u") -> str:
    web.deps.config.update("phones", extension, {"mac": mac, "model": model}, actor="test")
    return m.Phone.get(m.Phone.extension == extension).prov_password


def test_a_phone_fetches_its_file_from_the_real_web_server(web):
    password = provision(web)
    status, text, _ = as_phone(web, "001565aabbcc.cfg", "001565aabbcc", password)
    assert status == 200 and "account.1.password = pw-1001-secret" in text
    assert "account.1.sip_server.1.address = 127.0.0.1" in text and "linekey.2.value = 1002" in text  # Bob: sales
    assert as_phone(web, "001565aabbcc.cfg", "001565aabbcc", "not-" + password)[0] == 401
    assert as_phone(web, "001565aabbcc.cfg", None, None)[0] == 401
    assert as_phone(web, "001565000001.cfg", "001565000001", password)[0] == 404
    # urllib answers each challenge again a few times before it gives up: each answer is a failure
    statuses = [as_phone(web, "001565aabbcc.cfg", "001565aabbcc", f"guess-{n}")[0] for n in range(10)]
    assert statuses[-1] == 429 and set(statuses) <= {401, 429}
    status, _, headers = as_phone(web, "001565aabbcc.cfg", "001565aabbcc", password)
    assert status == 429 and int(headers["Retry-After"]) > 0
    phone = m.Phone.get(m.Phone.extension == "1001")
    assert phone.prov_fetched_from == "127.0.0.1" and phone.prov_user_agent == YEALINK_UA


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_phones_page_tells_the_installer_what_to_do(page_as, web, lang):
    password = provision(web)
    assert as_phone(web, "001565aabbcc.cfg", "001565aabbcc", password)[0] == 200
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/phones")
    card = page.inner_text("#provisioning")
    assert page.inner_text("#prov-option66") == web.url + "/prov/"
    fetched, by_hand = page.inner_text("[data-prov='1001']"), page.inner_text("[data-prov='1002']")
    assert "127.0.0.1" in fetched
    main = page.inner_text("main")
    if lang == "en":
        assert "DHCP option 66" in card and "Grandstream" in card and "cfg<MAC>.xml" in card
        assert "fetched" in fetched and "configured by hand" in by_hand and "Yealink SIP-T46U" in main
    else:
        assert "DHCP 选项 66" in card and "潮流" in card and "方位" in card and "话机自动配置" in card
        assert "已取配置" in fetched and "来自 127.0.0.1" in fetched and "手工配置" in by_hand
        assert "亿联 SIP-T46U" in main
    assert "yealink-t46u" not in main and password not in main  # no code; the password only on the phone's page
    screenshot(page, lang, "phones-provisioning")

    page.goto(web.url + "/admin/phones/1001")
    assert page.inner_text("#prov-username") == "001565aabbcc"
    assert page.inner_text("#prov-password") == password
    assert page.inner_text("#prov-file") == web.url + "/prov/001565aabbcc.cfg"

    # a MAC in the installer's spelling, a wrong one refused beside the field, nothing saved
    page.goto(web.url + "/admin/phones/1002")
    page.fill("#f-mac", "00:15:65:12:34")
    page.select_option("#f-model", "fanvil-x4u")
    page.click("button.primary")
    error = page.inner_text(".field.has-error")
    assert ("is not a MAC address" in error) if lang == "en" else ("不是 MAC 地址" in error)
    assert m.Phone.get(m.Phone.extension == "1002").mac is None
    page.fill("#f-mac", "00-15-65-12-34-56")
    page.click("button.primary")
    page.wait_for_url(web.url + "/admin/phones")
    assert m.Phone.get(m.Phone.extension == "1002").mac == "001565123456"
    assert "001565123456" in page.inner_text("main")
    assert not page.problems
