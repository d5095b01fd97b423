"""Hot standby: two boxes, one floating address (keepalived), the database and the finished
files copied from the active box to the standby as they change (``replication``), and the
role each box plays (``roles``).  See docs/architecture.md, "Hot standby"."""

import json
from pathlib import Path

STATUS_FILE = "ha.json"  # under the run folder: what a box of a pair last said of itself


def status_of(run_dir) -> dict | None:
    """The status a box of a pair wrote (read by the serial console, which must answer even
    when the main process is gone), or None when hot standby is off."""
    try:
        return json.loads((Path(run_dir) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
