"""This call center's own settings made in the web UI, and the first-run wizard.

Settings (rows of ``site_setting``): ``timezone`` (where "today" begins on the wallboard,
the default of new opening hours; the settings file's ``timezone`` until an admin chooses),
``language`` (the sign-in page's and new accounts' language when the browser says
nothing else; Chinese until chosen), and where the office is in the numbering plan, for
calling permissions (appliance/services/calling.py): ``home_region`` (ISO country code,
``CN`` until set) and ``area_code`` (without the leading 0: ``21`` for Shanghai; empty
until set, when a fixed line dialled with any area code counts as long distance).  Read
through a copy kept in memory: this process is the only writer.

The first-run wizard is pending from the moment first boot made the first admin
(``begin_setup``) until an admin finishes it; a database without that mark (one made
before the wizard existed, or by a test) has none.  Its steps, in order, are each saved
when submitted, may be gone back to and are resumed where they were left:

1. ``password``: the printed first password replaced by the admin's own;
2. ``region``: time zone, default language and the office's area code;
3. ``trunk``: the first SIP trunk (or skipped, to add later);
4. ``queue``: the first queue, with the inbound number (DID) that leads to it (or skipped);
5. ``agents``: the first agents, a name and an extension each, made by the one-page set-up
   (``services/agent_setup.py``) into the wizard's queue, each with a web account named
   by the extension and generated passwords shown once (or skipped);

then ``finish``.  Nothing here is half-saved: a step with a bad value changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.db import models as m
from appliance.errors import Conflict, DomainError, FieldError, ValidationError
from appliance.services.agent_setup import random_secret

logger = logging.getLogger(__name__)

STEPS = ("password", "region", "trunk", "queue", "agents")
OPTIONAL = ("trunk", "queue", "agents")
WEB_PASSWORD_LENGTH = 12  # the first agents' web passwords, generated: they choose their own later
LANGUAGES = ("zh_CN", "en")
DONE, SKIPPED = "done", "skipped"
DID_PATTERN = r"\+?[0-9]{1,31}"
AREA_CODE_PATTERN = r"0?([1-9][0-9]{0,4})"  # typed with or without the trunk prefix 0 (021 or 21)
DEFAULT_HOME_REGION = "CN"
# The fields of the trunk and queue forms the wizard asks for (the others keep their
# defaults and are on the configuration pages).
TRUNK_FIELDS = ("display_name", "name", "host", "port", "match", "username", "secret", "register", "codecs", "max_channels")
QUEUE_FIELDS = ("display_name", "name", "strategy", "ring_timeout", "max_wait_seconds", "voicemail")


def zone_of(timezone: str | None) -> dt.tzinfo:
    """The time zone named (the site's, an IANA name); None, empty or unknown: UTC."""
    try:
        return ZoneInfo(timezone) if timezone else dt.timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def on_office_clock(at: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """A stored (naive UTC) time as the office's wall clock in ``zone`` reads it (naive)."""
    return at.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)


def utc_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """Midnight starting ``day`` on the clock of ``zone`` as a stored time: naive UTC, like
    every time in the database."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=zone)
    return start.astimezone(dt.timezone.utc).replace(tzinfo=None)


class SiteService:
    def __init__(self, db, users, config, *, default_timezone: str = "Asia/Shanghai",
                 default_language: str = "zh_CN", agent_setup=None):
        self.db = db
        self.users = users
        self.config = config
        self.agent_setup = agent_setup  # services/agent_setup.py AgentSetup: the agents step
        self.default_timezone = default_timezone
        self.default_language = default_language
        self._copy: dict[str, str] | None = None
        if config is not None:  # new opening hours are in this call center's time zone
            config.live_defaults[("time_conditions", "timezone")] = self.timezone

    # -- settings ---------------------------------------------------------------------------
    def _all(self) -> dict[str, str]:
        if self._copy is None:
            self._copy = {row.key: row.value for row in m.SiteSetting.select()}
        return self._copy

    def _set(self, actor: str, **values: str) -> None:
        now = m.utcnow()
        with self.db.atomic():
            for key, value in values.items():
                m.SiteSetting.put(key, value, actor, now)
        self._copy = None

    def timezone(self) -> str:
        return self._all().get("timezone") or self.default_timezone

    def language(self) -> str:
        return self._all().get("language") or self.default_language

    def home_region(self) -> str:
        return self._all().get("home_region") or DEFAULT_HOME_REGION

    def area_code(self) -> str:
        return self._all().get("area_code") or ""

    # -- the wizard -------------------------------------------------------------------------
    def begin_setup(self) -> None:
        """First boot made the first admin: the wizard is pending (once; never again)."""
        if "setup" not in self._all():
            self._set("system", setup="pending")

    def setup_pending(self) -> bool:
        return self._all().get("setup") == "pending"

    def setup_state(self) -> dict:
        """``{"pending", "steps": {step: done | skipped | None}, "next": step | "finish" | None,
        "timezone", "language", "area_code", "trunk", "queue", "did"}``."""
        values = self._all()
        steps = {step: values.get(f"setup.{step}") for step in STEPS}
        pending = self.setup_pending()
        nxt = next((step for step in STEPS if steps[step] is None), "finish") if pending else None
        return {"pending": pending, "steps": steps, "next": nxt, "timezone": self.timezone(),
                "language": self.language(), "area_code": self.area_code(),
                "trunk": values.get("setup.trunk_name", ""),
                "queue": values.get("setup.queue_name", ""), "did": values.get("setup.did", ""),
                "agents": [a for a in values.get("setup.agents_made", "").split(",") if a]}

    def _step_done(self, actor: str, step: str, state: str = DONE, **more: str) -> None:
        self._set(actor, **{f"setup.{step}": state}, **{f"setup.{k}": v for k, v in more.items()})
        logger.info("first-run wizard: %s %s by %s", step, state, actor)

    def save_password(self, user: dict, password: str, confirm: str) -> None:
        if password != confirm:
            raise ValidationError("the two passwords differ", code="setup.password_mismatch",
                                  fields={"confirm": FieldError("field.password_mismatch", "the two passwords differ")})
        if self.users.authenticate(user["username"], password or "") is not None:
            raise ValidationError("choose a new password, not the one printed at first boot",
                                  code="setup.password_unchanged",
                                  fields={"password": FieldError("field.password_unchanged",
                                                                "choose a new password, not the current one")})
        # checks its strength; ends the sessions (the wizard signs this browser in again)
        self.users.set_password(user["username"], password, actor=user["username"], end_tokens=False)
        self._step_done(user["username"], "password")

    def save_region(self, user: dict, timezone: str, language: str, area_code: str | None = None) -> None:
        """The time zone and language, and (when given) the office's area code: ``021`` or
        ``21``, stored without the 0; empty: not known."""
        # imported here: the configuration service's imports (phonenumbers, mail, the engines)
        # would otherwise be the first-boot unit's, whose step only marks the wizard pending
        from appliance.services.config import _check_timezone

        errors = {}
        problem = _check_timezone((timezone or "").strip())
        if problem or not (timezone or "").strip():
            errors["timezone"] = problem or FieldError("field.required", "required")
        if language not in LANGUAGES:
            errors["language"] = FieldError("field.choice", f"one of {', '.join(LANGUAGES)}",
                                            choices=", ".join(LANGUAGES))
        values = {}
        if area_code is not None:
            area = re.fullmatch(AREA_CODE_PATTERN, area_code.strip())
            if area_code.strip() and area is None:
                errors["area_code"] = FieldError("setup.region.area_code_bad",
                                                 "the area code: digits, such as 21 or 021 for Shanghai")
            values["area_code"] = area[1] if area else ""
        if errors:
            raise ValidationError(f"cannot be saved: {next(iter(errors.values()))}", fields=errors)
        with self.db.atomic():
            self._set(user["username"], timezone=timezone.strip(), language=language, **values)
            self.users.set_language(user["id"], language)
            self._step_done(user["username"], "region")

    def save_trunk(self, user: dict, data: dict) -> dict:
        """Create the first trunk, or change the one made by an earlier visit to this step."""
        earlier = self._all().get("setup.trunk_name")
        if earlier and self._exists("trunks", earlier):
            trunk = self.config.update("trunks", earlier, data, actor=user["username"])
        else:
            trunk = self.config.create("trunks", data, actor=user["username"])
        self._step_done(user["username"], "trunk", trunk_name=trunk["name"])
        return trunk

    def save_queue(self, user: dict, data: dict, did: str) -> dict:
        """Create the first queue and the DID that leads to it (with the wizard's trunk, if
        any), both or neither; a later visit changes them instead."""
        did = (did or "").strip()
        if did and not re.fullmatch(DID_PATTERN, did):
            raise ValidationError(f"'{did}' is not a dialled number", fields={"did": FieldError("field.dialled_number",
                                                                                       "digits, + first if any")})
        actor, values = user["username"], self._all()
        if not str(data.get("name") or "").strip() and str(data.get("display_name") or "").strip():
            data = {**data, "name": self.config.free_key("queues", data["display_name"])}  # the DID names it
        earlier_queue, earlier_did = values.get("setup.queue_name"), values.get("setup.did")
        if earlier_queue and self._exists("queues", earlier_queue):
            queue = self.config.update("queues", earlier_queue, data, actor=actor)
            if did and did != earlier_did:
                self._did_for(queue["name"], did, actor)
        else:
            items = [("queues", data)]
            if did:
                items.append(("dids", self._did_data(data.get("name", ""), did)))
            try:
                queue = self.config.create_many(items, actor)[0]
            except DomainError as exc:
                if getattr(exc, "kind", "") == "dids":  # the DID's own error belongs to the did field
                    exc.fields = {"did": next(iter(exc.fields.values()), exc.message)} if exc.fields else {
                        "did": exc.message}
                raise
        self._step_done(actor, "queue", queue_name=queue["name"], did=did or earlier_did or "")
        return queue

    def save_agents(self, user: dict, rows: list[dict]) -> list[dict]:
        """The first agents (``display_name`` and ``extension`` each), all or none, in the
        wizard's queue if it has one; each signs in to the web with their extension as user
        name.  Returns what was made, with the generated ``password`` and ``sip_secret``
        (shown once); errors are named ``<row>.<field>``."""
        if not rows:
            raise ValidationError("add at least one agent, or skip this step", code="setup.no_agents",
                                  fields={"0.display_name": FieldError("field.required", "required")})
        queue = self._all().get("setup.queue_name")
        queues = [queue] if queue and self._exists("queues", queue) else []
        asked = [{"display_name": r.get("display_name", ""), "extension": r.get("extension", ""),
                  "username": r.get("extension", ""), "password": random_secret(WEB_PASSWORD_LENGTH),
                  "queues": queues} for r in rows]
        made = self.agent_setup.create_many(asked, user["username"], language=self.language())
        for row, result in zip(asked, made):
            result["password"] = row["password"]
        earlier = [a for a in self._all().get("setup.agents_made", "").split(",") if a]
        self._step_done(user["username"], "agents", agents_made=",".join(earlier + [r["extension"] for r in made]))
        return made

    def _did_data(self, queue: str, did: str) -> dict:
        trunk = self._all().get("setup.trunk_name")
        data = {"number": did, "queue": queue}
        if trunk and self._exists("trunks", trunk):
            data["trunk"] = trunk
        return data

    def _did_for(self, queue: str, did: str, actor: str) -> None:
        if self._exists("dids", did):
            raise Conflict(f"the number {did} is already configured",
                           fields={"did": FieldError("field.exists", "already configured")})
        self.config.create("dids", self._did_data(queue, did), actor=actor)

    def _exists(self, kind: str, key: str) -> bool:
        try:
            self.config.get(kind, key)
            return True
        except DomainError:
            return False

    def skip(self, user: dict, step: str) -> None:
        if step not in OPTIONAL:
            raise ValidationError(f"the {step} step cannot be skipped", code="setup.not_optional")
        if self._all().get(f"setup.{step}") is None:
            self._step_done(user["username"], step, SKIPPED)

    def finish(self, user: dict) -> None:
        """The end: every admin page is the normal one from now on.  Finishing twice (two
        admins at once) is the same as once."""
        missing = [step for step in STEPS if self._all().get(f"setup.{step}") is None]
        if missing:
            raise ValidationError(f"first: {', '.join(missing)}", code="setup.unfinished",
                                  fields={"step": missing[0]})
        if self.setup_pending():
            self._set(user["username"], setup="done")
            logger.info("first-run wizard finished by %s", user["username"])
