"""Where a phone number is from, as far as the number itself says: the city of a Chinese
landline (its area code), or that it is a mobile and of which operator, or the country
of an international number.

A mobile number's home city needs the operators' number-segment database, which the
appliance does not ship: for mobiles the region is left unknown and only the operator is
said.  The tables are public numbering facts (MIIT area codes, operator prefixes).
"""

from __future__ import annotations

import re

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
