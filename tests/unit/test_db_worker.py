"""The export worker: a big export runs in a native thread with a connection of its own,
while the loop that serves calls goes on; both Excel exports (customers, call records) use it."""

from __future__ import annotations

import io
import threading

import gevent
import pytest
from openpyxl import load_workbook

from appliance.db import models as m
from appliance.db.worker import in_worker
from appliance.services.callrecords import CallRecords
from test_webui import env, sign_in  # noqa: F401  (env is a fixture)
from webharness import migrated


@pytest.fixture
def db(tmp_path):
    db = migrated(tmp_path / "w.db")
    yield db
    db.close()


def test_the_work_runs_off_the_loop_with_its_own_connection_and_its_error_comes_back(db):
    loop_thread = threading.get_ident()
    started, release = threading.Event(), threading.Event()
    ticks = []

    def work(n):
        started.set()
        release.wait(10)  # holds its thread, not the loop
        return threading.get_ident(), m.CallRecord.select().count() + n

    def loop_goes_on():
        started.wait(10)
        while not release.is_set():
            ticks.append(1)
            if len(ticks) >= 5:
                release.set()
            gevent.sleep(0.001)

    ticker = gevent.spawn(loop_goes_on)
    thread, count = in_worker(db, work, 7)
    ticker.join(10)
    assert thread != loop_thread and count == 7 and len(ticks) >= 5

    def broken():
        raise ValueError("no such sheet")

    with pytest.raises(ValueError, match="no such sheet"):
        in_worker(db, broken)


def test_the_call_records_export_runs_in_the_worker(env, monkeypatch):  # noqa: F811
    m.CallRecord.create(linkedid="x.1", caller="13900000001", agent="1001", queue="sales", disposition="answered",
                        enter_time=m.utcnow())
    loop_thread, threads = threading.get_ident(), []
    real = CallRecords.export

    def export(self, *args):
        threads.append(threading.get_ident())
        return real(self, *args)

    monkeypatch.setattr(CallRecords, "export", export)
    sign_in(env.app, "admin")
    res = env.app.get("/calls/export?queue=sales")
    assert res.content_type.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(res.body)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["x.1"]
    assert threads and threads[0] != loop_thread
