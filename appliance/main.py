"""The composition root: one process, every service built here with its
collaborators passed in, then run on one gevent loop.

``python -m appliance.main`` is what ``make run`` starts; the integration tests build
the same ``Appliance`` with their own settings (ports, directories).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from appliance import settings as settings_mod  # noqa: E402
from appliance.agi.handlers import HandlerRegistry  # noqa: E402
from appliance.agi.handlers import agent as agent_codes  # noqa: E402
from appliance.agi.handlers import menu, pin, ping, route  # noqa: E402
from appliance.agi.server import FastAgiServer  # noqa: E402
from appliance.ami.client import AmiClient  # noqa: E402
from appliance.bus import EventBus  # noqa: E402
from appliance.confgen.apply import apply as apply_config  # noqa: E402
from appliance.confgen.from_db import build_model, menu_table, queue_policies, routing_table  # noqa: E402
from appliance.confgen.model import AmiUser, Network  # noqa: E402
from appliance.db import open_database  # noqa: E402
from appliance.db.migrate import migrate  # noqa: E402
from appliance.db.models import AgentStateLog, CallRecord  # noqa: E402
from appliance.engine.live import (  # noqa: E402
    AgentStateChanged,
    LiveState,
    EndShift,
    PauseAgent,
    Publish,
    WriteCallRecord,
)
from appliance.engine.menus import MenuTable  # noqa: E402
from appliance.engine.routing import RoutingTable  # noqa: E402
from appliance.pbx import AsteriskInstance  # noqa: E402
from appliance.services.agents import AgentService  # noqa: E402
from appliance.services.calls import CallControl  # noqa: E402
from appliance.services.config import ConfigService  # noqa: E402
from appliance.services.menus import MenuService  # noqa: E402
from appliance.services.prompts import PromptFiles, PromptService, resolve_in_root  # noqa: E402
from appliance.services.users import UserService  # noqa: E402
from appliance.supervisor import Watch  # noqa: E402
from provisioning import firstboot  # noqa: E402

logger = logging.getLogger("appliance")

AMI_USER = "appliance"


def _dt(ts):
    import datetime as dt

    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


class CallRecordWriter:
    """Carries out ``WriteCallRecord``: one row per call, idempotent by linkedid."""

    def __init__(self, db):
        self.db = db
        self.written = 0

    def write(self, record: dict) -> None:
        row = dict(record)
        for key in ("enter_time", "answer_time", "end_time"):
            row[key] = _dt(row[key])
        with self.db.atomic():
            CallRecord.insert(**row).on_conflict_replace().execute()
        self.written += 1
        logger.info("call %s recorded: %s %s -> %s/%s, wait %.1fs talk %.1fs",
                    record["linkedid"], record["disposition"], record["caller"], record["queue"],
                    record["agent"], record["wait_seconds"], record["talk_seconds"])


def last_agent_of(caller: str, rule, now) -> str | None:
    """The agent who last talked with ``caller`` long enough, recently enough (sticky agent).
    One indexed query (caller, end_time) on the call path."""
    import datetime as dt

    since = (now - dt.timedelta(days=rule.lookback_days)).replace(tzinfo=None)
    row = (CallRecord.select(CallRecord.agent)
           .where(CallRecord.caller == caller, CallRecord.end_time >= since, CallRecord.agent != "",
                  CallRecord.talk_seconds >= rule.min_talk_seconds)
           .order_by(CallRecord.end_time.desc()).first())
    return row.agent if row else None


def customer_of(caller: str):
    """The customer calling from ``caller`` (with or without a leading +), or None."""
    from appliance.db.models import Customer

    number = (caller or "").strip().lstrip("+")
    if not number:
        return None
    return Customer.select().where(Customer.phone.in_((number, "+" + number))).first()


def account_manager_of(caller: str) -> str | None:
    """VIP routing: the work number of the calling customer's account manager, if any."""
    customer = customer_of(caller)
    return customer.account_manager.number if customer and customer.account_manager_id else None


class AgentStateWriter:
    """Carries out ``AgentStateChanged``: closes the agent's open state row, opens the next."""

    def __init__(self, db):
        self.db = db

    def write(self, change: AgentStateChanged) -> None:
        at = _dt(change.at)
        with self.db.atomic():
            open_row = (AgentStateLog.select().where(AgentStateLog.agent == change.agent,
                                                     AgentStateLog.ended_at.is_null())
                        .order_by(AgentStateLog.id.desc()).first())
            if open_row is not None:
                open_row.ended_at = at
                open_row.seconds = max(0.0, (at - open_row.started_at).total_seconds())
                open_row.save()
            AgentStateLog.create(agent=change.agent, state=change.state, reason=change.reason, started_at=at)


class Appliance:
    def __init__(self, settings: settings_mod.Settings):
        self.settings = settings
        self.secrets = firstboot.load_secrets(settings)
        self.db = open_database(settings.db_path)
        migrate(self.db)
        self.bus = EventBus()
        self.live = LiveState()
        self.records = CallRecordWriter(self.db)
        self.agent_states = AgentStateWriter(self.db)
        self.routing = RoutingTable()
        self.menus_table = MenuTable()
        self.users = UserService(self.db)
        self.config = ConfigService(self.db, on_change=self.apply_config)
        self.pbx = AsteriskInstance(settings.asterisk_dir, Path(settings.rootfs) if settings.rootfs else None)
        rootfs = Path(settings.rootfs) if settings.rootfs else Path("/")
        self.prompt_files = PromptFiles(self.pbx.instance_dir / "lib" / "prompts", f"{self.pbx.paths.lib}/prompts",
                                        resolve_in_root(rootfs, "/usr/share/asterisk/sounds/en"))
        self.menus = MenuService(self.db, self.config, self.prompt_files)
        self.prompts = PromptService(self.db, self.config, self.prompt_files)
        self.network = Network(
            sip_bind=settings.sip_bind, sip_port=settings.sip_port, ami_bind="127.0.0.1",
            ami_port=settings.ami_port, agi_host=settings.agi_host, agi_port=settings.agi_port,
            rtp_start=settings.rtp_start, rtp_end=settings.rtp_end,
        )
        self.ami_user = AmiUser(AMI_USER, self.secrets["ami_secret"])
        self.ami = AmiClient("127.0.0.1", settings.ami_port, AMI_USER, self.secrets["ami_secret"],
                             on_event=self.on_ami_event, on_connect=self.on_ami_connect,
                             on_disconnect=self.on_ami_disconnect)
        self.agents = AgentService(self.db, self.ami)
        self.calls = CallControl(self.ami, self.live, self.execute)
        registry = HandlerRegistry()
        registry.register(route.SCRIPT, route.make_handler(lambda: self.routing, last_agent_of,
                                                                 account_manager_of))
        registry.register(ping.SCRIPT, ping.handle)
        registry.register(agent_codes.SCRIPT, agent_codes.make_handler(self.agents))
        registry.register(pin.SCRIPT, pin.make_handler(customer_of))
        registry.register(menu.SCRIPT, menu.make_handler(lambda: self.menus_table))
        self.agi = FastAgiServer(settings.agi_host, settings.agi_port, registry, pool_size=settings.agi_pool_size)
        self.asterisk = Watch("asterisk", start=self._start_asterisk, wait=self._wait_asterisk,
                              on_exit=self._asterisk_exited)
        self.web: WSGIServer | None = None
        self._ticker: gevent.Greenlet | None = None
        self._ami_lost_at: float | None = None
        self.started_at = time.time()

    # -- configuration -----------------------------------------------------
    def model(self):
        return build_model(self.pbx.paths, self.network, self.ami_user, self.prompt_files)

    def apply_config(self) -> None:
        """Regenerate Asterisk's config from the database and reload what changed."""
        result = apply_config(self.model(), self.pbx.generated_dir, self.pbx.cli if self.pbx.running else None)
        self.refresh_tables()
        if result.restart_needed and self.pbx.running:
            logger.warning("a module list change waits for the next Asterisk restart")
        if self.ami.connected:  # a queue member added or removed while its agent is signed in
            self.agents.sync()

    def refresh_tables(self) -> None:
        """The in-memory copies of configuration that the call path reads without the database."""
        self.routing = routing_table()
        self.menus_table = menu_table(self.prompt_files)
        self.live.set_policies(queue_policies())

    # -- Asterisk ------------------------------------------------------------
    def _start_asterisk(self) -> None:
        model = self.model()
        self.pbx.prepare(model)
        apply_config(model, self.pbx.generated_dir, None)
        self.refresh_tables()
        self.pbx.start()
        self.pbx.wait_fully_booted(timeout=60)
        logger.info("Asterisk is up (pid %s)", self.pbx.pid)

    def _wait_asterisk(self) -> None:
        if self.pbx.process is not None:
            self.pbx.process.wait()

    def _asterisk_exited(self) -> None:
        self.pbx.kill()  # reap the wrapper and clean up

    # -- AMI -----------------------------------------------------------------
    def on_ami_event(self, frame) -> None:
        self.execute(self.live.apply(frame.as_dict(), time.time()))

    def execute(self, commands) -> None:
        for command in commands:
            if isinstance(command, WriteCallRecord):
                self.records.write(command.record)
            elif isinstance(command, Publish):
                self.bus.publish(command.topic, self._with_customer(command.topic, command.data))
            elif isinstance(command, AgentStateChanged):
                self.agent_states.write(command)
            elif isinstance(command, PauseAgent):
                # never from the AMI reader itself: it would wait for its own response
                gevent.spawn(self._in_background, f"pausing agent {command.agent} after missed calls",
                             self.agents.pause, command.agent, command.reason)
            elif isinstance(command, EndShift):
                gevent.spawn(self._in_background, f"signing out agent {command.agent} (phone left the shift)",
                             self.agents.pool_logoff, command.agent)

    @staticmethod
    def _with_customer(topic: str, data: dict) -> dict:
        """The screen pop: a call offered to (or dialled by) an agent carries the customer record."""
        if topic != "call" or data.get("event") not in ("offered", "dialling"):
            return data
        customer = customer_of(data.get("caller", ""))
        view = None
        if customer is not None:
            view = {"name": customer.name, "phone": customer.phone, "category": customer.category,
                    "account_manager": customer.account_manager.number if customer.account_manager_id else None}
        return {**data, "customer": view}

    @staticmethod
    def _in_background(what: str, fn, *args) -> None:
        """An engine command that talks to Asterisk, run off the AMI reader's greenlet."""
        try:
            fn(*args)
            logger.info("done: %s", what)
        except Exception:
            logger.exception("failed: %s", what)

    def _tick(self) -> None:
        while True:
            gevent.sleep(1.0)
            try:
                self.execute(self.live.tick(time.time()))
            except Exception:
                logger.exception("live state tick failed")

    def on_ami_connect(self, client) -> None:
        gevent.spawn(self._resync)

    def _resync(self) -> None:
        """After (re)connecting: queue members from the DB, calls Asterisk no longer has closed."""
        try:
            self.agents.sync()
            _, members = self.ami.send_action_list("QueueStatus", {})
            for event in members:
                self.execute(self.live.apply(event.as_dict(), time.time()))
            _, channels = self.ami.send_action_list("CoreShowChannels", {})
            live_ids = {c.get("Linkedid") or c.get("Uniqueid") for c in channels}
            ended_at = self._ami_lost_at or time.time()
            self.execute(self.live.close_calls_not_in(live_ids, ended_at, "interrupted"))
            self._ami_lost_at = None
        except Exception:
            logger.exception("resynchronising with Asterisk after connecting failed")

    def on_ami_disconnect(self, client) -> None:
        if self._ami_lost_at is None:
            self._ami_lost_at = time.time()

    # -- health --------------------------------------------------------------
    def health(self) -> dict:
        components = {
            "asterisk": {**self.asterisk.status(), "up": self.asterisk.state == "running" and self.pbx.running,
                         "pid": self.pbx.pid},
            "ami": {"state": self.ami.state, "up": self.ami.connected,
                    "malformed_frames": self.ami.stats.malformed},
            "agi": {"state": "listening" if self.agi_running else "stopped", "up": self.agi_running,
                    "requests": self.agi.stats.requests, "handler_errors": self.agi.stats.handler_errors},
            "db": self._db_health(),
        }
        up = [c["up"] for c in components.values()]
        status = "ok" if all(up) else ("down" if not components["asterisk"]["up"] else "degraded")
        return {"status": status, "uptime_seconds": round(time.time() - self.started_at), "components": components}

    @property
    def agi_running(self) -> bool:
        return bool(getattr(self.agi, "started", True)) and self.agi.address is not None

    def _db_health(self) -> dict:
        try:
            self.db.execute_sql("SELECT 1").fetchone()
            return {"state": "ok", "up": True}
        except Exception as exc:  # the health page must answer even then
            return {"state": f"error: {exc}", "up": False}

    def live_snapshot(self) -> dict:
        return self.live.snapshot(time.time())

    # -- lifecycle -----------------------------------------------------------
    def start(self, web: bool = True) -> None:
        self._ticker = gevent.spawn(self._tick)
        self.agi.start()
        self.asterisk.start()
        self.ami.start()
        if web:
            self.start_web()

    def start_web(self) -> None:
        from webui.app import WebDeps, make_app

        deps = WebDeps(db=self.db, config=self.config, users=self.users, agents=self.agents,
                       health=self.health, live=self.live_snapshot,
                       secret_key=self.secrets["web_secret"].encode(), bus=self.bus, calls=self.calls,
                       menus=self.menus, prompts=self.prompts)
        self.web = WSGIServer((self.settings.web_host, self.settings.web_port), make_app(deps), log=None)
        self.web.start()
        logger.info("web UI on http://%s:%s/", self.settings.web_host, self.web.server_port)

    def stop(self) -> None:
        if self.web is not None:
            self.web.stop(timeout=2)
        if self._ticker is not None:
            self._ticker.kill()
        self.ami.stop()
        self.asterisk.stop()
        self.pbx.stop()
        self.agi.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the call-center appliance")
    parser.add_argument("--config", type=Path, default=None, help="settings file (INI, [appliance] section)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one setting")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    settings = settings_mod.load(args.config, overrides)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    admin_password = firstboot.run(settings)
    app = Appliance(settings)
    app.start()
    if not app.ami.wait_connected(15):
        logger.error("AMI did not connect within 15 s; the appliance runs degraded (see /api/health)")
    print(json.dumps({"web": f"http://{settings.web_host}:{app.web.server_port}/",
                      "health": app.health()["status"]}), flush=True)
    if admin_password:
        print(f"\n  First admin account:  user 'admin'  password '{admin_password}'\n", flush=True)
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()
    logger.info("stopping")
    app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
