"""pjsip.conf: the SIP transport, trunks (identified by source address) and
agents' phones (digest authentication, one contact each).

Blocked sources (the SIP guard, appliance/services/sipguard.py) are identified by address
as the endpoint ``cc-blocked``, whose ACL refuses everything: Asterisk 22 then answers
their requests as it answers an unknown user's (a challenge no password can meet, and the
security event ``FailedACL``), so a guesser learns nothing and no password, not even the
right one, registers or calls from there.  Identification by address comes first
(``endpoint_identifier_order`` starts with ``ip``), so one section covers every phone and
every extension that does not exist; a trunk's address is never blocked.  With
``phone_subnets`` every phone's endpoint denies all addresses and permits those subnets.

Media always stays anchored on the appliance (``direct_media = no``): recording and
supervisors listening in need the audio to pass through Asterisk.

A softphone in the agent's browser (``Phone.webrtc``) registers over the WebSocket
transport of Asterisk's HTTP server (confgen/http.py) and gets ``webrtc = yes``: DTLS-SRTP
with a certificate Asterisk makes, ICE, AVPF and rtcp-mux; Opus first, then the G.711 and
G.722 its codecs name (a browser speaks nothing else of our list). Its Contact names no
reachable host (JsSIP's ``*.invalid``), so it is always reached where it registered from.
"""

from appliance.confgen.model import AsteriskModel, Phone, Trunk
from appliance.confgen.writer import ConfText
from appliance.dialplan_vars import PHONE_CONTEXT, TRUNK_CONTEXT

FILENAME = "pjsip.conf"

TRANSPORT = "transport-udp"
WS_TRANSPORT = "transport-ws"
BROWSER_CODECS = ("opus", "alaw", "ulaw", "g722")  # what WebRTC browsers and Asterisk both speak
BLOCKED_ENDPOINT = "cc-blocked"
_EVERYWHERE = ("0.0.0.0/0.0.0.0", "::/0")


def trunk_endpoint(trunk: Trunk) -> str:
    return f"trunk-{trunk.name}"


def registration_uris(trunk: Trunk) -> tuple[str, str]:
    """(client URI, server URI) of a trunk's outbound registration: what Asterisk's AMI
    ``Registry`` events name it by (appliance/engine/registrations.py)."""
    return f"sip:{trunk.username}@{trunk.host}:{trunk.port}", f"sip:{trunk.host}:{trunk.port}"


_MEDIA = (
    ("direct_media", False),
    ("rtp_symmetric", True),
    ("force_rport", True),
    ("dtmf_mode", "rfc4733"),
)


def _trunk(conf: ConfText, trunk: Trunk, language: str) -> None:
    ep = trunk_endpoint(trunk)
    conf.section(ep, comment=f"trunk {trunk.name}")
    conf.options((("type", "endpoint"), ("transport", TRANSPORT), ("context", TRUNK_CONTEXT)))
    conf.option("language", language)  # CHANNEL(language): the appliance's own sentences (appliance/sounds.py)
    conf.options((("disallow", "all"), ("allow", trunk.codecs), ("aors", ep)))
    conf.options(_MEDIA)
    conf.option("rewrite_contact", True)
    if trunk.username:
        conf.option("outbound_auth", f"{ep}-auth")
        conf.option("from_user", trunk.username)
    if trunk.max_channels:
        conf.option("device_state_busy_at", trunk.max_channels)
    conf.section(ep)
    conf.options((("type", "aor"), ("contact", f"sip:{trunk.host}:{trunk.port}")))
    conf.section(ep)
    conf.options((("type", "identify"), ("endpoint", ep), ("match", trunk.match or (trunk.host,))))
    if trunk.username:
        conf.section(f"{ep}-auth")
        conf.options((("type", "auth"), ("auth_type", "userpass")))
        conf.options((("username", trunk.username), ("password", trunk.secret)))
    if trunk.register:
        conf.section(f"{ep}-reg")
        conf.options((
            ("type", "registration"),
            ("transport", TRANSPORT),
            ("outbound_auth", f"{ep}-auth"),
            ("server_uri", registration_uris(trunk)[1]),
            ("client_uri", registration_uris(trunk)[0]),
            ("retry_interval", 60),
        ))


def browser_codecs(phone: Phone) -> tuple[str, ...]:
    """A softphone's codecs: Opus, then those of its own list a browser speaks (G.711 if none)."""
    spoken = tuple(c for c in phone.codecs if c in BROWSER_CODECS and c != "opus")
    return ("opus", *(spoken or ("alaw", "ulaw")))


def _phone(conf: ConfText, phone: Phone, language: str, subnets: tuple[str, ...] = ()) -> None:
    ext = phone.extension
    conf.section(ext, comment=f"phone {ext}" + (" (softphone in the browser)" if phone.webrtc else ""))
    conf.options((("type", "endpoint"), ("transport", WS_TRANSPORT if phone.webrtc else TRANSPORT),
                  ("context", PHONE_CONTEXT)))
    conf.option("language", language)  # what the appliance says to the people at its phones, too
    codecs = browser_codecs(phone) if phone.webrtc else phone.codecs
    conf.options((("disallow", "all"), ("allow", codecs), ("auth", ext), ("aors", ext)))
    conf.options(_MEDIA)
    if phone.webrtc:
        conf.option("webrtc", True)  # DTLS-SRTP (auto-generated certificate), ICE, AVPF, rtcp-mux
    # A phone on the LAN is reached at the Contact it registered; one behind NAT
    # (a remote agent) or in a browser at the address its REGISTER came from.
    conf.option("rewrite_contact", phone.nat or phone.webrtc)
    if phone.callerid_name:
        conf.option("callerid", f'"{phone.callerid_name}" <{ext}>'.replace("\\", ""))
    if subnets:  # the last matching rule wins: everywhere denied, then the permitted subnets
        conf.options(tuple(("deny", x) for x in _EVERYWHERE) + tuple(("permit", x) for x in subnets))
    conf.section(ext)
    conf.options((("type", "auth"), ("auth_type", "userpass"), ("username", ext), ("password", phone.secret)))
    conf.section(ext)
    conf.options((("type", "aor"), ("max_contacts", 1), ("remove_existing", True), ("qualify_frequency", 0)))


def render(model: AsteriskModel) -> str:
    conf = ConfText("SIP transport, trunks and phones")
    conf.section(TRANSPORT)
    conf.options((("type", "transport"), ("protocol", "udp")))
    conf.option("bind", f"{model.network.sip_bind}:{model.network.sip_port}")
    if model.network.webrtc_port:  # the WebSocket of Asterisk's HTTP server (confgen/http.py)
        conf.section(WS_TRANSPORT)
        conf.options((("type", "transport"), ("protocol", "wss" if model.network.webrtc_cert else "ws"),
                      ("bind", "0.0.0.0")))  # the HTTP server's address counts; PJSIP needs one
    for trunk in model.trunks:
        _trunk(conf, trunk, model.language)
    for phone in model.phones:
        if phone.webrtc and not model.network.webrtc_port:
            continue  # no WebSocket to register over (webrtc_port = 0)
        _phone(conf, phone, model.language, model.phone_subnets)
    if model.blocked_sources:
        _blocked(conf, model.blocked_sources)
    return conf.render()


def _blocked(conf: ConfText, addresses: tuple[str, ...]) -> None:
    conf.section(BLOCKED_ENDPOINT, comment="sources blocked after failed authentications (the SIP guard)")
    conf.options((("type", "endpoint"), ("transport", TRANSPORT), ("context", BLOCKED_ENDPOINT)))
    conf.options((("disallow", "all"), ("allow", "alaw")))
    conf.options(tuple(("deny", x) for x in _EVERYWHERE))
    conf.section(BLOCKED_ENDPOINT)
    conf.options((("type", "identify"), ("endpoint", BLOCKED_ENDPOINT), ("match", addresses)))
