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


def negotiate(accept_language: str | None, asked: str | None = None) -> str:
    """The language for someone not signed in: ``?lang=``, then Accept-Language."""
    if asked in LANGUAGES:
        return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


# The configuration service explains a bad field in plain English (for API clients);
# the pages show the same explanation in the user's language.
_FIELD_ERRORS = (
    (r"required", "field.required", ()),
    (r"unknown field", "field.unknown", ()),
    (r"already exists|already taken", "field.exists", ()),
    (r"a whole number", "field.integer", ()),
    (r"true or false", "field.boolean", ()),
    (r"text", "field.text", ()),
    (r"no line breaks or control characters", "field.control", ()),
    (r"at least (?P<n>\d+) characters", "field.min_length", ("n",)),
    (r"at most (?P<n>\d+) characters", "field.max_length", ("n",)),
    (r"at least (?P<n>-?\d+)", "field.min", ("n",)),
    (r"at most (?P<n>-?\d+)", "field.max", ("n",)),
    (r"one of (?P<choices>.+)", "field.choice", ("choices",)),
    (r"comma-separated, from (?P<choices>.+)", "field.list", ("choices",)),
    (r"no (?P<what>trunk|queue|DID|phone|agent|user) (?P<key>.+)", "field.no_such", ("what", "key")),
    (r"'(?P<item>.+)' is not an IP address or network", "field.network", ("item",)),
    (r"an IP address or a host name", "field.host", ()),
)


def field_error(lang: str, text: str) -> str:
    for pattern, msgid, _names in _FIELD_ERRORS:
        match = re.fullmatch(pattern, text)
        if match:
            return translate(lang, msgid, **match.groupdict())
    return translate(lang, "field.invalid_format", detail=text)
