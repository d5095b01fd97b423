"""``make bench``: run every benchmark; each writes bench/results/<date>-<name>.json."""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import sys  # noqa: E402

from bench import (call_path, capacity, crm_import, customer_search, engine, ha, live_index, memory,  # noqa: E402
                   menus, mixed_load, predictive, recorded_calls, recording, reports, web, web_flood, webhooks)

BENCHMARKS = (call_path.run, engine.run, recording.run, recorded_calls.run, web.run, menus.run, web_flood.run,
              reports.run, ha.run, predictive.run, crm_import.run, customer_search.run, live_index.run, webhooks.run,
              memory.run,
              mixed_load.run, capacity.run)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for bench in BENCHMARKS:
        path = bench()
        print(f"{bench.__module__}: {path}")
        print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
