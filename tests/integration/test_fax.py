"""Fax on the real Asterisk (res_fax_spandsp): a three-page fax sent with SendFAX into a
DID set for fax (over a Local channel, so the call takes the trunk path: FastAGI route,
cc-fax, ReceiveFAX) is stored as a PDF whose pages match the pages sent, in order; a
voice call to the fax number leaves a clear 'no fax' and nothing else changes."""

from __future__ import annotations

import re

import pytest

from appliance.db import models as m
from appliance.fax import tiff
from harness import configure_basic, sip_address, started, trunk_call, wait_until

pytestmark = pytest.mark.asterisk

FAX_DID = "88002000"
SENDER = "861088886666"


def fax_page(number: int, rows: int) -> list[bytes]:
    """A page with ``number`` thick bars and a diagonal, ``rows`` rows of 1728 dots."""
    page = []
    for r in range(rows):
        row = bytearray(216)
        if (r // 40) % 5 == 0 and r // 200 < number:
            row[20:100] = b"\xff" * 80
        row[(r // 8) % 216] |= 0x80 >> (r % 8)
        page.append(bytes(row))
    return page


def fax_of(caller, states=("received", "failed"), timeout=120):
    return wait_until(lambda: m.Fax.get_or_none((m.Fax.caller == caller) & m.Fax.state.in_(states)), timeout,
                      f"the fax from {caller}")


def fax_machine_calls(app, did: str, pages: list[list[bytes]], callerid: str) -> None:
    """Start the appliance and have a fax machine call ``did`` through the trunk path (a
    Local channel into cc-from-trunk) that sends ``pages`` with SendFAX once answered."""
    outgoing = app.pbx.spool_dir / "outgoing-fax"
    outgoing.mkdir(parents=True, exist_ok=True)
    (outgoing / "pages.tif").write_bytes(tiff.write_bilevel(pages))
    custom = app.settings.asterisk_dir / "etc" / "custom"
    custom.mkdir(parents=True, exist_ok=True)
    (custom / "extensions.conf").write_text(
        "[test-fax-sender]\n"
        f"exten => send,1,SendFAX({app.pbx.paths.spool}/outgoing-fax/pages.tif)\n"
        " same => n,Hangup()\n")
    started(app)
    app.ami.send_action("Originate", {"Channel": f"Local/{did}@cc-from-trunk", "Context": "test-fax-sender",
                                      "Exten": "send", "Priority": "1", "CallerID": callerid, "Async": "true"})


def fax_line(app):
    configure_basic(app)
    app.config.create("dids", {"number": FAX_DID, "fax": True}, actor="test")


def test_a_three_page_fax_arrives_as_a_pdf_with_the_pages_sent(make_appliance, tmp_path):
    app = make_appliance()
    fax_line(app)
    lengths = (1000, 1100, 1200)  # each page its own length: the PDF must have them in this order
    fax_machine_calls(app, FAX_DID, [fax_page(n + 1, rows) for n, rows in enumerate(lengths)],
                      f"Head office <{SENDER}>")
    fax = fax_of(SENDER)
    assert fax.state == "received", (fax.error_code, fax.detail)
    assert (fax.pages, fax.did, fax.caller_name) == (3, FAX_DID, "Head office")
    pdf = (app.settings.data_dir / "fax" / fax.pdf_path).read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) == fax.bytes
    images = re.findall(rb"/Subtype /Image /Width (\d+) /Height (\d+)", pdf)
    assert [(int(w), int(h)) for w, h in images] == [(1728, rows) for rows in lengths]
    assert pdf.count(b"/Type /Page ") == 3 and b"/Filter /CCITTFaxDecode" in pdf
    assert not list((app.pbx.spool_dir / "fax").glob("*.tif"))  # the TIFF went once the PDF was stored
    assert m.Recording.get_or_none(m.Recording.linkedid == fax.linkedid) is None  # a fax call is not recorded


def test_a_voice_call_to_the_fax_number_is_a_clear_no_fax(make_appliance, tmp_path):
    app = make_appliance()
    fax_line(app)
    started(app)
    call = trunk_call(sip_address(app), FAX_DID, "13912345678", tmp_path / "sipp", hold_ms=4000).start()
    assert call.wait(60) == 0, call.errors()
    fax = fax_of("13912345678")
    assert (fax.state, fax.error_code, fax.pages) == ("failed", "fax.no_fax", 0)
    record = wait_until(lambda: m.CallRecord.get_or_none(m.CallRecord.caller == "13912345678"), 10, "record")
    assert record.linkedid == fax.linkedid and record.route_rule == "fax"
    assert not list((app.pbx.spool_dir / "fax").glob("*.tif"))
