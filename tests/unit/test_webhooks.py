"""Signed webhooks (appliance/services/webhooks.py) against a real HTTP receiver in this
process (http.server in a thread): signature, retry with backoff on a fake clock, order per
call, the outbox surviving a restart, the addresses refused, hostile receivers."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

import pytest

from peewee import fn

from appliance.bus import EventBus
from appliance.db import models as m
from appliance.db import open_database
from appliance.errors import ValidationError
from appliance.services.webhooks import UrlGuard, WebhookService, refused_address, retry_delay
from harness import wait_until
from test_mail import Clock  # the mail outbox's fake clock
from webharness import migrated
from webhook_receiver import LOOPBACK_OK, receiver  # noqa: F401 (a fixture)

@pytest.fixture
def env(tmp_path, receiver):
    receiver.reset()
    db = migrated(tmp_path / "hooks.db")
    clock = Clock()
    service = WebhookService(db, guard=UrlGuard(own=lambda: [], allowed=LOOPBACK_OK), clock=clock, timeout=1.0)
    yield type("Env", (), {"db": db, "clock": clock, "hooks": service, "receiver": receiver, "path": tmp_path})
    db.close()


def subscribe(env, events=("call.offered", "call.answered", "call.ended")):
    return env.hooks.create("admin", env.receiver.url, list(events))


def test_a_delivery_is_signed_and_carries_the_event(env):
    sub = subscribe(env)
    assert sub["secret"].startswith("whsec_") and "secret" not in env.hooks.subscription(sub["id"])
    event_id = env.hooks.emit("call.ended", {"linkedid": "1700.1", "caller": "13912345678"}, order_key="1700.1")
    assert env.hooks.emit("fax.received", {"did": "800"}) is None  # nobody wants it: nothing queued
    assert env.hooks.deliver_due() == 1
    [got] = env.receiver.got
    h, body = got["headers"], got["body"]
    assert got["path"] == "/hooks?x=1" and h["Content-Type"] == "application/json"
    assert h["X-CC-Webhook-Id"] == event_id and h["X-CC-Webhook-Timestamp"] == str(int(env.clock.now))
    expected = hmac.new(sub["secret"].encode(), h["X-CC-Webhook-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert h["X-CC-Webhook-Signature"] == "sha256=" + expected
    sent = json.loads(body)
    assert sent == {"id": event_id, "type": "call.ended", "created_at": "2027-01-15T08:00:00Z",
                    "data": {"linkedid": "1700.1", "caller": "13912345678"}}
    [row] = env.hooks.deliveries(sub["id"])
    assert row["state"] == "delivered" and row["attempts"] == 1 and row["last_status"] == 200
    assert env.hooks.deliver_due() == 0 and len(env.receiver.got) == 1  # delivered once
    env.clock.now += 6 * 86400
    assert env.hooks.prune() == 0  # kept a week for the page
    env.clock.now += 2 * 86400
    assert env.hooks.prune() == 1 and env.hooks.deliveries(sub["id"]) == []


def test_retried_with_backoff_until_the_receiver_recovers(env):
    sub = subscribe(env)
    env.receiver.status = 500
    env.hooks.emit("call.offered", {"linkedid": "1"}, order_key="1")
    waits = []
    for attempt in range(1, 5):
        assert env.hooks.deliver_due() == 0
        [row] = env.hooks.deliveries(sub["id"])
        assert row["state"] == "pending" and row["attempts"] == attempt and row["last_error"] == "HTTP 500: no"
        waits.append(m.WebhookDelivery.get().next_try - env.clock.now)
        env.hooks.deliver_due()  # not due yet: not tried
        assert len(env.receiver.got) == attempt
        env.clock.now += waits[-1]
    assert waits == [30, 60, 120, 240]
    assert retry_delay(20) == 3600  # capped at an hour
    env.receiver.status = 200
    assert env.hooks.deliver_due() == 1
    assert env.receiver.got[-1]["headers"]["X-CC-Webhook-Id"] == env.receiver.got[0]["headers"]["X-CC-Webhook-Id"]
    assert env.hooks.health()["up"] is True


def test_failed_for_good_after_24_hours_and_alarmed(env):
    sub = subscribe(env)
    env.receiver.status = 503
    env.hooks.emit("call.offered", {"linkedid": "1"}, order_key="1")
    start = env.clock.now
    while m.WebhookDelivery.get().state == "pending":
        env.clock.now = max(env.clock.now, m.WebhookDelivery.get().next_try)
        env.hooks.deliver_due()
        if env.clock.now - start < 3600:
            continue
        assert env.hooks.health()["up"] is False  # waiting more than an hour is alarmed already
    [row] = env.hooks.deliveries(sub["id"])
    assert row["state"] == "failed" and "still failing after 24 h" in row["last_error"]
    assert env.clock.now - start >= 24 * 3600 and row["attempts"] < 40  # about an hour apart at the end
    assert env.hooks.health() == {**env.hooks.health(), "state": "failed", "up": False, "failed_last_day": 1}


def test_a_calls_events_go_in_order(env):
    subscribe(env)
    first = {"n": 0}

    def status(body):  # the first call's first event fails once
        data = json.loads(body)
        if data["data"]["linkedid"] == "A" and data["type"] == "call.offered" and first["n"] == 0:
            first["n"] += 1
            return 500
        return 200
    env.receiver.status = status
    env.hooks.emit("call.offered", {"linkedid": "A"}, order_key="A")
    env.hooks.emit("call.answered", {"linkedid": "A"}, order_key="A")
    env.hooks.emit("call.offered", {"linkedid": "B"}, order_key="B")
    assert env.hooks.deliver_due() == 1  # B went; A's answer waits for A's offer
    assert [(json.loads(r["body"])["data"]["linkedid"], r["status"]) for r in env.receiver.got] == [("A", 500), ("B", 200)]
    env.clock.now += 30
    assert env.hooks.deliver_due() == 2
    delivered = [(json.loads(r["body"])["data"]["linkedid"], json.loads(r["body"])["type"])
                 for r in env.receiver.got if r["status"] == 200]
    assert delivered == [("B", "call.offered"), ("A", "call.offered"), ("A", "call.answered")]


def test_the_outbox_survives_a_restart_and_delivers_once(env):
    subscribe(env)
    env.hooks.emit("call.ended", {"linkedid": "R"}, order_key="R")
    env.db.close()  # the process stops before delivering
    db = open_database(env.path / "hooks.db")
    again = WebhookService(db, guard=UrlGuard(own=lambda: [], allowed=LOOPBACK_OK), clock=env.clock, timeout=1.0)
    assert again.deliver_due() == 1 and again.deliver_due() == 0
    assert env.receiver.types() == ["call.ended"]


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]:8080/x", "http://169.254.169.254/latest/meta-data",
                                 "http://192.0.2.2/", "https://loop.example.com/", "http://localhost:8080/",
                                 "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://[fe80::1]/",
                                 "ftp://crm.example.com/", "file:///etc/passwd", "javascript:alert(1)",
                                 "http://user:pw@crm.example.com/", "http:///nohost"])
def test_urls_refused(url, tmp_path):
    names = {"loop.example.com": "127.0.0.1", "crm.example.com": "198.51.100.7"}

    def resolve(host, port, type=0):
        ip = names.get(host, host)
        return [(2, 1, 6, "", (ip, port))]
    guard = UrlGuard(own=lambda: ["192.0.2.2", "fd00::2"], resolve=resolve)
    with pytest.raises(ValidationError) as exc:
        guard.check(url)
    assert exc.value.code == "webhooks.bad_url" and "url" in exc.value.fields
    assert guard.check("https://crm.example.com/hooks") == ("crm.example.com", 443, "198.51.100.7")
    assert refused_address("10.0.0.5") == "" and refused_address("fd00::2", own=["fd00::2"]) == "own_address"


def test_a_name_that_turns_to_loopback_is_refused_at_delivery(env):
    names = {"crm.example.com": "198.51.100.7"}
    env.hooks.guard = UrlGuard(own=lambda: [], resolve=lambda host, port, type=0: [(2, 1, 6, "", (names[host], port))])
    sub = env.hooks.create("admin", "http://crm.example.com/hooks", ["webhook.test"])
    names["crm.example.com"] = "127.0.0.1"  # DNS changed since it was saved
    env.hooks.send_test(sub["id"])
    assert env.hooks.deliver_due() == 0
    [row] = env.hooks.deliveries(sub["id"])
    assert row["state"] == "pending" and "loopback" in row["last_error"] and row["attempts"] == 1
    assert env.receiver.got == []


def test_a_huge_answer_is_not_read(env):
    sub = subscribe(env, ["webhook.test"])
    env.receiver.huge = True
    env.receiver.status = 500
    env.hooks.send_test(sub["id"])
    started = time.monotonic()
    env.hooks.deliver_due()
    env.receiver.status = 200
    env.clock.now += 30
    assert env.hooks.deliver_due() == 1
    assert time.monotonic() - started < 5  # 1 GB was promised twice; at most 1 KiB was read
    [row] = env.hooks.deliveries(sub["id"])
    assert row["state"] == "delivered" and row["attempts"] == 2


def test_a_receiver_that_never_answers_times_out(env):
    sub = subscribe(env, ["webhook.test"])
    env.receiver.hang = True
    env.hooks.send_test(sub["id"])
    started = time.monotonic()
    assert env.hooks.deliver_due() == 0
    assert time.monotonic() - started < 3
    [row] = env.hooks.deliveries(sub["id"])
    assert row["state"] == "pending" and row["last_error"] == "no answer within 1 s"


def test_the_bus_feeds_the_outbox(env):
    bus = EventBus()
    bus.taps.append(env.hooks.published)
    sub = subscribe(env, ["call.ended", "survey.scored"])
    m.Recording.create(linkedid="1700.9", state="complete", wav_path="a.wav", mp3_path="a.mp3")
    bus.publish("call", {"event": "offered", "linkedid": "1700.9"})  # not subscribed
    bus.publish("call", {"event": "ended", "linkedid": "1700.9", "caller": "13912345678", "agent": "8001",
                         "queue": "sales"})
    bus.publish("call", {"event": "survey", "linkedid": "1700.9", "score": 5})
    bus.publish("campaign", {"event": "finished", "campaign": 3, "entry": 9})  # not subscribed
    env.hooks.update("admin", sub["id"], active=False)
    bus.publish("call", {"event": "ended", "linkedid": "1700.10"})  # inactive: not queued
    assert env.hooks.deliver_due() == 2
    ended, survey = (json.loads(r["body"]) for r in env.receiver.got)
    assert ended["type"] == "call.ended" and ended["data"] == {
        "linkedid": "1700.9", "caller": "13912345678", "agent": "8001", "queue": "sales",
        "recording_url": "/api/v1/recordings/1700.9/audio"}
    assert survey["type"] == "survey.scored" and survey["data"]["score"] == 5


def test_the_worker_delivers_from_its_own_thread(env):
    sub = subscribe(env, ["webhook.test"])
    env.hooks.clock = time.time
    loop_thread = threading.get_native_id()
    seen = []
    deliver_due = env.hooks.deliver_due
    env.hooks.deliver_due = lambda: (seen.append(threading.get_native_id()), deliver_due())[1]
    env.hooks.start(interval=0.05)
    try:
        env.hooks.send_test(sub["id"])
        wait_until(lambda: env.receiver.got, 10, "the test event delivered")
    finally:
        env.hooks.stop()
    assert env.receiver.types() == ["webhook.test"]
    assert seen and loop_thread not in seen  # a native thread, not the loop's


def test_the_example_receiver_in_the_docs_verifies_the_signature(env):
    import re
    from http.server import HTTPServer
    from pathlib import Path

    text = Path(__file__).parents[2].joinpath("docs", "webhooks.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    code = code.replace('HTTPServer(("0.0.0.0", 8000), Hook).serve_forever()', "")
    example: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), example)
    server = HTTPServer(("127.0.0.1", 0), example["Hook"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        good = env.hooks.create("admin", url, ["webhook.test"])
        bad = env.hooks.create("admin", url, ["webhook.test"])
        example["SECRET"] = good["secret"].encode()
        env.hooks.clock = time.time  # the example checks the timestamp against its clock
        env.hooks.send_test(good["id"])
        env.hooks.send_test(bad["id"])  # signed with another secret: refused
        assert env.hooks.deliver_due() == 1
        assert env.hooks.deliveries(good["id"])[0]["state"] == "delivered"
        assert env.hooks.deliveries(bad["id"])[0]["last_error"] == "HTTP 401"
        assert len(example["seen"]) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_campaign_outcomes_only(env):
    bus = EventBus()
    bus.taps.append(env.hooks.published)
    subscribe(env, ["campaign.result"])
    bus.publish("campaign", {"event": "state", "campaign": 3, "state": "running"})  # not an outcome
    bus.publish("campaign", {"event": "dialling", "campaign": 3, "entry": 9})
    bus.publish("campaign", {"event": "finished", "campaign": 3, "entry": 9})
    assert env.hooks.deliver_due() == 1
    assert [json.loads(r["body"])["data"]["event"] for r in env.receiver.got] == ["finished"]


def test_voicemail_left_and_customers_created_or_changed(env):
    from appliance.services.crm import CustomerService, Viewer

    admin = Viewer("admin", "admin")

    subscribe(env, ["voicemail.left", "customer.created", "customer.changed", "recording.ready"])
    crm = CustomerService(env.db)
    crm.changed.append(env.hooks.customer_changed)
    created = crm.create(admin, {"name": "王芳", "phone": "13912345678"}, actor="admin")
    crm.update(admin, created["id"], {"category": "VIP"}, actor="admin")
    msg = m.VoiceMessage.create(linkedid="1700.5", recording_key="1700.5-msg", caller="13912345678", caller_name="",
                                did="800", queue="sales", agent="", reason="no-answer", created_at=m.utcnow(), note="")
    env.hooks.recording_ready("1700.5-msg")  # the pipeline finished the caller's message
    env.hooks.recording_ready("1700.5")  # and the call's recording
    assert env.hooks.deliver_due() == 4
    sent = [json.loads(r["body"]) for r in env.receiver.got]
    assert [s["type"] for s in sent] == ["customer.created", "customer.changed", "voicemail.left", "recording.ready"]
    assert sent[0]["data"]["name"] == "王芳" and sent[1]["data"]["category"] == "VIP" and "pin" not in json.dumps(sent[1]["data"]).replace("has_pin", "")
    assert sent[2]["data"]["audio_url"] == f"/api/v1/voice-messages/{msg.id}/audio"
    assert sent[2]["data"]["queue"] == "sales" and sent[3]["data"]["recording_url"] == "/api/v1/recordings/1700.5/audio"


def test_work_orders_opened_and_changed(env):
    subscribe(env, ["workorder.created", "workorder.changed"])
    env.hooks.workorder_changed("created", {"id": 7, "state": "new", "title": "Boiler leaks"})
    env.hooks.workorder_changed("changed", {"id": 7, "state": "on_site", "title": "Boiler leaks"})
    assert env.hooks.deliver_due() == 2
    sent = [json.loads(r["body"]) for r in env.receiver.got]
    assert [(s["type"], s["data"]["state"]) for s in sent] == [("workorder.created", "new"),
                                                               ("workorder.changed", "on_site")]
    assert {r.order_key for r in m.WebhookDelivery.select()} == {"workorder-7"}  # in order per order too


def test_faxes_sent_and_failed(env):
    from appliance.services.fax_out import FaxSender

    subscribe(env, ["fax.sent", "fax.failed"])
    sender = FaxSender(env.db, None, spool_dir=env.path / "spool", asterisk_spool="/x", store_dir=env.path / "fax")
    sender.finished.append(env.hooks.fax_finished)
    for n, attempts in ((1, 1), (2, 3)):
        m.Fax.create(linkedid=f"out-{n}", direction="outbound", state="sending", destination="02160001234",
                     attempts=attempts, max_attempts=3, pages=2)
    sender.report_sent("1-1", "SUCCESS", "2", "")
    sender.report_sent("2-3", "FAILED", "", "no carrier")  # its last attempt
    assert env.hooks.deliver_due() == 2
    sent = [json.loads(r["body"]) for r in env.receiver.got]
    assert [(s["type"], s["data"]["id"], s["data"]["state"]) for s in sent] == [("fax.sent", 1, "sent"),
                                                                                ("fax.failed", 2, "failed")]
    assert sent[0]["data"]["destination"] == "02160001234"


def test_a_receiver_that_is_down_costs_one_try_per_pass(env):
    sub = subscribe(env, ["webhook.test"])
    env.receiver.hang = True
    for _ in range(3):
        env.hooks.send_test(sub["id"])
    started = time.monotonic()
    assert env.hooks.deliver_due() == 0
    assert time.monotonic() - started < 2  # one timeout of 1 s, not three
    assert sorted(d["attempts"] for d in env.hooks.deliveries(sub["id"])) == [0, 0, 1]
    assert "no answer within 1 s" in {d["last_error"] for d in env.hooks.deliveries(sub["id"])}


def verified(got: dict, secret: str) -> bool:
    """The request's signature checks out under ``secret`` (as docs/webhooks.md's receiver checks it)."""
    h = got["headers"]
    mac = hmac.new(secret.encode(), h["X-CC-Webhook-Timestamp"].encode() + b"." + got["body"], hashlib.sha256)
    return hmac.compare_digest(h["X-CC-Webhook-Signature"], "sha256=" + mac.hexdigest())


def test_a_receiver_down_then_slow_then_failing_then_recovered_gets_every_event_once_in_order(env):
    """Issue 22 point 4 on one receiver of its own: connections refused (down), then answers
    after the sender's timeout (slow), then 500, then 2xx; events keep coming meanwhile."""
    from webhook_receiver import Receiver

    crm = Receiver()
    try:
        env.hooks.timeout = 0.3
        sub = env.hooks.create("admin", crm.url, ["call.offered", "call.answered", "call.ended"])
        calls = {}

        def call_events(linkedid):
            calls[linkedid] = [env.hooks.emit(f"call.{e}", {"linkedid": linkedid}, order_key=linkedid)
                               for e in ("offered", "answered", "ended")]

        def next_pass():  # the clock moves on to the next retry
            due = m.WebhookDelivery.select(fn.MIN(m.WebhookDelivery.next_try)).where(
                m.WebhookDelivery.state == "pending", m.WebhookDelivery.next_try > env.clock.now).scalar()
            env.clock.now = due or env.clock.now
            return env.hooks.deliver_due()

        crm.down()
        call_events("A")
        for _ in range(2):
            assert next_pass() == 0
        assert crm.got == [] and "cannot reach the receiver" in env.hooks.deliveries(sub["id"])[-1]["last_error"]

        crm.up()
        crm.delay = 0.6  # it answers 200, but after the sender has given up
        call_events("B")
        for _ in range(2):
            assert next_pass() == 0
        assert crm.got and all(g["delay"] for g in crm.got)
        assert "no answer within 0.3 s" in {d["last_error"] for d in env.hooks.deliveries(sub["id"])}

        crm.delay, crm.status = 0.0, 500
        call_events("C")
        for _ in range(2):
            assert next_pass() == 0
        assert any(g["status"] == 500 for g in crm.got)

        crm.status = 200
        for _ in range(20):
            next_pass()
            if not m.WebhookDelivery.select().where(m.WebhookDelivery.state == "pending").exists():
                break
        assert {d["state"] for d in env.hooks.deliveries(sub["id"])} == {"delivered"}

        secret = sub["secret"]
        assert all(verified(g, secret) for g in crm.got)  # every try signed, retries too
        acked = [g["headers"]["X-CC-Webhook-Id"] for g in crm.got if g["status"] == 200 and not g["delay"]]
        every = [e for ids in calls.values() for e in ids]
        assert sorted(acked) == sorted(every)  # every event acknowledged exactly once
        for n, g in enumerate(crm.got):  # and never sent again once acknowledged
            event = g["headers"]["X-CC-Webhook-Id"]
            assert event not in acked[:sum(1 for h in crm.got[:n] if h["status"] == 200 and not h["delay"])]
        for linkedid, ids in calls.items():  # a call's later event only after its earlier one was taken
            tried = [ids.index(g["headers"]["X-CC-Webhook-Id"]) for g in crm.got
                     if g["headers"]["X-CC-Webhook-Id"] in ids]
            assert tried == sorted(tried), linkedid
            assert [e for e in acked if e in ids] == ids, linkedid
        # what the slow receiver took late was sent again: receivers de-duplicate on the id
        late = {g["headers"]["X-CC-Webhook-Id"] for g in crm.got if g["delay"]}
        assert late and late <= set(acked)
    finally:
        crm.close()


def test_a_thousand_deliveries_to_a_hanging_receiver_never_hold_the_loop(env):
    """The mechanism behind bench/webhooks.py's figure: with 1,000 deliveries pending to a
    receiver that takes the connection and never answers, the worker blocks in its own native
    thread for its timeout, and a greenlet asking to wake every 10 ms is never held that long."""
    import gevent

    sub = subscribe(env, ["call.ended"])
    now = env.clock.now
    m.WebhookDelivery.insert_many([
        {"subscription": sub["id"], "event_id": f"e{i}", "type": "call.ended", "order_key": f"call.{i}",
         "body": "{}", "state": "pending", "attempts": 0, "created_at": now, "next_try": now, "last_error": ""}
        for i in range(1000)]).execute()
    env.receiver.hang = True
    env.hooks.timeout = 1.5
    loop_thread = threading.get_native_id()
    tried_in = []
    try_once = env.hooks._try
    env.hooks._try = lambda row: (tried_in.append(threading.get_native_id()), try_once(row))[1]
    late = [0.0]

    def tick():
        while True:
            asked = time.perf_counter()
            gevent.sleep(0.01)
            late[0] = max(late[0], time.perf_counter() - asked - 0.01)
    ticker = gevent.spawn(tick)
    env.hooks.start(interval=60)  # one pass in this test
    try:
        wait_until(lambda: m.WebhookDelivery.select().where(m.WebhookDelivery.attempts > 0).exists(), 20,
                   "the worker to try")
    finally:
        env.hooks.stop()
        ticker.kill()
        env.receiver.release.set()
    [tried] = m.WebhookDelivery.select().where(m.WebhookDelivery.attempts > 0)
    assert tried.last_error == "no answer within 1.5 s"  # the worker was held for its timeout ...
    assert tried_in and loop_thread not in tried_in  # ... in its own native thread ...
    assert late[0] < 1.0, late[0]  # ... and the loop went on meanwhile


def test_a_dead_receivers_backlog_does_not_hold_another_subscription(env):
    """Each subscription's oldest deliveries are tried: 300 waiting for a receiver that refuses
    connections (more than one pass takes) do not keep a newer event from a working one."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = env.hooks.create("admin", f"http://127.0.0.1:{s.getsockname()[1]}/", ["call.ended"])
    for i in range(300):
        env.hooks.emit("call.ended", {"linkedid": f"d.{i}"}, order_key=f"d.{i}")
    live = subscribe(env, ["webhook.test"])
    env.hooks.send_test(live["id"])
    assert env.hooks.deliver_due() == 1 and env.receiver.types() == ["webhook.test"]
    assert sum(d["attempts"] for d in env.hooks.deliveries(dead["id"], 300)) == 1  # one refused try per pass
