"""FastAGI's calls run on kept SQLite connections (issue 23: py-spy of the mixed load found each
call opening a connection, setting its pragmas and reading the schema again)."""

import gevent

from appliance.db import models as m
from appliance.db import open_database
from appliance.db.connections import ConnectionPool
from appliance.db.migrate import migrate


def test_sessions_share_kept_connections_and_end_clean(tmp_path):
    db = open_database(tmp_path / "a.db")
    migrate(db)
    db.close()
    pool = ConnectionPool(db, keep=2)
    seen = []

    def call(n):
        with pool.session():
            seen.append(id(db.connection()))
            m.Customer.create(name=f"c{n}", phone=f"139{n:08d}")
            gevent.sleep(0)

    gevent.joinall([gevent.spawn(call, n) for n in range(3)], raise_error=True)
    for n in range(3, 10):
        call(n)
    assert pool.opened == 3 and len(pool.idle) == 2  # three at once, then two kept for the rest
    assert len(set(seen[3:])) == 1
    assert db.is_closed()  # nothing left on the greenlet that lent them

    with pool.session():  # an error inside a transaction: rolled back before the connection is kept
        db.begin()
        m.Customer.create(name="lost", phone="13800000000")
    with pool.session():
        assert not m.Customer.select().where(m.Customer.name == "lost").exists()
        assert m.Customer.select().count() == 10
    pool.close()
    assert pool.idle == []



def test_web_requests_borrow_kept_connections(tmp_path):
    """The web UI's requests run on the loop too: each opening a connection of its own (its
    pragmas, the schema read again) held the loop 10-100 ms under the mixed load."""
    import io
    from wsgiref.util import setup_testing_defaults

    import bottle

    from webui.plugins import DatabasePlugin

    db = open_database(tmp_path / "a.db")
    migrate(db)
    db.close()
    pool = ConnectionPool(db, keep=4)
    app = bottle.Bottle()
    app.install(DatabasePlugin(db, pool.session))
    app.route("/count")(lambda: str(m.Customer.select().count()))

    def get(path):
        environ = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
        setup_testing_defaults(environ)
        return b"".join(app(environ, lambda status, headers, exc_info=None: None))

    assert [get("/count") for _ in range(5)] == [b"0"] * 5
    assert pool.opened == 1 and len(pool.idle) == 1 and db.is_closed()

    alone = bottle.Bottle()  # without a pool (a web app of its own): opened and closed each time
    alone.install(DatabasePlugin(db))
    alone.route("/count")(lambda: str(m.Customer.select().count()))
    app = alone
    assert get("/count") == b"0" and db.is_closed()
    pool.close()
