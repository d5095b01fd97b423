"""Benchmark: voice-menu step latency with 50 callers in the menus at once.

Two menus lead to each other on key 1; SIPp keeps 50 trunk callers in them at once, each
keying 1 ten times (RFC 2833, each key cutting its prompt short).  One step is measured
from Asterisk's own log: from ``Read()`` returning with the key (the dialplan's next
priority, ``CC_MENU_EVENT=keys``) to the next prompt starting to play on that channel
(``Playing '...'``), so it covers the FastAGI round trip, the pure step and the variables
set; the FastAGI ``menu`` handler's own time (connection to last answer) is given too.

The baseline, in the same run on the same Asterisk: the same two menus written by hand as
static dialplan (``Read`` then ``Goto``, the same prompts, no FastAGI), reached on their own
number; its step is measured the same way, so each figure comes with the ratio to it, and
the time a step adds over it is given too (Asterisk's log stamps milliseconds: a static step
is usually under one, so the ratio of the medians may be undefined).

Not a test: it asserts nothing about speed, it measures.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import TRUNK_IP, Sipp, free_port, wait_until, write_dtmf_pcap  # noqa: E402

from bench.common import figure, new_appliance, percentile, write_results  # noqa: E402

DID = "88002000"
STATIC_DID = "77002000"
# The same two menus as static dialplan: the raw Asterisk a menu step cannot beat.
STATIC_DIALPLAN = f"""; Benchmark baseline: two menus leading to each other on 1, without FastAGI.
[cc-from-trunk]
exten => {STATIC_DID},1,Answer()
 same => n,Goto(bench-ping,s,1)

[bench-ping]
exten => s,1,Read(KEY,one-moment-please,1,,1,2)
 same => n,Set(CC_MENU_EVENT=keys)
 same => n,GotoIf($["${{KEY}}" = "1"]?bench-pong,s,1)
 same => n,Hangup()

[bench-pong]
exten => s,1,Read(KEY,hello,1,,1,2)
 same => n,Set(CC_MENU_EVENT=keys)
 same => n,GotoIf($["${{KEY}}" = "1"]?bench-ping,s,1)
 same => n,Hangup()
"""
_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\].*?(PJSIP/trunk-[^\"'>]+)[\"'>](.*)$")


def configure(app) -> None:
    cfg = app.config
    cfg.create("trunks", {"name": "pstn", "host": TRUNK_IP, "port": 5060, "match": TRUNK_IP}, actor="bench")
    app.menus.create({"name": "ping", "prompt": "en-one-moment", "timeout_seconds": 2, "max_tries": 1}, actor="bench")
    app.menus.create({"name": "pong", "prompt": "en-hello", "timeout_seconds": 2, "max_tries": 1, "live": True,
                      "options": [{"digit": "1", "action": "menu", "target": "ping"}]}, actor="bench")
    app.menus.update("ping", {"options": [{"digit": "1", "action": "menu", "target": "pong"}]},
                     actor="bench")
    cfg.create("dids", {"number": DID, "menu": "ping"}, actor="bench")


def step_latencies(log: Path, start: int = 0) -> list[float]:
    """Milliseconds from each key read to the next prompt playing on the same channel, in the
    log from byte ``start`` on."""
    pending: dict[str, dt.datetime] = {}
    out = []
    with open(log, "rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        when, channel, rest = dt.datetime.fromisoformat(match.group(1)), match.group(2), match.group(3)
        if "CC_MENU_EVENT=keys" in rest:
            pending[channel] = when
        elif " Playing '" in rest and channel in pending:
            out.append((when - pending.pop(channel)).total_seconds() * 1000)
    return out


def _callers(settings, work: Path, did: str, calls: int, concurrent: int) -> int:
    """``calls`` trunk callers to ``did``, ``concurrent`` at once, each keying 1 ten times."""
    sipp = Sipp("trunk_call_keys_then_bye.xml", TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP),
                ("127.0.0.1", settings.sip_port), {"caller": "13900000000", "caller_name": "Bench",
                                                   "dtmf_pcap": str(write_dtmf_pcap(work / "keys.pcap", "1" * 10))},
                work / "sipp", calls=calls, rate=concurrent / 4, limit=concurrent, service=did, timeout_s=600)
    return sipp.run(timeout=calls * 2 + 120)


def run(calls: int = 200, concurrent: int = 50) -> Path:
    app, settings, work = new_appliance("menus")
    log = settings.asterisk_dir / "log" / "messages.log"
    try:
        configure(app)
        custom = settings.asterisk_dir / "etc" / "custom"
        custom.mkdir(parents=True, exist_ok=True)
        (custom / "extensions.conf").write_text(STATIC_DIALPLAN)
        app.start(web=False)
        wait_until(lambda: app.ami.connected, 30, "AMI")
        static_rc = _callers(settings, work, STATIC_DID, calls, concurrent)
        static = step_latencies(log)
        start = log.stat().st_size
        app.agi.latency.clear()
        rc = _callers(settings, work, DID, calls, concurrent)
        handler_ms = [s * 1000 for script, s in app.agi.latency if script == "menu"]
        steps = step_latencies(log, start)
    finally:
        app.stop()
    extra = {"calls": calls, "concurrent_callers": concurrent, "sipp_rc": rc, "baseline_sipp_rc": static_rc,
             "baseline_is": "the same menus as static dialplan (Read, Goto), same run"}
    return write_results("menus", [
        figure("menu step latency p50 (key read -> next prompt plays)", percentile(steps, 50), "ms",
               percentile(static, 50), steps=len(steps), baseline_steps=len(static), **extra),
        figure("menu step latency p99 (key read -> next prompt plays)", percentile(steps, 99), "ms",
               percentile(static, 99), steps=len(steps), baseline_steps=len(static), **extra),
        figure("menu step added over static dialplan p50", percentile(steps, 50) - percentile(static, 50), "ms",
               **extra),
        figure("menu step added over static dialplan p99", percentile(steps, 99) - percentile(static, 99), "ms",
               **extra),
        figure("fastagi menu handler p50", percentile(handler_ms, 50), "ms", turns=len(handler_ms), **extra),
        figure("fastagi menu handler p99", percentile(handler_ms, 99), "ms", turns=len(handler_ms), **extra),
    ])


if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()
    print(run())
