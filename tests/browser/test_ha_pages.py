"""Hot standby in a real browser, in both languages (issue 20): the admin turns it on for
this box on its page (a bad field named in the reader's language, the secret never sent
back, the restart it needs said plainly), a database kept aside after a split brain is listed
in words and removed only once ticked, and the dashboard shows the pair: this box's role,
the other box, the replication lag and a split brain as an alarm."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from appliance.services.ha import HaSettingsStore, audit_ha_change
from webharness import screenshot
from webui import i18n

pytestmark = pytest.mark.browser

SECRET = "a secret for the pair"
KEPT = "appliance-20261206T101500Z.db"
PAIR = {"status": "degraded", "uptime_seconds": 60, "components": {
    "asterisk": {"up": True, "state": "running"},
    "ha": {"enabled": True, "state": "active", "up": False, "peer_address": "192.168.1.12",
           "floating_address": "192.168.1.10/24", "peer": {"reachable": True, "role": "active"},
           "replication": {"direction": "sending", "state": "ok", "lag_seconds": 0.18}}},
    "alarms": [{"service": "", "code": "ha.split_brain", "text": "both boxes of the pair are active"}]}


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_admin_pairs_this_box_and_the_dashboard_shows_the_pair(page_as, web, tmp_path, lang):
    _ = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    store = HaSettingsStore(tmp_path / "ha", audit=audit_ha_change)
    web.deps.extra["ha_settings"] = store
    page = page_as("admin", lang)
    page.goto(web.url + "/admin/ha")
    expect(page.locator("#ha-off")).to_have_text(_("ha.off"))
    page.check("#enabled")
    for field, value in (("interface", "eth0"), ("peer_address", "192.168.1.300"),
                         ("floating_address", "192.168.1.10/24"), ("gateway", "192.168.1.1"), ("secret", SECRET)):
        page.fill(f"#{field}", value)
    page.click("#ha-settings button")
    expect(page.locator(".field.has-error .field-error")).to_have_text(_("ha.an_address"))
    expect(page.locator("#secret")).to_have_value("")  # typed once, never sent back
    assert not store.load().enabled
    page.fill("#peer_address", "192.168.1.12")
    page.fill("#secret", SECRET)
    page.click("#ha-settings button")
    expect(page.locator("#ha-saved")).to_have_text(_("ha.saved"))
    expect(page.locator("#ha-restart")).to_have_text(_("ha.restart_needed"))
    expect(page.locator("#secret")).to_have_attribute("placeholder", _("ha.secret_kept"))
    assert SECRET not in page.content()
    saved = store.load()
    assert saved.enabled and saved.peer_address == "192.168.1.12" and saved.secret == SECRET
    screenshot(page, lang, "config-ha-saved")

    # a database this box kept aside after a split brain: listed in words, removed only when ticked
    from appliance.services.kept_aside import KeptAside
    folder = tmp_path / "kept-aside"
    folder.mkdir()
    (folder / KEPT).write_bytes(b"SQLite format 3\x00" + bytes(2 * 1048576))
    (folder / KEPT).with_suffix(".json").write_text('{"kept_at": 1796552100, "reason": "split brain"}')
    web.deps.extra["kept_aside"] = KeptAside(folder)
    page.goto(web.url + "/admin/ha")
    row = page.locator(f'#ha-kept-list tr[data-name="{KEPT}"]')
    expect(row).to_contain_text(_("ha.kept.here"))
    expect(row).to_contain_text("2.0 MiB")
    expect(row).to_contain_text(_("ha.kept.cause.split_brain"))
    screenshot(page, lang, "config-ha-kept-aside")
    row.locator("button").click()  # not ticked
    expect(page.locator("#ha-kept-refused")).to_have_text(_("error.code.ha.kept_confirm"))
    assert (folder / KEPT).exists()
    page.locator(f'#ha-kept-list tr[data-name="{KEPT}"] input[name=confirm]').check()
    page.locator(f'#ha-kept-list tr[data-name="{KEPT}"] button').click()
    expect(page.locator("#ha-kept-removed")).to_have_text(_("ha.kept.removed", name=KEPT))
    expect(page.locator("#ha-kept-none")).to_have_text(_("ha.kept.none"))
    assert not (folder / KEPT).exists()

    web.deps.health = lambda: PAIR
    page.goto(web.url + "/")
    card = page.locator("#ha-pair")
    expect(card.locator("#ha-role")).to_have_text(_("labels.ha_role.active"))
    expect(card.locator("#ha-peer")).to_contain_text(_("labels.ha_role.active"))
    expect(card.locator("#ha-lag")).to_have_text(_("ha.seconds", n="0.18"))
    expect(page.locator("#alarms")).to_contain_text(_("alarms.ha.split_brain"))
    screenshot(page, lang, "dashboard-ha-split-brain")
    assert not page.problems, page.problems
