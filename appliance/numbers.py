"""Phone numbers: where a number is from, as far as the number itself says (the city of a
Chinese landline, a mobile's operator, an international number's country: ``describe``), and
what kind of call dialling it makes, for calling permissions (``classify``).

A mobile number's home city needs the operators' number-segment database, which the
appliance does not ship: for mobiles the region is left unknown and only the operator is
said.  The tables are public numbering facts (MIIT area codes, operator prefixes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

# Area code -> (English, Chinese).  The largest cities; others are "landline" with no city.
AREA_CODES = {
    "10": ("Beijing", "北京"), "20": ("Guangzhou", "广州"), "21": ("Shanghai", "上海"), "22": ("Tianjin", "天津"),
    "23": ("Chongqing", "重庆"), "24": ("Shenyang", "沈阳"), "25": ("Nanjing", "南京"), "27": ("Wuhan", "武汉"),
    "28": ("Chengdu", "成都"), "29": ("Xi'an", "西安"), "311": ("Shijiazhuang", "石家庄"), "351": ("Taiyuan", "太原"),
    "371": ("Zhengzhou", "郑州"), "411": ("Dalian", "大连"), "431": ("Changchun", "长春"),
    "451": ("Harbin", "哈尔滨"), "471": ("Hohhot", "呼和浩特"), "510": ("Wuxi", "无锡"), "512": ("Suzhou", "苏州"),
    "531": ("Jinan", "济南"), "532": ("Qingdao", "青岛"), "551": ("Hefei", "合肥"), "571": ("Hangzhou", "杭州"),
    "574": ("Ningbo", "宁波"), "591": ("Fuzhou", "福州"), "592": ("Xiamen", "厦门"), "731": ("Changsha", "长沙"),
    "755": ("Shenzhen", "深圳"), "757": ("Foshan", "佛山"), "769": ("Dongguan", "东莞"), "771": ("Nanning", "南宁"),
    "791": ("Nanchang", "南昌"), "851": ("Guiyang", "贵阳"), "871": ("Kunming", "昆明"), "891": ("Lhasa", "拉萨"),
    "898": ("Haikou", "海口"), "931": ("Lanzhou", "兰州"), "951": ("Yinchuan", "银川"), "971": ("Xining", "西宁"),
    "991": ("Urumqi", "乌鲁木齐"),
}

# Mobile prefixes (first three digits) -> operator.
OPERATORS = {
    "mobile": ("China Mobile", "中国移动", ("134", "135", "136", "137", "138", "139", "147", "150", "151", "152",
                                       "157", "158", "159", "172", "178", "182", "183", "184", "187", "188",
                                       "195", "197", "198")),
    "unicom": ("China Unicom", "中国联通", ("130", "131", "132", "145", "155", "156", "166", "167", "171", "175",
                                       "176", "185", "186", "196")),
    "telecom": ("China Telecom", "中国电信", ("133", "149", "153", "173", "174", "177", "180", "181", "189",
                                         "190", "191", "193", "199")),
    "broadnet": ("China Broadnet", "中国广电", ("192",)),
}

COUNTRIES = {"852": ("Hong Kong", "香港"), "853": ("Macau", "澳门"), "886": ("Taiwan", "台湾"),
             "1": ("USA / Canada", "美国/加拿大"), "44": ("United Kingdom", "英国"), "65": ("Singapore", "新加坡"),
             "81": ("Japan", "日本"), "82": ("South Korea", "韩国")}

_DIGITS = re.compile(r"[^\d+]")


def describe(number: str, lang: str = "en") -> dict:
    """``{"kind": mobile|landline|international|unknown, "region": str|None, "operator": str|None}``."""
    zh = lang == "zh_CN"
    n = _DIGITS.sub("", number or "")
    if n.startswith("+86"):
        n = n[3:]
    elif n.startswith("0086"):
        n = n[4:]
    elif n.startswith("+") or n.startswith("00"):
        rest = n.lstrip("+")[2:] if n.startswith("00") else n[1:]
        for length in (3, 2, 1):
            if rest[:length] in COUNTRIES:
                en, cn = COUNTRIES[rest[:length]]
                return {"kind": "international", "region": cn if zh else en, "operator": None}
        return {"kind": "international", "region": None, "operator": None}
    if len(n) == 11 and n.startswith("1"):
        for en, cn, prefixes in OPERATORS.values():
            if n[:3] in prefixes:
                return {"kind": "mobile", "region": None, "operator": cn if zh else en}
        return {"kind": "mobile", "region": None, "operator": None}
    if n.startswith("0") and len(n) >= 10:
        for length in (2, 3):
            code = n[1:1 + length]
            if code in AREA_CODES:
                en, cn = AREA_CODES[code]
                return {"kind": "landline", "region": cn if zh else en, "operator": None}
        return {"kind": "landline", "region": None, "operator": None}
    return {"kind": "unknown", "region": None, "operator": None}


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
        return Dialled(number, INTERNATIONAL, e164, f"country code {parsed.country_code} ({where})")
    if phonenumbers.is_valid_number(parsed):
        kind = phonenumbers.number_type(parsed)
        if kind == PhoneNumberType.MOBILE:
            return Dialled(number, MOBILE, e164, "mobile")
        if kind in _FIXED:
            national = phonenumbers.national_significant_number(parsed)
            area = national[:phonenumbers.length_of_geographical_area_code(parsed)]
            if area and area == area_code:
                return Dialled(number, LOCAL, e164, f"fixed line in our area code {area}")
            if not area and not area_code:  # a plan without area codes: every fixed line is local
                return Dialled(number, LOCAL, e164, "fixed line")
            return Dialled(number, DOMESTIC, e164, f"fixed line in area code {area or '?'}")
        if kind == PhoneNumberType.TOLL_FREE:
            return Dialled(number, LOCAL, e164, "toll-free")
        if kind == PhoneNumberType.SHARED_COST:
            return Dialled(number, DOMESTIC, e164, "shared cost")
        return Dialled(number, PREMIUM, e164, f"special number ({_type_name(kind)})")
    if shortnumberinfo.is_valid_short_number_for_region(parsed, region):
        cost = shortnumberinfo.expected_cost_for_region(parsed, region)
        if cost in (shortnumberinfo.ShortNumberCost.TOLL_FREE, shortnumberinfo.ShortNumberCost.STANDARD_RATE):
            return Dialled(number, LOCAL, "", "service number at standard rate")
        return Dialled(number, PREMIUM, "", "service number, premium or unknown rate")
    prefix = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix or ""
    if prefix and not number.startswith(("+", prefix)):
        # a fixed line of our own area, dialled as people in the area dial it: without the
        # area code, which the network takes to be the caller's own
        if area_code:
            local = classify(prefix + area_code + number, home_region=region, area_code=area_code)
            if local.number_class == LOCAL:
                return Dialled(number, LOCAL, local.e164, local.why)
        elif phonenumbers.is_possible_number(parsed):  # our area code not set: a number of its length
            return Dialled(number, LOCAL, "", "local number (our area code is not set)")
    return Dialled(number, PREMIUM, "", "not a number of the plan")


def _type_name(kind: int) -> str:
    return next((name for name in dir(PhoneNumberType) if getattr(PhoneNumberType, name) == kind), str(kind)).lower()
