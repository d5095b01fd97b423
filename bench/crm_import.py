"""Benchmark: 100,000 customers from one Excel file through the API (issue 7's "100,000 rows
in reasonable time"), then the same file again, which every row refuses.

The web UI is the real Bottle app over a real SQLite file (``make_app`` with the services
tests/webdeps.py fills in, as the unit tier serves it), driven in process by WebTest with an
admin's API token: ``POST /api/v1/customers/import?confirm=1`` with a workbook of 100,000
rows (name, phone, tags on one row in ten, a custom field ``city`` on one in two). Figures:

- ``import of 100,000 customers``: the request, from sending it to its answer (the rows
  checked, checked again and inserted in one transaction);
- ``import refused, 100,000 rows already there``: the same file again (every row a
  duplicate: the report of 100,000 problems, the first 1,000 listed, nothing written).

The results are checked before anything is written (every row imported, the tags, a
search finding the last one; the second import refused whole). This was a unit test with
a 90 s bound (about 20 s on the development machine); the unit tier keeps the same checks
on a small file (tests/unit/test_crm_excel.py).

Not a test: it asserts nothing about speed, it measures.
"""

from __future__ import annotations

if __name__ == "__main__":  # this benchmark alone: gevent before anything else
    from gevent import monkey

    monkey.patch_all()

import io
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from bench.common import figure, write_results  # noqa: E402

ROWS = 100_000


def workbook(rows: int) -> bytes:
    """The file: name, phone, tags (``vip`` on one row in ten), city (on one in two)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("customers")
    sheet.append(["name", "phone", "tags", "city"])
    for i in range(rows):
        sheet.append([f"客户{i:06d}", 13900000000 + i, "vip" if i % 10 == 0 else None, "上海" if i % 2 else None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(rows: int | None = None, write: bool = True) -> Path | list[dict]:
    import webtest

    from appliance.bus import EventBus
    from appliance.db import models as m
    from appliance.db import open_database
    from appliance.db.migrate import migrate
    from appliance.services.config import ConfigService
    from appliance.services.crm import Viewer
    from appliance.services.users import UserService
    from webdeps import web_deps
    from webui.app import make_app

    rows = rows or int(os.environ.get("BENCH_IMPORT_ROWS", str(ROWS)))
    content = workbook(rows)
    with tempfile.TemporaryDirectory(prefix="bench-crm-import-") as tmp:
        db = open_database(Path(tmp) / "web.db")
        migrate(db)
        users = UserService(db)
        admin = users.create("admin", "bench-password-1", "admin", language="en")
        config = ConfigService(db)
        config.create("customer_fields", {"name": "city", "label": "City"}, actor="bench")
        deps = web_deps(db=db, config=config, users=users, agents=None, health=lambda: {}, live=lambda: {},
                        bus=EventBus(), events_max_seconds=1.0)
        app = webtest.TestApp(make_app(deps))
        headers = {"Authorization": "Bearer " + users.create_token(admin["id"], "bench")}

        began = time.perf_counter()
        res = app.post("/api/v1/customers/import?confirm=1", upload_files=[("file", "big.xlsx", content)],
                       headers=headers)
        imported = time.perf_counter() - began
        if (res.json["imported"], res.json["report"]["rows"]) != (rows, rows) or \
                m.Customer.select().count() != rows or m.CustomerTag.select().count() != (rows + 9) // 10:
            raise AssertionError(f"the import did not take every row: {res.json['report']}")
        last = f"客户{rows - 1:06d}"
        if deps.crm.search(Viewer("admin", "admin"), q=last)["items"][0]["phone"] != str(13900000000 + rows - 1):
            raise AssertionError(f"{last} is not found")

        began = time.perf_counter()
        again = app.post("/api/v1/customers/import?confirm=1", upload_files=[("file", "big.xlsx", content)],
                         headers=headers, expect_errors=True)
        refused = time.perf_counter() - began
        if again.status_int != 422 or again.json["report"]["error_count"] != rows or \
                m.Customer.select().count() != rows:
            raise AssertionError(f"the second import was not refused whole: {again.status_int}")
        db.close()
    size = len(content)
    figures = [figure(f"import of {rows:,} customers", imported, "s", rows=rows, file_bytes=size,
                      request="POST /api/v1/customers/import?confirm=1, WebTest in process"),
               figure(f"import refused, {rows:,} rows already there", refused, "s", rows=rows, file_bytes=size,
                      errors_listed=len(again.json["report"]["errors"]))]
    return write_results("crm-import", figures) if write else figures


if __name__ == "__main__":
    print(run())
