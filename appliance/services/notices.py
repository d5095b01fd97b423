"""What the appliance e-mails, and to whom: a fax received on a DID with ``fax_email``
(its PDF attached) and a message left for a queue with ``voicemail_email`` (its MP3
attached, once encoded).  The texts come from the message catalogs in the appliance's
language; the outbox (``appliance.mail``) keeps and sends them.  Mail off (no
``smtp_host``) or no addresses: nothing is queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from appliance.db import models as m
from appliance.i18n import translate
from appliance.mail import Outbox, parse_addresses
from appliance.services.voicemail import KEY_SUFFIX

logger = logging.getLogger(__name__)


def _addresses(text: str, where: str) -> list[str]:
    try:
        return parse_addresses(text)
    except ValueError as exc:  # saved before the check existed: say so, send nothing
        logger.error("%s: %s; no e-mail sent", where, exc)
        return []


class MailNotices:
    def __init__(self, outbox: Outbox, language: Callable[[], str] = lambda: "zh_CN"):
        self.outbox = outbox
        self.language = language

    def _t(self, msgid: str, **kw) -> str:
        return translate(self.language(), msgid, **kw)

    def fax_received(self, fax: dict, pdf: Path) -> str | None:
        """The outbox id of the e-mail for this fax, or None when nobody is to get one."""
        did = m.Did.get_or_none(m.Did.number == fax["did"])
        to = _addresses(did.fax_email, f"DID {fax['did']}") if did is not None else []
        if not to:
            return None
        caller = fax["caller"] or self._t("mail.unknown_caller")
        return self.outbox.queue(
            to, self._t("mail.fax.subject", caller=caller, did=fax["did"], pages=fax["pages"]),
            self._t("mail.fax.body", caller=caller, name=fax.get("caller_name") or "-", did=fax["did"],
                    pages=fax["pages"], at=f"{fax['created_at']:%Y-%m-%d %H:%M} UTC"),
            [pdf])

    def recording_complete(self, key: str, mp3: Path) -> str | None:
        """A finished recording: if it is a caller's message for a queue with addresses, its e-mail."""
        if not key.endswith(KEY_SUFFIX):
            return None
        message = m.VoiceMessage.get_or_none(m.VoiceMessage.recording_key == key)
        queue = m.Queue.get_or_none(m.Queue.name == message.queue) if message is not None else None
        to = _addresses(queue.voicemail_email, f"queue {queue.name}") if queue is not None else []
        if not to:
            return None
        caller = message.caller or self._t("mail.unknown_caller")
        return self.outbox.queue(
            to, self._t("mail.message.subject", caller=caller, queue=message.queue),
            self._t("mail.message.body", caller=caller, name=message.caller_name or "-", queue=message.queue,
                    did=message.did or "-", at=f"{message.created_at:%Y-%m-%d %H:%M} UTC"),
            [mp3])
