"""Codes turned into words: the one place that names a stored code for a person.

Queue strategies, recording policies, holiday kinds, call dispositions and directions,
route rules, health states, pause reasons, audit kinds and actions are stored as codes
(``rrmemory``, ``dontcare``, ``answered``).  Pages, scripts and Excel exports show them
through ``label(lang, kind, code)``: the catalog's ``labels.<kind>.<code>`` (or, for the
kinds the catalogs named before this module, their older id in ``ALIASES``), else the code
itself.  Scripts get the same words from the catalog their page ships (``js_labels``).
"""

from __future__ import annotations

import json
import re
import time

from appliance import i18n
from appliance.engine.schedule import ScheduleError, rules

# Kinds whose words the catalogs already had under another prefix.
ALIASES = {
    "disposition": "disposition.",
    "direction": "direction.",
    "recording": "choice.recording.",
    "holiday_kind": "choice.holidays.kind.",
    "agent_state": "agent_state.",
    "call_state": "call_state.",
    "component": "component.",
    "kind": "kind.",
    "role": "role.",
    "recording_state": "calls.recording.",
    "audit_action": "audit.",
    "action": "menus.action.",  # a voice menu key's action
    "destination_class": "rates.class.",  # a call's class in the rating (local, mobile...)
}
PREFIX = "labels."


def msgid(kind: str, code) -> str | None:
    """The catalog id naming ``code`` of ``kind``, or None when the catalogs have none."""
    for candidate in (f"{PREFIX}{kind}.{code}", f"{ALIASES.get(kind, PREFIX + kind + '.')}{code}"):
        if candidate in i18n.catalog("en"):
            return candidate
    return None


def label(lang: str, kind: str, code) -> str:
    """``code`` of ``kind`` in words (``label("zh_CN", "strategy", "rrmemory")``), else the
    code itself (a value the catalogs do not know, like a reason Asterisk made up)."""
    if code is None or code == "":
        return ""
    found = msgid(kind, code)
    return i18n.translate(lang, found) if found else str(code)


def has(kind: str, code) -> bool:
    return msgid(kind, code) is not None


def js_labels(lang: str) -> dict[str, str]:
    """Every ``labels.*`` message, for a page's script catalog."""
    return {k: v for k, v in i18n.catalog(lang).items() if k.startswith(PREFIX)}


# -- pause reasons ---------------------------------------------------------------------------
def _seeded_pause_reasons() -> dict[str, str]:
    from appliance.db.migrations.m0002_engine_agents import DEFAULT_PAUSE_REASONS

    return dict(DEFAULT_PAUSE_REASONS)


def pause_reason_name(lang: str, code: str, label_: str = "") -> str:
    """A pause reason's name as a person reads it: the admin's label, except for the reasons
    every appliance starts with while their label is still the shipped one ("Lunch / 用餐"),
    which are named in the user's language; an unknown code is shown as itself."""
    if not code:
        return ""
    if (not label_ or _seeded_pause_reasons().get(code) == label_) and has("pause_reason", code):
        return label(lang, "pause_reason", code)
    return label_ or code


def pause_reasons(lang: str, reasons: list[dict]) -> list[dict]:
    """The configured reasons (``code``, ``label``) each with its ``name`` in ``lang``."""
    return [{**r, "name": pause_reason_name(lang, r["code"], r.get("label", ""))} for r in reasons]


# -- opening hours ---------------------------------------------------------------------------
def week_words(lang: str, value: str) -> str:
    """Stored opening hours in the reader's words: "Monday–Friday 09:00-18:00; Saturday ..."
    (the text as it is when it does not parse)."""
    try:
        found = rules(value)
    except ScheduleError:
        return value
    day = lambda name: i18n.translate(lang, "config.day." + name)  # noqa: E731
    return i18n.translate(lang, "config.week.separator").join(
        (day(first) if first == last else i18n.translate(lang, "config.week.days", first=day(first), last=day(last)))
        + " " + ", ".join(spans) for first, last, spans in found)


# -- the audit log ---------------------------------------------------------------------------
def field_name(lang: str, kind: str, name: str) -> str:
    """A field of an audited change in words: the configuration form's label where the kind
    has one, else the catalog's shared ``labels.field.<name>``, else (a customer's) the label
    the admin gave their custom field, else the name."""
    for candidate in (f"field.{kind}.{name}", f"{PREFIX}field.{name}"):
        if candidate in i18n.catalog("en"):
            return i18n.translate(lang, candidate)
    if kind == "customers":
        return custom_field_labels().get(name, name)
    return name


_custom_labels: tuple[object, float, dict[str, str]] = (None, 0.0, {})


def custom_field_labels() -> dict[str, str]:
    """The customers' custom fields' labels by key, read at most every few seconds (an
    audit page names them on many lines)."""
    global _custom_labels
    from appliance.db import models as m
    db, read_at, found = _custom_labels
    if db is not m.database.obj or time.monotonic() - read_at > 5:
        found = {f.name: f.label for f in m.CustomerField.select(m.CustomerField.name, m.CustomerField.label)}
        _custom_labels = (m.database.obj, time.monotonic(), found)
    return found


def value_words(lang: str, kind: str, name: str, value) -> str:
    """A value of an audited change in words."""
    if isinstance(value, bool):
        return i18n.translate(lang, "labels.bool.true" if value else "labels.bool.false")
    if value is None or value == "":
        return i18n.translate(lang, "labels.audit.empty")
    if value in ("(set)", "(empty)"):
        return i18n.translate(lang, "labels.audit.secret_set" if value == "(set)" else "labels.audit.empty")
    if isinstance(value, list):
        return "、".join(value_words(lang, kind, name, v) for v in value) if value else i18n.translate(
            lang, "labels.audit.empty")
    if name == "schedule" and isinstance(value, str) and i18n.choice(lang, kind, name, value) == value:
        return week_words(lang, value)  # opening hours; a kind's own choices (the backups') are words
    if isinstance(value, dict):
        return "; ".join(f"{field_name(lang, kind, k)}: {value_words(lang, kind, k, v)}" for k, v in value.items())
    text = i18n.choice(lang, kind, name, value)
    if text == str(value) and has(name, value):
        text = label(lang, name, value)
    return text


def _empty(value) -> bool:
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    return value is None or value == "(empty)" or (value in ("", [], 0) and not isinstance(value, bool))


def audit_summary(lang: str, kind: str, detail: str, action: str = "") -> list[tuple[str, str]]:
    """An audit line's detail (JSON as stored) as (field, value) pairs in words (of a
    ``create``, only the fields given a value); text that is not a JSON object is one pair
    with no field."""
    try:
        data = json.loads(detail) if detail else {}
    except ValueError:
        return [("", detail)]
    if not isinstance(data, dict):
        return [("", value_words(lang, kind, "", data))]
    return [(field_name(lang, kind, k), value_words(lang, kind, k, v)) for k, v in sorted(data.items())
            if not (action == "create" and _empty(v))]
