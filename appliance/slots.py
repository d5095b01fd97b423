"""The appliance's two root slots (A and B), the upgrade bundle, and the boot check.

The disk (``image_build/image.py``, docs/image.md): GPT with the ESP (``appliance-esp``),
two root partitions (``appliance-root-a``, ``appliance-root-b``) and the data partition
(``appliance-data``, mounted at ``/var/lib/appliance``, grown to the end of the disk at first boot).  An upgrade writes the
slot that is not running and never touches the data partition.

Boot entries live on the ESP (mounted at ``/efi``), one kernel and initrd per slot
(``/slot-a/vmlinuz``...).  UEFI: systemd-boot's entries ``loader/entries/slot-X.conf``; a
slot just written gets ``slot-X+1.conf`` (the Boot Loader Specification's boot counting: one
try) and a higher ``version`` than the other, so systemd-boot boots it next, once, counting
the try down to ``slot-X+0-1.conf``.  ``boot-check`` (``appliance-boot-check.service``,
before ``boot-complete.target``) keeps it only if the appliance answers healthy within a few
minutes: it then renames the entry to ``slot-X.conf`` (what ``systemd-bless-boot`` does; that
program is in Debian's ``systemd-boot`` package, not in the image).  Otherwise it reboots, and
systemd-boot, finding no try left, sorts the entry last and boots the other slot.  A kernel
that never reaches user space falls back the same way (``panic=10`` restarts the box).

BIOS: syslinux has no boot counting.  ``syslinux/syslinux.cfg`` names the slot to boot
(``DEFAULT``); an install points it at the new slot; the boot check of a slot on trial points
it back at the old slot first, and at the new one again only once it is healthy.  So a broken
appliance falls back on BIOS too; a kernel that cannot reach user space does not (the box
stays on it until an engineer picks the other label at the ``boot:`` prompt).

The bundle (``make image`` makes it, ``callcenter-appliance.upgrade``): an uncompressed tar of
``manifest.json`` first, then ``vmlinuz``, ``initrd.img`` and ``root.img.gz`` (the root
filesystem; gzip, which Python's own zlib reads on the box and in the tests), whose sizes and
SHA-256 the manifest gives.  Checksummed, not signed: the
checksums refuse a damaged, cut-short or foreign file; only an administrator can upload one.

Run as root (the units of rootfs/etc/systemd/system)::

    python -m appliance.slots boot-check [--seconds 300]
    python -m appliance.slots serve-requests
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import io
import json
import logging
import os
import re
import shutil
import signal
import ssl
import stat
import struct
import sys
import tarfile
import time
import zlib
from pathlib import Path

from appliance.errors import FieldError, ValidationError

logger = logging.getLogger(__name__)

IMAGE_NAME = "callcenter-appliance"
BUNDLE_FORMAT = "callcenter-appliance-upgrade/1"
MANIFEST = "manifest.json"
KERNEL, INITRD, ROOT = "vmlinuz", "initrd.img", "root.img.gz"
BUNDLE_FILES = (KERNEL, INITRD, ROOT)
SLOTS = ("a", "b")
ESP_DIR = Path("/efi")
BY_PARTLABEL = Path("/dev/disk/by-partlabel")
VERSION_FILE = Path("/usr/share/appliance/version")
UPGRADE_DIR = "upgrade"  # in the data directory: the uploaded bundle, the requests, the state
STAGED = "staged.upgrade"
STATE = "state.json"
INSTALL_REQUEST = "install.request"
REBOOT_REQUEST = "reboot.request"
DATABASE = "appliance.db"  # in the data directory (appliance/settings.py: db_path)
SNAPSHOT = "before-restart"  # the database as it was when the restart into a new version began
FAILED_TRIAL = "failed-trial"  # the database a version that was not kept left
DATA_DIR = Path("/var/lib/appliance")
CHUNK = 1024 * 1024
BLKZEROOUT = 0x127F  # <linux/fs.h>: _IO(0x12, 127)
TITLE = "Call-center appliance"
ENTRY_RE = re.compile(r"^slot-(?P<slot>[ab])(?:\+(?P<left>\d+)(?:-(?P<done>\d+))?)?\.conf$")


class BundleRefused(ValidationError):
    """The uploaded file is not an upgrade of this appliance, or is damaged: nothing was touched."""

    code = "upgrade.not_bundle"
    http_status = 422


def refuse(code: str, english: str, **params) -> BundleRefused:
    """The refusal ``code`` (``upgrade.checksum``...): its sentence is the catalog's
    ``error.code.<code>``, filled in with ``params``."""
    reason = FieldError(f"error.code.{code}", english, **params)
    return BundleRefused(reason, code=code, params=params, fields={"bundle": reason})


def running_version() -> str:
    try:
        return VERSION_FILE.read_text().strip() or "unknown"
    except OSError:
        return "development"


# -- the bundle ---------------------------------------------------------------------------

def write_bundle(out: Path, manifest: dict, files: dict[str, Path]) -> dict:
    """The bundle at ``out``: ``manifest`` with each file's size and SHA-256 added, then the files."""
    manifest = {**manifest, "format": BUNDLE_FORMAT, "image": IMAGE_NAME,
                "files": {name: {"size": files[name].stat().st_size, "sha256": sha256_file(files[name])}
                          for name in BUNDLE_FILES}}
    data = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
        for name in BUNDLE_FILES:
            info = tar.gettarinfo(str(files[name]), arcname=name)
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "", "", 0o644
            with open(files[name], "rb") as f:
                tar.addfile(info, f)
    return manifest


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def read_bundle(path: Path, sink=None) -> dict:
    """Check the bundle at ``path`` from its first byte to its last and return its manifest.
    ``sink(name, chunks)`` (if given) is handed each file's chunks as they are read; the
    bundle is only good if this returns.  Raises ``BundleRefused`` with the reason."""
    try:
        tar = tarfile.open(path, "r|")
    except (tarfile.TarError, OSError, EOFError):
        raise refuse("upgrade.not_bundle", "this file is not an upgrade of the call-center appliance") from None
    with tar:
        try:
            first, manifest = _first_manifest(tar)
            seen = set()
            for member in tar:
                if member is first:  # the iteration starts again from the first member
                    continue
                name = member.name
                expected = manifest["files"].get(name)
                if expected is None or name in seen or not member.isfile():
                    raise refuse("upgrade.not_bundle", "this file is not an upgrade of the call-center appliance")
                seen.add(name)
                h, size = hashlib.sha256(), 0
                reader = tar.extractfile(member)

                def chunks():
                    nonlocal size
                    while chunk := reader.read(CHUNK):
                        h.update(chunk)
                        size += len(chunk)
                        yield chunk

                if sink is not None:
                    sink(name, chunks())
                for _ in chunks():  # what the sink left unread
                    pass
                if size != member.size or size != expected["size"]:
                    raise refuse("upgrade.truncated", "the file is cut short: upload it again")
                if h.hexdigest() != expected["sha256"]:
                    raise refuse("upgrade.checksum",
                                 "the file is damaged: {part} does not match its SHA-256 checksum", part=name)
        except tarfile.ReadError:
            raise refuse("upgrade.truncated", "the file is cut short: upload it again") from None
        except (EOFError, tarfile.TarError):
            raise refuse("upgrade.truncated", "the file is cut short: upload it again") from None
    missing = sorted(set(BUNDLE_FILES) - seen)
    if missing:
        raise refuse("upgrade.truncated", "the file is cut short: upload it again")
    return manifest


def bundle_manifest(path: Path) -> dict:
    """The manifest of the bundle at ``path``, read from its first member only (no part is
    hashed): what a list of bundles shows.  ``read_bundle`` is the check; this refuses only a
    file that is not a bundle at all (``BundleRefused``)."""
    try:
        with tarfile.open(path, "r|") as tar:
            return _first_manifest(tar)[1]
    except (tarfile.TarError, OSError, EOFError):
        raise refuse("upgrade.not_bundle", "this file is not an upgrade of the call-center appliance") from None


def _first_manifest(tar: tarfile.TarFile) -> tuple[tarfile.TarInfo, dict]:
    """The bundle's first member, which must be its manifest, and the manifest read."""
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile() or first.size > 1024 * 1024:
        raise refuse("upgrade.not_bundle", "this file is not an upgrade of the call-center appliance")
    return first, _manifest(tar.extractfile(first).read())


def _release(version: str) -> tuple[int, ...] | None:
    """The release numbers a version starts with (``2.0.0-test`` -> (2, 0, 0)); None for one
    without (``development``, ``unknown``)."""
    match = re.match(r"(\d+(?:\.\d+)*)", version or "")
    if match is None:
        return None
    numbers = [int(n) for n in match.group(1).split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def refuse_not_newer(version: str, running: str) -> None:
    """Refuse a bundle of the very version running or of an older release: an older version
    cannot open the database the running one has migrated (and the same one changes nothing).
    Another build of the same release (``0.1.0+gabc`` over ``0.1.0+gdef``) passes, and so does
    anything when the running version has no release number (a development copy)."""
    have, offered = _release(running), _release(version)
    if have is None:
        return
    if version == running or offered is None or offered < have:
        raise refuse("upgrade.not_newer", "this upgrade is version {version}; version {running} runs now: only a "
                                          "newer version can be installed", version=version[:60], running=running[:60])


def _manifest(raw: bytes) -> dict:
    try:
        manifest = json.loads(raw)
    except ValueError:
        manifest = None
    if (not isinstance(manifest, dict) or manifest.get("image") != IMAGE_NAME
            or not isinstance(manifest.get("files"), dict)):
        raise refuse("upgrade.not_bundle", "this file is not an upgrade of the call-center appliance")
    if manifest.get("format") != BUNDLE_FORMAT:
        raise refuse("upgrade.format", "this upgrade is made for another kind of appliance release ({format})",
                     format=str(manifest.get("format"))[:60])
    files = manifest["files"]
    if set(files) != set(BUNDLE_FILES) or not all(
            isinstance(f, dict) and isinstance(f.get("size"), int) and re.fullmatch(r"[0-9a-f]{64}", str(f.get("sha256")))
            for f in files.values()) or not isinstance(manifest.get("version"), str):
        raise refuse("upgrade.not_bundle", "this file is not an upgrade of the call-center appliance")
    return manifest


# -- the disk -----------------------------------------------------------------------------

@dataclasses.dataclass
class Disk:
    """Where the slots, the ESP and the kernel's command line are (paths, so a test can use
    plain files and folders)."""

    esp: Path = ESP_DIR
    partitions: Path = BY_PARTLABEL
    cmdline: Path = Path("/proc/cmdline")
    efi: Path = Path("/sys/firmware/efi")

    def partition(self, slot: str) -> Path:
        return self.partitions / f"appliance-root-{slot}"

    def partuuid(self, slot: str) -> str:
        """The slot's GPT partition UUID (udev's by-partuuid link pointing at the same device)."""
        device = self.partition(slot).resolve()
        links = self.partitions.parent / "by-partuuid"
        for link in links.iterdir() if links.is_dir() else ():
            if link.resolve() == device:
                return link.name.lower()
        uuid_file = self.partitions / f"appliance-root-{slot}.partuuid"  # tests
        if uuid_file.exists():
            return uuid_file.read_text().strip().lower()
        raise RuntimeError(f"no partition UUID for {device}")

    def booted_slot(self) -> str | None:
        match = re.search(r"\broot=PARTUUID=(\S+)", self.cmdline.read_text())
        if match:
            for slot in SLOTS:
                if self.partition(slot).exists() and self.partuuid(slot) == match.group(1).lower():
                    return slot
        return None

    @property
    def uefi(self) -> bool:
        return self.efi.exists()

    def entries(self) -> dict[str, tuple[Path, int | None]]:
        """slot -> (its systemd-boot entry, tries left or None when it is not on trial)."""
        found = {}
        folder = self.esp / "loader/entries"
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            match = ENTRY_RE.match(path.name)
            if match:
                left = match.group("left")
                found[match.group("slot")] = (path, None if left is None else int(left))
        return found


def other(slot: str) -> str:
    return "b" if slot == "a" else "a"


def entry_text(slot: str, version: str, generation: int, options: str, partuuid: str) -> str:
    return (f"title {TITLE} {version} (slot {slot.upper()})\nsort-key appliance\nversion {generation}\n"
            f"linux /slot-{slot}/{KERNEL}\ninitrd /slot-{slot}/{INITRD}\n"
            f"options root=PARTUUID={partuuid} {options}\n")


def _entry_field(path: Path, field: str) -> str:
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == field:
            return value.strip()
    return ""


def write_syslinux(disk: Disk, default: str) -> None:
    """syslinux.cfg from the systemd-boot entries: one label per slot, ``default`` booted."""
    labels = []
    for slot, (path, _) in sorted(disk.entries().items()):
        append = _entry_field(path, "options")
        labels.append(f"LABEL slot-{slot}\n  MENU LABEL {_entry_field(path, 'title')}\n"
                      f"  LINUX /slot-{slot}/{KERNEL}\n  INITRD /slot-{slot}/{INITRD}\n  APPEND {append}\n")
    text = f"SERIAL 0 115200\nDEFAULT slot-{default}\nTIMEOUT 0\nPROMPT 0\n" + "".join(labels)
    _replace(disk.esp / "syslinux/syslinux.cfg", text.encode())


def _replace(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)


def _zero(fd: int, start: int, length: int) -> None:
    """Zeros on the target from ``start``: the device zeroes them itself (BLKZEROOUT) when it
    is a block device, else written."""
    if length <= 0:
        return
    if stat.S_ISBLK(os.fstat(fd).st_mode):
        import fcntl
        fcntl.ioctl(fd, BLKZEROOUT, struct.pack("QQ", start, length))
        return
    os.lseek(fd, start, os.SEEK_SET)
    block = bytes(min(length, CHUNK))
    while length > 0:
        length -= os.write(fd, block[:length])


def _inflate(chunks):
    """The gzip stream ``chunks`` inflated in pieces of exactly ``CHUNK`` bytes (the last may
    be shorter): a run of zero pieces is then whole sectors for BLKZEROOUT, and never more
    than a piece is in memory (a megabyte of zeros compresses to a kilobyte)."""
    inflater = zlib.decompressobj(wbits=31)
    pending = b""
    try:
        for chunk in chunks:
            data = inflater.decompress(chunk, CHUNK)
            while data:
                pending += data
                while len(pending) >= CHUNK:
                    yield pending[:CHUNK]
                    pending = pending[CHUNK:]
                data = inflater.decompress(inflater.unconsumed_tail, CHUNK) if inflater.unconsumed_tail else b""
        pending += inflater.flush()
    except zlib.error:
        raise refuse("upgrade.checksum", "the file is damaged: {part} does not match its SHA-256 checksum",
                     part=ROOT) from None
    if not inflater.eof:
        raise refuse("upgrade.truncated", "the file is cut short: upload it again")
    for i in range(0, len(pending), CHUNK):
        yield pending[i:i + CHUNK]


def install(bundle: Path, disk: Disk, progress=lambda stage, done, total: None) -> dict:
    """Write the bundle to the slot that is not running and make it the next boot, once.
    The slot's old entry goes first, so a half-written slot is never booted; the new entry is
    written only once every part matched its checksum.  Returns the manifest and the slot."""
    booted = disk.booted_slot()
    if booted is None:
        raise RuntimeError("cannot tell which slot is running (root= on the kernel's command line)")
    # The ESP must stay mounted while the root filesystem is written (minutes, without a look
    # at the ESP): appliance-upgrade.service has systemd hold it from the host's mount
    # namespace (OpenFile=), since a descriptor opened here would be in the service's own.
    entries = disk.entries()
    if booted in entries and entries[booted][1] is not None:
        raise refuse("upgrade.on_trial", "the running version is still on trial: wait until it is kept "
                                         "(a few minutes after it started) and upload again")
    target = other(booted)
    if target in entries:
        entries[target][0].unlink()
    if not disk.uefi:
        write_syslinux(disk, booted)
    folder = disk.esp / f"slot-{target}"
    folder.mkdir(exist_ok=True)
    device = disk.partition(target)
    fd = os.open(device, os.O_WRONLY)
    try:
        capacity = os.lseek(fd, 0, os.SEEK_END)

        def sink(name, chunks):
            if name in (KERNEL, INITRD):
                with open(folder / f"{name}.new", "wb") as f:
                    for chunk in chunks:
                        f.write(chunk)
                    f.flush()
                    os.fsync(f.fileno())
                return
            written, zeros_from = 0, None
            for piece in _inflate(chunks):
                if written + len(piece) > capacity:
                    raise refuse("upgrade.too_big", "this upgrade's root filesystem is larger than the slot")
                if piece.count(0) == len(piece):  # left to the device to zero (often free)
                    zeros_from = written if zeros_from is None else zeros_from
                else:
                    if zeros_from is not None:
                        _zero(fd, zeros_from, written - zeros_from)
                        zeros_from = None
                    os.pwrite(fd, piece, written)
                written += len(piece)
                progress("write", written, capacity)
            if zeros_from is not None:
                _zero(fd, zeros_from, written - zeros_from)
            os.fsync(fd)

        manifest = read_bundle(bundle, sink)
    finally:
        os.close(fd)
    for name in (KERNEL, INITRD):
        os.replace(folder / f"{name}.new", folder / name)
    generation = max((int(_entry_field(p, "version") or 0) for p, _ in disk.entries().values()), default=0) + 1
    options = manifest.get("kernel_options") or ""
    entry = disk.esp / f"loader/entries/slot-{target}+1.conf"
    _replace(entry, entry_text(target, manifest["version"], generation, options, disk.partuuid(target)).encode())
    if not disk.uefi:
        write_syslinux(disk, target)
    logger.info("version %s written to slot %s: booted next, once", manifest["version"], target.upper())
    return {"manifest": manifest, "slot": target}


# -- the boot check -----------------------------------------------------------------------

def healthy(url: str) -> bool:
    """The appliance answers /api/health with its database, Asterisk and AMI up."""
    parts = re.match(r"(https?)://([^/:]+)(?::(\d+))?(/.*)", url)
    scheme, host, port, path = parts.groups()
    conn = (http.client.HTTPSConnection(host, int(port or 443), timeout=10, context=ssl._create_unverified_context())
            if scheme == "https" else http.client.HTTPConnection(host, int(port or 80), timeout=10))
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        if answer.status != 200:
            return False
        components = json.loads(answer.read()).get("components") or {}
        return all((components.get(name) or {}).get("up") for name in ("db", "asterisk", "ami"))
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def boot_check(disk: Disk, seconds: float, check=lambda: healthy("https://127.0.0.1/api/health"),
               reboot=lambda: os.execv("/usr/bin/systemctl", ["systemctl", "reboot"]),
               clock=time.monotonic, pause=time.sleep, data_dir: Path = DATA_DIR,
               stop_appliance=lambda: _systemctl("stop", "appliance.service")) -> str:
    """Keep the running slot if it is on trial and the appliance is healthy within
    ``seconds``; otherwise put the database back as it was before the restart (the version
    on trial may have migrated it beyond what the old one opens; its own is kept as
    ``upgrade/failed-trial/``) and boot the other slot.  Returns what it did."""
    booted = disk.booted_slot()
    entry = disk.entries().get(booted) if booted else None
    state_path = data_dir / UPGRADE_DIR / STATE
    if entry is None or entry[1] is None:
        print(f"Boot check: slot {str(booted).upper()} is not on trial: nothing to decide", flush=True)
        state = _read_state(state_path)
        if state.get("state") == "restarting" and state.get("slot") != booted:
            # the new slot never reached this check (its kernel or initrd failed): the
            # firmware's boot counting came back here; its database was never opened
            _not_kept(state_path, state.get("version", "?"), seconds)
            shutil.rmtree(data_dir / UPGRADE_DIR / SNAPSHOT, ignore_errors=True)
        return "kept"
    if not disk.uefi:  # BIOS: the next boot is the old slot unless this one proves healthy
        write_syslinux(disk, other(booted))
    version = _entry_field(entry[0], "title").removeprefix(TITLE).strip()
    print(f"Boot check: {version} on trial; waiting up to {seconds:.0f} s for the appliance to answer healthy",
          flush=True)
    deadline = clock() + seconds
    while clock() < deadline:
        if check():
            entry[0].rename(entry[0].with_name(f"slot-{booted}.conf"))
            if not disk.uefi:
                write_syslinux(disk, booted)
            shutil.rmtree(data_dir / UPGRADE_DIR / SNAPSHOT, ignore_errors=True)
            state_path.unlink(missing_ok=True)
            print(f"Boot check: {version} is healthy: kept", flush=True)
            return "kept"
        pause(5)
    print(f"Boot check: {version} did not answer healthy within {seconds:.0f} s: "
          f"restarting into slot {other(booted).upper()}", flush=True)
    stop_appliance()
    restore_snapshot(data_dir)
    _not_kept(state_path, _read_state(state_path).get("version") or version, seconds)
    reboot()
    return "fallback"


def _read_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _not_kept(path: Path, version: str, seconds: float) -> None:
    if path.parent.is_dir():
        _write_state(path, {"state": "failed", "msgid": "error.code.upgrade.not_kept",
                            "english": "version {version} did not report healthy within {seconds} s after it "
                                       "started: the appliance went back to the version before it by itself",
                            "params": {"version": version, "seconds": f"{seconds:.0f}"}})


def _systemctl(*args: str) -> None:
    import subprocess
    subprocess.run(["systemctl", *args], check=False, timeout=120)


def _database_files(folder: Path) -> list[Path]:
    return [folder / (DATABASE + suffix) for suffix in ("", "-wal", "-shm") if (folder / (DATABASE + suffix)).exists()]


def snapshot_database(data_dir: Path) -> Path | None:
    """The database's files (with its WAL, as the stopped appliance left them) copied to
    ``upgrade/before-restart/``, owners and modes kept.  The appliance is stopped first."""
    files = _database_files(data_dir)
    if not files:
        return None
    target = data_dir / UPGRADE_DIR / SNAPSHOT
    part = target.with_name(target.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir()
    for path in files:
        shutil.copy2(path, part / path.name)
        info = path.stat()
        os.chown(part / path.name, info.st_uid, info.st_gid)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(part, target)
    return target


def restore_snapshot(data_dir: Path) -> bool:
    """Put ``upgrade/before-restart/`` back as the database; the files there before moved
    aside to ``upgrade/failed-trial/``.  False when there is no snapshot."""
    snapshot = data_dir / UPGRADE_DIR / SNAPSHOT
    if not snapshot.is_dir():
        return False
    aside = data_dir / UPGRADE_DIR / FAILED_TRIAL
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    for path in _database_files(data_dir):
        os.replace(path, aside / path.name)
    for path in _database_files(snapshot):
        os.replace(path, data_dir / path.name)
    snapshot.rmdir()
    print(f"Boot check: the database is back as it was before the restart; the one the version on trial "
          f"left is in {aside}", flush=True)
    return True


# -- requests from the appliance (it runs unprivileged) -----------------------------------

def serve_requests(data_dir: Path, disk: Disk,
                   reboot=lambda: os.execv("/usr/bin/systemctl", ["systemctl", "reboot"]),
                   stop_appliance=lambda: _systemctl("stop", "appliance.service")) -> None:
    """Carry out what the web UI or the console asked for in ``<data_dir>/upgrade``: write a
    checked bundle to the other slot, or reboot.  The state goes to ``state.json``."""
    folder = data_dir / UPGRADE_DIR
    state_path = folder / STATE
    if (folder / INSTALL_REQUEST).exists():
        (folder / INSTALL_REQUEST).unlink()
        started = time.time()

        def progress(stage, done, total, _last=[0.0]):
            if time.monotonic() - _last[0] > 2:
                _last[0] = time.monotonic()
                _write_state(state_path, {"state": "writing", "done": done, "total": total, "started": started})

        _write_state(state_path, {"state": "writing", "done": 0, "total": 0, "started": started})
        previous = signal.signal(signal.SIGTERM, _stopped)  # stopped mid-write: the page says so
        try:
            done = install(folder / STAGED, disk, progress)
        except Stopped:
            _write_state(state_path, {"state": "failed", "msgid": "error.code.upgrade.interrupted",
                                      "english": "the write to the other slot was stopped before its end: "
                                                 "upload the upgrade again", "params": {}})
            raise
        except BundleRefused as exc:
            field = exc.fields.get("bundle")
            _write_state(state_path, {"state": "failed", "msgid": field.msgid, "english": str(field),
                                      "params": field.params})
        except Exception as exc:  # noqa: BLE001 (the page says it failed and why)
            logger.exception("writing the upgrade failed")
            _write_state(state_path, {"state": "failed", "msgid": "error.code.upgrade.write_failed",
                                      "english": "writing the other slot failed: {reason}",
                                      "params": {"reason": str(exc)[:200]}})
        else:
            (folder / STAGED).unlink(missing_ok=True)
            _write_state(state_path, {"state": "ready", "slot": done["slot"], "version": done["manifest"]["version"],
                                      "seconds": round(time.time() - started)})
        finally:
            signal.signal(signal.SIGTERM, previous)
    if (folder / REBOOT_REQUEST).exists():
        (folder / REBOOT_REQUEST).unlink()
        print("Restarting into the upgraded version, as the administrator confirmed", flush=True)
        state = _read_state(state_path)
        _write_state(state_path, {"state": "restarting", "slot": state.get("slot"), "version": state.get("version")})
        stop_appliance()  # no write after the snapshot is lost: the appliance is down from here
        snapshot_database(data_dir)
        reboot()


class Stopped(Exception):
    """The service was stopped (SIGTERM) while it wrote the other slot."""


def _stopped(signum, frame):
    raise Stopped


def _write_state(path: Path, state: dict) -> None:
    _replace(path, (json.dumps(state) + "\n").encode())
    os.chmod(path, 0o644)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the appliance's A/B root slots")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("boot-check", help="keep a slot on trial only if the appliance is healthy")
    check.add_argument("--seconds", type=float, default=300)
    check.add_argument("--url", default="https://127.0.0.1/api/health")
    check.add_argument("--data-dir", type=Path, default=DATA_DIR)
    serve = sub.add_parser("serve-requests", help="carry out the appliance's install and reboot requests")
    serve.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    disk = Disk()
    if args.command == "boot-check":
        boot_check(disk, args.seconds, check=lambda: healthy(args.url), data_dir=args.data_dir)
    else:
        serve_requests(args.data_dir, disk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
