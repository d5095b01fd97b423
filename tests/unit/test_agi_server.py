"""The FastAGI server and session, against a fake Asterisk that speaks the real wire protocol."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import gevent
import pytest
from gevent import socket
from gevent.event import Event

from appliance.agi.handlers import HandlerRegistry, ping
from appliance.agi.protocol import AgiCommandError, AgiCommandTimeout, AgiHangup, AgiProtocolError, AgiRequest
from appliance.agi.server import FastAgiServer
from appliance.agi.session import AgiSession, SocketStream

OK = b"200 result=1\n"


def header(script: str, uniqueid: str = "1700000000.1", channel: str = "PJSIP/trunk-pstn-00000001") -> bytes:
    lines = [
        "agi_network: yes",
        f"agi_network_script: {script}",
        f"agi_request: agi://127.0.0.1:4573/{script}",
        f"agi_channel: {channel}",
        "agi_language: en",
        "agi_type: PJSIP",
        f"agi_uniqueid: {uniqueid}",
        "agi_version: 22.1.0",
        "agi_callerid: 13912345678",
        "agi_calleridname: Zhang San",
        "agi_context: cc-from-trunk",
        "agi_extension: 88001000",
        "agi_priority: 3",
        "agi_accountcode: ",
    ]
    return ("\n".join(lines) + "\n\n").encode()


class FakeAsterisk:
    """Asterisk's side of one AGI() call: sends the request header, then reads each
    command line, records it, and answers it (in order, like res_agi) with ``answer(line)``
    (None: no answer)."""

    def __init__(self, address, script: str, *, uniqueid: str = "1700000000.1",
                 answer: Callable[[bytes], bytes | None] = lambda line: OK):
        self.commands: list[bytes] = []
        self.answer = answer
        self.closed = Event()
        self.sock = socket.create_connection(address, timeout=5)
        self.sock.sendall(header(script, uniqueid))
        self._reader = gevent.spawn(self._serve)

    def _serve(self) -> None:
        reader = self.sock.makefile("rb")
        try:
            while line := reader.readline():
                self.commands.append(line)
                reply = self.answer(line)
                if reply:
                    self.sock.sendall(reply)
        except OSError:
            pass
        finally:
            self.closed.set()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def wait_closed(self, timeout: float = 5.0) -> list[bytes]:
        """Wait until the server closed the connection; the command lines it sent."""
        assert self.closed.wait(timeout), f"server did not close; commands so far: {self.commands}"
        self.sock.close()
        return self.commands


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = gevent.get_hub().loop.now() + timeout
    while not condition():
        assert gevent.get_hub().loop.now() < deadline, "condition not reached in time"
        gevent.sleep(0.01)


def accept_backlog(port: int) -> int:
    """Connections waiting in the accept queue of the listening TCP socket on ``port``
    (for a socket in LISTEN, /proc/net/tcp's rx_queue is that queue's length)."""
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
                return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"nothing listens on TCP port {port}")


def fallback(reason: str) -> list[bytes]:
    return [
        b'SET VARIABLE "CC_AGI_FAILED" "1"\n',
        f'SET VARIABLE "CC_FALLBACK_REASON" "{reason}"\n'.encode(),
        b'SET VARIABLE "CC_DEST_CONTEXT" "cc-fallback"\n',
        b'SET VARIABLE "CC_DEST_EXTEN" "s"\n',
    ]


@pytest.fixture
def make_server():
    servers: list[FastAgiServer] = []

    def make(handlers: dict | None = None, **options) -> FastAgiServer:
        registry = HandlerRegistry()
        registry.register(ping.SCRIPT, ping.handle)
        for script, handler in (handlers or {}).items():
            registry.register(script, handler)
        server = FastAgiServer("127.0.0.1", 0, registry, **options)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop(timeout=1)


def assert_stats(server: FastAgiServer, **expected: int) -> None:
    """The named counters have these values, the others are 0, and every request is accounted for."""
    wait_until(lambda: server.stats.active == 0)
    stats = server.stats.as_dict()
    outcomes = {k: v for k, v in stats.items() if k not in ("requests", "active")}
    assert outcomes == {k: expected.get(k, 0) for k in outcomes}
    assert stats["requests"] == sum(outcomes.values())


def assert_ping_works(server: FastAgiServer) -> None:
    assert FakeAsterisk(server.address, "ping").wait_closed() == [b'SET VARIABLE "CC_PING" "pong"\n']


# -- the server --------------------------------------------------------------------------
def test_ping_sets_cc_ping_and_sets_nothing_else(make_server):
    server = make_server()
    assert server.address[0] == "127.0.0.1" and server.address[1] > 0
    assert_ping_works(server)
    assert_stats(server, ok=1)
    [(script, seconds)] = server.latency  # what FastAGI added to the call, for health and benchmarks
    assert script == "ping" and 0 < seconds < 5


def test_each_call_queries_on_a_kept_connection_given_back_when_it_ends(make_server, tmp_path):
    """Nothing is handed to the server: its calls' greenlets borrow from the database's pool
    (appliance.db.connections), the first call's connection serves the second."""
    from appliance.db import models as m
    from appliance.db import open_database
    from appliance.db.connections import ConnectionPool
    from appliance.db.migrate import migrate

    db = open_database(tmp_path / "agi.db")
    migrate(db)
    pool = ConnectionPool(db, keep=2)
    used = []

    def handler(agi, request):
        used.append(db.connection())
        agi.set_variable("CC_CUSTOMERS", str(m.Customer.select().count()))

    server = make_server({"watched": handler})
    for _ in range(2):
        assert FakeAsterisk(server.address, "watched").wait_closed() == [b'SET VARIABLE "CC_CUSTOMERS" "0"\n']
        wait_until(lambda: not pool.lent)
    assert_stats(server, ok=2)
    assert pool.opened == 1 and used[0] is used[1] and pool.idle == [used[0]]
    pool.close()
    db.close()


def test_unknown_script_sends_the_caller_to_the_fallback(make_server, caplog):
    server = make_server()
    assert FakeAsterisk(server.address, "nosuch").wait_closed() == fallback("agi.unknown_script")
    assert_stats(server, unknown_scripts=1)
    assert "'nosuch'" in caplog.text and "PJSIP/trunk-pstn-00000001" in caplog.text


def test_failing_handler_gets_the_fallback_with_a_logged_traceback_and_the_server_goes_on(make_server, caplog):
    def broken(session, request):
        session.set_variable("CC_DEST_CONTEXT", "cc-queue")
        raise RuntimeError("a bug in the handler")

    server = make_server({"broken": broken})
    commands = FakeAsterisk(server.address, "broken", uniqueid="42.7").wait_closed()
    assert commands == [b'SET VARIABLE "CC_DEST_CONTEXT" "cc-queue"\n'] + fallback("agi.handler_error")
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)
    assert "PJSIP/trunk-pstn-00000001" in record.getMessage() and "42.7" in record.getMessage()
    assert_ping_works(server)
    assert_stats(server, handler_errors=1, ok=1)


def test_command_error_in_a_handler_is_a_handler_error(make_server):
    def uses_a_bad_command(session, request):
        session.command("NO SUCH COMMAND")

    answers = {b"NO SUCH COMMAND\n": b"510 Invalid or unknown command\n"}
    server = make_server({"bad": uses_a_bad_command})
    commands = FakeAsterisk(server.address, "bad", answer=lambda line: answers.get(line, OK)).wait_closed()
    assert commands == [b"NO SUCH COMMAND\n"] + fallback("agi.handler_error")
    assert_stats(server, handler_errors=1)


def test_handler_exceeding_its_time_gets_the_fallback_with_reason_timeout(make_server):
    def slow(session, request):
        gevent.sleep(30)

    server = make_server({"slow": slow}, handler_timeout=0.2)
    started = gevent.get_hub().loop.now()
    assert FakeAsterisk(server.address, "slow").wait_closed() == fallback("agi.timeout")
    assert gevent.get_hub().loop.now() - started < 5
    assert_stats(server, handler_errors=1)


def test_timeout_during_a_slow_command_drains_its_late_answer_before_the_fallback(make_server):
    """Asterisk answers in order: the fallback must not take EXEC's late answer for its own."""
    def dials(session, request):
        session.exec_app("Dial", "PJSIP/100", 30)

    def answer(line: bytes) -> bytes:
        if line.startswith(b"EXEC"):
            gevent.sleep(0.4)
            return b"200 result=-1\n"  # would raise AgiHangup if mistaken for a fallback answer
        return OK

    server = make_server({"dials": dials}, handler_timeout=0.1)
    commands = FakeAsterisk(server.address, "dials", answer=answer).wait_closed()
    assert commands == [b'EXEC "Dial" "PJSIP/100,30"\n'] + fallback("agi.timeout")
    assert_stats(server, handler_errors=1)


@pytest.mark.parametrize("garbage", [
    random.Random(7).randbytes(700).replace(b"a", b"b"),
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1:4573\r\n\r\n",
    b"agi_x: " + b"y" * 9000,
    b"",  # connect and close: a port probe
    b"agi_network: yes\n",  # never completed: request_timeout
])
def test_garbage_request_is_closed_counted_and_the_server_goes_on(make_server, caplog, garbage):
    server = make_server(request_timeout=0.3)
    sock = socket.create_connection(server.address, timeout=5)
    try:
        sock.sendall(garbage)
        if not garbage:
            sock.shutdown(socket.SHUT_WR)
        with gevent.Timeout(5):
            received = sock.recv(100)
    except ConnectionResetError:  # closed while we were still sending
        received = b""
    finally:
        sock.close()
    assert received == b""
    assert_stats(server, bad_requests=1)
    [record] = [r for r in caplog.records if r.name == "appliance.agi.server" and r.levelno == logging.WARNING]
    assert "127.0.0.1:" in record.getMessage() and "agi." in record.getMessage()
    assert record.exc_info is None
    assert_ping_works(server)


@pytest.mark.parametrize("how", ["hangup-line", "511", "result=-1", "connection-closed"])
def test_caller_hanging_up_mid_handler_is_counted_quietly(make_server, caplog, how):
    def plays(session, request):
        session.verbose("welcome")
        session.stream_file("welcome")
        session.set_variable("CC_AFTER", "1")

    client_side: dict = {}

    def answer(line: bytes) -> bytes | None:
        if not line.startswith(b"STREAM FILE"):
            return OK
        if how == "hangup-line":
            return b"HANGUP\n200 result=-1 endpos=0\n"
        if how == "511":
            return b"511 Command Not Permitted on a dead channel\n"
        if how == "result=-1":
            return b"200 result=-1 endpos=1200\n"
        client_side["sock"].shutdown(socket.SHUT_RDWR)
        return None

    server = make_server({"plays": plays})
    client = FakeAsterisk(server.address, "plays", answer=answer)
    client_side["sock"] = client.sock
    commands = client.wait_closed()
    assert commands == [b'VERBOSE "welcome" "1"\n', b'STREAM FILE "welcome" ""\n']  # no fallback
    assert_stats(server, hangups=1)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


def test_hangup_line_arriving_between_commands(make_server, caplog):
    """FastAGI sends HANGUP unasked, while the handler is busy; its next command raises."""
    sent = Event()

    def busy(session, request):
        session.verbose("thinking")
        sent.wait(5)
        session.set_variable("CC_DEST_CONTEXT", "cc-queue")

    server = make_server({"busy": busy})
    client = FakeAsterisk(server.address, "busy")
    wait_until(lambda: len(client.commands) == 1)
    client.send(b"HANGUP\n")  # on loopback, in the server's receive buffer once sendall returns
    sent.set()
    assert client.wait_closed() == [b'VERBOSE "thinking" "1"\n', b'SET VARIABLE "CC_DEST_CONTEXT" "cc-queue"\n']
    assert_stats(server, hangups=1)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_pool_bound_holds_the_third_call_until_one_finishes(make_server):
    events: list[tuple[str, str]] = []
    release = {uid: Event() for uid in ("A", "B", "C")}

    def blocking(session, request):
        events.append(("start", request.uniqueid))
        release[request.uniqueid].wait(10)
        session.set_variable("CC_DONE", request.uniqueid)
        events.append(("end", request.uniqueid))

    server = make_server({"block": blocking}, pool_size=2)
    a = FakeAsterisk(server.address, "block", uniqueid="A")
    b = FakeAsterisk(server.address, "block", uniqueid="B")
    wait_until(lambda: len(events) == 2)
    c = FakeAsterisk(server.address, "block", uniqueid="C")  # connects: the kernel's backlog holds it
    # seen from the kernel: C's connection has arrived and waits, unaccepted, in the backlog
    wait_until(lambda: accept_backlog(server.address[1]) == 1)
    assert ("start", "C") not in events and server.stats.active == 2
    release["A"].set()
    wait_until(lambda: ("start", "C") in events)
    assert events.index(("end", "A")) < events.index(("start", "C"))
    release["B"].set()
    release["C"].set()
    for client, uid in ((a, "A"), (b, "B"), (c, "C")):
        assert client.wait_closed() == [f'SET VARIABLE "CC_DONE" "{uid}"\n'.encode()]
    assert_stats(server, ok=3)


def test_stop_closes_the_listener(make_server):
    server = make_server()
    address = server.address
    server.stop()
    assert server.address is None and not server.started
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=2)


# -- the registry ------------------------------------------------------------------------
def test_registry():
    registry = HandlerRegistry()
    registry.register("route", ping.handle)
    registry.register("ping", ping.handle)
    assert registry.get("route") is ping.handle and registry.get("nosuch") is None
    assert registry.names() == ["ping", "route"]
    with pytest.raises(ValueError):
        registry.register("ping", ping.handle)
    for bad in ["", "a/b", "../x", "a b", "x?y"]:
        with pytest.raises(ValueError):
            registry.register(bad, ping.handle)
    with pytest.raises(TypeError):
        registry.register("x", "not callable")


# -- the session over a socket pair ------------------------------------------------------
@pytest.fixture
def pair():
    """(session, asterisk_side): the session's end wrapped, the other end a plain socket."""
    ours, theirs = socket.socketpair()
    session = AgiSession(SocketStream(ours), AgiRequest({"agi_channel": "Local/1"}), command_timeout=1.0)
    theirs_file = theirs.makefile("rb")
    yield session, theirs, theirs_file
    ours.close()
    theirs.close()


def test_session_get_variable(pair):
    session, theirs, their_file = pair
    theirs.sendall(b"200 result=1 (Zhang (VIP) San)\n200 result=0\n200 result=1 ()\n")
    assert session.get_variable("CALLERID(name)") == "Zhang (VIP) San"
    assert session.get_variable("UNSET") is None
    assert session.get_full_variable("${EMPTY}") == ""
    assert their_file.readline() == b'GET VARIABLE "CALLERID(name)"\n'
    assert their_file.readline() == b'GET VARIABLE "UNSET"\n'
    assert their_file.readline() == b'GET FULL VARIABLE "${EMPTY}"\n'


def test_session_sets_plain_variables_in_one_round_trip_and_the_rest_one_by_one(pair):
    """A call's route is one MSet (not a SET VARIABLE each, a round trip each); a value MSet
    would take apart (a comma, a quote, a space, an '=') or an empty one goes alone, after it."""
    session, theirs, their_file = pair
    theirs.sendall(b"200 result=0\n" * 3)
    session.set_variables({"CC_DEST_CONTEXT": "cc-queue", "__CC_THEN_QUEUE": "sales", "CC_NOTE": 'a, "b" = c',
                           "CC_PROMPT": "/p/hello&/p/menu", "CC_EMPTY": "", "CC_DEST_EXTEN": "2001"})
    assert [their_file.readline() for _ in range(3)] == [
        b'EXEC "MSet" "CC_DEST_CONTEXT=cc-queue,__CC_THEN_QUEUE=sales,CC_PROMPT=/p/hello&/p/menu,CC_DEST_EXTEN=2001"\n',
        b'SET VARIABLE "CC_NOTE" "a, \\"b\\" = c"\n', b'SET VARIABLE "CC_EMPTY" ""\n']
    theirs.sendall(b"200 result=1\n")
    session.set_variables({"CC_ONE": "1"})  # one alone: a SET VARIABLE is as quick
    assert their_file.readline() == b'SET VARIABLE "CC_ONE" "1"\n'


def test_session_reads_a_520_block_as_one_answer(pair):
    session, theirs, their_file = pair
    theirs.sendall(b"520-Invalid command syntax.  Proper usage follows:\n Usage: ANSWER\n"
                   b"520 End of proper usage.\n200 result=0\n")
    with pytest.raises(AgiCommandError) as info:
        session.answer()
    assert info.value.response.code == 520 and "Usage: ANSWER" in info.value.response.data
    session.answer()  # the next answer is read in step
    assert [their_file.readline() for _ in range(2)] == [b"ANSWER\n", b"ANSWER\n"]


def test_session_stream_file_returns_the_digit_pressed(pair):
    session, theirs, _ = pair
    theirs.sendall(b"200 result=0 endpos=800\n200 result=50 endpos=100\n")
    assert session.stream_file("welcome", "12") == ""
    assert session.stream_file("welcome", "12") == "2"


def test_session_exec_of_a_missing_app_is_a_command_error(pair):
    session, theirs, their_file = pair
    theirs.sendall(b"200 result=-2\n")
    with pytest.raises(AgiCommandError) as info:
        session.exec_app("NoSuchApp", "x")
    assert info.value.code == "agi.no_such_app"
    assert their_file.readline() == b'EXEC "NoSuchApp" "x"\n'


def test_session_refuses_injection_before_sending_anything(pair):
    session, theirs, their_file = pair
    with pytest.raises(AgiProtocolError):
        session.set_variable("CC_NAME", "x\nHANGUP")
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(100)
    theirs.setblocking(True)
    theirs.sendall(OK)
    session.verbose("a caller named\r\nEXEC System")  # a log line: line breaks become blanks
    assert their_file.readline() == b'VERBOSE "a caller named  EXEC System" "1"\n'


def test_session_command_timeout_then_the_late_answer_is_dropped(pair):
    session, theirs, their_file = pair
    with pytest.raises(AgiCommandTimeout):
        session.command("EXEC", "Wait", timeout=0.05)
    theirs.sendall(b"200 result=-1\n200 result=1 (late)\n")  # EXEC's answer, then GET VARIABLE's
    assert session.get_variable("X") == "late"
    assert [their_file.readline() for _ in range(2)] == [b'EXEC "Wait"\n', b'GET VARIABLE "X"\n']


def test_session_hangup_signals(pair):
    session, theirs, _ = pair
    theirs.sendall(b"HANGUP\n")
    with pytest.raises(AgiHangup):
        session.answer()
    assert session.hung_up
    theirs.sendall(b"200 result=1\n200 result=1 (v)\n")  # ANSWER's answer comes after the HANGUP line
    assert session.get_variable("X") == "v"
    theirs.shutdown(socket.SHUT_RDWR)
    with pytest.raises(AgiHangup):
        session.get_variable("Y")
