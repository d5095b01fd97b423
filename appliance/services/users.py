"""People who sign in to the web UI, their passwords, their browser sessions and their
API tokens.

Passwords are stored as scrypt hashes (``scrypt$n$r$p$salt$hash``, base64 parts);
session ids and API tokens are random strings of which only the SHA-256 is stored, so a
copy of the database gives none of them.  Every method returns plain dicts, never a model
with a hash.

scrypt costs ~50-100 ms of CPU and 16 MiB per call: ``hash_password`` and
``verify_password`` run it in native threads (it releases the GIL), at most
``SCRYPT_THREADS`` at once per gevent loop, so sign-ins, member PINs and password changes
never stall the loop that serves FastAGI and AMI (issue 13: 16 guessers on /login had
raised FastAGI's first answer from 1 ms to 500 ms).
"""

from __future__ import annotations

import base64
import hashlib
import datetime as dt
import functools
import hmac
import json
import logging
import re
import secrets
import time
from typing import NamedTuple

from gevent._hub_local import get_hub_if_exists  # what gevent's own threadpool asks; not in gevent's public names
from gevent.threadpool import ThreadPool

from appliance.db import models as m
from appliance.errors import Conflict, FieldError, NotFound, ValidationError
from appliance.services import token_scopes
from appliance.services.signin import ADDRESS, Rule, SignInGuard, account_key

logger = logging.getLogger(__name__)

ROLES = ("admin", "supervisor", "agent")
LANGUAGES = ("zh_CN", "en")
MIN_PASSWORD = 8
_USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
SCRYPT_COST = {"n": 2**14, "r": 8, "p": 1}  # a new hash's work; a stored hash carries its own
SCRYPT_THREADS = 1  # scrypt calls at once per loop: of the 2 cores one stays for the loop (and Asterisk)
TOKEN_MAX_DAYS = 3650
LAST_USED_GRAIN = dt.timedelta(seconds=60)  # a token's last use is written at most this often: not a write per call
REFUSAL_QUIET = 600.0  # seconds: a token refused again from the same address is not audited again before
_pools: dict = {}  # gevent hub -> its scrypt ThreadPool (one per loop; a process has one loop)


def off_loop(fn, *args):
    """``fn(*args)`` in a native thread of this loop's scrypt pool; the calling greenlet
    waits, the loop runs on.  In a thread with no gevent loop (a worker of a thread pool,
    e.g. the customer import hashing PINs) it runs right there: nothing waits on that thread."""
    hub = get_hub_if_exists()
    if hub is None:
        return fn(*args)
    pool = _pools.get(hub)
    if pool is None:
        pool = _pools[hub] = ThreadPool(SCRYPT_THREADS, hub=hub)
    return pool.apply(fn, args)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen)


def hash_password(password: str, *, salt: bytes | None = None, n: int | None = None, r: int | None = None,
                  p: int | None = None) -> str:
    """A new scrypt hash at ``SCRYPT_COST`` (read at each call) unless told otherwise."""
    n, r, p = n or SCRYPT_COST["n"], r or SCRYPT_COST["r"], p or SCRYPT_COST["p"]
    salt = salt or secrets.token_bytes(16)
    digest = off_loop(_scrypt, password, salt, n, r, p, 32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = off_loop(_scrypt, password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        logger.error("a stored password hash is unreadable; refusing the sign-in")
        return False
    return hmac.compare_digest(got, expected)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _session_sql() -> str:
    """A web session by its token's hash, with its user's ``_view`` fields, in one statement."""
    session, user = m.WebSession, m.User
    return (f'SELECT u."id", u."username", u."role", u."language", u."active", s."id", s."csrf", '
            f's."expires_at", s."last_seen_at" FROM "{session._meta.table_name}" AS s '
            f'JOIN "{user._meta.table_name}" AS u ON s."{session.user.column_name}" = u."id" '
            f'WHERE s."token_hash" = ?')


def _view(user: m.User) -> dict:
    return {"id": user.id, "username": user.username, "role": user.role, "language": user.language,
            "active": user.active}


def _one_of(choices) -> FieldError:
    return FieldError("field.choice", f"one of {', '.join(choices)}", choices=", ".join(choices))


def _check_password(password) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError(f"a password needs at least {MIN_PASSWORD} characters", code="user.weak_password",
                              fields={"password": FieldError("field.min_length", f"at least {MIN_PASSWORD} characters",
                                                             n=MIN_PASSWORD)})


class TokenGrant(NamedTuple):
    """A valid token: its owner (as ``_view``), its id, its scopes (none: the owner's full
    role) and the networks it may be used from (none: any)."""

    user: dict
    token_id: int
    scopes: tuple[str, ...]
    addresses: tuple[str, ...]


class UserService:
    def __init__(self, db, guard: SignInGuard | None = None):
        self.db = db
        self.guard = guard or SignInGuard(db)
        self._refusals: dict[tuple[int, str], float] = {}  # (token id, source) -> when last audited

    def create(self, username: str, password: str, role: str, language: str = "zh_CN", actor: str = "") -> dict:
        """A new account; with ``actor`` (an admin on the users page or API) it is audited."""
        fields = {}
        if not isinstance(username, str) or not _USERNAME_RE.fullmatch(username):
            fields["username"] = FieldError("field.username", "letters, digits and _ . @ - only, at most 64")
        if role not in ROLES:
            fields["role"] = _one_of(ROLES)
        if language not in LANGUAGES:
            fields["language"] = _one_of(LANGUAGES)
        if fields:
            raise ValidationError("the user cannot be created as given", code="user.invalid", fields=fields)
        _check_password(password)
        password_hash = hash_password(password)  # before the write lock: scrypt takes a while
        with self.db.atomic():
            if m.User.select().where(m.User.username == username).exists():
                raise Conflict(f"a user named {username} already exists", code="user.exists",
                               fields={"username": FieldError("field.exists", "already taken")})
            user = m.User.create(username=username, password_hash=password_hash, role=role,
                                 language=language)
            if actor:
                m.AuditLog.create(username=actor, action="create", object_type="users", object_id=username,
                                  detail=json.dumps({"role": role, "language": language}, sort_keys=True))
        logger.info("user %s created with role %s", username, role)
        return _view(user)

    def authenticate(self, username: str, password: str) -> dict | None:
        """Whether ``password`` is this active account's, unthrottled and unaudited: for checks
        that are not someone signing in (the wizard's "not the old password", the console's
        first-password banner).  People signing in go through ``sign_in``."""
        user = m.User.get_or_none(m.User.username == username)
        if user is None:
            hash_password(password or "")  # same work either way: no user enumeration by timing
            return None
        if not user.active or not verify_password(password or "", user.password_hash):
            return None
        return _view(user)

    def sign_in(self, username: str, password: str, source: str, *, via: str = "web",
                source_rule: Rule = ADDRESS, roles=ROLES, forgive_source: bool = False) -> dict | None:
        """Someone signing in from ``source`` (``addr:<ip>``, ``console:<device>``): the account,
        or None for a wrong password (or a role not in ``roles``, or an account switched off);
        raises ``SignInLocked`` (429) while the account or the source is locked, whatever the
        password, and when this failure locks one of them.  Failures and locks are audited.
        A success ends the account's count, the source's too with ``forgive_source`` (the
        console: "wrong passwords in a row"; never an address, where one good account must
        not wipe the count of guesses at others)."""
        self.guard.check(username, source)
        user = self.authenticate(username, password)
        if user is None or user["role"] not in roles:
            logger.info("sign-in refused for %r from %s (%s)", username, source, via)
            self.guard.failed(username, source, source_rule, via)
            return None
        self.guard.succeeded(username, source if forgive_source else None)
        return user

    def get(self, user_id: int) -> dict | None:
        user = m.User.get_or_none(m.User.id == user_id)
        return _view(user) if user else None

    # -- web sessions: the cookie holds a random id, the database its SHA-256; logout, a new
    # password and switching the account off delete the rows, so a copied cookie dies with them
    def start_session(self, user_id: int, seconds: int, *, user_agent: str = "", address: str = "") -> tuple[str, str]:
        """A new session for the user: ``(cookie value, CSRF token)``."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = m.utcnow()
        self.prune_sessions()  # the table holds live sessions only
        m.WebSession.create(user=user_id, token_hash=_token_hash(token), csrf=csrf, created_at=now, last_seen_at=now,
                            expires_at=now + dt.timedelta(seconds=seconds), user_agent=(user_agent or "")[:255],
                            address=(address or "")[:64])
        return token, csrf

    def session(self, token: str | None) -> tuple[dict, str] | None:
        """``(the user, the CSRF token)`` of a live session of an active account, or None.
        Every signed-in request asks, on the loop: one fixed statement (``_session_sql``), not
        a select peewee builds again each time."""
        if not token or not isinstance(token, str) or len(token) > 128:
            return None
        row = m.database.execute_sql(_session_sql(), (_token_hash(token),)).fetchone()
        if row is None:
            return None
        user_id, username, role, language, active, session_id, csrf, expires_at, last_seen_at = row
        now = m.utcnow()
        if m.WebSession.expires_at.python_value(expires_at) <= now or not m.User.active.python_value(active):
            return None
        if (now - m.WebSession.last_seen_at.python_value(last_seen_at)).total_seconds() > 60:  # a write a minute
            m.WebSession.update(last_seen_at=now).where(m.WebSession.id == session_id).execute()
        return {"id": user_id, "username": username, "role": role, "language": language, "active": True}, csrf

    def end_session(self, token: str | None) -> None:
        if token and isinstance(token, str):
            m.WebSession.delete().where(m.WebSession.token_hash == _token_hash(token)).execute()

    def end_sessions(self, user_id: int) -> int:
        """Every session of the user (a new password, the account switched off)."""
        ended = m.WebSession.delete().where(m.WebSession.user == user_id).execute()
        if ended:
            logger.info("%d web sessions of user %s ended", ended, user_id)
        return ended

    def prune_sessions(self) -> int:
        return m.WebSession.delete().where(m.WebSession.expires_at <= m.utcnow()).execute()

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
                                  fields={"language": _one_of(LANGUAGES)})
        user = self._user(id=user_id)
        user.language = language
        user.save()

    def own_extension(self, user_id: int) -> str:
        """The user's own phone, which the wallboard rings to listen in ('' if not named)."""
        return self._user(id=user_id).own_extension

    def set_own_extension(self, user_id: int, extension) -> str:
        """Name the user's own phone: the extension of a configured phone, or '' for none."""
        extension = extension.strip() if isinstance(extension, str) else None
        if extension is None or (extension and not m.Phone.select().where(m.Phone.extension == extension).exists()):
            raise ValidationError(f"no phone has the extension {extension!r}", code="user.invalid",
                                  fields={"phone": FieldError("wallboard.phone_unknown",
                                                              "not the extension of a configured phone")})
        user = self._user(id=user_id)
        user.own_extension = extension
        user.save()
        logger.info("user %s: own extension %s", user.username, extension or "(none)")
        return extension

    def update(self, username: str, changes: dict, actor: str) -> dict:
        """An admin changes another account: ``role``, ``active``, ``language`` and/or a new
        ``password``.  Nobody changes their own role or switches themselves off, and the
        last active admin stays an active admin (nobody could configure anything after)."""
        unknown = sorted(set(changes) - {"role", "active", "language", "password"})
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]}", code="user.invalid", fields={
                k: FieldError("field.unknown", "unknown field") for k in unknown})
        fields = {}
        if "role" in changes and changes["role"] not in ROLES:
            fields["role"] = _one_of(ROLES)
        if "language" in changes and changes["language"] not in LANGUAGES:
            fields["language"] = _one_of(LANGUAGES)
        if "active" in changes and not isinstance(changes["active"], bool):
            fields["active"] = FieldError("field.boolean", "true or false")
        if fields:
            raise ValidationError("the user cannot be changed as given", code="user.invalid", fields=fields)
        new_password = changes.get("password") is not None
        if new_password:
            _check_password(changes["password"])
        new_hash = hash_password(changes["password"]) if new_password else None  # before the write lock
        with self.db.atomic():
            user = self._user(username=username)
            role = changes.get("role", user.role)
            active = changes.get("active", user.active)
            if username == actor and (role != user.role or not active):
                raise Conflict("you cannot change your own role or switch yourself off", code="user.self",
                               fields={"role" if role != user.role else "active": FieldError("field.own_account",
                                                                                       "not for your own account")})
            if user.role == "admin" and user.active and (role != "admin" or not active):
                others = m.User.select().where(m.User.role == "admin", m.User.active == True,  # noqa: E712
                                               m.User.id != user.id).count()
                if not others:
                    raise Conflict("the last active admin must stay one", code="user.last_admin",
                                   fields={"role": FieldError("field.last_admin", "the last active admin")})
            user.role, user.active = role, active
            user.language = changes.get("language", user.language)
            detail = {k: ("(set)" if k == "password" else v) for k, v in changes.items()}
            if new_hash:
                user.password_hash = new_hash
            user.save()
            if new_password or not active:
                # a new password or an account switched off ends every session (the web layer
                # signs an admin who changed their own password in again on this browser)
                detail["sessions_ended"] = self.end_sessions(user.id)
            if new_password and username != actor:
                # an admin's reset: whoever held the old password may have made tokens with it
                detail["tokens_revoked"] = self.revoke_all_tokens(user.id)
            if new_password:
                m.LoginThrottle.delete().where(m.LoginThrottle.key == account_key(username)).execute()
            m.AuditLog.create(username=actor, action="update", object_type="users", object_id=username,
                              detail=json.dumps(detail, sort_keys=True))
        logger.info("%s changed user %s: %s", actor, username, sorted(changes))
        return _view(user)

    def set_password(self, username: str, password: str, *, actor: str = "", end_tokens: bool = True) -> None:
        """A new password (the serial console's reset, the first-run wizard): ends every
        session of the account, its API tokens too unless ``end_tokens`` is false (the user
        choosing their own), and its sign-in lock.  Audited."""
        _check_password(password)
        new_hash = hash_password(password)
        with self.db.atomic():
            user = self._user(username=username)
            user.password_hash = new_hash
            user.save()
            detail = {"password": "(set)", "sessions_ended": self.end_sessions(user.id)}
            if end_tokens:
                detail["tokens_revoked"] = self.revoke_all_tokens(user.id)
            m.LoginThrottle.delete().where(m.LoginThrottle.key == account_key(username)).execute()
            m.AuditLog.create(username=actor or username, action="update", object_type="users", object_id=username,
                              detail=json.dumps(detail, sort_keys=True))
        logger.info("password of %s changed", username)

    def ensure_admin(self, username: str = "admin") -> str | None:
        """Create the first admin with a random password, unless an admin exists; return it."""
        if m.User.select().where(m.User.role == "admin").exists():
            return None
        password = secrets.token_urlsafe(12)
        self.create(username, password, "admin")
        return password

    # -- API tokens ----------------------------------------------------------
    def create_token(self, user_id: int, name: str, expires_in_days=None, *, scopes=None, addresses=None) -> str:
        """A new token; ``expires_in_days`` (1 to 3650) ends it by itself, None: until revoked.
        ``scopes`` limit what it reaches within its owner's role (none: the full role) and
        ``addresses`` where it may be used from (none: anywhere): ``services/token_scopes.py``."""
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ValidationError("a token needs a name (at most 64 characters)", code="token.invalid",
                                  fields={"name": FieldError("field.required_max_length", "required, at most 64 characters",
                                                         n=64)})
        expires_at = None
        if expires_in_days not in (None, ""):
            days = expires_in_days
            if isinstance(days, str) and days.strip().isdigit() and len(days.strip()) <= 5:
                days = int(days)
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= TOKEN_MAX_DAYS:
                raise ValidationError(f"expires_in_days: a whole number of days from 1 to {TOKEN_MAX_DAYS}",
                                      code="token.invalid",
                                      fields={"expires_in_days": FieldError(
                                          "field.days_or_none", f"a whole number from 1 to {TOKEN_MAX_DAYS}, or null",
                                          n=TOKEN_MAX_DAYS)})
            expires_at = m.utcnow() + dt.timedelta(days=days)
        scopes, addresses = token_scopes.parse_scopes(scopes), token_scopes.parse_addresses(addresses)
        user = self._user(id=user_id)
        token = "cc_" + secrets.token_urlsafe(32)
        m.ApiToken.create(user=user, name=name.strip(), token_hash=_token_hash(token), expires_at=expires_at,
                          scopes=" ".join(scopes), addresses=" ".join(addresses))
        logger.info("API token %r created for %s (expires %s, scopes %s, addresses %s)", name, user.username,
                    expires_at or "never", " ".join(scopes) or "all", " ".join(addresses) or "any")
        return token

    def user_for_token(self, token: str) -> dict | None:
        found = self.token_owner(token)
        return found[0] if found else None

    def token_owner(self, token: str) -> tuple[dict, int] | None:
        """(the user, the token's id) of a valid token, or None; marks the token used."""
        found = self.token_grant(token)
        return (found.user, found.token_id) if found else None

    def token_grant(self, token: str) -> TokenGrant | None:
        """Who a valid token acts for and what it is limited to, or None; marks it used (to
        the minute: a program calling many times a second costs no write each time)."""
        if not token:
            return None
        row = (m.ApiToken.select(m.ApiToken, m.User).join(m.User)
               .where(m.ApiToken.token_hash == _token_hash(token)).first())
        now = m.utcnow()
        if row is None or not row.user.active or (row.expires_at is not None and row.expires_at <= now):
            return None
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRAIN:
            m.ApiToken.update(last_used_at=now).where(m.ApiToken.id == row.id).execute()
        return TokenGrant(_view(row.user), row.id, tuple(row.scopes.split()), tuple(row.addresses.split()))

    def token_refused(self, grant: TokenGrant, source: str) -> None:
        """A token used from an address outside its list: audited (the owner, the token's id
        and the source; never the token), once per token and source every ``REFUSAL_QUIET``."""
        key, now = (grant.token_id, source), time.monotonic()
        if now - self._refusals.get(key, -REFUSAL_QUIET) < REFUSAL_QUIET:
            return
        if len(self._refusals) > 1000:
            self._refusals.clear()
        self._refusals[key] = now
        logger.warning("API token %s of %s refused from %s: outside its addresses", grant.token_id,
                       grant.user["username"], source)
        m.AuditLog.create(username=grant.user["username"], action="refused", object_type="api_tokens",
                          object_id=str(grant.token_id), detail=json.dumps({"source": source[:64]}))

    def list_tokens(self, user_id: int) -> list[dict]:
        def iso(value):
            return value.isoformat(timespec="seconds") + "Z" if value else None

        now = m.utcnow()
        return [{"id": t.id, "name": t.name, "created_at": iso(t.created_at), "last_used_at": iso(t.last_used_at),
                 "expires_at": iso(t.expires_at), "expired": t.expires_at is not None and t.expires_at <= now,
                 "scopes": t.scopes.split(), "addresses": t.addresses.split()}
                for t in m.ApiToken.select().where(m.ApiToken.user == user_id).order_by(m.ApiToken.id)]

    def revoke_token(self, user_id: int, token_id: int) -> None:
        deleted = m.ApiToken.delete().where(m.ApiToken.id == token_id, m.ApiToken.user == user_id).execute()
        if not deleted:
            raise NotFound(f"no token {token_id}", code="token.not_found")

    def revoke_all_tokens(self, user_id: int) -> int:
        revoked = m.ApiToken.delete().where(m.ApiToken.user == user_id).execute()
        if revoked:
            logger.info("%d API tokens of user %s revoked", revoked, user_id)
        return revoked
