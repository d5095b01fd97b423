"""The web UI's edge (issue 13): the real app behind the real ``WebServer`` on a loopback
port, spoken to over raw sockets as an attacker would: half-sent requests are closed after
the header time, a flood holds no more descriptors than the pool, one address cannot take
every connection, bodies over a route's cap are refused before they are read, a body that
stops coming ends the request; HSTS over HTTPS only; health without process ids for
anonymous callers; ``POST /api/v1/agents/{n}/login`` with no body at all; heavy reads off
the loop, and a full query pool answers 503 busy."""

from __future__ import annotations

import json
import os
import socket as stdsocket
import ssl
import time
from types import SimpleNamespace

import gevent
import pytest
from gevent import socket
from gevent.monkey import get_original

from appliance.db.querypool import Busy, QueryPool
from appliance.errors import TooLarge
from appliance.services.config import ConfigService
from appliance.services.menus import MenuService
from appliance.services.prompts import MAX_UPLOAD_BYTES, PromptFiles, PromptService
from appliance.services.users import UserService
from harness import wait_until
from provisioning import firstboot
from webharness import Agents, migrated
from webdeps import web_deps
from webui.app import make_app
from webui.edge import BodyReader, RequestTimeout, WebLimits, WebServer, raise_fd_limit, web_connection_cap

PASSWORD = "correct-horse-9"
HEALTH = {"status": "ok", "uptime_seconds": 5,
          "components": {"asterisk": {"up": True, "state": "running", "pid": 4711},
                         "ami": {"up": True, "state": "connected"}},
          "services": {"asterisk": {"state": "running", "pid": 4711}, "console": {"state": "running", "pid": 99}}}


@pytest.fixture
def web(tmp_path):
    db = migrated(tmp_path / "web.db")
    users = UserService(db)
    config = ConfigService(db)
    files = PromptFiles(tmp_path / "prompts", "/appliance/lib/prompts", None)
    agents = Agents()
    deps = web_deps(db=db, config=config, users=users, agents=agents, health=lambda: json.loads(json.dumps(HEALTH)),
                   live=lambda: {"queues": [], "agents": [], "calls": []}, 
                   menus=MenuService(db, config, files), prompts=PromptService(db, config, files))
    admin = users.create("admin", PASSWORD, "admin", language="en")
    token = users.create_token(admin["id"], "test")
    app = make_app(deps)
    servers = []

    def serve(limits=None, **ssl_args):
        server = WebServer(("127.0.0.1", 0), app, limits or WebLimits(header_seconds=1, body_idle_seconds=1),
                           **ssl_args)
        server.start()
        servers.append(server)
        return server

    yield SimpleNamespace(db=db, deps=deps, serve=serve, token=token, agents=agents, tmp=tmp_path)
    for server in servers:
        server.stop(timeout=1)
    db.close()


def connect(server, source="127.0.0.1", timeout=10.0):
    return socket.create_connection(("127.0.0.1", server.server_port), timeout=timeout, source_address=(source, 0))


def read_response(sock, timeout=5.0) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 response (Content-Length bodies): status, headers, body."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of the body"
        body += chunk
    return int(lines[0].split()[1]), headers, body


def closed_within(sock, seconds: float) -> bool:
    """Whether the server closes ``sock`` (EOF or reset) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except (TimeoutError, stdsocket.timeout):
        return False


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- connections -----------------------------------------------------------------------
def test_a_half_sent_request_is_closed_after_the_header_time(web):
    server = web.serve(WebLimits(header_seconds=1))
    sock = connect(server)
    sock.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more
    started = time.monotonic()
    assert closed_within(sock, 5), "a half-sent request kept its connection"
    assert time.monotonic() - started < 3
    # an idle kept-alive connection is closed the same way after its last response
    sock = connect(server)
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert read_response(sock)[0] == 200
    assert closed_within(sock, 5)


def test_a_flood_of_half_open_connections_holds_no_more_descriptors_than_the_pool(web):
    raise_fd_limit()
    cap, flood = 40, 600
    server = web.serve(WebLimits(max_connections=cap, max_per_source=256, header_seconds=2))
    before = open_fds()
    socks, connected, peak = [], [], [0]

    def attacker(i):
        s = socket.socket()  # counted from before its connect: the client's descriptors are all in socks
        socks.append(s)
        try:
            s.settimeout(30)
            s.bind((f"127.0.0.{10 + i % 30}", 0))
            s.connect(("127.0.0.1", server.server_port))
            s.sendall(b"GET / HTTP/1.1\r\n")
            connected.append(s)
        except OSError:
            pass

    def watch():
        while True:
            peak[0] = max(peak[0], open_fds() - before - len(socks))
            gevent.sleep(0.01)

    watcher = gevent.spawn(watch)
    attackers = [gevent.spawn(attacker, i) for i in range(flood)]
    try:
        gevent.wait(attackers, timeout=30)
        assert len(connected) > cap * 3, f"only {len(connected)} of the flood connected"
        # the server's own descriptors: at most the pool (plus the database and a few)
        assert peak[0] <= cap + 20, f"the server held {peak[0]} descriptors for {len(connected)} half-open clients"
        # someone else is still served, after at most the header time of the flood
        ok = connect(server, timeout=30)
        ok.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(ok, timeout=30)[0] == 200
        ok.close()
    finally:
        watcher.kill()
        gevent.killall(attackers)
        for s in socks:
            s.close()


def test_one_address_gets_at_most_its_share(web):
    server = web.serve(WebLimits(max_connections=64, max_per_source=5, header_seconds=5))
    held = [connect(server, source="127.0.0.7") for _ in range(5)]
    for s in held:
        s.sendall(b"GET / HTTP/1.1\r\n")
    gevent.sleep(0)
    extra = connect(server, source="127.0.0.7")
    started = time.monotonic()
    status, headers, _ = read_response(extra)
    assert status == 503 and headers["connection"] == "close" and time.monotonic() - started < 2
    # another address is served as usual
    other = connect(server, source="127.0.0.8")
    other.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert read_response(other)[0] == 200
    for s in held + [extra, other]:
        s.close()


def test_the_web_cap_leaves_descriptors_for_the_call_path():
    assert web_connection_cap(1024, 20000, 200) == 1024
    # 2048 files: 200 FastAGI sessions and 256 reserved leave (2048-456)//4 = 398 connections
    assert web_connection_cap(1024, 2048, 200) == 398
    assert web_connection_cap(1024, 300, 200) == 16  # never none at all


# -- bodies ----------------------------------------------------------------------------
def test_an_anonymous_huge_login_post_is_refused_before_its_body_is_read(web):
    server = web.serve(WebLimits(body_idle_seconds=30))
    sock = connect(server)
    sock.sendall(b"POST /login HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=xx\r\n"
                 b"Content-Length: 1500000000\r\n\r\n--xx\r\n")
    started = time.monotonic()
    status, headers, body = read_response(sock, timeout=5)
    # at once: had the server begun to read 1.5 GB it would wait 30 s for the rest
    assert status == 413 and time.monotonic() - started < 3
    assert "text/html" in headers["content-type"]
    assert closed_within(sock, 5)  # not drained: closed
    # the same under /api: the typed JSON error
    sock = connect(server)
    sock.sendall(b"POST /api/v1/queues HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 5000000\r\n\r\n{")
    status, _, body = read_response(sock)
    error = json.loads(body)
    assert status == 413 and error["error"] == "request.too_large" and error["fields"]["limit_bytes"] == "1048576"


def test_a_prompt_upload_over_its_cap_is_refused_before_it_is_read(web):
    server = web.serve(WebLimits(body_idle_seconds=30))
    sock = connect(server)
    size = MAX_UPLOAD_BYTES + 1024 * 1024
    sock.sendall(f"POST /api/v1/prompts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {web.token}\r\n"
                 f"Content-Type: multipart/form-data; boundary=xx\r\nContent-Length: {size}\r\n\r\n--xx\r\n".encode())
    status, _, body = read_response(sock, timeout=5)
    assert status == 413 and json.loads(body)["error"] == "request.too_large"
    # within the route's cap (larger than the default 1 MiB) the upload is read and judged
    sock = connect(server)
    audio = b"\0" * (2 * 1024 * 1024)
    form = (b"--xx\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nwelcome\r\n--xx\r\n"
            b"Content-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n" + audio + b"\r\n--xx--\r\n")
    sock.sendall(f"POST /api/v1/prompts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {web.token}\r\n"
                 f"Content-Type: multipart/form-data; boundary=xx\r\nContent-Length: {len(form)}\r\n\r\n".encode() + form)
    status, _, body = read_response(sock, timeout=30)
    assert status == 422 and json.loads(body)["error"].startswith("prompt."), body


def test_a_body_that_stops_coming_ends_the_request(web):
    server = web.serve(WebLimits(body_idle_seconds=1))
    sock = connect(server)
    sock.sendall(f"POST /api/v1/queues HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {web.token}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\"".encode())
    status, _, body = read_response(sock, timeout=5)
    assert status == 408 and json.loads(body)["error"] == "request.timeout"
    assert closed_within(sock, 5)


def test_a_body_reader_stops_at_its_cap_whatever_the_length_said():
    class Endless:  # a chunked (or lying) body: data for as long as it is asked
        def read(self, size=-1):
            return b"x" * min(size if size and size > 0 else 65536, 65536)

    reader = BodyReader(Endless(), limit=100_000)
    with pytest.raises(TooLarge):
        while reader.read(8192):
            pass
    assert reader.cut and reader.position <= 100_001


def test_a_body_reader_times_out_when_nothing_comes():
    class Silent:
        def read(self, size=-1):
            gevent.sleep(10)

    with pytest.raises(RequestTimeout):
        BodyReader(Silent(), idle_seconds=0.2).read(10)


# -- issue 13, point 14 ----------------------------------------------------------------
def test_hsts_only_over_https(web):
    firstboot.step_40_certificate(SimpleNamespace(tls_dir=web.tmp / "tls"))
    https = web.serve(certfile=str(web.tmp / "tls" / firstboot.CERT_FILE),
                      keyfile=str(web.tmp / "tls" / firstboot.KEY_FILE))
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    tls = context.wrap_socket(connect(https), server_hostname="localhost")
    tls.sendall(b"GET /login HTTP/1.1\r\nHost: t\r\n\r\n")
    status, headers, _ = read_response(tls)
    assert status == 200 and headers["strict-transport-security"] == "max-age=31536000"
    plain = connect(web.serve())
    plain.sendall(b"GET /login HTTP/1.1\r\nHost: t\r\n\r\n")
    status, headers, _ = read_response(plain)
    assert status == 200 and "strict-transport-security" not in headers


def test_a_tls_handshake_that_never_comes_is_closed(web):
    firstboot.step_40_certificate(SimpleNamespace(tls_dir=web.tmp / "tls"))
    https = web.serve(WebLimits(header_seconds=1), certfile=str(web.tmp / "tls" / firstboot.CERT_FILE),
                      keyfile=str(web.tmp / "tls" / firstboot.KEY_FILE))
    sock = connect(https)  # TCP only, no ClientHello
    assert closed_within(sock, 5)


def test_health_shows_no_process_ids_to_anonymous_callers(web):
    server = web.serve()
    sock = connect(server)
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_response(sock)
    assert status == 200 and "pid" not in body.decode()
    assert json.loads(body)["components"]["asterisk"]["state"] == "running"
    sock.sendall(f"GET /api/health HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {web.token}\r\n\r\n".encode())
    status, _, body = read_response(sock)
    assert json.loads(body)["components"]["asterisk"]["pid"] == 4711


def test_agent_login_with_no_body_at_all_as_the_docs_show(web):
    # curl -H "$T" -X POST .../api/v1/agents/1001/login sends no Content-Length and no body
    web.deps.config.create("agents", {"number": "1001", "name": "Alice"}, actor="t")
    sock = connect(web.serve())
    sock.sendall(f"POST /api/v1/agents/1001/login HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {web.token}\r\n"
                 f"\r\n".encode())
    status, _, body = read_response(sock)
    assert status == 200, body
    assert json.loads(body)["logged_in"] is True and web.agents.calls == [("login", "1001")]


# -- heavy reads off the loop ------------------------------------------------------------
SLOW_QUERY = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000000) "
              "SELECT count(*) FROM n")


def test_web_requests_and_pool_threads_connecting_at_once_never_wait_forever(web):
    # every web request connects on the loop, every pool job in a native thread: with
    # peewee's lock made by gevent's patched threading, a hand-over between the two was lost
    # now and then and the thread, then every request after it, waited forever (the browser
    # tests' pages that never loaded)
    pool = gevent.get_hub().threadpool
    db = web.db
    db.close()

    def pool_job():
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT 1")
        db.close()

    def request_like(done):
        for _ in range(30):
            db.connect(reuse_if_open=True)
            db.execute_sql("SELECT 1")
            db.close()
            gevent.sleep(0)
            pool.apply(pool_job)
            done.append(1)

    done = []
    workers = [gevent.spawn(request_like, done) for _ in range(8)]
    with gevent.Timeout(20, False):
        gevent.joinall(workers, raise_error=True)
    assert len(done) == 8 * 30, f"{len(done)} of {8 * 30} rounds finished: a connect waits for a lost wake-up"


def test_a_heavy_read_in_the_query_pool_leaves_the_loop_free(web):
    pool = QueryPool(web.db, threads=1, queue=1)
    gaps, last = [], [time.perf_counter()]

    def tick():
        while True:
            gevent.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

    ticker = gevent.spawn(tick)
    try:
        gevent.sleep(0.02)
        started = time.perf_counter()
        assert pool.run(lambda: web.db.execute_sql(SLOW_QUERY).fetchone()[0]) == 4000000
        took = time.perf_counter() - started
    finally:
        ticker.kill()
        pool.close()
    assert took > 0.2, "the query is too quick on this machine to show anything"
    # On the loop the read would stop it for its whole length; in the pool the loop goes on
    # ticking. Relative to the read's own length, so a machine busy with other work (which
    # slows the read and delays the ticks alike) does not fail it.
    assert max(gaps) < took / 3, f"the loop stood still for {max(gaps) * 1000:.0f} ms of a {took * 1000:.0f} ms query"


def test_closing_the_query_pool_interrupts_a_long_query_and_drops_the_queued_ones(web):
    """The appliance's stop after a load of searches: a query running and others queued behind
    it. Closing does not wait for them (gevent's ThreadPool.kill alone waits for every job)."""
    endless = SLOW_QUERY.replace("4000000", "4000000000")  # minutes of work
    running = []

    def search():
        web.db.connection().set_progress_handler(lambda: running.append(1), 100000)  # called while it runs
        return web.db.execute_sql(endless).fetchone()

    pool = QueryPool(web.db, threads=1, queue=4)
    waiting = [gevent.spawn(pool.run, search) for _ in range(4)]
    wait_until(lambda: pool.pending == 4 and running, 5, "one query running, three queued")
    started = time.monotonic()
    with gevent.Timeout(10, AssertionError("close() waited for the queries")):
        pool.close()
    assert time.monotonic() - started < 3
    gevent.joinall(waiting, timeout=5)
    errors = [type(g.exception).__name__ for g in waiting]
    assert errors == ["OperationalError", "Busy", "Busy", "Busy"], errors  # interrupted, then dropped
    with pytest.raises(Busy):
        pool.run(lambda: 1)


def test_a_full_query_pool_answers_busy_with_retry_after(web):
    released = []
    native_sleep = get_original("time", "sleep")  # in the pool's native thread: not gevent's

    def held():
        while not released:
            native_sleep(0.01)

    pool = web.deps.queries = QueryPool(web.db, threads=1, queue=1)
    try:
        blockers = [gevent.spawn(pool.run, held) for _ in range(2)]
        wait_until(lambda: pool.pending == 2, 5, "both blockers in the pool")
        with pytest.raises(Busy):
            pool.run(lambda: 1)
        sock = connect(web.serve())
        sock.sendall(f"GET /api/v1/customers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {web.token}\r\n\r\n".encode())
        status, headers, body = read_response(sock)
        assert status == 503 and json.loads(body)["error"] == "busy" and headers["retry-after"] == "1"
        released.append(1)
        gevent.joinall(blockers, timeout=10)
        sock.sendall(f"GET /api/v1/customers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {web.token}\r\n\r\n".encode())
        assert read_response(sock)[0] == 200
    finally:
        released.append(1)
        pool.close()


def test_the_app_works_on_a_few_requests_at_once_and_health_does_not_wait_behind_them(web):
    released = []
    native_sleep = get_original("time", "sleep")

    def held():
        while not released:
            native_sleep(0.01)

    web.deps.queries = QueryPool(web.db, threads=1, queue=4)
    server = web.serve(WebLimits(max_active=1, queue_seconds=1))
    auth = f"Authorization: Bearer {web.token}\r\n"
    try:
        blocker = gevent.spawn(web.deps.queries.run, held)  # the pool's one thread is busy...
        slow = connect(server)  # ...so this search holds the app's one slot
        slow.sendall(f"GET /api/v1/customers HTTP/1.1\r\nHost: t\r\n{auth}\r\n".encode())
        wait_until(lambda: web.deps.queries.pending == 2, 5, "the search queued behind the blocker")
        waiting = connect(server)
        started = time.monotonic()
        waiting.sendall(f"GET /api/v1/me HTTP/1.1\r\nHost: t\r\n{auth}\r\n".encode())
        status, headers, body = read_response(waiting)
        assert status == 503 and json.loads(body)["error"] == "busy" and headers["retry-after"] == "1"
        assert 0.9 < time.monotonic() - started < 3  # it waited its turn for queue_seconds
        health = connect(server)
        health.sendall(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(health, timeout=2)[0] == 200
        released.append(1)
        assert read_response(slow, timeout=10)[0] == 200
        blocker.join(timeout=10)
    finally:
        released.append(1)
        web.deps.queries.close()


def test_a_form_that_cannot_be_read_is_a_400_not_a_500(web):
    """Found by the fuzz tier: a multipart part whose name holds a control character made
    bottle raise ValueError wherever the form was first read (a 500 with a traceback)."""
    server = web.serve()
    body = (b"--xx\r\nContent-Disposition: form-data; name=\"a\x00b\"\r\n\r\nv\r\n"
            b"--xx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.xlsx\"\r\n\r\nPK\r\n--xx--\r\n")
    for path, expect_json in (("/api/v1/customers/import", True), ("/login", False)):
        sock = connect(server)
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {web.token}\r\n"
                     f"Content-Type: multipart/form-data; boundary=xx\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode() + body)
        status, headers, answer = read_response(sock)
        assert status == 400, (path, answer[:300])
        if expect_json:
            assert json.loads(answer)["error"] == "request.malformed_body"
        sock.close()


def test_an_urgent_read_does_not_wait_behind_the_searches(web):
    """The wallboard's figures while every thread of the pool and its whole queue are taken
    by customer searches: run_urgent runs at once on a thread of its own."""
    release = get_original("threading", "Event")()  # a native event: the pool threads wait on it
    pool = QueryPool(web.db, threads=2, queue=2)
    searches = [gevent.spawn(pool.run, release.wait, 10) for _ in range(4)]
    try:
        wait_until(lambda: pool.pending == 4, 5, "two searches running, two queued")
        with pytest.raises(Busy):
            pool.run(lambda: "one more search")
        with gevent.Timeout(5, AssertionError("the urgent read waited behind the searches")):
            assert pool.run_urgent(lambda: web.db.execute_sql("SELECT 42").fetchone()[0]) == 42
        assert all(not g.ready() for g in searches)
    finally:
        release.set()
        gevent.joinall(searches, timeout=10)
        pool.close()
