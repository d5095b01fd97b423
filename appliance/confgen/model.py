"""The model every Asterisk config renderer reads: plain frozen data, no I/O.

``appliance.confgen.from_db`` builds it from the database; tests build it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.dialplan_vars import AGENT_SILENCE_MOH
from appliance.sounds import DEFAULT_LANGUAGE
from appliance.sounds import FOLDER as SOUNDS_FOLDER


@dataclass(frozen=True)
class Paths:
    """Directories as Asterisk sees them (inside the chroot in development)."""

    etc: str
    run: str
    log: str
    spool: str
    lib: str
    data: str = "/usr/share/asterisk"
    modules: str = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
    sounds_language: str = "en"

    @property
    def sounds(self) -> str:
        """The appliance's own sentences (appliance/sounds.py), as Asterisk sees them."""
        return f"{self.lib}/{SOUNDS_FOLDER}"


@dataclass(frozen=True)
class Network:
    sip_bind: str = "0.0.0.0"
    sip_port: int = 5060
    ami_bind: str = "127.0.0.1"
    ami_port: int = 5038
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    rtp_start: int = 10000
    rtp_end: int = 20000
    # Asterisk's own HTTP server carrying the browser softphones' SIP over WebSocket
    # (confgen/http.py): the port browsers reach (0: no softphones), the address it binds,
    # and, for wss, the certificate and key as Asterisk sees them (empty: plain ws)
    webrtc_port: int = 0
    webrtc_bind: str = "127.0.0.1"
    webrtc_cert: str = ""
    webrtc_key: str = ""


@dataclass(frozen=True)
class AmiUser:
    username: str
    secret: str
    # Only the classes our code reads and the actions it sends; no 'system',
    # 'config' or 'command' write (reloads go through the control socket).
    read: tuple[str, ...] = ("system", "call", "agent", "user", "reporting", "security")
    write: tuple[str, ...] = ("call", "agent", "originate", "reporting")


@dataclass(frozen=True)
class Trunk:
    name: str
    host: str
    port: int = 5060
    match: tuple[str, ...] = ()
    username: str = ""
    secret: str = ""
    register: bool = False
    codecs: tuple[str, ...] = ("alaw", "ulaw")
    max_channels: int = 0
    outbound_priority: int = 1


@dataclass(frozen=True)
class Phone:
    extension: str
    secret: str
    callerid_name: str = ""
    codecs: tuple[str, ...] = ("alaw", "ulaw")
    nat: bool = False
    webrtc: bool = False  # a softphone in the agent's browser (SIP over WebSocket, DTLS-SRTP, ICE)


@dataclass(frozen=True)
class FxsPhone:
    """An analog phone on an FXS port: dialled as ``DAHDI/<channel>`` when the card has the
    port (``on_card``); else a call to it is told the number is not in service."""

    extension: str
    channel: int
    on_card: bool = True


@dataclass(frozen=True)
class CardRoute:
    """A way out through the telephony card (services/fxs.py): dialled as
    ``DAHDI/g<group>/<number>``, carrying at most ``channels`` calls, whose channel names
    match ``pattern`` (counted with CHANNELS())."""

    name: str
    group: int
    channels: int
    pattern: str
    outbound_priority: int = 1


@dataclass(frozen=True)
class Queue:
    name: str
    strategy: str = "rrmemory"
    ring_timeout: int = 15
    retry: int = 2
    wrapup_seconds: int = 0
    max_wait_seconds: int = 300
    musicclass: str = "default"
    announce_position: bool = True
    announce_frequency: int = 60
    announce_holdtime: bool = True
    periodic_announce_seconds: int = 30
    overflow_queue: str | None = None
    autopause_after: int = 3
    survey: bool = False  # after the agent hangs up, the caller rates the call
    survey_prompt: tuple[str, ...] = ()  # empty: the built-in question in the call's language
    voicemail: bool = False  # nobody answered: the caller may leave a message (cc-voicemail)


@dataclass(frozen=True)
class Did:
    number: str
    trunk: str | None = None


@dataclass(frozen=True)
class MusicOnHold:
    name: str = "default"
    directory: str = "moh"


# The hold music, and the silence long-signed-in agents hear between calls (the
# silence/N prompts of Asterisk's core sounds; relative folders are under its data dir).
DEFAULT_MOH = (MusicOnHold(), MusicOnHold(AGENT_SILENCE_MOH, "sounds/en/silence"))


@dataclass(frozen=True)
class AsteriskModel:
    paths: Paths
    network: Network
    ami: AmiUser
    trunks: tuple[Trunk, ...] = ()
    phones: tuple[Phone, ...] = ()
    fxs_phones: tuple[FxsPhone, ...] = ()
    card_routes: tuple[CardRoute, ...] = ()  # only those the card has
    queues: tuple[Queue, ...] = ()
    dids: tuple[Did, ...] = ()
    agents: tuple[str, ...] = ()  # work numbers of agents with a phone: each gets a personal queue
    moh: tuple[MusicOnHold, ...] = field(default_factory=lambda: DEFAULT_MOH)
    dahdi: bool = False  # a telephony card is present: load chan_dahdi
    language: str = DEFAULT_LANGUAGE  # what trunks' callers hear the appliance's own sentences in
    # SIP guard (appliance/services/sipguard.py): sources blocked after failed authentications,
    # and the subnets phones may register and call from (empty: anywhere)
    blocked_sources: tuple[str, ...] = ()
    phone_subnets: tuple[str, ...] = ()
