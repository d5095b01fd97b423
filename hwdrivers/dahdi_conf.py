"""/etc/dahdi/system.conf and Asterisk's chan_dahdi.conf, rendered from a plain model.

Both renderers are pure ``render_*(model) -> str``; ``model_from_status`` builds the
model from what ``dahdi_status.read_status`` detected plus the installer's choices
(which agent extension sits on which FXS port, which trunk group the FXO lines join).

The naming trap, once: DAHDI names signalling after the *far end*.  An FXS port (a
phone plugs into it) is configured ``fxoks`` in system.conf and ``signalling=fxo_ks``
in chan_dahdi.conf; an FXO port (a telephone line plugs into it) is ``fxsks`` and
``signalling=fxs_ks``.  Swap them and dahdi_cfg refuses the channel ("Selected
signaling not supported ... FXS signaling is being used on a FXS interface").

Dynamic spans (``dahdi_dynamic``): spans with no card under them, made by ``dahdi_cfg``
from ``dynamic=<driver>,<address>,<channels>,<timing>`` lines: ``eth`` carries the span over
Ethernet (TDMoE, to a remote channel bank or E1 gateway), ``loc`` loops two spans of the same
kernel back to back (``loc,1:0`` and ``loc,1:1``: how an E1 is tested without a card).  A
dynamic span has no line settings (its driver has no ``spanconfig``), and dahdi_cfg applies
``span=`` lines *before* it creates the dynamic spans, so a ``span=`` line for one fails the
whole run ("DAHDI_SPANCONFIG failed"): its channels are configured (``bchan``/``dchan``),
never its line.  DAHDI names it ``DYN/<driver>/<address>``; the appliance takes only the
dynamic spans its settings declare (``dahdi_dynamic_spans``), never another one.

An E1 carries 31 timeslots: B-channels 1-15 and 17-31, the D-channel on 16, framing
``ccs``, coding ``hdb3`` (``crc4`` where the carrier uses it, as in China).  A T1 carries
23 B-channels and the D-channel on 24, ``esf``/``b8zs``.  Syntax as in dahdi-tools'
``system.conf.sample``: ``span=<num>,<timing>,<lbo>,<framing>,<coding>[,crc4]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from appliance.confgen.writer import HEADER, ConfigValueError, ConfText, name, value
from appliance.dialplan_vars import PHONE_CONTEXT, TRUNK_CONTEXT
from hwdrivers.dahdi_status import DahdiStatus

SYSTEM_CONF = "system.conf"
CHAN_DAHDI_CONF = "chan_dahdi.conf"

ECHO_CANCELLERS = ("oslec", "mg2", "kb1", "sec2", "sec", "hwec", "hpec")
SIDES = {"cpe": "pri_cpe", "net": "pri_net"}  # cpe: we are the user side, the carrier is the network
LINES = {
    # line: (channels, D-channel position, framing, coding, default switchtype)
    "E1": (31, 16, "ccs", "hdb3", "euroisdn"),
    "T1": (24, 24, "esf", "b8zs", "national"),
}
# chan_dahdi groups, which outgoing calls dial (``DAHDI/g<group>/<number>``: the first free
# channel of the group): the FXO lines are one group, each PRI span its own, so the outbound
# route can put each in its place among the SIP trunks; the agents' FXS ports are apart (9).
FXO_GROUP = 1
SPAN_GROUP_BASE = 10


def span_group(span: int) -> int:
    """The chan_dahdi group of PRI span ``span``'s B-channels (span 1: group 11)."""
    return SPAN_GROUP_BASE + span


_ZONE = re.compile(r"^[a-z]{2}(-old)?$")
DYNAMIC_DRIVERS = ("loc", "eth", "ethmf")
DYNAMIC_LINES = {31: "E1", 24: "T1"}  # channels of a dynamic PRI span -> the line it stands for
_DYNAMIC_ADDRESS = re.compile(r"^[A-Za-z0-9:/._-]{1,39}$")
_CALLERID_NAME = re.compile(r'^[^"<>\\]*$')


@dataclass(frozen=True)
class PriSpan:
    """One E1/T1 port carrying ISDN PRI."""

    span: int
    basechan: int
    line: str = "E1"
    side: str = "cpe"
    timing: int = 1  # 1 = first choice of clock source, 2 = second, ..., 0 = never
    lbo: int = 0
    crc4: bool = True
    group: int = 0
    context: str = TRUNK_CONTEXT
    description: str = ""
    dynamic: bool = False  # a dahdi_dynamic span: channels configured, no span= line

    def _layout(self):
        if self.line not in LINES:
            raise ConfigValueError(f"span {self.span}: line must be E1 or T1, not {self.line!r}")
        return LINES[self.line]

    @property
    def dchan(self) -> int:
        return self.basechan + self._layout()[1] - 1

    @property
    def bchans(self) -> tuple[int, ...]:
        count = self._layout()[0]
        return tuple(c for c in range(self.basechan, self.basechan + count) if c != self.dchan)


@dataclass(frozen=True)
class DynamicSpan:
    """A ``dynamic=`` line of system.conf: a span dahdi_cfg makes with no card under it."""

    driver: str  # loc, eth, ethmf
    address: str  # loc: <key>:<id> (1:0 and 1:1 are a pair); eth: <interface>/<MAC>
    channels: int = 31  # 31: an E1, 24: a T1
    timing: int = 0  # 0: never the clock source (the kernel's own timer drives a loc pair)

    @property
    def name(self) -> str:
        """The span's name in /proc/dahdi and sysfs (``DYN/loc/1:0``)."""
        return f"DYN/{self.driver}/{self.address}"

    @property
    def line(self) -> str:
        return DYNAMIC_LINES.get(self.channels, "")

    def conf_line(self) -> str:
        return f"dynamic={self.driver},{self.address},{self.channels},{self.timing}"


def parse_dynamic_spans(text: str) -> tuple[DynamicSpan, ...]:
    """The ``dahdi_dynamic_spans`` setting: ``driver,address[,channels[,timing]]`` per span,
    spans separated by spaces (``loc,1:0,31,0 loc,1:1,31,0``); ConfigValueError naming the
    part that is wrong."""
    spans = []
    for part in text.split():
        fields = part.split(",")
        if not 2 <= len(fields) <= 4:
            raise ConfigValueError(f"dynamic span {part!r}: write driver,address[,channels[,timing]]")
        driver, address = fields[0], fields[1]
        if driver not in DYNAMIC_DRIVERS:
            raise ConfigValueError(f"dynamic span {part!r}: driver must be one of {', '.join(DYNAMIC_DRIVERS)}")
        if not _DYNAMIC_ADDRESS.match(address):
            raise ConfigValueError(f"dynamic span {part!r}: address {address!r} is not a DAHDI dynamic address")
        try:
            channels = int(fields[2]) if len(fields) > 2 else 31
            timing = int(fields[3]) if len(fields) > 3 else 0
        except ValueError:
            raise ConfigValueError(f"dynamic span {part!r}: channels and timing are whole numbers") from None
        if channels not in DYNAMIC_LINES or timing < 0:
            raise ConfigValueError(f"dynamic span {part!r}: channels must be 31 (E1) or 24 (T1), timing 0 or more")
        span = DynamicSpan(driver, address, channels, timing)
        if any(s.name == span.name for s in spans):
            raise ConfigValueError(f"dynamic span {span.name} is declared twice")
        spans.append(span)
    return tuple(spans)


@dataclass(frozen=True)
class AgentPort:
    """An FXS port with an agent's analog phone on it, reached as ``extension``."""

    channel: int
    extension: str
    name: str = ""


@dataclass(frozen=True)
class TrunkLine:
    """An FXO port with a telephone line on it, used as a trunk in ``group``."""

    channel: int
    group: int = 1
    context: str = TRUNK_CONTEXT


@dataclass(frozen=True)
class DahdiSettings:
    tone_zone: str = "cn"  # dial, busy and ring tones of the country (loadzone/defaultzone)
    echo_canceller: str = "oslec"
    agent_context: str = PHONE_CONTEXT
    agent_group: int = 9  # apart from the trunk groups, so dialling a trunk group never rings a phone
    switchtype: str = ""  # "" = euroisdn for E1, national for T1


@dataclass(frozen=True)
class DahdiModel:
    spans: tuple[PriSpan, ...] = ()
    agent_ports: tuple[AgentPort, ...] = ()
    trunk_lines: tuple[TrunkLine, ...] = ()
    settings: DahdiSettings = field(default_factory=DahdiSettings)
    dynamic: tuple[DynamicSpan, ...] = ()  # created by dahdi_cfg before their channels are configured


def channel_ranges(channels: Iterable[int]) -> str:
    """(1, 2, 3, 5, 17, 18) -> ``1-3,5,17-18``, the channel list syntax of both files."""
    runs: list[list[int]] = []
    for c in sorted(set(channels)):
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def validate(model: DahdiModel) -> None:
    """Refuse a model that would make dahdi_cfg or chan_dahdi fail, naming the value."""
    s = model.settings
    if not _ZONE.match(s.tone_zone):
        raise ConfigValueError(f"tone zone {s.tone_zone!r} is not a two-letter country code such as cn")
    if s.echo_canceller not in ECHO_CANCELLERS:
        raise ConfigValueError(f"echo canceller {s.echo_canceller!r} is not one of {', '.join(ECHO_CANCELLERS)}")
    seen: dict[int, str] = {}
    for owner, channels in _channel_owners(model):
        for c in channels:
            if c in seen:
                raise ConfigValueError(f"channel {c} is used by both {seen[c]} and {owner}")
            seen[c] = owner
    for span in model.spans:
        value(span.description)
        if span.side not in SIDES:
            raise ConfigValueError(f"span {span.span}: side must be cpe or net, not {span.side!r}")
        if span.timing < 0 or not 0 <= span.lbo <= 7:
            raise ConfigValueError(f"span {span.span}: timing must be >= 0 and lbo 0-7")
    for port in model.agent_ports:
        name(port.extension)
        value(port.name)  # refuses line breaks
        if not _CALLERID_NAME.match(port.name):
            raise ConfigValueError(f"agent name {port.name!r} may not contain quotes, < or >")


def _channel_owners(model: DahdiModel):
    for span in model.spans:
        yield f"span {span.span}", (*span.bchans, span.dchan)
    for port in model.agent_ports:
        yield f"agent port {port.extension}", (port.channel,)
    for line in model.trunk_lines:
        yield f"trunk line on channel {line.channel}", (line.channel,)


# ---------------------------------------------------------------- system.conf

def _system_span(span: PriSpan, ec: str) -> list[str]:
    _, _, framing, coding, _ = LINES[span.line]
    options = [str(span.span), str(span.timing), str(span.lbo), framing, coding]
    if span.line == "E1" and span.crc4:
        options.append("crc4")
    bchans = channel_ranges(span.bchans)
    line = [f"span={','.join(options)}"] if not span.dynamic else [
        "# (a dynamic span has no line settings: no span= line)"]
    return [
        f"# span {span.span}: {span.line} PRI, {'user side (cpe)' if span.side == 'cpe' else 'network side (net)'}"
        + (f", {value(span.description)}" if span.description else ""),
        *line,
        f"bchan={bchans}",
        f"dchan={span.dchan}",
        f"echocanceller={ec},{bchans}",
    ]


def _system_analog(title: str, keyword: str, channels: list[int], ec: str) -> list[str]:
    if not channels:
        return []
    listed = channel_ranges(channels)
    return [f"# {title}", f"{keyword}={listed}", f"echocanceller={ec},{listed}"]


def render_dynamic_conf(dynamic: Iterable[DynamicSpan]) -> str:
    """A system.conf with only the ``dynamic=`` lines: dahdi_cfg makes the spans, so that
    their numbers and channels can be read before the whole file is written."""
    lines = [HEADER.replace(";", "#", 1).rstrip("\n"), "# DAHDI dynamic spans only (dahdi_cfg): made before the rest"]
    return "\n".join([*lines, *(d.conf_line() for d in dynamic)]) + "\n"


def render_system_conf(model: DahdiModel) -> str:
    """/etc/dahdi/system.conf, read by dahdi_cfg."""
    validate(model)
    s = model.settings
    blocks = []
    if model.dynamic:
        blocks.append(["# dynamic spans (dahdi_dynamic): made by dahdi_cfg, no card under them",
                       *(d.conf_line() for d in model.dynamic)])
    blocks += [_system_span(span, s.echo_canceller) for span in model.spans]
    blocks.append(_system_analog("FXS ports: agents' analog phones (FXO signalling, kewlstart)", "fxoks",
                                 [p.channel for p in model.agent_ports], s.echo_canceller))
    blocks.append(_system_analog("FXO ports: telephone lines used as trunks (FXS signalling, kewlstart)",
                                 "fxsks", [t.channel for t in model.trunk_lines], s.echo_canceller))
    blocks.append([f"loadzone={s.tone_zone}", f"defaultzone={s.tone_zone}"])
    lines = [HEADER.replace(";", "#", 1).rstrip("\n"), "# DAHDI spans and channels (dahdi_cfg)"]
    for block in filter(None, blocks):
        lines += ["", *block]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- chan_dahdi.conf

def _chan_span(conf: ConfText, span: PriSpan, settings: DahdiSettings) -> None:
    conf.blank().raw(f"; span {span.span}: {span.line} PRI, {span.side}")
    conf.options((
        ("signalling", SIDES[span.side]),
        ("switchtype", settings.switchtype or LINES[span.line][4]),
        ("context", name(span.context)),
        ("group", span.group),
        ("callerid", "asreceived"),
    ))
    conf.option("channel", channel_ranges(span.bchans), op="=>")


def _chan_agent(conf: ConfText, port: AgentPort, settings: DahdiSettings) -> None:
    callerid = f'"{port.name}" <{port.extension}>' if port.name else f"<{port.extension}>"
    conf.blank().raw(f"; FXS port for agent extension {name(port.extension)}")
    conf.options((
        ("signalling", "fxo_ks"),
        ("context", name(settings.agent_context)),
        ("group", settings.agent_group),
        ("callerid", callerid),
    ))
    conf.option("channel", port.channel, op="=>")


def _chan_trunk(conf: ConfText, line: TrunkLine) -> None:
    conf.blank().raw(f"; FXO line on channel {line.channel}, trunk group {line.group}")
    conf.options((
        ("signalling", "fxs_ks"),
        ("context", name(line.context)),
        ("group", line.group),
        ("callerid", "asreceived"),
    ))
    conf.option("channel", line.channel, op="=>")


def render_chan_dahdi_conf(model: DahdiModel) -> str:
    """Asterisk's chan_dahdi.conf.  Options carry over to every later ``channel =>``
    line, so each block sets all of its own (signalling, context, group, callerid)."""
    validate(model)
    conf = ConfText("DAHDI channels: PRI spans, agents' FXS ports, FXO trunk lines")
    conf.section("channels")
    conf.options((
        ("usecallerid", True),
        ("hidecallerid", False),
        ("callwaiting", False),
        ("threewaycalling", False),
        ("transfer", False),
        ("echocancel", True),
        ("echocancelwhenbridged", False),
        ("relaxdtmf", True),
        ("immediate", False),
    ))
    for span in model.spans:
        _chan_span(conf, span, model.settings)
    for port in model.agent_ports:
        _chan_agent(conf, port, model.settings)
    for line in model.trunk_lines:
        _chan_trunk(conf, line)
    return conf.render()


RENDERERS = {SYSTEM_CONF: render_system_conf, CHAN_DAHDI_CONF: render_chan_dahdi_conf}


# ---------------------------------------------------------------- from detection

def model_from_status(status: DahdiStatus, extensions: Mapping[int, str] | None = None, *,
                      names: Mapping[int, str] | None = None, side: str = "cpe", trunk_group: int = FXO_GROUP,
                      settings: DahdiSettings | None = None,
                      dynamic: tuple[DynamicSpan, ...] = ()) -> DahdiModel:
    """The model for what was detected.

    Digital spans become PRI spans (clock taken from the first span, then the next as
    backup, in span order), each in its own group (``span_group``). A dynamic span
    (``DYN/...``) is ours only when ``dynamic`` declares it; another one (a test's carrier, a
    span some other tool made) is left alone. An FXS port becomes an agent port when
    ``extensions`` (channel -> extension) names it; one without an extension is left out, so
    it gives no dial tone rather than a phone nobody can reach. Every FXO port joins
    ``trunk_group``.
    """
    extensions, names = extensions or {}, names or {}
    spans, agents, trunks = [], [], []
    declared = {d.name: d for d in dynamic}
    for span in status.spans:
        if span.name.startswith("DYN/"):
            own = declared.get(span.name)
            if own is not None and own.line:
                first = span.basechan or (span.channels[0].number if span.channels else 0)
                spans.append(PriSpan(span=span.number, basechan=first, line=own.line, side=side, timing=0,
                                     group=span_group(span.number), description=span.description, dynamic=True))
            continue
        if span.digital:
            first = span.basechan or (span.channels[0].number if span.channels else 0)
            spans.append(PriSpan(span=span.number, basechan=first, line=span.kind if span.kind != "J1" else "T1",
                                 side=side, timing=len(spans) + 1, group=span_group(span.number),
                                 description=span.description))
            continue
        for channel in span.channels:
            if channel.port_type == "fxs" and channel.number in extensions:
                agents.append(AgentPort(channel.number, extensions[channel.number], names.get(channel.number, "")))
            elif channel.port_type == "fxo":
                trunks.append(TrunkLine(channel.number, trunk_group))
    return DahdiModel(tuple(spans), tuple(agents), tuple(trunks), settings or DahdiSettings(), dynamic=tuple(dynamic))
