"""DAHDI's two files for the telephony cards found in the box, written when the
appliance starts Asterisk: ``/etc/dahdi/system.conf`` (read by ``dahdi_cfg``) and
Asterisk's ``chan_dahdi.conf`` (in the generated directory, pulled in by the static
``rootfs/etc/asterisk/chan_dahdi.conf``).

The renderers are ``hwdrivers.dahdi_conf``'s pure functions; this module is the apply
step around them: read what DAHDI detected under ``hardware_root``, build the model
(an FXS port gets the extension and name of the phone of kind ``fxs`` on its channel, from
the database: appliance/services/fxs.py; FXO lines join the trunk group), write both files
atomically, run ``dahdi_cfg`` when system.conf changed and reload chan_dahdi when its
file did.  The result says what the card has (its FXS ports, FXO lines and each PRI span's
B-channels), which the phones page, the outbound route and its capacity read.

``<data_dir>/dahdi/fxs-extensions.json`` (``{"<channel>": "<extension>"}``), where the
installer used to map ports to extensions, is read once into phones (``load_extensions``,
services/fxs.py ``import_legacy_file``) and ignored after.

Dynamic spans (``dahdi_dynamic_spans``: E1 over Ethernet, or two spans looped back to
back for a test without a card) exist only once dahdi_cfg has made them, and their numbers
and channels are DAHDI's choice: when a declared one is missing, dahdi_cfg first runs on a
file of the ``dynamic=`` lines alone (``dynamic.conf`` beside system.conf), then the spans
are read like a card's and the whole system.conf is written.  Because dahdi_cfg remakes the
dynamic spans it is given on every run, it always runs when there are any.

No telephony card is a normal outcome (a SIP-only appliance): ``no_card``, nothing is
written and nothing is loaded.  If a card was taken out, the files that still describe
it are rewritten without it.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance import proc
from appliance.confgen.apply import RELOAD_COMMANDS, write_atomic
from appliance.confgen.writer import ConfigValueError
from hwdrivers.dahdi_conf import (
    CHAN_DAHDI_CONF,
    FXO_GROUP,
    SYSTEM_CONF,
    DahdiSettings,
    DynamicSpan,
    model_from_status,
    render_chan_dahdi_conf,
    render_dynamic_conf,
    render_system_conf,
)
from hwdrivers.dahdi_status import read_status

logger = logging.getLogger(__name__)

EXTENSIONS_FILE = "fxs-extensions.json"
DYNAMIC_CONF = "dynamic.conf"


@dataclass(frozen=True)
class DahdiResult:
    outcome: str  # no_card | written | unchanged | invalid
    message: str = ""
    changed: tuple[str, ...] = ()
    spans: int = 0
    agent_ports: int = 0
    trunk_lines: int = 0
    dahdi_cfg_error: str | None = None
    fxs_channels: tuple[int, ...] = ()  # the card's FXS ports (with a phone or not)
    fxo_channels: tuple[int, ...] = ()  # its FXO lines
    span_channels: tuple[tuple[int, int], ...] = ()  # (span, B-channels) of each PRI span

    @property
    def cards_present(self) -> bool:
        """Whether Asterisk should load chan_dahdi."""
        return self.outcome in ("written", "unchanged") and bool(self.spans or self.agent_ports or self.trunk_lines)


def load_extensions(path: Path) -> dict[int, str]:
    """FXS channel -> agent extension, from the installer's former file; {} when there is none."""
    try:
        raw = json.loads(Path(path).read_text())
        return {int(channel): str(ext) for channel, ext in raw.items()}
    except FileNotFoundError:
        return {}
    except (ValueError, AttributeError, TypeError) as exc:
        logger.error("%s is unreadable (%s): no FXS port gets an agent extension", path, exc)
        return {}


def run_dahdi_cfg(system_conf: Path) -> None:
    """Apply system.conf to the driver (on the appliance, where dahdi-tools is installed)."""
    program = shutil.which("dahdi_cfg", path=proc.BASE_ENV["PATH"])
    if program is None:
        raise proc.CommandFailed("configure the DAHDI spans", ["dahdi_cfg"], 127, "dahdi_cfg is not installed")
    proc.run([program, "-c", str(system_conf)], what="configure the DAHDI spans", capture=True, timeout=60)


def apply_dahdi(hardware_root: Path, system_conf: Path, generated_dir: Path, *, extensions: dict[int, str],
                settings: DahdiSettings, side: str = "cpe", trunk_group: int = FXO_GROUP,
                dahdi_cfg: Callable[[Path], None] | None = run_dahdi_cfg,
                cli: Callable[[str], str] | None = None, names: dict[int, str] | None = None,
                dynamic: tuple[DynamicSpan, ...] = ()) -> DahdiResult:
    """``extensions``/``names``: FXS channel -> the extension and caller name of its phone;
    ``dynamic``: the dynamic spans the settings declare (made first, then configured)."""
    system_conf, chan_conf = Path(system_conf), Path(generated_dir) / CHAN_DAHDI_CONF
    status = read_status(hardware_root)
    if dynamic and dahdi_cfg is not None and not _all_present(status, dynamic):
        made = _make_dynamic_spans(system_conf.with_name(DYNAMIC_CONF), dynamic, dahdi_cfg)
        if made is not None:
            return DahdiResult("invalid", made, dahdi_cfg_error=made)
        status = read_status(hardware_root)
    if not status.spans and not (system_conf.exists() or chan_conf.exists()):
        logger.info("no telephony card: DAHDI is not configured (calls use SIP only)")
        return DahdiResult("no_card", "no telephony card: calls use SIP only")
    try:
        model = model_from_status(status, extensions, names=names, side=side, trunk_group=trunk_group,
                                  settings=settings, dynamic=dynamic)
        texts = {system_conf: render_system_conf(model), chan_conf: render_chan_dahdi_conf(model)}
    except ConfigValueError as exc:
        logger.error("DAHDI configuration not written: %s", exc)
        return DahdiResult("invalid", str(exc))
    for path in texts:
        path.parent.mkdir(parents=True, exist_ok=True)
    changed = tuple(path.name for path, text in texts.items() if write_atomic(path, text))
    fxs = tuple(c.number for span in status.spans if not span.digital for c in span.channels if c.port_type == "fxs")
    result = DahdiResult("written" if changed else "unchanged", changed=changed, spans=len(model.spans),
                         agent_ports=len(model.agent_ports), trunk_lines=len(model.trunk_lines),
                         fxs_channels=fxs, fxo_channels=tuple(t.channel for t in model.trunk_lines),
                         span_channels=tuple((s.span, len(s.bchans)) for s in model.spans))
    if (SYSTEM_CONF in changed or model.dynamic) and dahdi_cfg is not None:
        try:
            dahdi_cfg(system_conf)
        except (proc.CommandFailed, OSError) as exc:
            logger.error("%s", exc)
            result = DahdiResult(**{**result.__dict__, "dahdi_cfg_error": str(exc)})
    if CHAN_DAHDI_CONF in changed and cli is not None:
        cli(RELOAD_COMMANDS[CHAN_DAHDI_CONF])
    if changed:
        logger.info("DAHDI configuration written (%s): %d spans, %d agent ports, %d trunk lines",
                    ", ".join(changed), result.spans, result.agent_ports, result.trunk_lines)
    return result


def _all_present(status, dynamic: tuple[DynamicSpan, ...]) -> bool:
    names = {span.name for span in status.spans}
    return all(d.name in names for d in dynamic)


def _make_dynamic_spans(path: Path, dynamic: tuple[DynamicSpan, ...], dahdi_cfg: Callable[[Path], None]) -> str | None:
    """dahdi_cfg on the ``dynamic=`` lines alone; the reason when it failed, else None."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render_dynamic_conf(dynamic))
    try:
        dahdi_cfg(path)
    except (proc.CommandFailed, OSError) as exc:
        logger.error("DAHDI dynamic spans not made: %s", exc)
        return str(exc)
    logger.info("DAHDI dynamic spans made: %s", ", ".join(d.name for d in dynamic))
    return None
