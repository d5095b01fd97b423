"""The workspace says a refused call in the agent's language: an agent clicking to dial a Hong
Kong number (their calling permission reaches long distance) reads, in Chinese, that this line
may not call international numbers; the refusal is in the audit log and nothing was dialled."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from appliance.db.models import AuditLog
from appliance.engine.live import LiveState
from appliance.services.calling import CallingPolicy
from appliance.services.calls import CallControl
from webharness import screenshot

pytestmark = pytest.mark.browser


class NoManager:
    """Asterisk's manager, which a refused call must never reach."""

    connected = True

    def send_action(self, name, headers):
        raise AssertionError(f"{name} sent for a refused call: {headers}")


def test_a_refused_click_to_dial_is_said_in_the_agents_language(web, page_as):
    web.deps.calls = CallControl(NoManager(), LiveState(), calling=CallingPolicy(web.db))
    # the agent between calls (the harness's snapshot has them talking: no dialling then)
    web.deps.live = lambda: {"queues": [], "calls": [], "agents": [
        {"name": "1001", "interface": "PJSIP/1001", "state": "free", "since": 0, "in_state_seconds": 5.0,
         "queues": ["sales"]}]}
    page = page_as("agent", "zh_CN")
    page.goto(web.url + "/workspace")
    page.fill("#ws-number", "+852 2123 4567")
    page.click("button[data-act=dial]")
    expect(page.locator("#ws-status")).to_contain_text("此线路无权拨打国际长途号码")
    screenshot(page, "zh_CN", "workspace-call-refused")
    [row] = AuditLog.select().where(AuditLog.action == "refused")
    assert (row.username, row.object_id) == ("alice", "+85221234567")
    assert not page.problems, page.problems
