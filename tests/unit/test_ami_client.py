"""The gevent AMI client against an in-process AMI server speaking the real wire format:
correlation, event lists, bad frames, lost connections and reconnects."""

from __future__ import annotations

import gevent
import pytest
from gevent.event import Event
from gevent.server import StreamServer

from appliance.ami.client import AmiClient, AmiDisconnected, AmiNotConnected, AmiTimeout
from appliance.ami.codec import Decoder, HeaderInjection
from harness import wait_until

SECRET = "s3cret"


class FakeAmi:
    """Enough of Asterisk's manager to exercise the client; every byte is real AMI."""

    def __init__(self):
        self.server = StreamServer(("127.0.0.1", 0), self._serve)
        self.conns = []
        self.actions = []
        self.logins = 0
        self.silent = set()  # action names left unanswered
        self.globals = {}  # what Getvar answers
        self.after_login = b""  # sent right after a successful login (Asterisk's FullyBooted)
        self.connected = Event()

    def start(self):
        self.server.start()
        return self

    @property
    def port(self):
        return self.server.server_port

    def stop(self):
        self.server.stop(timeout=1)

    def push(self, raw: bytes):
        self.conns[-1].sendall(raw)

    def event(self, name, **headers):
        self.push(frame(Event=name, **headers))

    def drop(self):
        conn = self.conns[-1]
        conn.shutdown(2)
        conn.close()

    def _serve(self, conn, _addr):
        self.conns.append(conn)
        conn.sendall(b"Asterisk Call Manager/9.0.0\r\n")
        decoder = Decoder()
        decoder.banner = ""
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                for f in decoder.feed(data):
                    self._answer(conn, f)
        except OSError:
            return

    def _answer(self, conn, f):
        action, aid = f.get("Action"), f.get("ActionID")
        self.actions.append(f)
        if action in self.silent:
            return
        if action == "Login":
            if f.get("Secret") == SECRET:
                self.logins += 1
                conn.sendall(frame(Response="Success", ActionID=aid, Message="Authentication accepted")
                             + self.after_login)
                self.connected.set()
            else:
                conn.sendall(frame(Response="Error", ActionID=aid, Message="Authentication failed"))
        elif action == "Ping":
            gevent.sleep(0.001 * (hash(aid) % 5))  # answers in a shuffled order
            conn.sendall(frame(Response="Success", ActionID=aid, Ping="Pong", Echo=f.get("Echo") or ""))
        elif action == "Getvar":
            name = f.get("Variable")
            conn.sendall(frame(Response="Success", ActionID=aid, Variable=name, Value=self.globals.get(name, "")))
        elif action == "QueueStatus":
            conn.sendall(frame(Response="Success", ActionID=aid, EventList="start", Message="Queue status will follow")
                         + frame(Event="QueueMember", ActionID=aid, Queue="sales", Name="1001")
                         + frame(Event="Newchannel", Channel="PJSIP/x-1")  # an ordinary event in between
                         + frame(Event="QueueMember", ActionID=aid, Queue="sales", Name="1002")
                         + frame(Event="QueueStatusComplete", ActionID=aid, EventList="Complete", ListItems="2"))
        else:
            conn.sendall(frame(Response="Error", ActionID=aid, Message="Invalid/unknown command"))


def frame(**headers) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()


@pytest.fixture
def ami():
    server = FakeAmi().start()
    yield server
    server.stop()


@pytest.fixture
def client_for(ami):
    made = []

    def make(secret=SECRET, **kw):
        events, calls = [], []
        c = AmiClient("127.0.0.1", ami.port, "appliance", secret, on_event=events.append,
                      on_connect=lambda cl: calls.append("connect"), on_disconnect=lambda cl: calls.append("disconnect"),
                      backoff=(0.05, 0.2), **kw)
        c.events, c.calls = events, calls
        made.append(c)
        c.start()
        return c

    yield make
    for c in made:
        c.stop()


def test_login_and_many_concurrent_actions_are_correlated(ami, client_for):
    c = client_for()
    assert c.wait_connected(5) and c.connected and c.banner == "Asterisk Call Manager/9.0.0"
    wait_until(lambda: c.calls == ["connect"], 5, "on_connect")
    jobs = [gevent.spawn(c.send_action, "Ping", {"Echo": str(i)}) for i in range(50)]
    gevent.joinall(jobs, raise_error=True)
    assert [j.value.get("Echo") for j in jobs] == [str(i) for i in range(50)]
    login = ami.actions[0]
    assert (login.get("Action"), login.get("Username"), login.get("Events")) == ("Login", "appliance", "on")
    assert len({f.get("ActionID") for f in ami.actions}) == 51


def test_wrong_secret_is_auth_failed_and_retried_quietly(ami, client_for):
    c = client_for(secret="wrong")
    wait_until(lambda: c.state == "auth_failed", 5, "auth_failed")
    assert not c.connected and "s3cret" not in repr(c) and "wrong" not in repr(c)
    with pytest.raises(AmiNotConnected):
        c.send_action("Ping")


def test_error_responses_are_returned(client_for):
    c = client_for()
    c.wait_connected(5)
    assert c.send_action("NoSuchThing").name == "Error"


def test_event_list_collects_its_events_and_passes_the_rest_on(client_for):
    c = client_for()
    c.wait_connected(5)
    response, members = c.send_action_list("QueueStatus", {"Queue": "sales"})
    assert response.name == "Success"
    assert [m.get("Name") for m in members] == ["1001", "1002"]
    assert [e.name for e in c.events] == ["Newchannel"]


def test_events_arrive_in_order(ami, client_for):
    c = client_for()
    c.wait_connected(5)
    ami.push(b"".join(frame(Event="UserEvent", Seq=str(i)) for i in range(500)))
    wait_until(lambda: len(c.events) == 500, 5, "500 events")
    assert [e.get("Seq") for e in c.events] == [str(i) for i in range(500)]


def test_malformed_frame_is_logged_skipped_and_counted(ami, client_for, caplog):
    c = client_for()
    c.wait_connected(5)
    ami.push(b"Event: Broken\r\nno colon on this line\r\n\r\n")
    ami.event("Hangup", Channel="PJSIP/x-1")
    wait_until(lambda: [e.name for e in c.events] == ["Hangup"], 5, "next event")
    assert c.stats.malformed == 1 and c.connected
    assert "AMI: malformed frame skipped" in caplog.text
    assert c.send_action("Ping").get("Ping") == "Pong"


def test_handler_exception_is_counted_and_reading_goes_on(ami, client_for):
    c = client_for()
    c.wait_connected(5)
    seen = []

    def handler(event):
        if event.get("Boom"):
            raise RuntimeError("handler bug")
        seen.append(event.name)

    c.on_event = handler
    ami.event("UserEvent", Boom="1")
    ami.event("Hangup")
    wait_until(lambda: seen == ["Hangup"], 5, "event after the failing one")
    assert c.stats.handler_errors == 1


def test_dropped_connection_fails_pending_and_reconnects(ami, client_for):
    c = client_for()
    c.wait_connected(5)
    ami.silent.add("Ping")
    waiting = gevent.spawn(c.send_action, "Ping", None, 10)
    wait_until(lambda: any(f.get("Action") == "Ping" for f in ami.actions), 5, "Ping on the wire")
    ami.drop()
    with pytest.raises(AmiDisconnected):
        waiting.get(timeout=5)
    wait_until(lambda: c.stats.reconnects == 1 and c.connected, 5, "reconnected")
    assert ami.logins == 2
    wait_until(lambda: c.calls == ["connect", "disconnect", "connect"], 5, "callbacks")
    ami.silent.clear()
    assert c.send_action("Ping").get("Ping") == "Pong"


def test_socket_dying_under_the_client_reconnects(ami, client_for):
    c = client_for()
    c.wait_connected(5)
    c._sock.shutdown(2)
    wait_until(lambda: c.stats.reconnects == 1 and c.connected, 5, "reconnected")


def test_server_down_then_up(ami, client_for):
    port = ami.port
    ami.stop()
    c = AmiClient("127.0.0.1", port, "appliance", SECRET, backoff=(0.05, 0.1))
    c.start()
    try:
        wait_until(lambda: c.last_error, 5, "a refused connect")
        assert c.state in ("connecting", "disconnected") and not c.connected
        again = FakeAmi()
        again.server = StreamServer(("127.0.0.1", port), again._serve)
        again.start()
        assert c.wait_connected(5)
        again.stop()
    finally:
        c.stop()


def test_header_injection_is_refused_before_anything_is_written(ami, client_for):
    c = client_for()
    c.wait_connected(5)
    before = len(ami.actions)
    with pytest.raises(HeaderInjection):
        c.send_action("Originate", {"CallerID": "x\r\nAction: Command\r\nCommand: core stop now"})
    # one connection, read in order: once the server has answered a Ping sent after it, any
    # byte of the refused action would have reached the server before
    assert c.send_action("Ping").get("Ping") == "Pong"
    assert [f.get("Action") for f in ami.actions[before:]] == ["Ping"]
    assert c.stats.actions_sent == 2  # the Login and the Ping


def test_timeout(ami, client_for):
    c = client_for()
    c.wait_connected(5)
    ami.silent.add("Ping")
    with pytest.raises(AmiTimeout):
        c.send_action("Ping", timeout=0.2)
    assert c._pending == {}


def test_late_response_is_counted_as_unmatched(ami, client_for):
    c = client_for()
    c.wait_connected(5)
    ami.push(frame(Response="Success", ActionID="nobody-1"))
    wait_until(lambda: c.stats.unmatched_responses == 1, 5, "unmatched")


def test_stop_is_idempotent_and_final(ami, client_for):
    c = client_for()
    c.wait_connected(5)
    runner = c._runner
    c.stop()
    c.stop()
    assert c.state == "stopped"
    assert runner.dead  # the only loop that connects and logs in is over: no later login can come
    assert ami.logins == 1 and c.state == "stopped"
    with pytest.raises(AmiNotConnected):
        c.send_action("Ping")


def test_identity_checked_after_login_and_early_events_held_until_it_passes(ami, client_for):
    ami.globals["CC_INSTANCE"] = "ours"
    ami.after_login = frame(Event="FullyBooted", Status="Fully Booted") + frame(Event="Newchannel", Channel="A")
    c = client_for(identity=lambda: ("CC_INSTANCE", "ours"))
    assert c.wait_connected(5)
    wait_until(lambda: len(c.events) == 2, 5, "the held events")
    assert [e.get("Event") for e in c.events] == ["FullyBooted", "Newchannel"]
    assert [f.get("Action") for f in ami.actions[:2]] == ["Login", "Getvar"]
    assert c.last_error is None


def test_an_asterisk_without_our_token_is_hung_up_on_and_retried(ami, client_for, caplog):
    ami.globals["CC_INSTANCE"] = "an-earlier-start"
    ami.after_login = frame(Event="FullyBooted", Status="Fully Booted")
    expected = ["ours"]
    c = client_for(identity=lambda: ("CC_INSTANCE", expected[0]))
    wait_until(lambda: ami.logins >= 3, 5, "three tries")
    assert not c.connected and c.events == [] and c.calls == []  # nothing of the stranger's reached us
    assert "CC_INSTANCE is 'an-earlier-start', expected 'ours'" in c.last_error
    assert sum("is not the one this appliance started" in r.message for r in caplog.records) == 1  # logged once
    ami.globals["CC_INSTANCE"] = "ours"  # our Asterisk on the port now
    assert c.wait_connected(5) and c.last_error is None
    wait_until(lambda: [e.get("Event") for e in c.events] == ["FullyBooted"], 5, "its FullyBooted")
