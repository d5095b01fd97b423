"""People who sign in to the web UI, their passwords and their API tokens.

Passwords are stored as scrypt hashes (``scrypt$n$r$p$salt$hash``, base64 parts);
API tokens are random strings of which only the SHA-256 is stored, so a copy of the
database gives neither.  Every method returns plain dicts, never a model with a hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets

from appliance.db import models as m
from appliance.errors import Conflict, NotFound, ValidationError

logger = logging.getLogger(__name__)

ROLES = ("admin", "supervisor", "agent")
LANGUAGES = ("zh_CN", "en")
MIN_PASSWORD = 8
_USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, *, salt: bytes | None = None, n: int = _SCRYPT["n"], r: int = _SCRYPT["r"],
                  p: int = _SCRYPT["p"]) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except (ValueError, TypeError):
        logger.error("a stored password hash is unreadable; refusing the sign-in")
        return False
    return hmac.compare_digest(got, expected)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(user: m.User) -> dict:
    return {"id": user.id, "username": user.username, "role": user.role, "language": user.language,
            "active": user.active}


def _check_password(password) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError(f"a password needs at least {MIN_PASSWORD} characters", code="user.weak_password",
                              fields={"password": f"at least {MIN_PASSWORD} characters"})


class UserService:
    def __init__(self, db):
        self.db = db

    def create(self, username: str, password: str, role: str, language: str = "zh_CN", actor: str = "") -> dict:
        """A new account; with ``actor`` (an admin on the users page or API) it is audited."""
        fields = {}
        if not isinstance(username, str) or not _USERNAME_RE.fullmatch(username):
            fields["username"] = "letters, digits and _ . @ - only, at most 64"
        if role not in ROLES:
            fields["role"] = f"one of {', '.join(ROLES)}"
        if language not in LANGUAGES:
            fields["language"] = f"one of {', '.join(LANGUAGES)}"
        if fields:
            raise ValidationError("the user cannot be created as given", code="user.invalid", fields=fields)
        _check_password(password)
        with self.db.atomic():
            if m.User.select().where(m.User.username == username).exists():
                raise Conflict(f"a user named {username} already exists", code="user.exists",
                               fields={"username": "already taken"})
            user = m.User.create(username=username, password_hash=hash_password(password), role=role,
                                 language=language)
            if actor:
                m.AuditLog.create(username=actor, action="create", object_type="users", object_id=username,
                                  detail=json.dumps({"role": role, "language": language}, sort_keys=True))
        logger.info("user %s created with role %s", username, role)
        return _view(user)

    def authenticate(self, username: str, password: str) -> dict | None:
        user = m.User.get_or_none(m.User.username == username)
        if user is None:
            hash_password(password or "")  # same work either way: no user enumeration by timing
            return None
        if not user.active or not verify_password(password or "", user.password_hash):
            logger.info("sign-in refused for %s", username)
            return None
        return _view(user)

    def get(self, user_id: int) -> dict | None:
        user = m.User.get_or_none(m.User.id == user_id)
        return _view(user) if user else None

    # -- web sessions: a session cookie carries the stamp of the password it was signed in
    # with; a new password (set by anyone) ends every session signed in before it
    @staticmethod
    def _stamp(user: m.User) -> str:
        return hashlib.sha256(b"session:" + user.password_hash.encode()).hexdigest()[:16]

    def session_stamp(self, user_id: int) -> str:
        return self._stamp(self._user(id=user_id))

    def signed_in(self, user_id, stamp) -> dict | None:
        """The active user a session cookie names, if it was signed in with their current password."""
        user = m.User.get_or_none(m.User.id == user_id) if isinstance(user_id, int) else None
        if user is None or not user.active or not hmac.compare_digest(str(stamp or ""), self._stamp(user)):
            return None
        return _view(user)

    def list(self) -> list[dict]:
        return [_view(u) for u in m.User.select().order_by(m.User.username)]

    def _user(self, **where) -> m.User:
        (key, value), = where.items()
        user = m.User.get_or_none(getattr(m.User, key) == value)
        if user is None:
            raise NotFound(f"no user with {key} {value}", code="user.not_found")
        return user

    def set_language(self, user_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValidationError(f"unknown language {language!r}", code="user.invalid",
                                  fields={"language": f"one of {', '.join(LANGUAGES)}"})
        user = self._user(id=user_id)
        user.language = language
        user.save()

    def update(self, username: str, changes: dict, actor: str) -> dict:
        """An admin changes another account: ``role``, ``active``, ``language`` and/or a new
        ``password``.  Nobody changes their own role or switches themselves off, and the
        last active admin stays an active admin (nobody could configure anything after)."""
        unknown = sorted(set(changes) - {"role", "active", "language", "password"})
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]}", code="user.invalid", fields={k: "unknown field"
                                                                                         for k in unknown})
        fields = {}
        if "role" in changes and changes["role"] not in ROLES:
            fields["role"] = f"one of {', '.join(ROLES)}"
        if "language" in changes and changes["language"] not in LANGUAGES:
            fields["language"] = f"one of {', '.join(LANGUAGES)}"
        if "active" in changes and not isinstance(changes["active"], bool):
            fields["active"] = "true or false"
        if fields:
            raise ValidationError("the user cannot be changed as given", code="user.invalid", fields=fields)
        if changes.get("password") is not None:
            _check_password(changes["password"])
        with self.db.atomic():
            user = self._user(username=username)
            role = changes.get("role", user.role)
            active = changes.get("active", user.active)
            if username == actor and (role != user.role or not active):
                raise Conflict("you cannot change your own role or switch yourself off", code="user.self",
                               fields={"role" if role != user.role else "active": "not for your own account"})
            if user.role == "admin" and user.active and (role != "admin" or not active):
                others = m.User.select().where(m.User.role == "admin", m.User.active == True,  # noqa: E712
                                               m.User.id != user.id).count()
                if not others:
                    raise Conflict("the last active admin must stay one", code="user.last_admin",
                                   fields={"role": "the last active admin"})
            user.role, user.active = role, active
            user.language = changes.get("language", user.language)
            if changes.get("password") is not None:
                user.password_hash = hash_password(changes["password"])
            user.save()
            detail = {k: ("(set)" if k == "password" else v) for k, v in changes.items()}
            m.AuditLog.create(username=actor, action="update", object_type="users", object_id=username,
                              detail=json.dumps(detail, sort_keys=True))
        logger.info("%s changed user %s: %s", actor, username, sorted(changes))
        return _view(user)

    def set_password(self, username: str, password: str) -> None:
        _check_password(password)
        user = self._user(username=username)
        user.password_hash = hash_password(password)
        user.save()
        logger.info("password of %s changed", username)

    def ensure_admin(self, username: str = "admin") -> str | None:
        """Create the first admin with a random password, unless an admin exists; return it."""
        if m.User.select().where(m.User.role == "admin").exists():
            return None
        password = secrets.token_urlsafe(12)
        self.create(username, password, "admin")
        return password

    # -- API tokens ----------------------------------------------------------
    def create_token(self, user_id: int, name: str) -> str:
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ValidationError("a token needs a name (at most 64 characters)", code="token.invalid",
                                  fields={"name": "required, at most 64 characters"})
        user = self._user(id=user_id)
        token = "cc_" + secrets.token_urlsafe(32)
        m.ApiToken.create(user=user, name=name.strip(), token_hash=_token_hash(token))
        logger.info("API token %r created for %s", name, user.username)
        return token

    def user_for_token(self, token: str) -> dict | None:
        if not token:
            return None
        row = (m.ApiToken.select(m.ApiToken, m.User).join(m.User)
               .where(m.ApiToken.token_hash == _token_hash(token)).first())
        if row is None or not row.user.active:
            return None
        m.ApiToken.update(last_used_at=m.utcnow()).where(m.ApiToken.id == row.id).execute()
        return _view(row.user)

    def list_tokens(self, user_id: int) -> list[dict]:
        return [{"id": t.id, "name": t.name, "created_at": t.created_at.isoformat(timespec="seconds") + "Z",
                 "last_used_at": t.last_used_at.isoformat(timespec="seconds") + "Z" if t.last_used_at else None}
                for t in m.ApiToken.select().where(m.ApiToken.user == user_id).order_by(m.ApiToken.id)]

    def revoke_token(self, user_id: int, token_id: int) -> None:
        deleted = m.ApiToken.delete().where(m.ApiToken.id == token_id, m.ApiToken.user == user_id).execute()
        if not deleted:
            raise NotFound(f"no token {token_id}", code="token.not_found")
