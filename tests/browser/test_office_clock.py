"""Times on the office's clock in the real Chromium: the appliance keeps every time in UTC and
its own clock runs in UTC, the office is in Shanghai (the first-run wizard's time zone, UTC+8).
A missed call of an hour ago shows at its Shanghai time in the agent's workspace (drawn by
JavaScript from the API's UTC) and on the call records page (drawn by the server), and the
date filter's days are Shanghai's."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.db import models as m

pytestmark = pytest.mark.browser

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_times_are_shown_on_the_offices_clock(page_as, web):
    assert web.deps.site.timezone() == "Asia/Shanghai"  # the default until the wizard says otherwise
    at = (m.utcnow() - dt.timedelta(hours=1)).replace(microsecond=0)
    m.CallRecord.create(linkedid="1700000000.1", caller="13800000099", queue="sales", enter_time=at,
                        end_time=at + dt.timedelta(seconds=40), wait_seconds=40, disposition="abandoned")
    local = at.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)

    page = page_as("agent")
    page.goto(web.url + "/workspace")
    row = page.wait_for_selector("#missed tbody tr:has-text('13800000099')")
    assert row.query_selector_all("td")[2].inner_text() == local.strftime("%Y-%m-%d %H:%M")

    page = page_as("supervisor")
    page.goto(web.url + "/calls")
    assert local.strftime("%Y-%m-%d %H:%M:%S") in page.inner_text("table")
    day = local.strftime("%Y-%m-%d")
    page.goto(web.url + f"/calls?from={day}&to={day}")
    assert "13800000099" in page.inner_text("table")
    other = (local + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    page.goto(web.url + f"/calls?from={other}&to={other}")
    assert "13800000099" not in page.inner_text("main")
    assert "office's clock (Asia/Shanghai)" in page.inner_text("main")  # the page says so
    assert not page.problems, page.problems
