"""E-mail on the real Asterisk: a fax received on a DID with ``fax_email`` and a message a
caller leaves for a queue with ``voicemail_email`` reach a mail server that speaks SMTP on
a real socket, with the PDF and the MP3 attached, byte for byte what the appliance stored.
A mail server that is down when the fax arrives gets it once it is back: nothing is lost."""

from __future__ import annotations

import pytest

from appliance.db import models as m
from harness import configure_basic, sip_address, speak_after_the_beep, started, trunk_call, wait_until
from smtpserver import SmtpServer
from test_fax import FAX_DID, SENDER, fax_machine_calls, fax_of, fax_page
from test_voicemail import CALLER, message_of

pytestmark = pytest.mark.asterisk


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def mailing_appliance(make_appliance, smtp):
    return make_appliance(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                          mail_from="fax@shop.example")


def test_a_received_fax_is_emailed_with_its_pdf_even_if_the_mail_server_was_down(make_appliance, smtp):
    app = mailing_appliance(make_appliance, smtp)
    configure_basic(app)
    app.config.create("dids", {"number": FAX_DID, "fax": True, "fax_email": "office@shop.example, boss@shop.example"},
                      actor="test")
    smtp.refuse["MAIL"] = "421 4.3.2 service not available, closing channel"  # down for now
    fax_machine_calls(app, FAX_DID, [fax_page(1, 1000), fax_page(2, 1100)], f"Head office <{SENDER}>")
    fax = fax_of(SENDER)
    assert fax.state == "received", (fax.error_code, fax.detail)
    wait_until(lambda: app.mail.status()["last_error"], 30, "a failed delivery attempt")
    assert smtp.messages == [] and app.mail.status()["queued"] == 1
    assert app.health()["components"]["mail"]["state"] == "ok"  # waited less than an hour

    del smtp.refuse["MAIL"]  # back up; the next try would be 60 s after the first: now instead
    assert app.mail.retry_now() == 1
    msg = wait_until(lambda: smtp.messages[:1], 30, "the fax's e-mail")[0]
    assert smtp.envelopes[0] == ("fax@shop.example", ["office@shop.example", "boss@shop.example"])
    assert SENDER in msg["Subject"] and FAX_DID in msg["Subject"]
    attachment = next(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == (app.settings.data_dir / "fax" / fax.pdf_path).read_bytes()
    # the server keeps the message before its 250 reaches the sender, who then drops its copy
    wait_until(lambda: app.mail.status()["queued"] == 0, 10, "the sent mail leaving the outbox")


def test_a_message_left_for_a_queue_is_emailed_with_its_mp3(make_appliance, smtp, tmp_path):
    app = mailing_appliance(make_appliance, smtp)
    configure_basic(app)
    app.config.update("queues", "sales", {"voicemail": True, "max_wait_seconds": 2,
                                          "voicemail_email": "sales-team@shop.example"}, actor="test")
    app.config.update("dids", "88001000", {"fax_email": ""}, actor="test")
    started(app)
    call = trunk_call(sip_address(app), "88001000", CALLER, tmp_path / "sipp", hold_ms=3000,
                      scenario="trunk_call_message.xml").start()
    speak_after_the_beep(app, call)
    assert call.wait(60) == 0, call.errors()
    msg = message_of(CALLER)
    mail = wait_until(lambda: smtp.messages[:1], 60, "the message's e-mail")[0]  # sent at once: server up
    assert smtp.envelopes[0][1] == ["sales-team@shop.example"]
    assert CALLER in mail["Subject"] and "sales" in mail["Subject"]
    attachment = next(mail.iter_attachments())
    assert attachment.get_content_type() == "audio/mpeg"
    recording = m.Recording.get(m.Recording.linkedid == msg.recording_key)
    assert attachment.get_content() == app.recordings.audio_file(recording.linkedid).read_bytes()


def test_email_addresses_are_checked_when_saved(make_appliance, smtp):
    app = mailing_appliance(make_appliance, smtp)
    configure_basic(app)
    from appliance.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        app.config.update("queues", "sales", {"voicemail_email": "sales-team@, x"}, actor="test")
    assert "voicemail_email" in info.value.fields
    assert m.Queue.get(m.Queue.name == "sales").voicemail_email == ""
