"""WebDeps for tests, as the composition root (appliance/main.py ``start_web``) fills them:
``make_app`` builds no service, so a test's web UI gets its query pool, site, customers (and
their Excel import/export), call records and workspace here when the test does not bring
its own."""

from __future__ import annotations

from pathlib import Path

import gevent

from appliance.db.querypool import QueryPool
from appliance.services.agent_setup import AgentSetup
from appliance.services.billing import BillingService
from appliance.services.calllists import CallLists
from appliance.services.callrecords import CallRecords
from appliance.services.campaigns import Campaigns
from appliance.services.compliance import OutboundCheck
from appliance.services.crm import CustomerService
from appliance.services.customer_excel import CustomerExcel
from appliance.services.dispositions import DispositionService
from appliance.services.kb import KnowledgeBase
from appliance.services.reports import ReportService
from appliance.services.scripts import CallScripts
from appliance.services.site import SiteService, zone_of
from appliance.services.workorders import WorkOrderService
from appliance.services.workspace import WorkspaceService
from webui.app import WebDeps


def fill(deps: WebDeps) -> WebDeps:
    """``deps`` with what a test left out built over its database (gevent's own threads for
    the heavy reads)."""
    if deps.softphones is None:
        from appliance.services.softphone import Softphones
        deps.softphones = Softphones(deps.db, deps.extra.get("webrtc_port", 0))
    if deps.queries is None:
        deps.queries = QueryPool(deps.db, threadpool=gevent.get_hub().threadpool)
    if deps.agent_setup is None:
        deps.agent_setup = AgentSetup(deps.config, deps.users)
    if deps.site is None:
        deps.site = SiteService(deps.db, deps.users, deps.config, agent_setup=deps.agent_setup)
    if deps.crm is None:
        deps.crm = CustomerService(deps.db, timezone=deps.site.timezone)
    if deps.customer_excel is None:
        deps.customer_excel = CustomerExcel(deps.db, deps.crm, memory_bytes=deps.extra.get("upload_memory_bytes")
                                            or 512 * 1024 * 1024)
    if "upgrades" not in deps.extra:  # the appliance's own (a development machine: no slots, nothing running on one)
        from pathlib import Path

        from appliance.services.upgrade import Upgrades
        deps.extra["upgrades"] = Upgrades(Path(deps.db.database).parent / "data")
    if "ha_settings" not in deps.extra:  # the appliance's own store; the pair off until set
        from pathlib import Path

        from appliance.services.ha import HaSettingsStore, audit_ha_change
        deps.extra["ha_settings"] = HaSettingsStore(Path(deps.db.database).parent / "ha", audit=audit_ha_change)
    if "kept_aside" not in deps.extra:  # this box's own folder; no pair
        from pathlib import Path

        from appliance.services.ha import audit_kept_removed
        from appliance.services.kept_aside import KeptAside
        deps.extra["kept_aside"] = KeptAside(Path(deps.db.database).parent / "kept-aside", audit=audit_kept_removed)
    if deps.call_records is None:
        deps.call_records = CallRecords(deps.db, timezone=deps.site.timezone)
    if deps.reports is None:
        deps.reports = ReportService(deps.db, timezone=deps.site.timezone)
    if deps.report_schedules is None:
        from pathlib import Path
        import tempfile

        from appliance.mail import Outbox, SmtpConfig
        from appliance.services.report_schedule import ReportSchedules

        # mail off: nothing is ever queued, so neither folder is ever made
        nowhere = Path(tempfile.gettempdir()) / "webdeps-mail-off"
        deps.report_schedules = ReportSchedules(deps.db, deps.reports, Outbox(nowhere, SmtpConfig(host="")), nowhere)
    if deps.dispositions is None:
        deps.dispositions = DispositionService(deps.db)
    if deps.billing is None:
        deps.billing = BillingService(deps.db, home_region=deps.site.home_region, area_code=deps.site.area_code,
                                      timezone=deps.site.timezone)
    if deps.compliance is None:  # any hour unless a test sets a window, so tests do not depend on the clock
        deps.compliance = OutboundCheck(deps.db, deps.site, default_window="")
    if deps.workspace is None:
        deps.workspace = WorkspaceService(deps.db, deps.crm, deps.bus, deps.dispositions)
    if deps.workorders is None:  # its dispatch key and photos beside the test's database
        deps.workorders = WorkOrderService(deps.db, deps.crm, data_dir=Path(deps.db.database).parent / "data",
                                           bus=deps.bus, language=deps.site.language)
    if deps.kb is None:  # its files beside the test's database
        deps.kb = KnowledgeBase(deps.db, data_dir=Path(deps.db.database).parent / "data")
    if deps.backups is None:  # the box's state beside the test's database
        from appliance.services.backup import BackupService, Layout

        data = Path(deps.db.database).parent
        deps.backups = BackupService(Layout(data_dir=data / "data", db_path=Path(deps.db.database),
                                            prompts_dir=data / "data" / "prompts",
                                            recordings_dir=data / "data" / "recordings", fax_dir=data / "data" / "fax"),
                                     deps.db, data / "data" / "backups",
                                     calls_up=lambda: len(((deps.live() if deps.live else None) or {}).get("calls") or []))
    if deps.call_lists is None:
        deps.call_lists = CallLists(deps.db, deps.customer_excel)
    if deps.workorders.call_lists is None:  # a closed order's customer into a call list
        deps.workorders.call_lists = deps.call_lists
    if deps.campaigns is None:
        deps.campaigns = Campaigns(deps.db, deps.calls, deps.crm, deps.bus,
                                   zone=lambda: zone_of(deps.site.timezone()))
    if deps.scripts is None:
        deps.scripts = CallScripts(deps.db, deps.crm)
    if deps.customer_mail is None:  # mail off (no smtp_host) unless a test turns it on
        from appliance.mail import Outbox, SmtpConfig
        from appliance.services.customer_mail import CustomerMail

        deps.customer_mail = CustomerMail(deps.db, deps.crm, Outbox(Path(deps.db.database).parent / "mail",
                                                                    SmtpConfig(host="")), workorders=deps.workorders)
    if deps.webhooks is None:  # no worker: a test delivers with deliver_due()
        from appliance.services.webhooks import WebhookService

        deps.webhooks = WebhookService(deps.db)
    if deps.provisioning is None:  # the web server's own port, plain HTTP, SIP on every address
        from appliance.services.provisioning import ProvisioningService

        deps.provisioning = ProvisioningService(deps.db, site=deps.site, guard=deps.users.guard)
    return deps


def web_deps(**kwargs) -> WebDeps:
    return fill(WebDeps(**kwargs))
