"""Call records for people: search filters, who sees what, one call, Excel export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from appliance.db import models as m
from appliance.errors import NotFound, ValidationError
from appliance.services.callrecords import COLUMNS, CallRecords
from webharness import migrated


@pytest.fixture
def records(tmp_path):
    db = migrated(tmp_path / "c.db")
    day = dt.datetime(2026, 11, 20, 9, 0)
    rows = [("a.1", "13900000001", "1001", "sales", "answered", "inbound", 0),
            ("a.2", "13900000002", "1002", "support", "answered", "inbound", 1),
            ("a.3", "=cmd|' /C calc'!A0", "", "sales", "abandoned", "inbound", 1),
            ("a.4", "02160001234", "1001", "", "answered", "outbound", 2)]
    for linkedid, caller, agent, queue, disposition, direction, days in rows:
        m.CallRecord.create(linkedid=linkedid, caller=caller, agent=agent, queue=queue, disposition=disposition,
                            direction=direction, enter_time=day + dt.timedelta(days=days), talk_seconds=30)
    m.CallOutcome.create(linkedid="a.1", agent="1001", disposition="sale", note="3 boxes", saved_by="alice")
    yield CallRecords(db)
    db.close()


def ids(result):
    return [c["linkedid"] for c in result["items"]]


def test_filters_combine_and_newest_come_first(records):
    assert ids(records.search(None, {})) == ["a.4", "a.3", "a.2", "a.1"]
    assert ids(records.search(None, {"from": "2026-11-21", "to": "2026-11-21"})) == ["a.3", "a.2"]
    assert ids(records.search(None, {"queue": "sales", "disposition": "answered"})) == ["a.1"]
    assert ids(records.search(None, {"direction": "outbound", "number": "021-6000 1234"})) == ["a.4"]
    assert records.search(None, {"agent": "1001"})["items"][-1]["outcome"] == "sale"
    page = records.search(None, {}, page=2, per_page=3)
    assert (ids(page), page["pages"], page["total"]) == (["a.1"], 2, 4)


def test_an_agent_sees_only_the_calls_they_took(records):
    assert ids(records.search(frozenset({"1001"}), {})) == ["a.4", "a.1"]
    assert ids(records.search(frozenset(), {})) == []
    assert records.get(frozenset({"1001"}), "a.1")["outcomes"][0]["note"] == "3 boxes"
    with pytest.raises(NotFound):
        records.get(frozenset({"1001"}), "a.2")


@pytest.mark.parametrize("filters", [{"from": "yesterday"}, {"from": "2026-11-22", "to": "2026-11-20"},
                                     {"direction": "sideways"}, {"disposition": "<script>"}, {"number": "1" * 41}])
def test_bad_filters_are_refused_clearly(records, filters):
    with pytest.raises(ValidationError):
        records.search(None, filters)


@pytest.mark.parametrize("page, per_page", [(0, 50), (1, 0), (1, 201), ("x", 50)])
def test_bad_paging_is_refused(records, page, per_page):
    with pytest.raises(ValidationError):
        records.search(None, {}, page=page, per_page=per_page)


def test_export_is_the_search_as_text_never_formulas(records):
    data = records.export(None, {"queue": "sales"}, {"caller": "Number"})
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][COLUMNS.index("caller")] == "Number"
    assert [r[0] for r in rows[1:]] == ["a.3", "a.1"]
    cell = sheet.cell(row=2, column=COLUMNS.index("caller") + 1)
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"


def test_export_names_the_agents_disposition_as_the_reader_reads_it(records):
    from appliance.services.dispositions import DispositionService

    names = DispositionService(records.db).names("zh_CN")
    words = lambda column, code: names.get(code, code) if column == "outcome" else code  # as the export route says
    rows = list(load_workbook(io.BytesIO(records.export(None, {"queue": "sales"}, {}, words))).active
                .iter_rows(values_only=True))
    assert [r[COLUMNS.index("outcome")] for r in rows[1:]] == [None, "成交"]  # a.3 had none, a.1 "sale"
