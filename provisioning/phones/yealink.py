"""Yealink T-series: ``y000000000000.cfg`` (read by every Yealink phone first: language,
time, the codecs' order) and ``<mac>.cfg`` (the phone's account and its BLF keys), in
Yealink's ``key = value`` format, which must start with ``#!version:1.0.0.1``."""

from __future__ import annotations

from provisioning.phones.model import (PhoneFile, has_daylight_saving, mac_cfg_name, mac_cfg_of, offset_words,
                                      utc_offset_minutes)

mac_of, file_name = mac_cfg_of, mac_cfg_name  # <mac>.cfg
COMMON_FILES = ("y000000000000.cfg",)
HEADER = "#!version:1.0.0.1"
LANGUAGE = {"zh_CN": "Chinese_S", "en": "English"}
# The names Yealink's time zone list gives the zones our offices are in (others: the offset only).
ZONE_NAMES = {"Asia/Shanghai": "China(Beijing)", "Asia/Urumqi": "China(Beijing)", "Asia/Hong_Kong": "Hong Kong",
              "Asia/Macau": "Macau", "Asia/Taipei": "Taiwan(Taipei)", "Asia/Singapore": "Singapore(Singapore)"}
CODECS = {"alaw": "pcma", "ulaw": "pcmu", "g722": "g722", "g729": "g729", "opus": "opus"}
BLF = 16  # linekey type


def _value(text: str) -> str:
    return str(text).replace("\r", " ").replace("\n", " ")


def _lines(pairs) -> str:
    return "\n".join([HEADER, *(f"{k} = {_value(v)}" for k, v in pairs)]) + "\n"


def render_common(phone: PhoneFile) -> str:
    minutes = utc_offset_minutes(phone.timezone)
    pairs = [("lang.gui", LANGUAGE[phone.language]), ("lang.wui", LANGUAGE[phone.language]),
             ("local_time.time_zone", offset_words(minutes))]
    if phone.timezone in ZONE_NAMES:
        pairs.append(("local_time.time_zone_name", ZONE_NAMES[phone.timezone]))
    pairs += [("local_time.summer_time", 2 if has_daylight_saving(phone.timezone) else 0),
              ("local_time.ntp_server1", phone.ntp_server), ("local_time.interval", 3600),
              ("static.auto_provision.pnp_enable", 0)]
    return _lines(pairs)


def render(phone: PhoneFile) -> str:
    a = "account.1"
    pairs = [(f"{a}.enable", 1), (f"{a}.label", phone.display_name or phone.extension),
             (f"{a}.display_name", phone.display_name or phone.extension), (f"{a}.auth_name", phone.extension),
             (f"{a}.user_name", phone.extension), (f"{a}.password", phone.secret),
             (f"{a}.sip_server.1.address", phone.server), (f"{a}.sip_server.1.port", phone.sip_port),
             (f"{a}.sip_server.1.transport_type", 0), (f"{a}.dtmf.type", 1)]
    for priority, codec in enumerate((c for c in phone.codecs if c in CODECS), start=1):
        pairs += [(f"{a}.codec.{CODECS[codec]}.enable", 1), (f"{a}.codec.{CODECS[codec]}.priority", priority)]
    for codec in sorted(set(CODECS) - set(phone.codecs)):
        pairs.append((f"{a}.codec.{CODECS[codec]}.enable", 0))
    # the time and language too, for a phone told to read only its own file
    pairs += [line.split(" = ", 1) for line in render_common(phone).splitlines()[1:]]
    for key, colleague in enumerate(phone.blf(), start=2):  # line key 1 is the phone's own line
        pairs += [(f"linekey.{key}.type", BLF), (f"linekey.{key}.line", 1), (f"linekey.{key}.value", colleague.extension),
                  (f"linekey.{key}.label", colleague.name or colleague.extension)]
    return _lines(pairs)
