"""The e-mail outbox against a mail server that speaks SMTP on a real socket."""

from __future__ import annotations

import json
import socket

import pytest

from appliance.errors import ValidationError
from appliance.mail import Outbox, SmtpConfig, parse_addresses
from smtpserver import SmtpServer


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def outbox(tmp_path, port, clock=None, **config):
    return Outbox(tmp_path / "mail", SmtpConfig(host="127.0.0.1", port=port, security="none",
                                                sender="cc@shop.example", **config), clock=clock or Clock())


def test_a_message_with_its_pdf_arrives_whole(tmp_path, smtp):
    pdf = tmp_path / "2026-fax.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    box = outbox(tmp_path, smtp.port)
    key = box.queue(["a@shop.example", "b@shop.example"], "传真 from 010-5555", "3 pages", [pdf])
    assert (tmp_path / "mail" / f"{key}.json").exists()  # on disk before anything is sent
    assert box.deliver_due() == 1
    assert smtp.envelopes == [("cc@shop.example", ["a@shop.example", "b@shop.example"])]
    msg = smtp.messages[0]
    assert msg["Subject"] == "传真 from 010-5555" and msg["From"] == "cc@shop.example"
    body, attachment = list(msg.iter_parts())
    assert body.get_content().strip() == "3 pages"
    assert attachment.get_filename() == "2026-fax.pdf" and attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf.read_bytes()
    assert box.status() == {"enabled": True, "queued": 0, "failed": 0, "oldest_queued_minutes": None,
                            "last_error": ""}


def test_a_server_that_says_later_gets_it_later_and_nothing_is_lost(tmp_path, smtp):
    clock = Clock()
    box = outbox(tmp_path, smtp.port, clock)
    box.queue(["a@shop.example"], "message", "hello")
    smtp.refuse["DATA"] = "451 4.3.0 mailbox busy, try later"
    assert box.deliver_due() == 0
    status = box.status()
    assert status["queued"] == 1 and "451 4.3.0 mailbox busy" in status["last_error"]
    assert box.deliver_due() == 0 and smtp.messages == []  # not due yet: 60 s
    clock.now += 61
    del smtp.refuse["DATA"]
    reopened = outbox(tmp_path, smtp.port, clock)  # as after a restart
    assert reopened.deliver_due() == 1 and len(smtp.messages) == 1


def test_retries_back_off_and_end_after_the_retry_hours(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clock = Clock()
    box = outbox(tmp_path, port, clock, retry_hours=1)
    box.queue(["a@shop.example"], "s", "b")
    delays = []
    for _ in range(4):
        box.deliver_due()
        item = json.loads(next((tmp_path / "mail").glob("*.json")).read_text())
        delays.append(item["next_try"] - clock.now)
        clock.now = item["next_try"]
    assert delays == [60, 120, 240, 480]
    assert "cannot reach the mail server" in item["last_error"]
    clock.now += 3600
    box.deliver_due()
    assert box.status()["queued"] == 0 and box.status()["failed"] == 1
    assert "still failing after 1 h" in box.status()["last_error"]


@pytest.mark.parametrize("verb, answer", [("RCPT", "550 5.1.1 no such user"), ("MAIL", "553 5.7.1 sender refused")])
def test_a_permanent_refusal_is_failed_at_once_with_the_servers_words(tmp_path, smtp, verb, answer):
    smtp.refuse[verb] = answer
    box = outbox(tmp_path, smtp.port)
    box.queue(["nobody@shop.example"], "s", "b")
    assert box.deliver_due() == 0
    status = box.status()
    assert status["queued"] == 0 and status["failed"] == 1 and answer[4:] in status["last_error"]


def test_an_attachment_that_is_gone_fails_that_message_only(tmp_path, smtp):
    box = outbox(tmp_path, smtp.port)
    box.queue(["a@shop.example"], "gone", "b", [tmp_path / "deleted.pdf"])
    box.queue(["a@shop.example"], "fine", "b")
    assert box.deliver_due() == 1
    assert [m["Subject"] for m in smtp.messages] == ["fine"]
    assert "attachment deleted.pdf cannot be read" in box.status()["last_error"]


def test_an_unreadable_outbox_file_is_moved_aside(tmp_path, smtp):
    box = outbox(tmp_path, smtp.port)
    box.queue(["a@shop.example"], "fine", "b")
    (tmp_path / "mail" / "0-broken.json").write_text("{not json")
    assert box.deliver_due() == 1
    assert (tmp_path / "mail" / "failed" / "0-broken.json.unreadable").exists()


def test_mail_off_queues_nothing(tmp_path):
    box = Outbox(tmp_path / "mail", SmtpConfig(host=""))
    assert box.queue(["a@shop.example"], "s", "b") is None and not (tmp_path / "mail").exists()
    assert box.status()["enabled"] is False


def test_addresses():
    assert parse_addresses(" a@x.cn, b.c+d@y-z.com.cn;e@f.org ") == ["a@x.cn", "b.c+d@y-z.com.cn", "e@f.org"]
    assert parse_addresses("") == []
    for bad in ("a@", "@x.cn", "a b@x.cn>", "a@x..cn", "<a@x.cn>"):
        with pytest.raises(ValidationError) as info:
            parse_addresses(bad, "fax_email")
        assert info.value.code == "mail.bad_address" and "fax_email" in info.value.fields
    with pytest.raises(ValidationError, match="at most 10"):
        parse_addresses(",".join(f"u{i}@x.cn" for i in range(11)))


def test_health_is_down_while_a_message_waits_over_an_hour(tmp_path):
    clock = Clock()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = outbox(tmp_path, port, clock)
    assert box.health()["up"] and box.health()["state"] == "ok"
    box.queue(["a@shop.example"], "s", "b")
    box.deliver_due()
    clock.now += 3700
    health = box.health()
    assert not health["up"] and health["state"] == "stuck" and health["queued"] == 1
    assert Outbox(tmp_path / "off", SmtpConfig(host="")).health()["state"] == "off"


def test_a_queued_message_wakes_the_sender_and_retry_now_makes_waiting_ones_due(tmp_path, smtp):
    import gevent

    box = outbox(tmp_path, smtp.port, Clock())
    box.start(interval=3600)  # only a wake-up can send within this test
    try:
        smtp.refuse["DATA"] = "451 4.3.0 later"
        box.queue(["a@shop.example"], "first", "b")
        with gevent.Timeout(5):
            while not box.status()["last_error"]:
                gevent.sleep(0.05)
        del smtp.refuse["DATA"]
        assert box.retry_now() == 1
        with gevent.Timeout(5):
            while not smtp.messages:
                gevent.sleep(0.05)
        assert smtp.messages[0]["Subject"] == "first"
    finally:
        box.stop()


def test_sending_looks_no_name_up(tmp_path, smtp, monkeypatch):
    """smtplib asks DNS for the machine's full name (a reverse lookup) unless told its name."""
    def no_dns(*args):
        raise AssertionError(f"looked up {args}")

    for name in ("getfqdn", "gethostbyaddr", "getnameinfo"):
        monkeypatch.setattr(socket, name, no_dns)
    box = outbox(tmp_path, smtp.port)
    box.queue(["a@shop.example"], "missed call", "from 010-5555", [])
    assert box.deliver_due() == 1 and len(smtp.messages) == 1
