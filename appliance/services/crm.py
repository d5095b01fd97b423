"""Customer records (the CRM core): customers with the admin's custom fields, tags,
contact history (call records and notes), follow-ups and call-backs, and team leaders
assigning, reclaiming and transferring customers between agents.

Who sees what: staff (admin, supervisor) see every customer; an agent sees the customers
whose account manager is one of their own agents (the agents linked to their web account)
and nobody else's, not even to learn that they exist (someone else's customer is "not
found").  The account manager is the customer's owner: VIP routing offers the customer's
calls to them first.  Two ways past that, both read-only (``readable``):

- the shared pool (公海), a site setting the admin turns on (off until then: the customers
  of nobody, imported ones say, stay with the team leaders): an agent sees the customers
  of nobody in the pool list and may claim one, which makes it theirs (``claim``: one
  conditional UPDATE, so of two agents claiming at once one wins and the other is told);
  an optional limit caps how many customers an agent may hold by claiming;
- whoever is calling them: the customer whose number is on a call ringing or connected to
  one of the viewer's agents in the live state, or on a call one of them took in the last
  ``RECENT_CALL_MINUTES`` (the call records), or the number of a call-list entry a preview
  campaign offers to one of them now (``_offered``), and no other customer id.

Values are checked with the configuration service's field rules (``Field`` and
``coerce``), plus what only customers need: phone numbers are cleaned of spaces and
dashes, and no text may carry markup (``<script>``...).  Every change is audited.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import JOIN, SQL, Case, fn

from appliance import numbers
from appliance.db import models as m
from appliance.engine.kb import MIN_TRIGRAM, fts_string
from appliance.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationError, field_error_of
from appliance.mail import ADDRESS
from appliance.services.config import MARKUP, NO_MARKUP, Field, coerce, fields_schema
from appliance.services.listeners import tell

logger = logging.getLogger(__name__)

STAFF = ("admin", "supervisor")
PER_PAGE = 50
MAX_PER_PAGE = 200
FOLLOW_UP_KINDS = ("follow_up", "call_back")
MAX_TAGS = 20
# Customer search (issue 23): a part of a name or number of ``MIN_TRIGRAM`` characters or more
# is looked up in ``customer_fts`` (FTS5, trigram) first; when at most ``INDEX_CAP`` customers
# match, the index's ids narrow the same query (which still applies the same LIKE: the results
# and their order are the scan's). A term more customers share (``1390``, the start of many
# mobile numbers) is left to the scan: reading the table finds a page of it at once, where
# walking the index's long lists for every match took ten times as long (72 ms against 7 ms
# over 100,000). Staff only: an agent's own customers are few and read through their account
# manager's index.
INDEX_CAP = 2000
PHONE = re.compile(r"\+?[0-9]{3,20}")
TAG_SPLIT = re.compile(r"[,，、;；]")
# Rows of ``site_setting`` holding the shared pool's setting (turned on by an admin).
POOL_KEY, POOL_LIMIT_KEY = "customer_pool", "customer_pool_limit"
MAX_POOL_LIMIT = 100_000
# How long after a call ends its agent may still read the caller's record (notes, wrap-up).
RECENT_CALL_MINUTES = 30
# What a viewer may do with a customer record (``readable``): theirs (or staff) to change,
# in the shared pool to claim, or the caller of their current or recent call to read.
OWNER, POOL, CALLER = "owner", "pool", "caller"


def _check_text(value: str) -> str | None:
    if MARKUP.search(value):
        return NO_MARKUP
    return None


def _check_phone(value: str) -> str | None:
    if not PHONE.fullmatch(value):
        return FieldError("field.phone", "a phone number: 3 to 20 digits, maybe starting with +")
    return None


def _check_email(value: str) -> str | None:
    if value and not ADDRESS.match(value):
        return FieldError("field.email", f"not an e-mail address: {value}", item=value)
    return None


def _hash_pin(value: str) -> str:
    from appliance.services.users import hash_password

    return hash_password(value) if value else ""


# The customer's own fields (the custom ones come from the customer_field table).
FIELDS: tuple[Field, ...] = (
    Field("name", "str", required=True, max_length=128, check=_check_text),
    Field("phone", "str", required=True, max_length=32, check=_check_phone,
          help="the number the customer calls from"),
    Field("email", "str", default="", max_length=254, check=_check_email,
          help="where e-mail to the customer goes"),
    Field("category", "str", default="", max_length=32, check=_check_text),
    Field("account_manager", "ref", ref_kind="agents",
          help="offered this customer's calls first (VIP routing); the agent who owns the customer"),
    Field("tags", "str", default="", max_length=500, check=_check_text, help="separated by commas"),
    Field("pin", "str", default="", max_length=8, pattern=r"[0-9]{4,8}", secret=True, column="pin_hash",
          stored=_hash_pin, help="member PIN, 4 to 8 digits (stored hashed)"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
CUSTOM_TEXT_MAX = 500


def clean_phone(value):
    """``+86 139-1234 5678`` -> ``+8613912345678`` (``numbers.clean``); a value that is not
    text is left for the field check to refuse."""
    return numbers.clean(value) if isinstance(value, str) else value


def split_tags(value: str) -> list[str]:
    """``vip, 新客户、vip`` -> ``["vip", "新客户"]`` (order kept, duplicates dropped)."""
    out: list[str] = []
    for tag in (t.strip() for t in TAG_SPLIT.split(value or "")):
        if tag and tag not in out:
            out.append(tag)
    return out


@dataclass(frozen=True)
class Viewer:
    """Who is asking: their user name, role, and the work numbers of their own agents."""

    username: str
    role: str
    agents: frozenset = frozenset()

    @property
    def staff(self) -> bool:
        return self.role in STAFF


@dataclass(frozen=True)
class PoolSettings:
    """The shared pool (公海): whether agents see and claim the customers of nobody, and
    the most customers an agent may hold when claiming one (0: no limit)."""

    enabled: bool = False
    limit: int = 0

    def as_dict(self) -> dict:
        return {"enabled": self.enabled, "limit": self.limit}


def on_call_with(viewer: Viewer, number: str, live_calls) -> bool:
    """Whether a live call from ``number`` rings or is connected to one of the viewer's
    agents (the live snapshot's calls: ``caller``, ``agent``, ``ringing_agents``)."""
    caller = numbers.key(number or "")
    if not caller or not viewer.agents:
        return False
    for call in live_calls or ():
        if numbers.key(call.get("caller") or "") != caller:
            continue
        if call.get("agent") in viewer.agents or viewer.agents & set(call.get("ringing_agents") or ()):
            return True
    return False


@dataclass(frozen=True)
class CustomField:
    name: str
    label: str
    type: str
    required: bool
    choices: tuple

    @classmethod
    def of(cls, row: m.CustomerField) -> "CustomField":
        return cls(row.name, row.label, row.type, row.required,
                   tuple(c.strip() for c in row.choices.split(",") if c.strip()))

    def coerce(self, value):
        """The value as stored in ``Customer.custom`` (None when empty), or ValueError."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.required:
                raise ValueError(FieldError("field.required", "required"))
            return None
        if self.type == "number":
            if isinstance(value, bool):
                raise ValueError(FieldError("field.number", "a number"))
            if isinstance(value, str):
                try:
                    value = float(value.strip().replace(",", ""))
                except ValueError:
                    raise ValueError(FieldError("field.number", "a number")) from None
            if not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > 1e15:
                raise ValueError(FieldError("field.number", "a number"))
            return int(value) if float(value).is_integer() else float(value)
        if self.type == "date":
            if isinstance(value, dt.datetime):
                return value.date().isoformat()
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, str):
                try:
                    return dt.date.fromisoformat(value.strip()).isoformat()
                except ValueError:
                    pass
            raise ValueError(FieldError("field.date", f"'{value}' is not a date (YYYY-MM-DD)", item=value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)
        if not isinstance(value, str):
            raise ValueError(FieldError("field.text", "text"))
        value = coerce(Field(self.name, "str", max_length=CUSTOM_TEXT_MAX, check=_check_text), value)
        if self.type == "choice" and value not in self.choices:
            raise ValueError(FieldError("field.choice", f"one of {', '.join(self.choices)}",
                                        choices=", ".join(self.choices)))
        return value


def fmt_time(value) -> str | None:
    """A stored (UTC) time as people read it: ``2026-11-23 10:04:05``."""
    return value.isoformat(sep=" ", timespec="seconds") if value else None


def calls_of(phone: str, limit: int) -> list[dict]:
    """The calls from or to this number, newest first, as contact-history items."""
    calls = (m.CallRecord.select().where(m.CallRecord.caller.in_(numbers.variants(phone)))
             .order_by(m.CallRecord.enter_time.desc()).limit(limit))
    return [{"kind": "call", "at": fmt_time(c.enter_time), "direction": c.direction, "number": c.caller,
             "queue": c.queue, "agent": c.agent, "disposition": c.disposition,
             "talk_seconds": c.talk_seconds, "linkedid": c.linkedid} for c in calls]


class CustomerService:
    def __init__(self, db, timezone: Callable[[], str] | None = None, search_index: bool = True):
        self.db = db
        # False: search by scanning, as before the index (bench/customer_search.py's "before")
        self.search_index = search_index
        # told ("created" | "changed", the customer's view) after a create or an update is
        # committed (the webhooks' customer.created / customer.changed)
        self.changed: list = []
        # follow-ups are due at the site's wall-clock time (as people type it): ``timezone``
        # names the site's zone (SiteService.timezone), read each time; None: this machine's
        self.timezone = timezone

    def local_now(self) -> dt.datetime:
        """Now on the site's wall clock, naive like the follow-ups' due times."""
        if self.timezone is not None:
            try:
                return dt.datetime.now(ZoneInfo(self.timezone())).replace(tzinfo=None)
            except (ZoneInfoNotFoundError, ValueError):
                logger.warning("unknown site time zone %r: follow-ups use this machine's clock", self.timezone())
        return dt.datetime.now()

    # -- custom fields ---------------------------------------------------------
    def custom_fields(self) -> list[CustomField]:
        rows = m.CustomerField.select().order_by(m.CustomerField.position, m.CustomerField.id)
        return [CustomField.of(r) for r in rows]

    def json_schema(self, *, for_create: bool = True) -> dict:
        """A customer as the API takes it: the own fields, and ``custom`` with the admin's fields."""
        schema = fields_schema(FIELDS, for_create=for_create)
        kinds = {"text": {"type": ["string", "null"], "maxLength": CUSTOM_TEXT_MAX},
                 "number": {"type": ["number", "null"]}, "date": {"type": ["string", "null"], "format": "date"}}
        custom = {}
        for c in self.custom_fields():
            p = dict(kinds.get(c.type) or {"enum": [*c.choices, None]})
            p["description"] = c.label
            custom[c.name] = p
        schema["properties"]["custom"] = {"type": "object", "properties": custom, "additionalProperties": False}
        required = [c.name for c in self.custom_fields() if c.required]
        if for_create and required:
            schema["properties"]["custom"]["required"] = required
            schema["required"] = [*schema.get("required", []), "custom"]
        return schema

    # -- who sees what ---------------------------------------------------------
    def _scoped(self, query, viewer: Viewer):
        if viewer.staff:
            return query
        if not viewer.agents:
            return query.where(False)
        return query.join(m.Agent, on=(m.Customer.account_manager == m.Agent.id)).where(
            m.Agent.number.in_(sorted(viewer.agents)))

    def _customer(self, viewer: Viewer, customer_id) -> m.Customer:
        try:
            customer_id = int(customer_id)
        except (TypeError, ValueError):
            raise no_customer(customer_id) from None
        if not 0 < customer_id < 2 ** 63:  # beyond SQLite's integers: no such customer
            raise no_customer(customer_id)
        query = self._scoped(m.Customer.select(m.Customer), viewer).where(m.Customer.id == customer_id)
        row = query.first()
        if row is None:
            raise no_customer(customer_id)
        return row

    def readable(self, viewer: Viewer, customer_id, live_calls=()) -> tuple[m.Customer, str]:
        """The customer and what ``viewer`` may do with it: ``OWNER`` (theirs, or staff),
        ``POOL`` (nobody's, the shared pool on: to read and claim) or ``CALLER`` (on a call
        ringing or connected to one of their agents, or one they took lately: to read);
        any other customer is not found, as before."""
        try:
            return self._customer(viewer, customer_id), OWNER
        except NotFound:
            if not viewer.agents:
                raise
        row = m.Customer.get_or_none(m.Customer.id == _int(customer_id))
        if row is None:
            raise no_customer(customer_id)
        if row.account_manager_id is None and self.pool_settings().enabled:
            return row, POOL
        if (on_call_with(viewer, row.phone, live_calls) or self._took_call_from(viewer, row.phone)
                or self._offered(viewer, row.id)):
            return row, CALLER
        raise no_customer(customer_id)

    @staticmethod
    def _offered(viewer: Viewer, customer_id: int) -> bool:
        """Whether a campaign's entry with this customer is offered to or dialled by one of
        the viewer's agents now (their preview panel links to the record)."""
        return m.CallListEntry.select().where(
            m.CallListEntry.customer == customer_id, m.CallListEntry.taken_by.in_(sorted(viewer.agents)),
            m.CallListEntry.state.in_(("offered", "dialling"))).exists()

    @staticmethod
    def _took_call_from(viewer: Viewer, phone: str) -> bool:
        """Whether one of the viewer's agents took a call from ``phone`` that ended less than
        ``RECENT_CALL_MINUTES`` ago (the call records)."""
        since = m.utcnow() - dt.timedelta(minutes=RECENT_CALL_MINUTES)
        return m.CallRecord.select().where(
            m.CallRecord.caller.in_(numbers.variants(phone)), m.CallRecord.agent.in_(sorted(viewer.agents)),
            m.CallRecord.end_time >= since).exists()

    def read(self, viewer: Viewer, customer_id, live_calls=()) -> dict:
        """The customer, if ``viewer`` may read it (``readable``)."""
        return self._views([self.readable(viewer, customer_id, live_calls)[0]])[0]

    def read_history(self, viewer: Viewer, customer_id, live_calls=()) -> list[dict]:
        """The customer's contact history, if ``viewer`` may read it (``readable``)."""
        return self._history(self.readable(viewer, customer_id, live_calls)[0])

    def record(self, viewer: Viewer, customer_id, live_calls=()) -> dict:
        """What the customer page shows ``viewer``: the customer, ``access`` (``readable``),
        the contact history, who claimed it from the shared pool, and (for their own
        customers) the follow-ups."""
        row, access = self.readable(viewer, customer_id, live_calls)
        return {"customer": self._views([row])[0], "access": access, "history": self._history(row),
                "follow_ups": self.follow_ups(viewer, customer_id=row.id, open_only=False) if access == OWNER else [],
                "claims": self.claims(row.id)}

    @staticmethod
    def claims(customer_id: int, limit: int = 20) -> list[dict]:
        """Who claimed the customer from the shared pool, newest first (the audit log)."""
        rows = (m.AuditLog.select().where(m.AuditLog.object_type == "customers", m.AuditLog.action == "claim",
                                          m.AuditLog.object_id == str(customer_id))
                .order_by(m.AuditLog.id.desc()).limit(limit))
        return [{"at": fmt_time(r.at), "by": r.username, "agent": json.loads(r.detail or "{}").get("agent")}
                for r in rows]

    # -- the shared pool (公海) ---------------------------------------------------------
    def pool_settings(self) -> PoolSettings:
        rows = {r.key: r.value for r in m.SiteSetting.select().where(m.SiteSetting.key.in_((POOL_KEY, POOL_LIMIT_KEY)))}
        limit = rows.get(POOL_LIMIT_KEY) or "0"
        return PoolSettings(enabled=rows.get(POOL_KEY) == "on", limit=int(limit) if limit.isdigit() else 0)

    def save_pool_settings(self, data, actor: str) -> PoolSettings:
        """Turn the shared pool on or off and set its limit (``enabled``, ``limit``)."""
        if not isinstance(data, dict):
            raise ValidationError("the pool settings must be a JSON object", code="request.not_an_object")
        errors = {}
        enabled = data.get("enabled", False)
        if not isinstance(enabled, bool):
            errors["enabled"] = FieldError("field.boolean", "true or false")
        limit = data.get("limit", 0)
        if isinstance(limit, str) and limit.strip().isdigit():
            limit = int(limit.strip())
        elif isinstance(limit, str) and not limit.strip():
            limit = 0
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_POOL_LIMIT:
            errors["limit"] = FieldError("field.range", f"a whole number from 0 to {MAX_POOL_LIMIT}",
                                         min=0, max=MAX_POOL_LIMIT)
        if errors:
            raise ValidationError(f"the pool settings cannot be saved: {next(iter(errors.values()))}",
                                  fields=errors)
        settings = PoolSettings(enabled, limit)
        now = m.utcnow()
        with self.db.atomic():
            m.SiteSetting.put(POOL_KEY, "on" if enabled else "off", actor, now)
            m.SiteSetting.put(POOL_LIMIT_KEY, str(limit), actor, now)
            m.AuditLog.create(username=actor or "system", action="update", object_type="customer_pool",
                              object_id="settings", detail=json.dumps(settings.as_dict()))
        logger.info("%s turned the shared customer pool %s (limit %d)", actor, "on" if enabled else "off", limit)
        return settings

    def pool(self, viewer: Viewer, q: str = "", page=1, per_page=PER_PAGE) -> dict:
        """One page of the shared pool: the customers of nobody.  Staff always see it (it is
        the list of customers to assign); an agent only while the pool is on (off: an empty
        page that says so in ``pool``)."""
        settings = self.pool_settings()
        query = m.Customer.select(m.Customer).where(m.Customer.account_manager.is_null())
        if not viewer.staff and not settings.enabled:
            query = query.where(False)
        query = self._filtered(viewer, q, query=query)
        return {**self._page(query, q, page, per_page), "pool": settings.as_dict(), "held": self._held(viewer)}

    @staticmethod
    def _held(viewer: Viewer) -> int:
        """How many customers the viewer's agents hold."""
        return (m.Customer.select().join(m.Agent, on=(m.Customer.account_manager == m.Agent.id))
                .where(m.Agent.number.in_(sorted(viewer.agents) or [""])).count())

    def claim(self, viewer: Viewer, customer_id, actor: str) -> dict:
        """Make a customer of the shared pool the viewer's own (their first agent's).

        One conditional UPDATE (still nobody's, and the agent under the limit) decides: of
        two agents claiming the same customer at once, one changes the row and the other
        finds it taken (409 ``customers.claimed``)."""
        cid = _int(customer_id)
        if not m.Customer.select().where(m.Customer.id == cid).exists():
            raise no_customer(customer_id)
        if not viewer.agents:
            raise PermissionDenied("your account is not linked to an agent, so you have no customers",
                                   code="customers.no_agent")
        settings = self.pool_settings()
        if not settings.enabled:
            raise Conflict("the shared customer pool is off; an admin turns it on", code="customers.pool_off")
        agent = m.Agent.get(m.Agent.number == sorted(viewer.agents)[0])
        with self.db.atomic():
            update = m.Customer.update(account_manager=agent, updated_at=m.utcnow()).where(
                m.Customer.id == cid, m.Customer.account_manager.is_null())
            if settings.limit:
                held = m.Customer.select(fn.COUNT(m.Customer.id)).where(m.Customer.account_manager == agent.id)
                update = update.where(held < settings.limit)
            if update.execute():
                _audit(actor, "claim", cid, {"agent": agent.number})
                row = m.Customer.get_by_id(cid)
            else:
                row = None
        if row is not None:
            logger.info("%s claimed customer %s for agent %s", actor, cid, agent.number)
            return self._views([row])[0]
        row = m.Customer.get_or_none(m.Customer.id == cid)
        if row is None:  # deleted meanwhile
            raise no_customer(customer_id)
        if row.account_manager_id == agent.id:
            return self._views([row])[0]  # theirs already (a second click): nothing to do
        if row.account_manager_id is not None:
            raise Conflict(f"customer {cid} is no longer in the shared pool: another agent has it",
                           code="customers.claimed")
        raise Conflict(f"you hold {settings.limit} customers, the most the shared pool allows",
                       code="customers.claim_limit", params={"limit": settings.limit})

    # -- reading ---------------------------------------------------------------
    def _views(self, rows: list[m.Customer]) -> list[dict]:
        ids = [r.id for r in rows]
        tags: dict[int, list[str]] = {i: [] for i in ids}
        if ids:
            for t in m.CustomerTag.select().where(m.CustomerTag.customer.in_(ids)).order_by(m.CustomerTag.id):
                tags[t.customer_id].append(t.tag)
        managers = {}
        manager_ids = {r.account_manager_id for r in rows if r.account_manager_id}
        if manager_ids:
            managers = {a.id: a for a in m.Agent.select().where(m.Agent.id.in_(manager_ids))}
        out = []
        for r in rows:
            manager = managers.get(r.account_manager_id)
            out.append({"id": r.id, "name": r.name, "phone": r.phone, "email": r.email, "category": r.category,
                        "account_manager": manager.number if manager else None,
                        "account_manager_name": manager.name if manager else "",
                        "tags": tags[r.id], "custom": json.loads(r.custom or "{}"), "has_pin": bool(r.pin_hash),
                        "created_at": fmt_time(r.created_at), "created_by": r.created_by,
                        "updated_at": fmt_time(r.updated_at)})
        return out

    def search(self, viewer: Viewer, q: str = "", tag: str = "", category: str = "", manager: str = "",
               page=1, per_page=PER_PAGE) -> dict:
        """One page of the customers ``viewer`` may see.  ``q`` is part of a phone number
        (when it looks like one) or of a name; ``tag``, ``category`` and ``manager`` (a work
        number, or ``-`` for nobody's) must match exactly.  Newest first; by name when
        searching by name."""
        return self._page(self._filtered(viewer, q, tag, category, manager), q, page, per_page)

    def _page(self, query, q: str, page, per_page) -> dict:
        page, per_page = _page_args(page, per_page)
        total = query.count()
        order = (m.Customer.name, m.Customer.id) if _name_term(q) else (m.Customer.id.desc(),)
        rows = list(query.order_by(*order).limit(per_page).offset((page - 1) * per_page))
        return {"items": self._views(rows), "total": total, "page": page, "per_page": per_page,
                "pages": max(1, -(-total // per_page))}

    def _filtered(self, viewer: Viewer, q: str = "", tag: str = "", category: str = "", manager: str = "",
                  query=None):
        if query is None:
            query = self._scoped(m.Customer.select(m.Customer), viewer)
        q = (q or "").strip()
        if q:
            digits = clean_phone(q)
            if PHONE.fullmatch(digits) or re.fullmatch(r"\+?[0-9]{1,20}", digits):
                # a part of a number, as typed (a leading + aside)
                column, q = m.Customer.phone, digits.lstrip("+")
            else:
                column = m.Customer.name
            # an agent's own customers are few, and found by their account manager's index
            ids = self._indexed(column.name, q) if viewer.staff else None
            if ids is not None:
                query = query.where(m.Customer.id.in_(ids))
            query = query.where(column.contains(q))
        if tag:
            query = query.where(m.Customer.id.in_(
                m.CustomerTag.select(m.CustomerTag.customer).where(m.CustomerTag.tag == tag.strip())))
        if category:
            query = query.where(m.Customer.category == category.strip())
        if manager == "-":
            query = query.where(m.Customer.account_manager.is_null())
        elif manager:
            query = query.where(m.Customer.account_manager.in_(
                m.Agent.select(m.Agent.id).where(m.Agent.number == manager)))
        return query

    def _indexed(self, column: str, term: str):
        """The ids of the customers whose ``column`` may hold ``term`` (a superset of the
        LIKE's: the index folds case beyond ASCII), as a subquery of the index; None when the
        index cannot narrow it (too short a term, or more than ``INDEX_CAP`` customers). The
        count stops at the cap and stays in SQLite: no id comes into Python."""
        if not self.search_index or len(term) < MIN_TRIGRAM or "\x00" in term:
            return None  # a NUL: no name or number has one, and FTS5 cannot take it
        match = f"{column} : {fts_string(term)}"
        found = self.db.execute_sql("SELECT COUNT(*) FROM (SELECT 1 FROM customer_fts WHERE customer_fts MATCH ? "
                                    "LIMIT ?)", (match, INDEX_CAP + 1)).fetchone()[0]
        if found > INDEX_CAP:
            return None
        return SQL("(SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?)", (match,))

    def matching(self, viewer: Viewer, q: str = "", tag: str = "", category: str = "", manager: str = "",
                 batch: int = 1000):
        """Every customer of a search, in batches (for the Excel export)."""
        query = self._filtered(viewer, q, tag, category, manager).order_by(m.Customer.id)
        last = 0
        while True:
            rows = list(query.where(m.Customer.id > last).limit(batch))
            if not rows:
                return
            yield from self._views(rows)
            last = rows[-1].id

    def get(self, viewer: Viewer, customer_id) -> dict:
        return self._views([self._customer(viewer, customer_id)])[0]

    def find_by_phone(self, viewer: Viewer, phone: str) -> dict | None:
        row = self._scoped(m.Customer.select(m.Customer), viewer).where(
            m.Customer.phone.in_(numbers.variants(phone or ""))).first()
        return self._views([row])[0] if row else None

    def tags(self, limit: int = 50) -> list[tuple[str, int]]:
        """The most used tags and how many customers carry each (for the search filter)."""
        rows = (m.CustomerTag.select(m.CustomerTag.tag, fn.COUNT(m.CustomerTag.id).alias("n"))
                .group_by(m.CustomerTag.tag).order_by(fn.COUNT(m.CustomerTag.id).desc(), m.CustomerTag.tag)
                .limit(limit))
        return [(r.tag, r.n) for r in rows]

    # -- validation ------------------------------------------------------------
    def clean(self, data, *, creating: bool, custom_fields: list[CustomField] | None = None,
              agents: dict | None = None) -> tuple[dict, dict]:
        """``(values, custom)``: model attribute -> value for the customer's own fields that
        are present (all on creating), and custom field -> value.  Raises ValidationError
        with every field's problem.  ``agents`` (work number -> Agent) saves a query per
        call when checking many customers."""
        if not isinstance(data, dict):
            raise ValidationError("a customer must be a JSON object", code="request.not_an_object")
        custom_fields = self.custom_fields() if custom_fields is None else custom_fields
        by_name = {c.name: c for c in custom_fields}
        custom_in = data.get("custom") or {}
        errors = {}
        if not isinstance(custom_in, dict):
            errors["custom"] = FieldError("field.custom_object", "an object of custom field values")
            custom_in = {}
        unknown = FieldError("field.unknown", "unknown field")
        errors.update({name: unknown for name in data if name not in FIELD_BY_NAME and name != "custom"})
        errors.update({name: unknown for name in custom_in if name not in by_name})
        values, custom = {}, {}
        for f in FIELDS:
            if f.name not in data:
                if creating and f.required:
                    errors[f.name] = FieldError("field.required", "required")
                elif creating and f.type != "ref":
                    values[f.attr] = f.default
                continue
            raw = clean_phone(data[f.name]) if f.name == "phone" else data[f.name]
            try:
                value = coerce(f, raw)
            except ValueError as exc:
                errors[f.name] = field_error_of(exc)
                continue
            if f.required and value in (None, ""):
                errors[f.name] = FieldError("field.required", "required")
            elif f.name == "tags":
                tags = split_tags(value)
                bad = [t for t in tags if len(t) > 32]
                if bad or len(tags) > MAX_TAGS:
                    errors[f.name] = FieldError("field.tags", f"at most {MAX_TAGS} tags of at most 32 characters",
                                                n=MAX_TAGS)
                values["tags"] = tags
            elif f.type == "ref":
                if value is None:
                    values[f.attr] = None
                else:
                    agent = agents.get(value) if agents is not None else m.Agent.get_or_none(m.Agent.number == value)
                    if agent is None:
                        errors[f.name] = FieldError("field.no_such", f"no agent {value}", key=value)
                    values[f.attr] = agent
            elif f.secret and not value:
                continue  # an empty secret leaves it as it is
            else:
                values[f.attr] = f.stored(value) if f.stored else value
        for c in custom_fields:
            if c.name not in custom_in and not creating:
                continue
            try:
                custom[c.name] = c.coerce(custom_in.get(c.name))
            except ValueError as exc:
                errors[f"custom.{c.name}"] = field_error_of(exc)
        if errors:
            first = next(iter(errors.items()))
            raise ValidationError(f"the customer cannot be saved: {first[0]}: {first[1]}", fields=errors)
        return values, custom

    def _unique_phone(self, phone: str, exclude_id=None) -> None:
        query = m.Customer.select(m.Customer.id).where(m.Customer.phone.in_(numbers.variants(phone)))
        if exclude_id is not None:
            query = query.where(m.Customer.id != exclude_id)
        if query.exists():
            raise Conflict(f"a customer with phone {phone} already exists", code="customers.exists",
                           fields={"phone": FieldError("field.exists", "already exists")})

    def _own_manager(self, viewer: Viewer, values: dict, *, creating: bool) -> None:
        """Agents keep their customers to themselves: a new one is theirs; only staff
        assign a customer to someone else."""
        if viewer.staff:
            return
        if not viewer.agents:
            raise PermissionDenied("your account is not linked to an agent, so you have no customers",
                                   code="customers.no_agent")
        wanted = values.get("account_manager")
        if creating and wanted is None:
            values["account_manager"] = m.Agent.get(m.Agent.number == sorted(viewer.agents)[0])
        elif "account_manager" in values and (wanted is None or wanted.number not in viewer.agents):
            raise PermissionDenied("only team leaders assign customers to other agents",
                                   code="customers.assign_staff_only")

    def _set_tags(self, customer_id: int, tags: list[str]) -> None:
        m.CustomerTag.delete().where(m.CustomerTag.customer == customer_id).execute()
        if tags:
            m.CustomerTag.insert_many([{"customer": customer_id, "tag": t} for t in tags]).execute()

    # -- changing --------------------------------------------------------------
    def create(self, viewer: Viewer, data, actor: str) -> dict:
        values, custom = self.clean(data, creating=True)
        self._own_manager(viewer, values, creating=True)
        tags = values.pop("tags", [])
        with self.db.atomic():
            self._unique_phone(values["phone"])
            row = m.Customer.create(**values, custom=json.dumps(custom, ensure_ascii=False), created_by=actor)
            self._set_tags(row.id, tags)
            _audit(actor, "create", row.id, {**_redacted(values), "tags": tags, "custom": custom})
        logger.info("%s created customer %s", actor, row.id)
        return self._tell("created", self._views([row])[0])

    def update(self, viewer: Viewer, customer_id, data, actor: str) -> dict:
        values, custom = self.clean(data, creating=False)
        self._own_manager(viewer, values, creating=False)
        tags = values.pop("tags", None)
        with self.db.atomic():
            row = self._customer(viewer, customer_id)
            if "phone" in values:
                self._unique_phone(values["phone"], exclude_id=row.id)
            for attr, value in values.items():
                setattr(row, attr, value)
            if custom:
                row.custom = json.dumps({**json.loads(row.custom or "{}"), **custom}, ensure_ascii=False)
            row.updated_at = m.utcnow()
            row.save()
            if tags is not None:
                self._set_tags(row.id, tags)
            _audit(actor, "update", row.id, {**_redacted(values), **({"tags": tags} if tags is not None else {}),
                                             **({"custom": custom} if custom else {})})
        logger.info("%s updated customer %s", actor, row.id)
        return self._tell("changed", self._views([row])[0])

    def _tell(self, what: str, view: dict) -> dict:
        tell(self.changed, f"customer {view.get('id')} {what}", what, view)
        return view

    @staticmethod
    def version(row: m.Customer) -> str:
        """What changes with every saved change of the customer (the time of its last one):
        a writer sends back the version it read and is refused if someone changed it since."""
        return row.updated_at.isoformat() if row.updated_at else "0"

    def set_custom(self, customer_id: int, values: dict, actor: str, version: str | None = None,
                   **why) -> m.Customer:
        """Write custom field values (each already ``CustomField.coerce``-d) into the customer
        with one conditional UPDATE on the version read (``version``; None: whatever it is
        now), audited as an update with ``why`` (what wrote it).  409 ``customers.changed``
        when someone changed the customer since."""
        with self.db.atomic():
            row = m.Customer.get_or_none(m.Customer.id == _int(customer_id))
            if row is None:
                raise no_customer(customer_id)
            if version is not None and str(version) != self.version(row):
                raise _changed(row.id)
            custom = json.dumps({**json.loads(row.custom or "{}"), **values}, ensure_ascii=False)
            now = m.utcnow()
            same = (m.Customer.updated_at == row.updated_at) if row.updated_at else m.Customer.updated_at.is_null()
            if not m.Customer.update(custom=custom, updated_at=now).where(m.Customer.id == row.id, same).execute():
                raise _changed(row.id)
            _audit(actor, "update", row.id, {"custom": values, **why})
        row.custom, row.updated_at = custom, now
        return row

    def delete(self, viewer: Viewer, customer_id, actor: str) -> None:
        with self.db.atomic():
            row = self._customer(viewer, customer_id)
            row.delete_instance()
            _audit(actor, "delete", row.id, {"name": row.name, "phone": row.phone})
        logger.info("%s deleted customer %s", actor, customer_id)

    # -- team leaders: assign, reclaim, transfer -------------------------------------
    def assign(self, customer_ids, agent: str | None, actor: str) -> int:
        """Give these customers to ``agent`` (a work number), or to nobody (reclaim)."""
        ids = _ids(customer_ids)
        with self.db.atomic():
            target = None
            if agent:
                target = m.Agent.get_or_none(m.Agent.number == agent)
                if target is None:
                    raise ValidationError(f"no agent {agent}",
                                          fields={"agent": FieldError("field.no_such", f"no agent {agent}", key=agent)})
            found = [r.id for r in m.Customer.select(m.Customer.id).where(m.Customer.id.in_(ids))]
            missing = sorted(set(ids) - set(found))
            if missing:
                raise no_customer(missing[0])
            count = m.Customer.update(account_manager=target, updated_at=m.utcnow()).where(
                m.Customer.id.in_(ids)).execute()
            m.AuditLog.create(username=actor or "system", action="assign" if target else "reclaim",
                              object_type="customers", object_id=",".join(map(str, ids))[:64],
                              detail=json.dumps({"agent": agent or None, "customers": ids}))
        logger.info("%s %s %d customers%s", actor, "assigned" if target else "reclaimed", count,
                    f" to {agent}" if target else "")
        return count

    def transfer(self, from_agent: str, to_agent: str, actor: str) -> int:
        """Every customer of ``from_agent`` goes to ``to_agent`` (an agent leaves, say)."""
        agents = {a.number: a for a in m.Agent.select().where(m.Agent.number.in_([from_agent, to_agent]))}
        errors = {name: FieldError("field.no_such", f"no agent {number}", key=number)
                  for name, number in (("from", from_agent), ("to", to_agent))
                  if number not in agents}
        if errors:
            raise ValidationError(f"cannot transfer: {next(iter(errors.values()))}", fields=errors)
        if from_agent == to_agent:
            raise ValidationError("cannot transfer customers to the agent who has them",
                                  fields={"to": FieldError("field.same_agent", "the same agent")})
        with self.db.atomic():
            count = m.Customer.update(account_manager=agents[to_agent], updated_at=m.utcnow()).where(
                m.Customer.account_manager == agents[from_agent]).execute()
            m.AuditLog.create(username=actor or "system", action="transfer", object_type="customers",
                              object_id=f"{from_agent}->{to_agent}",
                              detail=json.dumps({"from": from_agent, "to": to_agent, "count": count}))
        logger.info("%s transferred %d customers from agent %s to %s", actor, count, from_agent, to_agent)
        return count

    # -- contact history -------------------------------------------------------
    def history(self, viewer: Viewer, customer_id, limit: int = 100) -> list[dict]:
        """Calls (from the call records, by the customer's number) and notes, newest first."""
        return self._history(self._customer(viewer, customer_id), limit)

    @staticmethod
    def _history(row: m.Customer, limit: int = 100) -> list[dict]:
        notes = (m.CustomerNote.select().where(m.CustomerNote.customer == row.id)
                 .order_by(m.CustomerNote.created_at.desc()).limit(limit))
        items = calls_of(row.phone, limit)
        items += [{"kind": "note", "at": fmt_time(n.created_at), "author": n.author, "body": n.body,
                   "linkedid": n.linkedid, "id": n.id} for n in notes]
        return sorted(items, key=lambda i: i["at"] or "", reverse=True)[:limit]

    def add_note(self, viewer: Viewer, customer_id, body, actor: str, linkedid: str = "") -> dict:
        try:
            body = coerce(Field("body", "str", max_length=4000, check=_check_text, multiline=True), body)
            linkedid = coerce(Field("linkedid", "str", max_length=64), linkedid or "")
        except ValueError as exc:
            raise ValidationError(f"the note cannot be saved: {exc}", fields={"body": field_error_of(exc)}) from None
        if not body:
            raise ValidationError("the note is empty", fields={"body": FieldError("field.required", "required")})
        row = self._customer(viewer, customer_id)
        note = m.CustomerNote.create(customer=row, author=actor, body=body, linkedid=linkedid)
        return {"kind": "note", "id": note.id, "at": fmt_time(note.created_at), "author": actor, "body": body,
                "linkedid": linkedid}

    # -- follow-ups and call-backs ------------------------------------------------
    def _follow_up_view(self, f: m.FollowUp, customer: m.Customer | None = None, agent: m.Agent | None = None) -> dict:
        customer = customer or f.customer
        return {"id": f.id, "customer_id": f.customer_id, "customer_name": customer.name,
                "customer_phone": customer.phone, "kind": f.kind, "due_at": fmt_time(f.due_at), "note": f.note,
                "agent": agent.number if agent else None, "created_by": f.created_by,
                "done_at": fmt_time(f.done_at), "done_by": f.done_by,
                "overdue": f.done_at is None and f.due_at < self.local_now()}

    def follow_ups(self, viewer: Viewer, customer_id=None, open_only: bool = True, limit: int = 100) -> list[dict]:
        """Follow-ups of one customer, or (without ``customer_id``) those due by the viewer's
        agents (staff: everyone's), earliest first."""
        query = (m.FollowUp.select(m.FollowUp, m.Customer, m.Agent).join(m.Customer)
                 .switch(m.FollowUp).join(m.Agent, join_type=JOIN.LEFT_OUTER, on=(m.FollowUp.agent == m.Agent.id)))
        if customer_id is not None:
            query = query.where(m.FollowUp.customer == self._customer(viewer, customer_id).id)
        elif not viewer.staff:
            query = query.where(m.Agent.number.in_(sorted(viewer.agents) or [""]))
        if open_only:
            query = query.where(m.FollowUp.done_at.is_null())
        open_first = Case(None, [(m.FollowUp.done_at.is_null(), 0)], 1)
        rows = query.order_by(open_first, m.FollowUp.due_at).limit(limit)
        return [self._follow_up_view(f, f.customer, f.agent if f.agent_id else None) for f in rows]

    def add_follow_up(self, viewer: Viewer, customer_id, data, actor: str) -> dict:
        if not isinstance(data, dict):
            raise ValidationError("a follow-up must be a JSON object", code="request.not_an_object")
        errors = {}
        kind = data.get("kind") or "follow_up"
        if kind not in FOLLOW_UP_KINDS:
            errors["kind"] = FieldError("field.choice", f"one of {', '.join(FOLLOW_UP_KINDS)}",
                                        choices=", ".join(FOLLOW_UP_KINDS))
        due = _parse_due(data.get("due_at"))
        if due is None:
            errors["due_at"] = FieldError("field.datetime", "a date and time (YYYY-MM-DD HH:MM)")
        try:
            note = coerce(Field("note", "str", max_length=500, check=_check_text), data.get("note") or "")
        except ValueError as exc:
            errors["note"], note = field_error_of(exc), ""
        row = self._customer(viewer, customer_id)
        agent = row.account_manager if row.account_manager_id else None
        if data.get("agent"):
            agent = m.Agent.get_or_none(m.Agent.number == str(data["agent"]))
            if agent is None:
                errors["agent"] = FieldError("field.no_such", f"no agent {data['agent']}", key=data["agent"])
            elif not viewer.staff and agent.number not in viewer.agents:
                errors["agent"] = FieldError("field.own_agents_only",
                                             "only team leaders give follow-ups to other agents")
        elif agent is None and viewer.agents:
            agent = m.Agent.get_or_none(m.Agent.number == sorted(viewer.agents)[0])
        if errors:
            raise ValidationError(f"the follow-up cannot be saved: {next(iter(errors.items()))}", fields=errors)
        f = m.FollowUp.create(customer=row, kind=kind, due_at=due, note=note, agent=agent, created_by=actor)
        return self._follow_up_view(f, row, agent)

    def complete_follow_up(self, viewer: Viewer, follow_up_id, actor: str) -> dict:
        f = m.FollowUp.get_or_none(m.FollowUp.id == _int(follow_up_id))
        if f is None:
            raise NotFound(f"no follow-up {follow_up_id}", code="follow_ups.not_found")
        customer = self._customer(viewer, f.customer_id)  # not found unless the viewer sees the customer
        if f.done_at is None:
            f.done_at, f.done_by = m.utcnow(), actor
            f.save()
        return self._follow_up_view(f, customer, f.agent if f.agent_id else None)


# -- helpers -----------------------------------------------------------------------
def no_customer(customer_id) -> NotFound:
    """The answer for a customer that does not exist, or that the viewer may not see."""
    return NotFound(f"no customer {customer_id}", code="customers.not_found")


def _changed(customer_id) -> Conflict:
    return Conflict(f"customer {customer_id} was changed since it was read", code="customers.changed")


def _page_args(page, per_page) -> tuple[int, int]:
    try:
        page, per_page = int(page or 1), int(per_page or PER_PAGE)
    except (TypeError, ValueError):
        raise ValidationError("page and per_page are whole numbers",
                              fields={"page": FieldError("field.integer", "a whole number")}) from None
    return max(1, page), min(max(1, per_page), MAX_PER_PAGE)


def _name_term(q: str) -> bool:
    q = (q or "").strip()
    return bool(q) and not re.fullmatch(r"\+?[0-9]{1,20}", clean_phone(q))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _ids(values) -> list[int]:
    if not isinstance(values, (list, tuple)) or not values:
        raise ValidationError("say which customers (a list of ids)",
                              fields={"customers": FieldError("field.required", "required")})
    ids = []
    for v in values:
        if isinstance(v, bool) or _int(v) < 1:
            raise ValidationError("customer ids are whole numbers",
                                  fields={"customers": FieldError("field.integer", "a whole number")})
        ids.append(int(v))
    return sorted(set(ids))


def _parse_due(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(second=0, microsecond=0)
    if not isinstance(value, str) or len(value) > 32:
        return None
    text = value.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            due = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return due.replace(hour=9) if fmt == "%Y-%m-%d" else due.replace(second=0)
    return None


def _redacted(values: dict) -> dict:
    out = {}
    for attr, value in values.items():
        if attr == "pin_hash":
            out["pin"] = "(set)" if value else "(empty)"
        elif isinstance(value, m.Agent):
            out[attr] = value.number
        else:
            out[attr] = value
    return out


def _audit(actor: str, action: str, customer_id: int, detail: dict) -> None:
    m.AuditLog.create(username=actor or "system", action=action, object_type="customers",
                      object_id=str(customer_id), detail=json.dumps(detail, ensure_ascii=False, default=str,
                                                                    sort_keys=True))
