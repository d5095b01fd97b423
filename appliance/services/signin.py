"""Sign-in throttling: failed passwords counted per account and per source, locks that
grow, kept in the database so that neither a restart nor a second process forgets them.

The web UI (``POST /login``) and the serial console sign in through ``SignInGuard``:

- per account (``user:<name>``, whether or not the account exists, so a lock says nothing
  about which names are real): ``ACCOUNT`` failures within its window lock the name;
- per source (``addr:<ip>`` for the web, ``console:<device>`` for the console): a higher
  threshold on the web (one office behind one address), the console's own (3 in a row);
- each lock lasts twice as long as the key's previous one, up to a cap; a day without
  failures forgets the earlier locks;
- while a key is locked no password is checked at all, the right one neither (and no scrypt
  is spent on it); a correct password ends the account's count, never the source's (one
  good account must not reset an address guessing at others).

Every failure (with its source) and every lock goes in the audit log, as does an admin
clearing a lock.  Refusals during a lock are only logged: an attacker cannot flood the
audit log faster than the thresholds allow.

``after_failure`` and ``locked_until`` are the pure core (times in seconds); the guard
is the adapter over ``login_throttle`` and ``audit_log``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass, replace

from appliance.db import models as m
from appliance.errors import DomainError, NotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    failures: int  # this many failures within ``window`` seconds lock the key
    window: float
    lock: float  # the first lock, in seconds; each next one doubles
    max_lock: float
    forget: float = 86400.0  # no failure for this long: earlier locks are forgotten


ACCOUNT = Rule(failures=5, window=900, lock=300, max_lock=3600)
ADDRESS = Rule(failures=20, window=900, lock=900, max_lock=4 * 3600)


def console_rule(max_failures: int = 3, lockout_seconds: float = 60.0) -> Rule:
    """The serial console's source: a few wrong passwords in a row at the port."""
    return Rule(failures=max_failures, window=900, lock=lockout_seconds, max_lock=max(lockout_seconds, 3600))


@dataclass(frozen=True)
class Count:
    failures: int = 0
    first_failure_at: float = 0.0
    last_failure_at: float = 0.0
    locked_until: float | None = None
    lockouts: int = 0


def locked_until(count: Count | None, now: float) -> float | None:
    """When the key's lock ends, if it is locked now (pure)."""
    if count is None or count.locked_until is None or count.locked_until <= now:
        return None
    return count.locked_until


def after_failure(count: Count | None, now: float, rule: Rule) -> Count:
    """The key's count after one more failed password (pure).  A failure refused during a
    lock changes nothing: the lock is not extended by knocking on it."""
    count = count or Count()
    if locked_until(count, now) is not None:
        return count
    lockouts = 0 if now - count.last_failure_at > rule.forget else count.lockouts
    if not count.failures or now - count.first_failure_at > rule.window:
        count = replace(count, failures=0, first_failure_at=now)
    failures = count.failures + 1
    if failures >= rule.failures:
        lock = min(rule.lock * 2 ** lockouts, rule.max_lock)
        return Count(0, now, now, now + lock, lockouts + 1)
    return Count(failures, count.first_failure_at, now, None, lockouts)


class SignInLocked(DomainError):
    """Too many wrong passwords: ``until`` (UTC, naive) is when to try again."""

    code = "login.locked"
    http_status = 429

    def __init__(self, until: dt.datetime, now: dt.datetime | None = None, *, keys: tuple[str, ...] = (),
                 new: bool = False):
        self.until = until
        self.keys = keys  # which are locked: the account's, the source's or both
        self.new = new  # this very failure locked them (else they were locked already)
        self.retry_after = max(1, int(((until - (now or m.utcnow())).total_seconds()) + 0.999))
        super().__init__(f"too many failed sign-ins; try again after {until.isoformat(timespec='seconds')}Z "
                         f"(in {self.retry_after} s)", fields={})


def _to_dt(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)


def _to_s(value: dt.datetime | None) -> float | None:
    return None if value is None else value.replace(tzinfo=dt.timezone.utc).timestamp()


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")  # users.py's pattern for account names


def account_key(username: str) -> str | None:
    """The account's key, or None for text that cannot be an account's name (only the
    source counts those: that says nothing about which names exist)."""
    return "user:" + username if isinstance(username, str) and _NAME.fullmatch(username) else None


class SignInGuard:
    """The throttle over the database.  ``clock`` gives seconds since the epoch (tests move it)."""

    def __init__(self, db, *, account: Rule = ACCOUNT, clock=time.time):
        self.db = db
        self.account = account
        self.clock = clock

    # -- reading -----------------------------------------------------------------------
    def _count(self, key: str) -> Count | None:
        row = m.LoginThrottle.get_or_none(m.LoginThrottle.key == key)
        if row is None:
            return None
        return Count(row.failures, _to_s(row.first_failure_at), _to_s(row.last_failure_at), _to_s(row.locked_until),
                     row.lockouts)

    def check(self, username: str, source: str) -> None:
        """Raises ``SignInLocked`` if the account or the source is locked now."""
        now = self.clock()
        ends = {key: u for key in (account_key(username), source) if key and (u := locked_until(self._count(key), now))}
        if ends:
            logger.info("sign-in for %r from %s refused unchecked: locked", username, source)
            raise SignInLocked(_to_dt(max(ends.values())), _to_dt(now), keys=tuple(ends))

    def locked(self, key: str) -> dt.datetime | None:
        """When ``key``'s lock ends (UTC, naive), if it is locked now."""
        return _to_dt(locked_until(self._count(key), self.clock()))

    # -- writing -----------------------------------------------------------------------
    def failed(self, username: str, source: str, source_rule: Rule, via: str) -> None:
        """One wrong password for ``username`` from ``source``: counted, audited; raises
        ``SignInLocked`` if that locked the account or the source."""
        now = self.clock()
        locks = {}
        with self.db.atomic():
            self.prune()  # counts nobody has added to for a day go: the table stays small
            m.AuditLog.create(username=(username or "-")[:64], action="login_failed", object_type="sign_in",
                              object_id=(username or "-")[:64], detail=json.dumps({"source": source, "via": via}))
            for key, rule in ((account_key(username), self.account), (source, source_rule)):
                if key is None:
                    continue
                before = self._count(key)
                after = after_failure(before, now, rule)
                m.LoginThrottle.replace(key=key, failures=after.failures,
                                        first_failure_at=_to_dt(after.first_failure_at),
                                        last_failure_at=_to_dt(after.last_failure_at),
                                        locked_until=_to_dt(after.locked_until), lockouts=after.lockouts).execute()
                if after.locked_until is not None and locked_until(before, now) is None:
                    seconds = int(after.locked_until - now)
                    locks[key] = after.locked_until
                    m.AuditLog.create(username=(username or "-")[:64], action="lockout", object_type="sign_in",
                                      object_id=key[:64],
                                      detail=json.dumps({"source": source, "via": via, "seconds": seconds,
                                                         "until": _to_dt(after.locked_until).isoformat() + "Z"}))
                    logger.warning("sign-in locked: %s for %d s after %d failures (last from %s via %s)", key,
                                   seconds, rule.failures, source, via)
        if locks:
            raise SignInLocked(_to_dt(max(locks.values())), _to_dt(now), keys=tuple(locks), new=True)

    def succeeded(self, username: str, source: str | None = None) -> None:
        """A correct password: the account's count starts again; the source's only when
        given (the serial console: whoever signs in there is in already)."""
        keys = [k for k in (account_key(username), source) if k]
        m.LoginThrottle.delete().where(m.LoginThrottle.key.in_(keys)).execute()

    # -- for admins --------------------------------------------------------------------
    def lockouts(self) -> list[dict]:
        """Keys locked now, the longest first: ``{"key", "kind", "name", "until", "lockouts"}``."""
        now = _to_dt(self.clock())
        rows = (m.LoginThrottle.select().where(m.LoginThrottle.locked_until > now)
                .order_by(m.LoginThrottle.locked_until.desc()))
        out = []
        for r in rows:
            kind, _, name = r.key.partition(":")
            out.append({"key": r.key, "kind": kind, "name": name, "until": r.locked_until.isoformat(timespec="seconds")
                        + "Z", "lockouts": r.lockouts})
        return out

    def locked_accounts(self) -> dict[str, str]:
        """Account name -> when its lock ends, for the accounts page."""
        return {x["name"]: x["until"] for x in self.lockouts() if x["kind"] == "user"}

    def clear(self, key: str, actor: str) -> None:
        """An admin (or the console's password reset) ends a lock and its count."""
        with self.db.atomic():
            deleted = m.LoginThrottle.delete().where(m.LoginThrottle.key == key).execute()
            if not deleted:
                raise NotFound(f"no sign-in lock {key!r}", code="lockout.not_found")
            m.AuditLog.create(username=actor[:64], action="unlock", object_type="sign_in", object_id=key[:64],
                              detail="")
        logger.warning("%s cleared the sign-in lock of %s", actor, key)

    def prune(self) -> int:
        """Forget counts with no lock and no failure for a day (called now and then)."""
        old = _to_dt(self.clock() - ACCOUNT.forget)
        return m.LoginThrottle.delete().where(m.LoginThrottle.last_failure_at < old,
                                              (m.LoginThrottle.locked_until.is_null())
                                              | (m.LoginThrottle.locked_until < old)).execute()
