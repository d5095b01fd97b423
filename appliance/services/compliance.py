"""Outbound compliance: the ONE check every outbound call passes (click-to-dial, transfers
and consultations to a number, faxes, the desk phone's keypad, campaigns).

    OutboundCheck.clear(OutboundCall(number, path, ...)) -> Clearance      # never raises
    OutboundCheck.require(OutboundCall(...)) -> Clearance                  # or CallNotPermitted / CallRefused

``OutboundCheck`` is a ``CallingPolicy`` (services/calling.py): its ``check_agent``,
``check_user`` and ``check_phone`` keep their signatures and now run every rule, so the
callers that asked for the calling permission get the whole check.  The rules and their
order are the pure ``appliance.engine.compliance.evaluate``; this module gathers the facts:

- the calling permission (whose: the agent's, the web account's, the phone's agent's; a
  campaign's call the ``permission`` it passes, ``domestic`` by default);
- the blacklist (``blocked_number``, the inbound one: a number refused inbound is not called
  either) and the do-not-call list (``dnc_number``, by ``numbers.key``, expired entries
  ignored);
- the calling window on the office's clock (the site's time zone): site settings
  ``compliance.window`` (opening-hours text; until set, the settings file's
  ``calling_window``, ``daily 09:00-20:00``) and
  ``compliance.window_holidays`` (``1``: closed on the holiday calendar's holidays, make-up
  workdays open with Monday's hours; default on); staff may override it for a click-to-dial
  (``override_window``), nobody else (``engine.compliance.may_override``);
- the outbound trunks' ``max_channels`` against the calls using each now (the live state),
  and the card routes' capacity (a PRI span's B-channels, the FXO lines: services/fxs.py);
- a campaign's own limit (``concurrency_limit`` against the ``active_calls`` it passes: the
  concurrency hook);
- the caller-ID pool: the campaign's (``pool``), else for a click-to-dial or a desk phone
  the default pool (site setting ``callerid.default_pool``) if one is set; the number chosen
  is recorded as used (``caller_id_use``) and handed back in ``Clearance.caller_id``.

Every refusal is a row of ``call_refusal`` (the rule, the path, the number, whose line, who)
that the call-records page lists, an audit row (action ``refused``, object ``call``) and a
warning in the log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

from appliance import numbers
from appliance.db import models as m
from appliance.engine import compliance as rules
from appliance.engine import schedule
from appliance.engine.calling import NOBODY
from appliance.errors import CallNotPermitted, CallRefused, FieldError, NotFound, ValidationError
from appliance.services.calling import DIAL, FAX, PHONE, REFUSED, CallingPolicy
from appliance.services.site import on_office_clock, utc_midnight, zone_of

logger = logging.getLogger(__name__)

CAMPAIGN = "campaign"  # the campaigns' path
WINDOW_KEY, HOLIDAYS_KEY, POOL_KEY = "compliance.window", "compliance.window_holidays", "callerid.default_pool"
CAMPAIGN_PERMISSION = "domestic"  # a campaign's calls, unless it says otherwise
USE_KEPT = dt.timedelta(days=2)  # caller-ID uses older than this are deleted
DNC_SOURCES = ("manual", "pop", "import")


@dataclass(frozen=True)
class OutboundCall:
    """One call about to go out.  ``path``: ``dial`` | ``transfer`` | ``consult`` | ``fax`` |
    ``phone`` | ``campaign``.  Whose permission: ``agent`` (their line), else ``user`` (a web
    account), else ``phone`` (an extension), else ``permission`` (a campaign's)."""

    number: str
    path: str
    actor: str = "system"
    agent: str = ""
    user: str = ""
    phone: str = ""
    campaign: str = ""
    permission: str = CAMPAIGN_PERMISSION
    pool: str | None = None  # a pool's name; None: the default pool (dial and phone only); "": none
    concurrency_limit: int = 0  # the campaign's own cap (0: none) ...
    active_calls: int = 0  # ... and its calls now
    override_window: bool = False  # asked for; granted only to staff on a click-to-dial


@dataclass(frozen=True)
class Clearance:
    """The answer: ``allowed``, else ``rule`` (``engine.compliance.RULES``) refused it.
    Attribute-compatible with ``services.calling.Decision`` (``dialled``, ``number_class``,
    ``permission``, ``whose``)."""

    allowed: bool
    rule: str
    dialled: numbers.Dialled
    permission: str
    whose: str
    caller_id: str = ""  # the pool's number to present; "": the trunk's default
    params: dict = field(default_factory=dict)

    @property
    def number_class(self) -> str:
        return self.dialled.number_class


class OutboundCheck(CallingPolicy):
    def __init__(self, db, site=None, live=None, default_window: str = rules.DEFAULT_WINDOW, now=m.utcnow,
                 card=None):
        super().__init__(db, site)
        self.now = now  # naive UTC, like every stored time
        self.live = live  # engine.live.LiveState: calls per trunk now; None: not counted
        self.card = card  # () -> services.fxs.CardFacts: what the telephony card has; None: no card
        self.default_window = default_window  # until an admin sets one (settings: calling_window)

    # -- the one check ----------------------------------------------------------------------
    def clear(self, call: OutboundCall) -> Clearance:
        permission, whose = self._whose(call)
        dialled = self.classify(call.number)
        pool, window = self._pool(call), self.window()
        facts = rules.Facts(
            number_class=dialled.number_class, permission=permission,
            blacklisted=self.blacklisted(call.number),
            dnc=call.path not in rules.DNC_EXEMPT and self.on_dnc(call.number) is not None,
            now=self.office_now(), window=window if call.path in rules.WINDOW_PATHS else None,
            calendar=self._calendar(),
            override_window=call.override_window and rules.may_override(self._role(call.actor), call.path),
            trunks=self._trunks(), concurrency_limit=call.concurrency_limit, active_calls=call.active_calls,
            pool=self._pool_state(pool) if pool else None)
        verdict = rules.evaluate(facts)
        clearance = Clearance(verdict.allowed, verdict.rule, dialled, permission, whose, verdict.caller_id,
                              verdict.params)
        if not verdict.allowed:
            self._record_refusal(call, clearance)
        elif verdict.caller_id:
            m.CallerIdUse.create(number=verdict.caller_id, at=self.now())
        if verdict.allowed and facts.override_window and window is not None \
                and not window.open_at(facts.now, facts.calendar):
            logger.info("%s: %s call to %s outside the calling window, by override", call.actor, call.path,
                        dialled.number)
        return clearance

    def require(self, call: OutboundCall) -> Clearance:
        """``clear``, raising when refused: ``CallNotPermitted`` (the permission) or
        ``CallRefused`` (``compliance.<rule>``)."""
        return _or_raise(self.clear(call))

    # -- the calling permission's entry points, now the whole check ------------------------
    def check_agent(self, agent: str, number: str, path: str, actor: str, **more) -> Clearance:
        return self.require(OutboundCall(number, path, actor or "system", agent=agent, **more))

    def check_user(self, username: str, number: str, path: str, **more) -> Clearance:
        return self.require(OutboundCall(number, path, username, user=username, **more))

    def check_phone(self, extension: str, number: str, **more) -> Clearance:
        return self.clear(OutboundCall(number, PHONE, "", phone=extension, **more))

    # -- facts -------------------------------------------------------------------------------
    def _whose(self, call: OutboundCall) -> tuple[str, str]:
        if call.agent:
            return self.of_agent(call.agent), f"agent {call.agent}"
        if call.user:
            return self.of_user(call.user), f"user {call.user}"
        if call.phone or call.path == PHONE:
            return self.of_phone(call.phone)
        if call.path == CAMPAIGN:
            return call.permission, f"campaign {call.campaign}"
        return call.permission or NOBODY, call.actor

    @staticmethod
    def _role(username: str) -> str | None:
        user = m.User.get_or_none(m.User.username == username)
        return user.role if user else None

    @staticmethod
    def blacklisted(number: str) -> bool:
        forms = numbers.variants(number)
        return bool(forms) and m.BlockedNumber.select().where(m.BlockedNumber.number.in_(forms)).exists()

    def on_dnc(self, number: str):
        """The do-not-call entry in force for ``number``, or None."""
        now = self.now()
        return (m.DncNumber.select().where(m.DncNumber.number_key == numbers.key(number),
                                           (m.DncNumber.expires_at.is_null()) | (m.DncNumber.expires_at > now))
                .first())

    def _setting(self, key: str, default: str) -> str:
        row = m.SiteSetting.get_or_none(m.SiteSetting.key == key)
        return row.value if row is not None else default

    def window_text(self) -> str:
        return self._setting(WINDOW_KEY, self.default_window)

    def window_follows_holidays(self) -> bool:
        return self._setting(HOLIDAYS_KEY, "1") == "1"

    def window(self) -> schedule.Schedule | None:
        """The calling window; an empty setting: no window (every hour).  A window that does
        not parse (a settings file's ``calling_window`` typed wrong: the page refuses one) is
        the default, said once per check in the log."""
        text = self.window_text()
        try:
            return schedule.parse(text) if text.strip() else None
        except schedule.ScheduleError as exc:
            logger.error("the calling window %r is not valid (%s): using %r", text, exc.args[0], rules.DEFAULT_WINDOW)
            return schedule.parse(rules.DEFAULT_WINDOW)

    def window_open(self) -> bool:
        """Whether the calling window is open now (no window: always)."""
        window = self.window()
        return window is None or window.open_at(self.office_now(), self._calendar())

    def office_now(self) -> dt.datetime:
        zone = zone_of(self.site.timezone() if self.site is not None else "Asia/Shanghai")
        return on_office_clock(self.now(), zone)

    def _calendar(self) -> dict:
        if not self.window_follows_holidays():
            return {}
        today = self.office_now().date()
        row = m.Holiday.get_or_none(m.Holiday.date == today.isoformat())
        return {today: row.kind} if row else {}

    def _trunks(self) -> tuple[rules.Trunk, ...]:
        calls = [c for c in (self.live.calls.values() if self.live is not None else ()) if c.state != "ended"]
        trunks = [(t.name, t.max_channels) for t in m.Trunk.select().where(m.Trunk.outbound_priority > 0)]
        if self.card is not None:  # the card's ways out: as many calls as the span or the lines carry
            card = self.card()
            trunks += [(r.name, card.capacity(r.line, r.span))
                       for r in m.CardRoute.select().where(m.CardRoute.outbound_priority > 0)
                       if card.capacity(r.line, r.span)]
        return tuple(rules.Trunk(name, limit, sum(1 for c in calls if c.trunk == name)) for name, limit in trunks)

    def default_pool(self) -> str:
        return self._setting(POOL_KEY, "")

    def _pool(self, call: OutboundCall) -> str:
        if call.pool is not None:
            return call.pool
        return self.default_pool() if call.path in (DIAL, PHONE) else ""

    def _pool_state(self, pool: str) -> tuple[rules.PoolNumber, ...]:
        rows = list(m.CallerIdNumber.select().where(m.CallerIdNumber.pool == pool, m.CallerIdNumber.active == True))  # noqa: E712
        if not rows:
            return ()
        now = self.now()
        hour, day = now - dt.timedelta(hours=1), now - dt.timedelta(days=1)
        uses = list(m.CallerIdUse.select(m.CallerIdUse.number, m.CallerIdUse.at)
                    .where(m.CallerIdUse.number.in_([r.number for r in rows]), m.CallerIdUse.at > day).tuples())
        out = []
        for r in rows:
            mine = [at for number, at in uses if number == r.number]
            last = max(mine).replace(tzinfo=dt.timezone.utc).timestamp() if mine else 0.0
            out.append(rules.PoolNumber(r.number, r.per_hour, r.per_day, sum(1 for at in mine if at > hour),
                                        len(mine), last))
        return tuple(out)

    # -- refusals ----------------------------------------------------------------------------
    def _record_refusal(self, call: OutboundCall, clearance: Clearance) -> None:
        number = clearance.dialled.number[:32]
        detail = {"path": call.path, "whose": clearance.whose, "permission": clearance.permission,
                  "number_class": clearance.number_class, "why": clearance.dialled.why, "rule": clearance.rule,
                  **{k: v for k, v in clearance.params.items() if k not in ("number_class", "permission")}}
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        actor = call.actor or clearance.whose
        agent = call.agent or (clearance.whose.removeprefix("agent ") if clearance.whose.startswith("agent ") else "")
        with self.db.atomic() if self.db is not None else _nothing():
            m.CallRefusal.create(at=self.now(), path=call.path[:16], rule=clearance.rule, number=number,
                                 agent=agent[:32], actor=actor[:64], campaign=call.campaign[:32],
                                 detail=text)
            m.AuditLog.create(username=actor[:64], action=REFUSED, object_type="call",
                              object_id=number, detail=text)
        logger.warning("%s: %s call to %s refused for %s by the %s rule (%s)", actor, call.path, number,
                       clearance.whose, clearance.rule, clearance.params)

    def refusals(self, since: dt.datetime | None = None, agents: tuple[str, ...] | None = None, limit: int = 100):
        """The newest refused calls (``agents``: only those on these agents' lines)."""
        query = m.CallRefusal.select().order_by(m.CallRefusal.at.desc(), m.CallRefusal.id.desc()).limit(limit)
        if since is not None:
            query = query.where(m.CallRefusal.at >= since)
        if agents is not None:
            query = query.where(m.CallRefusal.agent.in_(list(agents) or [""]), m.CallRefusal.agent != "")
        return [{"at": r.at, "path": r.path, "rule": r.rule, "number": r.number, "agent": r.agent, "actor": r.actor,
                 "campaign": r.campaign} for r in query]

    # -- the do-not-call list ----------------------------------------------------------------
    def dnc_list(self, search: str = "", limit: int = 200) -> list[dict]:
        query = m.DncNumber.select().order_by(m.DncNumber.created_at.desc(), m.DncNumber.id.desc()).limit(limit)
        if search:
            query = query.where(m.DncNumber.number.contains(numbers.bare(search)) | m.DncNumber.reason.contains(search))
        return [_dnc_view(r) for r in query]

    DNC_COLUMNS = ("number", "reason", "added_by", "source", "created_at", "expires_at")

    def dnc_export(self, headers: dict[str, str], words=lambda column, value: value, title: str = "dnc") -> bytes:
        """The whole list as an .xlsx (every cell text, nothing a spreadsheet would run),
        times on the office's clock, ``source`` as ``words`` says it (the reader's language)."""
        import io

        from openpyxl import Workbook

        from appliance.services.customer_excel import safe_row

        zone = zone_of(self.site.timezone() if self.site is not None else "Asia/Shanghai")
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title)
        sheet.append([headers.get(c, c) for c in self.DNC_COLUMNS])
        for row in m.DncNumber.select().order_by(m.DncNumber.created_at.desc(), m.DncNumber.id.desc()):
            view = _dnc_view(row)
            for c in ("created_at", "expires_at"):
                view[c] = on_office_clock(view[c], zone).strftime("%Y-%m-%d %H:%M") if view[c] else ""
            view["source"] = words("source", view["source"])
            sheet.append(safe_row(sheet, [view[c] for c in self.DNC_COLUMNS]))
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

    def dnc_import(self, sheet: bytes, actor: str) -> int:
        """A workbook ``CustomerExcel.read`` gave (its first row the headers): the number in
        the first column, a reason in the second, the last office day it counts in the third
        (a date, or empty: for ever).  Every row or none: a bad row refuses the whole file
        with the rows named (``dnc.import_rows``).  One audit row; the count imported."""
        from appliance import upload_worker

        zone = zone_of(self.site.timezone() if self.site is not None else "Asia/Shanghai")
        rows, bad, now = {}, [], self.now()
        for line in upload_worker.iter_lines(sheet):
            if isinstance(line, dict):
                continue  # the header row, the end
            row, cells = line[0], [upload_worker.decode_cell(c) for c in line[1]] + [None, None, None]
            number, reason, until = cells[:3]
            if isinstance(number, float) and number.is_integer():
                number = int(number)
            text = numbers.clean(str(number if number is not None else ""))
            if isinstance(until, dt.datetime):
                until = until.date()
            reason = "" if reason is None else str(reason)
            if (not _dialable(text) or len(reason) > 128
                    or not (until is None or until == "" or isinstance(until, dt.date))):
                bad.append(str(row))
                continue
            expires = utc_midnight(until + dt.timedelta(days=1), zone) if isinstance(until, dt.date) else None
            if expires is not None and expires <= now:
                bad.append(str(row))
                continue
            rows[numbers.key(text)[:32]] = (numbers.normalise(text)[:32], reason, expires)
        if bad:
            shown = ", ".join(bad[:20]) + ("…" if len(bad) > 20 else "")
            raise ValidationError(f"{len(bad)} rows are not valid: {shown}", code="dnc.import_rows",
                                  fields={"file": FieldError("dnc.import_rows", f"rows {shown} are not valid "
                                                             "(a number, a reason of at most 128 characters, a date "
                                                             "to come or nothing)", rows=shown)})
        with self.db.atomic() if self.db is not None else _nothing():
            for key, (number, reason, expires) in rows.items():
                (m.DncNumber.insert(number=number, number_key=key, reason=reason, added_by=actor[:64],
                                    source="import", created_at=now, expires_at=expires)
                 .on_conflict(conflict_target=[m.DncNumber.number_key],
                              update={m.DncNumber.reason: reason, m.DncNumber.added_by: actor[:64],
                                      m.DncNumber.source: "import", m.DncNumber.created_at: now,
                                      m.DncNumber.expires_at: expires}).execute())
            m.AuditLog.create(username=actor[:64], action="import", object_type="dnc", object_id=str(len(rows)),
                              detail=json.dumps({"numbers": len(rows)}))
        logger.info("%s: %d numbers imported into the do-not-call list", actor, len(rows))
        return len(rows)

    def dnc_add(self, number: str, reason: str, actor: str, expires_at: dt.datetime | None = None,
                source: str = "manual") -> dict:
        """Add ``number`` (or renew its entry: the new reason and expiry); audited."""
        text = numbers.clean(number or "")
        if not _dialable(text):
            raise ValidationError(f"{number!r} is not a phone number", code="dnc.bad_number",
                                  fields={"number": FieldError("field.dialled_number",
                                                               "digits, optionally starting with +")})
        if len(reason or "") > 128:
            raise ValidationError("the reason is too long", code="dnc.bad_reason",
                                  fields={"reason": FieldError("field.max_length", "at most 128 characters", n=128)})
        if expires_at is not None and expires_at <= self.now():
            raise ValidationError("the expiry has passed", code="dnc.bad_expiry",
                                  fields={"expires_at": FieldError("dnc.expiry_past", "a time to come")})
        source = source if source in DNC_SOURCES else "manual"
        key, normal, now = numbers.key(text), numbers.normalise(text), self.now()
        with self.db.atomic() if self.db is not None else _nothing():
            (m.DncNumber.insert(number=normal[:32], number_key=key[:32], reason=reason or "", added_by=actor[:64],
                                source=source, created_at=now, expires_at=expires_at)
             .on_conflict(conflict_target=[m.DncNumber.number_key],
                          update={m.DncNumber.reason: reason or "", m.DncNumber.added_by: actor[:64],
                                  m.DncNumber.source: source, m.DncNumber.created_at: now,
                                  m.DncNumber.expires_at: expires_at}).execute())
            row = m.DncNumber.get(m.DncNumber.number_key == key[:32])
            m.AuditLog.create(username=actor[:64], action="create", object_type="dnc", object_id=row.number,
                              detail=json.dumps({"reason": row.reason, "source": source,
                                                 "expires_at": expires_at.isoformat() if expires_at else None},
                                                ensure_ascii=False))
        logger.info("%s: %s added to the do-not-call list (%s)", actor, row.number, source)
        return _dnc_view(row)

    def dnc_remove(self, number: str, actor: str) -> None:
        row = m.DncNumber.get_or_none(m.DncNumber.number_key == numbers.key(number))
        if row is None:
            raise NotFound(f"{number} is not on the do-not-call list", code="dnc.not_found")
        with self.db.atomic() if self.db is not None else _nothing():
            row.delete_instance()
            m.AuditLog.create(username=actor[:64], action="delete", object_type="dnc", object_id=row.number,
                              detail="")
        logger.info("%s: %s taken off the do-not-call list", actor, row.number)

    # -- settings ----------------------------------------------------------------------------
    def settings(self) -> dict:
        return {"window": self.window_text(), "window_holidays": self.window_follows_holidays(),
                "default_pool": self.default_pool(), "timezone": self.site.timezone() if self.site else "Asia/Shanghai",
                "pools": self.pools()}

    def save_settings(self, actor: str, window: str | None = None, window_holidays: bool | None = None,
                      default_pool: str | None = None) -> dict:
        values = {}
        for name, value in (("window", window), ("default_pool", default_pool)):
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{name} must be text", code="compliance.bad_settings",
                                      fields={name: FieldError("field.text", "text")})
        if window is not None:
            if len(window) > 400:
                raise ValidationError("the calling window is too long", code="compliance.bad_window",
                                      fields={"window": FieldError("field.max_length", "at most 400 characters",
                                                                   n=400)})
            if window.strip():
                try:
                    schedule.parse(window)
                except schedule.ScheduleError as exc:
                    raise ValidationError(f"bad calling window: {exc.args[0]}", code="compliance.bad_window",
                                          fields={"window": exc.args[0]}) from None
            values[WINDOW_KEY] = window.strip()
        if window_holidays is not None:
            values[HOLIDAYS_KEY] = "1" if window_holidays else "0"
        if default_pool is not None:
            if default_pool and default_pool not in self.pools():
                raise ValidationError(f"no caller-ID pool {default_pool}", code="callerid.no_pool",
                                      fields={"default_pool": FieldError("field.no_such", "no such pool",
                                                                         key=default_pool)})
            values[POOL_KEY] = default_pool
        now = m.utcnow()
        with self.db.atomic() if self.db is not None else _nothing():
            for key, value in values.items():
                m.SiteSetting.put(key, value, actor, now)
            if values:
                m.AuditLog.create(username=actor[:64], action="update", object_type="compliance", object_id="settings",
                                  detail=json.dumps(values, ensure_ascii=False, sort_keys=True))
        return self.settings()

    # -- caller-ID pools -----------------------------------------------------------------------
    @staticmethod
    def pools() -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in m.CallerIdNumber.select().order_by(m.CallerIdNumber.pool, m.CallerIdNumber.number):
            out.setdefault(r.pool, []).append({"number": r.number, "per_hour": r.per_hour, "per_day": r.per_day,
                                               "active": r.active})
        return out

    def pool_usage(self, pool: str) -> list[dict]:
        return [{"number": p.number, "per_hour": p.per_hour, "per_day": p.per_day, "used_hour": p.used_hour,
                 "used_day": p.used_day} for p in self._pool_state(pool)]

    def put_pool_number(self, pool: str, number: str, per_hour: int, per_day: int, actor: str,
                        active: bool = True) -> dict:
        fields = {}
        if not pool or len(pool) > 32 or not all(ch.isalnum() or ch in "-_" for ch in pool):
            fields["pool"] = FieldError("callerid.bad_pool", "letters, digits, - and _ (at most 32)")
        text = numbers.clean(number or "")
        if not _dialable(text):
            fields["number"] = FieldError("field.dialled_number", "digits, optionally starting with +")
        for name, value in (("per_hour", per_hour), ("per_day", per_day)):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100000:
                fields[name] = FieldError("field.range", "between 0 and 100000", min=0, max=100000)
        if fields:
            raise ValidationError("bad caller-ID pool number", code="callerid.bad_number", fields=fields)
        with self.db.atomic() if self.db is not None else _nothing():
            (m.CallerIdNumber.insert(pool=pool, number=text, per_hour=per_hour, per_day=per_day, active=active)
             .on_conflict(conflict_target=[m.CallerIdNumber.pool, m.CallerIdNumber.number],
                          update={m.CallerIdNumber.per_hour: per_hour, m.CallerIdNumber.per_day: per_day,
                                  m.CallerIdNumber.active: active}).execute())
            m.AuditLog.create(username=actor[:64], action="update", object_type="callerid", object_id=f"{pool}:{text}"[:64],
                              detail=json.dumps({"per_hour": per_hour, "per_day": per_day, "active": active}))
            m.CallerIdUse.delete().where(m.CallerIdUse.at < self.now() - USE_KEPT).execute()
        return {"pool": pool, "number": text, "per_hour": per_hour, "per_day": per_day, "active": active}

    def remove_pool_number(self, pool: str, number: str, actor: str) -> None:
        deleted = m.CallerIdNumber.delete().where(m.CallerIdNumber.pool == pool,
                                                  m.CallerIdNumber.number == numbers.clean(number)).execute()
        if not deleted:
            raise NotFound(f"{number} is not in pool {pool}", code="callerid.not_found")
        m.AuditLog.create(username=actor[:64], action="delete", object_type="callerid", object_id=f"{pool}:{number}"[:64],
                          detail="")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _dialable(text: str) -> bool:
    """3 to 20 digits, with + first if any (``text`` less separators)."""
    return text.lstrip("+").isdigit() and 3 <= len(text.lstrip("+")) <= 20 and "+" not in text[1:]


def _dnc_view(row) -> dict:
    return {"number": row.number, "reason": row.reason, "added_by": row.added_by, "source": row.source,
            "created_at": row.created_at, "expires_at": row.expires_at}


def _or_raise(clearance: Clearance) -> Clearance:
    if clearance.allowed:
        return clearance
    number = clearance.dialled.number
    if clearance.rule == rules.PERMISSION:
        cls = clearance.number_class
        raise CallNotPermitted(f"{clearance.whose} may not call {number}: it is a {cls} number "
                               f"({clearance.dialled.why}) and the calling permission is {clearance.permission}",
                               params={"number_class": cls})
    raise CallRefused(f"the call to {number} is refused by the {clearance.rule} rule", clearance.rule,
                      {k: str(v) for k, v in clearance.params.items()})


__all__ = ["CAMPAIGN", "Clearance", "FAX", "OutboundCall", "OutboundCheck"]
