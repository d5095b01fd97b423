"""Where an inbound call goes: a pure decision from the dialled number and a
snapshot of the routing table.  FastAGI's ``route`` handler carries it out.

Later rules (time conditions, VIP, sticky agent, blacklist) slot in here as more
pure steps before the DID lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from appliance import dialplan_vars as v


@dataclass(frozen=True)
class RouteDecision:
    context: str
    exten: str
    reason: str = ""  # why the caller goes to the fallback, empty otherwise

    @property
    def is_fallback(self) -> bool:
        return self.context == v.FALLBACK_CONTEXT


@dataclass(frozen=True)
class RoutingTable:
    """DID -> queue name, as of the last applied configuration."""

    did_queues: Mapping[str, str]


def normalise_did(did: str) -> str:
    return did.strip().lstrip("+")


def decide(did: str, caller: str, table: RoutingTable) -> RouteDecision:
    number = normalise_did(did)
    queue = table.did_queues.get(number) or table.did_queues.get("+" + number)
    if queue:
        return RouteDecision(v.QUEUE_CONTEXT, queue)
    return RouteDecision(v.FALLBACK_CONTEXT, "no-route", reason="no-route")
