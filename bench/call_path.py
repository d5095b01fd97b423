"""Benchmark: call setup through the full path against a static dialplan.

N SIPp trunk calls at a fixed rate go (a) through the appliance's path — FastAGI
``route`` decides, the call enters the queue, an auto-answering SIPp agent takes it —
and (b) through a static dialplan on the same Asterisk in the same run (DID straight
into the same queue, no AGI).  Figures: setup latency (INVITE -> 200 OK) p50/p99,
failed calls, and the call setup rate with its ratio appliance / bare Asterisk.

Not a test: it asserts nothing about speed, it measures.
"""

from __future__ import annotations

import csv
import socket
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import Phone, Sipp, TRUNK_IP, free_port, wait_until  # noqa: E402

from bench.common import figure, new_appliance, percentile, write_results  # noqa: E402

APPLIANCE_DID = "88001000"
STATIC_DID = "77001000"
AGENTS = [str(2001 + i) for i in range(8)]

STATIC_DIALPLAN = f"""; Benchmark baseline: the same queue, reached without FastAGI.
[cc-from-trunk]
exten => {STATIC_DID},1,Answer()
 same => n,Queue(bench,t,,,60)
 same => n,Hangup()
"""


def configure(app, did: str = APPLIANCE_DID, agents: list[str] = AGENTS) -> None:
    """The trunk, the queue ``bench`` with ``did`` leading to it, and ``agents`` in it, each
    with a phone whose secret is ``pw-<extension>-bench``."""
    cfg = app.config
    cfg.create("trunks", {"name": "pstn", "host": TRUNK_IP, "port": 5060, "match": TRUNK_IP}, actor="bench")
    cfg.create("queues", {"name": "bench", "strategy": "rrmemory", "ring_timeout": 10}, actor="bench")
    cfg.create("dids", {"number": did, "queue": "bench"}, actor="bench")
    for ext in agents:
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-bench"}, actor="bench")
        cfg.create("agents", {"number": ext, "name": f"Agent {ext}", "phone": ext}, actor="bench")
        cfg.add_member("bench", ext, actor="bench")


def run_calls(app, did: str, calls: int, rate: float, log_dir: Path, hold_ms: int = 1000) -> dict:
    sipp = Sipp("trunk_call.xml", TRUNK_IP, free_port(socket.SOCK_DGRAM, TRUNK_IP), ("127.0.0.1", app.settings.sip_port),
                {"caller": "13900000000", "caller_name": "Bench"}, log_dir,
                calls=calls, rate=rate, limit=calls, service=did, timeout_s=600,
                extra_args=["-d", str(hold_ms), "-trace_rtt", "-rtt_freq", "1"])
    started = time.monotonic()
    rc = sipp.run(timeout=calls / rate + 120)
    elapsed = time.monotonic() - started
    rtts = []
    for path in log_dir.glob("trunk_call_*_rtt.csv"):
        with open(path) as f:
            for row in csv.reader(f, delimiter=";"):
                try:
                    rtts.append(float(row[1]))
                except (ValueError, IndexError):
                    continue
        path.rename(path.with_suffix(f".{did}.done"))
    failed = _failed_calls(log_dir / f"{sipp.name}-stat.csv")
    return {"rc": rc, "elapsed": elapsed, "latencies_ms": rtts, "failed": failed,
            "succeeded": calls - failed if failed is not None else len(rtts)}


def _failed_calls(stat_csv: Path) -> int | None:
    try:
        rows = list(csv.reader(open(stat_csv), delimiter=";"))
    except OSError:
        return None
    header, last = rows[0], rows[-1]
    try:
        return int(last[header.index("FailedCall(C)")])
    except (ValueError, IndexError):
        return None


def run(calls: int = 60, rate: float = 5.0) -> Path:
    app, settings, work = new_appliance("call-path")
    phones = []
    try:
        configure(app)
        custom = settings.asterisk_dir / "etc" / "custom"
        custom.mkdir(parents=True, exist_ok=True)
        (custom / "extensions.conf").write_text(STATIC_DIALPLAN)
        app.start(web=False)
        wait_until(lambda: app.ami.connected, 30, "AMI")
        for ext in AGENTS:
            phones.append(Phone(ext, f"pw-{ext}-bench", ("127.0.0.1", settings.sip_port), work / "sipp",
                                ring_ms=0, calls=calls * 2).start())
            app.agents.login(ext)
        wait_until(lambda: all(app.live.agents.get(a) and app.live.agents[a].state == "free" for a in AGENTS),
                   20, "agents free")
        baseline = run_calls(app, STATIC_DID, calls, rate, work / "sipp")
        ours = run_calls(app, APPLIANCE_DID, calls, rate, work / "sipp")
    finally:
        for phone in phones:
            phone.stop()
        app.stop()

    def rate_of(r):
        return r["succeeded"] / r["elapsed"] if r["elapsed"] else 0.0

    figures = [
        figure("call setup latency p50", percentile(ours["latencies_ms"], 50), "ms",
               percentile(baseline["latencies_ms"], 50)),
        figure("call setup latency p99", percentile(ours["latencies_ms"], 99), "ms",
               percentile(baseline["latencies_ms"], 99)),
        figure("failed calls", ours["failed"] if ours["failed"] is not None else calls - len(ours["latencies_ms"]),
               "calls", baseline["failed"]),
        figure("call setup rate", rate_of(ours), "calls/s", rate_of(baseline),
               offered_rate=rate, calls=calls),
    ]
    return write_results("call-path", figures)


if __name__ == "__main__":
    print(run())
