"""Files holding secrets are never readable by other accounts: the database (and its WAL
files), the secrets, the TLS key, the first admin password and the generated pjsip.conf and
manager.conf, after the first-boot steps and a config apply, in development as on the
image; and the first-boot steps, run as root with a ``service_user``, hand the data
directory to that account, sharing Asterisk's instance directory with ``asterisk_user``'s
group."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

import pytest

from appliance import settings
from appliance.confgen.apply import write_files
from appliance.db import open_database
from provisioning import firstboot

from test_confgen import model


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_files_are_private_after_first_boot_and_apply(tmp_path):
    os.umask(0o022)  # as make run and the tests start
    s = settings.load(None, {"data_dir": tmp_path / "data"})
    firstboot.run(s)
    generated = tmp_path / "data" / "asterisk" / "etc" / "appliance"
    write_files(model(), generated)
    db = open_database(s.db_path)  # WAL: -wal and -shm appear with the database's mode
    db.execute_sql("CREATE TABLE IF NOT EXISTS t (x)")
    private = [s.db_path, s.db_path.with_name("appliance.db-wal"), s.db_path.with_name("appliance.db-shm"),
               s.secrets_path, s.tls_dir / firstboot.KEY_FILE, s.data_dir / firstboot.ADMIN_PASSWORD_FILE,
               generated / "pjsip.conf", generated / "manager.conf"]
    for path in private:
        assert path.exists(), path
        assert mode(path) & 0o007 == 0, f"{path} is {oct(mode(path))}: readable by others"
    for path in private[:6]:
        assert mode(path) == 0o600, (path, oct(mode(path)))
    assert mode(generated / "pjsip.conf") == mode(generated / "manager.conf") == 0o640
    assert all(mode(p) == 0o640 for p in generated.glob("*.conf"))


def test_a_generated_file_written_by_an_older_version_loses_its_world_read_bit(tmp_path):
    write_files(model(), tmp_path)
    (tmp_path / "pjsip.conf").chmod(0o644)
    assert write_files(model(), tmp_path) == []  # same text: not rewritten, only its mode fixed
    assert mode(tmp_path / "pjsip.conf") == 0o640


def _account(*names):
    for name in names:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.skip(f"none of the accounts {names} on this machine")


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to another account needs root")
def test_first_boot_as_root_hands_the_data_directory_to_the_service_account(tmp_path):
    service, ast = _account("nobody"), _account("daemon", "bin")
    data = tmp_path / "data"
    s = settings.load(None, {"data_dir": data, "service_user": service.pw_name, "asterisk_user": ast.pw_name})
    # what an older, root-run appliance left: root's files, one readable by all, Asterisk's own
    instance_etc = data / "asterisk" / "etc" / "appliance"
    instance_etc.mkdir(parents=True)
    (instance_etc / "pjsip.conf").write_text("secret")
    (instance_etc / "pjsip.conf").chmod(0o644)
    (data / "asterisk" / "lib").mkdir()
    astdb = data / "asterisk" / "lib" / "astdb.sqlite3"
    astdb.write_text("")
    os.chown(astdb, ast.pw_uid, ast.pw_gid)
    (data / "recordings" / "2026").mkdir(parents=True)
    (data / "recordings" / "2026" / "a.mp3").write_text("")
    firstboot.run(s)

    ast_gid = ast.pw_gid
    assert (data.stat().st_uid, data.stat().st_gid, mode(data)) == (service.pw_uid, ast_gid, 0o750)
    for path in [s.db_path, s.secrets_path, s.tls_dir / firstboot.KEY_FILE, s.tls_dir, data / "firstboot.done",
                 data / "log", data / "run" / "restart-requests", data / "recordings"]:
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (service.pw_uid, service.pw_gid), path
        assert mode(path) & 0o007 == 0, (path, oct(mode(path)))
    for path in [data / "asterisk", instance_etc.parent, instance_etc]:  # shared with Asterisk's group
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (service.pw_uid, ast_gid), path
        assert mode(path) == 0o2770, (path, oct(mode(path)))
    pjsip = (instance_etc / "pjsip.conf").stat()
    assert (pjsip.st_uid, pjsip.st_gid, mode(instance_etc / "pjsip.conf")) == (service.pw_uid, ast_gid, 0o660)
    assert (astdb.stat().st_uid, astdb.stat().st_gid) == (ast.pw_uid, ast_gid)  # Asterisk's own file stays its own
    assert mode(astdb) & 0o060 == 0o060
    assert (data / "recordings" / "2026" / "a.mp3").stat().st_uid == 0  # the recordings are not walked
    assert grp.getgrgid(ast_gid)  # a real group
