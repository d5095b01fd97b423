"""Who is calling, for the call path: the customer behind a caller's number (member PIN,
VIP routing, the screen pop), their account manager (VIP routing, voicemail), the agent who
last spoke with them (sticky agent).  Each is one indexed query (the customer comes with
their account manager); numbers are matched in all their stored forms through
``appliance.numbers`` (with and without +, with and without the country code), the same way
the screen pop's endpoint and the CRM look them up.

The screen pop is looked up once: a ``call`` event ``offered`` to (or ``dialling`` from) an
agent carries the caller's customer (``with_customer``), its ``id`` included, and the
workspace asks ``GET /api/v1/workspace/pop`` with that id instead of looking the number up
again (``WorkspaceService.pop``).
"""

from __future__ import annotations

import datetime as dt
import functools

from appliance import numbers
from appliance.db.models import Agent, CallRecord, Customer

POP_EVENTS = ("offered", "dialling")


# The two lookups every call makes (routing, the screen pop) as fixed SQL, one statement per
# count of a number's forms: peewee built the joined select's SQL again for every call, about
# 0.6-1 ms of the loop's processor time each (45 000 of its sql() calls for 300 lookups under
# cProfile) for a query SQLite answers in 10 us from the phone index. Rows come back as the
# same models (peewee's raw query converts the columns), so the callers see no difference.
@functools.lru_cache(maxsize=16)
def _customer_sql(forms: int) -> str:
    columns = ", ".join(f'c."{f.column_name}"' for f in Customer._meta.sorted_fields)
    return (f'SELECT {columns}, a."number" AS manager_number, a."name" AS manager_name '
            f'FROM "{Customer._meta.table_name}" AS c LEFT OUTER JOIN "{Agent._meta.table_name}" AS a '
            f'ON c."account_manager_id" = a."id" WHERE c."phone" IN ({", ".join("?" * forms)}) '
            f'ORDER BY c."id" LIMIT 1')


@functools.lru_cache(maxsize=16)
def _last_agent_sql(forms: int) -> str:
    return (f'SELECT "agent" FROM "{CallRecord._meta.table_name}" WHERE "caller" IN ({", ".join("?" * forms)}) '
            f'AND "end_time" >= ? AND "agent" != \'\' AND "talk_seconds" >= ? ORDER BY "end_time" DESC LIMIT 1')


def customer_of(caller: str) -> Customer | None:
    """The customer calling from ``caller`` (in any of its forms), or None; the oldest one
    when the same number was stored twice in different forms. Its account manager's number
    and name come in the same query, as the row's ``manager_number`` and ``manager_name``
    (VIP routing and the screen pop read them: ``manager_number``); the customer itself is as
    loaded, and its ``account_manager`` the whole agent, read when asked for."""
    forms = numbers.variants(caller)
    if not forms:
        return None
    return next(iter(Customer.raw(_customer_sql(len(forms)), *forms)), None)


def manager_number(customer: Customer | None) -> str | None:
    """The work number of ``customer_of``'s customer's account manager, if any."""
    return customer.manager_number if customer is not None else None  # NULL from the left join: none


def customer_names(callers) -> dict[str, str]:
    """The dashboard's and the wallboard's callers by name: ``{caller: customer's name}`` for
    each caller whose number (in any of its forms) is a customer's, the oldest customer when
    the same number was stored twice (as ``customer_of``).  One indexed query for them all."""
    wanted = {caller: numbers.variants(caller) for caller in dict.fromkeys(callers) if caller}
    forms = {form for found in wanted.values() for form in found}
    if not forms:
        return {}
    by_form = {row.phone: (row.id, row.name) for row in
               Customer.select(Customer.id, Customer.name, Customer.phone).where(Customer.phone.in_(sorted(forms)))}
    names = {}
    for caller, found in wanted.items():
        matches = [by_form[form] for form in found if form in by_form]
        if matches:
            names[caller] = min(matches)[1]
    return names


def account_manager_of(caller: str) -> str | None:
    """VIP routing: the work number of the calling customer's account manager, if any."""
    return manager_number(customer_of(caller))


def last_agent_of(caller: str, rule, now: dt.datetime) -> str | None:
    """The agent who last talked with ``caller`` long enough, recently enough (sticky agent).
    One indexed query (caller, end_time) on the call path."""
    forms = numbers.variants(caller)
    if not forms:
        return None
    since = (now - dt.timedelta(days=rule.lookback_days)).replace(tzinfo=None)
    row = CallRecord._meta.database.execute_sql(
        _last_agent_sql(len(forms)), (*forms, CallRecord.end_time.db_value(since), rule.min_talk_seconds)).fetchone()
    return row[0] if row else None


def pop_customer(customer: Customer | None) -> dict | None:
    """What a call event carries of the caller's customer for the screen pop."""
    if customer is None:
        return None
    return {"id": customer.id, "name": customer.name, "phone": customer.phone, "category": customer.category,
            "account_manager": manager_number(customer)}


def with_customer(topic: str, data: dict) -> dict:
    """The screen pop: a call offered to (or dialled by) an agent carries the customer record."""
    if topic != "call" or data.get("event") not in POP_EVENTS:
        return data
    return {**data, "customer": pop_customer(customer_of(data.get("caller", "")))}
