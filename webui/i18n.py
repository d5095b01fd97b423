"""Message catalogs: every user-facing string is a message id looked up per language.

Catalogs are flat JSON files in ``webui/locales/`` (``en.json``, ``zh_CN.json``) with the
same keys; a test keeps them complete and checks every id the code and templates use.
A missing id falls back to English, then to the id itself, and is logged once.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path

from appliance.services.config import SINGULAR

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("zh_CN", "en")
DEFAULT = "zh_CN"
_missing: set[tuple[str, str]] = set()


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def translate(lang: str, msgid: str, **kw) -> str:
    lang = lang if lang in LANGUAGES else DEFAULT
    text = catalog(lang).get(msgid) or catalog("en").get(msgid)
    if text is None:
        if (lang, msgid) not in _missing:
            _missing.add((lang, msgid))
            logger.error("message id %r is in no catalog", msgid)
        text = msgid
    try:
        return text.format(**kw) if kw else text
    except (KeyError, IndexError, ValueError):
        logger.error("message %r in %s has placeholders that do not match %s", msgid, lang, sorted(kw))
        return text


def choice(lang: str, kind: str, name: str, value) -> str:
    """A field's choice as shown: translated where the catalog has ``choice.<kind>.<field>.<value>``
    (or ``choice.<field>.<value>`` for a field several kinds share, like ``recording``), else the
    value itself (Asterisk's own words, like a ring strategy, stay as they are)."""
    for msgid in (f"choice.{kind}.{name}.{value}", f"choice.{name}.{value}"):
        if msgid in catalog("en"):
            return translate(lang, msgid)
    return str(value)


def negotiate(accept_language: str | None, asked: str | None = None, default: str = DEFAULT) -> str:
    """The language for someone not signed in: ``?lang=``, then Accept-Language, then
    ``default`` (the call center's, chosen in the first-run wizard)."""
    if asked in LANGUAGES:
        return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return default if default in LANGUAGES else DEFAULT


# The configuration service explains a bad field in plain English (for API clients);
# the pages show the same explanation in the user's language.  Anything not listed here
# is shown as "not valid: <the English text>" rather than hidden.
_FIELD_ERRORS = (
    (r"required", "field.required"),
    (r"unknown field", "field.unknown"),
    (r"already exists|already taken", "field.exists"),
    (r"a whole number", "field.integer"),
    (r"true or false", "field.boolean"),
    (r"text", "field.text"),
    (r"no line breaks or control characters", "field.control"),
    (r"at least (?P<n>\d+) characters", "field.min_length"),
    (r"at most (?P<n>\d+) characters", "field.max_length"),
    (r"at least (?P<n>-?\d+)", "field.min"),
    (r"at most (?P<n>-?\d+)", "field.max"),
    (r"one of (?P<choices>.+)", "field.choice"),
    (r"comma-separated, from (?P<choices>.+)", "field.list"),
    (r"must match .+", "field.pattern"),
    (r"no (?:%s) (?P<key>.+)" % "|".join(re.escape(word) for word in SINGULAR.values()), "field.no_such"),
    (r"'(?P<item>.+)' is not a time zone \(e\.g\. Asia/Shanghai\)", "field.timezone"),
    (r"'(?P<item>.+)' is not a date \(YYYY-MM-DD\)", "field.date"),
    (r"'(?P<item>.+)' is not an IP address or network", "field.network"),
    (r"an IP address or a host name", "field.host"),
    (r"overflow would go round in a circle", "field.overflow_loop"),
    (r"not an e-mail address: (?P<item>.+)", "field.email"),
    (r"at most (?P<n>\d+) addresses", "field.max_addresses"),
    # accounts (appliance/services/users.py)
    (r"letters, digits and _ \. @ - only, at most 64", "field.username"),
    (r"not for your own account", "field.own_account"),
    (r"the last active admin", "field.last_admin"),
    # the first-run wizard (appliance/services/site.py)
    (r"(?P<item>\w+) is a name the telephone system keeps for itself", "field.reserved_name"),
    (r"the two passwords differ", "field.password_mismatch"),
    (r"choose a new password, not the current one", "field.password_unchanged"),
    (r"digits, \+ first if any", "field.dialled_number"),
    # customers (appliance/services/crm.py)
    (r"no markup \(< followed by a letter\)", "field.markup"),
    (r"a phone number: 3 to 20 digits, maybe starting with \+", "field.phone"),
    (r"a number", "field.number"),
    (r"at most (?P<n>\d+) tags of at most 32 characters", "field.tags"),
    (r"a date and time \(YYYY-MM-DD HH:MM\)", "field.datetime"),
    (r"(?P<item>\w+) is one of the customer's own fields", "field.own_field"),
    # Excel import (appliance/services/customer_excel.py)
    (r"unknown column", "field.unknown_column"),
    (r"the same column twice", "field.same_column"),
    (r"missing column", "field.missing_column"),
    (r"the same phone as row (?P<n>\d+)", "field.same_phone"),
    (r"already a customer", "field.existing_customer"),
    (r"more than (?P<n>\d+) rows: split the file", "field.too_many_rows"),
    (r"the workbook has no sheet", "field.no_sheet"),
    (r"the sheet is empty", "field.empty_sheet"),
    (r"no customers in the file", "field.no_rows"),
    (r"(?:the file is )?not an Excel workbook \(\.xlsx\)", "field.not_xlsx"),
)


def field_error(lang: str, text: str, help_id: str | None = None, help_text: str = "") -> str:
    """A field's error in ``lang``.  A pattern mismatch is explained by the field's own help
    (``help_text``, in English from the service), so that is shown translated (``help_id``)."""
    if help_id and help_text and text == help_text:
        return translate(lang, help_id)
    for pattern, msgid in _FIELD_ERRORS:
        match = re.fullmatch(pattern, text)
        if match:
            return translate(lang, msgid, **match.groupdict())
    return translate(lang, "field.invalid", detail=text)


def error_message(lang: str, code: str, status: int, params: dict | None = None) -> str:
    """What went wrong, in the user's words, for a ``DomainError`` code and HTTP status.

    The most specific message wins: the exact code (``ami.unavailable``), then its last
    part shared by every kind (``queues.in_use`` -> ``in_use``), then the status.  The
    error's ``params`` fill the sentence in, each value translated where the catalog has
    ``param.<name>.<value>`` (``param.number_class.international``).
    """
    tail = code.rsplit(".", 1)[-1] if code else ""
    filled = {name: translate(lang, f"param.{name}.{value}") if f"param.{name}.{value}" in catalog("en") else value
              for name, value in (params or {}).items()}
    for msgid in (f"error.code.{code}", f"error.code.{tail}", f"error.status.{status}"):
        if msgid in catalog("en"):
            return translate(lang, msgid, **filled) if msgid == f"error.code.{code}" and filled else translate(
                lang, msgid)
    return translate(lang, "error.status.500" if status >= 500 else "error.status.400")
