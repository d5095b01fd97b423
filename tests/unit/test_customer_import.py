"""The customer import's steps: headers guessed in either language, dates read as dates,
the mapping remembered per set of headers, the good rows imported with the others handed
back as a file (with why, in the user's language), the template, and the store that keeps
an upload between the steps for its session only."""

from __future__ import annotations

import datetime as dt
import io
import os
import time

import pytest
import webtest
from openpyxl import Workbook, load_workbook

from appliance.db import models as m
from appliance.errors import NotFound, Unavailable
from appliance.services.crm import CustomField, Viewer
from appliance.services.customer_excel import as_date, guess_columns, normalize_header, shown
from appliance.services.import_store import ImportStore
from test_crm import crm, make  # noqa: F401  (crm is a fixture)
from test_crm_excel import check, errors_of, upload, xlsx
from test_webui import env, sign_in  # noqa: F401  (env is a fixture)
from webui import i18n
from webui.areas.customer_import import column_aliases

CUSTOM = [CustomField("city", "城市", "text", False, ()), CustomField("birthday", "Birthday", "date", False, ()),
          CustomField("level", "会员等级", "choice", False, ("gold", "silver"))]


# -- guessing the columns -------------------------------------------------------------------
@pytest.mark.parametrize("headers,expected", [
    (["姓名", "手机", "分类", "坐席", "标签"], ["name", "phone", "category", "account_manager", "tags"]),
    (["名字", "电话", "客户经理", "Tags"], ["name", "phone", "account_manager", "tags"]),
    (["Name", "Phone", "Category", "Account manager"], ["name", "phone", "category", "account_manager"]),
    (["客户名称", "联系电话", "客户类别"], ["name", "phone", "category"]),
    # full-width letters, notes in brackets, stars and spaces do not hide a header
    (["＊姓名（必填）", " Mobile Number ", "TAG"], ["name", "phone", "tags"]),
    # words inside a header: the longest one wins (客户经理 over 客户, agent over name)
    (["客户姓名", "客户手机号", "Agent name", "Customer type"], ["name", "phone", "account_manager", "category"]),
    # custom fields by name or label, exactly or inside the header
    (["city", "所在城市", "birthday", "会员等级"], ["custom.city", None, "custom.birthday", "custom.level"]),
    (["所在城市", "生日 birthday"], ["custom.city", "custom.birthday"]),
    # each field once, unknown and empty headers unmatched
    (["姓名", "名字", "备注", None, ""], ["name", None, None, None, None]),
])
def test_headers_are_guessed_in_both_languages(headers, expected):
    assert guess_columns(headers, column_aliases(), CUSTOM) == expected


def test_the_fields_labels_in_both_languages_are_recognized():
    for lang in i18n.LANGUAGES:
        labels = [i18n.translate(lang, f"field.customers.{c}") for c in ("name", "phone", "category", "tags")]
        assert guess_columns(labels, column_aliases(), []) == ["name", "phone", "category", "tags"], lang


def test_normalize_header():
    assert normalize_header("  手机号码（必填）* ") == "手机号码"
    assert normalize_header("Ｐｈｏｎｅ [mobile]") == "phone"
    assert normalize_header(None) == ""


# -- dates ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value,expected", [
    (dt.datetime(2026, 1, 1, 0, 0), dt.date(2026, 1, 1)),
    (dt.date(2026, 3, 4), dt.date(2026, 3, 4)),
    ("2026-01-01 00:00:00", dt.date(2026, 1, 1)),
    ("2026-01-05T09:30", dt.date(2026, 1, 5)),
    ("2026/1/5", dt.date(2026, 1, 5)),
    ("2026.01.05", dt.date(2026, 1, 5)),
    ("2026年1月5日", dt.date(2026, 1, 5)),
    ("２０２６年１月５日", dt.date(2026, 1, 5)),
    ("20260105", dt.date(2026, 1, 5)),
    ("45123", dt.date(2023, 7, 16)),  # Excel's day number, as a Chinese date format leaves it
    (45123, dt.date(2023, 7, 16)),
    ("45123.75", dt.date(2023, 7, 16)),
    ("2026-02-30", "2026-02-30"),  # no such day: left for the field's check to refuse
    ("next week", "next week"),
    ("123", "123"),
    (None, None),
])
def test_date_like_values_become_dates(value, expected):
    assert as_date(value) == expected


def test_cells_are_shown_as_dates_not_timestamps():
    assert shown(dt.datetime(2026, 1, 1)) == "2026-01-01"
    assert shown(dt.datetime(2026, 1, 1, 9, 30)) == "2026-01-01 09:30"
    assert shown(dt.datetime(2026, 1, 1, 9, 30, 15)) == "2026-01-01 09:30:15"
    assert shown(dt.date(2026, 1, 1)) == "2026-01-01" and shown("x") == "x"


def test_date_columns_are_previewed_and_stored_as_dates(crm):  # noqa: F811
    content = xlsx([["姓名", "手机", "生日", "注册时间"],
                    ["王芳", "13900000001", 45123, dt.datetime(2026, 1, 1)],
                    ["李娜", "13900000002", "2026年1月5日", dt.datetime(2026, 1, 1, 9, 30)],
                    ["张伟", "13900000003", "2001-02-03 00:00:00", None]])
    res = check(crm, content, c2="custom.birthday", c3="custom.city")
    assert res.status_int == 200, errors_of(res)
    preview = res.html.find(id="preview").get_text(" ")
    assert "2023-07-16" in preview and "2026-01-05" in preview and "2001-02-03" in preview
    assert "45123" not in preview and "00:00:00" not in preview
    assert "2026-01-01 09:30" in preview and "2026-01-01 00:00" not in preview
    res.forms["confirm"].submit()
    got = {c["name"]: c["custom"] for c in crm.deps.crm.search(Viewer("admin", "admin"))["items"]}
    assert got["王芳"] == {"birthday": "2023-07-16", "city": "2026-01-01"}
    assert got["李娜"]["birthday"] == "2026-01-05" and got["张伟"] == {"birthday": "2001-02-03"}


# -- the steps through the pages --------------------------------------------------------------
def test_the_mapping_is_proposed_changed_and_remembered(crm):  # noqa: F811
    content = xlsx([["客户", "联系方式", "备注"], ["王芳", "13900000001", "老客户"]])
    page = upload(crm, content)
    form = page.forms["mapping"]
    assert [form[f"column.{i}"].value for i in range(3)] == ["name", "", ""]  # 联系方式 is no known word
    assert "remembered" not in page.text and page.text.count(i18n.translate("en", "import.not_matched")) == 2
    assert "13900000001" in page.html.find(attrs={"data-column": "1"}).get_text()  # its first values
    form["column.1"], form["column.2"] = "phone", "tags"
    res = form.submit()
    assert res.status_int == 200 and "1 rows checked: 1 good" in res.text
    # the same headers, in another order and case, next time: the choice made comes back
    again = upload(crm, xlsx([["备注", "联系方式", "客户"], ["x", "13900000002", "李娜"]]))
    assert again.html.find(id="remembered") is not None
    assert [again.forms["mapping"][f"column.{i}"].value for i in range(3)] == ["tags", "phone", "name"]
    # other headers: guessed again
    other = upload(crm, xlsx([["姓名", "手机"], ["李娜", "13900000002"]]))
    assert other.html.find(id="remembered") is None
    assert m.SiteSetting.select().where(m.SiteSetting.key.startswith("import_map.")).count() == 1


def test_the_good_rows_are_imported_and_the_others_come_back_with_why(crm):  # noqa: F811
    make(crm, "admin", name="Already", phone="13900000009")
    crm.users.set_language(crm.ids["admin"], "zh_CN")
    book = Workbook()
    for row in [["姓名", "手机", "生日"], ["王芳", "13900000001", dt.datetime(1990, 5, 1)], ["坏号码", "call me", None],
                ["老客户", "13900000009", "2026/1/5"], ["李娜", "13900000002", None], ["重复", "13900000001", "=1+1"]]:
        book.active.append(row)
    book.active["C6"].data_type = "s"  # text that looks like a formula
    out = io.BytesIO()
    book.save(out)
    content = out.getvalue()
    res = check(crm, content)
    assert res.status_int == 422 and "confirm" not in res.forms
    assert m.Customer.select().count() == 1  # a check stores nothing
    done = res.forms["import-good"].submit()
    assert i18n.translate("zh_CN", "crm.imported", n=2) in done.html.find(id="imported").get_text()
    assert {c.name for c in m.Customer.select()} == {"Already", "王芳", "李娜"}
    book = load_workbook(io.BytesIO(done.click(href="/rejected").body))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "手机", "生日", "未导入原因")
    assert [r[:3] for r in rows[1:]] == [("坏号码", "call me", None), ("老客户", "13900000009", "2026/1/5"),
                                         ("重复", "13900000001", "=1+1")]
    assert book.active["C4"].data_type == "s"  # text stays text: never a formula
    assert rows[1][3].startswith("手机: ") and rows[2][3] == "手机: " + i18n.translate("zh_CN", "field.existing_customer")
    assert rows[3][3] == "手机: " + i18n.translate("zh_CN", "field.same_phone", n=2)
    # once imported, the upload cannot be imported again; the rejected rows stay downloadable
    again = crm.app.post(res.forms["import-good"].action, {"csrf_token": res.forms["import-good"]["csrf_token"].value,
                                                          "mode": "good"}, expect_errors=True)
    assert again.status_int == 404 and m.Customer.select().count() == 3


def test_all_or_nothing_stays_the_default(crm):  # noqa: F811
    res = check(crm, xlsx([["name", "phone"], ["A", "13900000001"], ["B", "bad"]]))
    assert res.status_int == 422
    token_form = res.forms["import-good"]
    done = crm.app.post(token_form.action, {"csrf_token": token_form["csrf_token"].value}, expect_errors=True)
    assert done.status_int == 422 and m.Customer.select().count() == 0  # no mode: all or nothing


def test_an_upload_belongs_to_its_session(crm):  # noqa: F811
    res = upload(crm, xlsx([["name", "phone"], ["A", "13900000001"]]))
    url = res.request.path
    other = webtest.TestApp(crm.app.app)
    sign_in(other, "admin").follow()  # the same user, another session
    assert other.get(url, expect_errors=True).status_int == 404
    assert other.get(url + "/rejected", expect_errors=True).status_int == 404


def test_the_template_is_in_the_users_language_and_imports_back(crm):  # noqa: F811
    for lang in i18n.LANGUAGES:
        crm.users.set_language(crm.ids["admin"], lang)
        page = upload(crm, xlsx([["name", "phone"], ["A", "1390000000" + str(i18n.LANGUAGES.index(lang))]]))
        body = page.click(href="/customers/import/template").body
        book = load_workbook(io.BytesIO(body))
        sheet, notes = book.worksheets
        header = [c.value for c in sheet[1]]
        assert header[:6] == [i18n.translate(lang, f"field.customers.{c}")
                              for c in ("name", "phone", "category", "account_manager", "tags", "email")]
        assert header[6:] == ["City", "Budget", "Birthday", "Level"]  # the custom fields' labels
        sample = [c.value for c in sheet[2]]
        assert sample[0] == i18n.translate(lang, "import.sample.name") and sample[9] == "gold"
        assert sample[8] == dt.datetime(2026, 1, 15) and sheet["I2"].is_date
        described = {r[0]: r for r in notes.iter_rows(min_row=2, values_only=True) if r and r[0]}
        assert described[header[1]][1] == i18n.translate(lang, "import.yes")
        assert described["Birthday"][2] == i18n.translate(lang, "import.note.date")
        assert described["Level"][2] == i18n.translate(lang, "import.note.choice", choices="gold, silver")
        # its headers are recognized as they are
        mapping = upload(crm, body).forms["mapping"]
        assert [mapping[f"column.{i}"].value for i in range(10)] == [
            "name", "phone", "category", "account_manager", "tags", "email", "custom.city", "custom.budget",
            "custom.birthday", "custom.level"]


# -- the store between the steps --------------------------------------------------------------
def test_the_store_expires_caps_and_keeps_to_its_owner(tmp_path):
    store = ImportStore(tmp_path, keep_seconds=60, per_owner=2, max_bytes=1000)
    first = store.keep("me", "a.xlsx", b"x" * 100, headers=["h"])
    assert store.sheet(first, "me") == b"x" * 100 and store.meta(first, "me")["headers"] == ["h"]
    with pytest.raises(NotFound):
        store.meta(first, "someone else")
    second = store.keep("me", "b.xlsx", b"y" * 100)
    third = store.keep("me", "c.xlsx", b"z" * 100)  # at most two each: the oldest goes
    with pytest.raises(NotFound):
        store.sheet(first, "me")
    assert store.sheet(second, "me") and store.sheet(third, "me")
    with pytest.raises(Unavailable):  # the folder's cap
        store.keep("you", "d.xlsx", b"w" * 800)
    old = time.time() - 120
    for path in tmp_path.glob(f"{second}*"):
        os.utime(path, (old, old))
    store.keep("you", "e.xlsx", b"v" * 10)  # a new upload clears what expired
    assert not list(tmp_path.glob(f"{second}*"))
    store.imported(third, "me", b"rejected rows", imported=1)
    assert store.rejected(third, "me")[1] == b"rejected rows"
    with pytest.raises(NotFound):
        store.sheet(third, "me")  # imported: it cannot be imported twice
    with pytest.raises(NotFound):
        store.meta("../../etc/passwd", "me")


def test_a_first_row_too_wide_to_be_headers_is_refused_clearly(crm):  # noqa: F811
    res = upload(crm, xlsx([[f"c{i}" for i in range(201)], ["x"] * 201]))
    assert res.status_int == 422 and "mapping" not in res.forms
    assert i18n.error_message("en", "import.too_many_columns", 422, {"n": 200}) in res.text
    assert "more than 200 columns" in res.text


def test_a_date_in_a_chinese_excel_date_format_reads_as_a_date(crm):  # noqa: F811
    """Chinese Excel stores a typed date with the built-in format 31 (yyyy"年"m"月"d"日"), which
    openpyxl does not know: without help the cell reads as its day number, 45123."""
    import re
    import zipfile

    book = Workbook()
    book.active.append(["姓名", "手机", "入会"])
    book.active.append(["王芳", "13900000001", dt.datetime(2023, 7, 16)])
    book.active["C2"].number_format = 'yyyy"年"m"月"d"日"'
    out = io.BytesIO()
    book.save(out)
    patched = io.BytesIO()
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(patched, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/styles.xml":  # as Excel writes it: the built-in id, no custom format
                data = re.sub(rb'numFmtId="16\d"', b'numFmtId="31"', re.sub(rb"<numFmts.*?</numFmts>", b"", data))
            dst.writestr(item, data)
    crm.users.set_language(crm.ids["admin"], "zh_CN")
    page = upload(crm, patched.getvalue())
    assert "2023-07-16" in page.html.find(attrs={"data-column": "2"}).get_text()
    res = check(crm, patched.getvalue(), c2="custom.city")  # a text column: the date as it shows
    assert "2023-07-16" in res.html.find(id="preview").get_text() and "45123" not in res.text
