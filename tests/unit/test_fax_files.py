"""Fax files, pure (TIFF pages read and written, the PDF around them) and the fax service
over a real database and folders: a received TIFF becomes a stored PDF; no fax, or a file
that is not one, is a clear failure with nothing else lost."""

from __future__ import annotations

import re

import pytest
from test_webui import env  # noqa: F401  (env is a fixture)

from appliance.db.models import Fax
from appliance.fax import tiff
from appliance.services.fax import FaxService

WHITE, BLACK = bytes(216), b"\xff" * 216


def three_pages() -> bytes:
    return tiff.write_bilevel([[WHITE] * 10, [BLACK] * 20, [WHITE, BLACK] * 15])


def test_pages_written_read_back_and_wrapped_in_a_pdf():
    pages = tiff.read_pages(three_pages())
    assert [(p.width, p.length, p.compression, p.x_dpi, p.y_dpi) for p in pages] == [
        (1728, 10, 1, 204.0, 196.0), (1728, 20, 1, 204.0, 196.0), (1728, 30, 1, 204.0, 196.0)]
    assert pages[1].data == BLACK * 20
    pdf = tiff.to_pdf(pages)
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    assert re.findall(rb"/Height (\d+)", pdf) == [b"10", b"20", b"30"]
    assert b"/Count 3" in pdf
    xref = int(re.search(rb"startxref\n(\d+)", pdf).group(1))
    assert pdf[xref:xref + 4] == b"xref"  # the cross-reference table is where the trailer says
    for number, offset in enumerate(re.findall(rb"(\d{10}) 00000 n", pdf), 1):
        assert pdf[int(offset):].startswith(b"%d 0 obj" % number)


def test_t4_pages_keep_their_coding_in_the_pdf():
    page = tiff.Page(width=1728, length=2, compression=tiff.T4, t4_options=5, x_dpi=204, y_dpi=98,
                     data=b"\x00\x01\xa0", black_is_1=False, lsb_first=True)
    pdf = tiff.to_pdf([page])
    assert (b"/Filter /CCITTFaxDecode /DecodeParms << /K 1 /Columns 1728 /Rows 2 /EndOfLine true "
            b"/EncodedByteAlign true" in pdf)  # the EOLs said: without, byte-aligned pages decoded blank
    assert b"\x00\x80\x05" in pdf  # fill order 2: bits reversed into PDF's order


@pytest.mark.parametrize("data, problem", [
    (b"", "not a TIFF"), (b"%PDF-1.4 not a fax", "not a TIFF"), (three_pages()[:60], "truncated"),
    (three_pages()[:-200], "truncated"),
    (b"II*\x00\x08\x00\x00\x00" + b"\x00\x00" + b"\x00\x00\x00\x00", "no image data"),  # a page of nothing
    (three_pages()[:-4] + three_pages()[4:8], "loop"),  # the last page leads back to the first
])
def test_files_that_are_not_fax_pages_are_refused(data, problem):
    with pytest.raises(tiff.FaxFileError) as refused:
        tiff.read_pages(data)
    assert refused.value.code == "fax.bad_file" and problem in str(refused.value), refused.value


def test_the_fax_service_stores_the_pdf_and_reports_no_fax_or_a_bad_file(env, tmp_path):  # noqa: F811
    faxes = FaxService(env.db, tmp_path / "spool", "/appliance/spool/fax", tmp_path / "store")
    assert faxes.begin("1.1", "88002000", caller="861088886666") == "/appliance/spool/fax/1.1.tif"
    (tmp_path / "spool" / "1.1.tif").write_bytes(three_pages())
    assert faxes.finish("1.1") == "received"
    row = Fax.get(Fax.linkedid == "1.1")
    assert row.pages == 3 and faxes.pdf_file(row.id).read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "spool" / "1.1.tif").exists()

    faxes.begin("1.2", "88002000", caller="139")  # a person called the fax number
    assert faxes.finish("1.2") == "failed" and Fax.get(Fax.linkedid == "1.2").error_code == "fax.no_fax"

    faxes.begin("1.3", "88002000", caller="139")
    (tmp_path / "spool" / "1.3.tif").write_bytes(b"II*\x00garbage")
    assert faxes.finish("1.3") == "failed" and Fax.get(Fax.linkedid == "1.3").error_code == "fax.bad_file"
    assert (tmp_path / "spool" / "1.3.tif").exists()  # kept for a person to look at
    assert faxes.begin("../etc", "88002000") is None  # never a path from call data
    assert [f["linkedid"] for f in faxes.search()] == ["1.3", "1.2", "1.1"]
