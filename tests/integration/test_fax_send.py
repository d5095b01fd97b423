"""Sending a fax from an uploaded PDF on the real Asterisk: the API takes a three-page PDF,
Ghostscript from the rootfs renders it, SendFAX sends it through a SIP trunk that leads
back into the same appliance's fax line, where ReceiveFAX stores it: the pages that arrive
are the PDF's, fax-sized, in order.  A busy number is tried again and then given up with a
clear reason; a damaged PDF, a non-PDF and an empty file are refused at once and leave
nothing behind."""

from __future__ import annotations

import re
import socket

import pytest
from pdffiles import pdf
import webtest

from appliance import proc
from appliance.db import models as m
from appliance.errors import ValidationError
from appliance.services.fax_out import FaxSender
from appliance.services.users import UserService
from harness import TRUNK_IP, Sipp, free_port, started, wait_until

pytestmark = pytest.mark.asterisk

FAX_DID = "88002000"


def pdf_of_pages(texts: list[str]) -> bytes:
    """A small valid PDF, one page per text (Helvetica, A4), with a correct xref table."""
    objects = ["<</Type/Catalog/Pages 2 0 R>>", ""]
    kids = []
    for text in texts:
        page_no, content_no = len(objects) + 1, len(objects) + 2
        stream = f"BT /F1 48 Tf 72 700 Td ({text}) Tj ET 0 0 0 rg 72 100 {40 * len(kids) + 40} 300 re f"
        objects.append(f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents {content_no} 0 R"
                       "/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>>>")
        objects.append(f"<</Length {len(stream)}>>stream\n{stream}\nendstream")
        kids.append(f"{page_no} 0 R")
    objects[1] = f"<</Type/Pages/Kids[{' '.join(kids)}]/Count {len(kids)}>>"
    return pdf(objects)


def ink_per_page(rootfs, pdf: bytes) -> list[float]:
    """The share of dark pixels on each page of a PDF, rendered by the rootfs's Ghostscript
    at a coarse 30 dpi onto A4 (a blank or garbled page shows as nothing or noise)."""
    pgm = proc.filter_through(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pgmraw", "-r30",
                               "-sPAPERSIZE=a4", "-dFitPage", "-sOutputFile={out}", "-"],
                              pdf, what="render a fax PDF for the test", rootfs=rootfs)
    shares = []
    while pgm:
        header = re.match(rb"P5\s+(?:#[^\n]*\n)*(\d+)\s+(\d+)\s+255\s", pgm)
        width, height = int(header[1]), int(header[2])
        pixels = pgm[header.end():header.end() + width * height]
        shares.append(sum(1 for p in pixels if p < 128) / len(pixels))
        pgm = pgm[header.end() + width * height:]
    return shares


def outbound(fax_id, states=("sent", "failed"), timeout=150):
    return wait_until(lambda: m.Fax.get_or_none((m.Fax.id == fax_id) & m.Fax.state.in_(states)), timeout,
                      f"sent fax {fax_id} in {states}")


def test_a_pdf_sent_through_the_api_arrives_as_a_fax_with_its_pages(make_appliance):
    app = make_appliance()
    port = app.settings.sip_port
    # a trunk that leads back into this appliance: the fax goes out and comes in over SIP/RTP
    app.config.create("trunks", {"name": "loop", "host": "127.0.0.1", "port": port, "match": "127.0.0.1"},
                      actor="test")
    app.config.create("dids", {"number": FAX_DID, "fax": True}, actor="test")
    app.start(web=True)
    wait_until(lambda: app.ami.connected, 30, "AMI to connect")
    admin = app.users.create("faxer", "fax-sender-pw", "agent")
    token = app.users.create_token(admin["id"], "test")
    api = webtest.TestApp(app.web.application)
    res = api.post("/api/v1/faxes", {"number": FAX_DID}, headers={"Authorization": f"Bearer {token}"},
                   upload_files=[("file", "offer.pdf", pdf_of_pages(["Page one", "Page two", "Page three"]))])
    assert res.status_int == 201 and res.json["state"] == "queued" and res.json["pages"] == 3, res.json
    sent = outbound(res.json["id"])
    assert (sent.state, sent.attempts, sent.created_by, sent.source_name) == ("sent", 1, "faxer", "offer.pdf"), (
        sent.error_code, sent.detail)
    received = wait_until(lambda: m.Fax.get_or_none((m.Fax.direction == "inbound") & (m.Fax.state == "received")),
                          60, "the fax received on the fax line")
    assert received.pages == 3 and received.did == FAX_DID
    pdf = (app.settings.data_dir / "fax" / received.pdf_path).read_bytes()
    sizes = [(int(w), int(h)) for w, h in re.findall(rb"/Subtype /Image /Width (\d+) /Height (\d+)", pdf)]
    assert [w for w, _ in sizes] == [1728, 1728, 1728] and all(2000 < h < 2400 for _, h in sizes), sizes
    # and they show what was sent: each page's ink, rendered by Ghostscript from either PDF
    sent_ink = ink_per_page(app.fax_sender.rootfs, pdf_of_pages(["Page one", "Page two", "Page three"]))
    received_ink = ink_per_page(app.fax_sender.rootfs, pdf)
    assert len(received_ink) == 3 and all(s * 0.7 < r < s * 1.3 for s, r in zip(sent_ink, received_ink)), (
        sent_ink, received_ink)
    assert not list((app.pbx.spool_dir / "fax-out").glob("*.tif"))  # its TIFF went once it was sent
    listed = api.get(f"/api/v1/faxes/{sent.id}", headers={"Authorization": f"Bearer {token}"}).json
    assert listed["direction"] == "outbound" and listed["destination"] == FAX_DID
    # the sending call is an outbound call record to that number (an "internal" call with no one before)
    record = wait_until(lambda: m.CallRecord.get_or_none(m.CallRecord.direction == "outbound"), 10, "its record")
    assert record.caller == FAX_DID and record.disposition == "answered", record.__data__
    assert not m.CallRecord.select().where(m.CallRecord.direction == "internal").exists()
    assert api.get(f"/api/v1/faxes/{sent.id}/pdf", headers={"Authorization": f"Bearer {token}"}).body.startswith(
        b"%PDF-1.4")


def test_a_busy_number_is_tried_again_then_given_up_with_the_reason(make_appliance, tmp_path):
    app = make_appliance(fax_attempts=2)
    carrier_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    app.config.create("trunks", {"name": "pstn", "host": TRUNK_IP, "port": carrier_port, "match": TRUNK_IP},
                      actor="test")
    started(app)
    app.fax_sender.retry_seconds = 1.0
    carrier = Sipp("trunk_busy.xml", TRUNK_IP, carrier_port, None, {}, tmp_path / "sipp", calls=2).start()
    app.users.create("alice", "fax-sender-pw", "agent")  # a fax follows its sender's calling permission
    job = app.fax_sender.submit(pdf_of_pages(["Busy"]), "busy.pdf", "02155550000", "alice")
    failed = outbound(job["id"], timeout=60)
    assert carrier.wait(20) == 0, carrier.errors()  # two INVITEs, both refused
    assert (failed.state, failed.error_code, failed.attempts) == ("failed", "fax.busy", 2), failed.detail
    assert "BUSY" in failed.detail
    assert not list((app.pbx.spool_dir / "fax-out").glob("*.tif"))


THREE_PAGES = pdf_of_pages(["Page one", "Page two", "Page three"])


@pytest.mark.parametrize("upload", [
    pdf_of_pages(["fine"])[:200] + b"\x00garbage" * 50,  # a PDF cut off and overwritten
    THREE_PAGES[:THREE_PAGES.index(b"Page two") + 5],  # cut short in page 2: page 1 alone would render
    b"PK\x03\x04 this is a zip, not a PDF",
    b"",
    b"%PDF-1.7\n%%EOF\n",  # a PDF with no page at all
], ids=["damaged", "cut-short", "not-a-pdf", "empty", "no-pages"])
def test_a_file_that_is_not_a_sendable_pdf_is_refused_and_nothing_kept(rootfs, tmp_path, upload):
    from appliance.db import open_database
    from appliance.db.migrate import migrate

    db = open_database(tmp_path / "fax.db")
    migrate(db)
    sender = FaxSender(db, None, spool_dir=tmp_path / "spool", asterisk_spool="/x", store_dir=tmp_path / "store",
                       rootfs=str(rootfs))
    UserService(db).create("alice", "fax-sender-pw", "agent")  # may send to 021 (long distance)
    with pytest.raises(ValidationError) as refused:
        sender.submit(upload, "contract.pdf", "02155550000", "alice")
    assert refused.value.code == "fax.bad_pdf" and "file" in refused.value.fields
    assert m.Fax.select().count() == 0
    assert not (tmp_path / "spool").exists() and not (tmp_path / "store").exists()
    db.close()
