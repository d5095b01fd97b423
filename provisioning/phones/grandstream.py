"""Grandstream GXP/GRP: ``cfg<mac>.xml``, Grandstream's XML carrying P-values (the
phone's parameters by number: P47 the SIP server, P35 the user, P34 the password...)."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from provisioning.phones.model import PhoneFile, posix_rule

COMMON_FILES = ()
_MAC_FILE = re.compile(r"cfg([0-9a-f]{12})\.xml")
LANGUAGE = {"zh_CN": "zh", "en": "en"}
# Grandstream's vocoder numbers (its "preferred vocoder" slots P57, P58, ...)
CODECS = {"ulaw": 0, "gsm": 3, "alaw": 8, "g722": 9, "g729": 18, "opus": 123}
VOCODER_SLOTS = ("P57", "P58", "P59", "P60", "P61", "P62", "P46", "P98")
# The multi-purpose keys: key n (from 1) at P23000 + 5(n-1): mode, account, name, value
MPK_BASE, MPK_STEP, BLF = 23000, 5, 1


def mac_of(name: str) -> str | None:
    found = _MAC_FILE.fullmatch(name)
    return found.group(1) if found else None


def file_name(mac: str) -> str:
    return f"cfg{mac}.xml"


def render_common(phone: PhoneFile) -> str:
    raise KeyError("Grandstream phones have no common file")


def render(phone: PhoneFile) -> str:
    name = phone.display_name or phone.extension
    values = [("P271", 1), ("P270", name), ("P47", f"{phone.server}:{phone.sip_port}"), ("P35", phone.extension),
              ("P36", phone.extension), ("P34", phone.secret), ("P3", name), ("P48", ""), ("P130", 0),
              ("P1362", LANGUAGE[phone.language]), ("P64", posix_rule(phone.timezone)),
              ("P30", phone.ntp_server)]
    chosen = [CODECS[c] for c in phone.codecs if c in CODECS]
    values += list(zip(VOCODER_SLOTS, chosen + [chosen[-1]] * (len(VOCODER_SLOTS) - len(chosen))))
    for n, colleague in enumerate(phone.blf(), start=1):
        p = MPK_BASE + MPK_STEP * (n - 1)
        values += [(f"P{p}", BLF), (f"P{p + 1}", 0), (f"P{p + 2}", colleague.name or colleague.extension),
                   (f"P{p + 3}", colleague.extension)]
    body = "\n".join(f"    <{p}>{escape(str(v))}</{p}>" for p, v in values)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<gs_provision version="1">\n  <mac>{phone.mac}</mac>\n'
            f'  <config version="1">\n{body}\n  </config>\n</gs_provision>\n')
