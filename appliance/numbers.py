"""Phone numbers, the one module that reads them: the form numbers are compared in
(``normalise``, ``variants``, ``key``), where a number is from (``home_region``: the province
and city of a Chinese fixed line or mobile, the country of a foreign number, a mobile's
operator), what kind of number it is (``number_type``, ``describe`` for the screen pop), and
what kind of call dialling it makes, for calling permissions (``classify``).

phonenumbers (Google's libphonenumber) does the work, with its geocoder and carrier data
(mobile number segments included): no hand-written tables of area codes or operators here.
The place names and operators come from ``appliance.places``: phonenumbers' own answers, kept
in a compact table of what the appliance shows (its full data took 113 MB of the supervisor).

The canonical form is E.164 (``+8613912345678``, ``+862161234567``): ``normalise`` gives it,
and two numbers are the same number when their ``key`` is equal.  Stored numbers (customer
phones, call-record callers, blocked numbers, DIDs) are kept as they were typed or came from
the trunk, less separators: they exist in several forms (``+8613912345678``,
``8613912345678``, ``13912345678``; ``02161234567`` for a fixed line), so a lookup by number
asks for every form of it (``variants``) rather than rewriting the rows.  A text that is not
a valid number of the plan (an extension, a short number, ``anonymous``) stays as it is,
matched with and without a leading +.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, shortnumberinfo

from appliance.places import PlaceTable

logger = logging.getLogger(__name__)

DEFAULT_REGION = "CN"  # whose numbering plan a number without a country code belongs to
_CLEAN = re.compile(r"[\s\-().]")  # what people type between the digits


def clean(text) -> str:
    """``+86 139-1234 5678`` -> ``+8613912345678``: separators gone, nothing else changed."""
    return _CLEAN.sub("", text) if isinstance(text, str) else ""


def bare(text) -> str:
    """The text less separators and a leading +: how the routing table keeps blocked numbers
    (a caller matches them in any form through ``variants``)."""
    return clean(text).lstrip("+")


def parse(text, region: str = DEFAULT_REGION) -> phonenumbers.PhoneNumber | None:
    """The number ``text`` names, dialled in ``region`` (a leading +, the international
    prefix 00, or the country code without either), when it is a valid number of the plan."""
    number = clean(text)
    if not re.fullmatch(r"\+?[0-9]{3,20}", number):
        return None
    try:
        parsed = phonenumbers.parse(number, (region or DEFAULT_REGION).upper())
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def _read(text, region: str) -> phonenumbers.PhoneNumber | None:
    """A stored or arriving number as ``key`` explains: first without its leading +."""
    return parse(bare(text), region) or parse(text, region)


def normalise(text, region: str = DEFAULT_REGION) -> str:
    """The canonical form: E.164 for a valid number (``0086 139 1234 5678``, ``13912345678``
    and ``8613912345678`` are all ``+8613912345678``), else the text less separators."""
    parsed = _read(text, region)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164) if parsed else clean(text)


def dialable(text, region: str = DEFAULT_REGION) -> str:
    """How the office dials a number through its trunks: a number of its own country as
    dialled inside it (``+8613912345678`` -> ``13912345678``, ``+862161234567`` ->
    ``02161234567``), another country's with the international prefix (``0012125551234``
    from China); a text that is no valid number, less separators."""
    parsed = _read(text, region)
    if parsed is None:
        return clean(text)
    return clean(phonenumbers.format_out_of_country_calling_number(parsed, (region or DEFAULT_REGION).upper()))


def key(text, region: str = DEFAULT_REGION) -> str:
    """What two numbers are compared by: E.164 for a valid number, else the text less
    separators and a leading + (so ``+1001`` and ``1001`` are one extension).

    Stored numbers carry a leading + or not whatever they are (``+13900000001`` is a caller
    of ours stored with a stray +, not a number in North America), so the number less its +
    is read first, as a number of ``region`` (``8613912345678`` and ``13912345678`` are both
    valid there); only when that is no valid number does the + make it international."""
    parsed = _read(text, region)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164) if parsed else bare(text)


def variants(text, region: str = DEFAULT_REGION) -> list[str]:
    """Every form the number ``text`` may be stored in, for ``WHERE phone IN (...)``: E.164
    with and without its +, with 00 for the +, and for a number of the office's own country
    as dialled inside it (``13912345678``, ``02161234567``); and the text itself, with and
    without a leading +."""
    given = bare(text)
    out = [given, "+" + given] if given.isdigit() and not given.startswith("0") else [given] if given else []
    parsed = _read(text, region)
    if parsed is not None:
        e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
        forms = [e164, e164[1:], "00" + e164[1:]]
        if parsed.country_code == phonenumbers.country_code_for_region((region or DEFAULT_REGION).upper()):
            national = phonenumbers.national_significant_number(parsed)
            forms += [clean(phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)), national,
                      "+" + national]  # the last: stored with a stray +
        out += [form for form in dict.fromkeys(forms) if form not in out]
    return out


_TYPES = {PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE: "fixed_line",
          PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile", PhoneNumberType.TOLL_FREE: "toll_free",
          PhoneNumberType.PREMIUM_RATE: "premium_rate", PhoneNumberType.SHARED_COST: "shared_cost",
          PhoneNumberType.VOIP: "voip", PhoneNumberType.PERSONAL_NUMBER: "personal_number",
          PhoneNumberType.PAGER: "pager", PhoneNumberType.UAN: "uan", PhoneNumberType.VOICEMAIL: "voicemail"}


def number_type(text, region: str = DEFAULT_REGION) -> str:
    """``mobile``, ``fixed_line``, ``toll_free``, ``shared_cost`` (400 numbers), ... or
    ``unknown`` for what is not a valid number."""
    parsed = parse(text, region)
    return _TYPES.get(phonenumbers.number_type(parsed), "unknown") if parsed else "unknown"


def _lang(lang: str) -> str:
    return "zh" if (lang or "").lower().startswith("zh") else "en"


@dataclass(frozen=True)
class HomeRegion:
    """Where a number is from, in one language: ``region`` is the province and city of a
    Chinese fixed line or mobile (``江苏省常州市``, ``Changzhou, Jiangsu``), or the country
    of a foreign one; ``carrier`` the operator a mobile was issued by (``中国移动``)."""

    region: str | None
    carrier: str | None
    country_code: int


class _Places:
    """The place table ``home_region`` reads (``appliance.places``).  The appliance hands it
    over (``use_places``) once loaded off the loop, having said so at start (``places_pending``):
    until then a number is placed nowhere rather than the data loaded on the caller's thread.
    Anything else (a script, a test) gets one built in its own process on first use."""

    def __init__(self):
        self.tables: dict[str, PlaceTable] = {}
        self.pending = False
        self.lock = threading.Lock()

    def get(self, office: str) -> PlaceTable | None:
        table = self.tables.get(office)
        if table is not None or (self.pending and office == DEFAULT_REGION):
            return table
        with self.lock:
            if office not in self.tables:
                logger.info("building the place table for %s in this process", office)
                self.tables[office] = PlaceTable.from_phonenumbers(office)
            return self.tables[office]


_places = _Places()


def places_pending(pending: bool = True) -> None:
    """The appliance loads the place table itself (``use_places``): until it does, numbers
    are placed nowhere, never by loading phonenumbers' data on the caller's thread."""
    _places.pending = pending


def use_places(table: PlaceTable) -> None:
    """Place numbers with ``table`` (for its office region)."""
    _places.tables[table.office] = table


def home_region(text, lang: str = "en", region: str = DEFAULT_REGION) -> HomeRegion | None:
    """Where the number ``text`` is from, in Chinese (``lang`` ``zh``/``zh_CN``) or English;
    None when it is not a valid number."""
    parsed = parse(text, region)
    if parsed is None:
        return None
    language = _lang(lang)
    table = _places.get((region or DEFAULT_REGION).upper())
    if table is None:  # the appliance is still loading it
        return HomeRegion(None, None, parsed.country_code)
    # with the office's region: a domestic number gets its city, a foreign one its country
    where = table.description(parsed, language)
    operator = None
    if phonenumbers.number_type(parsed) in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        operator = table.carrier(parsed, language) or None
    return HomeRegion(where or None, operator, parsed.country_code)


# A Chinese place as the geocoder writes it: the province (省, 自治区, 特别行政区 or one of the
# autonomous regions it writes short: 内蒙古 新疆 ...), then the city; a municipality (北京市) is both.
_PROVINCE_ZH = re.compile(r"^(.+?省|.+?自治区|.+?特别行政区|内蒙古|广西|西藏|宁夏|新疆)(.+)$")


def province_city(text, lang: str = "en", region: str = DEFAULT_REGION) -> tuple[str, str] | None:
    """The province and the city a number is from (``("江苏省", "常州市")``, ``("Jiangsu",
    "Changzhou")``; a municipality: ``("北京市", "北京市")``; a foreign number or one the geocoder
    places only in a country: the country twice); None for what is not a valid number."""
    home = home_region(text, lang, region)
    if home is None or not home.region:
        return None
    where = home.region
    if _lang(lang) == "zh":
        found = _PROVINCE_ZH.match(where)
        return (found.group(1), found.group(2)) if found else (where, where)
    city, _, province = where.rpartition(", ")
    return (province, city) if city else (where, where)


def place_key_sql(column: str) -> str:
    """An SQL expression over a stored Chinese number (``column``, as trunks deliver callers:
    ``13912345678``, ``+8613912345678``, ``8613912345678``, ``075588889999``) giving the first
    seven digits of its national number, which decide its place: the geocoder's longest
    Chinese prefix is seven national digits (a mobile's segment, ``1391234``; a fixed line's
    area code and exchange, six at most).  A report groups millions of calls by it in SQL and
    places one number of each group with ``province_city``: the place is phonenumbers'
    answer, the key only says which calls share it.  Anything else (foreign, short, hidden)
    is its own key."""
    c = column
    return (f"CASE WHEN {c} LIKE '+86%' THEN substr({c}, 4, 7) WHEN {c} LIKE '0086%' THEN substr({c}, 5, 7) "
            f"WHEN {c} LIKE '86%' AND length({c}) >= 12 THEN substr({c}, 3, 7) "
            f"WHEN {c} LIKE '0%' AND {c} NOT LIKE '00%' THEN substr({c}, 2, 7) "
            f"WHEN {c} LIKE '1%' AND length({c}) = 11 THEN substr({c}, 1, 7) ELSE {c} END")


def describe(text, lang: str = "en", region: str = DEFAULT_REGION) -> dict:
    """For the screen pop: ``{"kind": mobile|landline|international|unknown, "region":
    str|None, "operator": str|None}``; a foreign number's region is its country."""
    parsed = parse(text, region)
    if parsed is None:
        return {"kind": "unknown", "region": None, "operator": None}
    home = home_region(text, lang, region)
    if parsed.country_code != phonenumbers.country_code_for_region((region or DEFAULT_REGION).upper()):
        return {"kind": "international", "region": home.region, "operator": None}
    kind = {"mobile": "mobile", "fixed_line": "landline"}.get(number_type(text, region), "unknown")
    return {"kind": kind, "region": home.region if kind != "unknown" else None,
            "operator": home.carrier if kind == "mobile" else None}


# -- what kind of call a dialled number makes ----------------------------------------------
# The classes a calling permission is made of, from the cheapest to the dearest; a
# permission names the dearest class it allows (appliance/engine/calling.py).
INTERNAL = "internal"  # one of our own phones or agents: never leaves the building
LOCAL = "local"  # a fixed line in the office's own area code, a toll-free number, a standard-rate service number
MOBILE = "mobile"  # a mobile of the office's own country
DOMESTIC = "domestic"  # a fixed line in another area code, a shared-cost (400) number
INTERNATIONAL = "international"  # another country code (Hong Kong, Macau and Taiwan included)
PREMIUM = "premium"  # premium-rate, personal and other special numbers, and anything not a number of the plan
CLASSES = (INTERNAL, LOCAL, MOBILE, DOMESTIC, INTERNATIONAL, PREMIUM)
EMERGENCY = "emergency"  # 110, 119, 120, 122, 112, 911: always allowed, whoever dials
# Emergency numbers phonenumbers does not list for a region but the networks answer there:
# 112 and 911 reach the police from any mobile in China; 122 is the traffic police.
EMERGENCY_EXTRA = {"": ("112", "911"), "CN": ("122",)}

_FIXED = (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_SEPARATORS = re.compile(r"[\s\-().]")
_DIALLABLE = re.compile(r"\+?[0-9]{1,32}")


@dataclass(frozen=True)
class Dialled:
    """A dialled number as a calling permission sees it."""

    number: str  # as dialled, without spaces, dashes, dots or brackets
    number_class: str  # one of CLASSES, or EMERGENCY
    e164: str  # the number in E.164 when it is one of the numbering plan, else ""
    why: str  # in a few words, for the log and the audit trail
    # what phonenumbers made of it, for rating (appliance/engine/rating.py): a number type
    # (``mobile``, ``fixed_line``, ``toll_free``, ``shared_cost``...), ``short`` (a service
    # number such as 10086 or 95588), or "" (not placed)
    kind: str = ""


def classify(dialled: str, *, home_region: str = "CN", area_code: str = "",
             internal: frozenset[str] | set[str] = frozenset()) -> Dialled:
    """What calling ``dialled`` from an office in ``home_region`` (ISO 3166 code), area code
    ``area_code`` (without the trunk prefix 0; empty: not known, so every fixed line with an
    area code counts as domestic) makes; ``internal`` are our own extensions and work numbers.

    phonenumbers (Google's libphonenumber) decides: the number as dialled there (a leading
    +, the international prefix 00, or a carrier-selection prefix such as 17951 that turns
    the rest into a long-distance or international call), its type and its area code; short
    numbers by their expected cost.  A number it cannot place is ``premium``: what cannot be
    shown to be cheap is treated as dear."""
    number = _SEPARATORS.sub("", dialled or "")
    region = (home_region or "CN").upper()
    if not _DIALLABLE.fullmatch(number):
        return Dialled(number, PREMIUM, "", "not a phone number")
    if number in internal:
        return Dialled(number, INTERNAL, "", "one of our extensions")
    if (number in EMERGENCY_EXTRA[""] or number in EMERGENCY_EXTRA.get(region, ())
            or shortnumberinfo.is_emergency_number(number, region)):
        return Dialled(number, EMERGENCY, "", "emergency number")
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return Dialled(number, PREMIUM, "", "not a number of the plan")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if parsed.country_code != phonenumbers.country_code_for_region(region):
        where = phonenumbers.region_code_for_number(parsed) or "?"
        return Dialled(number, INTERNATIONAL, e164, f"country code {parsed.country_code} ({where})", "international")
    if phonenumbers.is_valid_number(parsed):
        kind = phonenumbers.number_type(parsed)
        name = _TYPES.get(kind, "unknown")
        if kind == PhoneNumberType.MOBILE:
            return Dialled(number, MOBILE, e164, "mobile", name)
        if kind in _FIXED:
            national = phonenumbers.national_significant_number(parsed)
            area = national[:phonenumbers.length_of_geographical_area_code(parsed)]
            if area and area == area_code:
                return Dialled(number, LOCAL, e164, f"fixed line in our area code {area}", name)
            if not area and not area_code:  # a plan without area codes: every fixed line is local
                return Dialled(number, LOCAL, e164, "fixed line", name)
            return Dialled(number, DOMESTIC, e164, f"fixed line in area code {area or '?'}", name)
        if kind == PhoneNumberType.TOLL_FREE:
            return Dialled(number, LOCAL, e164, "toll-free", name)
        if kind == PhoneNumberType.SHARED_COST:
            return Dialled(number, DOMESTIC, e164, "shared cost", name)
        return Dialled(number, PREMIUM, e164, f"special number ({_type_name(kind)})", name)
    if shortnumberinfo.is_valid_short_number_for_region(parsed, region):
        cost = shortnumberinfo.expected_cost_for_region(parsed, region)
        if cost in (shortnumberinfo.ShortNumberCost.TOLL_FREE, shortnumberinfo.ShortNumberCost.STANDARD_RATE):
            return Dialled(number, LOCAL, "", "service number at standard rate", "short")
        return Dialled(number, PREMIUM, "", "service number, premium or unknown rate", "short")
    prefix = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix or ""
    if prefix and not number.startswith(("+", prefix)):
        # a fixed line of our own area, dialled as people in the area dial it: without the
        # area code, which the network takes to be the caller's own
        if area_code:
            local = classify(prefix + area_code + number, home_region=region, area_code=area_code)
            if local.number_class == LOCAL:
                return Dialled(number, LOCAL, local.e164, local.why, local.kind)
        elif phonenumbers.is_possible_number(parsed):  # our area code not set: a number of its length
            return Dialled(number, LOCAL, "", "local number (our area code is not set)")
    return Dialled(number, PREMIUM, "", "not a number of the plan")


def _type_name(kind: int) -> str:
    return next((name for name in dir(PhoneNumberType) if getattr(PhoneNumberType, name) == kind), str(kind)).lower()
