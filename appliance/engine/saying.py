"""Values of a call list's columns said to the callee (a campaign's voice notification):
digits one by one, a number, a date or an amount, in Chinese or English.  Pure: a value
in, the names of the sound files to play out; no I/O.

What is said is made of the appliance's own sentences (``appliance.sounds``: the digits
and the words ``两 十 百 千 万 亿 点 负 年 月 日 元 角 分`` in Chinese, ``point``/``yuan``/
``cents`` in English) and, in English, Asterisk's core sounds (``digits/13``,
``digits/mon-11``, ``digits/h-6``: Allison Smith's voice, in the rootfs already).  A piece
is either a sentence key of ``appliance.sounds`` (``digit-4``, ``say-wan``) or a core sound
name (it has a ``/``).  No new speech engine: the callee hears the same voice as the menus.

- ``digits``: every digit of the value, one by one (a tracking number, a phone number).
- ``number``: an integer or a decimal up to 12 integer digits, read as a number
  (``一万两千零五``, ``twelve thousand five``; 两 before 百 千 万 亿, 二 elsewhere); its
  decimals digit by digit after ``点``.
- ``date``: ``2026-12-06`` (or ``2026/12/6``, ``2026年12月6日``, an Excel date read as
  ISO): ``二零二六年十二月六日``, ``December 6th 2026``.
- ``amount``: money in yuan with at most two decimals: ``一百二十元五角``,
  ``one hundred twenty yuan fifty cents``.

A value that is not what its column is said as raises ``Unsayable`` (the notification is
then played without it, and the attempt's note says which column).
"""

from __future__ import annotations

import datetime as dt
import re

HOWS = ("digits", "number", "date", "amount")
MAX_DIGITS = 32  # a value said digit by digit
MAX_INTEGER = 10 ** 12  # below a trillion

_NUMBER = re.compile(r"(-?)(\d{1,12})(?:\.(\d{1,6}))?")
_AMOUNT = re.compile(r"(\d{1,12})(?:\.(\d{1,2}))?")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")


class Unsayable(ValueError):
    """The value cannot be said as asked."""


def say(value, how: str, language: str) -> tuple[str, ...]:
    """The pieces that say ``value`` as ``how`` in ``language`` (zh_CN, else English)."""
    text = _text(value)
    zh = language == "zh_CN"
    if how == "digits":
        digits = [c for c in text if c.isdigit()]
        if not digits or len(digits) > MAX_DIGITS:
            raise Unsayable(f"{text!r} has no digits to say" if not digits else f"{text!r} has too many digits")
        return tuple(f"digit-{d}" for d in digits)
    if how == "number":
        match = _NUMBER.fullmatch(text.replace(",", ""))
        if not match:
            raise Unsayable(f"{text!r} is not a number")
        sign, whole, decimals = match.groups()
        pieces = (("say-minus",) if sign and (int(whole) or (decimals or "").strip("0")) else ())
        pieces += _integer(int(whole), zh)
        if decimals:
            pieces += ("say-point",) + tuple(f"digit-{d}" for d in decimals)
        return pieces
    if how == "amount":
        match = _AMOUNT.fullmatch(text.replace(",", "").lstrip("¥￥").strip())
        if not match:
            raise Unsayable(f"{text!r} is not an amount")
        yuan, cents = int(match.group(1)), int((match.group(2) or "0").ljust(2, "0"))
        return _amount(yuan, cents, zh)
    if how == "date":
        match = _DATE.fullmatch(text)
        try:
            day = dt.date(*(int(g) for g in match.groups())) if match else None
        except ValueError:
            day = None
        if day is None:
            raise Unsayable(f"{text!r} is not a date")
        return _date(day, zh)
    raise Unsayable(f"no way to say {how!r}")


def _text(value) -> str:
    if isinstance(value, bool) or value is None:
        raise Unsayable("no value")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return (value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)).strip()


def _integer(n: int, zh: bool) -> tuple[str, ...]:
    if n >= MAX_INTEGER:
        raise Unsayable("too large a number")
    return _zh_integer(n) if zh else _en_integer(n)


def _zh_below_wan(n: int, leading: bool) -> tuple[str, ...]:
    """1..9999 in Chinese; ``leading``: the first group (十二, not 一十二)."""
    out: list[str] = []
    zero = False
    for value, unit in ((1000, "say-thousand"), (100, "say-hundred"), (10, "say-ten"), (1, None)):
        d = n // value % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("digit-0")
            zero = False
        if d == 2 and unit in ("say-thousand", "say-hundred"):
            out.append("say-liang")  # 两千, 两百
        elif not (unit == "say-ten" and d == 1 and leading and not out):
            out.append(f"digit-{d}")
        if unit:
            out.append(unit)
    return tuple(out)


def _zh_integer(n: int) -> tuple[str, ...]:
    if n == 0:
        return ("digit-0",)
    out: list[str] = []
    groups = [(n // 10 ** 8, "say-yi"), (n // 10 ** 4 % 10 ** 4, "say-wan"), (n % 10 ** 4, None)]
    started = False
    for i, (group, unit) in enumerate(groups):
        if group == 0:
            continue
        if started and (group < 1000 or groups[i - 1][0] == 0):
            out.append("digit-0")  # 一万零五, 一亿零五十万
        out.extend(("say-liang",) if group == 2 and unit else _zh_below_wan(group, leading=not started))
        if unit:
            out.append(unit)
        started = True
    return tuple(out)


def _en_below_thousand(n: int) -> tuple[str, ...]:
    out: list[str] = []
    if n >= 100:
        out += [f"digits/{n // 100}", "digits/hundred"]
        n %= 100
    if n >= 20:
        out.append(f"digits/{n // 10 * 10}")
        n %= 10
    if n:
        out.append(f"digits/{n}")
    return tuple(out)


def _en_integer(n: int) -> tuple[str, ...]:
    if n == 0:
        return ("digits/0",)
    out: list[str] = []
    for value, unit in ((10 ** 9, "digits/billion"), (10 ** 6, "digits/million"), (10 ** 3, "digits/thousand"),
                        (1, None)):
        group = n // value % 1000
        if group:
            out += _en_below_thousand(group)
            if unit:
                out.append(unit)
    return tuple(out)


def _amount(yuan: int, cents: int, zh: bool) -> tuple[str, ...]:
    if zh:
        out = (_zh_integer(yuan) + ("say-yuan",)) if yuan or not cents else ()
        jiao, fen = divmod(cents, 10)
        if jiao:
            out += (f"digit-{jiao}", "say-jiao")
        elif fen and yuan:
            out += ("digit-0",)
        if fen:
            out += (f"digit-{fen}", "say-fen")
        return out
    out = (_en_integer(yuan) + ("say-yuan",)) if yuan or not cents else ()
    if cents:
        out += _en_below_thousand(cents) + ("say-fen",)
    return out


def _date(day: dt.date, zh: bool) -> tuple[str, ...]:
    if zh:
        return (tuple(f"digit-{d}" for d in f"{day.year:04d}") + ("say-year",) + _zh_integer(day.month)
                + ("say-month",) + _zh_integer(day.day) + ("say-day",))
    ordinal = (f"digits/h-{day.day}",) if day.day <= 20 or day.day % 10 == 0 else (
        f"digits/{day.day // 10 * 10}", f"digits/h-{day.day % 10}")
    return (f"digits/mon-{day.month - 1}",) + ordinal + _en_integer(day.year)
