"""The composition root: one process, every service built here with its
collaborators passed in, then run on one gevent loop.

``python -m appliance.main`` is what ``make run`` starts; the integration tests build
the same ``Appliance`` with their own settings (ports, directories).
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from appliance import numbers  # noqa: E402
from appliance import places, proc  # noqa: E402
from appliance import settings as settings_mod  # noqa: E402
from appliance import sounds  # noqa: E402
from appliance.agi.handlers import HandlerRegistry  # noqa: E402
from appliance.agi.handlers import agent as agent_codes  # noqa: E402
from appliance.agi.handlers import menu, pin, ping, prompt_record, record, route  # noqa: E402
from appliance.agi.handlers import calling as calling_agi  # noqa: E402
from appliance.agi.handlers import campaign as campaign_agi  # noqa: E402
from appliance.agi.handlers import dialer as dialer_agi  # noqa: E402
from appliance.agi.handlers import fax as fax_agi  # noqa: E402
from appliance.agi.handlers import fax_out as fax_out_agi  # noqa: E402
from appliance.agi.handlers import voicecode as voicecode_agi  # noqa: E402
from appliance.agi.handlers import voicemail as voicemail_agi  # noqa: E402
from appliance.agi.server import FastAgiServer  # noqa: E402
from appliance.ami.client import AmiClient  # noqa: E402
from appliance.bus import EventBus  # noqa: E402
from appliance.db.connections import ConnectionPool  # noqa: E402
from appliance.confgen.apply import apply as apply_config  # noqa: E402
from appliance.confgen.apply import write_atomic  # noqa: E402
from appliance.services.softphone import Softphones  # noqa: E402
from appliance.confgen.dahdi import EXTENSIONS_FILE as DAHDI_EXTENSIONS_FILE  # noqa: E402
from appliance.confgen.dahdi import DahdiResult, apply_dahdi, run_dahdi_cfg  # noqa: E402
from appliance.confgen.from_db import (build_model, menu_table, queue_policies, registering_trunks,  # noqa: E402
                                      routing_table)
from appliance.confgen.model import AmiUser, Network  # noqa: E402
from appliance.db import open_database  # noqa: E402
from appliance.dialplan_vars import INSTANCE_GLOBAL  # noqa: E402
from appliance.db.migrate import migrate  # noqa: E402
from appliance.db.querypool import QueryPool  # noqa: E402
from appliance.db.writers import AgentStateWriter, CallRecordWriter, MenuStepWriter  # noqa: E402
from appliance.ha.node import KEPT_DIR, HaNode  # noqa: E402
from appliance.ha.replication import promote_replica  # noqa: E402
from appliance.engine.registrations import (  # noqa: E402
    Registrations,
    parse_busy_ports,
    parse_contacts,
    parse_registrations,
)
from appliance.engine.live import (  # noqa: E402
    AgentStateChanged,
    LiveState,
    EndShift,
    HoldForDisposition,
    PauseAgent,
    Publish,
    WriteCallRecord,
)
from appliance.engine.menus import MenuTable  # noqa: E402
from appliance.engine.routing import RoutingTable  # noqa: E402
from appliance.network import LanChanger, Pyroute2Backend, dhcp_argv  # noqa: E402
from appliance.pbx import AsteriskInstance  # noqa: E402
from appliance.privileges import Account, keep_to_ourselves, user_name  # noqa: E402
from appliance.recording.archive import RecordingHousekeeping  # noqa: E402
from appliance.recording.pipeline import ProcessPool, RecordingConfig, RecordingPipeline  # noqa: E402
from appliance.services.agent_setup import AgentSetup  # noqa: E402
from appliance.services.agents import AgentService  # noqa: E402
from appliance.services import callers  # noqa: E402
from appliance.services import fxs  # noqa: E402
from appliance.services.billing import BillingService  # noqa: E402
from appliance.services.compliance import OutboundCheck  # noqa: E402
from appliance.services.calls import CallControl  # noqa: E402
from appliance.services.agentless import AgentlessCalls  # noqa: E402
from appliance.services.campaigns import Campaigns  # noqa: E402
from appliance.services.dialer import Dialer  # noqa: E402
from appliance.services.config import ConfigService  # noqa: E402
from appliance.services.crm import CustomerService  # noqa: E402
from appliance.services.orders import OrderService  # noqa: E402
from appliance.services.workorders import WorkOrderService  # noqa: E402
from appliance.services.kb import KnowledgeBase  # noqa: E402
from appliance.services.upgrade import Upgrades  # noqa: E402
from appliance.slots import running_version  # noqa: E402
from appliance.services.scripts import CallScripts  # noqa: E402
from appliance.services.customer_mail import CustomerMail  # noqa: E402
from appliance.services.calllists import CallLists  # noqa: E402
from appliance.services.recording import RecordingService  # noqa: E402
from appliance.db.worker import in_worker  # noqa: E402
from appliance.services.report_schedule import ReportSchedules  # noqa: E402
from appliance.services.reports import ReportService  # noqa: E402
from appliance.services.menus import MenuService  # noqa: E402
from appliance.mail import Outbox, SmtpConfig  # noqa: E402
from appliance.services.webhooks import WebhookService  # noqa: E402
from appliance.services.prompt_phone import PhoneRecorder  # noqa: E402
from appliance.services.prompts import PromptFiles, PromptService, mpg123_decoder, resolve_in_root  # noqa: E402
from appliance.services.provisioning import ProvisioningService  # noqa: E402
from appliance.services.fax import FaxService  # noqa: E402
from appliance.services.fax_out import FaxSender  # noqa: E402
from appliance.services.voicecodes import VoiceCodeService  # noqa: E402
from appliance.services.notices import MailNotices  # noqa: E402
from appliance.services.site import SiteService, zone_of  # noqa: E402
from appliance.services.sipguard import SipGuard  # noqa: E402
from appliance.services.voicemail import VoicemailService  # noqa: E402
from appliance.services.users import UserService  # noqa: E402
from appliance.services.ha import HaSettingsStore, audit_ha_change, audit_kept_removed  # noqa: E402
from appliance.services.kept_aside import KeptAside  # noqa: E402
from appliance.services.backup import BackupService, Layout  # noqa: E402
from appliance.supervisor import STATUS_FILE, ProcessChild, Supervisor, Watch, digest, request_restart  # noqa: E402
from hwdrivers.dahdi_conf import DahdiSettings, parse_dynamic_spans  # noqa: E402
from hwdrivers.health import hardware_health  # noqa: E402
from provisioning import firstboot  # noqa: E402
from webui.edge import WebLimits, WebServer, raise_fd_limit, web_connection_cap  # noqa: E402

logger = logging.getLogger("appliance")
REPO_ROOT = Path(__file__).resolve().parent.parent

AMI_USER = firstboot.AMI_USER
HA_OFF = {"state": "off", "up": True, "enabled": False}  # a box on its own: hot standby not set up
REDIRECT_CONNECTIONS = 64  # plain HTTP when HTTPS is on: only ever answers with a redirect
SWITCH_INTERVAL = 0.001  # seconds; measured in bench/web_flood.py


RECORDING_SPOOL = "recordings"  # under Asterisk's spool: where MixMonitor writes <linkedid>.wav
FAX_SPOOL = "fax"  # ...and where ReceiveFAX writes <linkedid>.tif
FAX_OUT_SPOOL = "fax-out"  # ...and where SendFAX reads <id>.tif
CAMPAIGN_AUDIO = "campaigns"  # under Asterisk's run folder: the values a campaign call says, while it lasts
VOICE_CODE_AUDIO = "voice-codes"  # under Asterisk's run folder: each voice code call's audio, while it lasts


def recording_config(settings: settings_mod.Settings, spool_dir: Path) -> RecordingConfig:
    extra = {"workers": settings.recording_workers} if settings.recording_workers > 0 else {}
    return RecordingConfig(spool_dir=spool_dir, store_dir=settings.recordings_path,
                           bitrate_kbps=settings.recording_bitrate_kbps,
                           reserve_min_bytes=settings.recording_reserve_mb * 1000 * 1000,
                           archive_dir=Path(settings.recording_archive_dir) if settings.recording_archive_dir else None,
                           **extra)


class Appliance:
    def __init__(self, settings: settings_mod.Settings, ha=None):
        self.settings = settings
        self.ha = ha  # appliance.ha.node.HaNode when this box is one of a hot-standby pair
        self.secrets = firstboot.load_secrets(settings)
        self.db = open_database(settings.db_path)
        # kept connections that any greenlet of the loop borrows (FastAGI's calls, web requests, a
        # recording's hand-over...): a new one each time set its pragmas and read the schema on the loop
        self.db_pool = ConnectionPool(self.db, keep=32)
        migrate(self.db)
        self.bus = EventBus(defer=gevent.spawn_later)  # queue snapshots to the streams at most 4 a second
        self.live = LiveState()
        self.registrations = Registrations()
        self.agent_states = AgentStateWriter(self.db)
        self.routing = RoutingTable()
        self.menus_table = MenuTable()
        self.users = UserService(self.db)
        self.config = ConfigService(self.db, on_change=self.apply_config)
        self.agent_setup = AgentSetup(self.config, self.users)
        self.site = SiteService(self.db, self.users, self.config, default_timezone=settings.timezone,
                                agent_setup=self.agent_setup)
        self.billing = BillingService(self.db, home_region=self.site.home_region, area_code=self.site.area_code,
                                      timezone=self.site.timezone)
        self.records = CallRecordWriter(self.db, rate=self.billing.rate,  # each call's cost at hang-up
                                        zone=lambda: zone_of(self.site.timezone()))  # the day summaries' clock
        self.crm = CustomerService(self.db, timezone=self.site.timezone)
        self.pbx = AsteriskInstance(settings.asterisk_dir, Path(settings.rootfs) if settings.rootfs else None,
                                    Account.named(settings.asterisk_user) if settings.asterisk_user else None)
        rootfs = Path(settings.rootfs) if settings.rootfs else Path("/")
        self.prompt_files = PromptFiles(self.pbx.instance_dir / "lib" / "prompts", f"{self.pbx.paths.lib}/prompts",
                                        resolve_in_root(rootfs, "/usr/share/asterisk/sounds/en"),
                                        builtin_asterisk_dir=f"{self.pbx.paths.lib}/{sounds.FOLDER}")
        self.menus = MenuService(self.db, self.config, self.prompt_files)
        self.prompts = PromptService(self.db, self.config, self.prompt_files, mpg123_decoder(settings.rootfs))
        self.network = Network(
            sip_bind=settings.sip_bind, sip_port=settings.sip_port, ami_bind="127.0.0.1",
            ami_port=settings.ami_port, agi_host=settings.agi_host, agi_port=settings.agi_port,
            rtp_start=settings.rtp_start, rtp_end=settings.rtp_end,
            webrtc_port=settings.webrtc_port, webrtc_bind=settings.web_host,
            **self._webrtc_certificate(settings),
        )
        self.ami_user = AmiUser(AMI_USER, self.secrets["ami_secret"])
        self.ami = AmiClient("127.0.0.1", settings.ami_port, AMI_USER, self.secrets["ami_secret"],
                             on_event=self.on_ami_event,
                             on_disconnect=self.on_ami_disconnect,
                             identity=self._asterisk_identity)
        self.agents = AgentService(self.db, self.ami)
        self.calling = OutboundCheck(self.db, self.site, self.live, default_window=settings.calling_window,
                                     card=self.card_facts)  # every outbound path's one check
        self.calls = CallControl(self.ami, self.live, self.execute, self.calling)
        self.campaigns = Campaigns(self.db, self.calls, self.crm, self.bus,
                                   zone=lambda: zone_of(self.site.timezone()), region=self.site.home_region,
                                   dialing=lambda row: self.dialer.status(row))
        self.dialer = Dialer(self.db, self.ami, self.live, self.calling, self.campaigns, self.bus,
                             region=self.site.home_region,
                             language=lambda: settings.caller_language)  # the campaigns the appliance dials
        self.recording_config = recording_config(settings, self.pbx.spool_dir / RECORDING_SPOOL)
        self.encoders = ProcessPool(self.recording_config.workers)
        self.pipeline = RecordingPipeline(self.db, self.recording_config, self.encoders)
        self.recordings = RecordingService(self.pipeline, self.ami, self.live,
                                           f"{self.pbx.paths.spool}/{RECORDING_SPOOL}")
        self.housekeeping = RecordingHousekeeping(self.db, self.pipeline, self.recording_config.archive_dir)
        registry = HandlerRegistry()
        registry.register(route.SCRIPT, route.make_handler(lambda: self.routing, callers.last_agent_of,
                                                           callers.account_manager_of, recordings=self.recordings,
                                                           trunk_of=self.live.trunk_of))
        registry.register(ping.SCRIPT, ping.handle)
        registry.register(agent_codes.SCRIPT, agent_codes.make_handler(self.agents))
        registry.register(pin.SCRIPT, pin.make_handler(callers.customer_of))
        registry.register(record.SCRIPT, record.make_handler(self.recordings, trunk_of=self.live.trunk_of),
                          fallback=False)
        registry.register(menu.SCRIPT, menu.make_handler(lambda: self.menus_table,
                                                         order_of=OrderService.latest_for_number,
                                                         on_step=MenuStepWriter(self.db).write))
        registry.register(calling_agi.SCRIPT, calling_agi.make_handler(self.calling))
        self.mail = Outbox(settings.mail_dir, SmtpConfig.from_settings(settings))
        self.webhooks = WebhookService(self.db)  # signed webhooks: the bus's events and the listeners below
        self.bus.taps.append(self.webhooks.published)
        notices = MailNotices(self.mail, self.site.language)
        self.reports = ReportService(self.db, timezone=self.site.timezone,
                                     sales=OrderService(self.db, self.crm).sales)  # the orders' own figures
        self.report_schedules = ReportSchedules(self.db, self.reports, self.mail,
                                                Path(settings.data_dir) / "reports",
                                                run=lambda fn, *args: in_worker(self.db, fn, *args))
        self.pipeline.completed.append(notices.recording_complete)
        self.phone_recorder = PhoneRecorder(self.prompts, self.pbx.spool_dir, self.pbx.paths.spool)
        registry.register(prompt_record.SCRIPT, prompt_record.make_handler(self.phone_recorder, self.pbx.paths.sounds),
                          fallback=False)
        self.workorders = WorkOrderService(self.db, self.crm, data_dir=settings.data_dir, bus=self.bus,
                                           outbox=self.mail, language=self.site.language,
                                           off_loop=lambda fn, *a: gevent.get_hub().threadpool.apply(fn, a),
                                           call_lists=CallLists(self.db))
        self.workorders.changed.append(self.webhooks.workorder_changed)
        self.customer_mail = CustomerMail(self.db, self.crm, self.mail, workorders=self.workorders)
        self.voicemail = VoicemailService(self.db, self.recordings, self.crm, callers.account_manager_of)
        registry.register(voicemail_agi.SCRIPT, voicemail_agi.make_handler(self.voicemail), fallback=False)
        self.faxes = FaxService(self.db, self.pbx.spool_dir / FAX_SPOOL, f"{self.pbx.paths.spool}/{FAX_SPOOL}",
                                settings.data_dir / "fax")
        self.faxes.received.append(notices.fax_received)
        self.pipeline.completed.append(self.webhooks.recording_ready)
        self.faxes.received.append(self.webhooks.fax_received)
        self.crm.changed.append(self.webhooks.customer_changed)
        registry.register(fax_agi.SCRIPT, fax_agi.make_handler(self.faxes), fallback=False)
        self.fax_sender = FaxSender(self.db, self.ami, spool_dir=self.pbx.spool_dir / FAX_OUT_SPOOL,
                                    asterisk_spool=f"{self.pbx.paths.spool}/{FAX_OUT_SPOOL}",
                                    store_dir=settings.data_dir / "fax", rootfs=settings.rootfs,
                                    attempts=settings.fax_attempts, retry_seconds=settings.fax_retry_minutes * 60.0,
                                    renders_at_once=settings.fax_renders_at_once,
                                    render_seconds=settings.fax_render_seconds,
                                    memory_bytes=settings.upload_memory_mb * 1024 * 1024,
                                    calling=self.calling)
        self.fax_sender.finished.append(self.webhooks.fax_finished)
        registry.register(fax_out_agi.SCRIPT, fax_out_agi.make_handler(self.fax_sender), fallback=False)
        self.voice_codes = VoiceCodeService(self.db, self.ami, self.bus, audio_dir=self.pbx.run_dir / VOICE_CODE_AUDIO,
                                            asterisk_audio_dir=f"{self.pbx.paths.run}/{VOICE_CODE_AUDIO}",
                                            core_sounds=resolve_in_root(rootfs, "/usr/share/asterisk/sounds/en"),
                                            calling=self.calling, per_number=settings.voice_codes_per_number,
                                            per_sender=settings.voice_codes_per_sender)
        registry.register(voicecode_agi.SCRIPT, voicecode_agi.make_handler(self.voice_codes), fallback=False)
        self.agentless = AgentlessCalls(self.db, self.prompt_files, audio_dir=self.pbx.run_dir / CAMPAIGN_AUDIO,
                                        asterisk_audio_dir=f"{self.pbx.paths.run}/{CAMPAIGN_AUDIO}", bus=self.bus)
        registry.register(campaign_agi.SCRIPT, campaign_agi.make_handler(self.agentless))
        registry.register(dialer_agi.SCRIPT, dialer_agi.make_handler(self.dialer), fallback=False)
        self.agi = FastAgiServer(settings.agi_host, settings.agi_port, registry, pool_size=settings.agi_pool_size)
        self.sip_guard = SipGuard(self.db, max_failures=settings.sip_guard_failures,
                                  window_seconds=settings.sip_guard_window_seconds,
                                  block_seconds=settings.sip_guard_block_seconds, on_change=self.apply_config,
                                  lan_subnets=lambda: lan_subnets(settings.lan_interface))
        self.supervisor = Supervisor(settings.run_dir / STATUS_FILE, extra_status=self._published_components)
        for child in supervised_children(settings) if ha is None else ():  # a pair's box: its HaNode runs them
            self.supervisor.add(child)
        self.asterisk = self.supervisor.add(Watch("asterisk", start=self._start_asterisk, wait=self._wait_asterisk,
                                                  stop_child=self.pbx.stop, on_exit=self._asterisk_exited,
                                                  critical=True))
        self.dahdi: DahdiResult | None = None
        self.queries = QueryPool(self.db, settings.web_query_threads, settings.web_query_queue)
        self.backups = BackupService(Layout.of(settings), self.db, settings.data_dir / "backups",
                                     archive_dir=self.recording_config.archive_dir,
                                     default_schedule=settings.backup_schedule, default_keep=settings.backup_keep,
                                     upload_limit=settings.backup_upload_mb * 1024 * 1024,
                                     reload=self.after_restore, calls_up=lambda: len(self.live.calls))
        self.web: WSGIServer | None = None
        self.web_redirect: WSGIServer | None = None  # plain HTTP -> HTTPS, when HTTPS is on
        self._web_while_asterisk_boots = False  # start(web=True): make_app runs while Asterisk boots
        self._ticker: gevent.Greenlet | None = None
        self._places: gevent.Greenlet | None = None  # load_places, until the table is loaded
        self._ami_lost_at: float | None = None
        self._lan: gevent.Greenlet | None = None
        self.started_at = time.time()

    # -- configuration -----------------------------------------------------
    def _webrtc_certificate(self, s) -> dict:
        """The web UI's certificate for the softphones' wss (confgen/http.py), copied where
        Asterisk (its own account, or chrooted) can read it; none without HTTPS."""
        if not (s.webrtc_port and s.web_https_port and (s.tls_dir / firstboot.CERT_FILE).exists()):
            return {}
        folder = self.pbx.generated_dir
        folder.mkdir(parents=True, exist_ok=True)
        for name in (firstboot.CERT_FILE, firstboot.KEY_FILE):
            write_atomic(folder / name, (s.tls_dir / name).read_text())
        inner = f"{self.pbx.paths.etc}/{folder.name}"
        return {"webrtc_cert": f"{inner}/{firstboot.CERT_FILE}", "webrtc_key": f"{inner}/{firstboot.KEY_FILE}"}

    def model(self):
        return build_model(self.pbx.paths, self.network, self.ami_user, self.prompt_files,
                           dahdi=self.dahdi is not None and self.dahdi.cards_present,
                           language=self.settings.caller_language, card=self.card_facts())

    def card_facts(self) -> fxs.CardFacts:
        """What the telephony card has, as the last DAHDI apply found it."""
        return fxs.CardFacts.of(self.dahdi)

    def configure_dahdi(self, cli=None) -> DahdiResult:
        """DAHDI's files for the cards found now and the analog phones on their FXS ports
        (before each Asterisk start, and after each configuration change: ``cli`` reloads
        chan_dahdi when its file changed); a SIP-only box comes out as ``no_card``.
        ``dahdi_cfg`` runs on the appliance only, never against a developer machine's own
        driver.  The installer's former port file is read into phones once, first."""
        s = self.settings
        try:
            fxs.import_legacy_file(s.dahdi_dir / DAHDI_EXTENSIONS_FILE, self.db)
        except Exception:  # never keeps Asterisk from starting; the file stays for the next try
            logger.exception("reading the former FXS port file into phones failed")
        extensions, names = fxs.dahdi_phones()
        self.dahdi = apply_dahdi(
            s.hardware_root, s.dahdi_system_conf_path, self.pbx.generated_dir,
            extensions=extensions, names=names,
            settings=DahdiSettings(tone_zone=s.dahdi_tone_zone, echo_canceller=s.dahdi_echo_canceller),
            side=s.dahdi_side, dahdi_cfg=None if s.rootfs else run_dahdi_cfg, cli=cli,
            dynamic=parse_dynamic_spans(s.dahdi_dynamic_spans))
        facts = self.card_facts()
        ports, missing = fxs.port_states(facts)
        self.execute(self.registrations.set_ports(ports, missing))
        self.live.set_card_routes(fxs.channel_routes(facts))
        return self.dahdi

    def apply_config(self) -> None:
        """Regenerate Asterisk's config from the database and reload what changed."""
        self.configure_dahdi(cli=self.pbx.cli if self.pbx.running else None)  # an analog phone, a card route
        result = apply_config(self.model(), self.pbx.generated_dir, self.pbx.cli if self.pbx.running else None)
        self.refresh_tables()
        if result.restart_needed and self.pbx.running:
            logger.warning("a module list change waits for the next Asterisk restart")
        if self.ami.connected:  # a queue member added or removed while its agent is signed in
            self.agents.sync()

    def after_restore(self) -> None:
        """A restored database in place: Asterisk's configuration and the call path's tables
        from it now; under systemd (the image) the process also stops a few seconds later
        and is started again, so that what is read only at start (secrets, hot standby's and
        the LAN port's settings) comes from the restored files too."""
        self.apply_config()
        if os.environ.get("INVOCATION_ID"):  # set by systemd for a service it runs
            logger.warning("restarting the appliance in 3 s to start from the restored files")
            gevent.spawn_later(3, os.kill, os.getpid(), signal.SIGTERM)

    def refresh_tables(self) -> None:
        """The in-memory copies of configuration that the call path reads without the database."""
        self.routing = routing_table()
        self.menus_table = menu_table(self.prompt_files)
        self.live.set_policies(queue_policies())
        self.registrations.set_trunks(registering_trunks())
        self.sip_guard.refresh()  # a trunk's address is never blocked

    # -- Asterisk ------------------------------------------------------------
    def _start_asterisk(self) -> None:
        self.configure_dahdi()
        model = self.model()
        self.pbx.prepare(model)
        apply_config(model, self.pbx.generated_dir, None)
        self.refresh_tables()
        n = self.network
        ports = (("udp", n.sip_bind, n.sip_port), ("tcp", n.ami_bind, n.ami_port))
        self.pbx.start(ports=ports + ((("tcp", n.webrtc_bind, n.webrtc_port),) if n.webrtc_port else ()))
        if self._web_while_asterisk_boots and self.web is None:
            # make_app is a second of CPU on a busy box: spent now, beside Asterisk's boot, not
            # on the loop after it, where the first calls' FastAGI would wait behind it (a
            # hot-standby takeover's first calls above all)
            self.build_web()
        self.pbx.wait_fully_booted(timeout=60)
        logger.info("Asterisk is up (pid %s)", self.pbx.pid)

    def _asterisk_identity(self) -> tuple[str, str | None]:
        """What the AMI client checks after each login: our Asterisk's start token."""
        return INSTANCE_GLOBAL, self.pbx.token if self.pbx.running else None

    def _wait_asterisk(self) -> None:
        if self.pbx.process is not None:
            self.pbx.process.wait()

    def _asterisk_exited(self) -> None:
        self.pbx.kill()  # reap the wrapper and clean up

    # -- AMI -----------------------------------------------------------------
    def on_ami_event(self, frame) -> None:
        event = frame.as_dict()
        if event.get("Event") == "FullyBooted":
            # sent on every AMI login once Asterisk has loaded all its modules (at once if
            # it already had): before that, app_queue's actions may not exist yet
            gevent.spawn(self._resync)
        self.execute(self.live.apply(event, time.time()))
        self.execute(self.registrations.apply(event))
        self.sip_guard.on_event(event)  # failed SIP authentications (class security)

    def execute(self, commands) -> None:
        for command in commands:
            if isinstance(command, WriteCallRecord):
                self.records.write(command.record)
                self.recordings.call_ended(command.record)
                self.voicemail.call_ended(command.record)
                self.faxes.call_ended(command.record)
                self.campaigns.call_ended(command.record)
                self.dialer.call_ended(command.record)
            elif isinstance(command, Publish):
                data = callers.with_customer(command.topic, command.data)
                self.bus.publish(command.topic, data)
                if command.topic == "survey":  # a low score opens a work order (when a type says so)
                    gevent.spawn(self._in_background, "a work order from a low survey score",
                                 self.workorders.survey_low_score, data)
            elif isinstance(command, AgentStateChanged):
                self.agent_states.write(command)
            elif isinstance(command, PauseAgent):
                # never from the AMI reader itself: it would wait for its own response
                gevent.spawn(self._in_background, f"pausing agent {command.agent} after missed calls",
                             self.agents.pause, command.agent, command.reason)
            elif isinstance(command, HoldForDisposition):
                gevent.spawn(self._in_background, f"holding agent {command.agent} for the disposition",
                             self.agents.hold_for_disposition, command.agent)
            elif isinstance(command, EndShift):
                gevent.spawn(self._in_background, f"signing out agent {command.agent} (phone left the shift)",
                             self.agents.pool_logoff, command.agent)

    def disposition_saved(self, agent: str, linkedid: str) -> None:
        """An outcome saved (the workspace): an agent held for it takes calls again."""
        if self.live.disposition_saved(agent, linkedid):
            self.agents.release_disposition(agent)
        self.campaigns.outcome_saved(agent, linkedid)

    def _in_background(self, what: str, fn, *args) -> None:
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
            self.dialer.reconcile()  # campaign calls lost with the connection: settled, retried by the rules
        except Exception:
            logger.exception("resynchronising with Asterisk after connecting failed")
        self._resync_registrations()

    def _resync_registrations(self) -> None:
        """Which phones and trunks are registered now (the events after this keep it up to date)."""
        try:
            contacts = parse_contacts(self.pbx.cli("pjsip show contacts"))
            registrations = parse_registrations(self.pbx.cli("pjsip show registrations"))
            busy_ports = parse_busy_ports(self.pbx.cli("core show channels concise")) if self.registrations.ports \
                else set()
        except Exception:
            logger.exception("reading the SIP registrations from Asterisk failed")
            return
        self.execute(self.registrations.connected(contacts, registrations, busy_ports))

    def on_ami_disconnect(self, client) -> None:
        if self._ami_lost_at is None:
            self._ami_lost_at = time.time()
        self.execute(self.registrations.lost())

    # -- health --------------------------------------------------------------
    def health(self) -> dict:
        components = {
            "asterisk": {**self.asterisk.status(), "up": self.asterisk.state == "running" and self.pbx.running,
                         "pid": self.pbx.pid, "user": self._asterisk_user()},
            "ami": {"state": self.ami.state, "up": self.ami.connected,
                    "reason": None if self.ami.connected else self.ami.last_error,
                    "malformed_frames": self.ami.stats.malformed},
            "agi": {"state": "listening" if self.agi_running else "stopped", "up": self.agi_running,
                    "requests": self.agi.stats.requests, "handler_errors": self.agi.stats.handler_errors},
            "db": self._db_health(),
            "hardware": self._hardware_health(),
            "recording": self._recording_health(),
            "mail": self.mail.health(),
            "ha": self.ha.health() if self.ha is not None else HA_OFF,
            "webhooks": self.webhooks.health(),
        }
        up = [c["up"] for c in components.values()]
        status = "ok" if all(up) else ("down" if not components["asterisk"]["up"] else "degraded")
        supervised = self.supervisor.status()
        if status == "ok" and supervised["status"] != "ok":
            status = supervised["status"]
        alarms = supervised["alarms"] + (self.ha.alarm_list() if self.ha is not None else [])
        return {"status": status, "version": running_version(),
                "uptime_seconds": round(time.time() - self.started_at), "components": components,
                "services": supervised["services"], "alarms": alarms,
                "process": {"user": user_name(os.geteuid()), "world_readable": self.world_readable()}}

    def private_files(self) -> list[Path]:
        """The files holding secrets: never readable by other accounts (docs/image.md)."""
        s = self.settings
        db = s.db_path
        return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), s.secrets_path,
                s.tls_dir / firstboot.KEY_FILE, s.data_dir / firstboot.ADMIN_PASSWORD_FILE,
                self.pbx.generated_dir / "pjsip.conf", self.pbx.generated_dir / "manager.conf"]

    def world_readable(self) -> list[str]:
        """Those of ``private_files`` that other accounts can read (should be none)."""
        found = []
        for path in self.private_files():
            try:
                if path.stat().st_mode & 0o004:
                    found.append(str(path))
            except FileNotFoundError:
                continue
        return found

    def _asterisk_user(self) -> str | None:
        pid = self.pbx.pid
        try:
            return user_name(os.stat(f"/proc/{pid}").st_uid) if pid else None
        except OSError:
            return None

    def _published_components(self) -> dict:
        """What the status file carries besides the children: each component up or not
        (no counters, so the file changes only when something does)."""
        hardware = self._hardware_health()
        components = {"ami": {"up": self.ami.connected}, "agi": {"up": self.agi_running},
                      "hardware": {"up": hardware["up"], "state": hardware["state"]}}
        return {"components": components}

    @property
    def agi_running(self) -> bool:
        return bool(getattr(self.agi, "started", True)) and self.agi.address is not None

    def _hardware_health(self) -> dict:
        """Telephony cards: down only on a critical problem (a span in RED, a card without
        its driver or firmware); no card at all is the ``info`` notice, and up."""
        health = hardware_health(self.settings.hardware_root)
        return {"state": health.status, "up": health.status != "critical",
                "problems": [p.code for p in health.problems],
                # what the dashboard shows an admin (no card at all is a notice, not shown)
                "details": [{"code": p.code, "severity": p.severity, "subject": p.subject, "message": p.message}
                            for p in health.problems if p.severity != "info"],
                "dahdi": self.dahdi.outcome if self.dahdi is not None else None}

    def _recording_health(self) -> dict:
        try:
            return self.pipeline.status()
        except Exception as exc:  # the health page must answer even then
            return {"state": f"error: {exc}", "up": False}

    def _db_health(self) -> dict:
        try:
            self.db.execute_sql("SELECT 1").fetchone()
            return {"state": "ok", "up": True}
        except Exception as exc:  # the health page must answer even then
            return {"state": f"error: {exc}", "up": False}

    def live_snapshot(self) -> dict:
        return self.live.snapshot(time.time())

    # -- LAN port ------------------------------------------------------------
    def _keep_lan(self, backend=None) -> None:
        keep_lan(self.settings, backend)

    # -- lifecycle -----------------------------------------------------------
    def start(self, web: bool = True) -> None:
        numbers.places_pending()
        self._places = gevent.spawn(load_places, self.settings)
        # Before Asterisk: no call is in progress, so every WAV in the spool is finished.
        self.pipeline.reconcile()
        self.pipeline.start()
        self.housekeeping.start(self.settings.recording_housekeeping_minutes)
        self.backups.start()  # the schedule: the admin's, else backup_schedule; sleeps while it is off
        self.mail.start()
        self.webhooks.start()  # its own native thread: never the loop that routes calls
        self.report_schedules.start()
        self.fax_sender.start()
        self.voice_codes.start()
        self.dialer.start()
        self.workorders.start()  # escalation: at once (catching up after downtime), then every 30 s
        self._ticker = gevent.spawn(self._tick)
        self.agi.start()
        self.sip_guard.start()
        if self.settings.lan_interface and self.ha is None:  # a pair's box: brought up before keepalived
            self._lan = gevent.spawn(self._keep_lan)
        self._web_while_asterisk_boots = web
        self.supervisor.start()  # the LAN's DHCP client, the serial console, Asterisk
        self.ami.start()
        if web:
            self.start_web()

    def start_web(self) -> None:
        if self.web is None:
            self.build_web()
        if self.web_redirect is not None:
            self.web_redirect.start()
        self.web.start()
        logger.info("web UI on %s (%r)", self.web_url, self.web.limits)

    def build_web(self) -> None:
        """The web UI's app and servers, not listening yet (``start_web`` starts them)."""
        from appliance.services.callrecords import CallRecords
        from appliance.services.customer_excel import CustomerExcel
        from appliance.services.dispositions import DispositionService
        from appliance.services.workspace import WorkspaceService
        from webui.app import WebDeps, make_app

        dispositions = DispositionService(self.db)
        customer_excel = CustomerExcel(self.db, self.crm, memory_bytes=self.settings.upload_memory_mb * 1024 * 1024)

        deps = WebDeps(db=self.db, config=self.config, users=self.users, agents=self.agents,
                       health=self.health, live=self.live_snapshot,
                       bus=self.bus, calls=self.calls,
                       crm=self.crm, extra={"import_dir": Path(self.settings.data_dir) / "imports",
                                            "timezone": self.settings.timezone,
                                            "upload_memory_bytes": self.settings.upload_memory_mb * 1024 * 1024,
                                            "ha_settings": HaSettingsStore(ha_dir(self.settings), audit=audit_ha_change),
                                            "ha_running": self.ha.ha if self.ha is not None else None,
                                            "kept_aside": KeptAside(
                                                Path(self.settings.db_path).parent / KEPT_DIR,
                                                peer=self.ha.peer_files if self.ha is not None else None,
                                                audit=audit_kept_removed,
                                                **({"changed": self.ha.kept_removed} if self.ha is not None else {})),
                                            "upgrades": Upgrades(self.settings.data_dir, off_loop=lambda fn, *a:
                                                                 gevent.get_hub().threadpool.apply(fn, a))},
                       recordings=self.recordings, voicemail=self.voicemail, faxes=self.faxes,
                       fax_sender=self.fax_sender, voice_codes=self.voice_codes,
                       sip_guard=self.sip_guard, compliance=self.calling,
                       menus=self.menus, prompts=self.prompts, site=self.site,
                       dispositions=dispositions,
                       workspace=WorkspaceService(self.db, self.crm, self.bus, dispositions,
                                                  after_outcome=self.disposition_saved),
                       customer_excel=customer_excel,
                       call_records=CallRecords(self.db, timezone=self.site.timezone),
                       billing=self.billing,
                       reports=self.reports, report_schedules=self.report_schedules,
                       call_lists=CallLists(self.db, customer_excel), campaigns=self.campaigns,
                       restart_service=lambda name, who: request_restart(self.settings.run_dir, name, who),
                       agent_setup=self.agent_setup, registrations=self.registrations.snapshot,
                       card=self.card_facts,
                       workorders=self.workorders, scripts=CallScripts(self.db, self.crm),
                       kb=KnowledgeBase(self.db, data_dir=self.settings.data_dir,
                                        off_loop=lambda fn, *a: gevent.get_hub().threadpool.apply(fn, a)),
                       customer_mail=self.customer_mail, webhooks=self.webhooks, backups=self.backups,
                       provisioning=ProvisioningService(self.db, site=self.site, guard=self.users.guard,
                                                        sip_port=self.settings.sip_port, sip_bind=self.settings.sip_bind,
                                                        ntp_server=self.settings.phone_ntp_server,
                                                        web_port=self.settings.web_port,
                                                        https_port=self.settings.web_https_port),
                       softphones=Softphones(self.db, self.settings.webrtc_port),
                       secure_cookies=bool(self.settings.web_https_port), queries=self.queries)
        s = self.settings
        limits = self.web_limits()
        if s.web_https_port:
            from webui.redirect import make_redirect_app

            self.web = WebServer((s.web_host, s.web_https_port), make_app(deps), limits,
                                 certfile=str(s.tls_dir / firstboot.CERT_FILE),
                                 keyfile=str(s.tls_dir / firstboot.KEY_FILE))
            # the redirect, too, within limits: it must not eat descriptors either
            self.web_redirect = WebServer((s.web_host, s.web_port), make_redirect_app(s.web_https_port),
                                          WebLimits(REDIRECT_CONNECTIONS, min(limits.max_per_source,
                                                                              REDIRECT_CONNECTIONS),
                                                    limits.header_seconds, limits.body_idle_seconds,
                                                    max_active=2, queue_seconds=limits.queue_seconds))
        else:
            self.web = WebServer((s.web_host, s.web_port), make_app(deps), limits)

    def web_limits(self) -> WebLimits:
        """The web UI's limits from the settings, its connections capped so that with all of
        them open FastAGI's sessions and the rest still find descriptors (``webui.edge``)."""
        s = self.settings
        soft, _hard = raise_fd_limit()
        redirect = REDIRECT_CONNECTIONS if s.web_https_port else 0
        cap = web_connection_cap(s.web_max_connections, soft - redirect, s.agi_pool_size)
        if cap < s.web_max_connections:
            logger.warning("web: %s connections wanted, but with %s open files allowed and %s FastAGI sessions "
                           "only %s fit beside them; holding %s", s.web_max_connections, soft, s.agi_pool_size,
                           cap, cap)
        return WebLimits(max_connections=cap, max_per_source=s.web_max_per_source,
                         header_seconds=s.web_header_seconds, body_idle_seconds=s.web_body_idle_seconds,
                         max_active=s.web_max_active, queue_seconds=s.web_queue_seconds)

    @property
    def web_url(self) -> str:
        scheme = "https" if self.settings.web_https_port else "http"
        return f"{scheme}://{self.settings.web_host}:{self.web.server_port}/"

    def stop(self) -> None:
        for server in (self.web, self.web_redirect):
            if server is not None:
                server.stop(timeout=2)
        if self._ticker is not None:
            self._ticker.kill()
        if self._lan is not None:
            self._lan.kill()
        if self._places is not None and not self._places.dead:
            self._places.kill()  # stopped before the table was loaded: numbers place themselves again
            numbers.places_pending(False)
        self.sip_guard.stop()
        self.ami.stop()
        self.supervisor.stop()
        self.pbx.stop()
        self.agi.stop()
        self.housekeeping.stop()
        self.backups.stop()
        self.mail.stop()
        self.webhooks.stop()
        self.report_schedules.stop()
        self.fax_sender.stop()
        self.voice_codes.stop()
        self.dialer.stop()
        self.workorders.stop()
        self.pipeline.stop()
        self.encoders.close()
        self.queries.close()
        self.db_pool.close()


def keep_lan(settings: settings_mod.Settings, backend=None) -> None:
    """The LAN port at start: its kept setting applied and its link up; in DHCP mode,
    the fallback address added if no lease came within ``lan_fallback_seconds``."""
    s = settings
    lan = LanChanger(backend or Pyroute2Backend(), s.network_dir, s.lan_interface)
    try:
        logger.info("LAN port %s: %s", s.lan_interface, lan.bring_up().describe())
        gevent.sleep(s.lan_fallback_seconds)
        lan.add_fallback(s.lan_fallback_address)
    except Exception:
        logger.exception("could not set up the LAN port %s", s.lan_interface)


def lan_subnets(ifname: str) -> list[str]:
    """The IPv4 subnets on the LAN port (what the SIP security page offers phones); none
    when there is no LAN port setting or it cannot be read."""
    import ipaddress

    from appliance.network import ipv4_addresses

    if not ifname:
        return []
    try:
        found = ipv4_addresses(Pyroute2Backend().interfaces(), ifname)
    except Exception:
        logger.exception("could not read the addresses of the LAN port %s", ifname)
        return []
    return sorted({str(ipaddress.ip_interface(a).network) for a in found})


def supervised_children(settings: settings_mod.Settings) -> list[Watch]:
    """The children besides Asterisk, each only where the settings ask for it: the DHCP
    client on the LAN port (while its kept setting is DHCP; restarted when the setting
    file changes) and the technician's serial console."""
    children = []
    if settings.lan_interface:
        lan = LanChanger(None, settings.network_dir, settings.lan_interface)
        dhcp = ProcessChild("dhcp-lan", lambda: dhcp_argv(settings.lan_interface), cwd=settings.network_dir,
                            log_path=settings.data_dir / "log" / "dhcp-lan.log")
        children.append(dhcp.watch(enabled=lambda: lan.current().mode == "dhcp",
                                   inputs=lambda: digest(lan.config_path)))
    if settings.serial_device:
        argv = [sys.executable, "-m", "appliance.console", *settings_mod.command_line(settings)]
        console = ProcessChild("console", lambda: argv, cwd=REPO_ROOT,
                               log_path=settings.data_dir / "log" / "console.log")
        children.append(console.watch(inputs=lambda: digest(*argv)))
    return children


def main(argv: list[str] | None = None) -> int:
    settings = settings_mod.from_command_line(argv, "Run the call-center appliance")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if os.geteuid() != 0:  # on the image: before any thread, the children never get CAP_SETUID & co
        keep_to_ourselves()
    # The web UI's heavy reads run in native threads (appliance.db.querypool); while one
    # builds rows in Python the loop gets the GIL back within this, not the default 5 ms.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # As root (``make run`` by root) the password is read before firstboot hands the data
    # directory over; as the service's account (the image) after start-up, off the boot's path.
    late = os.geteuid() != 0
    admin_password = firstboot.run(settings, password=not late)
    ha = HaSettingsStore(ha_dir(settings)).load()
    if ha.enabled:
        return run_pair(settings, ha, firstboot.first_admin_password(settings) if late else admin_password)
    app = Appliance(settings)
    try:
        app.start()
    except BaseException:
        app.stop()  # no child left running without its supervisor
        raise
    if not app.ami.wait_connected(15):
        logger.error("AMI did not connect within 15 s; the appliance runs degraded (see /api/health)")
    if late:  # through the appliance's own database: a second one would rebind the models
        admin_password = firstboot.first_admin_password(settings, db=app.db)
    print(json.dumps({"web": app.web_url,
                      "health": app.health()["status"]}), flush=True)
    if admin_password:
        print(firstboot.first_admin_notice(admin_password), flush=True)
    wait_for_stop()
    app.stop()
    return 0


def load_places(settings: settings_mod.Settings) -> None:
    """The place table of the screen pop's origin and the callers-by-place report
    (``appliance.places``): the image's, else the one built into ``places_path`` (in a process
    of its own: phonenumbers' full data takes 100 MB and more, and seconds of GIL under qemu),
    read in a native thread; the loop never waits for it (docs/operations.md, "Boot time")."""
    path = places.SHIPPED if places.current(places.SHIPPED) else settings.places_path
    try:
        if not places.current(path):
            logger.info("building the table of number places into %s", path)
            proc.run(places.build_argv(path), what="build the table of number places", timeout=600, capture=True,
                     cwd=str(REPO_ROOT))
        table = gevent.get_hub().threadpool.apply(places.PlaceTable.load, (path,))
    except (OSError, ValueError, subprocess.SubprocessError, proc.CommandFailed) as e:
        logger.error("the table of number places could not be made (%s); building it in this process", e)
        table = gevent.get_hub().threadpool.apply(places.PlaceTable.from_phonenumbers, (numbers.DEFAULT_REGION,))
    numbers.use_places(table)


def wait_for_stop() -> None:
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()
    logger.info("stopping")


def ha_dir(settings: settings_mod.Settings) -> Path:
    """Where this box's hot-standby settings are kept (its own, never replicated)."""
    return settings.data_dir / "ha"


def ha_node(settings: settings_mod.Settings, ha, **options) -> HaNode:
    """One box of a hot-standby pair: on MASTER the replica becomes the database and the
    whole appliance starts on it; its finished recordings and faxes follow to the peer.  The
    LAN's DHCP client and the serial console run whatever the role (the node supervises them)."""
    def activate(node: HaNode) -> Appliance:
        promote_replica(settings.db_path)
        app = Appliance(settings, ha=node)
        app.pipeline.completed.append(lambda key, mp3: node.file_finished("recordings", mp3))
        app.faxes.received.append(lambda fax, pdf: node.file_finished("fax", pdf))
        app.prompts.saved.append(lambda wav: node.file_finished("prompts", wav))
        try:
            app.start()
        except BaseException:
            app.stop()
            app.db.close()
            raise
        return app

    return HaNode(ha, run_dir=settings.run_dir, db_path=settings.db_path,
                  file_areas={"recordings": settings.recordings_path, "fax": settings.data_dir / "fax",
                              "prompts": settings.asterisk_dir / "lib" / "prompts"},
                  make_active=activate, rootfs=settings.rootfs or None,
                  log_dir=settings.data_dir / "log", children=supervised_children(settings), **options)


def run_pair(settings: settings_mod.Settings, ha, admin_password: str | None) -> int:
    """``main`` for a box of a pair: keepalived decides when the appliance runs here."""
    import webui.app  # noqa: F401  (imported now, not on the loop while a takeover waits for it)

    node = ha_node(settings, ha)
    lan = gevent.spawn(keep_lan, settings) if settings.lan_interface else None  # whatever the role
    node.start()
    print(json.dumps({"ha": node.status()["role"], "floating_address": ha.floating_address}), flush=True)
    if admin_password:
        print(firstboot.first_admin_notice(admin_password), flush=True)
    try:
        wait_for_stop()
    finally:
        if lan is not None:
            lan.kill()
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
