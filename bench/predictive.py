"""Benchmark: predictive dialling against progressive on one simulated callee population
(issue 16 point 10).

One appliance, ``AGENTS`` SIPp agent phones that answer at once, and a SIPp carrier playing
the customers (``tests/sipp/callee_population.xml``: each rings 2 to 8 s, 30 % answer and
talk 8 to 20 s, the others ring out).  The same campaign dials its list for ``SECONDS`` in
progressive mode, then for ``SECONDS`` in predictive mode (its rolling window already holds
what the progressive run measured, as a campaign switched to predictive would).

Figures: ``predictive talk time ratio`` (the agents' talk time per logged-in hour,
predictive / progressive, same run; the goal is at least 1.5), ``predictive abandon rate``
(percent of answered calls that found no agent; the target is 3), the talk time per
logged-in hour of each mode, and the dialer's decision latency (p50, p99).

Not a test: it measures.  ``BENCH_DIALER_SECONDS`` shortens or lengthens each run.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import TRUNK_IP, Phone, Sipp, free_port, wait_until  # noqa: E402

from bench.common import figure, new_appliance, percentile, write_results  # noqa: E402

AGENTS = [str(2001 + i) for i in range(int(os.environ.get("BENCH_DIALER_AGENTS", "12")))]
SECONDS = float(os.environ.get("BENCH_DIALER_SECONDS", "300"))
NUMBERS = 3000
TARGET = 3.0


def configure(app, carrier_port: int) -> None:
    cfg = app.config
    cfg.create("trunks", {"name": "pstn", "host": TRUNK_IP, "port": carrier_port, "match": TRUNK_IP}, actor="bench")
    cfg.create("queues", {"name": "bench", "strategy": "rrmemory", "ring_timeout": 10}, actor="bench")
    for ext in AGENTS:
        cfg.create("phones", {"extension": ext, "secret": f"pw-{ext}-bench"}, actor="bench")
        cfg.create("agents", {"number": ext, "name": f"Agent {ext}", "phone": ext}, actor="bench")
        cfg.add_member("bench", ext, actor="bench")


def dial_for(app, campaign_id: int, mode: str, seconds: float) -> dict:
    """Run the campaign in ``mode`` for ``seconds``; what its agents did with the calls placed then."""
    from appliance.db import models as m

    app.campaigns.update(campaign_id, {"mode": mode}, "bench")
    began = m.utcnow()
    app.dialer.latencies.clear()
    app.campaigns.set_state(campaign_id, "running", "bench")
    time.sleep(seconds)
    app.campaigns.set_state(campaign_id, "stopped", "bench")
    ended = m.utcnow()
    wait_until(lambda: not app.live.calls, 90, "the calls under way to end", interval=0.5)
    time.sleep(2)  # the last records and reports written
    tries = list(m.CampaignAttempt.select().where(m.CampaignAttempt.campaign == campaign_id,
                                                  m.CampaignAttempt.started_at >= began,
                                                  m.CampaignAttempt.started_at <= ended))
    linked = [a.linkedid for a in tries if a.result == "answered"]
    talk = sum(r.talk_seconds for r in m.CallRecord.select().where(m.CallRecord.linkedid.in_(linked or [""]),
                                                                    m.CallRecord.agent != ""))
    answered = sum(1 for a in tries if a.result == "answered")
    abandoned = sum(1 for a in tries if a.result == "abandoned")
    logged_in_hours = len(AGENTS) * (ended - began).total_seconds() / 3600
    return {"dialled": len(tries), "answered": answered, "abandoned": abandoned,
            "abandon_rate": 100.0 * abandoned / (answered + abandoned) if answered + abandoned else 0.0,
            "talk_per_hour": talk / logged_in_hours, "latencies": list(app.dialer.latencies),
            "factor": app.dialer.paces[campaign_id].factor if campaign_id in app.dialer.paces else 1.0}


def run() -> Path:
    from appliance.db import models as m
    from appliance.engine.live import FREE

    app, settings, work = new_appliance("predictive")
    carrier_port = free_port(socket.SOCK_DGRAM, TRUNK_IP)
    configure(app, carrier_port)
    logs = work / "sipp"
    customers = Sipp("callee_population.xml", TRUNK_IP, carrier_port, None, {}, logs, calls=1_000_000,
                     timeout_s=int(4 * SECONDS + 600))
    phones = []
    try:
        app.start(web=False)
        wait_until(lambda: app.ami.connected, 30, "AMI")
        customers.start()
        for ext in AGENTS:
            phones.append(Phone(ext, f"pw-{ext}-bench", ("127.0.0.1", settings.sip_port), logs, ring_ms=0,
                                calls=10_000, timeout_s=int(4 * SECONDS + 600)).start())
            app.agents.login(ext)
        wait_until(lambda: all(app.live.agents.get(a) and app.live.agents[a].state == FREE for a in AGENTS), 30,
                   "agents free")
        spring = m.CallList.create(name="bench")
        with app.db.atomic():
            for i in range(NUMBERS):
                number = f"+86139{i:08d}"
                m.CallListEntry.create(call_list=spring, number=number, number_key=number[-11:])
        campaign = app.campaigns.create({"name": "bench", "agents": AGENTS, "lists": [spring.id], "mode": "progressive",
                                         "max_attempts": 1, "target_abandon": TARGET}, "bench")["id"]
        progressive = dial_for(app, campaign, "progressive", SECONDS)
        predictive = dial_for(app, campaign, "predictive", SECONDS)
    finally:
        for phone in phones:
            phone.stop()
        customers.stop()
        app.stop()
    latencies = [1000 * s for s in progressive["latencies"] + predictive["latencies"]]
    ratio = predictive["talk_per_hour"] / progressive["talk_per_hour"] if progressive["talk_per_hour"] else 0.0
    common = {"agents": len(AGENTS), "seconds_per_mode": SECONDS, "answer_share": 0.3}
    figures = [
        figure("predictive talk time ratio", ratio, "x", goal=1.5, **common),
        figure("predictive abandon rate", predictive["abandon_rate"], "%", target=TARGET,
               answered=predictive["answered"], abandoned=predictive["abandoned"], dialled=predictive["dialled"],
               final_budget_factor=round(predictive["factor"], 2), **common),
        figure("progressive talk time per agent hour", progressive["talk_per_hour"], "s",
               answered=progressive["answered"], dialled=progressive["dialled"],
               abandoned=progressive["abandoned"], **common),
        figure("predictive talk time per agent hour", predictive["talk_per_hour"], "s", **common),
        figure("dialer decision latency p50", percentile(latencies, 50), "ms", decisions=len(latencies)),
        figure("dialer decision latency p99", percentile(latencies, 99), "ms", decisions=len(latencies)),
    ]
    return write_results("predictive", figures)


if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()
    print(run().read_text())
