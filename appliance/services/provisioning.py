"""Desk phones that provision themselves: each phone fetches its own configuration file
over the web server, ``/prov/<file>``, by its MAC address (issue 21 point 4).

Who may read what:

- a phone's own file (``<mac>.cfg``, ``cfg<mac>.xml``) only with that phone's credentials:
  the user name is its MAC (12 hex digits), the password the one made when it got its MAC
  (shown on its page for the installer); HTTP Digest (RFC 7616, MD5 with ``qop=auth``: what
  the phones speak) on plain HTTP, Basic too over HTTPS;
- a vendor's common file (``y000000000000.cfg``) with the credentials of any phone of the
  appliance: it holds no secret, but strangers learn nothing from it either.

Refused: a file name no phone asks for (404, not counted: phones ask for firmware and
files of their own), a MAC the appliance does not know (404) and wrong credentials (401),
the last two counted per source address by the sign-in throttle
(``appliance/services/signin.py``, key ``prov:<address>``): too many lock the address
(429 with ``Retry-After``), shown and cleared with the other locks on the accounts page.
A request without credentials is answered with the challenge (401), not counted: that is
how every phone begins.  Every refusal is logged with the source and the User-Agent; the
SIP password is in the file only, never in a log line.

The file is made from the database at each fetch (``provisioning/phones``): the server
address is the one the phone asked at (its ``Host``), unless SIP listens on one address
only (``sip_bind``); the language is the phone's agent's (their web account's), else
the office's; the time zone is the office's; the BLF keys are the phone's agent's
colleagues: the other agents of the agent's queues who have a phone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
import time
from dataclasses import dataclass, field

from peewee import JOIN

from appliance.db import models as m
from appliance.services.signin import Rule, SignInGuard, SignInLocked
from provisioning import phones
from provisioning.phones.model import LANGUAGES, Colleague, PhoneFile

logger = logging.getLogger(__name__)

PATH = "/prov/"
REALM = "callcenter-phones"
NONCE_SECONDS = 300
# Unknown MACs and wrong passwords from one address: 10 within 10 minutes lock it for
# 10 minutes, doubling each time, up to a day.
SOURCE_RULE = Rule(failures=10, window=600, lock=600, max_lock=86400)
_HOST = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
_DIGEST_PART = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Fetch:
    """One request for a file, as the web edge received it."""

    name: str
    source: str  # the peer's address
    authorization: str = ""  # the Authorization header
    method: str = "GET"
    uri: str = ""  # the request's path and query, as the phone sent it (Digest signs it)
    host: str = ""  # the Host header: where the phone reached the appliance
    user_agent: str = ""
    https: bool = False


@dataclass(frozen=True)
class Reply:
    status: int
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict = field(default_factory=dict)


def source_key(address: str) -> str:
    return "prov:" + address


def host_of(host_header: str) -> str:
    """The host part of a Host header (``[::1]:8080`` -> ``::1``), or "" when it is not an
    address or a host name."""
    host = (host_header or "").strip()
    if host.startswith("["):
        host = host[1:host.find("]")] if "]" in host else ""
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host if _HOST.fullmatch(host) else ""


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_digest(header: str) -> dict[str, str] | None:
    """The parameters of ``Authorization: Digest ...``, or None if it is not one."""
    scheme, _, rest = (header or "").strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {k.lower(): (quoted.replace('\\"', '"').replace("\\\\", "\\") if quoted or not bare else bare)
            for k, quoted, bare in _DIGEST_PART.findall(rest)}


def digest_response(params: dict[str, str], password: str, method: str) -> str:
    """The ``response`` a client knowing ``password`` sends (RFC 7616, MD5)."""
    ha1 = _md5(f"{params.get('username', '')}:{params.get('realm', '')}:{password}")
    ha2 = _md5(f"{method}:{params.get('uri', '')}")
    if params.get("qop"):
        return _md5(f"{ha1}:{params.get('nonce', '')}:{params.get('nc', '')}:{params.get('cnonce', '')}:"
                    f"{params['qop']}:{ha2}")
    return _md5(f"{ha1}:{params.get('nonce', '')}:{ha2}")


class ProvisioningService:
    def __init__(self, db, *, site=None, guard: SignInGuard | None = None, sip_port: int = 5060,
                 sip_bind: str = "0.0.0.0", ntp_server: str = "cn.pool.ntp.org", web_port: int = 8080,
                 https_port: int = 0, clock=time.time):
        self.db = db
        self.site = site  # SiteService: the office's time zone and language
        self.guard = guard or SignInGuard(db, clock=clock)
        self.sip_port = sip_port
        self.sip_bind = sip_bind
        self.ntp_server = ntp_server
        self.web_port = web_port
        self.https_port = https_port
        self.clock = clock
        self._nonce_key = secrets.token_bytes(32)

    # -- what the phones page shows ---------------------------------------------------------
    def url(self, host_header: str) -> str:
        """The address phones fetch their files at, as the Host header (``host[:port]``) of
        whoever asks says the LAN reaches the appliance: the value of DHCP option 66."""
        host = host_of(host_header) or "APPLIANCE-ADDRESS"
        given = re.fullmatch(r".*[^:]:([0-9]{1,5})", (host_header or "").strip())
        scheme, port = ("https", self.https_port) if self.https_port else ("http", self.web_port)
        if host_of(host_header):  # reached at the scheme's own port when the Host names none
            port = int(given.group(1)) if given else (443 if scheme == "https" else 80)
        if ":" in host:
            host = f"[{host}]"
        default = 443 if scheme == "https" else 80
        return f"{scheme}://{host}{'' if port == default else f':{port}'}{PATH}"

    def credentials(self, extension: str) -> dict | None:
        """The phone's provisioning user name and password and its file's name (None for a
        phone without a MAC): for the installer, on the phone's page (admins only)."""
        phone = m.Phone.get_or_none(m.Phone.extension == extension)
        if phone is None or not phone.mac:
            return None
        return {"username": phone.mac, "password": phone.prov_password,
                "file": phones.file_name(phone.model, phone.mac)}

    # -- the file ---------------------------------------------------------------------------
    def phone_file(self, phone, server: str) -> PhoneFile:
        """The phone's file as the database says now (``server``: the address it reaches SIP at)."""
        agent = (m.Agent.select(m.Agent, m.User).join(m.User, on=(m.Agent.user == m.User.id), join_type=JOIN.LEFT_OUTER)
                 .where(m.Agent.phone == phone.id).order_by(m.Agent.number).first())
        language = agent.user.language if agent is not None and agent.user_id else ""
        if language not in LANGUAGES:
            language = self.site.language() if self.site is not None else "zh_CN"
        timezone = self.site.timezone() if self.site is not None else "Asia/Shanghai"
        return PhoneFile(mac=phone.mac, model=phone.model, extension=phone.extension, secret=phone.secret,
                         display_name=phone.callerid_name or (agent.name if agent is not None else ""),
                         server=server, sip_port=self.sip_port, language=language, timezone=timezone,
                         ntp_server=self.ntp_server, codecs=tuple(c for c in phone.codecs.split(",") if c),
                         colleagues=self.colleagues(agent) if agent is not None else ())

    @staticmethod
    def colleagues(agent) -> tuple[Colleague, ...]:
        """The other agents of ``agent``'s queues who have a phone, by extension."""
        queues = [q for (q,) in m.QueueMember.select(m.QueueMember.queue).where(m.QueueMember.agent == agent.id).tuples()]
        rows = (m.Agent.select(m.Agent.name, m.Phone.extension)
                .join(m.Phone, on=(m.Agent.phone == m.Phone.id))
                .where(m.Agent.id.in_(m.QueueMember.select(m.QueueMember.agent).where(m.QueueMember.queue.in_(queues))),
                       m.Agent.id != agent.id, m.Phone.id != agent.phone_id)
                .order_by(m.Phone.extension).tuples())
        return tuple(Colleague(extension, name) for name, extension in rows)

    def server_for(self, host_header: str) -> str:
        if self.sip_bind not in ("", "0.0.0.0", "::"):
            return self.sip_bind
        return host_of(host_header) or "127.0.0.1"

    # -- serving ------------------------------------------------------------------------------
    def fetch(self, req: Fetch) -> Reply:
        """The answer to one phone's request (see the module's docstring)."""
        key = source_key(req.source)
        until = self.guard.locked(key)
        if until is not None:
            logger.info("provisioning: %s refused unchecked, the address is locked (%s, %r)", req.name, req.source,
                        req.user_agent)
            return self._locked(SignInLocked(until, self._now(), keys=(key,)))
        what = phones.file_request(req.name)
        if what is None:
            logger.info("provisioning: no file %r here (asked by %s, %r)", req.name, req.source, req.user_agent)
            return Reply(404, "no such file\n")
        kind, which = what
        phone = None
        if kind == "phone":
            phone = m.Phone.get_or_none(m.Phone.mac == which)
            if phone is None or phones.file_name(phone.model, phone.mac) != req.name:
                logger.warning("provisioning: %s asked for %s, no phone of the appliance has that MAC (%r)",
                               req.source, req.name, req.user_agent)
                return self._failed(req, Reply(404, "no such phone\n"))
        if not req.authorization.strip():
            return self._challenge()
        if self._stale(req.authorization):  # a phone slow between challenge and answer: not a failure
            return self._challenge(stale=True)
        caller = self._authenticated(req)
        if caller is None or (phone is not None and caller.id != phone.id) or (
                kind == "common" and phones.vendor_of(caller.model) != which):
            logger.warning("provisioning: wrong credentials for %s from %s (%r)", req.name, req.source, req.user_agent)
            return self._failed(req, self._challenge())
        body = phones.render(self.phone_file(phone, self.server_for(req.host))) if phone is not None else \
            phones.render_common(which, self.phone_file(caller, self.server_for(req.host)))
        if phone is not None:
            m.Phone.update(prov_fetched_at=m.utcnow(), prov_fetched_from=req.source[:64],
                           prov_user_agent=req.user_agent[:128]).where(m.Phone.id == phone.id).execute()
            logger.info("provisioning: phone %s (%s) fetched %s from %s as %r", phone.extension, phone.mac, req.name,
                        req.source, req.user_agent)
        content_type = "application/xml; charset=utf-8" if req.name.endswith(".xml") or body.startswith("<?xml") \
            else "text/plain; charset=utf-8"
        return Reply(200, body, content_type, {"Cache-Control": "no-store"})

    def _now(self):
        import datetime as dt

        return dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).replace(tzinfo=None)

    def _failed(self, req: Fetch, reply: Reply) -> Reply:
        """Count one failure of the source; the lock it may have earned instead of ``reply``."""
        try:
            self.guard.failed("", source_key(req.source), SOURCE_RULE, via="provisioning")
        except SignInLocked as locked:
            return self._locked(locked)
        return reply

    @staticmethod
    def _locked(locked: SignInLocked) -> Reply:
        return Reply(429, "too many refused requests from this address: try again later\n",
                     headers={"Retry-After": str(locked.retry_after)})

    # -- HTTP authentication ----------------------------------------------------------------
    def _nonce(self, at: int | None = None) -> str:
        at = int(self.clock()) if at is None else at
        mac = hmac.new(self._nonce_key, str(at).encode(), hashlib.sha256).hexdigest()[:32]
        return f"{at}.{mac}"

    def _fresh(self, nonce: str) -> bool:
        at, _, _ = nonce.partition(".")
        return at.isdigit() and hmac.compare_digest(self._nonce(int(at)), nonce) and \
            0 <= self.clock() - int(at) <= NONCE_SECONDS

    def _stale(self, authorization: str) -> bool:
        """A Digest answer to a challenge of ours that has expired since."""
        nonce = (parse_digest(authorization) or {}).get("nonce", "")
        at, _, _ = nonce.partition(".")
        return at.isdigit() and hmac.compare_digest(self._nonce(int(at)), nonce) and not self._fresh(nonce)

    def _challenge(self, stale: bool = False) -> Reply:
        return Reply(401, "this phone's user name (its MAC address) and password are needed\n", headers={
            "WWW-Authenticate": f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{self._nonce()}"'
                                + (", stale=true" if stale else "")})

    def _authenticated(self, req: Fetch):
        """The phone whose credentials the request carries, or None."""
        scheme = req.authorization.strip().split(" ", 1)[0].lower()
        if scheme == "basic" and req.https:
            try:
                user, _, password = base64.b64decode(req.authorization.split(" ", 1)[1].strip(),
                                                     validate=True).decode().partition(":")
            except (ValueError, IndexError, UnicodeDecodeError):
                return None
            try:
                phone = m.Phone.get_or_none(m.Phone.mac == phones.normalise_mac(user))
            except ValueError:
                return None
            ok = phone is not None and phone.prov_password and hmac.compare_digest(phone.prov_password, password)
            return phone if ok else None
        params = parse_digest(req.authorization)
        if not params or params.get("realm") != REALM or not self._fresh(params.get("nonce", "")):
            return None
        if params.get("uri", "").split("?", 1)[0] != req.uri.split("?", 1)[0]:
            return None
        try:
            mac = phones.normalise_mac(params.get("username", ""))
        except ValueError:
            return None
        phone = m.Phone.get_or_none(m.Phone.mac == mac)
        if phone is None or not phone.prov_password:
            return None
        expected = digest_response(params, phone.prov_password, req.method)
        return phone if hmac.compare_digest(expected, params.get("response", "")) else None
