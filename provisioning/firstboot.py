"""First-boot steps: numbered, idempotent, each marked done once it succeeded
(OpenWrt's uci-defaults are the model).  ``make run`` and the appliance image run
the same steps; on the image they run from a systemd unit before the services.

Done-markers live in ``<data_dir>/firstboot.done/``; delete one to run a step again.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import ssl
import stat
from pathlib import Path

from appliance import proc
from appliance.db import models, open_database
from appliance.db.migrate import migrate

logger = logging.getLogger(__name__)

ADMIN_PASSWORD_FILE = "first-admin-password.txt"
AMI_USER = "appliance"  # the manager account; its secret is made by step_10_secrets
# Asked for on the serial console; acted on by the next ``run`` before any step, when
# nothing has the database open.
FACTORY_RESET_MARKER = "factory-reset.requested"


class DiskFull(RuntimeError):
    """The data disk had no room for a first-boot step: nothing half-written is left, the
    step is not marked done, and the next start runs it again."""

    code = "firstboot.disk_full"

    def __init__(self, data_dir: Path, step: str):
        usage = shutil.disk_usage(data_dir) if data_dir.exists() else None
        free = f"{usage.free // 1024} KiB free of {usage.total // (1024 * 1024)} MiB" if usage else "no space"
        super().__init__(f"first boot could not finish ({step}): the data disk {data_dir} is full ({free}). "
                         "Free some space (or factory-reset from the serial console) and restart; "
                         "the remaining steps run then.")


def _write_private(path: Path, text: str | bytes) -> None:
    """Write a private file whole or not at all: a part file, fsync, rename (a full disk
    leaves the old file, or none, never a truncated one)."""
    part = path.with_name(path.name + ".part")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def step_10_secrets(settings) -> None:
    """Machine secrets: the AMI password, and ``web_secret`` (it signed the web UI's cookies until
    sessions moved into the database; still made, nothing reads it)."""
    if settings.secrets_path.exists():
        return
    _write_private(settings.secrets_path, json.dumps({
        "ami_secret": secrets.token_hex(24),
        "web_secret": secrets.token_hex(32),
    }, indent=2))


# The image's empty database at the newest schema, made by the image build
# (image_build/image.py, step_app): a box copies it instead of running every migration at
# first boot (6.6 s on the build machine, most of the first-boot unit under qemu).  It holds
# the schema only: the secrets, the admin and the certificate are made on each box.
DB_TEMPLATE = Path("/usr/share/appliance/empty-database.sqlite")


def step_20_database(settings, template: Path = DB_TEMPLATE) -> None:
    """Create the database (a copy of the image's empty one when there is one) and bring it to
    the newest schema."""
    if not settings.db_path.exists() and template.exists():
        _write_private(settings.db_path, template.read_bytes())
    db = open_database(settings.db_path)
    migrate(db)


def make_database_template(path: Path) -> None:
    """The empty database at the newest schema, for ``step_20_database`` on the image."""
    path = Path(path)
    path.unlink(missing_ok=True)
    db = open_database(path)
    migrate(db)
    db.execute_sql("PRAGMA journal_mode=delete")  # one self-contained file, no -wal beside it
    db.close()
    path.chmod(0o644)  # the schema only: nothing secret


def step_30_admin(settings) -> str | None:
    """The first admin account, with a random password kept for the installer to read;
    the web UI's first-run wizard is pending from now on.  Returns the password made (None
    when an admin existed)."""
    from appliance.services.users import UserService

    from appliance.services.site import SiteService

    db = open_database(settings.db_path)
    users = UserService(db)
    password = users.ensure_admin("admin")
    if password:
        _write_private(settings.data_dir / ADMIN_PASSWORD_FILE, password + "\n")
        SiteService(db, users, None).begin_setup()  # the web UI's first-run wizard comes next
    return password


CERT_FILE = "web.crt"
KEY_FILE = "web.key"
CERT_DAYS = 3650


def step_40_certificate(settings) -> None:
    """A self-signed HTTPS certificate for the web UI (EC P-256, ten years)."""
    tls = settings.tls_dir
    if (tls / CERT_FILE).exists() and (tls / KEY_FILE).exists():
        return
    tls.mkdir(mode=0o700, parents=True, exist_ok=True)
    host = socket.gethostname() or "callcenter"
    tmp_key, tmp_cert = tls / (KEY_FILE + ".tmp"), tls / (CERT_FILE + ".tmp")
    proc.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", str(tmp_key), "-out", str(tmp_cert), "-days", str(CERT_DAYS),
              "-subj", f"/O=Call-center appliance/CN={host}",
              "-addext", f"subjectAltName=DNS:{host},DNS:localhost"],
             what="make the web UI's self-signed HTTPS certificate", capture=True)
    os.chmod(tmp_key, 0o600)
    os.replace(tmp_key, tls / KEY_FILE)  # the key first: a certificate never lacks its key
    os.replace(tmp_cert, tls / CERT_FILE)


def certificate_fingerprint(settings) -> str | None:
    """SHA-256 of the web UI's certificate, as browsers show it (AB:CD:...), or None."""
    try:
        pem = (settings.tls_dir / CERT_FILE).read_text()
    except FileNotFoundError:
        return None
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


STEPS = (step_10_secrets, step_20_database, step_30_admin, step_40_certificate)


def settle_ownership(settings) -> None:
    """Hand the data directory to ``service_user`` (not a numbered step: at every boot, as
    root, before the services, since root wrote the files above and the console, run as
    root, may add some).  Nothing under it stays readable by others.  The Asterisk instance
    directory is shared with ``asterisk_user``'s group: directories setgid and group
    read-write, so the files either side makes are the other's to read; Asterisk's own
    files stay its own.  The data directory itself is that group's to pass through, no
    more.  The recordings' folder is settled, not walked: only the appliance writes there."""
    from appliance.privileges import Account

    user = Account.named(settings.service_user)
    ast = Account.named(settings.asterisk_user) if settings.asterisk_user else user
    data, instance = settings.data_dir, settings.asterisk_dir
    for sub in ("log", "run", "run/restart-requests"):  # before the console (root) may make them
        (data / sub).mkdir(exist_ok=True)
    instance.mkdir(exist_ok=True)
    _settle(data, user.uid, ast.gid, 0o750, 0)
    _settle(instance, user.uid, ast.gid, 0o2770, 0)
    not_walked = {settings.recordings_path}
    for dirpath, dirnames, filenames in os.walk(data):
        here = Path(dirpath)
        shared = here == instance or instance in here.parents
        for name in (*dirnames, *filenames):
            path = here / name
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode) or path == instance:
                continue
            is_dir = stat.S_ISDIR(st.st_mode)
            if shared:
                owner = st.st_uid if st.st_uid == ast.uid else user.uid
                _settle(path, owner, ast.gid, (0o2070 if is_dir else 0o060), 0o7770, st)
            else:
                _settle(path, user.uid, user.gid, 0, 0o7770, st)
        dirnames[:] = [d for d in dirnames if here / d not in not_walked]


def _settle(path: Path, uid: int, gid: int, add: int, keep: int, st=None) -> None:
    """``path`` owned by ``uid:gid``, its mode's bits outside ``keep`` cleared, ``add`` set."""
    st = st or os.lstat(path)
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.lchown(path, uid, gid)
    mode = (st.st_mode & 0o7777 & keep) | add
    if mode != st.st_mode & 0o7777 or (st.st_uid, st.st_gid) != (uid, gid):  # chown clears setgid
        os.chmod(path, mode)


def request_factory_reset(settings) -> None:
    """Erase everything under ``data_dir`` the next time the first-boot steps run."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _write_private(settings.data_dir / FACTORY_RESET_MARKER, "requested\n")
    logger.critical("factory reset requested: %s is erased at the next start", settings.data_dir)


def _factory_reset_if_requested(settings) -> bool:
    marker = settings.data_dir / FACTORY_RESET_MARKER
    if not marker.exists():
        return False
    logger.critical("factory reset: erasing %s", settings.data_dir)
    for entry in settings.data_dir.iterdir():
        if entry == marker:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    marker.unlink()  # last: a reset cut short by a power loss starts again
    return True


def run(settings, password: bool = True) -> str | None:
    """Run every step not yet done (after a requested factory reset, all of them); return
    the first admin password while it is still the admin's password (with ``password``
    false, None: ``appliance.main`` asks later, once calls are accepted, since checking it
    costs an scrypt)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _factory_reset_if_requested(settings)
    done_dir = settings.data_dir / "firstboot.done"
    done_dir.mkdir(exist_ok=True)
    made = None  # the admin's password when this run made it: no need to check it
    for step in STEPS:
        marker = done_dir / step.__name__
        if marker.exists():
            continue
        logger.info("first boot: %s", step.__doc__.strip().splitlines()[0])
        try:
            result = step(settings)
            made = result if step is step_30_admin else made
            _write_private(marker, "done\n")
        except Exception as exc:
            if not _disk_full(exc):
                raise
            raise DiskFull(settings.data_dir, step.__name__) from exc
    # Asked before the hand-over: reading the database as root may leave SQLite's -wal and
    # -shm files behind, which settle_ownership then gives to the appliance's account too
    # (root-owned ones kept the appliance from opening its own database: seen in the boot test).
    # A password this run made is the admin's: checking it would cost a second scrypt on the
    # first boot's way to calls accepted (seconds under qemu's emulation).
    password = (made or first_admin_password(settings)) if password else None
    if settings.service_user and os.geteuid() == 0:
        settle_ownership(settings)
    return password


def _disk_full(exc: Exception) -> bool:
    """ENOSPC, however it arrives: an OSError of ours, SQLite's error, openssl's message."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return any(text in str(exc) for text in ("database or disk is full", "No space left on device"))


def unfinished(settings) -> tuple[list[str], int] | None:
    """The first-boot steps not done yet and the MiB free on the data disk; None when all
    are done (what the serial console's sign-in screen tells a technician)."""
    done_dir = settings.data_dir / "firstboot.done"
    steps = [step.__name__ for step in STEPS if not (done_dir / step.__name__).exists()]
    if not steps:
        return None
    where = settings.data_dir if settings.data_dir.exists() else settings.data_dir.parent
    return steps, shutil.disk_usage(where).free // (1024 * 1024)


def first_admin_password(settings, db=None) -> str | None:
    """The first admin password while it is still the admin's password: what ``make run``,
    the first-boot unit and the serial console's sign-in screen show.  Once the admin has
    chosen their own (the first-run wizard asks for it) it is nobody's password and is no
    longer shown; the file stays, private, for a factory reset to replace.

    ``db``: the running appliance's database, checked through it.  Without it the check
    opens its own and then puts the models back on whatever database they were bound to:
    ``open_database`` binds every model to the one it opens, and an appliance whose models
    were left on this closed one wrote its call records on a second connection inside a
    transaction of its own (``CallRecordWriter``): "database is locked", no record (the
    PRI boot test, when the check moved after start-up)."""
    try:
        password = (settings.data_dir / ADMIN_PASSWORD_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    if not password or not settings.db_path.exists():
        return None
    from appliance.services.users import UserService

    if db is not None:
        return password if UserService(db).authenticate("admin", password) is not None else None
    bound = models.database.obj
    own = open_database(settings.db_path)
    try:
        return password if UserService(own).authenticate("admin", password) is not None else None
    finally:
        own.close()
        if bound is not None:
            models.database.initialize(bound)


def first_admin_notice(password: str) -> str:
    return (f"\n  First admin account:  user 'admin'  password '{password}'\n"
            "  (also shown on the serial console's sign-in screen until it is changed)\n"
            "  Sign in to the web UI with it: the first-run setup asks for your own password,\n"
            "  the time zone and language, the first trunk and the first queue.\n")


def load_secrets(settings) -> dict:
    try:
        return json.loads(settings.secrets_path.read_text())
    except FileNotFoundError:
        raise RuntimeError(f"{settings.secrets_path} is missing: run the first-boot steps first") from None


def main(argv: list[str] | None = None) -> int:
    """``python -m provisioning.firstboot [--config FILE]``: the image's first-boot unit.
    Prints the first admin password (systemd shows it on the serial console)."""
    from appliance import settings as settings_mod

    settings = settings_mod.from_command_line(argv, "Run the appliance's first-boot steps")
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    try:
        password = run(settings)
    except DiskFull as exc:
        print(f"\n  {exc}\n", flush=True)  # on the serial console, where a technician looks
        logger.critical("%s", exc)
        return 1
    if password:
        print(first_admin_notice(password), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
