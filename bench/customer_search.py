"""Benchmark: customer search over 100,000 customers, before and after the search index
(issue 23 point 1), in one run on one database file.

The customers are ``bench.engine.fill_customers``' (names ``Customer <n>``, numbers
``139000nnnnn``, one in ten with an account manager), the terms ``bench.mixed_load``'s (what a
supervisor types: half a part of a number, 4 to 8 digits from its start, half a name). Each
term is searched through ``CustomerService.search`` as the web page does (a count and a page
of 50), by an admin (every customer) and by an agent (their own), single-threaded:

- **before**: the schema just before the migration ``customer_search_index``, the service
  searching by scan (``search_index=False``), as before it;
- then the migration itself (it indexes the 100,000 customers there: its time is a figure);
- **after**: the schema at head, the service searching through ``customer_fts``.

Figures: ``customer search p50`` and ``customer search p99`` (ms, after, with before as the
baseline, so ``ratio`` is after ÷ before), each also by kind of term, and ``customer search
index migration`` (s). ``python -m bench.customer_search [terms]``.

Not a test: it measures.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from bench.common import figure, percentile, write_results  # noqa: E402

TERMS = 400


def kind(term: str) -> str:
    return "name" if term.startswith("Customer") else f"number, {len(term)} digits"


def timings(service, viewer, terms: list[str]) -> dict[str, list[float]]:
    """Milliseconds per search, by kind of term and all together (``all``)."""
    out: dict[str, list[float]] = {"all": []}
    for term in terms:
        started = time.perf_counter()
        service.search(viewer, term)
        ms = (time.perf_counter() - started) * 1000
        out["all"].append(ms)
        out.setdefault(kind(term), []).append(ms)
    return out


def summary(by_kind: dict[str, list[float]]) -> dict:
    return {k: {"p50": round(percentile(v, 50), 2), "p99": round(percentile(v, 99), 2), "n": len(v)}
            for k, v in sorted(by_kind.items())}


def run(terms: int = TERMS) -> Path:
    from appliance.db import models as m
    from appliance.db import open_database
    from appliance.db.migrate import available, migrate
    from appliance.services.crm import CustomerService, Viewer
    from bench.engine import fill_customers
    from bench.mixed_load import search_terms

    index_migration = next(n for n, name in available() if name.endswith("_customer_search_index"))
    work = Path(tempfile.mkdtemp(prefix="bench-customer-search-"))
    db = open_database(work / "crm.db")
    migrate(db, index_migration - 1)
    m.Agent.insert_many([{"number": str(2001 + i), "name": f"Agent {i}"} for i in range(200)]).execute()
    fill_customers(db)
    viewers = {"admin": Viewer("admin", "admin"), "agent": Viewer("agent", "agent", frozenset({"2006"}))}
    words = list(search_terms(terms))
    load_before = os.getloadavg()[0]
    before = {who: timings(CustomerService(db, search_index=False), v, words) for who, v in viewers.items()}
    started = time.perf_counter()
    migrate(db)
    migration_s = time.perf_counter() - started
    after = {who: timings(CustomerService(db), v, words) for who, v in viewers.items()}
    # the same answers both ways (the unit tests check it on every kind of term; here on these)
    scan, indexed = CustomerService(db, search_index=False), CustomerService(db)
    for term in words[:40]:
        for v in viewers.values():
            assert scan.search(v, term) == indexed.search(v, term), term
    db.close()
    common = {"machine_load_average": round((load_before + os.getloadavg()[0]) / 2, 1), "customers": 100_000,
              "terms": terms, "per_page": 50, "threads": 1,
              "before_by_kind": {who: summary(b) for who, b in before.items()},
              "after_by_kind": {who: summary(a) for who, a in after.items()}}
    figures = []
    for pct in (50, 99):
        b, a = percentile(before["admin"]["all"], pct), percentile(after["admin"]["all"], pct)
        figures.append(figure(f"customer search p{pct}", a, "ms", baseline=b,
                              agent=round(percentile(after["agent"]["all"], pct), 2),
                              agent_before=round(percentile(before["agent"]["all"], pct), 2), **common))
    figures.append(figure("customer search index migration", migration_s, "s", customers=100_000))
    return write_results("customer-search", figures)


if __name__ == "__main__":
    print(run(*[int(a) for a in sys.argv[1:2]]).read_text())
