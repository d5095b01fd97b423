"""Trunk registrations and active calls, asked of Asterisk over AMI for the console.

The console runs in its own process, so it opens its own short AMI session with the
appliance's manager account (``PJSIPShowRegistrationsOutbound`` and ``CoreShowChannels``
are both allowed to its ``reporting`` write class).  Turning the AMI events into what
is shown is pure (``report_from_events``); ``query`` is the adapter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from appliance.ami.client import AmiClient, AmiError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    name: str
    server: str
    status: str  # Registered | Unregistered | Rejected | Stopped (Asterisk's words)


@dataclass(frozen=True)
class ActiveCall:
    channel: str
    caller: str
    connected: str
    application: str
    duration: str
    state: str


@dataclass(frozen=True)
class PbxReport:
    answering: bool
    reason: str = ""
    registrations: tuple[Registration, ...] = ()
    calls: tuple[ActiveCall, ...] = ()


def report_from_events(registrations, channels) -> PbxReport:
    """AMI events (dicts or frames) -> what the console shows.  Pure."""
    regs = tuple(Registration(e.get("ObjectName") or "?", e.get("ServerUri") or "", e.get("Status") or "?")
                 for e in registrations if e.get("Event") == "OutboundRegistrationDetail")
    calls = tuple(ActiveCall(e.get("Channel") or "?", e.get("CallerIDNum") or "", e.get("ConnectedLineNum") or "",
                             e.get("Application") or "", e.get("Duration") or "", e.get("ChannelStateDesc") or "")
                  for e in channels if e.get("Event") == "CoreShowChannel")
    return PbxReport(True, registrations=regs, calls=calls)


def query(make_client: Callable[[], AmiClient], timeout: float = 3.0) -> PbxReport:
    """Ask Asterisk now; a report with ``answering=False`` and the reason if it does not answer."""
    client = make_client()
    client.start()
    try:
        if not client.wait_connected(timeout):
            return PbxReport(False, f"no AMI session within {timeout:.0f} s ({client.state})")
        _, regs = client.send_action_list("PJSIPShowRegistrationsOutbound", timeout=timeout)
        _, chans = client.send_action_list("CoreShowChannels", timeout=timeout)
        return report_from_events(regs, chans)
    except AmiError as exc:
        return PbxReport(False, str(exc) or exc.__class__.__name__)
    finally:
        client.stop()


def ami_client_factory(port: int, username: str, secret: str, host: str = "127.0.0.1"):
    """A fresh client per question: the console asks rarely and must not hold a session."""
    return lambda: AmiClient(host, port, username, secret, connect_timeout=2.0, action_timeout=5.0,
                             backoff=(0.2, 1.0))
