"""A new agent in one step: the web account they sign in with, the phone (extension) they
take calls on, the agent (work number, name) and the queues they answer, made together
or not at all, and applied to Asterisk once.

Nothing is checked here that the services of each part do not already check: the account
is ``UserService.create``'s (role agent), the phone and the agent are the configuration
store's rows (``ConfigService.create_rows``), the memberships its ``add_member_row``; each
part runs in a savepoint of one transaction, so every part's errors are collected (one
form shows them all, each next to its field) before the whole is rolled back.

The phone's SIP password is generated (``random_secret``) and returned once, with the
result: the configuration store never shows a secret again.
"""

from __future__ import annotations

import logging
import secrets
import string

from appliance.errors import DomainError, FieldError, NotFound, Unavailable, ValidationError

logger = logging.getLogger(__name__)

SIP_SECRET_LENGTH = 16
# Letters and digits only, none that look alike (0/O, 1/l/I): typed on a desk phone's keypad
# or read out, punctuation and look-alikes are mistakes waiting; 16 of 57 symbols are 93 bits.
_SECRET_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
ROLE = "agent"

# Where each part's error is shown on the form: (kind, the part's field) -> the form's field.
_FORM_FIELD = {
    ("users", "username"): "username", ("users", "password"): "password", ("users", "language"): "username",
    ("phones", "extension"): "extension", ("phones", "callerid_name"): "display_name",
    ("phones", "secret"): "extension", ("agents", "number"): "number", ("agents", "name"): "display_name",
}


def random_secret(length: int = SIP_SECRET_LENGTH) -> str:
    """A password of letters and digits (a phone's SIP password; the wizard's first agents' web passwords)."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(length))


def _queues_of(value) -> tuple[list[tuple[str, object]], dict]:
    """``[(queue, penalty)]`` from a list of queue names or ``{"name", "penalty"}`` objects."""
    if value is None:
        return [], {}
    if not isinstance(value, list):
        return [], {"queues": FieldError("agents.setup.queues_list", "a list of queues")}
    out = []
    for item in value:
        if isinstance(item, str):
            out.append((item, 0))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append((item["name"], item.get("penalty", 0)))
        else:
            return [], {"queues": FieldError("agents.setup.queues_list", "a list of queues")}
    return out, {}


class AgentSetup:
    def __init__(self, config, users):
        self.config = config
        self.users = users

    def create(self, data: dict, actor: str, *, language: str = "zh_CN") -> dict:
        """One agent: ``username``, ``password``, ``display_name``, ``extension``, ``number``
        (the work number; the extension when empty) and ``queues`` (names, or objects with
        ``name`` and ``penalty``).  Returns what was made with the phone's ``sip_secret``;
        ValidationError with every field that is wrong, and nothing made."""
        try:
            return self.create_many([data], actor, language=language)[0]
        except ValidationError as exc:
            exc.fields = {name.split(".", 1)[1]: error for name, error in exc.fields.items()}
            raise

    def create_many(self, rows: list[dict], actor: str, *, language: str = "zh_CN") -> list[dict]:
        """Several agents, all or none (the first-run wizard's); errors are named
        ``<row>.<field>`` (``0.extension``).  Made but not applied to Asterisk (it is down),
        each result says so in ``apply_failed`` (the code) rather than losing its passwords."""
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValidationError("agents must be JSON objects", code="request.not_an_object")
        made, errors = [], {}
        with self.config.transaction():
            for i, data in enumerate(rows):
                result, problems = self._one(data, actor, language)
                made.append(result)
                errors.update({f"{i}.{name}": error for name, error in problems.items()})
            if errors:
                first = next(iter(errors.items()))
                raise ValidationError(f"the agent cannot be set up: {first[0]}: {first[1]}",
                                      code="agents.setup_failed", fields=errors)
        for result in made:
            logger.info("%s set up agent %s (%s, extension %s, queues %s)", actor, result["number"],
                        result["username"], result["extension"], ", ".join(result["queues"]) or "none")
        try:
            self.config.apply()
        except Unavailable as exc:  # saved all the same: the passwords must still reach the admin
            for result in made:
                result["apply_failed"] = exc.code
        return made

    def _one(self, data: dict, actor: str, language: str) -> tuple[dict, dict]:
        """One agent's rows inside the open transaction: (what was made, errors by form field)."""
        text = {k: data.get(k) if isinstance(data.get(k), str) else "" for k in
                ("username", "password", "display_name", "extension", "number")}
        text = {k: v if k == "password" else v.strip() for k, v in text.items()}
        number = text["number"] or text["extension"]
        queues, errors = _queues_of(data.get("queues"))
        secret = random_secret()
        done = set()

        def part(kind: str, step, rename: dict | None = None, missing: str = "") -> None:
            try:
                with self.config.transaction():  # a savepoint: a failed part leaves nothing behind
                    step()
                done.add(kind)
            except NotFound as exc:  # a queue deleted since the form was drawn
                errors.setdefault(kind, FieldError("field.no_such", exc.message, key=missing))
            except DomainError as exc:
                if not exc.fields:
                    errors.setdefault(kind, FieldError("field.invalid", exc.message, detail=exc.message))
                for name, error in exc.fields.items():
                    field = (rename or {}).get(name) or _FORM_FIELD.get((kind, name), name)
                    errors.setdefault(field, error)

        part("users", lambda: self.users.create(text["username"], text["password"], ROLE, language, actor=actor))
        part("phones", lambda: self.config.create_rows(
            [("phones", {"extension": text["extension"], "secret": secret,
                         "callerid_name": text["display_name"]})], actor))
        agent = {"number": number, "name": text["display_name"]}
        if "phones" in done:
            agent["phone"] = text["extension"]
        if "users" in done:
            agent["user"] = text["username"]
        # an empty work number takes the extension's: its errors are the extension's then
        part("agents", lambda: self.config.create_rows([("agents", agent)], actor),
             rename=None if text["number"] else {"number": "extension"})
        if "agents" in done:
            for queue, penalty in queues:
                part("queues", lambda: self.config.add_member_row(queue, number, penalty, actor),
                     rename={"penalty": "queues"}, missing=queue)
        return ({"username": text["username"], "display_name": text["display_name"], "extension": text["extension"],
                 "number": number, "queues": [q for q, _ in queues], "sip_secret": secret}, errors)
