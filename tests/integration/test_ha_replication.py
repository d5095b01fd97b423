"""Hot standby, replication: two real databases, the rootfs's rsync daemon as the standby,
our Replicator on the active; every commit is on the standby within 1 s, a wrong shared
secret copies nothing, finished files follow, and the replica becomes the database on
promotion."""

from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path

import pytest

from harness import free_port, wait_until

LAG_LIMIT = 1.0  # seconds from a commit on the active to its copy on the standby (issue 20)
SECRET = "pair-secret-for-the-test"


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def pair(tmp_path_factory, rootfs):
    """(active database, standby data folder, peer, rootfs): the standby's daemon running."""
    from appliance import proc
    from appliance.db import open_database
    from appliance.ha.replication import Peer, ReplicaReceiver

    root = tmp_path_factory.mktemp("ha")
    active_db = root / "active" / "appliance.db"
    db = open_database(active_db)
    db.execute_sql("CREATE TABLE commits (id INTEGER PRIMARY KEY, at REAL, payload TEXT)")
    standby = root / "standby"
    port = free_port()
    receiver = ReplicaReceiver(rootfs=rootfs, run_dir=standby / "run" / "ha", address="127.0.0.1", port=port,
                               peer="127.0.0.1", secret=SECRET, db_dir=standby,
                               file_dirs={"recordings": standby / "recordings"})
    daemon = proc.spawn(receiver.argv(), what="the standby's rsync daemon")
    try:
        wait_until(lambda: _listening(port), 10, "the standby's rsync daemon")
        yield db, active_db, standby, Peer("127.0.0.1", port, SECRET)
    finally:
        daemon.terminate()
        daemon.wait(5)
        db.close()


def _replica_rows(standby):
    from appliance.ha.replication import REPLICA_DIR, REPLICA_NAME

    path = standby / REPLICA_DIR / REPLICA_NAME
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # the standby only ever reads it
    try:
        return {row[0] for row in conn.execute("SELECT id FROM commits")}
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()


def test_every_commit_reaches_the_standby_within_a_second(pair, rootfs, tmp_path):
    from appliance.ha.replication import Replicator

    db, active_db, standby, peer = pair
    replicator = Replicator(active_db, tmp_path / "scratch", peer, rootfs=rootfs)
    replicator.start()
    try:
        wait_until(lambda: _replica_rows(standby) is not None, 10, "the first copy")
        lags = []
        for i in range(1, 16):
            committed = time.time()
            db.execute_sql("INSERT INTO commits (id, at, payload) VALUES (?, ?, ?)", (i, committed, "x" * 2000))
            wait_until(lambda: i in (_replica_rows(standby) or ()), 5, f"commit {i} on the standby",
                       interval=0.01)
            lags.append(time.time() - committed)
        status = replicator.status()
        # caught up: a checkpoint during the last copy may have left one more round to run
        wait_until(lambda: replicator.pending_since is None, 5, "the replicator caught up", interval=0.01)
    finally:
        replicator.stop()
    print("replication lags", [round(x, 3) for x in lags])
    assert max(lags) <= LAG_LIMIT, lags
    assert status["state"] == "ok" and status["error"] is None and status["copies"] >= 15
    assert status["lag_seconds"] is not None and status["lag_seconds"] <= LAG_LIMIT
    # a copy is started by a change, not by a timer: nothing changed, nothing copied
    copies = replicator.syncs
    replicator._seen = replicator.signature()
    assert replicator.pending_since is None and replicator.syncs == copies


def test_a_wrong_secret_copies_nothing_and_says_so(pair, rootfs, tmp_path):
    from appliance.ha.replication import Peer, Replicator

    db, active_db, standby, peer = pair
    before = _replica_rows(standby)
    db.execute_sql("INSERT INTO commits (id, at) VALUES (?, ?)", (1000, time.time()))
    intruder = Replicator(active_db, tmp_path / "scratch", Peer(peer.address, peer.port, "not-the-secret"),
                          rootfs=rootfs)
    intruder.start()
    try:
        wait_until(lambda: intruder.failures >= 1, 15, "the refused copy")
        status = intruder.status()
    finally:
        intruder.stop()
    assert status["state"] == "failing" and status["error"]
    assert 1000 not in (_replica_rows(standby) or ()) and _replica_rows(standby) == before


def test_finished_files_follow_and_the_replica_becomes_the_database(pair, rootfs, tmp_path):
    from appliance.ha.replication import FileShipper, promote_replica

    db, active_db, standby, peer = pair
    recordings = tmp_path / "recordings"
    (recordings / "2026" / "12").mkdir(parents=True)
    mp3 = recordings / "2026" / "12" / "call-1.mp3"
    mp3.write_bytes(b"ID3" + bytes(range(256)) * 40)
    shipper = FileShipper(peer, {"recordings": recordings}, rootfs=rootfs)
    shipper.start()
    try:
        shipper.finished("recordings", mp3)
        copied = standby / "recordings" / "2026" / "12" / "call-1.mp3"
        wait_until(lambda: copied.exists() and copied.read_bytes() == mp3.read_bytes(), 10, "the recording copied")
        mp3.write_bytes(b"ID3" + b"another take of the same name" * 50)  # a prompt recorded anew
        shipper.finished("recordings", mp3)
        wait_until(lambda: copied.read_bytes() == mp3.read_bytes(), 10, "the changed file copied again")
    finally:
        shipper.stop()

    # promotion: the standby's own stale -wal must not be replayed onto the replica
    own = standby / "appliance.db"
    old = sqlite3.connect(own)
    old.execute("PRAGMA journal_mode=wal")
    old.execute("CREATE TABLE stale (x)")
    old.commit()
    assert promote_replica(own) is True
    conn = sqlite3.connect(own)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM commits").fetchone()[0] >= 15
    finally:
        conn.close()
        old.close()
    assert promote_replica(own) is False  # nothing new received: the box keeps what it has


def test_a_wav_the_peer_flagged_missing_is_encoded_after_all(tmp_path):
    """A box killed before it encoded a call's WAV, back as the active one: the replica says
    the recording is missing (the other box had no WAV); this box's WAV is queued again
    instead of failing the takeover on the duplicate linkedid."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))
    from wavfiles import write_wav

    from appliance.db import open_database
    from appliance.db.migrate import migrate
    from appliance.db.models import Recording
    from test_recording_pipeline import assert_complete, make_pipeline

    db = open_database(tmp_path / "a.db")
    migrate(db)
    pipeline, pool = make_pipeline(db, tmp_path)
    try:
        pipeline.begin("1700000001.1")  # recorded here, settled as missing by the peer
        pipeline.begin("1700000001.2")
        Recording.update(state="missing", error_code="recording.missing").execute()
        (tmp_path / "spool" / "1700000001.1.wav").unlink(missing_ok=True)
        write_wav(tmp_path / "spool" / "1700000001.1.wav", 2)
        assert pipeline.reconcile() == {"create": 1}
        assert pipeline.run_pending() == {"complete": 1}
        assert_complete(pipeline, "1700000001.1", 2)
        assert Recording.get(Recording.linkedid == "1700000001.2").state == "missing"
    finally:
        pool.close()
        db.close()
