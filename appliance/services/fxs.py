"""The telephony card's part of the configuration: analog phones on FXS ports (phones of
kind ``fxs``), and the card's ways out in the outbound route (``CardRoute``: the FXO lines'
group, or one PRI span).

- ``dahdi_phones()``: FXS channel -> (extension, caller name), what chan_dahdi.conf gives
  each port (appliance/confgen/dahdi.py), read from the phones;
- ``import_legacy_file()``: the installer's ``fxs-extensions.json`` of before, read into
  phones once (at the first start after the upgrade) and renamed ``*.imported``, so it is
  never read again;
- ``CardFacts``: what the card has now (from the last DAHDI apply): its FXS ports, FXO
  lines and each PRI span's B-channels; a phone or route the card no longer has is
  ``missing`` (shown as such, left out of Asterisk's files);
- the capacity of each card route (a span's B-channels, the FXO lines), which the
  outbound compliance check counts like a SIP trunk's ``max_channels``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from appliance.db import models as m
from hwdrivers.dahdi_conf import FXO_GROUP, span_group

logger = logging.getLogger(__name__)

KIND = "fxs"  # Phone.kind of an analog phone on an FXS port
LINES = ("fxo", "pri")  # CardRoute.line
IMPORTED_SUFFIX = ".imported"


@dataclass(frozen=True)
class CardFacts:
    """What the telephony card has, as the last DAHDI apply found it (none: no card)."""

    fxs_channels: tuple[int, ...] = ()
    fxo_channels: tuple[int, ...] = ()
    span_channels: tuple[tuple[int, int], ...] = ()  # (span, B-channels)

    @classmethod
    def of(cls, result) -> "CardFacts":
        """From a ``confgen.dahdi.DahdiResult`` (None: not configured yet)."""
        if result is None:
            return cls()
        return cls(tuple(result.fxs_channels), tuple(result.fxo_channels), tuple(result.span_channels))

    def capacity(self, line: str, span: int = 0) -> int:
        """The calls a card route can carry at once: 0 when the card has no such line."""
        if line == "fxo":
            return len(self.fxo_channels)
        return dict(self.span_channels).get(span, 0)


def group_of(line: str, span: int = 0) -> int:
    """The chan_dahdi group a card route dials (hwdrivers/dahdi_conf.py)."""
    return FXO_GROUP if line == "fxo" else span_group(span)


def channel_pattern(line: str, span: int, facts: CardFacts) -> str:
    """A regular expression for the channel names of a card route's calls (its capacity is
    counted with ``CHANNELS()``; its hang-up causes are told apart with ``HANGUPCAUSE_KEYS()``):
    a PRI span's calls are ``DAHDI/i<span>/<number>-<n>``, an analog line's ``DAHDI/<channel>-<n>``."""
    if line == "pri":
        return f"^DAHDI/i{span}/"
    return "^DAHDI/(" + "|".join(str(c) for c in facts.fxo_channels) + ")-"


def dahdi_phones() -> tuple[dict[int, str], dict[int, str]]:
    """(FXS channel -> extension, FXS channel -> caller name) of the phones of kind fxs."""
    rows = m.Phone.select(m.Phone.dahdi_channel, m.Phone.extension, m.Phone.callerid_name).where(
        m.Phone.kind == KIND, m.Phone.dahdi_channel.is_null(False))
    extensions, names = {}, {}
    for row in rows:
        extensions[row.dahdi_channel] = row.extension
        names[row.dahdi_channel] = row.callerid_name
    return extensions, names


def import_legacy_file(path: Path, db) -> int:
    """The installer's former ``{"<channel>": "<extension>"}`` file, read into phones of kind
    fxs, once: entries whose extension or channel is already a phone's are left out (logged);
    then the file is renamed ``<name>.imported`` and never read again.  The number imported."""
    from appliance.confgen.dahdi import load_extensions

    path = Path(path)
    if not path.exists():
        return 0
    imported = 0
    with db.atomic():
        for channel, extension in sorted(load_extensions(path).items()):
            taken = m.Phone.select().where((m.Phone.extension == extension) | (m.Phone.dahdi_channel == channel))
            if taken.exists() or not extension.isdigit() or not 2 <= len(extension) <= 16:
                logger.warning("%s: port %s -> %s not imported (the extension or port is taken, or not an "
                               "extension)", path, channel, extension)
                continue
            m.Phone.create(extension=extension, secret="", kind=KIND, dahdi_channel=channel)
            m.AuditLog.create(username="system", action="create", object_type="phones", object_id=extension,
                              detail=json.dumps({"kind": KIND, "dahdi_channel": channel, "from": path.name},
                                                sort_keys=True))
            imported += 1
    path.rename(path.with_name(path.name + IMPORTED_SUFFIX))
    logger.info("%s: %d FXS ports read into phones; the file is now %s and no longer read", path, imported,
                path.name + IMPORTED_SUFFIX)
    return imported


def port_states(facts: CardFacts) -> tuple[dict[int, str], set[str]]:
    """(channel -> extension of each fxs phone whose port the card has, extensions of those
    whose port it no longer has): the ports whose state the phones page follows."""
    extensions, _ = dahdi_phones()
    present = set(facts.fxs_channels)
    return ({c: e for c, e in extensions.items() if c in present},
            {e for c, e in extensions.items() if c not in present})


def channel_routes(facts: CardFacts) -> dict[str, str]:
    """Which card route a DAHDI channel's call is on (``engine.live.trunk_of``): "i<span>" of
    each PRI span and "<channel>" of each FXO line -> the route's name."""
    out = {}
    for route in m.CardRoute.select():
        if route.line == "pri" and facts.capacity("pri", route.span):
            out[f"i{route.span}"] = route.name
        elif route.line == "fxo":
            out.update({str(c): route.name for c in facts.fxo_channels})
    return out


def outbound_route(facts: CardFacts) -> list[dict]:
    """The outbound route as the admin reads it: every SIP trunk and card route, in the order
    outgoing calls try them (priority, then name; priority 0, never, last), each with
    ``kind`` (sip, fxo, pri), ``name``, ``display_name``, ``priority``, ``capacity`` (calls
    at once; 0: no limit for a SIP trunk), ``on_card`` (False: a card route the card does
    not have, left out of the dialplan) and ``order`` (1, 2, ... as calls try them; None:
    never tried)."""
    rows = [{"kind": "sip", "name": t.name, "display_name": t.display_name or t.name,
             "priority": t.outbound_priority, "capacity": t.max_channels, "on_card": True}
            for t in m.Trunk.select()]
    rows += [{"kind": r.line, "name": r.name, "display_name": r.display_name or r.name, "span": r.span,
              "priority": r.outbound_priority, "capacity": facts.capacity(r.line, r.span),
              "on_card": bool(facts.capacity(r.line, r.span))} for r in m.CardRoute.select()]
    rows.sort(key=lambda r: (r["priority"] == 0, r["priority"], r["name"]))
    tried = [r for r in rows if r["priority"] and r["on_card"]]
    for r in rows:  # the place outgoing calls try it in; None: never tried
        r["order"] = tried.index(r) + 1 if r in tried else None
    return rows
