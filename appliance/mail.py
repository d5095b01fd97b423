"""E-mail out: received faxes and callers' messages, to the addresses set for them.

The outbox is a folder (Postfix's queue is the model): each message is one JSON file,
written whole (part file, fsync, rename) before the caller of ``queue`` returns, so a
restart loses nothing.  Attachments are named by path (a fax's PDF, a message's MP3:
already stored, never copied).  ``deliver_due`` sends what is due over SMTP (smtplib;
STARTTLS or implicit TLS; login when a user is set):

* accepted: the file is removed;
* a temporary failure (server unreachable, a 4xx answer, a timeout): tried again later,
  after 1, 2, 4 ... up to 60 minutes, for ``retry_hours``; then it fails for good;
* a permanent failure (a 5xx answer, an attachment that is gone): moved to ``failed/``
  with the server's last answer, where ``status()`` counts it for the health page.

Nothing here knows about faxes or messages: ``queue(to, subject, body, attachments)``.
A message may carry ``meta`` (kept in its file, never sent), and ``outcomes`` is a list of
listeners told ``(item, "sent" | "failed", error)`` once a message is sent or has failed
for good: how an e-mail to a customer ends up in the customer's history.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import re
import smtplib
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from appliance.errors import FieldError, ValidationError

logger = logging.getLogger(__name__)

ADDRESS = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
MAX_ADDRESSES = 10
FIRST_RETRY_SECONDS = 60.0
LAST_RETRY_SECONDS = 3600.0
SECURITY = ("starttls", "tls", "none")


def parse_addresses(text: str, field: str = "email") -> list[str]:
    """``"a@x.cn, b@y.com"`` → the list; "" → []; anything else a ValidationError."""
    found = [a.strip() for a in re.split(r"[,;\s]+", text or "") if a.strip()]
    bad = [a for a in found if len(a) > 254 or not ADDRESS.match(a)]
    if bad:
        raise ValidationError(f"not an e-mail address: {bad[0]}", code="mail.bad_address",
                              fields={field: FieldError("field.email", f"not an e-mail address: {bad[0]}",
                                                        item=bad[0])})
    if len(found) > MAX_ADDRESSES:
        raise ValidationError(f"at most {MAX_ADDRESSES} addresses", code="mail.too_many_addresses",
                              fields={field: FieldError("field.max_addresses", f"at most {MAX_ADDRESSES} addresses",
                                                        n=MAX_ADDRESSES)})
    return found


@dataclass(frozen=True)
class SmtpConfig:
    host: str  # empty: mail is off, nothing is queued
    port: int = 587
    security: str = "starttls"  # one of SECURITY
    user: str = ""
    password: str = ""
    sender: str = "callcenter@localhost"
    timeout: float = 30.0
    retry_hours: float = 48.0

    @classmethod
    def from_settings(cls, s) -> "SmtpConfig":
        return cls(host=s.smtp_host, port=s.smtp_port, security=s.smtp_security, user=s.smtp_user,
                   password=s.smtp_password, sender=s.mail_from, retry_hours=float(s.mail_retry_hours))


class Permanent(Exception):
    """A message that will never go: moved to ``failed/``."""


class Outbox:
    def __init__(self, directory: Path, config: SmtpConfig, *, clock=time.time):
        self.dir = Path(directory)
        self.failed_dir = self.dir / "failed"
        self.config = config
        self.clock = clock
        # told (item, "sent" | "failed", error) once a message is sent or failed for good
        self.outcomes: list = []

    @property
    def enabled(self) -> bool:
        return bool(self.config.host)

    # -- queueing --------------------------------------------------------------
    def queue(self, to: list[str], subject: str, body: str, attachments: list[Path] = (),
              meta: dict | None = None) -> str | None:
        """Keep a message for sending; its id, or None when mail is off or nobody is to get it.
        ``meta`` (JSON) stays with the message for the ``outcomes`` listeners."""
        if not self.enabled or not to:
            return None
        self.dir.mkdir(parents=True, exist_ok=True)
        key = f"{int(self.clock())}-{uuid.uuid4().hex[:12]}"
        now = self.clock()
        self._write(self.dir / f"{key}.json", {
            "id": key, "to": list(to), "subject": subject, "body": body,
            "attachments": [str(p) for p in attachments], "queued_at": now, "next_try": now,
            "attempts": 0, "last_error": "", "meta": meta or {}})
        logger.info("mail %s queued for %s: %s", key, ", ".join(to), subject)
        self._kick()
        return key

    @staticmethod
    def _write(path: Path, item: dict) -> None:
        part = path.with_name(path.name + ".part")
        with open(part, "w") as f:
            json.dump(item, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)

    def _items(self, directory: Path) -> list[tuple[Path, dict]]:
        out = []
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
            try:
                out.append((path, json.loads(path.read_text())))
            except (OSError, ValueError):
                logger.error("mail: %s cannot be read; moved aside", path)
                self.failed_dir.mkdir(parents=True, exist_ok=True)
                os.replace(path, self.failed_dir / (path.name + ".unreadable"))
        return out

    # -- sending ---------------------------------------------------------------
    def deliver_due(self) -> int:
        """Try every message that is due; the number sent."""
        sent = 0
        for path, item in self._items(self.dir):
            if item["next_try"] > self.clock():
                continue
            item["attempts"] += 1
            try:
                self._send(item)
            except Permanent as exc:
                self._give_up(path, item, str(exc))
            except (OSError, smtplib.SMTPException) as exc:
                self._later(path, item, _describe(exc))
            else:
                path.unlink()
                sent += 1
                logger.info("mail %s sent to %s", item["id"], ", ".join(item["to"]))
                self._tell(item, "sent", "")
        return sent

    def _tell(self, item: dict, outcome: str, error: str) -> None:
        for listener in self.outcomes:
            try:
                listener(item, outcome, error)
            except Exception:
                logger.exception("mail %s: a listener of its outcome failed", item["id"])

    def _later(self, path: Path, item: dict, error: str) -> None:
        if self.clock() - item["queued_at"] >= self.config.retry_hours * 3600:
            self._give_up(path, item, f"{error} (still failing after {self.config.retry_hours:g} h)")
            return
        delay = min(FIRST_RETRY_SECONDS * 2 ** (item["attempts"] - 1), LAST_RETRY_SECONDS)
        item.update(next_try=self.clock() + delay, last_error=error)
        self._write(path, item)
        logger.warning("mail %s not sent (%s); next try in %.0f s", item["id"], error, delay)

    def _give_up(self, path: Path, item: dict, error: str) -> None:
        item["last_error"] = error
        self.failed_dir.mkdir(parents=True, exist_ok=True)
        self._write(self.failed_dir / path.name, item)
        path.unlink()
        logger.error("mail %s to %s failed for good: %s", item["id"], ", ".join(item["to"]), error)
        self._tell(item, "failed", error)

    def _message(self, item: dict) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(item["to"])
        msg["Subject"] = item["subject"]
        msg["Date"] = formatdate(item["queued_at"], localtime=False)
        msg["Message-ID"] = make_msgid(idstring=item["id"], domain=self.config.sender.rpartition("@")[2] or None)
        msg.set_content(item["body"])
        for name in item["attachments"]:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise Permanent(f"attachment {path.name} cannot be read: {exc.strerror or exc}") from None
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            maintype, subtype = kind.split("/", 1)
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
        return msg

    def _send(self, item: dict) -> None:
        msg = self._message(item)
        c = self.config
        context = ssl.create_default_context()
        # EHLO with the machine's name as it is: smtplib would otherwise ask DNS for its full name
        # (socket.getfqdn, a reverse lookup) before every message
        helo = socket.gethostname() or "callcenter"
        if c.security == "tls":
            smtp = smtplib.SMTP_SSL(c.host, c.port, local_hostname=helo, timeout=c.timeout, context=context)
        else:
            smtp = smtplib.SMTP(c.host, c.port, local_hostname=helo, timeout=c.timeout)
        try:
            if c.security == "starttls":
                smtp.starttls(context=context)
            if c.user:
                smtp.login(c.user, c.password)
            smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise Permanent(_describe(exc)) from None
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise Permanent(_describe(exc)) from None
            raise
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    # -- the sender ------------------------------------------------------------
    def start(self, interval: float = 30.0) -> None:
        """Send what is due now, whenever a message is queued, and every ``interval`` s."""
        import gevent
        import gevent.event

        self._wake = gevent.event.Event()

        def loop():
            while True:
                self._wake.clear()
                try:
                    self.deliver_due()
                except Exception:
                    logger.exception("mail: delivering the outbox failed")
                self._wake.wait(interval)

        self._loop = gevent.spawn(loop) if self.enabled else None

    def _kick(self) -> None:
        if getattr(self, "_wake", None) is not None:
            self._wake.set()

    def retry_now(self) -> int:
        """Make every waiting message due now (the mail server is back); how many wait."""
        items = self._items(self.dir)
        for path, item in items:
            item["next_try"] = self.clock()
            self._write(path, item)
        self._kick()
        return len(items)

    def stop(self) -> None:
        if getattr(self, "_loop", None) is not None:
            self._loop.kill()

    # -- what the health page shows -------------------------------------------
    def health(self) -> dict:
        """The health component: down while a message has waited more than an hour."""
        status = self.status()
        stuck = (status["oldest_queued_minutes"] or 0) > 60
        return {**status, "state": "stuck" if stuck else ("ok" if self.enabled else "off"), "up": not stuck}

    def status(self) -> dict:
        queued = [item for _, item in self._items(self.dir)]
        failed = [item for _, item in self._items(self.failed_dir)]
        oldest = min((item["queued_at"] for item in queued), default=None)
        return {
            "enabled": self.enabled,
            "queued": len(queued),
            "failed": len(failed),
            "oldest_queued_minutes": None if oldest is None else round((self.clock() - oldest) / 60, 1),
            "last_error": next((i["last_error"] for i in sorted(queued + failed, key=lambda i: -i["queued_at"])
                                if i["last_error"]), ""),
        }


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {msg.decode('utf-8', 'replace')}"
                         for rcpt, (code, msg) in exc.recipients.items())
    if isinstance(exc, socket.timeout):
        return "the mail server did not answer in time"
    if isinstance(exc, OSError):
        return f"cannot reach the mail server: {exc.strerror or exc}"
    return str(exc) or exc.__class__.__name__
