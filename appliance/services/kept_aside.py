"""Databases kept aside by hot standby (issue 20): a box that stood down holding writes the
pair's database lacks (a split brain, a cut cable) copied its database to
``kept-aside/appliance-<UTC>.db`` beside the database, with a ``.json`` note
(``appliance.ha.node.HaNode.keep_aside``), and both boxes raise an alarm naming it until it
is removed.  This service lets admins reach those files from the web UI and the API: listed
(name, size, when, why), downloaded, removed.

The files are usually on the *other* box: the one that lost the election is the standby,
which runs no web UI.  Its own files are reached through ``peer`` (``appliance.ha.kept.PeerFiles``:
the peer's status port, each request signed with the pair's shared secret); this box's own
through the folder.  The folder functions here are plain file work, shared by both sides.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

from appliance.errors import FieldError, NotFound, Unavailable

logger = logging.getLogger(__name__)

NAME = re.compile(r"^appliance-\d{8}T\d{6}Z\.db$")  # keep_aside's names; nothing else is served or removed


class KeptNotFound(NotFound):
    code = "ha.kept_not_found"


class PeerUnreachable(Unavailable):
    code = "ha.peer_unreachable"


def not_found(name: str) -> KeptNotFound:
    return KeptNotFound(FieldError("error.code.ha.kept_not_found", "no database kept aside is named {name}",
                                   name=name[:80]), params={"name": name[:80]})


# -- the folder (this box's own, or the peer's on its side) ----------------------------------

def listing(folder: Path) -> list[dict]:
    """The databases kept aside in ``folder``, newest first: name, size, when (UTC, ISO) and
    why (the note's ``reason``, empty when there is none, and its ``cause`` code)."""
    found = []
    try:
        paths = [p for p in Path(folder).glob("appliance-*.db") if NAME.match(p.name)]
    except OSError:
        return []
    for path in paths:
        try:
            size, mtime = path.stat().st_size, path.stat().st_mtime
        except OSError:  # removed meanwhile
            continue
        try:
            note = json.loads(path.with_suffix(".json").read_text())
        except (OSError, ValueError):
            note = {}
        at = note.get("kept_at") if isinstance(note.get("kept_at"), (int, float)) else mtime
        reason = str(note.get("reason") or "")[:200]
        found.append({"name": path.name, "size": size,
                      "kept_at": dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "reason": reason, "cause": cause_of(reason)})
    return sorted(found, key=lambda f: f["name"], reverse=True)


def cause_of(reason: str) -> str:
    """The note's English reason (``HaNode.keep_aside``'s words) as a code pages translate."""
    if reason == "split brain":
        return "split_brain"
    if reason.startswith("stood down"):
        return "not_copied"
    return "unknown"


def file_of(folder: Path, name: str) -> Path:
    """The kept database ``name`` in ``folder``; ``KeptNotFound`` for any other name."""
    path = Path(folder) / name
    if not NAME.match(name or "") or not path.is_file():
        raise not_found(name or "")
    return path


def remove(folder: Path, name: str) -> None:
    path = file_of(folder, name)
    path.with_suffix(".json").unlink(missing_ok=True)
    path.unlink()


# -- what the web UI and the API use -----------------------------------------------------

class KeptAside:
    """Both boxes' kept databases.  ``peer`` (``list()``, ``open(name)``, ``remove(name)``) is
    None when this box is not one of a pair; ``audit(actor, detail)`` writes the audit record;
    ``changed(box, name)`` lets hot standby look again at once (the alarm clears when none is left)."""

    def __init__(self, folder: Path, peer=None, audit=None, changed=lambda box, name: None):
        self.folder = Path(folder)
        self.peer = peer
        self.audit = audit
        self.changed = changed

    def list(self) -> dict:
        """``items`` (each with ``box``: ``here`` or ``peer``) and whether the peer answered."""
        items = [{"box": "here", **f} for f in listing(self.folder)]
        peer = None
        if self.peer is not None:
            try:
                items += [{"box": "peer", **f} for f in self.peer.list()]
                peer = {"address": self.peer.address, "reachable": True}
            except PeerUnreachable:
                peer = {"address": self.peer.address, "reachable": False}
        return {"items": items, "peer": peer}

    def _box(self, box: str, name: str):
        """None for this box, else the peer (``KeptNotFound`` when there is none)."""
        if box == "here":
            return None
        if self.peer is None or not NAME.match(name or ""):
            raise not_found(name or "")
        return self.peer

    def path(self, name: str) -> Path:
        """This box's file (sent from the disk)."""
        return file_of(self.folder, name)

    def open_peer(self, name: str):
        """The peer's file as ``(size, chunks)``, streamed from it."""
        return self._box("peer", name).open(name)

    def remove(self, box: str, name: str, actor: str) -> None:
        peer = self._box(box, name)
        if peer is None:
            remove(self.folder, name)
        else:
            peer.remove(name)
        logger.warning("%s removed the database kept aside %s (%s)", actor, name,
                       "this box" if peer is None else f"on {peer.address}")
        if self.audit is not None:
            self.audit(actor, f"{box}:{name}")
        self.changed(box, name)
