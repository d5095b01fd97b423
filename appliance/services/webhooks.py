"""Signed webhooks: outside systems (a CRM, a shop, a ticketing system) told of events by
HTTP POST (issue 22 points 1 and 3).  See docs/webhooks.md for what a receiver gets.

- **Subscriptions**: a URL (http or https), the event types it wants (``EVENT_TYPES``), a
  per-subscription secret (shown once, rotatable), active or not.  A URL that points at the
  appliance itself, or whose name resolves to a loopback, link-local, unspecified or
  multicast address or to one of the box's own addresses, is refused when saved AND before
  each delivery (DNS can change); the delivery then connects to the address that was checked
  (no second lookup a rebinding name could answer differently).
- **The outbox** is the ``webhook_delivery`` table (the mail outbox is the model, but rows:
  one per subscription and event, written when the event is published, so a restart loses
  nothing).  The body is fixed when queued: ``{id, type, created_at, data}``.
- **The worker** (``start``) is one native thread (a gevent ``ThreadPool(1)``) with blocking
  ``http.client``: a receiver that is slow or never answers holds that thread only, never the
  loop that routes calls.  It tries what is due every second:

  * 2xx: delivered;
  * anything else (refused, a timeout, a 500, an address now refused): tried again after
    30 s, 1, 2, 4 ... minutes, at most an hour apart, until ``retry_hours`` (24 h) have passed
    since the event; then failed for good;
  * a call's events go in order: while an earlier event of the same call (``order_key``) to
    the same subscription is not delivered, the later ones wait.

- **Bounded**: the connection and each read time out after ``timeout`` s; the receiver's
  answer is read for its status and at most ``ANSWER_BYTES`` of its body (a 1 GB answer is
  never read).

Signature: ``X-CC-Webhook-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` under
the subscription's secret, with ``X-CC-Webhook-Timestamp`` (epoch seconds, at sending) and
``X-CC-Webhook-Id`` (the event's id, the same on every try: receivers de-duplicate on it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets as secrets_mod
import socket
import ssl
import time
import uuid
from typing import Callable, Iterable
from urllib.parse import urlsplit

from peewee import fn

from appliance.db import models as m
from appliance.errors import FieldError, NotFound, ValidationError
from appliance.services.voicemail import KEY_SUFFIX as VOICEMAIL_SUFFIX

logger = logging.getLogger(__name__)

# What a subscription may ask for; each is published by the service that owns it (see
# ``WebhookService.published`` for the bus topics they come from).
EVENT_TYPES = ("call.offered", "call.answered", "call.ended", "recording.ready", "voicemail.left", "fax.received",
               "fax.sent", "fax.failed", "survey.scored", "customer.created", "customer.changed", "order.created", "order.changed",
               "workorder.created", "workorder.changed", "campaign.result", "webhook.test")
# the campaign publications that are an outcome (not a campaign's state or a dial starting)
CAMPAIGN_RESULTS = ("attempt", "finished", "refused", "amd", "heard", "answer", "survey")
FIRST_RETRY_SECONDS = 30.0
KEEP_DAYS = 7  # delivered and failed rows are kept this long for the page, then deleted
LAST_RETRY_SECONDS = 3600.0
ANSWER_BYTES = 1024  # of a receiver's answer body: kept (shortened) as the error when not 2xx
MAX_URL = 2000
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


# -- addresses ---------------------------------------------------------------------------
def refused_address(ip: str, own: Iterable[str] = (), allowed: Iterable[str] = ()) -> str:
    """Why a webhook may not go to ``ip`` ("" when it may): the appliance itself (loopback,
    its own addresses), link-local (cloud metadata at 169.254.169.254), unspecified, multicast."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if getattr(addr, "ipv4_mapped", None) is not None:
        addr = addr.ipv4_mapped
    if any(addr in ipaddress.ip_network(n, strict=False) for n in allowed):
        return ""
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link_local"
    if addr.is_unspecified or addr.is_multicast:
        return "unspecified"
    if str(addr) in {str(ipaddress.ip_address(a.split("%", 1)[0])) for a in own}:
        return "own_address"
    return ""


def own_addresses() -> list[str]:
    """Every address on the box's interfaces (empty when they cannot be read)."""
    try:
        from pyroute2 import IPRoute

        with IPRoute() as ipr:
            return [a.get_attr("IFA_ADDRESS") for a in ipr.get_addr() if a.get_attr("IFA_ADDRESS")]
    except Exception:
        logger.exception("webhooks: the box's own addresses cannot be read")
        return []


def _url_error(english: str, msgid: str, **params) -> ValidationError:
    return ValidationError(english, code="webhooks.bad_url",
                           fields={"url": FieldError(msgid, english, **params)})


class UrlGuard:
    """Checks a subscription's URL and says where to connect: ``check(url) -> (host, port, ip)``."""

    def __init__(self, own: Callable[[], list[str]] = own_addresses, resolve=socket.getaddrinfo,
                 allowed: Iterable[str] = ()):
        self.own = own
        self.resolve = resolve
        # networks let through anyway: for tests with a receiver on loopback only
        self.allowed = tuple(allowed)

    def check(self, url: str) -> tuple[str, int, str]:
        if len(url) > MAX_URL:
            raise _url_error(f"at most {MAX_URL} characters", "webhooks.url_too_long", n=MAX_URL)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise _url_error("not a URL", "webhooks.url_not_http") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _url_error("only http:// and https:// URLs", "webhooks.url_not_http")
        if parts.username or parts.password:
            raise _url_error("no user name or password in the URL", "webhooks.url_credentials")
        host = parts.hostname
        port = port or (443 if parts.scheme == "https" else 80)
        if host.rstrip(".").lower() in ("localhost", socket.gethostname().lower()):
            raise _url_error("the URL points at the appliance itself", "webhooks.url_refused", host=host)
        try:
            found = self.resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise _url_error(f"{host} cannot be resolved", "webhooks.url_unresolved", host=host) from None
        ips = [info[4][0] for info in found]
        if not ips:
            raise _url_error(f"{host} cannot be resolved", "webhooks.url_unresolved", host=host)
        own = self.own()
        for ip in ips:
            if refused_address(ip, own, self.allowed):
                raise _url_error(f"{host} is the appliance itself or a loopback or link-local address ({ip})",
                                 "webhooks.url_refused", host=f"{host} ({ip})")
        return host, port, ips[0]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``b"<timestamp>." + body``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def retry_delay(attempts: int) -> float:
    """After the ``attempts``-th failed try: 30 s, 60 s, 120 s ... at most an hour."""
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LAST_RETRY_SECONDS)


class _Pinned(http.client.HTTPConnection):
    """Connects to the address the guard checked, whatever the name resolves to now."""

    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedTls(http.client.HTTPSConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Refused(Exception):
    """Not delivered this time (the reason is the error kept on the row); ``unreachable``
    when nothing answered (no connection, a timeout, an address now refused), as opposed to
    a receiver that answered something other than 2xx."""

    def __init__(self, reason: str, unreachable: bool = True):
        super().__init__(reason)
        self.unreachable = unreachable


def post(url: str, headers: dict, body: bytes, guard: UrlGuard, timeout: float) -> int:
    """POST ``body``; the receiver's status (2xx), or ``Refused`` with why not."""
    try:
        host, port, ip = guard.check(url)
    except ValidationError as exc:
        raise Refused(str(exc.fields.get("url") or exc)) from None
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = (_PinnedTls if parts.scheme == "https" else _Pinned)(host, port, ip, timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        status = answer.status
        text = answer.read(ANSWER_BYTES) if not 200 <= status < 300 else b""
    except socket.timeout:
        raise Refused(f"no answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise Refused(f"cannot reach the receiver: {getattr(exc, 'strerror', None) or exc}") from None
    finally:
        conn.close()  # never reads the rest of a long answer
    if not 200 <= status < 300:
        snippet = text.decode("utf-8", "replace").strip()[:200]
        raise Refused(f"HTTP {status}" + (f": {snippet}" if snippet else ""), unreachable=False)
    return status


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _events(value) -> list[str]:
    wanted = [e.strip() for e in (value.split(",") if isinstance(value, str) else (value or [])) if e.strip()]
    bad = [e for e in wanted if e not in EVENT_TYPES]
    if bad or not wanted:
        english = f"unknown event type: {bad[0]}" if bad else "choose at least one event type"
        raise ValidationError(english, code="webhooks.bad_events",
                              fields={"events": FieldError("webhooks.unknown_event" if bad else "webhooks.no_events",
                                                           english, item=bad[0] if bad else "")})
    return [e for e in EVENT_TYPES if e in wanted]


class WebhookService:
    def __init__(self, db, *, guard: UrlGuard | None = None, clock=time.time, timeout: float = 10.0,
                 retry_hours: float = 24.0, recording_url: Callable[[str], str] | None = None):
        self.db = db
        self.guard = guard or UrlGuard()
        self.clock = clock
        self.timeout = timeout
        self.retry_hours = retry_hours
        # the link a receiver fetches a call's recording from (the API; it takes a token)
        self.recording_url = recording_url or (lambda linkedid: f"/api/v1/recordings/{linkedid}/audio")
        self._wanted: dict[str, list[int]] | None = None  # event type -> active subscription ids
        self._stopped = False
        self.thread = None

    # -- subscriptions ------------------------------------------------------------------
    @staticmethod
    def _view(sub, secret: bool = False) -> dict:
        out = {"id": sub.id, "url": sub.url, "events": sub.events.split(","), "active": bool(sub.active),
               "created_at": sub.created_at.isoformat(timespec="seconds") + "Z", "created_by": sub.created_by}
        if secret:
            out["secret"] = sub.secret
        return out

    def subscriptions(self) -> list[dict]:
        subs = list(m.WebhookSubscription.select().order_by(m.WebhookSubscription.id))
        counts = {}
        for row in (m.WebhookDelivery.select(m.WebhookDelivery.subscription, m.WebhookDelivery.state,
                                             fn.COUNT(m.WebhookDelivery.id).alias("n"))
                    .group_by(m.WebhookDelivery.subscription, m.WebhookDelivery.state).dicts()):
            counts.setdefault(row["subscription"], {})[row["state"]] = row["n"]
        failing = self._failing(self.clock())
        return [{**self._view(s), "pending": counts.get(s.id, {}).get(PENDING, 0),
                 "delivered": counts.get(s.id, {}).get(DELIVERED, 0),
                 "failed": counts.get(s.id, {}).get(FAILED, 0), "failing": s.id in failing} for s in subs]

    def _get(self, sub_id: int):
        sub = m.WebhookSubscription.get_or_none(m.WebhookSubscription.id == sub_id)
        if sub is None:
            raise NotFound(f"no webhook subscription {sub_id}", code="webhooks.not_found")
        return sub

    def subscription(self, sub_id: int) -> dict:
        return self._view(self._get(sub_id))

    def create(self, actor: str, url: str, events, active: bool = True) -> dict:
        """The new subscription with its secret (the only time it is shown)."""
        url = (url or "").strip()
        self.guard.check(url)
        wanted = _events(events)
        with self.db.atomic():
            sub = m.WebhookSubscription.create(url=url, events=",".join(wanted), secret=_secret(),
                                               active=bool(active), created_by=actor)
            m.AuditLog.create(username=actor, action="create", object_type="webhook", object_id=str(sub.id),
                              detail=f"{url} {','.join(wanted)}")
        self._wanted = None
        return self._view(sub, secret=True)

    def update(self, actor: str, sub_id: int, *, url: str | None = None, events=None,
               active: bool | None = None) -> dict:
        sub = self._get(sub_id)
        if url is not None:
            url = url.strip()
            self.guard.check(url)
            sub.url = url
        if events is not None:
            sub.events = ",".join(_events(events))
        if active is not None:
            sub.active = bool(active)
        with self.db.atomic():
            sub.save()
            m.AuditLog.create(username=actor, action="update", object_type="webhook", object_id=str(sub.id),
                              detail=f"{sub.url} {sub.events} {'active' if sub.active else 'inactive'}")
        self._wanted = None
        return self._view(sub)

    def rotate(self, actor: str, sub_id: int) -> dict:
        """A new secret (shown once); the old one signs nothing from now on."""
        sub = self._get(sub_id)
        sub.secret = _secret()
        with self.db.atomic():
            sub.save()
            m.AuditLog.create(username=actor, action="update", object_type="webhook", object_id=str(sub.id),
                              detail="secret rotated")
        return self._view(sub, secret=True)

    def delete(self, actor: str, sub_id: int) -> None:
        sub = self._get(sub_id)
        with self.db.atomic():
            m.WebhookDelivery.delete().where(m.WebhookDelivery.subscription == sub.id).execute()
            sub.delete_instance()
            m.AuditLog.create(username=actor, action="delete", object_type="webhook", object_id=str(sub_id),
                              detail=sub.url)
        self._wanted = None

    def deliveries(self, sub_id: int, limit: int = 50) -> list[dict]:
        """The subscription's most recent deliveries, newest first."""
        self._get(sub_id)
        rows = (m.WebhookDelivery.select().where(m.WebhookDelivery.subscription == sub_id)
                .order_by(m.WebhookDelivery.id.desc()).limit(limit))
        return [{"id": r.id, "event_id": r.event_id, "type": r.type, "state": r.state, "attempts": r.attempts,
                 "created_at": _iso(r.created_at), "next_try": _iso(r.next_try) if r.state == PENDING else None,
                 "last_status": r.last_status, "last_error": r.last_error, "done_at": _iso(r.done_at)}
                for r in rows]

    def send_test(self, sub_id: int) -> dict:
        """Queue a ``webhook.test`` event for this subscription alone (active or not)."""
        sub = self._get(sub_id)
        event_id = self._queue([sub.id], "webhook.test", {"subscription": sub.id, "message": "test"}, "")
        return {"event_id": event_id}

    # -- events in --------------------------------------------------------------------
    def _subscribers(self, event_type: str) -> list[int]:
        if self._wanted is None:
            wanted: dict[str, list[int]] = {}
            for sub in m.WebhookSubscription.select().where(m.WebhookSubscription.active == True):  # noqa: E712
                for e in sub.events.split(","):
                    wanted.setdefault(e, []).append(sub.id)
            self._wanted = wanted
        return self._wanted.get(event_type, [])

    def emit(self, event_type: str, data: dict, order_key: str = "") -> str | None:
        """Queue ``event_type`` for every active subscription that wants it; the event's id
        (None when nobody does).  A cheap no-op when nobody subscribes."""
        subs = self._subscribers(event_type)
        if not subs:
            return None
        return self._queue(subs, event_type, data, order_key)

    def _queue(self, subs: list[int], event_type: str, data: dict, order_key: str) -> str:
        now = self.clock()
        event_id = uuid.uuid4().hex
        body = json.dumps({"id": event_id, "type": event_type, "created_at": _iso(now), "data": data},
                          ensure_ascii=False, default=str, separators=(",", ":"))
        with self.db.atomic():
            m.WebhookDelivery.insert_many([
                {"subscription": s, "event_id": event_id, "type": event_type, "order_key": order_key[:64],
                 "body": body, "state": PENDING, "attempts": 0, "created_at": now, "next_try": now,
                 "last_error": ""} for s in subs]).execute()
        return event_id

    def published(self, topic: str, data: dict) -> None:
        """A bus tap (``EventBus.taps``): the bus's topics made webhook events."""
        try:
            if topic == "call" and data.get("event") in ("offered", "answered", "ended"):
                kind = f"call.{data['event']}"
                if not self._subscribers(kind):
                    return  # the call path pays one dict lookup when nobody subscribes
                payload = {k: v for k, v in data.items() if k != "event"}
                if kind == "call.ended":
                    payload["recording_url"] = self._recording_of(data.get("linkedid", ""))
                self.emit(kind, payload, order_key=data.get("linkedid", ""))
            elif topic == "call" and data.get("event") == "survey":  # the caller's rating after the call
                payload = {k: v for k, v in data.items() if k != "event"}
                self.emit("survey.scored", payload, order_key=data.get("linkedid", ""))
            elif topic == "campaign" and data.get("event") in CAMPAIGN_RESULTS:
                self.emit("campaign.result", data)
        except Exception:  # a webhook must never break the publisher (the call path)
            logger.exception("webhooks: queueing a %s event failed", topic)

    def _recording_of(self, linkedid: str) -> str | None:
        if linkedid and m.Recording.select().where(m.Recording.linkedid == linkedid).exists():
            return self.recording_url(linkedid)
        return None

    def recording_ready(self, key: str, _mp3=None) -> None:
        """A listener of finished recordings (``RecordingPipeline.completed``): a call's
        recording, or a caller's message (its key ends in ``-msg``: voicemail.left)."""
        if key.endswith(VOICEMAIL_SUFFIX):
            if not self._subscribers("voicemail.left"):
                return
            msg = m.VoiceMessage.get_or_none(m.VoiceMessage.recording_key == key)
            if msg is not None:
                self.emit("voicemail.left", {
                    "id": msg.id, "linkedid": msg.linkedid, "caller": msg.caller, "caller_name": msg.caller_name,
                    "did": msg.did, "queue": msg.queue, "agent": msg.agent, "reason": msg.reason,
                    "audio_url": f"/api/v1/voice-messages/{msg.id}/audio"}, order_key=msg.linkedid)
            return
        self.emit("recording.ready", {"linkedid": key, "recording_url": self.recording_url(key)}, order_key=key)

    def fax_finished(self, fax: dict) -> None:
        """A listener of faxes sent (``FaxSender.finished``): sent, or failed after its attempts."""
        self.emit("fax.sent" if fax.get("state") == "sent" else "fax.failed", fax)

    def customer_changed(self, what: str, customer: dict) -> None:
        """A listener of the CRM (``CustomerService.changed``): created or changed."""
        self.emit(f"customer.{what}", customer)

    def order_changed(self, what: str, order: dict) -> None:
        """A listener of the sales orders (``OrderService.changed``): taken, edited, moved, paid."""
        self.emit(f"order.{what}", order, order_key=f"order-{order.get('id')}")

    def workorder_changed(self, what: str, order: dict) -> None:
        """A listener of the work orders (``WorkOrderService.changed``): opened, moved, assigned."""
        self.emit(f"workorder.{what}", order, order_key=f"workorder-{order.get('id')}")

    def fax_received(self, fax: dict, _pdf=None) -> None:
        """A listener of received faxes (``FaxService.received``)."""
        self.emit("fax.received", {k: v for k, v in fax.items() if k != "path"})

    # -- delivering ----------------------------------------------------------------------
    def deliver_due(self, limit: int = 200) -> int:
        """Try every delivery that is due (a call's in order), the oldest ``limit`` of each
        subscription (a dead receiver's backlog never hides another's); how many were delivered."""
        now = self.clock()
        d = m.WebhookDelivery
        subs = [s for (s,) in d.select(d.subscription).where(d.state == PENDING).distinct().tuples()]
        pending = [row for sub in subs
                   for row in (d.select(d, m.WebhookSubscription).join(m.WebhookSubscription)
                               .where(d.state == PENDING, d.subscription == sub).order_by(d.id).limit(limit))]
        waiting: set = set()  # (subscription, call) with an earlier event not yet delivered
        unreachable: set = set()  # subscriptions whose receiver did not answer in this pass
        sent = 0
        for row in pending:
            key = (row.subscription_id, row.order_key)
            if (row.order_key and key in waiting) or row.subscription_id in unreachable:
                continue
            if row.next_try > now:
                waiting.add(key)
                continue
            outcome = self._try(row)
            if outcome is True:
                sent += 1
                continue
            if row.state == PENDING:
                waiting.add(key)
            if outcome == "unreachable":  # one timeout per pass for a receiver that is down, not one per row
                unreachable.add(row.subscription_id)
        return sent

    def _try(self, row) -> bool | str:
        """True when delivered; False, or "unreachable" when nothing answered."""
        sub = row.subscription
        body = row.body.encode()
        stamp = int(self.clock())
        headers = {"Content-Type": "application/json", "User-Agent": "callcenter-webhooks/1",
                   "X-CC-Webhook-Id": row.event_id, "X-CC-Webhook-Timestamp": str(stamp),
                   "X-CC-Webhook-Signature": sign(sub.secret, stamp, body)}
        row.attempts += 1
        try:
            status = post(sub.url, headers, body, self.guard, self.timeout)
        except Refused as exc:
            now = self.clock()
            row.last_error = str(exc)
            if now - row.created_at >= self.retry_hours * 3600:
                row.state, row.done_at = FAILED, now
                row.last_error = f"{exc} (still failing after {self.retry_hours:g} h)"
                logger.error("webhook %s to %s failed for good: %s", row.event_id, sub.url, exc)
            else:
                row.next_try = now + retry_delay(row.attempts)
                logger.warning("webhook %s to %s not delivered (%s); next try in %.0f s", row.event_id, sub.url,
                               exc, row.next_try - now)
            row.save()
            return "unreachable" if exc.unreachable else False
        row.state, row.last_status, row.last_error, row.done_at = DELIVERED, status, "", self.clock()
        row.save()
        return True

    def prune(self) -> int:
        """Delete what was delivered or failed more than ``KEEP_DAYS`` ago; how many rows."""
        return (m.WebhookDelivery.delete()
                .where(m.WebhookDelivery.state != PENDING,
                       m.WebhookDelivery.done_at < self.clock() - KEEP_DAYS * 86400).execute())

    @staticmethod
    def _failing(now: float) -> set[int]:
        """The subscriptions whose receiver is failing: a delivery failed for good in the last
        day, or one has waited more than an hour."""
        d = m.WebhookDelivery
        rows = (d.select(d.subscription).where(((d.state == FAILED) & (d.done_at > now - 86400))
                                               | ((d.state == PENDING) & (d.created_at < now - 3600)))
                .distinct().tuples())
        return {sub for (sub,) in rows}

    def health(self) -> dict:
        """For the health page: failing while a delivery has failed for good in the last day
        or one has waited more than an hour (``failing``: the subscriptions concerned)."""
        now = self.clock()
        pending = m.WebhookDelivery.select().where(m.WebhookDelivery.state == PENDING)
        oldest = pending.select(fn.MIN(m.WebhookDelivery.created_at)).scalar()
        failed = (m.WebhookDelivery.select().where(m.WebhookDelivery.state == FAILED,
                                                   m.WebhookDelivery.done_at > now - 86400).count())
        failing = sorted(self._failing(now))
        return {"state": "failed" if failing else "ok", "up": not failing,
                "pending": pending.count(), "failed_last_day": failed, "failing": failing,
                "oldest_pending_minutes": None if oldest is None else round((now - oldest) / 60, 1)}

    # -- the worker ------------------------------------------------------------------------
    def start(self, interval: float = 1.0) -> None:
        """Deliver in one native thread (gevent's thread pool): blocking HTTP there never
        holds the loop that routes calls."""
        from gevent.threadpool import ThreadPool

        self._stopped = False
        self._pool = ThreadPool(1)  # its own: the hub's pool stays free for the web's heavy work

        def loop():
            self.db.connect(reuse_if_open=True)
            pruned_at = 0.0
            while not self._stopped:
                try:
                    self.deliver_due()
                    if time.monotonic() - pruned_at > 3600:
                        self.prune()
                        pruned_at = time.monotonic()
                except Exception:
                    logger.exception("webhooks: delivering the outbox failed")
                time.sleep(interval)
            self.db.close()

        self.thread = self._pool.spawn(loop)

    def stop(self) -> None:
        """Ends after the delivery in progress (bounded by ``timeout``)."""
        self._stopped = True


def _secret() -> str:
    return "whsec_" + secrets_mod.token_hex(24)
