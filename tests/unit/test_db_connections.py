"""The loop's greenlets query on kept SQLite connections (issue 23: py-spy of the mixed load found
each FastAGI call, web request and recording hand-over opening a connection, setting its pragmas
and reading the schema again). Nothing is handed to them: any greenlet borrows from the pool."""

import gevent
import pytest

from appliance.db import models as m
from appliance.db import open_database
from appliance.db.connections import ConnectionPool
from appliance.db.migrate import migrate
from tests.harness import wait_until


@pytest.fixture
def db(tmp_path):
    db = open_database(tmp_path / "a.db")
    migrate(db)
    db.close()
    yield db
    if db.pool is not None:
        db.pool.close()


def given_back(pool):
    # the pool's link runs in the hub once the greenlet is dead, after join's own link
    wait_until(lambda: not pool.lent, 5, "the connection given back")


def test_a_plain_spawned_greenlet_borrows_a_kept_connection_and_gives_it_back_when_it_ends(db):
    pool = ConnectionPool(db, keep=2)
    gevent.spawn(lambda: m.Customer.select().count()).join()
    given_back(pool)
    assert pool.opened == 1 and len(pool.idle) == 1
    [kept] = pool.idle

    def query(n):
        assert db.connection() is kept  # the kept one: no connection opened, no pragmas set
        m.Customer.create(name=f"c{n}", phone=f"139{n:08d}")
        return n

    assert gevent.spawn(query, 1).get() == 1
    given_back(pool)
    assert pool.idle == [kept] and pool.opened == 1

    def fails():
        query(2)
        raise RuntimeError("a bug after the query")

    failed = gevent.spawn(fails)
    failed.join()
    assert isinstance(failed.exception, RuntimeError)
    given_back(pool)
    assert pool.idle == [kept] and pool.opened == 1

    def dies_in_a_transaction():
        db.begin()
        m.Customer.create(name="lost", phone="13800000000")
        raise RuntimeError("no commit")

    gevent.spawn(dies_in_a_transaction).join()
    given_back(pool)
    assert pool.idle == [kept] and not kept.in_transaction  # rolled back before it was kept
    assert gevent.spawn(lambda: sorted(c.name for c in m.Customer.select())).get() == ["c1", "c2"]
    assert pool.opened == 1


def test_greenlets_at_once_borrow_their_own_and_only_keep_is_kept(db):
    pool = ConnectionPool(db, keep=2)
    seen = []

    def call():
        seen.append(db.connection())
        m.Customer.select().count()
        gevent.sleep(0)  # the others borrow while this one holds its connection

    gevent.joinall([gevent.spawn(call) for _ in range(3)], raise_error=True)
    given_back(pool)
    assert len(set(map(id, seen))) == 3 and pool.opened == 3 and len(pool.idle) == 2
    assert set(map(id, pool.idle)) <= set(map(id, seen))
    [dropped] = [conn for conn in seen if conn not in pool.idle]
    with pytest.raises(Exception):  # the third, over keep, was closed
        dropped.execute("select 1")
    pool.close()
    assert pool.idle == []
    gevent.spawn(lambda: m.Customer.select().count()).join()  # after close: its own connection, not kept
    assert pool.idle == [] and pool.opened == 3


def test_only_the_loops_greenlets_borrow(db):
    """The main greenlet and native threads (the query pool's, gevent's thread pool) keep
    connections of their own: they never end, or they are not the loop's."""
    pool = ConnectionPool(db, keep=2)
    own = db.connection()
    assert pool.opened == 0 and not pool.lent
    in_thread = gevent.get_hub().threadpool.apply(lambda: (db.connection(), db.close()))[0]
    assert in_thread is not own and pool.opened == 0 and pool.idle == [] and not pool.lent
    db.close()


def test_web_requests_give_their_connection_back_after_each_request(db):
    """One greenlet serves a keep-alive connection's requests: each gives its connection back
    when it ends, not when the greenlet does."""
    import io
    from wsgiref.util import setup_testing_defaults

    import bottle

    from webui.plugins import DatabasePlugin

    pool = ConnectionPool(db, keep=4)
    app = bottle.Bottle()
    app.install(DatabasePlugin(db))
    app.route("/count")(lambda: str(m.Customer.select().count()))

    def get(path):
        environ = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
        setup_testing_defaults(environ)
        return b"".join(app(environ, lambda status, headers, exc_info=None: None))

    def keep_alive():
        answers = []
        for _ in range(3):
            answers.append(get("/count"))
            answers.append((len(pool.lent), len(pool.idle)))
        return answers

    assert gevent.spawn(keep_alive).get() == [b"0", (0, 1)] * 3
    assert pool.opened == 1
    assert get("/count") == b"0" and db.is_closed()  # the main greenlet (a test's app): its own, closed
    assert pool.opened == 1
