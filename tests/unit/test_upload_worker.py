"""The upload worker's own checks, in process (the process around them is tested with the fax
and the Excel import): a PDF's header, page tree and page sizes; a zip's account of itself;
cells as JSON and back."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile

import pytest

from appliance import upload_worker
from appliance.upload_worker import Refused, check_pdf, check_zip
from pdffiles import pdf


CATALOG = "<</Type/Catalog/Pages 2 0 R>>"
PAGE = "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>"


def test_a_pdf_with_pages_is_counted():
    assert check_pdf(pdf([CATALOG, "<</Type/Pages/Kids[3 0 R 4 0 R]/Count 2>>", PAGE, PAGE]), 100) == {
        "pages": 2, "encrypted": False}


@pytest.mark.parametrize("data, code, says", [
    (b"%!PS-Adobe-3.0\n%PDF-1.4\n{ } loop\n", "fax.bad_pdf", "PDF header"),  # PostScript mentioning %PDF-
    (b"junk\n" + pdf([CATALOG, "<</Type/Pages/Kids[3 0 R]/Count 1>>", PAGE]), "fax.bad_pdf", "PDF header"),
    (pdf([CATALOG, "<</Type/Pages/Kids[2 0 R 3 0 R]/Count 2>>", PAGE]), "fax.bad_pdf", "cyclic"),  # a tree that loops
    (pdf([CATALOG, "<</Type/Pages/Kids[3 0 R]/Count 1>>", PAGE.replace("595", "99999")]), "fax.bad_pdf",
     "99999 x 842"),
    (pdf([CATALOG, "<</Type/Pages/Kids[]/Count 0>>"]), "fax.bad_pdf", "no pages"),
    (pdf([CATALOG, "<</Type/Pages/Kids[3 0 R 4 0 R 5 0 R]/Count 3>>", PAGE, PAGE, PAGE]), "fax.too_many_pages",
     "3 pages, at most 2"),
    (b"%PDF-1.7\n%%EOF\n", "fax.bad_pdf", "not a readable PDF"),
])
def test_pdfs_that_must_not_reach_ghostscript(data, code, says):
    with pytest.raises(Refused) as refused:
        check_pdf(data, 2)
    assert refused.value.code == code and says in refused.value.message, refused.value.message


def zip_of(parts: dict[str, bytes]) -> zipfile.ZipFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


NOISE = random.Random(1).randbytes(5 << 20)
CAPS = {"max_members": 5, "max_expanded": 8 << 20, "max_ratio": 100, "max_shared_strings": 2 << 20}


@pytest.mark.parametrize("parts, says", [
    ({f"p{i}.xml": b"x" for i in range(6)}, "6 parts"),
    ({"a.bin": NOISE[:5 << 20], "b.bin": NOISE[:5 << 20]}, "unpacks to"),  # 10 MB that does not pack
    ({"xl/media/image1.png": bytes(4 << 20)}, "packed"),
    ({"xl/sharedStrings.xml": NOISE[:3 << 20]}, "bytes of text"),  # 3 MB of shared strings
])
def test_a_zip_that_says_it_unpacks_too_far_is_refused(parts, says):
    with pytest.raises(Refused) as refused:
        check_zip(zip_of(parts), **CAPS)
    assert refused.value.code == "import.too_large" and says in refused.value.message


def test_a_workbook_sized_zip_passes():
    check_zip(zip_of({"xl/worksheets/sheet1.xml": b"<row/>" * 1000, "xl/sharedStrings.xml": b"<si/>" * 100}),
              **CAPS)


def test_cells_go_as_text_and_dates_come_back():
    cells = [upload_worker.cell_text(v) for v in (13912345678.0, 1.5, True, None, "王芳",
                                                  dt.datetime(1990, 5, 1, 8, 30), dt.date(2001, 2, 3))]
    assert cells[:5] == ["13912345678", "1.5", "true", None, "王芳"]
    back = [upload_worker.decode_cell(upload_worker.encode_cell(c)) for c in cells]
    assert back == cells


def test_a_parsers_surprise_is_a_file_that_cannot_be_read(monkeypatch, capsys):
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"%PDF-1.4 whatever")))
    monkeypatch.setattr(upload_worker, "check_pdf", lambda data, pages: 1 / 0)
    assert upload_worker.main(["pdf", "--max-pages", "5"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert '"code": "fax.bad_pdf"' in last and "ZeroDivisionError" in last
