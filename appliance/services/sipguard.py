"""The SIP guard: carries out the pure policy of ``appliance.engine.sipguard``.

AMI security events come in through ``on_event`` (from ``Appliance.on_ami_event``); a
``Block`` becomes a ``sip_block`` row and the generated ``pjsip.conf`` reloaded with the
source identified as the refusing endpoint ``cc-blocked`` (see ``confgen.pjsip``); an
``Unblock`` (its time is up, an admin's button, or the address became trusted) ends the
row and reloads again.  A greenlet ticks every second for the blocks whose time is up.
Blocks survive a restart: the rows that have not ended are the policy's starting state
and the generated config's.

The admin's settings (``site_setting`` rows, validated here): ``sip_guard.trusted``,
addresses and subnets never blocked (besides every trunk's own addresses), and
``sip_guard.phone_subnets``, where phones may register and call from (empty: anywhere).
The last ``RECENT_EVENTS`` failures are kept in memory for the page.
"""

from __future__ import annotations

import collections
import datetime as dt
import ipaddress
import logging
import time
from collections.abc import Callable

import gevent

from appliance.confgen.from_db import PHONE_SUBNETS_KEY, TRUSTED_KEY
from appliance.db import models as m
from appliance.engine import sipguard as policy_mod
from appliance.engine.sipguard import Block, GuardPolicy, Unblock
from appliance.errors import FieldError, NotFound, ValidationError

logger = logging.getLogger(__name__)

RECENT_EVENTS = 200


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


def _ts(at: dt.datetime) -> float:
    return at.replace(tzinfo=dt.timezone.utc).timestamp()


def _networks_of(entries) -> list:
    """The IP networks among ``entries`` (a trunk's host and match may be names: skipped)."""
    found = []
    for entry in entries:
        try:
            found.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return found


class SipGuard:
    def __init__(self, db, *, max_failures: int = 10, window_seconds: float = 600.0,
                 block_seconds: float = 3600.0, on_change: Callable[[], None] | None = None,
                 lan_subnets: Callable[[], list[str]] | None = None, clock: Callable[[], float] = time.time):
        if max_failures < 1 or window_seconds <= 0 or block_seconds <= 0:
            raise ValueError("the SIP guard needs at least one failure, and a window and a block time above zero")
        self.db = db
        self.on_change = on_change or (lambda: None)
        self.lan_subnets = lan_subnets or (lambda: [])
        self.clock = clock
        self.policy = GuardPolicy(max_failures=max_failures, window_seconds=window_seconds,
                                  block_seconds=block_seconds)
        self.state = policy_mod.restore({r.address: _ts(r.until) for r in self._active()})
        self.events: collections.deque = collections.deque(maxlen=RECENT_EVENTS)
        self._ticker: gevent.Greenlet | None = None
        self._applying = False
        self._apply_again = False

    # -- what comes in -----------------------------------------------------------------------
    def on_event(self, event: dict) -> None:
        """One AMI event (any): failed SIP authentications count against their source."""
        now = self.clock()
        failure = policy_mod.parse_event(event, now)
        if failure is None:
            return
        self.events.appendleft(failure)
        self.state, commands = policy_mod.on_failure(self.state, failure, self.policy, now)
        self._execute(commands)

    def tick(self) -> None:
        self.state, commands = policy_mod.tick(self.state, self.policy, self.clock())
        self._execute(commands)

    def refresh(self) -> None:
        """The trusted networks again (trunks changed, or the admin's list): a blocked
        source now trusted is let in."""
        trusted = []
        for trunk in m.Trunk.select(m.Trunk.host, m.Trunk.match):
            trusted += _networks_of([trunk.host, *(trunk.match or "").split(",")])
        trusted += _networks_of(self._setting(TRUSTED_KEY).split(","))
        self.policy = GuardPolicy(self.policy.max_failures, self.policy.window_seconds, self.policy.block_seconds,
                                  tuple(trusted))
        self.state, commands = policy_mod.trust(self.state, self.policy)
        self._execute(commands)

    # -- carrying out the policy's commands ----------------------------------------------------
    def _execute(self, commands) -> None:
        changed = False
        for command in commands:
            if isinstance(command, Block):
                with self.db.atomic():
                    m.SipBlock.create(address=command.address, blocked_at=_utc(self.clock()),
                                      until=_utc(command.until), failures=command.failures,
                                      accounts=",".join(command.accounts), kinds=",".join(command.kinds),
                                      first_failure_at=_utc(command.first_at))
                logger.warning("SIP source %s blocked until %s after %d failed authentications (tried: %s)",
                               command.address, _utc(command.until).isoformat(timespec="seconds"),
                               command.failures, ",".join(command.accounts) or "-")
                changed = True
            elif isinstance(command, Unblock):
                changed |= self._end(command.address, command.why)
        if changed:
            self._apply_soon()

    def _end(self, address: str, by: str) -> bool:
        with self.db.atomic():
            ended = (m.SipBlock.update(ended_at=_utc(self.clock()), ended_by=by)
                     .where(m.SipBlock.address == address, m.SipBlock.ended_at.is_null()).execute())
        if ended:
            logger.warning("SIP source %s unblocked (%s)", address, by)
        return bool(ended)

    def _apply_soon(self) -> None:
        """Regenerate and reload, off the caller's greenlet (the AMI reader must not wait on
        its own actions); changes that come while one runs are taken by one more run."""
        if self._applying:
            self._apply_again = True
            return
        self._applying = True
        gevent.spawn(self._apply_loop)

    def _apply_loop(self) -> None:
        try:
            while True:
                self._apply_again = False
                try:
                    self.on_change()
                except Exception:
                    logger.exception("applying the SIP guard's blocks to Asterisk failed")
                if not self._apply_again:
                    return
        finally:
            self._applying = False

    def start(self, interval: float = 1.0) -> None:
        self.refresh()

        def loop():
            while True:
                gevent.sleep(interval)
                try:
                    self.tick()
                except Exception:
                    logger.exception("SIP guard tick failed")

        self._ticker = gevent.spawn(loop)

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.kill()
            self._ticker = None

    # -- what the page and the API read ----------------------------------------------------------
    @staticmethod
    def _active():
        return m.SipBlock.select().where(m.SipBlock.ended_at.is_null()).order_by(m.SipBlock.blocked_at.desc())

    @staticmethod
    def _view(row) -> dict:
        return {"address": row.address, "blocked_at": row.blocked_at, "until": row.until,
                "failures": row.failures, "accounts": [a for a in row.accounts.split(",") if a],
                "kinds": [k for k in row.kinds.split(",") if k], "first_failure_at": row.first_failure_at,
                "ended_at": row.ended_at, "ended_by": row.ended_by}

    def blocks(self) -> list[dict]:
        """The sources blocked now, newest first."""
        return [self._view(r) for r in self._active()]

    def ended(self, limit: int = 20) -> list[dict]:
        """The last blocks that ended, newest first."""
        rows = (m.SipBlock.select().where(m.SipBlock.ended_at.is_null(False))
                .order_by(m.SipBlock.ended_at.desc()).limit(limit))
        return [self._view(r) for r in rows]

    def recent_events(self, limit: int = 50) -> list[dict]:
        """The last failed SIP authentications, newest first."""
        return [{"at": _utc(f.at), "address": f.address, "kind": f.kind, "account": f.account}
                for f in list(self.events)[:limit]]

    # -- what an admin does ------------------------------------------------------------------------
    def unblock(self, address: str, actor: str) -> dict:
        address = (address or "").strip()
        row = m.SipBlock.get_or_none(m.SipBlock.address == address, m.SipBlock.ended_at.is_null())
        if row is None:
            raise NotFound(f"{address} is not blocked", code="sip_guard.not_blocked")
        with self.db.atomic():
            self._end(address, actor)
            m.AuditLog.create(username=actor, action="unblock", object_type="sip_blocks", object_id=address,
                              detail=f"blocked at {row.blocked_at.isoformat(timespec='seconds')} after "
                                     f"{row.failures} failures")
        self.state, _ = policy_mod.unblock(self.state, address)
        self.on_change()  # at once: when the answer comes the source can register again
        return self._view(m.SipBlock.get_by_id(row.id))

    def _setting(self, key: str) -> str:
        row = m.SiteSetting.get_or_none(m.SiteSetting.key == key)
        return row.value if row else ""

    def settings(self) -> dict:
        return {"phone_subnets": [str(n) for n in policy_mod.parse_networks(self._setting(PHONE_SUBNETS_KEY))],
                "trusted": [str(n) for n in policy_mod.parse_networks(self._setting(TRUSTED_KEY))],
                "max_failures": self.policy.max_failures, "window_seconds": self.policy.window_seconds,
                "block_seconds": self.policy.block_seconds, "lan_subnets": self.lan_subnets()}

    def save_settings(self, actor: str, *, phone_subnets=None, trusted=None) -> dict:
        """Either list as text (``"192.168.1.0/24, 10.0.0.5"``) or a list of entries; a bad
        entry changes nothing (422 naming it)."""
        values, errors = {}, {}
        for field, key, given in (("phone_subnets", PHONE_SUBNETS_KEY, phone_subnets),
                                  ("trusted", TRUSTED_KEY, trusted)):
            if given is None:
                continue
            text = ",".join(str(x) for x in given) if isinstance(given, (list, tuple)) else str(given)
            try:
                values[key] = ",".join(str(n) for n in policy_mod.parse_networks(text))
            except ValueError as exc:
                errors[field] = FieldError("field.network", f"'{exc}' is not an IP address or network", item=str(exc))
        if errors:
            raise ValidationError(f"cannot be saved: {next(iter(errors.values()))}", code="sip_guard.bad_network",
                                  fields=errors)
        now = m.utcnow()
        with self.db.atomic():
            for key, value in values.items():
                m.SiteSetting.put(key, value, actor, now)
                m.AuditLog.create(username=actor, action="update", object_type="sip_guard",
                                  object_id=key.split(".", 1)[1], detail=value)
        self.refresh()
        self.on_change()
        return self.settings()
