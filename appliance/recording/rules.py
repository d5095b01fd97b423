"""Whether a call is recorded, pure: the five-step setting of FreePBX, with one precedence.

Each of a call's direction (inbound, outbound, internal), trunk, queue and agent carries a
setting, one of ``MODES``:

- ``force``: recorded, and nobody may stop it (pausing, e.g. while a card number is read
  out, stays possible);
- ``yes``: recorded; the agent may stop it;
- ``dontcare``: this element has no opinion;
- ``no``: not recorded, but the agent may start it on demand;
- ``never``: not recorded, not even on demand.

Precedence: any ``force`` wins; otherwise any ``never`` wins; otherwise the most specific
element that says ``yes`` or ``no`` decides (agent, then queue, then trunk, then
direction); when every element says ``dontcare`` the call is not recorded but may be
started on demand. So ``force`` and ``never`` are for the rules that must hold (a
compliance line, a staff line), and ``yes``/``no`` for defaults that a more specific
element may override.

The outcome is one of ``RECORD`` (MixMonitor on, audible), ``STANDBY`` (MixMonitor on but
muted: the agent may start it; its file is thrown away if nobody does) and ``OFF`` (no
MixMonitor at all).
"""

from __future__ import annotations

from dataclasses import dataclass

FORCE, YES, DONTCARE, NO, NEVER = "force", "yes", "dontcare", "no", "never"
MODES = (FORCE, YES, DONTCARE, NO, NEVER)
ANSWER, RINGING = "answer", "ringing"
START_AT = (ANSWER, RINGING)  # from the agent's answer (bridged audio only), or from the ring-back on
DIRECTIONS = ("inbound", "outbound", "internal")

RECORD, STANDBY, OFF = "record", "standby", "off"


@dataclass(frozen=True)
class Decision:
    outcome: str  # RECORD | STANDBY | OFF
    forced: bool = False
    reason: str = ""  # which element decided, e.g. "queue sales: force"

    @property
    def monitor(self) -> bool:
        """Whether MixMonitor runs on the call at all."""
        return self.outcome != OFF


def decide(direction: tuple[str, str], trunk: tuple[str, str] = ("", DONTCARE),
           queue: tuple[str, str] = ("", DONTCARE), agent: tuple[str, str] = ("", DONTCARE)) -> Decision:
    """Each argument is (name, mode); an empty name or an unknown mode counts as ``dontcare``."""
    elements = [("agent", agent), ("queue", queue), ("trunk", trunk), ("direction", direction)]
    known = [(kind, name, mode) for kind, (name, mode) in elements if name and mode in MODES]
    for kind, name, mode in known:
        if mode == FORCE:
            return Decision(RECORD, True, f"{kind} {name}: force")
    for kind, name, mode in known:
        if mode == NEVER:
            return Decision(OFF, False, f"{kind} {name}: never")
    for kind, name, mode in known:  # most specific first
        if mode == YES:
            return Decision(RECORD, False, f"{kind} {name}: yes")
        if mode == NO:
            return Decision(STANDBY, False, f"{kind} {name}: no")
    return Decision(STANDBY, False, "no setting says yes or no")


def mixmonitor_options(start_at: str) -> str:
    """MixMonitor's options: ``b`` writes only while the channel is bridged (from the answer)."""
    return "b" if start_at != RINGING else ""
