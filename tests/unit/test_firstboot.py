"""First-boot steps: numbered, idempotent, marked done, secrets private."""

from __future__ import annotations

import json
import stat

import pytest

from appliance import settings
from appliance.db import open_database
from provisioning import firstboot


def test_steps_run_once_and_keep_the_admin_password(tmp_path):
    s = settings.load(None, {"data_dir": tmp_path})
    password = firstboot.run(s)
    assert password and len(password) >= 12
    secrets = json.loads(s.secrets_path.read_text())
    assert len(secrets["ami_secret"]) >= 32 and len(secrets["web_secret"]) >= 32
    assert stat.S_IMODE(s.secrets_path.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "firstboot.done").iterdir()) == [
        "step_10_secrets", "step_20_database", "step_30_admin", "step_40_certificate"]
    # a second run changes nothing and still tells the installer the password
    assert firstboot.run(s) == password
    assert json.loads(s.secrets_path.read_text()) == secrets


def test_the_first_run_hashes_the_password_it_makes_once_and_later_runs_check_it(tmp_path, monkeypatch):
    """The first boot knows the password it just made: one scrypt (making it), not a second
    one checking it on the way to calls accepted; a later run checks it (it may have changed)."""
    from appliance.services import users

    hashed = []
    scrypt = users._scrypt
    monkeypatch.setattr(users, "_scrypt", lambda *args: hashed.append(1) or scrypt(*args))
    s = settings.load(None, {"data_dir": tmp_path})
    password = firstboot.run(s)
    assert password and len(hashed) == 1
    assert firstboot.run(s) == password and len(hashed) == 2  # checked: still the admin's
    db = open_database(s.db_path)
    users.UserService(db).set_password("admin", "Chosen-by-admin-7")
    db.close()
    assert firstboot.run(s) is None  # the admin chose their own: nobody's password any more


def test_step_numbers_are_unique_and_ordered():
    names = [step.__name__ for step in firstboot.STEPS]
    numbers = [int(n.split("_")[1]) for n in names]
    assert numbers == sorted(set(numbers))
    assert all(step.__doc__ for step in firstboot.STEPS)


def test_factory_reset_erases_everything_at_the_next_start(tmp_path):
    s = settings.load(None, {"data_dir": tmp_path})
    password = firstboot.run(s)
    secrets = json.loads(s.secrets_path.read_text())
    (tmp_path / "network").mkdir()
    (tmp_path / "network" / "lan.json").write_text('{"mode": "static"}')
    firstboot.request_factory_reset(s)
    assert firstboot.run(s) != password  # the same start erases, then runs every step again
    assert json.loads(s.secrets_path.read_text()) != secrets
    assert not (tmp_path / "network").exists()
    assert not (tmp_path / firstboot.FACTORY_RESET_MARKER).exists()
    new_password = firstboot.run(s)  # and only once
    assert json.loads(s.secrets_path.read_text()) != secrets and firstboot.run(s) == new_password


def test_the_https_certificate_is_made_once_key_private_and_its_fingerprint_is_openssls(tmp_path):
    import subprocess

    s = settings.load(None, {"data_dir": tmp_path})
    firstboot.run(s)
    cert, key = s.tls_dir / firstboot.CERT_FILE, s.tls_dir / firstboot.KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(s.tls_dir.stat().st_mode) == 0o700
    text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text", "-fingerprint", "-sha256"],
                          capture_output=True, text=True, check=True).stdout
    assert "prime256v1" in text and "DNS:localhost" in text
    assert f"Fingerprint={firstboot.certificate_fingerprint(s)}" in text
    before = cert.read_bytes()
    (tmp_path / "firstboot.done" / "step_40_certificate").unlink()
    firstboot.run(s)  # run again: an existing certificate is kept (browsers trusted it)
    assert cert.read_bytes() == before
    assert firstboot.certificate_fingerprint(settings.load(None, {"data_dir": tmp_path / "none"})) is None


def test_the_image_unit_prints_the_first_password(tmp_path, capsys):
    """``python -m provisioning.firstboot`` (appliance-firstboot.service): its standard
    output goes to the serial console, so the first admin password is shown there."""
    assert firstboot.main(["--set", f"data_dir={tmp_path}"]) == 0
    out = capsys.readouterr().out
    password = firstboot.first_admin_password(settings.load(None, {"data_dir": tmp_path}))
    assert f"user 'admin'  password '{password}'" in out


def test_the_first_password_is_shown_only_while_it_is_the_admins(tmp_path):
    """make run printed the first admin password at every start, even after the admin had
    chosen their own ("sign in with it"): it is shown only while it still signs in."""
    from appliance.services.users import UserService

    s = settings.load(None, {"data_dir": tmp_path})
    first = firstboot.run(s)
    assert first and firstboot.run(s) == first  # a restart before the wizard: still shown
    db = open_database(s.db_path)
    UserService(db).set_password("admin", "my-own-password-9", actor="admin")
    db.close()
    assert firstboot.run(s) is None and firstboot.first_admin_password(s) is None


def test_first_boot_copies_the_images_empty_database_instead_of_migrating(tmp_path, monkeypatch):
    from appliance.db import migrate as migrate_mod

    template = tmp_path / "empty-database.sqlite"
    firstboot.make_database_template(template)
    assert not template.with_name(template.name + "-wal").exists()  # one self-contained file
    assert stat.S_IMODE(template.stat().st_mode) == 0o644
    applied = []
    monkeypatch.setattr(migrate_mod, "importlib", type("I", (), {"import_module": applied.append}))
    s = settings.load(None, {"data_dir": tmp_path / "box"})
    s.data_dir.mkdir()
    firstboot.step_20_database(s, template=template)
    assert applied == []  # no migration ran on the box: the copy is at the newest schema
    assert stat.S_IMODE(s.db_path.stat().st_mode) == 0o600
    db = open_database(s.db_path)
    assert migrate_mod.current_version(db) == migrate_mod.head()
    assert db.execute_sql("SELECT COUNT(*) FROM user").fetchone() == (0,)  # schema only: no account
    db.close()


def test_without_the_images_database_first_boot_migrates(tmp_path):
    from appliance.db import migrate as migrate_mod

    s = settings.load(None, {"data_dir": tmp_path})
    firstboot.step_20_database(s, template=tmp_path / "none.sqlite")
    db = open_database(s.db_path)
    assert migrate_mod.current_version(db) == migrate_mod.head()
    db.close()


def test_the_service_can_leave_checking_the_first_password_for_after_start_up(tmp_path):
    s = settings.load(None, {"data_dir": tmp_path})
    assert firstboot.run(s, password=False) is None  # no scrypt on the way to calls accepted
    assert len(list((tmp_path / "firstboot.done").iterdir())) == len(firstboot.STEPS)
    assert firstboot.first_admin_password(s) == (tmp_path / firstboot.ADMIN_PASSWORD_FILE).read_text().strip()


def test_checking_the_first_password_leaves_the_models_on_the_appliances_database(tmp_path):
    """The boot branch moved the check after start-up: its own database rebound every model,
    so the appliance's call record (written on its database, in a transaction of its own,
    through the models) waited on a second connection: "database is locked", no record."""
    from appliance.db import models

    s = settings.load(None, {"data_dir": tmp_path})
    firstboot.run(s, password=False)
    app_db = open_database(s.db_path)  # the running appliance's
    try:
        assert firstboot.first_admin_password(s)  # its own database, closed again
        assert models.database.obj is app_db
        with app_db.atomic():  # CallRecordWriter.write: the report buckets, then the row
            app_db.execute_sql("UPDATE user SET active = active")
            models.User.update(active=True).execute()
    finally:
        app_db.close()


def test_the_appliance_checks_the_first_password_through_its_own_database(tmp_path, monkeypatch):
    import inspect

    from appliance import main

    s = settings.load(None, {"data_dir": tmp_path})
    firstboot.run(s, password=False)
    db = open_database(s.db_path)
    monkeypatch.setattr(firstboot, "open_database", lambda path: pytest.fail("a second database"))
    try:
        assert firstboot.first_admin_password(s, db=db)
    finally:
        db.close()
    assert "first_admin_password(settings, db=app.db)" in inspect.getsource(main.main)
