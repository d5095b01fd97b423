"""The console's own process: ``python -m appliance.console [--config FILE] [--set k=v]``.

One composition root, like ``appliance.main``: gevent first, the settings, then every
collaborator of ``Console`` built here and passed in.  The appliance's supervisor runs
this when ``serial_device`` is set and respawns it if it exits.  A network change left
unconfirmed by an earlier run that died is rolled back before the first prompt.
"""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

from appliance import proc  # noqa: E402
from appliance import settings as settings_mod  # noqa: E402
from appliance.console import pbxview, sysinfo  # noqa: E402
from appliance.console.session import Console, ConsoleDeps, ConsoleOptions, web_urls  # noqa: E402
from appliance.console.terminal import Hangup, Terminal, open_port  # noqa: E402
from appliance.db import open_database  # noqa: E402
from appliance.db.worker import in_worker  # noqa: E402
from appliance.network import LanChanger, Pyroute2Backend  # noqa: E402
from appliance.services.reports import rebuild_all, site_zone  # noqa: E402
from appliance.services.users import UserService  # noqa: E402
from appliance.ha import status_of as ha_status_of  # noqa: E402
from appliance.supervisor import STATUS_FILE, read_status, request_restart  # noqa: E402
from hwdrivers.health import hardware_health  # noqa: E402
from provisioning import firstboot  # noqa: E402

logger = logging.getLogger("appliance.console")


def factory_reset_for(settings) -> Callable[[], str]:
    def factory_reset() -> str:
        firstboot.request_factory_reset(settings)
        if settings.rootfs:  # a developer's machine: never reboot the host
            return "console.factory.restart_needed"
        proc.run(["systemctl", "reboot"], what="restart the appliance for the factory reset", check=False)
        return "console.factory.rebooting"

    return factory_reset


def first_password_for(settings) -> Callable[[], str | None]:
    """The first admin password on file, as long as it still signs in as admin."""
    return lambda: firstboot.first_admin_password(settings)


def web_port_and_scheme(settings) -> tuple[int, str]:
    if settings.web_https_port:
        return settings.web_https_port, "https"
    return settings.web_port, "http"


def pbx_for(settings) -> Callable[[], pbxview.PbxReport]:
    """Asterisk's trunks and calls over AMI; without the AMI secret (first boot did not get
    as far as making it) a report that says so, and the console stays up."""
    try:
        secret = firstboot.load_secrets(settings)["ami_secret"]
    except (RuntimeError, ValueError, KeyError) as exc:
        reason = str(exc)
        return lambda: pbxview.PbxReport(False, reason)
    ami = pbxview.ami_client_factory(settings.ami_port, firstboot.AMI_USER, secret)
    return lambda: pbxview.query(ami)


class UsersOnDemand:
    """The accounts, opened at their first use and again after a failure: a console started
    before first boot made the database (a full disk stopped it) comes up all the same."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self._service: UserService | None = None

    def __getattr__(self, name: str):
        if self._service is None:
            self._service = UserService(open_database(self.db_path))
        return getattr(self._service, name)


def rebuild_reports_for(settings) -> Callable[[Callable[[int, int, int], None]], int]:
    """The report summaries rebuilt over a database handle of the console's own, each
    step in a native thread (``in_worker``): the console's loop keeps answering."""
    def rebuild(progress) -> int:
        db = open_database(settings.db_path)
        try:
            zone = in_worker(db, site_zone, settings.timezone)  # the site's clock, as the appliance's
            return rebuild_all(db, progress, run=lambda fn, *args: in_worker(db, fn, *args), zone=zone)
        finally:
            db.close()

    return rebuild


def backups_for(settings, pbx) -> Callable[[], object]:
    """The backups over a database handle of the console's own (opened at first use), work
    in a native thread; calls counted over AMI (a restore is refused while any is up)."""
    made = []

    def service():
        if not made:
            from appliance.services.backup import BackupService, Layout

            db = open_database(settings.db_path)
            made.append(BackupService(Layout.of(settings), db, settings.data_dir / "backups",
                                      upload_limit=settings.backup_upload_mb * 1024 * 1024,
                                      run=lambda fn, *args: in_worker(db, fn, *args),
                                      calls_up=lambda: len(pbx().calls)))
        return made[0]

    return service


def restart_appliance_for(settings) -> Callable[[], str]:
    def restart() -> str:
        if settings.rootfs:  # a developer's machine: never restart the host's services
            return "console.backup.restart_needed"
        proc.run(["systemctl", "restart", "--no-block", "appliance.service"],
                 what="restart the appliance on the restored data", check=False)
        return "console.backup.restarting"

    return restart


def upgrades_for(settings) -> Callable[[], object]:
    """The web upload's own service over the data directory, its checks in a native thread."""
    def service():
        import gevent

        from appliance.services.upgrade import Upgrades

        return Upgrades(settings.data_dir, off_loop=lambda fn, *a: gevent.get_hub().threadpool.apply(fn, a))

    return service


def build_deps(settings, network=None) -> ConsoleDeps:
    network = network or Pyroute2Backend()
    users = UsersOnDemand(settings.db_path)
    pbx = pbx_for(settings)
    return ConsoleDeps(
        web_urls=lambda: web_urls(network.interfaces(), *web_port_and_scheme(settings)),
        certificate=lambda: firstboot.certificate_fingerprint(settings) if settings.web_https_port else None,
        first_password=first_password_for(settings),
        users=users,
        system=sysinfo.collect,
        hardware=lambda: hardware_health(settings.hardware_root),
        services=lambda: read_status(settings.run_dir / STATUS_FILE),
        restart=lambda name, who: request_restart(settings.run_dir, name, who),
        pbx=pbx,
        network=network,
        lan=LanChanger(network, settings.network_dir, settings.lan_interface,
                       float(settings.network_confirm_seconds)),
        factory_reset=factory_reset_for(settings),
        first_boot=lambda: firstboot.unfinished(settings),
        ha=lambda: ha_status_of(settings.run_dir),
        rebuild_reports=rebuild_reports_for(settings),
        backups=backups_for(settings, pbx),
        usb_folders=sysinfo.usb_folders,
        restart_appliance=restart_appliance_for(settings),
        upgrades=upgrades_for(settings),
    )


def options_for(settings) -> ConsoleOptions:
    return ConsoleOptions(device=Path(settings.serial_device).name or "console",
                          lockout_seconds=float(settings.console_lockout_seconds),
                          idle_seconds=float(settings.console_idle_seconds), language=settings.console_language)


def main(argv: list[str] | None = None) -> int:
    settings = settings_mod.from_command_line(argv, "The technician's serial console")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not settings.serial_device:
        logger.error("no serial_device is set: nothing to run the console on")
        return 2
    deps = build_deps(settings)
    deps.lan.recover()
    port = open_port(settings.serial_device, settings.serial_baud)
    logger.info("console on %s at %d baud", settings.serial_device, settings.serial_baud)
    try:
        Console(Terminal(port), deps, options_for(settings)).run_forever()
    except Hangup as exc:
        logger.error("the console's line %s is gone: %s", settings.serial_device, exc)
        return 1
    finally:
        port.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
