"""Telephony configuration: trunks, queues, DIDs, phones and agents.

One table (``FIELDS``) says, per kind, what an object has, how each field is checked and
which database column it lands in; validation, the API's JSON Schema (and so the OpenAPI
spec) and the admin forms are all derived from it, so they cannot drift apart.  One
declaration per kind (``Kind`` in ``KIND_TABLE``) names its model and key and carries the
hooks the store calls for what that kind needs beyond its fields (rules across objects,
what refuses a deletion or a rename, extra read-only fields): ``ConfigService`` is the
same code for every kind and never asks which kind it is storing.

Objects are addressed by their natural key (a trunk's name, a DID's number, a phone's
extension, an agent's work number), the same key the dialplan and the people use.
Every change is written to the audit log in the same transaction, and after the commit
``on_change()`` regenerates and applies Asterisk's config.  Secrets are write-only: no
object this service returns carries one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import fn

from appliance.db import models as m
from appliance.engine.calling import PERMISSIONS as CALL_PERMISSIONS
from appliance.engine.calling import ROLE as CALLING_ROLE
from appliance.engine.menus import FALLTHROUGH_ACTIONS as MENU_FALLTHROUGH
from appliance.errors import Conflict, DomainError, FieldError, NotFound, Unavailable, ValidationError, field_error_of
from appliance.mail import parse_addresses

logger = logging.getLogger(__name__)

PHONE_KINDS = ("sip", "fxs")  # fxs: an analog phone on a port of the telephony card (services/fxs.py)
ANALOG_PHONE_KINDS = ("fxs",)  # a port, no password
CARD_LINES = ("fxo", "pri")
STRATEGIES = ("ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear", "wrandom")
CODECS = ("alaw", "ulaw", "g722", "gsm", "g729", "opus")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # a multi-line text keeps its line breaks and tabs
MARKUP = re.compile(r"<\s*[A-Za-z/!?]")  # the start of an HTML tag or comment: refused in every text
NO_MARKUP = FieldError("field.markup", "no markup (< followed by a letter)")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # str | int | bool | ref
    required: bool = False
    default: object = None
    help: str = ""
    choices: tuple = ()
    ref_kind: str = ""  # for type "ref": trunks | queues | phones | users
    secret: bool = False
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    pattern: str = ""
    column: str = ""  # model attribute, when it differs from ``name``
    check: object = None  # extra check: value -> error text or None
    stored: object = None  # how a value is stored, e.g. hashed: value -> stored value
    list_of: tuple = ()  # comma-separated list whose items must be among these
    # where a form's choices come from when they are not fixed: "timezones", "music_classes",
    # "prompts", "menu_targets" (``ConfigService.choices``); "week": the opening-hours grid
    options: str = ""
    # a structured value (the form's opening-hours grid) -> the stored text, or ValueError
    convert: Callable[[object], str] | None = None
    multiline: bool = False  # a text box (a note): line breaks allowed, stored as \n
    unique: bool = False  # no two objects of the kind share a value (empty ones aside)

    @property
    def attr(self) -> str:
        return self.column or self.name


def _check_match(value: str) -> str | None:
    for item in (x.strip() for x in value.split(",") if x.strip()):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return FieldError("field.network", f"{item!r} is not an IP address or network", item=item)
    return None


def _check_host(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if re.fullmatch(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                    r"[A-Za-z0-9])?)*", value):
        return None
    return FieldError("field.host", "an IP address or a host name")


def _check_sip_password(value: str) -> str | None:
    """A SIP phone's password: 8 characters or more (an analog phone has none: left empty)."""
    return FieldError("field.min_length", "at least 8 characters", n=8) if len(value) < 8 else None


def _check_schedule(value: str) -> str | None:
    from appliance.engine.schedule import ScheduleError, parse

    try:
        parse(value)
    except ScheduleError as exc:
        return field_error_of(exc)
    return None


def _check_timezone(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return FieldError("field.timezone", f"{value!r} is not a time zone (e.g. Asia/Shanghai)", item=value)
    return None


# The time zones offered first: China's (and its neighbours' Chinese-speaking ones).
COMMON_TIMEZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "Asia/Urumqi", "Asia/Singapore")


def timezones() -> list[str]:
    """Every time zone the system knows (zoneinfo), the common Chinese ones first."""
    from zoneinfo import available_timezones

    known = available_timezones()
    return [z for z in COMMON_TIMEZONES if z in known] + sorted(known - set(COMMON_TIMEZONES))


def music_classes() -> list[str]:
    """The music-on-hold classes Asterisk is configured with (confgen), but the agents' silence."""
    from appliance.confgen.model import DEFAULT_MOH
    from appliance.dialplan_vars import AGENT_SILENCE_MOH

    return [moh.name for moh in DEFAULT_MOH if moh.name != AGENT_SILENCE_MOH]


def _check_music_class(value: str) -> str | None:
    classes = music_classes()
    if value not in classes:
        return FieldError("field.choice", f"one of {', '.join(classes)}", choices=", ".join(classes))
    return None


def _schedule_of_grid(value) -> str:
    from appliance.engine.schedule import ScheduleError, from_grid

    try:
        return from_grid(value)
    except ScheduleError as exc:
        raise ValueError(field_error_of(exc)) from None


def _check_mac(value: str) -> str | None:
    from provisioning.phones import normalise_mac

    try:
        normalise_mac(value)
    except ValueError:
        return FieldError("field.mac", f"{value!r} is not a MAC address (e.g. 00:15:65:12:34:56)", item=value)
    return None


def _stored_mac(value: str) -> str | None:
    from provisioning.phones import normalise_mac

    return normalise_mac(value) if value else None


def _phone_models() -> tuple[str, ...]:
    from provisioning.phones import MODELS

    return ("", *MODELS)


def _check_date(value: str) -> str | None:
    import datetime as dt

    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return FieldError("field.date", f"{value!r} is not a date (YYYY-MM-DD)", item=value)
    return None


# Extension names the dialplan keeps for itself in the contexts named objects live in
# (Asterisk's special extensions, and "fax" where a detected fax machine goes).
RESERVED_NAMES = ("s", "h", "i", "t", "o", "a", "e", "fax")


def _check_name(value: str) -> str | None:
    if value.startswith("cc-"):
        return FieldError("field.own_prefix", "names starting with cc- are the appliance's own")
    if value in RESERVED_NAMES:
        return FieldError("field.reserved_name", f"{value} is a name the telephone system keeps for itself", item=value)
    return None


def derive_key(display_name: str, prefix: str, taken: Callable[[str], bool]) -> str:
    """A key for an object the admin gave only a display name: the name's ASCII letters and
    digits (accents dropped: "Café Müller" -> "cafe-muller"), else ``<prefix>-1`` for the
    first number free; a key already ``taken`` gets ``-2``, ``-3``...  Always a valid
    ``NAME``, never one of the reserved names."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    base = re.sub(r"^[^a-z]+", "", base)[:28].rstrip("-")  # a key starts with a letter
    if not base or _check_name(base) is not None:
        n = 1
        while taken(f"{prefix}-{n}"):
            n += 1
        return f"{prefix}-{n}"
    key, n = base, 1
    while taken(key):
        n += 1
        key = f"{base}-{n}"
    return key


# The customer's own columns (appliance/services/crm.py): a custom field may not take their names.
CUSTOMER_COLUMNS = ("id", "name", "phone", "category", "account_manager", "pin", "tags", "custom", "created_at",
                    "created_by", "updated_at")
CUSTOM_FIELD_TYPES = ("text", "number", "date", "choice")


def _check_did_destinations(did) -> None:
    """A DID leads into a queue or a menu (not both), and only into a menu that is live."""
    errors = {}
    if did.dest_queue_id and did.dest_menu_id:
        errors["menu"] = FieldError("field.queue_or_menu", "a queue or a menu, not both")
    if did.after_hours_queue_id and did.after_hours_menu_id:
        errors["after_hours_menu"] = FieldError("field.after_hours_queue_or_menu",
                                                "an after-hours queue or menu, not both")
    for name, menu_id in (("menu", did.dest_menu_id), ("after_hours_menu", did.after_hours_menu_id)):
        if menu_id and name not in errors:
            menu = m.Menu.get_by_id(menu_id)
            if not menu.live:
                errors[name] = FieldError("field.menu_not_live", f"menu {menu.name} is not live yet", item=menu.name)
    if errors:
        first = next(iter(errors.items()))
        raise ValidationError(f"the DID cannot be saved: {first[0]}: {first[1]}", fields=errors)
    did.dest_type = "menu" if did.dest_menu_id else "queue"
    if did.is_dirty():
        did.save()


def _check_emails(value: str) -> str | None:
    try:
        parse_addresses(value)
    except ValidationError as exc:
        return next(iter(exc.fields.values()), exc.message)
    return None


def _check_custom_field_name(value: str) -> str | None:
    if value in CUSTOMER_COLUMNS:
        return FieldError("field.own_field", f"{value} is one of the customer's own fields", item=value)
    return None


def _recording(what: str) -> Field:
    from appliance.recording import rules

    return Field("recording", "str", default=rules.DONTCARE, choices=rules.MODES,
                 help=f"record calls {what}: force (always, cannot be stopped), yes, dontcare, no (start on "
                      f"demand), never (not even on demand); force beats never, never beats the rest, then "
                      f"the agent's yes/no beats the queue's, the trunk's and the direction's")


NAME = dict(pattern=r"[a-z][a-z0-9_-]{0,31}", max_length=32, check=_check_name,
            help="lower-case letters, digits, _ and -, starting with a letter")

# A key Asterisk and the API address the object by, made from the display name when left
# empty (``derive_key``), and the name people read, in any script.
KEY_NAME = dict(NAME, help="the name Asterisk knows it by: lower-case letters, digits, _ and -, starting with a "
                           "letter; left empty, it is made from the display name")
DISPLAY_NAME = dict(default="", max_length=64, help="the name shown on every page, in any language or script")

FIELDS: dict[str, tuple[Field, ...]] = {
    "trunks": (
        Field("display_name", "str", **DISPLAY_NAME),
        Field("name", "str", **KEY_NAME),
        Field("host", "str", required=True, max_length=255, check=_check_host,
              help="the provider's SIP server (IP address or host name)"),
        Field("port", "int", default=5060, min=1, max=65535),
        Field("match", "str", default="", max_length=1000, check=_check_match,
              help="comma-separated addresses or networks calls from this trunk come from"),
        Field("username", "str", default="", max_length=64, pattern=r"[A-Za-z0-9_.+@-]*"),
        Field("secret", "str", default="", max_length=128, secret=True),
        Field("register", "bool", default=False, help="register to the provider with username and secret"),
        Field("codecs", "str", default="alaw,ulaw", max_length=64, list_of=CODECS),
        Field("max_channels", "int", default=0, min=0, max=1000,
              help="calls at once, in and out; a full trunk is skipped for outgoing calls; 0 means no limit"),
        Field("outbound_priority", "int", default=1, min=0, max=99,
              help="outgoing calls try trunks from the lowest number up, the next when one refuses the call or is "
                   "full; 0 = never for outgoing calls"),
        _recording("arriving on this trunk"),
    ),
    "queues": (
        Field("display_name", "str", **DISPLAY_NAME),
        Field("name", "str", **KEY_NAME),
        Field("strategy", "str", default="rrmemory", choices=STRATEGIES),
        Field("ring_timeout", "int", default=15, min=5, max=300, help="seconds an agent's phone rings"),
        Field("retry", "int", default=2, min=0, max=60, help="seconds before ringing the next agent"),
        Field("wrapup_seconds", "int", default=0, min=0, max=3600),
        Field("disposition_required", "bool", default=False,
              help="an agent takes no next call until they saved the last call's disposition"),
        Field("max_wait_seconds", "int", default=300, min=0, max=86400, help="0 means wait without limit"),
        Field("musicclass", "str", default="default", max_length=32, pattern=r"[A-Za-z0-9_-]+",
              check=_check_music_class, options="music_classes"),
        Field("announce_position", "bool", default=True),
        Field("announce_frequency", "int", default=60, min=0, max=3600),
        Field("announce_holdtime", "bool", default=True, help="tell the caller the expected wait"),
        Field("periodic_announce_seconds", "int", default=30, min=0, max=600,
              help="'all our agents are busy' every N seconds; 0 = never"),
        Field("overflow_queue", "ref", ref_kind="queues",
              help="where callers go when nobody can answer or they waited the longest wait"),
        Field("autopause_after", "int", default=3, min=0, max=20,
              help="missed calls in a row before the agent is paused; 0 = never"),
        Field("sticky_lookback_days", "int", default=0, min=0, max=365,
              help="offer a caller first to the agent they last talked with within so many days; 0 = off"),
        Field("sticky_min_talk_seconds", "int", default=30, min=0, max=3600,
              help="...if that conversation lasted at least this long"),
        Field("sticky_ring_seconds", "int", default=15, min=5, max=120,
              help="...ringing that agent this long before the queue"),
        _recording("through this queue"),
        Field("service_level_seconds", "int", default=20, min=1, max=600,
              help="calls answered within this many seconds count as answered in time (service level)"),
        Field("survey_enabled", "bool", default=False,
              help="after the agent hangs up, the caller is asked to rate the call from 1 to 5"),
        Field("survey_prompt", "str", default="", max_length=32, pattern=NAME["pattern"], options="prompts",
              help="the prompt asking for the rating (empty: the built-in one)"),
        Field("survey_low_score", "int", default=2, min=1, max=5,
              help="a rating at or below this raises a low-score event"),
        Field("recording_keep_days", "int", default=0, min=0, max=3650,
              help="keep the recordings of this queue's calls so many days; 0 = as the call direction's rule says"),
        Field("voicemail", "bool", default=False,
              help="a caller nobody could answer (or who waited the longest wait) may leave a message"),
        Field("voicemail_email", "str", default="", max_length=1000, check=_check_emails,
              help="e-mail addresses (comma-separated) each new message is sent to, with its recording"),
    ),
    "dids": (
        Field("number", "str", required=True, max_length=32, pattern=r"\+?[0-9]{1,31}",
              help="the dialled number as the trunk sends it"),
        Field("description", "str", default="", max_length=128),
        Field("trunk", "ref", ref_kind="trunks", help="only calls from this trunk (empty: any trunk)"),
        Field("queue", "ref", ref_kind="queues", column="dest_queue", help="the queue its calls wait in"),
        Field("menu", "ref", ref_kind="menus", column="dest_menu",
              help="a voice menu its callers hear instead of waiting in a queue"),
        Field("time_condition", "ref", ref_kind="time_conditions",
              help="opening hours (empty: always open)"),
        Field("after_hours_queue", "ref", ref_kind="queues",
              help="where calls go when closed (empty: the closed message)"),
        Field("after_hours_menu", "ref", ref_kind="menus",
              help="a voice menu for calls when closed (instead of the after-hours queue)"),
        Field("require_pin", "bool", default=False, help="callers key their member PIN before being connected"),
        Field("after_hours_voicemail", "bool", default=False,
              help="when closed and no after-hours queue is set, callers leave a message for the DID's queue"),
        Field("fax", "bool", default=False,
              help="a fax line: every call to this number is received as a fax, at any hour"),
        Field("fax_detect", "bool", default=False,
              help="a voice number that also takes faxes: a fax machine's calling tone in the first seconds "
                   "sends the call to the fax receiver"),
        Field("fax_email", "str", default="", max_length=1000, check=_check_emails,
              help="e-mail addresses (comma-separated) each fax received on this number is sent to, as PDF"),
    ),
    "phones": (
        Field("extension", "str", required=True, max_length=16, pattern=r"[0-9]{2,16}"),
        Field("kind", "str", default="sip", choices=PHONE_KINDS,
              help="sip: a SIP phone that registers; fxs: an analog phone on an FXS port of the telephony card"),
        Field("secret", "str", default="", max_length=128, secret=True, check=_check_sip_password,
              help="the SIP digest password the phone registers with (a SIP phone's, required; 8 characters "
                   "or more)"),
        Field("dahdi_channel", "int", min=1, max=1024,
              help="an analog phone's FXS port: its DAHDI channel (the phones page says which ports the card has)"),
        Field("callerid_name", "str", default="", max_length=64),
        Field("codecs", "str", default="alaw,ulaw", max_length=64, list_of=CODECS),
        Field("nat", "bool", default=False, help="the phone is behind NAT (a remote agent)"),
        Field("mac", "str", default=None, max_length=32, check=_check_mac, stored=_stored_mac, unique=True,
              help="a desk phone that configures itself: its MAC address (on the label under it), in any spelling"),
        Field("model", "str", default="", choices=_phone_models(),
              help="the desk phone's vendor and model: which configuration file it asks for"),
        Field("webrtc", "bool", default=False,
              help="a softphone in the agent's browser: the workspace registers it (no desk phone)"),
    ),
    # The telephony card's ways out, in the outbound route beside the SIP trunks (services/fxs.py)
    "card_routes": (
        Field("display_name", "str", **DISPLAY_NAME),
        Field("name", "str", **KEY_NAME),
        Field("line", "str", default="fxo", choices=CARD_LINES,
              help="fxo: the card's analog telephone lines, as one group; pri: one E1/T1 PRI span"),
        Field("span", "int", default=0, min=0, max=64, help="for pri: the span number (the card's first is 1)"),
        Field("outbound_priority", "int", default=1, min=0, max=99,
              help="with the SIP trunks' outbound priority: outgoing calls try the lowest number first, the next "
                   "when one is full or cannot take the call; 0 = never for outgoing calls"),
    ),
    "agents": (
        Field("number", "str", required=True, max_length=16, pattern=r"[0-9]{1,16}", help="work number"),
        Field("name", "str", required=True, max_length=64),
        Field("phone", "ref", ref_kind="phones", help="the phone this agent takes calls on"),
        Field("user", "ref", ref_kind="users", help="the web UI account of this agent"),
        _recording("this agent takes or makes"),
        Field("call_permission", "str", default=CALLING_ROLE, choices=CALL_PERMISSIONS,
              help="the dearest numbers this agent may call, from the desk phone, click-to-dial, transfers "
                   "and faxes: internal, local, mobile, domestic, international or premium (everything); "
                   "role: as their web account's role says (agents domestic, supervisors international, "
                   "admins everything); emergency numbers always"),
    ),
    "time_conditions": (
        Field("display_name", "str", **DISPLAY_NAME),
        Field("name", "str", **KEY_NAME),
        Field("schedule", "str", required=True, max_length=500, check=_check_schedule, options="week",
              convert=_schedule_of_grid, help="e.g. mon-fri 09:00-18:00; sat 09:00-12:00"),
        Field("timezone", "str", default="Asia/Shanghai", max_length=64, check=_check_timezone,
              options="timezones"),
        Field("use_holidays", "bool", default=True, help="closed on holidays, open on make-up workdays"),
    ),
    "holidays": (
        Field("date", "str", required=True, max_length=10, pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
              check=_check_date, help="YYYY-MM-DD"),
        Field("name", "str", required=True, max_length=64),
        Field("kind", "str", default="holiday", choices=("holiday", "workday"),
              help="holiday: closed all day; workday: a weekend day worked, with Monday's hours"),
    ),
    "blacklist": (
        Field("number", "str", required=True, max_length=32, pattern=r"\+?[0-9]{3,31}",
              help="the caller's number as it arrives"),
        Field("note", "str", default="", max_length=128),
    ),
    "customer_fields": (
        Field("name", "str", required=True, max_length=32, pattern=r"[a-z][a-z0-9_]{0,31}",
              check=_check_custom_field_name,
              help="lower-case letters, digits and _, starting with a letter; also the column in Excel files"),
        Field("label", "str", required=True, max_length=64, help="what the customer form shows"),
        Field("type", "str", default="text", choices=CUSTOM_FIELD_TYPES),
        Field("required", "bool", default=False, help="a customer cannot be saved without it"),
        Field("choices", "str", default="", max_length=1000, help="for type choice: the choices, separated by commas"),
        Field("position", "int", default=0, min=0, max=999, help="order on the customer form, lowest first"),
    ),
    "recording_rules": (
        Field("direction", "str", required=True, choices=("inbound", "outbound", "internal")),
        Field("recording", "str", default="dontcare", choices=("force", "yes", "dontcare", "no", "never"),
              help="record calls in this direction (see the trunk's setting for the precedence)"),
        Field("start_at", "str", default="answer", choices=("answer", "ringing"),
              help="answer: only the conversation; ringing: from the ring-back and the wait on"),
        Field("keep_days", "int", default=0, min=0, max=3650,
              help="recordings of these calls are deleted after so many days (a queue may say otherwise); 0 = kept"),
    ),
    "pause_reasons": (
        Field("code", "str", required=True, max_length=32, pattern=r"[a-z][a-z0-9-]{0,31}",
              help="lower-case letters, digits and -, starting with a letter"),
        Field("label", "str", required=True, max_length=64),
    ),
    # Served by their own services and routes (appliance/services/menus.py, webui/areas/menus.py),
    # not by the generic /api/v1/{kind}: a menu carries its options, a prompt its audio.
    "menus": (
        Field("display_name", "str", **DISPLAY_NAME),
        Field("name", "str", **KEY_NAME),
        Field("description", "str", default="", max_length=128),
        Field("language", "str", default="zh_CN", choices=("zh_CN", "en"),
              help="what callers hear around the greeting (wrong key, no key, goodbye) and after it"),
        Field("prompt", "ref", ref_kind="prompts", help="the greeting the caller hears"),
        Field("timeout_seconds", "int", default=5, min=1, max=60, help="seconds to wait for a key"),
        Field("max_tries", "int", default=3, min=1, max=10,
              help="wrong or missing keys before the invalid or timeout action"),
        Field("invalid_action", "str", default="hangup", choices=MENU_FALLTHROUGH,
              help="after too many wrong keys"),
        Field("invalid_target", "str", default="", max_length=32, options="menu_targets"),
        Field("timeout_action", "str", default="hangup", choices=MENU_FALLTHROUGH,
              help="after too many turns without a key"),
        Field("timeout_target", "str", default="", max_length=32, options="menu_targets"),
        Field("skip", "bool", default=False, help="skip this step: callers go straight on to the timeout action"),
        Field("live", "bool", default=False,
              help="callers may reach it (every prompt present, every menu it leads to live)"),
    ),
    "prompts": (
        Field("display_name", "str", **DISPLAY_NAME),
        Field("name", "str", **KEY_NAME),
        Field("description", "str", default="", max_length=128),
        Field("language", "str", default="zh_CN", choices=("zh_CN", "en")),
    ),
}

SYSTEM_PAUSE_REASON = "missed-calls"  # used by the engine's auto-pause: may not be deleted


# -- per-kind hooks --------------------------------------------------------------------
# ConfigService is the same store for every kind; what one kind needs beyond its fields is a
# hook in its ``Kind`` declaration (``KIND_TABLE`` below), called at a fixed point.

def _check_queue(obj) -> None:
    if obj.survey_prompt and not m.Prompt.select().where(
            m.Prompt.name == obj.survey_prompt).exists():
        raise ValidationError(f"no prompt {obj.survey_prompt}", fields={
            "survey_prompt": FieldError("field.no_such", "no such prompt", key=obj.survey_prompt)})
    if obj.overflow_queue_id is not None:
        seen, current = {obj.name}, obj.overflow_queue
        while current is not None:
            if current.name in seen:
                raise ValidationError(f"queue {obj.name} would overflow in a circle through {current.name}",
                                      code="queues.overflow_loop",
                                      fields={"overflow_queue": FieldError("field.overflow_loop",
                                                                           "overflow would go round in a circle")})
            seen.add(current.name)
            current = current.overflow_queue


def _check_customer_field(obj) -> None:
    if obj.type == "choice" and not [c for c in obj.choices.split(",") if c.strip()]:
        raise ValidationError(f"custom field {obj.name} is a choice but has no choices",
                              code="customer_fields.no_choices",
                              fields={"choices": FieldError("field.required", "required")})


def _queue_used_by(obj) -> list[str]:
    users = [f"DID {d.number}" for d in m.Did.select().where(m.Did.dest_queue == obj.id)]
    users += [f"queue {q.name} (overflow)" for q in m.Queue.select().where(m.Queue.overflow_queue == obj.id)]
    users += [f"DID {d.number} (after hours)" for d in m.Did.select().where(m.Did.after_hours_queue == obj.id)]
    return users


def _time_condition_used_by(obj) -> list[str]:
    return [f"DID {d.number}" for d in m.Did.select().where(m.Did.time_condition == obj.id)]


def _check_phone(obj) -> None:
    """A SIP phone has its password; an analog one its FXS port (one phone per port), and no
    password (it registers nothing).  A phone that provisions itself has both a MAC and a
    model, and a password to fetch its file with (made the first time it gets a MAC)."""
    errors = {}
    if obj.kind in ANALOG_PHONE_KINDS:
        if obj.dahdi_channel is None:
            errors["dahdi_channel"] = FieldError("fxs.port_required", "the FXS port an analog phone is plugged into")
        elif m.Phone.select().where(m.Phone.dahdi_channel == obj.dahdi_channel, m.Phone.id != obj.id).exists():
            errors["dahdi_channel"] = FieldError("fxs.port_taken", f"port {obj.dahdi_channel} is another phone's",
                                                 port=obj.dahdi_channel)
        if re.search(r'["<>\\]', obj.callerid_name or ""):  # chan_dahdi.conf's callerid="Name" <ext>
            errors["callerid_name"] = FieldError("fxs.name_chars", 'no " < > or \\ in an analog phone\'s name')
    else:
        if not obj.secret:
            errors["secret"] = FieldError("field.required", "required")
        if obj.dahdi_channel is not None:
            errors["dahdi_channel"] = FieldError("fxs.port_only_analog", "only an analog (fxs) phone has a port")
    if bool(obj.mac) != bool(obj.model):  # a phone that provisions itself has both
        name, error = (("model", FieldError("field.phone_model_needed", "the model too, with a MAC address"))
                       if obj.mac else ("mac", FieldError("field.phone_mac_needed", "the MAC address too, with a model")))
        errors[name] = error
    if errors:
        first = next(iter(errors.items()))
        raise ValidationError(f"the phone cannot be saved: {first[0]}: {first[1]}", fields=errors)
    if obj.mac and not obj.prov_password:  # the password it fetches its file with, made with its first MAC
        import secrets

        obj.prov_password = "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(16))
        obj.save()


def _check_trunk(obj) -> None:
    """A SIP trunk's name is not a card route's: calls and reports name either by it."""
    if m.CardRoute.select().where(m.CardRoute.name == obj.name).exists():
        raise Conflict(f"a card route is named {obj.name}", code="trunks.exists",
                       fields={"name": FieldError("field.exists", "already exists")})


def _check_card_route(obj) -> None:
    if m.Trunk.select().where(m.Trunk.name == obj.name).exists():
        raise Conflict(f"a SIP trunk is named {obj.name}", code="card_routes.exists",
                       fields={"name": FieldError("field.exists", "already exists")})
    if obj.line == "pri" and obj.span < 1:
        raise ValidationError("a PRI route names its span", fields={
            "span": FieldError("fxs.span_required", "the span number, from 1")})
    if obj.line == "fxo" and obj.span:
        obj.span = 0  # the FXO lines are one group, whatever span their card reports
        obj.save()
    same = m.CardRoute.select().where(m.CardRoute.line == obj.line, m.CardRoute.span == obj.span,
                                      m.CardRoute.id != obj.id)
    if same.exists():
        raise Conflict(f"another card route is already {obj.line} {obj.span or ''}".strip(), code="card_routes.exists",
                       fields={"line": FieldError("fxs.route_taken", "another route already uses these lines")})


def _phone_view(obj, preloaded) -> dict:
    """When, from where and as what the phone last fetched its configuration file."""
    at = obj.prov_fetched_at
    return {"fetched_at": at.isoformat(timespec="seconds") + "Z" if at else None,
            "fetched_from": obj.prov_fetched_from, "fetched_by": obj.prov_user_agent}


_PHONE_VIEW_SCHEMA = {
    "fetched_at": {"type": ["string", "null"], "description": "when it last fetched its configuration file (UTC)"},
    "fetched_from": {"type": "string", "description": "the address it fetched it from"},
    "fetched_by": {"type": "string", "description": "the User-Agent it fetched it as (its model and firmware)"}}


def _phone_used_by(obj) -> list[str]:
    return [f"agent {a.number}" for a in m.Agent.select().where(m.Agent.phone == obj.id)]


def _agent_used_by(obj) -> list[str]:
    return ["a signed-in session (sign the agent out first)"] if obj.logged_in else []


def _pause_reason_used_by(obj) -> list[str]:
    return ["the engine's automatic pause after missed calls"] if obj.code == SYSTEM_PAUSE_REASON else []


# What voice menus may name, by the configuration kind it belongs to.  A menu names its
# target by key (not by row), so a rename would break it as surely as a deletion.
_MENU_REFERENCES = {"queues": ("queue", "directory"), "agents": ("agent",), "phones": ("extension",)}


# What a voice menu's key (or its invalid or timeout action) leads to, by action
# (appliance/engine/menus.py; an agent or a directory's queue may also be left empty).
MENU_TARGET_KINDS = {"queue": "queues", "menu": "menus", "extension": "phones", "voicemail": "queues",
                     "agent": "agents", "directory": "queues"}


def menus_using(kind: str, key: str) -> list[str]:
    """Which menus lead to this queue, agent or phone (for refusing its deletion)."""
    actions = _MENU_REFERENCES.get(kind, ())
    users = [f"menu {o.menu.name} (key {o.digit})" for o in
             m.MenuOption.select(m.MenuOption, m.Menu).join(m.Menu)
             .where(m.MenuOption.action.in_(actions), m.MenuOption.target == key)]
    for menu in m.Menu.select().where(((m.Menu.invalid_action.in_(actions)) & (m.Menu.invalid_target == key)) |
                                      ((m.Menu.timeout_action.in_(actions)) & (m.Menu.timeout_target == key))):
        users.append(f"menu {menu.name}")
    return users


def _agent_queues() -> dict[int, list[str]]:
    """Agent id -> the names of its queues, for a whole list at once."""
    queues: dict[int, list[str]] = {}
    rows = (m.QueueMember.select(m.QueueMember.agent, m.Queue.name).join(m.Queue)
            .order_by(m.Queue.name).tuples())
    for agent_id, queue in rows:
        queues.setdefault(agent_id, []).append(queue)
    return queues


def queue_member_counts() -> dict[str, int]:
    """Queue name -> how many agents are its members, for a whole list at once."""
    rows = (m.QueueMember.select(m.Queue.name, fn.COUNT(m.QueueMember.id)).join(m.Queue)
            .group_by(m.Queue.name).tuples())
    return dict(rows)


def _agent_view(obj, queues: dict | None) -> dict:
    return {"logged_in": obj.logged_in, "paused": obj.paused, "pause_reason": obj.pause_reason,
            "queues": (queues.get(obj.id, []) if queues is not None else
                       [qm.queue.name for qm in obj.memberships.join(m.Queue).order_by(m.Queue.name)])}


_AGENT_VIEW_SCHEMA = {"logged_in": {"type": "boolean"}, "paused": {"type": "boolean"},
                      "pause_reason": {"type": "string"}, "queues": {"type": "array", "items": {"type": "string"}}}


@dataclass(frozen=True)
class Kind:
    """One configuration kind: its fields (``FIELDS``), the model its objects are stored in,
    the natural key they are addressed by, and the hooks ``ConfigService`` calls.  Every hook
    is optional; each runs inside the change's transaction, so raising refuses the change."""
    name: str  # as in the API's path: /api/v1/<name>
    singular: str  # in messages: "no <singular> <key>"
    model: type
    key: str  # the model attribute objects are addressed by
    fields: tuple[Field, ...] = ()
    generic: bool = True  # False: served by its own service and routes (menus, prompts), not /api/v1/{kind}
    # row -> None: rules across fields and objects, on the row as it would be saved (after
    # create and update); raises ValidationError
    check: Callable[[object], None] | None = None
    # row -> what still depends on it ("DID 800", "a signed-in session"): refuses a deletion
    used_by: Callable[[object], list[str]] | None = None
    # key -> what names the object by its key (voice menus): refuses a rename and a deletion
    named_by: Callable[[str], list[str]] | None = None
    # (row, preloaded) -> read-only fields the API's view adds; ``preload()`` reads once for a
    # whole list what ``view`` would otherwise query per row; ``view_schema`` describes them
    view: Callable[[object, dict | None], dict] | None = None
    preload: Callable[[], dict] | None = None
    view_schema: dict = field(default_factory=dict)
    # the fields that name the object for people, tried in order (the key when all are empty)
    label: tuple[str, ...] = ()
    # a key left empty is made from the display name (``derive_key``), or "<key_prefix>-1"
    key_prefix: str = ""


def _menus_naming(kind: str) -> Callable[[str], list[str]]:
    return lambda key: menus_using(kind, key)


# The configuration kinds, in the order the API and the admin pages list them.
KIND_TABLE: dict[str, Kind] = {k.name: k for k in (
    Kind("trunks", "trunk", m.Trunk, "name", FIELDS["trunks"], check=_check_trunk, label=("display_name",),
         key_prefix="trunk"),
    Kind("card_routes", "card route", m.CardRoute, "name", FIELDS["card_routes"], check=_check_card_route,
         label=("display_name",), key_prefix="card"),
    Kind("queues", "queue", m.Queue, "name", FIELDS["queues"], check=_check_queue, used_by=_queue_used_by,
         named_by=_menus_naming("queues"), label=("display_name",), key_prefix="queue"),
    Kind("dids", "DID", m.Did, "number", FIELDS["dids"], check=_check_did_destinations, label=("description",)),
    Kind("phones", "phone", m.Phone, "extension", FIELDS["phones"], check=_check_phone, used_by=_phone_used_by,
         view=_phone_view, view_schema=_PHONE_VIEW_SCHEMA,
         named_by=_menus_naming("phones"), label=("callerid_name",)),
    Kind("agents", "agent", m.Agent, "number", FIELDS["agents"], used_by=_agent_used_by,
         named_by=_menus_naming("agents"), view=_agent_view, preload=_agent_queues, view_schema=_AGENT_VIEW_SCHEMA,
         label=("name",)),
    Kind("pause_reasons", "pause reason", m.PauseReason, "code", FIELDS["pause_reasons"],
         used_by=_pause_reason_used_by, label=("label",)),
    Kind("time_conditions", "time condition", m.TimeCondition, "name", FIELDS["time_conditions"],
         used_by=_time_condition_used_by, label=("display_name",), key_prefix="hours"),
    Kind("holidays", "holiday", m.Holiday, "date", FIELDS["holidays"], label=("name",)),
    Kind("blacklist", "blocked number", m.BlockedNumber, "number", FIELDS["blacklist"]),
    Kind("customer_fields", "customer field", m.CustomerField, "name", FIELDS["customer_fields"],
         check=_check_customer_field, label=("label",)),
    Kind("recording_rules", "recording rule", m.RecordingRule, "direction", FIELDS["recording_rules"]),
    Kind("menus", "menu", m.Menu, "name", FIELDS["menus"], generic=False, label=("display_name", "description"),
         key_prefix="menu"),
    Kind("prompts", "prompt", m.Prompt, "name", FIELDS["prompts"], generic=False,
         label=("display_name", "description"), key_prefix="prompt"),
)}
# What a ref field may point at besides the kinds above (web accounts: services/users.py).
_REFERENCED = (Kind("users", "user", m.User, "username"),)

KINDS = tuple(k.name for k in KIND_TABLE.values() if k.generic)
MODELS = {k.name: k.model for k in (*KIND_TABLE.values(), *_REFERENCED)}
KEYS = {k.name: k.key for k in (*KIND_TABLE.values(), *_REFERENCED)}
# "customer" before "customer field": webui/i18n.py's pattern tries them in this order
SINGULAR = {"customers": "customer", **{k.name: k.singular for k in (*KIND_TABLE.values(), *_REFERENCED)}}
_JSON_TYPES = {"str": "string", "int": "integer", "bool": "boolean", "ref": "string"}


def _kind(kind: str) -> tuple[Field, ...]:
    try:
        return FIELDS[kind]
    except KeyError:
        raise NotFound(f"no such configuration kind: {kind}", code="config.unknown_kind") from None


def declared(kind: str) -> Kind:
    """The declaration of a configuration kind (NotFound ``config.unknown_kind`` if none)."""
    _kind(kind)
    return KIND_TABLE[kind]


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def coerce(f: Field, value):
    """The value as the field's type, or raise ValueError with what is wrong."""
    if f.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off", ""):
            return value.lower() in ("true", "1", "yes", "on")
        raise ValueError(FieldError("field.boolean", "true or false"))
    if f.type == "int":
        if isinstance(value, bool):
            raise ValueError(FieldError("field.integer", "a whole number"))
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            value = int(value.strip())  # however long: too big is "at most", not "not a number"
        if not isinstance(value, int):
            raise ValueError(FieldError("field.integer", "a whole number"))
        if f.min is not None and value < f.min:
            raise ValueError(FieldError("field.min", f"at least {f.min}", n=f.min))
        if f.max is not None and value > f.max:
            raise ValueError(FieldError("field.max", f"at most {f.max}", n=f.max))
        return value
    # str and ref
    if value is None:
        return None
    if f.convert is not None and isinstance(value, dict):  # the form's grid, or the API's
        value = f.convert(value)
    if not isinstance(value, str):
        raise ValueError(FieldError("field.text", "text"))
    value = value.strip()
    if f.multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if (_CONTROL_BUT_LINES if f.multiline else _CONTROL).search(value):
        raise ValueError(FieldError("field.control", "no line breaks or control characters"))
    if f.type == "ref":
        return value or None
    if f.max_length is not None and len(value) > f.max_length:
        raise ValueError(FieldError("field.max_length", f"at most {f.max_length} characters", n=f.max_length))
    if not f.secret and MARKUP.search(value):  # a password may hold anything
        raise ValueError(NO_MARKUP)
    if f.min is not None and value and len(value) < f.min:
        raise ValueError(FieldError("field.min_length", f"at least {f.min} characters", n=f.min))
    if f.pattern and value and not re.fullmatch(f.pattern, value):
        raise ValueError(FieldError("field.pattern", f.help or f"must match {f.pattern}"))
    if f.choices and value not in f.choices:
        raise ValueError(FieldError("field.choice", f"one of {', '.join(f.choices)}", choices=", ".join(f.choices)))
    if f.list_of:
        items = [x.strip() for x in value.split(",") if x.strip()]
        bad = [x for x in items if x not in f.list_of]
        if bad or not items:
            raise ValueError(FieldError("field.list", f"comma-separated, from {', '.join(f.list_of)}",
                                        choices=", ".join(f.list_of)))
        value = ",".join(items)
    if f.check and value:
        problem = f.check(value)
        if problem:
            raise ValueError(problem)
    return value


def fields_schema(fields, *, for_create: bool = True) -> dict:
    """The JSON Schema of an object made of these fields (for the OpenAPI document)."""
    props = {}
    for f in fields:
        p: dict = {"type": ["string", "null"] if f.type == "ref" else _JSON_TYPES[f.type]}
        if f.help:
            p["description"] = f.help
        if f.type == "ref":
            p["description"] = (f.help + " " if f.help else "") + f"(the {SINGULAR[f.ref_kind]}'s {KEYS[f.ref_kind]})"
        if f.choices:
            p["enum"] = list(f.choices)
        if f.max_length is not None:
            p["maxLength"] = f.max_length
        if f.type == "int":
            if f.min is not None:
                p["minimum"] = f.min
            if f.max is not None:
                p["maximum"] = f.max
        elif f.min is not None:
            p["minLength"] = f.min
        if f.pattern:  # an optional field may also be left empty (see coerce)
            p["pattern"] = f"^(?:{f.pattern})$" if f.required else f"^(?:{f.pattern})?$"
        if f.default is not None:
            p["default"] = f.default
        if f.secret:
            p["writeOnly"] = True
        if f.options == "week":  # the text, or the grid of the forms
            from appliance.engine.schedule import DAYS

            pair = {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}
            p.update(type=["string", "object"], additionalProperties=False,
                     properties={day: {"type": "array", "items": pair} for day in DAYS})
            p["description"] += ("; or by day: {\"mon\": [[\"09:00\", \"12:00\"], [\"13:00\", \"18:00\"]], ...}, "
                                 "\"00:00\" as an end being midnight")
        props[f.name] = p
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    required = [f.name for f in fields if f.required]
    if for_create and required:
        schema["required"] = required
    return schema


class ConfigService:
    def __init__(self, db, on_change=None):
        self.db = db
        self.on_change = on_change
        # (kind, field) -> where a default that is not fixed comes from: the time zone of
        # new opening hours is the site's (appliance/services/site.py)
        self.live_defaults: dict[tuple[str, str], Callable[[], object]] = {}

    def defaults(self, kind: str) -> dict:
        """The defaults of a new object that are not fixed in the schema (for the create form)."""
        return {name: get() for (k, name), get in self.live_defaults.items() if k == kind}

    # -- schema --------------------------------------------------------------
    def fields(self, kind: str) -> list[Field]:
        return list(_kind(kind))

    def json_schema(self, kind: str, *, for_create: bool = True) -> dict:
        schema = fields_schema(_kind(kind), for_create=for_create)
        declaration = declared(kind)
        if for_create and declaration.key_prefix:  # a key, or a display name to make one from
            schema["anyOf"] = [{"required": [declaration.key]}, {"required": [declaration.label[0]]}]
        return schema

    def output_schema(self, kind: str) -> dict:
        schema = self.json_schema(kind, for_create=False)
        props = {k: v for k, v in schema["properties"].items() if not v.get("writeOnly")}
        for f in _kind(kind):
            if f.secret:
                props[f"has_{f.name}"] = {"type": "boolean"}
        props["version"] = {"type": "string", "description": "changes with every saved change: send it back "
                                                             "in If-Match to update only what you read"}
        props.update(declared(kind).view_schema)
        return {"type": "object", "properties": props, "required": [KEYS[kind]]}

    # -- reading -------------------------------------------------------------
    def view(self, kind: str, obj, keys: dict | None = None, preloaded: dict | None = None) -> dict:
        """The object (a row) as the API shows it.  ``keys`` (ref kind -> id -> key) and
        ``preloaded`` (the kind's ``preload()``, e.g. agent id -> queue names) are read once
        for a whole list instead of per object."""
        out = {}
        for f in _kind(kind):
            if f.secret:
                out[f"has_{f.name}"] = bool(getattr(obj, f.attr))
            elif f.type == "ref":
                ref_id = getattr(obj, f.attr + "_id")
                if not ref_id:
                    out[f.name] = None
                elif keys is not None:
                    out[f.name] = keys[f.ref_kind].get(ref_id)
                else:
                    out[f.name] = getattr(getattr(obj, f.attr), KEYS[f.ref_kind])
            else:
                out[f.name] = getattr(obj, f.attr)
        out["version"] = self._version(kind, obj)
        hook = declared(kind).view
        if hook is not None:
            out.update(hook(obj, preloaded))
        return out

    @staticmethod
    def _version(kind: str, obj) -> str:
        """A fingerprint of the object as stored (secrets included): any saved change changes
        it, so a form or client that read an older version is told instead of overwriting."""
        stored = {f.name: getattr(obj, f.attr + "_id") if f.type == "ref" else getattr(obj, f.attr)
                  for f in _kind(kind)}
        return hashlib.sha256(json.dumps(stored, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def last_change(self, kind: str, key: str) -> dict | None:
        """Who last changed an object and when (UTC), from the audit log."""
        row = (m.AuditLog.select().where(m.AuditLog.object_type == kind, m.AuditLog.object_id == key)
               .order_by(m.AuditLog.id.desc()).first())
        return None if row is None else {"username": row.username,
                                         "at": row.at.isoformat(sep=" ", timespec="seconds")}

    def _last_change(self, kind: str, key: str) -> str:
        change = self.last_change(kind, key)
        return f"{change['username']} at {change['at']} UTC" if change else "someone"

    def get_row(self, kind: str, key: str):
        """The stored row of an object, or NotFound ``<kind>.not_found``."""
        model = MODELS[kind]
        obj = model.get_or_none(getattr(model, KEYS[kind]) == key)
        if obj is None:
            raise NotFound(f"no {SINGULAR[kind]} {key}", code=f"{kind}.not_found")
        return obj

    def list(self, kind: str) -> list[dict]:
        """Every object of a kind, in a fixed number of queries whatever their number (the live
        views re-read the agents every few seconds on the loop that serves calls)."""
        fields = _kind(kind)
        model = MODELS[kind]
        keys = {}
        for ref_kind in {f.ref_kind for f in fields if f.type == "ref"}:
            target = MODELS[ref_kind]
            keys[ref_kind] = dict(target.select(target.id, getattr(target, KEYS[ref_kind])).tuples())
        preload = declared(kind).preload
        preloaded = preload() if preload is not None else None
        return [self.view(kind, o, keys, preloaded) for o in model.select().order_by(getattr(model, KEYS[kind]))]

    def get(self, kind: str, key: str) -> dict:
        _kind(kind)
        return self.view(kind, self.get_row(kind, key))

    def free_key(self, kind: str, display_name: str) -> str:
        """A key no object of ``kind`` has, made from ``display_name`` (``derive_key``)."""
        model, declaration = MODELS[kind], declared(kind)
        return derive_key(display_name, declaration.key_prefix,
                          lambda key: model.select().where(getattr(model, KEYS[kind]) == key).exists())

    def display_names(self, kind: str) -> dict[str, str]:
        """Key -> the name people read (the kind's label fields, the first not empty; the
        key itself when none is), for every object of ``kind``, in one query."""
        model = MODELS[kind]
        label = KIND_TABLE[kind].label if kind in KIND_TABLE else ()
        columns = [getattr(model, KEYS[kind])] + [getattr(model, name) for name in label]
        return {row[0]: next((x for x in row[1:] if x), row[0])
                for row in model.select(*columns).order_by(columns[0]).tuples()}

    def choices(self, fields) -> dict[str, list[tuple[str, str, str]]]:
        """For each field of a form whose choices depend on what exists, (value, what people
        read, group): the objects a reference may point at by their display names, the time
        zones, the music-on-hold classes, the prompts, and a voice menu's targets grouped by
        the action that leads to them."""
        names: dict[str, dict[str, str]] = {}

        def named(kind: str) -> dict[str, str]:
            if kind not in names:
                names[kind] = self.display_names(kind)
            return names[kind]

        out = {}
        for f in fields:
            if f.type == "ref":
                out[f.name] = [(k, label, "") for k, label in named(f.ref_kind).items()]
            elif f.options == "prompts":
                out[f.name] = [(k, label, "") for k, label in named("prompts").items()]
            elif f.options == "timezones":
                out[f.name] = [(z, z, "common" if z in COMMON_TIMEZONES else "all") for z in timezones()]
            elif f.options == "music_classes":
                out[f.name] = [(c, c, "") for c in music_classes()]
            elif f.options == "menu_targets":
                out[f.name] = [(k, label, action) for action, kind in MENU_TARGET_KINDS.items()
                               for k, label in named(kind).items()]
        return out

    # -- validation ----------------------------------------------------------
    def clean(self, kind: str, data, *, creating: bool) -> dict:
        """Model attribute -> value, for the fields present (all of them when creating), or
        ValidationError naming each field that is wrong."""
        if not isinstance(data, dict):
            raise ValidationError(f"a {SINGULAR[kind]} must be a JSON object", code="request.not_an_object")
        fields = {f.name: f for f in _kind(kind)}
        errors = {name: FieldError("field.unknown", "unknown field") for name in data if name not in fields}
        key, declaration = KEYS[kind], KIND_TABLE[kind]
        if creating and declaration.key_prefix and not _text(data.get(key)):
            display = _text(data.get(declaration.label[0]))
            if display:  # only a display name: the key is made from it
                data = {**data, key: self.free_key(kind, display)}
            else:
                data = {k: v for k, v in data.items() if k != key}
                errors[key] = FieldError("config.name_or_display_name", "give a display name (or a name)")
        values = {}
        for f in fields.values():
            if f.name in errors:
                continue
            if f.name not in data:
                if creating:
                    if f.required or f.name == key:
                        errors[f.name] = FieldError("field.required", "required")
                    elif (kind, f.name) in self.live_defaults:
                        values[f.attr] = self.live_defaults[(kind, f.name)]()
                    elif f.type != "ref":
                        values[f.attr] = f.default
                continue
            try:
                value = coerce(f, data[f.name])
            except ValueError as exc:
                errors[f.name] = field_error_of(exc)
                continue
            if (f.required or f.name == key) and value in (None, ""):
                errors[f.name] = FieldError("field.required", "required")
                continue
            if f.type == "ref":
                if value is None:
                    values[f.attr] = None
                else:
                    target = MODELS[f.ref_kind].get_or_none(getattr(MODELS[f.ref_kind], KEYS[f.ref_kind]) == value)
                    if target is None:
                        errors[f.name] = FieldError("field.no_such", f"no {SINGULAR[f.ref_kind]} {value}", key=value)
                    else:
                        values[f.attr] = target
            elif value is None:
                values[f.attr] = f.default
            else:
                values[f.attr] = f.stored(value) if f.stored else value
        if errors:
            first = next(iter(errors.items()))
            raise ValidationError(f"the {SINGULAR[kind]} cannot be saved: {first[0]}: {first[1]}",
                                  code="validation_failed", fields=errors)
        return values

    @staticmethod
    def _check_object(kind: str, obj) -> None:
        """Rules across fields and objects, checked on the object as it would be saved."""
        hook = declared(kind).check
        if hook is not None:
            hook(obj)

    def check_unique(self, kind: str, key: str, exclude_id=None, values: dict | None = None) -> None:
        """Conflict ``<kind>.exists`` if another object (not row ``exclude_id``) has this key,
        or one of the kind's ``unique`` fields' ``values`` (model attribute -> value)."""
        model = MODELS[kind]
        query = model.select().where(getattr(model, KEYS[kind]) == key)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if query.exists():
            raise Conflict(f"a {SINGULAR[kind]} {key} already exists", code=f"{kind}.exists",
                           fields={KEYS[kind]: FieldError("field.exists", "already exists")})
        for f in (f for f in _kind(kind) if f.unique and (values or {}).get(f.attr) not in (None, "")):
            query = model.select().where(getattr(model, f.attr) == values[f.attr])
            if exclude_id is not None:
                query = query.where(model.id != exclude_id)
            if query.exists():
                raise Conflict(f"another {SINGULAR[kind]} has this {f.name}", code=f"{kind}.{f.name}_exists",
                               fields={f.name: FieldError("field.exists", "already exists")})

    # -- changing ------------------------------------------------------------
    # The store's steps are public for the services of kinds with a shape of their own
    # (services/menus.py, services/prompts.py): clean the values, open ``transaction()``,
    # ``check_unique``, write the row, ``log_change`` in the same transaction, and after the
    # commit ``apply()``.
    def transaction(self):
        """One database transaction (nested ones are savepoints); a change commits or not at all."""
        return self.db.atomic()

    def log_change(self, actor: str, action: str, kind: str, key: str, detail: dict) -> None:
        """Write one line of the audit log (inside the change's transaction)."""
        m.AuditLog.create(username=actor or "system", action=action, object_type=kind, object_id=key,
                          detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True))

    def redacted(self, kind: str, values: dict) -> dict:
        """``values`` (model attribute -> value) as the audit log keeps them: secrets as
        (set) or (empty), references by key."""
        secret = {f.attr for f in _kind(kind) if f.secret}
        out = {}
        for attr, value in values.items():
            if attr in secret:
                out[attr] = "(set)" if value else "(empty)"
            elif isinstance(value, m.BaseModel):
                out[attr] = getattr(value, KEYS[[k for k, mod in MODELS.items() if isinstance(value, mod)][0]])
            else:
                out[attr] = value
        return out

    def apply(self) -> None:
        """After a committed change: regenerate and apply Asterisk's config (``on_change``);
        a failure is Unavailable ``config.apply_failed`` (the change stays saved)."""
        if self.on_change is None:
            return
        try:
            self.on_change()
        except DomainError:
            raise
        except Exception as exc:
            logger.exception("the change was saved but applying it to Asterisk failed")
            raise Unavailable(f"saved, but applying the change to Asterisk failed: {exc}",
                              code="config.apply_failed") from exc

    def create(self, kind: str, data: dict, actor: str) -> dict:
        return self.create_many([(kind, data)], actor)[0]

    def create_many(self, items: list[tuple[str, dict]], actor: str) -> list[dict]:
        """Several objects in one transaction, all or none, applied to Asterisk once (the
        first-run wizard's queue and the DID leading to it).  An error says which kind
        failed in its ``kind`` attribute."""
        with self.transaction():
            made = self.create_rows(items, actor)
        for kind, key in made:
            logger.info("%s created %s %s", actor, SINGULAR[kind], key)
        self.apply()
        return [self.get(kind, key) for kind, key in made]

    def create_rows(self, items: list[tuple[str, dict]], actor: str) -> list[tuple[str, str]]:
        """The rows of ``create_many``, audited, inside the caller's transaction and not yet
        applied (services/agent_setup.py makes an agent's rows with its account and queues):
        ``(kind, key)`` of each."""
        made = []
        for kind, data in items:
            try:
                values = self.clean(kind, data, creating=True)
                key = values[KEYS[kind]]
                self.check_unique(kind, key, values=values)
                obj = MODELS[kind].create(**values)
                self._check_object(kind, obj)
            except DomainError as exc:
                exc.kind = kind
                raise
            self.log_change(actor, "create", kind, key, self.redacted(kind, values))
            made.append((kind, key))
        return made

    def update(self, kind: str, key: str, data: dict, actor: str, version: str | None = None) -> dict:
        """Change some fields.  With ``version`` (what the caller read), refuse with
        ``<kind>.changed`` when the object has been changed since: optimistic concurrency,
        so two admins editing the same queue do not silently overwrite each other."""
        declaration = declared(kind)
        values = self.clean(kind, data, creating=False)
        with self.transaction():
            obj = self.get_row(kind, key)
            if version is not None and version != self._version(kind, obj):
                raise Conflict(f"the {SINGULAR[kind]} {key} was changed by {self._last_change(kind, key)} "
                               f"after you read it: read it again and repeat your change", code=f"{kind}.changed")
            new_key = values.get(KEYS[kind], key)
            self.check_unique(kind, new_key, exclude_id=obj.id, values=values)
            if new_key != key:
                menus = declaration.named_by(key) if declaration.named_by is not None else []
                if menus:
                    raise Conflict(f"{SINGULAR[kind]} {key} cannot be renamed: voice menus lead to it "
                                   f"({', '.join(menus)})", code=f"{kind}.in_use")
            for attr, value in values.items():
                setattr(obj, attr, value)
            obj.save()
            self._check_object(kind, obj)
            self.log_change(actor, "update", kind, key, self.redacted(kind, values))
        logger.info("%s updated %s %s", actor, SINGULAR[kind], key)
        self.apply()
        return self.get(kind, new_key)

    def delete(self, kind: str, key: str, actor: str) -> None:
        _kind(kind)
        with self.transaction():
            obj = self.get_row(kind, key)
            self._refuse_if_used(kind, obj)
            obj.delete_instance()
            self.log_change(actor, "delete", kind, key, {})
        logger.info("%s deleted %s %s", actor, SINGULAR[kind], key)
        self.apply()

    def _refuse_if_used(self, kind: str, obj) -> None:
        """Deleting what calls are routed through would silently lose calls: say so instead."""
        declaration = declared(kind)
        users = declaration.used_by(obj) if declaration.used_by is not None else []
        if declaration.named_by is not None:
            users += declaration.named_by(getattr(obj, KEYS[kind]))
        if users:
            raise Conflict(f"{SINGULAR[kind]} {getattr(obj, KEYS[kind])} is still used by {', '.join(users)}",
                           code=f"{kind}.in_use")

    # -- queue members -------------------------------------------------------
    def members(self, queue: str) -> list[dict]:
        q = self.get_row("queues", queue)
        rows = (m.QueueMember.select(m.QueueMember, m.Agent).join(m.Agent)
                .where(m.QueueMember.queue == q.id).order_by(m.Agent.number))
        return [{"queue": q.name, "agent": r.agent.number, "penalty": r.penalty} for r in rows]

    def add_member(self, queue: str, agent: str, penalty=0, actor: str = "") -> dict:
        with self.transaction():
            member = self.add_member_row(queue, agent, penalty, actor)
        logger.info("%s added agent %s to queue %s", actor, agent, queue)
        self.apply()
        return member

    def add_member_row(self, queue: str, agent: str, penalty=0, actor: str = "") -> dict:
        """The membership of ``add_member``, audited, inside the caller's transaction and not
        yet applied."""
        try:
            penalty = coerce(Field("penalty", "int", min=0, max=100), penalty)
        except ValueError as exc:
            raise ValidationError(f"penalty: {exc}", fields={"penalty": field_error_of(exc)}) from None
        q = self.get_row("queues", queue)
        a = self.get_row("agents", agent)
        if m.QueueMember.select().where(m.QueueMember.queue == q.id, m.QueueMember.agent == a.id).exists():
            raise Conflict(f"agent {agent} is already a member of {queue}", code="members.exists")
        m.QueueMember.create(queue=q, agent=a, penalty=penalty)
        self.log_change(actor, "create", "members", f"{queue}/{agent}", {"penalty": penalty})
        return {"queue": queue, "agent": agent, "penalty": penalty}

    def remove_member(self, queue: str, agent: str, actor: str = "") -> None:
        with self.transaction():
            q = self.get_row("queues", queue)
            a = self.get_row("agents", agent)
            deleted = m.QueueMember.delete().where(m.QueueMember.queue == q.id,
                                                   m.QueueMember.agent == a.id).execute()
            if not deleted:
                raise NotFound(f"agent {agent} is not a member of {queue}", code="members.not_found")
            self.log_change(actor, "delete", "members", f"{queue}/{agent}", {})
        logger.info("%s removed agent %s from queue %s", actor, agent, queue)
        self.apply()

    def audit(self, limit: int = 100, offset: int = 0, *, kind: str = "", user: str = "",
              since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[dict]:
        """The audit log, newest first, optionally of one kind (``object_type``), one user, and
        from ``since`` to before ``until`` (naive UTC)."""
        rows = (self._audit_query(kind, user, since, until).order_by(m.AuditLog.id.desc())
                .limit(max(1, min(int(limit), 1000))).offset(max(0, int(offset))))
        return [{"at": r.at.isoformat(timespec="seconds") + "Z", "username": r.username, "action": r.action,
                 "object_type": r.object_type, "object_id": r.object_id, "detail": r.detail} for r in rows]

    def audit_count(self, *, kind: str = "", user: str = "", since: dt.datetime | None = None,
                    until: dt.datetime | None = None) -> int:
        return self._audit_query(kind, user, since, until).count()

    def audit_choices(self) -> dict:
        """The kinds and users the audit log has entries of (for its filters)."""
        kinds = [r.object_type for r in m.AuditLog.select(m.AuditLog.object_type).distinct()]
        users = [r.username for r in m.AuditLog.select(m.AuditLog.username).distinct()]
        return {"kinds": sorted(kinds), "users": sorted(users)}

    @staticmethod
    def _audit_query(kind: str, user: str, since, until):
        query = m.AuditLog.select()
        if kind:
            query = query.where(m.AuditLog.object_type == kind)
        if user:
            query = query.where(m.AuditLog.username == user)
        if since is not None:
            query = query.where(m.AuditLog.at >= since)
        if until is not None:
            query = query.where(m.AuditLog.at < until)
        return query
