"""Message catalogs: every user-facing string is a message id looked up per language.

Catalogs are flat JSON files in ``appliance/locales/`` (``en.json``, ``zh_CN.json``) with the
same keys; a test keeps them complete and checks every id the code and templates use.
A missing id falls back to English, then to the id itself, and is logged once.

They live here, not in the web UI, because every edge translates from them: the web pages,
the serial console (``console.*``), the notices mailed to the call center, and the errors
services raise (a ``DomainError``'s code and params, each ``FieldError``'s id and params).
Nothing in ``appliance/`` besides the composition root imports ``webui``.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from appliance.errors import DomainError, FieldError

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
    (or ``choice.<field>.<value>`` for a field several kinds share, like ``recording``, or the
    code tables of ``appliance/labels.py``, ``labels.<field>.<value>``, like a ring strategy),
    else the value itself."""
    for msgid in (f"choice.{kind}.{name}.{value}", f"choice.{name}.{value}", f"labels.{name}.{value}"):
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


def field_error(lang: str, error, help_id: str | None = None) -> str:
    """A field's error in ``lang``: a ``FieldError`` is its message id filled in with its
    params.  A value that does not match a field's pattern is explained by the field's own
    help where it has one (``help_id``).  Plain text (a field error not yet given an id) is
    shown as "not valid: <the English text>" rather than hidden."""
    if isinstance(error, FieldError):
        if error.msgid == "field.pattern" and help_id and help_id in catalog("en"):
            return translate(lang, help_id)
        return translate(lang, error.msgid, **error.params)
    return translate(lang, "field.invalid", detail=str(error))


def error_text(lang: str, exc: DomainError) -> str:
    """The error's own sentence in ``lang`` where it carries one with an id (its message a
    ``FieldError``, as the LAN settings' are), else its English message: what an edge that
    shows the detail, like the serial console, says."""
    return field_error(lang, exc.message) if isinstance(exc.message, FieldError) else exc.message


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
