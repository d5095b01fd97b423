"""Numbers from the query string (``page``, ``per_page``, ``limit``, ``offset``), read one
way everywhere: a whole number within the route's bounds, or a 422 ``request.bad_number``
naming the parameter (JSON under /api, the error page elsewhere).  Never clamped silently,
never handed to SQLite out of range (a 40-digit ``page`` was a 500: SQLite integers are
64-bit).  A leaf module: it imports nothing of the web UI.
"""

from __future__ import annotations

from bottle import request

from appliance.errors import FieldError, ValidationError

MAX_PAGE = 1_000_000
MAX_OFFSET = 100_000_000


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """The query parameter ``name`` as an int in ``[minimum, maximum]``; absent or empty: ``default``."""
    raw = (request.query.get(name) or "").strip()
    if not raw:
        return default
    digits = raw[1:] if raw[0] in "+-" else raw
    # at most 12 digits: int() of a huge string is itself a cost (and 4300 digits an error)
    value = int(raw) if digits.isascii() and digits.isdigit() and len(digits) <= 12 else None
    if value is None or not minimum <= value <= maximum:
        between = FieldError("error.msg.whole_number_between", f"a whole number from {minimum} to {maximum}",
                             low=minimum, high=maximum)
        raise ValidationError(FieldError("error.msg.whole_number_between",
                                         f"{name} must be a whole number from {minimum} to {maximum}",
                                         low=minimum, high=maximum), code="request.bad_number", fields={name: between})
    return value


def page_arg() -> int:
    return query_int("page", 1, 1, MAX_PAGE)


def query_date(name: str):
    """The query parameter ``name`` as a date (``2026-02-17``); absent or empty: None; else a
    422 ``request.bad_date`` naming the parameter."""
    import datetime as dt

    raw = (request.query.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise ValidationError(f"{name} must be a date like 2026-02-17", code="request.bad_date",
                          fields={name: FieldError("field.date", f"{raw!r} is not a date", item=raw[:20])})
