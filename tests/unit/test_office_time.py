"""Times for people are on the office's clock (the site's time zone) while everything is
stored in UTC: the pages' ``when`` helper and the call records' day filter."""

from __future__ import annotations

import datetime as dt

from appliance.db import models as m
from appliance.services.callrecords import CallRecords
from webharness import migrated
from webui.http import local_time


def test_stored_utc_times_are_shown_on_the_offices_clock():
    assert local_time("2026-11-23 17:04:05", "Asia/Shanghai") == "2026-11-24 01:04"
    assert local_time("2026-11-23 17:04:05", "Asia/Shanghai", seconds=True) == "2026-11-24 01:04:05"
    assert local_time("2026-11-23T17:04:05Z", "Europe/London") == "2026-11-23 17:04"
    assert local_time(dt.datetime(2026, 7, 1, 12, 0), "Europe/London") == "2026-07-01 13:00"  # summer time
    assert local_time(None, "Asia/Shanghai") == "—" and local_time("", "Asia/Shanghai") == "—"
    assert local_time("?", "Asia/Shanghai") == "?"  # not a time: as it is
    assert local_time("2026-11-23 17:04:05", "Mars/Base") == "2026-11-23 17:04"  # a zone unknown: UTC


def test_the_day_filter_takes_the_offices_days(tmp_path):
    db = migrated(tmp_path / "calls.db")
    # 23:30 UTC on the 23rd is 07:30 on the 24th in Shanghai
    m.CallRecord.create(linkedid="1.1", caller="13800000001", enter_time=dt.datetime(2026, 11, 23, 23, 30),
                        disposition="answered")
    shanghai, utc = CallRecords(db, timezone=lambda: "Asia/Shanghai"), CallRecords(db)
    everyone = None

    def found(records, day):
        return [r["linkedid"] for r in records.search(everyone, {"from": day, "to": day})["items"]]

    assert found(shanghai, "2026-11-24") == ["1.1"] and found(shanghai, "2026-11-23") == []
    assert found(utc, "2026-11-23") == ["1.1"]


def test_the_excel_export_gives_the_offices_time(tmp_path):
    import io

    from openpyxl import load_workbook

    from appliance.services.callrecords import COLUMNS

    db = migrated(tmp_path / "export.db")
    m.CallRecord.create(linkedid="1.1", caller="13800000001", enter_time=dt.datetime(2026, 11, 23, 23, 30),
                        disposition="answered")
    data = CallRecords(db, timezone=lambda: "Asia/Shanghai").export(None, {}, {})
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[1][COLUMNS.index("enter_time")] == "2026-11-24 07:30:00"  # as /calls shows it
