"""Upgrades in place, the appliance's side (it runs unprivileged): a bundle uploaded in the
web UI, or picked from a USB stick on the serial console (``receive_file``: the same steps),
is streamed to the data partition, checked off the event loop (every part against the
manifest's SHA-256, then only a newer version) and, only if good, handed to
``appliance-upgrade.service`` (root) to be written to the other root slot; the restart into
it waits for the administrator's confirmation.  ``appliance/slots.py`` has the disk's side,
the bundle's format and the boot check that keeps the new version only if it is healthy.

A refused file (foreign, damaged, cut short, not newer) is deleted and nothing else changes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from appliance import slots
from appliance.errors import Conflict, FieldError, ValidationError

logger = logging.getLogger(__name__)

UPLOAD = "upload.part"
SPARE_BYTES = 64 * 1024 * 1024  # left free on the data partition besides the upload


class UpgradeBusy(Conflict):
    code = "upgrade.busy"


class Upgrades:
    def __init__(self, data_dir: Path, off_loop=lambda fn, *a: fn(*a), disk: slots.Disk | None = None,
                 version=slots.running_version):
        self.folder = Path(data_dir) / slots.UPGRADE_DIR
        self.off_loop = off_loop
        self.disk = disk or slots.Disk()
        self.version = version

    # -- what the page and the API show ----------------------------------------------------
    def status(self) -> dict:
        """The running version and slot, and what an upgrade is doing: ``idle``, ``writing``
        (``done``/``total`` bytes), ``ready`` (written: restart to use it) or ``failed``."""
        try:
            slot = self.disk.booted_slot()
        except OSError:
            slot = None
        state = {"state": "idle"}
        try:
            state = json.loads((self.folder / slots.STATE).read_text())
        except (OSError, ValueError):
            pass
        if (self.folder / slots.INSTALL_REQUEST).exists() and state.get("state") != "writing":
            state = {"state": "writing", "done": 0, "total": 0}
        return {"running": {"version": self.version(), "slot": slot.upper() if slot else None},
                "upgrade": state}

    def busy(self) -> bool:
        return self.status()["upgrade"]["state"] == "writing"

    # -- upload --------------------------------------------------------------------------
    def receive(self, read, length: int | None, actor: str) -> dict:
        """Stream the request body (``read(n)``) to the data partition, check it, and ask for
        it to be written to the other slot.  Returns the bundle's manifest."""
        if self.busy():
            raise UpgradeBusy(FieldError("error.code.upgrade.busy", "an upgrade is being written: wait until it is done"))
        self.folder.mkdir(exist_ok=True)
        self._as_the_data_owner(self.folder)
        free = shutil.disk_usage(self.folder).free
        if length is not None and length + SPARE_BYTES > free:
            raise ValidationError(FieldError("error.code.upgrade.no_space", "the data disk has {free} MiB free: too little "
                                             "for this upgrade", free=str(free // 2 ** 20)), code="upgrade.no_space",
                                  params={"free": str(free // 2 ** 20)})
        part = self.folder / UPLOAD
        try:
            with open(part, "wb") as f:
                while chunk := read(slots.CHUNK):
                    f.write(chunk)
            manifest = self.off_loop(slots.read_bundle, part)
            slots.refuse_not_newer(manifest["version"], self.version())
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, self.folder / slots.STAGED)
        (self.folder / slots.STATE).unlink(missing_ok=True)
        (self.folder / slots.INSTALL_REQUEST).write_text(actor + "\n")
        self._as_the_data_owner(self.folder / slots.STAGED, self.folder / slots.INSTALL_REQUEST)
        logger.info("%s handed in version %s (checked): being written to the other slot", actor, manifest["version"])
        return {"version": manifest["version"], "built": manifest.get("built"), "kernel": manifest.get("kernel")}

    def receive_file(self, path: Path, actor: str) -> dict:
        """A bundle read from a file (the serial console's USB stick): the upload's own steps,
        the file read where it is and copied to the data partition (the stick may go)."""
        try:
            f = open(path, "rb")
        except OSError:
            raise slots.refuse("upgrade.not_bundle", "this file is not an upgrade of the call-center appliance") from None
        with f:
            return self.receive(f.read, os.fstat(f.fileno()).st_size, actor)

    def _as_the_data_owner(self, *paths: Path) -> None:
        """Made by root (the serial console): owned as the web UI would have made them, so the
        appliance's own account can hand in the next upgrade."""
        if os.geteuid() != 0:
            return
        owner = self.folder.parent.stat()
        for path in paths:
            os.chown(path, owner.st_uid, owner.st_gid)

    # -- bundles on USB sticks (the serial console) -------------------------------------
    @staticmethod
    def bundles_in(folders) -> list[dict]:
        """Every ``*.upgrade`` file at the top of ``folders``, by folder and name: its path,
        size and, from the manifest alone (nothing hashed yet), its version; a file that is not
        a bundle has ``refused`` (the ``FieldError`` saying why) in place of a version."""
        found = []
        for folder in folders:
            try:
                paths = sorted(p for p in Path(folder).glob("*.upgrade") if p.is_file())
            except OSError:
                continue
            for path in paths:
                entry = {"path": path, "name": path.name, "size": path.stat().st_size, "version": None, "refused": None}
                try:
                    entry["version"] = slots.bundle_manifest(path)["version"]
                except slots.BundleRefused as exc:
                    entry["refused"] = exc.fields["bundle"]
                found.append(entry)
        return found

    # -- restart -------------------------------------------------------------------------
    def restart(self, actor: str) -> None:
        """Restart into the version written to the other slot (``ready`` only)."""
        if self.status()["upgrade"]["state"] != "ready":
            raise UpgradeBusy(FieldError("error.code.upgrade.not_ready",
                                         "no upgrade has been written yet: upload one first"),
                              code="upgrade.not_ready")
        logger.warning("%s confirmed the restart into the upgraded version", actor)
        (self.folder / slots.REBOOT_REQUEST).write_text(actor + "\n")
