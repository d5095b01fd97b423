"""Orders and sales: the product catalogue (gifts are products at no price with their own
stock), suppliers, orders taken during a call, their review and delivery, payments, and
member points.

Money is whole fen (1/100 yuan) everywhere inside: prices come in as yuan text or numbers
(``"12.50"``, ``12.5``), are read with ``Decimal`` (``parse_money``), and are shown as
``¥12.50`` (``yuan``).  No float ever holds an amount.

An order's life (``ACTIONS``)::

    draft --submit--> review --approve--> approved --ship--> shipped --deliver--> delivered
                         \\--reject--> rejected           \\--return--> returned <--return--/
    draft / review / approved --cancel--> cancelled

Who: an agent creates orders for their own customers (or the caller on their call: the
CRM's ``readable``) and sees the orders of their customers and the ones they took; staff
(admins, supervisors) see all.  Approving and rejecting is for *reviewers*: every admin,
and the supervisors an admin names in the order settings (``OrderSettings.reviewers``);
shipping, delivery and returns are for staff.  Every change is in the order's history
(``OrderEvent``: who, when, from which state to which) and in the audit log.

Concurrency: every change of an order is one conditional UPDATE on its ``version`` (and
state): with ``version`` (the API's ``If-Match``) an order someone else changed since is
refused (409 ``orders.changed``), never overwritten.  Stock goes down when an order ships
and back up on a return, by a conditional UPDATE (``stock >= quantity``) unless the admin
allows negative stock.  Points are taken when an order is submitted by one conditional
UPDATE of the customer's balance (``balance >= points``) with a ledger entry in the same
transaction, so two orders spending the same points at once cannot both succeed; they are
given back when the order is rejected, cancelled or returned.  Points are earned with each
payment by the admin's rule (one point per ``fen_per_point`` paid) and taken back on a return.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from peewee import JOIN, fn

from appliance import numbers, sounds
from appliance.db import models as m
from appliance.engine.menus import order_status
from appliance.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationError, field_error_of
from appliance.i18n import translate
from appliance.services.config import Field, coerce
from appliance.services.crm import CALLER, OWNER, Viewer, _check_text, fmt_time
from appliance.services.listeners import tell

logger = logging.getLogger(__name__)

STATES = ("draft", "review", "approved", "rejected", "shipped", "delivered", "returned", "cancelled")
# action -> (states it starts from, state it ends in, who may: owner | reviewer | staff)
ACTIONS = {
    "submit": (("draft",), "review", "owner"),
    "approve": (("review",), "approved", "reviewer"),
    "reject": (("review",), "rejected", "reviewer"),
    "ship": (("approved",), "shipped", "staff"),
    "deliver": (("shipped",), "delivered", "staff"),
    "return": (("shipped", "delivered"), "returned", "staff"),
    "cancel": (("draft", "review", "approved"), "cancelled", "owner"),
}
# Orders that are sales (counted in the figures): approved and after, not undone.
SOLD = ("approved", "shipped", "delivered")
PAYMENT_METHODS = ("cod", "bank_transfer", "wechat", "alipay", "cash", "card")
MAX_MONEY_FEN = 100_000_000_00  # ¥100,000,000: more is a typing mistake
MAX_QUANTITY = 10_000
MAX_LINES = 100
MAX_POINTS = 100_000_000
PER_PAGE = 50
MAX_PER_PAGE = 200
PRODUCT_COLUMNS = ("code", "name", "category", "price", "unit", "stock", "active", "gift", "supplier")
TRACKING_COLUMNS = ("order", "courier", "tracking")
SETTINGS_KEY = "orders_settings"
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


# -- money --------------------------------------------------------------------------------
def parse_money(value, *, allow_zero: bool = True) -> int:
    """Yuan (``"12.50"``, ``12.5``, ``"¥1,200"``) as whole fen, or ValueError with a
    ``FieldError``: not a number, negative, more than two decimals, or over ¥100,000,000."""
    bad = ValueError(FieldError("orders.field.money", "an amount in yuan, e.g. 12.50"))
    if isinstance(value, bool) or value is None:
        raise bad
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise bad from None
    if not amount.is_finite() or abs(amount) > MAX_MONEY_FEN:
        if amount.is_finite() and amount > 0:
            raise ValueError(FieldError("field.max", f"at most {MAX_MONEY_FEN // 100}", n=MAX_MONEY_FEN // 100))
        raise bad
    if amount != amount.quantize(Decimal("0.01")):
        raise bad
    fen = int(amount * 100)
    if fen < 0 or (fen == 0 and not allow_zero):
        raise ValueError(FieldError("orders.field.money_positive", "an amount above zero"))
    if fen > MAX_MONEY_FEN:
        raise ValueError(FieldError("field.max", f"at most {MAX_MONEY_FEN // 100}", n=MAX_MONEY_FEN // 100))
    return fen


def yuan(fen: int) -> str:
    """``1250`` -> ``¥12.50`` (``-¥3.00`` below zero)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def decimal_text(fen: int) -> str:
    """``1250`` -> ``12.50``: what the API and the forms carry."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def parse_whole(value, minimum: int, maximum: int) -> int:
    """A whole number from ``minimum`` to ``maximum`` (text or a number; never 2.5 or true)."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(FieldError("field.integer", "must be a whole number"))
    if not minimum <= value <= maximum:
        raise ValueError(FieldError("field.range", f"{minimum} to {maximum}", min=minimum, max=maximum))
    return value


@dataclass(frozen=True)
class OrderSettings:
    """What an admin sets: how far an agent may lower a price (percent of the list price),
    the points rule (one point per ``fen_per_point`` paid; a point is worth
    ``point_value_fen`` when redeemed), whether stock may go below zero, and which
    supervisors review orders (admins always do)."""

    price_limit_percent: int = 10
    fen_per_point: int = 1000
    point_value_fen: int = 10
    negative_stock: bool = False
    reviewers: tuple = ()

    def as_dict(self) -> dict:
        return {"price_limit_percent": self.price_limit_percent, "yuan_per_point": decimal_text(self.fen_per_point),
                "point_value": decimal_text(self.point_value_fen), "negative_stock": self.negative_stock,
                "reviewers": list(self.reviewers)}


def _text(name: str, value, max_length: int, required: bool = False) -> str:
    value = coerce(Field(name, "str", max_length=max_length, check=_check_text), value if value is not None else "")
    if required and not value:
        raise ValueError(FieldError("field.required", "required"))
    return value


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value or "").strip().lower()
    if text in ("1", "true", "yes", "on", "y", "是", "✓"):
        return True
    if text in ("", "0", "false", "no", "off", "n", "否", "✗"):
        return False
    raise ValueError(FieldError("field.boolean", "must be yes or no"))


def _fail(what: str, errors: dict):
    first = next(iter(errors.items()))
    raise ValidationError(f"{what}: {first[0]}: {first[1]}", fields=errors)


def no_order(order_id) -> NotFound:
    return NotFound(f"no order {order_id}", code="orders.not_found")


def no_product(product_id) -> NotFound:
    return NotFound(f"no product {product_id}", code="products.not_found")


def _audit(actor: str, action: str, object_type: str, object_id, detail: dict) -> None:
    m.AuditLog.create(username=actor or "system", action=action[:16], object_type=object_type,
                      object_id=str(object_id)[:64],
                      detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True))


class OrderService:
    def __init__(self, db, crm):
        self.db = db
        self.crm = crm  # CustomerService: who may read which customer
        # told ("created" | "changed", the order's view) after an order is taken, edited, moved
        # (submitted, approved, shipped ...) or paid (the webhooks' order.created / order.changed)
        self.changed: list = []

    def _told(self, what: str, view: dict) -> dict:
        """``view``, once each listener of ``changed`` is told ``(what, view)``."""
        tell(self.changed, f"order {view.get('id')} {what}", what, view)
        return view

    # -- settings ----------------------------------------------------------------------
    def settings(self) -> OrderSettings:
        row = m.SiteSetting.get_or_none(m.SiteSetting.key == SETTINGS_KEY)
        if row is None:
            return OrderSettings()
        try:
            data = json.loads(row.value)
            return OrderSettings(int(data["price_limit_percent"]), int(data["fen_per_point"]),
                                 int(data["point_value_fen"]), bool(data["negative_stock"]),
                                 tuple(data.get("reviewers") or ()))
        except (ValueError, KeyError, TypeError):
            logger.warning("the order settings do not read; the defaults apply")
            return OrderSettings()

    def save_settings(self, data, actor: str) -> OrderSettings:
        if not isinstance(data, dict):
            raise ValidationError("the order settings must be a JSON object", code="request.not_an_object")
        now, errors, values = self.settings(), {}, {}
        checks = {"price_limit_percent": lambda v: parse_whole(v, 0, 100),
                  "yuan_per_point": lambda v: parse_money(v, allow_zero=False),
                  "point_value": lambda v: parse_money(v),
                  "negative_stock": _bool}
        for name, check in checks.items():
            if name in data:
                try:
                    values[name] = check(data[name])
                except ValueError as exc:
                    errors[name] = field_error_of(exc)
        reviewers = now.reviewers
        if "reviewers" in data:
            wanted = data["reviewers"]
            if isinstance(wanted, str):
                wanted = [w.strip() for w in re.split(r"[,，\s]+", wanted) if w.strip()]
            if not isinstance(wanted, list):
                errors["reviewers"] = FieldError("field.list", "a list of supervisors", choices="")
            else:
                known = {u.username for u in m.User.select().where(m.User.role == "supervisor")}
                unknown = [w for w in wanted if w not in known]
                if unknown:
                    errors["reviewers"] = FieldError("orders.field.not_supervisor", f"{unknown[0]} is not a supervisor",
                                                     item=str(unknown[0]))
                reviewers = tuple(sorted(set(map(str, wanted))))
        if errors:
            _fail("the order settings cannot be saved", errors)
        settings = OrderSettings(values.get("price_limit_percent", now.price_limit_percent),
                                 values.get("yuan_per_point", now.fen_per_point),
                                 values.get("point_value", now.point_value_fen),
                                 values.get("negative_stock", now.negative_stock), reviewers)
        stored = {"price_limit_percent": settings.price_limit_percent, "fen_per_point": settings.fen_per_point,
                  "point_value_fen": settings.point_value_fen, "negative_stock": settings.negative_stock,
                  "reviewers": list(settings.reviewers)}
        with self.db.atomic():
            m.SiteSetting.put(SETTINGS_KEY, json.dumps(stored), actor, m.utcnow())
            _audit(actor, "update", "orders_settings", "settings", stored)
        return settings

    def is_reviewer(self, viewer: Viewer) -> bool:
        return viewer.role == "admin" or (viewer.role == "supervisor" and viewer.username in self.settings().reviewers)

    # -- suppliers ---------------------------------------------------------------------
    def suppliers(self) -> list[dict]:
        rows = list(m.Supplier.select().order_by(m.Supplier.name))
        supplied: dict[int, list[str]] = {r.id: [] for r in rows}
        for p in m.Product.select(m.Product.code, m.Product.supplier).where(m.Product.supplier.is_null(False)):
            supplied.setdefault(p.supplier_id, []).append(p.code)
        return [{"id": r.id, "name": r.name, "contact": r.contact, "phone": r.phone, "note": r.note,
                 "products": sorted(supplied.get(r.id, []))} for r in rows]

    def save_supplier(self, data, actor: str, supplier_id=None) -> dict:
        if not isinstance(data, dict):
            raise ValidationError("a supplier must be a JSON object", code="request.not_an_object")
        errors, values = {}, {}
        for name, size, required in (("name", 128, True), ("contact", 64, False), ("phone", 32, False),
                                     ("note", 500, False)):
            if name in data or supplier_id is None:
                try:
                    values[name] = _text(name, data.get(name), size, required)
                except ValueError as exc:
                    errors[name] = field_error_of(exc)
        if errors:
            _fail("the supplier cannot be saved", errors)
        with self.db.atomic():
            same = m.Supplier.get_or_none(m.Supplier.name == values.get("name"))
            if same is not None and same.id != supplier_id:
                raise Conflict("a supplier of that name exists", code="products.supplier_exists",
                               fields={"name": FieldError("field.exists", "already exists")})
            if supplier_id is None:
                row = m.Supplier.create(**values)
            else:
                row = m.Supplier.get_or_none(m.Supplier.id == supplier_id)
                if row is None:
                    raise NotFound(f"no supplier {supplier_id}", code="products.no_supplier")
                for k, v in values.items():
                    setattr(row, k, v)
                row.save()
            _audit(actor, "create" if supplier_id is None else "update", "suppliers", row.id, values)
        return next(s for s in self.suppliers() if s["id"] == row.id)

    # -- products ----------------------------------------------------------------------
    @staticmethod
    def product_view(p: m.Product, supplier: m.Supplier | None = None) -> dict:
        return {"id": p.id, "code": p.code, "name": p.name, "category": p.category, "price": decimal_text(p.price_fen),
                "price_fen": p.price_fen, "unit": p.unit, "stock": p.stock, "active": p.active, "gift": p.gift,
                "supplier": supplier.name if supplier else None, "supplier_id": p.supplier_id}

    def products(self, q: str = "", category: str = "", active_only: bool = False, gift=None) -> list[dict]:
        query = (m.Product.select(m.Product, m.Supplier).join(m.Supplier, JOIN.LEFT_OUTER)
                 .order_by(m.Product.gift, m.Product.code))
        q = (q or "").strip()
        if q:
            query = query.where(m.Product.code.contains(q) | m.Product.name.contains(q))
        if category:
            query = query.where(m.Product.category == category)
        if active_only:
            query = query.where(m.Product.active == True)  # noqa: E712
        if gift is not None:
            query = query.where(m.Product.gift == bool(gift))
        return [self.product_view(p, p.supplier if p.supplier_id else None) for p in query]

    def product(self, product_id) -> dict:
        p = m.Product.get_or_none(m.Product.id == _int(product_id))
        if p is None:
            raise no_product(product_id)
        return self.product_view(p, p.supplier if p.supplier_id else None)

    def clean_product(self, data, *, creating: bool, suppliers: dict | None = None) -> tuple[dict, dict]:
        """The product's values to store, and what is wrong (field -> error)."""
        if not isinstance(data, dict):
            raise ValidationError("a product must be a JSON object", code="request.not_an_object")
        errors, values = {}, {}

        def check(name, fn):
            if name in data or (creating and name in ("code", "name", "price")):
                try:
                    values[name] = fn(data.get(name))
                except ValueError as exc:
                    errors[name] = field_error_of(exc)

        def code(v):
            v = str(v if v is not None else "").strip()
            if not CODE.fullmatch(v):
                raise ValueError(FieldError("products.field.code", "letters, digits and . _ - (at most 32)"))
            return v

        check("code", code)
        check("name", lambda v: _text("name", v, 128, True))
        check("category", lambda v: _text("category", v, 32))
        check("unit", lambda v: _text("unit", v, 16))
        check("price", parse_money)
        check("stock", lambda v: parse_whole(v, -MAX_QUANTITY * 100, MAX_QUANTITY * 100))
        check("active", _bool)
        check("gift", _bool)
        if "supplier" in data:
            name = str(data.get("supplier") or "").strip()
            if not name:
                values["supplier"] = None
            else:
                known = suppliers if suppliers is not None else {s.name: s for s in m.Supplier.select()}
                if name in known:
                    values["supplier"] = known[name]
                else:
                    errors["supplier"] = FieldError("field.no_such", f"{name} does not exist", key=name)
        if "price" in values:
            values["price_fen"] = values.pop("price")
        if values.get("gift") and values.get("price_fen"):
            errors["price"] = FieldError("products.field.gift_price", "a gift has no price")
        return values, errors

    def create_product(self, data, actor: str) -> dict:
        values, errors = self.clean_product(data, creating=True)
        if errors:
            _fail("the product cannot be saved", errors)
        with self.db.atomic():
            if m.Product.select().where(m.Product.code == values["code"]).exists():
                raise Conflict(f"a product with code {values['code']} exists", code="products.exists",
                               fields={"code": FieldError("field.exists", "already exists")})
            row = m.Product.create(**values)
            _audit(actor, "create", "products", row.code, _plain(values))
        return self.product(row.id)

    def update_product(self, product_id, data, actor: str) -> dict:
        values, errors = self.clean_product(data, creating=False)
        if errors:
            _fail("the product cannot be saved", errors)
        with self.db.atomic():
            row = m.Product.get_or_none(m.Product.id == _int(product_id))
            if row is None:
                raise no_product(product_id)
            if values.get("code", row.code) != row.code and m.Product.select().where(
                    m.Product.code == values["code"]).exists():
                raise Conflict(f"a product with code {values['code']} exists", code="products.exists",
                               fields={"code": FieldError("field.exists", "already exists")})
            gift = values.get("gift", row.gift)
            if gift and values.get("price_fen", row.price_fen):
                _fail("the product cannot be saved", {"price": FieldError("products.field.gift_price",
                                                                           "a gift has no price")})
            for k, v in values.items():
                setattr(row, k, v)
            row.updated_at = m.utcnow()
            row.save()
            _audit(actor, "update", "products", row.code, _plain(values))
        return self.product(row.id)

    # -- products in and out of Excel --------------------------------------------------------
    def export_products(self, headers: dict[str, str], path, title: str = "products") -> int:
        from openpyxl import Workbook

        from appliance.services.customer_excel import safe_row

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title)
        sheet.append([headers.get(c, c) for c in PRODUCT_COLUMNS])
        count = 0
        for p in self.products():
            sheet.append(safe_row(sheet, [p["code"], p["name"], p["category"], Decimal(p["price"]), p["unit"],
                                          p["stock"], 1 if p["active"] else 0, 1 if p["gift"] else 0,
                                          p["supplier"] or ""]))
            count += 1
        book.save(str(path))
        return count

    def import_products(self, sheet: bytes, aliases: dict[str, str], actor: str, *, apply: bool) -> dict:
        """Products from a sheet the upload worker read: every row is checked first; with any
        problem nothing is saved (``report``).  A code already in the catalogue updates that
        product; a new code adds one.  ``apply`` False: only the check."""
        columns, rows, problems = _sheet_rows(sheet, PRODUCT_COLUMNS, aliases, required=("code", "name", "price"))
        suppliers = {s.name: s for s in m.Supplier.select()}
        existing = {p.code: p for p in m.Product.select()}
        cleaned, seen = [], {}
        for number, data in rows:
            values, errors = self.clean_product(data, creating=data.get("code") not in existing,
                                                suppliers=suppliers)
            for name, error in errors.items():
                problems.append({"row": number, "column": name, "message": str(error), "error": error})
            code = values.get("code")
            if code and code in seen:
                problems.append({"row": number, "column": "code", "message": f"the same code as row {seen[code]}",
                                 "error": FieldError("field.same_phone", f"the same as row {seen[code]}",
                                                     n=seen[code])})
            elif code:
                seen[code] = number
            cleaned.append(values)
        report = {"rows": len(rows), "errors": problems[:1000], "error_count": len(problems),
                  "added": sum(1 for v in cleaned if v.get("code") not in existing),
                  "updated": sum(1 for v in cleaned if v.get("code") in existing)}
        if problems or not apply:
            return {**report, "imported": 0}
        with self.db.atomic():
            now = m.utcnow()
            for values in cleaned:
                row = existing.get(values["code"])
                if row is None:
                    m.Product.create(**values)
                else:
                    m.Product.update(**values, updated_at=now).where(m.Product.id == row.id).execute()
            _audit(actor, "import", "products", "excel", {"added": report["added"], "updated": report["updated"]})
        return {**report, "imported": len(cleaned)}

    # -- points --------------------------------------------------------------------------
    @staticmethod
    def points_balance(customer_id: int) -> int:
        row = m.PointsBalance.get_or_none(m.PointsBalance.customer == customer_id)
        return row.balance if row else 0

    def points(self, viewer: Viewer, customer_id, live_calls=()) -> dict:
        row, _access = self.crm.readable(viewer, customer_id, live_calls)
        entries = (m.PointsEntry.select().where(m.PointsEntry.customer == row.id)
                   .order_by(m.PointsEntry.id.desc()).limit(200))
        return {"customer_id": row.id, "balance": self.points_balance(row.id),
                "entries": [{"at": fmt_time(e.at), "delta": e.delta, "balance": e.balance, "reason": e.reason,
                             "order_id": e.order_id, "by": e.username} for e in entries]}

    def adjust_points(self, customer_id, delta, actor: str, reason: str = "adjusted") -> dict:
        """Staff add or take points by hand (``delta``); the balance never goes below zero."""
        try:
            delta = parse_whole(delta, -MAX_POINTS, MAX_POINTS)
        except ValueError as exc:
            _fail("the points cannot be changed", {"delta": field_error_of(exc)})
        if m.Customer.get_or_none(m.Customer.id == _int(customer_id)) is None:
            raise NotFound(f"no customer {customer_id}", code="customers.not_found")
        with self.db.atomic("IMMEDIATE"):
            self._points_change(int(customer_id), delta, reason, None, actor)
        return {"customer_id": int(customer_id), "balance": self.points_balance(int(customer_id))}

    @staticmethod
    def _points_change(customer_id: int, delta: int, reason: str, order_id, actor: str, *,
                       at_most_balance: bool = False) -> int:
        """Change the balance by ``delta`` in the caller's transaction, with its ledger entry.
        A spend is one conditional UPDATE (``balance >= points``): of two spends at once
        that the balance covers only one of, the other changes nothing and is refused
        (409 ``points.not_enough``).  ``at_most_balance``: take what there is (a return
        taking back points the customer already spent).  Returns the change made."""
        if delta == 0:
            return 0
        m.PointsBalance.insert(customer=customer_id, balance=0).on_conflict_ignore().execute()
        if delta < 0 and at_most_balance:
            delta = -min(-delta, m.PointsBalance.get_by_id(customer_id).balance)
            if delta == 0:
                return 0
        changed = (m.PointsBalance.update(balance=m.PointsBalance.balance + delta)
                   .where(m.PointsBalance.customer == customer_id, m.PointsBalance.balance + delta >= 0).execute())
        if not changed:
            have = m.PointsBalance.get_by_id(customer_id).balance
            raise Conflict(f"the customer has {have} points, fewer than {-delta}", code="points.not_enough",
                           params={"have": have, "want": -delta},
                           fields={"points": FieldError("points.field.not_enough", f"the customer has {have} points",
                                                        n=have)})
        balance = m.PointsBalance.get_by_id(customer_id).balance
        m.PointsEntry.create(customer=customer_id, order=order_id, delta=delta, balance=balance, reason=reason,
                             username=actor or "system")
        return delta

    # -- who sees which order ----------------------------------------------------------------
    def _scoped(self, query, viewer: Viewer):
        if viewer.staff:
            return query
        mine = sorted(viewer.agents) or [""]
        own_customers = (m.Customer.select(m.Customer.id).join(m.Agent, on=(m.Customer.account_manager == m.Agent.id))
                         .where(m.Agent.number.in_(mine)))
        return query.where(m.SalesOrder.agent.in_(mine) | m.SalesOrder.customer.in_(own_customers))

    def _order(self, viewer: Viewer, order_id) -> m.SalesOrder:
        row = self._scoped(m.SalesOrder.select(), viewer).where(m.SalesOrder.id == _int(order_id)).first()
        if row is None:
            raise no_order(order_id)
        return row

    def order(self, viewer: Viewer, order_id) -> dict:
        return self.order_view(self._order(viewer, order_id), viewer)

    def order_view(self, o: m.SalesOrder, viewer: Viewer | None = None) -> dict:
        items = list(m.OrderItem.select().where(m.OrderItem.order == o.id).order_by(m.OrderItem.id))
        payments = list(m.Payment.select().where(m.Payment.order == o.id).order_by(m.Payment.id))
        events = list(m.OrderEvent.select().where(m.OrderEvent.order == o.id).order_by(m.OrderEvent.id))
        view = {
            "id": o.id, "state": o.state, "version": str(o.version), "customer_id": o.customer_id,
            "customer_name": o.customer_name, "customer_phone": o.customer_phone, "agent": o.agent,
            "created_by": o.created_by, "linkedid": o.linkedid, "address": o.address,
            "payment_method": o.payment_method, "note": o.note, "subtotal": decimal_text(o.subtotal_fen),
            "points_used": o.points_used, "points_discount": decimal_text(o.points_fen),
            "total": decimal_text(o.total_fen), "paid": decimal_text(o.paid_fen),
            "owed": decimal_text(max(0, o.total_fen - o.paid_fen)), "points_earned": o.points_earned,
            "courier": o.courier, "tracking": o.tracking, "reason": o.reason,
            "recording": bool(o.linkedid) and m.Recording.select().where(m.Recording.linkedid == o.linkedid).exists(),
            "created_at": fmt_time(o.created_at), "updated_at": fmt_time(o.updated_at),
            "items": [{"product_id": i.product_id, "code": i.code, "name": i.name, "quantity": i.quantity,
                       "list_price": decimal_text(i.list_price_fen), "price": decimal_text(i.price_fen),
                       "amount": decimal_text(i.price_fen * i.quantity), "gift": i.gift} for i in items],
            "payments": [{"id": p.id, "amount": decimal_text(p.amount_fen), "method": p.method, "paid_on": p.paid_on,
                          "reference": p.reference, "by": p.created_by} for p in payments],
            "history": [{"at": fmt_time(e.at), "by": e.username, "action": e.action, "from": e.from_state,
                         "to": e.to_state, "detail": json.loads(e.detail or "{}")} for e in events],
        }
        if viewer is not None:
            view["actions"] = self.allowed_actions(viewer, o)
        return view

    def allowed_actions(self, viewer: Viewer, o: m.SalesOrder) -> list[str]:
        out = []
        for action, (sources, _target, who) in ACTIONS.items():
            if o.state in sources and self._may(viewer, who):
                out.append(action)
        if o.state == "draft":
            out.append("edit")
        if o.state in SOLD and o.paid_fen < o.total_fen:
            out.append("pay")
        return out

    def _may(self, viewer: Viewer, who: str) -> bool:
        if who == "owner":
            return True  # they see the order: it is theirs (or they are staff)
        if who == "reviewer":
            return self.is_reviewer(viewer)
        return viewer.staff

    # -- taking an order -------------------------------------------------------------------
    def _clean_order(self, viewer: Viewer, data, customer: m.Customer, settings: OrderSettings) -> dict:
        """The order's lines and fields, checked: a ``ValidationError`` naming every problem."""
        errors: dict = {}
        lines = data.get("items")
        if not isinstance(lines, list) or not lines:
            errors["items"] = FieldError("orders.field.items", "at least one product")
            lines = []
        elif len(lines) > MAX_LINES:
            errors["items"] = FieldError("field.max", f"at most {MAX_LINES}", n=MAX_LINES)
            lines = []
        wanted = []
        for n, line in enumerate(lines):
            if not isinstance(line, dict):
                errors[f"items.{n}"] = FieldError("field.object", "an object")
                continue
            ref = line.get("product")
            product = None
            if isinstance(ref, int) and not isinstance(ref, bool):
                product = m.Product.get_or_none(m.Product.id == ref)
            elif isinstance(ref, str) and ref.strip():
                product = m.Product.get_or_none(m.Product.code == ref.strip())
            if product is None or not product.active:
                errors[f"items.{n}.product"] = FieldError("field.no_such", f"{ref} does not exist", key=str(ref))
                continue
            try:
                quantity = parse_whole(line.get("quantity", 1), 1, MAX_QUANTITY)
            except ValueError as exc:
                errors[f"items.{n}.quantity"] = field_error_of(exc)
                continue
            price = product.price_fen
            if line.get("price") not in (None, ""):
                try:
                    price = parse_money(line["price"])
                except ValueError as exc:
                    errors[f"items.{n}.price"] = field_error_of(exc)
                    continue
            if product.gift and price:
                errors[f"items.{n}.price"] = FieldError("products.field.gift_price", "a gift has no price")
                continue
            lowest = -(-product.price_fen * (100 - settings.price_limit_percent) // 100)
            if not product.gift and not lowest <= price <= product.price_fen:
                errors[f"items.{n}.price"] = FieldError(
                    "orders.field.price_limit", f"from {yuan(lowest)} to {yuan(product.price_fen)}",
                    low=yuan(lowest), high=yuan(product.price_fen), percent=settings.price_limit_percent)
                continue
            wanted.append((product, quantity, price))
        values = {}
        for name, size in (("address", 255), ("note", 500), ("linkedid", 64)):
            try:
                values[name] = _text(name, data.get(name), size)
            except ValueError as exc:
                errors[name] = field_error_of(exc)
        if not values.get("address") and data.get("address_id") not in (None, ""):
            address = m.CustomerAddress.get_or_none(m.CustomerAddress.id == _int(data["address_id"]),
                                                    m.CustomerAddress.customer == customer.id)
            if address is None:
                errors["address"] = FieldError("field.no_such", "no such address", key=str(data["address_id"]))
            else:
                values["address"] = address.address
        if not values.get("address") and "address" not in errors:
            errors["address"] = FieldError("field.required", "required")
        method = data.get("payment_method") or "cod"
        if method not in PAYMENT_METHODS:
            errors["payment_method"] = FieldError("field.choice", f"one of {', '.join(PAYMENT_METHODS)}",
                                                  choices=", ".join(PAYMENT_METHODS))
        try:
            points = parse_whole(data.get("points") or 0, 0, MAX_POINTS)
        except ValueError as exc:
            errors["points"], points = field_error_of(exc), 0
        subtotal = sum(q * p for product, q, p in wanted if not product.gift)
        points_fen = points * settings.point_value_fen
        if points_fen > subtotal and "items" not in errors:
            errors["points"] = FieldError("points.field.too_many", f"worth at most the order's {yuan(subtotal)}",
                                          amount=yuan(subtotal))
        if errors:
            _fail("the order cannot be saved", errors)
        self._check_stock(wanted, settings)
        return {**values, "payment_method": method, "points_used": points, "points_fen": points_fen,
                "subtotal_fen": subtotal, "total_fen": subtotal - points_fen, "lines": wanted}

    @staticmethod
    def _check_stock(wanted, settings: OrderSettings) -> None:
        if settings.negative_stock:
            return
        need: dict[int, int] = {}
        for product, quantity, _price in wanted:
            need[product.id] = need.get(product.id, 0) + quantity
        for product, _q, _p in wanted:
            fresh = m.Product.get_by_id(product.id)
            if fresh.stock < need[product.id]:
                raise Conflict(f"only {fresh.stock} of {fresh.code} in stock", code="products.out_of_stock",
                               params={"code": fresh.code, "stock": fresh.stock},
                               fields={"items": FieldError("products.field.out_of_stock",
                                                           f"{fresh.name}: only {fresh.stock} in stock",
                                                           name=fresh.name, n=fresh.stock)})

    def _customer_for_order(self, viewer: Viewer, customer_id, live_calls) -> m.Customer:
        row, access = self.crm.readable(viewer, customer_id, live_calls)
        if access not in (OWNER, CALLER):
            raise PermissionDenied("orders are for your own customers or your caller", code="orders.not_your_customer")
        return row

    def _agent_for(self, viewer: Viewer, customer: m.Customer) -> str:
        if viewer.agents:
            return sorted(viewer.agents)[0]
        manager = m.Agent.get_or_none(m.Agent.id == customer.account_manager_id) if customer.account_manager_id else None
        return manager.number if manager else ""

    def create(self, viewer: Viewer, data, actor: str, live_calls=()) -> dict:
        if not isinstance(data, dict):
            raise ValidationError("an order must be a JSON object", code="request.not_an_object")
        customer = self._customer_for_order(viewer, data.get("customer_id"), live_calls)
        settings = self.settings()
        values = self._clean_order(viewer, data, customer, settings)
        lines = values.pop("lines")
        with self.db.atomic("IMMEDIATE"):
            order = m.SalesOrder.create(customer=customer, customer_name=customer.name, customer_phone=customer.phone,
                                        agent=self._agent_for(viewer, customer), created_by=actor, **values)
            self._set_lines(order, lines)
            self._remember_address(customer.id, values["address"])
            self._event(order, actor, "create", "", "draft", {"total": decimal_text(order.total_fen)})
            if data.get("submit"):  # in the same transaction: refused (points, stock), nothing is saved
                submitted = self.act(viewer, order.id, "submit", {}, actor, version=str(order.version), notify=False)
        logger.info("%s took order %s for customer %s", actor, order.id, customer.id)
        return self._told("created", submitted if data.get("submit") else self.order(viewer, order.id))

    def update(self, viewer: Viewer, order_id, data, actor: str, version: str | None = None, live_calls=()) -> dict:
        """Change a draft's lines and fields (the whole order again, as when creating)."""
        if not isinstance(data, dict):
            raise ValidationError("an order must be a JSON object", code="request.not_an_object")
        order = self._order(viewer, order_id)
        if order.state != "draft":
            raise Conflict(f"order {order.id} is {order.state}: only a draft is changed",
                           code="orders.not_draft", params={"state": order.state})
        customer = m.Customer.get_or_none(m.Customer.id == order.customer_id)
        if customer is None:
            raise no_order(order_id)
        values = self._clean_order(viewer, data, customer, self.settings())
        lines = values.pop("lines")
        values.pop("linkedid", None)  # the call it was taken on stays
        with self.db.atomic("IMMEDIATE"):
            self._bump(order, version, ("draft",), **values)
            m.OrderItem.delete().where(m.OrderItem.order == order.id).execute()
            self._set_lines(order, lines)
            self._remember_address(customer.id, values["address"])
            self._event(order, actor, "edit", "draft", "draft", {"total": decimal_text(values["total_fen"])})
        return self._told("changed", self.order(viewer, order.id))

    @staticmethod
    def _set_lines(order: m.SalesOrder, lines) -> None:
        m.OrderItem.insert_many([{"order": order.id, "product": p.id, "code": p.code, "name": p.name,
                                  "quantity": q, "list_price_fen": p.price_fen, "price_fen": price, "gift": p.gift}
                                 for p, q, price in lines]).execute()

    @staticmethod
    def _remember_address(customer_id: int, address: str) -> None:
        if address and not m.CustomerAddress.select().where(m.CustomerAddress.customer == customer_id,
                                                            m.CustomerAddress.address == address).exists():
            m.CustomerAddress.create(customer=customer_id, address=address)

    @staticmethod
    def addresses(customer_id: int) -> list[dict]:
        return [{"id": a.id, "address": a.address} for a in
                m.CustomerAddress.select().where(m.CustomerAddress.customer == customer_id)
                .order_by(m.CustomerAddress.id.desc())]

    @staticmethod
    def _event(order: m.SalesOrder, actor: str, action: str, from_state: str, to_state: str, detail: dict) -> None:
        m.OrderEvent.create(order=order.id, username=actor or "system", action=action, from_state=from_state,
                            to_state=to_state, detail=json.dumps(detail, ensure_ascii=False, default=str))
        _audit(actor, action, "orders", order.id, {"from": from_state, "to": to_state, **detail})

    @staticmethod
    def _bump(order: m.SalesOrder, version: str | None, states, **changes) -> None:
        """One conditional UPDATE: still in one of ``states`` and (``version`` given) at that
        version; else 409 ``orders.changed`` (someone changed it since it was read) or
        ``orders.bad_state``.  ``order`` is updated in memory."""
        query = m.SalesOrder.update(**changes, version=m.SalesOrder.version + 1, updated_at=m.utcnow()).where(
            m.SalesOrder.id == order.id, m.SalesOrder.state.in_(states))
        if version is not None:
            if not str(version).isdigit():
                raise Conflict(f"order {order.id} changed since you read it", code="orders.changed")
            query = query.where(m.SalesOrder.version == int(version))
        if not query.execute():
            now = m.SalesOrder.get_by_id(order.id)
            if version is not None and str(now.version) != str(version):
                raise Conflict(f"order {order.id} changed since you read it (now {now.state})",
                               code="orders.changed", params={"state": now.state})
            raise Conflict(f"order {order.id} is {now.state}", code="orders.bad_state", params={"state": now.state})
        fresh = m.SalesOrder.get_by_id(order.id)
        order.__data__.update(fresh.__data__)

    # -- the order's life ------------------------------------------------------------------------
    def act(self, viewer: Viewer, order_id, action: str, data, actor: str, version: str | None = None,
            notify: bool = True) -> dict:
        if action not in ACTIONS:
            raise NotFound(f"no action {action}", code="orders.no_action")
        data = data if isinstance(data, dict) else {}
        order = self._order(viewer, order_id)
        sources, target, who = ACTIONS[action]
        if not self._may(viewer, who):
            raise PermissionDenied(f"only {who}s may {action} an order", code=f"orders.{who}_only")
        if order.state not in sources:
            raise Conflict(f"order {order.id} is {order.state}: it cannot be {action}ed", code="orders.bad_state",
                           params={"state": order.state})
        changes, detail, errors = {"state": target}, {}, {}
        if action == "reject":
            try:
                changes["reason"] = detail["reason"] = _text("reason", data.get("reason"), 500, True)
            except ValueError as exc:
                errors["reason"] = field_error_of(exc)
        if action == "ship":
            for name, size in (("courier", 32), ("tracking", 64)):
                try:
                    changes[name] = detail[name] = _text(name, data.get(name), size, True)
                except ValueError as exc:
                    errors[name] = field_error_of(exc)
        if action in ("cancel", "return") and data.get("reason"):
            try:
                changes["reason"] = detail["reason"] = _text("reason", data.get("reason"), 500)
            except ValueError as exc:
                errors["reason"] = field_error_of(exc)
        if errors:
            _fail(f"the order cannot be {action}ed", errors)
        settings = self.settings()
        from_state = order.state
        with self.db.atomic("IMMEDIATE"):
            self._bump(order, version, sources, **changes)
            if action == "submit":
                self._check_stock([(i.product, i.quantity, i.price_fen) for i in order.items if i.product_id],
                                  settings)
                if order.points_used and order.customer_id:
                    self._points_change(order.customer_id, -order.points_used, "redeemed", order.id, actor)
                    m.SalesOrder.update(points_taken=True).where(m.SalesOrder.id == order.id).execute()
            if action == "ship":
                self._take_stock(order, settings)
            if action in ("reject", "cancel", "return"):
                self._undo_points(order, actor)
            if action == "return" and order.stock_taken:
                for item in order.items:
                    if item.product_id:
                        m.Product.update(stock=m.Product.stock + item.quantity).where(
                            m.Product.id == item.product_id).execute()
                m.SalesOrder.update(stock_taken=False).where(m.SalesOrder.id == order.id).execute()
            self._event(order, actor, action, from_state, target, detail)
        logger.info("%s: order %s %s -> %s", actor, order.id, from_state, target)
        return self._told("changed", self.order(viewer, order.id)) if notify else self.order(viewer, order.id)

    @staticmethod
    def _take_stock(order: m.SalesOrder, settings: OrderSettings) -> None:
        for item in order.items:
            if not item.product_id:
                continue
            query = m.Product.update(stock=m.Product.stock - item.quantity).where(m.Product.id == item.product_id)
            if not settings.negative_stock:
                query = query.where(m.Product.stock >= item.quantity)
            if not query.execute():
                fresh = m.Product.get_by_id(item.product_id)
                raise Conflict(f"only {fresh.stock} of {fresh.code} in stock", code="products.out_of_stock",
                               params={"code": fresh.code, "stock": fresh.stock})
        m.SalesOrder.update(stock_taken=True).where(m.SalesOrder.id == order.id).execute()

    def _undo_points(self, order: m.SalesOrder, actor: str) -> None:
        if not order.customer_id:
            return
        if order.points_taken:
            self._points_change(order.customer_id, order.points_used, "refunded", order.id, actor)
            m.SalesOrder.update(points_taken=False).where(m.SalesOrder.id == order.id).execute()
        if order.points_earned:
            taken = self._points_change(order.customer_id, -order.points_earned, "reversed", order.id, actor,
                                        at_most_balance=True)
            m.SalesOrder.update(points_earned=order.points_earned + taken).where(
                m.SalesOrder.id == order.id).execute()

    # -- payments --------------------------------------------------------------------------------
    def add_payment(self, viewer: Viewer, order_id, data, actor: str) -> dict:
        if not isinstance(data, dict):
            raise ValidationError("a payment must be a JSON object", code="request.not_an_object")
        order = self._order(viewer, order_id)
        errors, values = {}, {}
        try:
            values["amount_fen"] = parse_money(data.get("amount"), allow_zero=False)
        except ValueError as exc:
            errors["amount"] = field_error_of(exc)
        method = data.get("method") or order.payment_method
        if method not in PAYMENT_METHODS:
            errors["method"] = FieldError("field.choice", f"one of {', '.join(PAYMENT_METHODS)}",
                                          choices=", ".join(PAYMENT_METHODS))
        values["method"] = method
        paid_on = str(data.get("paid_on") or dt.date.today().isoformat()).strip()
        try:
            values["paid_on"] = dt.date.fromisoformat(paid_on).isoformat()
        except ValueError:
            errors["paid_on"] = FieldError("field.date_format", "a date as YYYY-MM-DD")
        try:
            values["reference"] = _text("reference", data.get("reference"), 64)
        except ValueError as exc:
            errors["reference"] = field_error_of(exc)
        if errors:
            _fail("the payment cannot be saved", errors)
        settings = self.settings()
        with self.db.atomic("IMMEDIATE"):
            order = m.SalesOrder.get_by_id(order.id)
            if order.state not in SOLD:
                raise Conflict(f"order {order.id} is {order.state}: payments are for approved orders",
                               code="orders.bad_state", params={"state": order.state})
            owed = order.total_fen - order.paid_fen
            if values["amount_fen"] > owed:
                _fail("the payment cannot be saved", {"amount": FieldError(
                    "orders.field.over_owed", f"at most what is owed: {yuan(owed)}", amount=yuan(owed))})
            m.Payment.create(order=order.id, created_by=actor, **values)
            paid = order.paid_fen + values["amount_fen"]
            earned = paid // settings.fen_per_point if settings.fen_per_point else 0
            more = max(0, earned - order.points_earned)
            if more and order.customer_id:
                self._points_change(order.customer_id, more, "earned", order.id, actor)
            self._bump(order, None, (order.state,), paid_fen=paid, points_earned=order.points_earned + more)
            self._event(order, actor, "pay", order.state, order.state,
                        {"amount": decimal_text(values["amount_fen"]), "method": method, "points": more})
        return self._told("changed", self.order(viewer, order.id))

    # -- tracking numbers from Excel ------------------------------------------------------------
    def import_tracking(self, sheet: bytes, aliases: dict[str, str], actor: str, *, apply: bool) -> dict:
        """Ship approved orders from a sheet of (order, courier, tracking): every row is
        checked first (unknown order ids, orders not approved, empty cells); with any problem
        nothing is saved."""
        _columns, rows, problems = _sheet_rows(sheet, TRACKING_COLUMNS, aliases, required=TRACKING_COLUMNS)
        good, seen = [], {}
        for number, data in rows:
            oid = _int(str(data.get("order") or "").strip().lstrip("#"))
            order = m.SalesOrder.get_or_none(m.SalesOrder.id == oid) if oid > 0 else None
            if order is None:
                problems.append({"row": number, "column": "order", "message": f"no order {data.get('order')}",
                                 "error": FieldError("orders.field.unknown_order", "no such order",
                                                     item=str(data.get("order")))})
                continue
            if order.state != "approved":
                problems.append({"row": number, "column": "order", "message": f"order {oid} is {order.state}",
                                 "error": FieldError("orders.field.not_approved", "not an approved order",
                                                     state=order.state)})
                continue
            if oid in seen:
                problems.append({"row": number, "column": "order", "message": f"the same order as row {seen[oid]}",
                                 "error": FieldError("field.same_phone", "twice", n=seen[oid])})
                continue
            seen[oid] = number
            try:
                courier = _text("courier", data.get("courier"), 32, True)
                tracking = _text("tracking", data.get("tracking"), 64, True)
            except ValueError as exc:
                problems.append({"row": number, "column": "tracking", "message": str(field_error_of(exc)),
                                 "error": field_error_of(exc)})
                continue
            good.append((order, courier, tracking))
        report = {"rows": len(rows), "errors": problems[:1000], "error_count": len(problems)}
        if problems or not apply:
            return {**report, "shipped": 0}
        staff = Viewer(actor, "admin")
        with self.db.atomic("IMMEDIATE"):
            for order, courier, tracking in good:
                self.act(staff, order.id, "ship", {"courier": courier, "tracking": tracking}, actor)
        return {**report, "shipped": len(good)}

    # -- lists and figures ------------------------------------------------------------------------
    def _filtered(self, viewer: Viewer, filters: dict):
        query = self._scoped(m.SalesOrder.select(), viewer)
        if filters.get("state"):
            query = query.where(m.SalesOrder.state == filters["state"])
        if filters.get("agent"):
            query = query.where(m.SalesOrder.agent == filters["agent"])
        if filters.get("customer_id"):
            query = query.where(m.SalesOrder.customer == _int(filters["customer_id"]))
        if filters.get("customer"):
            term = filters["customer"].strip()
            digits = numbers.clean(term)
            match = m.SalesOrder.customer_name.contains(term)
            if digits.strip("+").isdigit():
                match |= m.SalesOrder.customer_phone.contains(digits.lstrip("+"))
            query = query.where(match)
        if filters.get("product"):
            term = filters["product"].strip()
            query = query.where(m.SalesOrder.id.in_(m.OrderItem.select(m.OrderItem.order).where(
                (m.OrderItem.code == term) | m.OrderItem.name.contains(term))))
        if filters.get("since"):
            query = query.where(m.SalesOrder.created_at >= filters["since"])
        if filters.get("until"):
            query = query.where(m.SalesOrder.created_at < filters["until"])
        return query

    def search(self, viewer: Viewer, filters: dict, page: int = 1, per_page: int = PER_PAGE) -> dict:
        query = self._filtered(viewer, filters)
        total = query.count()
        rows = list(query.order_by(m.SalesOrder.id.desc()).limit(per_page).offset((max(1, page) - 1) * per_page))
        items = [{"id": o.id, "state": o.state, "customer_id": o.customer_id, "customer_name": o.customer_name,
                  "customer_phone": o.customer_phone, "agent": o.agent, "total": decimal_text(o.total_fen),
                  "paid": decimal_text(o.paid_fen), "owed": decimal_text(max(0, o.total_fen - o.paid_fen)),
                  "tracking": o.tracking, "created_at": fmt_time(o.created_at)} for o in rows]
        return {"items": items, "total": total, "page": max(1, page), "per_page": per_page,
                "pages": max(1, -(-total // per_page))}

    def sales(self, viewer: Viewer, filters: dict, day_of=None) -> dict:
        """Sales (orders approved, shipped or delivered) by agent, by product and by day:
        orders, amount (fen) and, by product, quantity.  ``day_of``: a stored time's day on
        the site's calendar (default: UTC)."""
        query = self._filtered(viewer, {**filters, "state": ""}).where(m.SalesOrder.state.in_(SOLD))
        orders = list(query)
        by_agent: dict[str, dict] = {}
        by_day: dict[str, dict] = {}
        for o in orders:
            for key, table in ((o.agent or "—", by_agent),
                               ((day_of or (lambda t: t.date().isoformat()))(o.created_at), by_day)):
                row = table.setdefault(key, {"key": key, "orders": 0, "amount_fen": 0})
                row["orders"] += 1
                row["amount_fen"] += o.total_fen
        by_product: dict[str, dict] = {}
        ids = [o.id for o in orders]
        for i in (m.OrderItem.select().where(m.OrderItem.order.in_(ids)) if ids else []):
            row = by_product.setdefault(i.code, {"key": i.code, "name": i.name, "orders": set(), "quantity": 0,
                                                 "amount_fen": 0})
            row["orders"].add(i.order_id)
            row["quantity"] += i.quantity
            row["amount_fen"] += i.quantity * i.price_fen
        for row in by_product.values():
            row["orders"] = len(row["orders"])

        def out(rows):
            return [{**r, "amount": decimal_text(r["amount_fen"])} for r in rows]

        return {"by_agent": out(sorted(by_agent.values(), key=lambda r: -r["amount_fen"])),
                "by_product": out(sorted(by_product.values(), key=lambda r: -r["amount_fen"])),
                "by_day": out(sorted(by_day.values(), key=lambda r: r["key"])),
                "orders": len(orders), "amount": decimal_text(sum(o.total_fen for o in orders)),
                "amount_fen": sum(o.total_fen for o in orders)}

    def export_sales(self, figures: dict, titles: dict[str, str], path) -> None:
        """The three tables of ``sales`` on three sheets (titles in the reader's language)."""
        from openpyxl import Workbook

        from appliance.services.customer_excel import safe_row

        book = Workbook(write_only=True)
        for part in ("by_agent", "by_product", "by_day"):
            sheet = book.create_sheet(titles[part])
            head = [titles["key_" + part]] + ([titles["name"], titles["quantity"]] if part == "by_product" else [])
            sheet.append(head + [titles["orders"], titles["amount"]])
            for r in figures[part]:
                extra = [r["name"], r["quantity"]] if part == "by_product" else []
                sheet.append(safe_row(sheet, [r["key"], *extra, r["orders"], Decimal(r["amount"])]))
        book.save(str(path))

    # -- the customer's history, and the caller's latest order ----------------------------------
    @staticmethod
    def history_items(customer_id: int, limit: int = 100) -> list[dict]:
        """The customer's orders as contact-history items (kind ``order``), newest first."""
        rows = (m.SalesOrder.select().where(m.SalesOrder.customer == customer_id)
                .order_by(m.SalesOrder.created_at.desc()).limit(limit))
        return [{"kind": "order", "at": fmt_time(o.created_at), "id": o.id, "state": o.state,
                 "total": decimal_text(o.total_fen), "agent": o.agent, "linkedid": o.linkedid,
                 "tracking": o.tracking} for o in rows]

    @staticmethod
    def latest_for_number(number: str) -> dict | None:
        """The newest order of the customer calling from ``number`` (any form of it)."""
        customer = m.Customer.get_or_none(m.Customer.phone.in_(numbers.variants(number or "")))
        return None if customer is None else OrderService.latest_for_customer(customer.id)

    @staticmethod
    def latest_for_customer(customer_id: int) -> dict | None:
        """The customer's newest order that is not a draft (what the voice menu says)."""
        o = (m.SalesOrder.select().where(m.SalesOrder.customer == customer_id, m.SalesOrder.state != "draft")
             .order_by(m.SalesOrder.id.desc()).first())
        return None if o is None else {"id": o.id, "state": o.state, "tracking": o.tracking, "courier": o.courier}

    def status_for(self, viewer: Viewer, customer_id, language: str, live_calls=()) -> dict:
        """The customer's latest order and the sentence the voice menu says of it, in
        ``language`` (``status_sentence``), for whoever may read the customer."""
        row, _access = self.crm.readable(viewer, customer_id, live_calls)
        latest = self.latest_for_customer(row.id)
        return {"customer_id": row.id, "order": latest, "sentence": status_sentence(latest, language)}

    def tell_status(self, viewer: Viewer, customer_id, to: str, sender: str, send, live_calls=()) -> dict:
        """An internal message to colleague ``to`` with the customer's latest order's state
        (and tracking number once shipped) in the words the voice menu says, in ``to``'s
        language; ``send(sender, to, body)`` is the workspace's (it refuses an unknown user).
        Internal messages reach the appliance's users, not customers."""
        return self._tell(self.crm.readable(viewer, customer_id, live_calls)[0], to, sender, send)

    def tell_order_status(self, viewer: Viewer, order_id, to: str, sender: str, send) -> dict:
        """``tell_status`` from an order's page: the latest order of that order's customer,
        for whoever sees the order."""
        o = self._order(viewer, order_id)
        if o.customer_id is None:
            raise ValidationError(f"order {o.id} has no customer any more", code="orders.no_customer")
        return self._tell(o.customer, to, sender, send)

    def _tell(self, customer: m.Customer, to: str, sender: str, send) -> dict:
        user = m.User.get_or_none(m.User.username == str(to or ""))
        language = user.language if user is not None and user.language else "zh_CN"
        order = self.latest_for_customer(customer.id)
        status = {"customer_id": customer.id, "order": order, "sentence": status_sentence(order, language)}
        body = translate(language, "orders.status_message", name=customer.name, phone=customer.phone,
                         order=f"#{order['id']}" if order else "—", sentence=status["sentence"])
        message = send(sender, to, body)
        _audit(sender, "tell_status", "customers", customer.id, {"to": to, "order": order["id"] if order else None})
        return {**status, "message": message}


def status_sentence(order: dict | None, language: str) -> str:
    """The voice menu's sentence for a customer's latest order as text (``menus.order_status``
    picks it for both), with the tracking number as written once it has shipped."""
    sentence, tracking = order_status(order)
    text = sounds.BY_KEY[sentence].text(sounds.language_of(language))
    return f"{text} {tracking}" if tracking else text


def with_orders(history: list[dict], customer_id: int, limit: int = 100) -> list[dict]:
    """A customer's contact history (calls, notes) with their orders beside them, newest first."""
    items = history + OrderService.history_items(customer_id, limit)
    return sorted(items, key=lambda i: i["at"] or "", reverse=True)[:limit]


# -- helpers ------------------------------------------------------------------------------------
def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _plain(values: dict) -> dict:
    return {k: (v.name if isinstance(v, m.Supplier) else v) for k, v in values.items()}


def _sheet_rows(sheet: bytes, columns: tuple, aliases: dict[str, str], required: tuple):
    """The rows of a sheet the upload worker read, as ``(row number, {column: value})``, and
    the problems of its header (unknown or missing columns)."""
    from appliance import upload_worker
    from appliance.services.customer_excel import normalize_header

    problems: list[dict] = []
    lines = upload_worker.iter_lines(sheet)
    first = next(lines, None)
    if not isinstance(first, dict) or "header" not in first:
        problems.append({"row": 1, "column": "", "message": "the sheet is empty",
                         "error": FieldError("field.empty_sheet", "the sheet is empty")})
        return [], [], problems
    known = {normalize_header(c): c for c in columns} | {normalize_header(k): v for k, v in aliases.items()}
    keys = []
    for title in first["header"]:
        text = normalize_header(upload_worker.decode_cell(title))
        key = known.get(text) if text else None
        if text and key is None:
            problems.append({"row": first.get("row", 1), "column": str(title), "message": "unknown column",
                             "error": FieldError("field.unknown_column", "unknown column")})
        keys.append(key)
    for name in required:
        if name not in keys:
            problems.append({"row": first.get("row", 1), "column": name, "message": "missing column",
                             "error": FieldError("field.missing_column", "missing column")})
    if problems:
        return keys, [], problems
    rows = []
    for line in lines:
        if isinstance(line, dict):
            break
        number, cells = line
        data = {}
        for key, value in zip(keys, cells):
            if key is not None:
                value = upload_worker.decode_cell(value)
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                data[key] = value
        if any(v not in (None, "") for v in data.values()):
            rows.append((number, data))
    return keys, rows, problems
