"""Fanvil X-series: ``<mac>.cfg``, Fanvil's ``<sysConf>`` XML: the account on line 1,
language, time, and the BLF keys (DSS keys of type 1 whose value is
``<extension>@<line>/b``)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from provisioning.phones.model import (PhoneFile, has_daylight_saving, mac_cfg_name, mac_cfg_of, offset_words,
                                      utc_offset_minutes)

mac_of, file_name = mac_cfg_of, mac_cfg_name  # <mac>.cfg
COMMON_FILES = ()
LANGUAGE = {"zh_CN": "cn", "en": "en"}
CODECS = {"alaw": "PCMA", "ulaw": "PCMU", "g722": "G722", "g729": "G729", "opus": "OPUS"}
LINE_KEY, MEMORY_KEY = 2, 1


def render_common(phone: PhoneFile) -> str:
    raise KeyError("Fanvil phones have no common file here")


def _tag(name: str, value, indent: int) -> str:
    return f"{' ' * indent}<{name}>{escape(str(value))}</{name}>"


def render(phone: PhoneFile) -> str:
    minutes = utc_offset_minutes(phone.timezone)
    name = phone.display_name or phone.extension
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<sysConf>", _tag("Version", "2.0002", 2), "  <phone>",
           "    <display>", _tag("DefaultLanguage", LANGUAGE[phone.language], 6), _tag("LCDTitle", name, 6),
           "    </display>", "    <date>", _tag("EnableSNTP", 1, 6), _tag("SNTPServer", phone.ntp_server, 6),
           _tag("TimeZone", minutes // 15, 6), _tag("TimeZoneName", "UTC" + offset_words(minutes), 6),
           _tag("EnableDST", 2 if has_daylight_saving(phone.timezone) else 0, 6), "    </date>", "  </phone>",
           "  <sip>", '    <line index="1">']
    out += [_tag(k, v, 6) for k, v in (
        ("PhoneNumber", phone.extension), ("DisplayName", name), ("RegisterAddr", phone.server),
        ("RegisterPort", phone.sip_port), ("RegisterUser", phone.extension), ("RegisterPswd", phone.secret),
        ("RegisterTTL", 300), ("EnableReg", 1), ("Transport", 0), ("DTMFMode", 1),
        ("AudioCodecSets", ",".join(CODECS[c] for c in phone.codecs if c in CODECS)))]
    out += ["    </line>", "  </sip>", "  <dsskey>", '    <internal index="1">', '      <Fkey index="1">',
            _tag("Type", LINE_KEY, 8), _tag("Value", "SIP1", 8), _tag("Title", name, 8), "      </Fkey>"]
    for key, colleague in enumerate(phone.blf(), start=2):
        out += [f'      <Fkey index="{key}">', _tag("Type", MEMORY_KEY, 8), _tag("Value", f"{colleague.extension}@1/b", 8),
                _tag("Title", colleague.name or colleague.extension, 8), "      </Fkey>"]
    out += ["    </internal>", "  </dsskey>", "</sysConf>"]
    return "\n".join(out) + "\n"
