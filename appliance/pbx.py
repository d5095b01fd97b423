"""Lay out, start, query and stop one Asterisk instance.

Two ways to run it, one code path:

* **chroot** (developers' machines, ``make run``, the tests): Asterisk comes from the
  appliance rootfs that ``image_build`` makes.  It runs in a private mount namespace
  (nothing leaks if we die) chrooted into the rootfs, with this instance's own
  directory bind-mounted at ``/appliance``, so several instances run side by side.
* **native** (the appliance image): the rootfs *is* ``/``; the instance directory is
  used where it lies.

The instance directory holds ``etc/`` (the hand-written files from ``rootfs/etc/asterisk``
plus our generated ones under ``etc/appliance/``), ``run/``, ``log/``, ``spool/``, ``lib/``.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from appliance import proc, sounds
from appliance.confgen import asterisk_conf
from appliance.confgen.apply import write_atomic
from appliance.confgen.model import Paths

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
STATIC_ETC = REPO_ROOT / "rootfs" / "etc" / "asterisk"
MOUNTPOINT = "/appliance"  # image_build.rootfs.INSTANCE_MOUNTPOINT
GENERATED = "appliance"  # subdirectory of etc/ holding generated files

# Runs inside the new mount namespace, before chroot.  The paths arrive as
# positional parameters, never pasted into the script.
_CHROOT_SCRIPT = (
    'set -e; root="$1"; inst="$2"; shift 2; '
    'mount --rbind /dev "$root/dev"; '
    'mount -t proc proc "$root/proc"; '
    'mount --bind "$inst" "$root/appliance"; '
    'exec chroot "$root" "$@"'
)


def copy_changed(source: Path, target: Path, pattern: str) -> int:
    """Copy the files under ``source`` matching ``pattern`` to the same places under ``target``
    when they differ (a file is replaced by rename, never rewritten where Asterisk may be
    reading it); returns how many were copied."""
    copied = 0
    for src in sorted(source.glob(pattern)):
        dst = target / src.relative_to(source)
        data = src.read_bytes()
        if dst.is_file() and dst.read_bytes() == data:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dst)
        copied += 1
    return copied


class AsteriskError(RuntimeError):
    code = "pbx.error"


class AsteriskInstance:
    def __init__(self, instance_dir: Path, rootfs: Path | None):
        self.instance_dir = Path(instance_dir).resolve()
        self.rootfs = Path(rootfs).resolve() if rootfs else None
        self.process: subprocess.Popen | None = None
        self._console = None

    # -- layout -------------------------------------------------------------
    @property
    def inner_root(self) -> str:
        """The instance directory as Asterisk sees it."""
        return MOUNTPOINT if self.rootfs else str(self.instance_dir)

    @property
    def paths(self) -> Paths:
        r = self.inner_root
        return Paths(etc=f"{r}/etc", run=f"{r}/run", log=f"{r}/log", spool=f"{r}/spool", lib=f"{r}/lib")

    @property
    def etc_dir(self) -> Path:
        return self.instance_dir / "etc"

    @property
    def generated_dir(self) -> Path:
        return self.etc_dir / GENERATED

    @property
    def log_dir(self) -> Path:
        return self.instance_dir / "log"

    @property
    def spool_dir(self) -> Path:
        return self.instance_dir / "spool"

    @property
    def sounds_dir(self) -> Path:
        """The appliance's own sentences (appliance/sounds.py), as this process sees them."""
        return self.instance_dir / "lib" / sounds.FOLDER

    def prepare(self, model) -> None:
        """Create the directories, copy the static files and the appliance's own sentences,
        and write asterisk.conf."""
        for sub in ("etc", "etc/" + GENERATED, "run", "log", "spool", "spool/cache", "lib"):
            (self.instance_dir / sub).mkdir(parents=True, exist_ok=True)
        for src in sorted(STATIC_ETC.glob("*.conf")):
            shutil.copyfile(src, self.etc_dir / src.name)
        copy_changed(sounds.SOURCE_DIR, self.sounds_dir, "*/*.gsm")
        write_atomic(self.etc_dir / asterisk_conf.FILENAME, asterisk_conf.render(model))

    # -- process ------------------------------------------------------------
    def _asterisk_argv(self, *args: str) -> list[str]:
        return ["asterisk", "-C", f"{self.paths.etc}/asterisk.conf", *args]

    def start_argv(self) -> list[str]:
        argv = self._asterisk_argv("-f", "-n", "-g")
        if not self.rootfs:
            return ["/usr/sbin/" + argv[0], *argv[1:]]
        return ["unshare", "--mount", "--propagation", "private", "--fork", "--",
                "sh", "-c", _CHROOT_SCRIPT, "sh", str(self.rootfs), str(self.instance_dir), *argv]

    def start(self) -> None:
        if self.running:
            raise AsteriskError("Asterisk is already running")
        (self.run_dir / "asterisk.ctl").unlink(missing_ok=True)
        self._console = open(self.log_dir / "console.log", "ab")
        self.process = proc.spawn(self.start_argv(), what="start Asterisk", stdout=self._console,
                                  stderr=subprocess.STDOUT)

    @property
    def run_dir(self) -> Path:
        return self.instance_dir / "run"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        """The pid of Asterisk itself (not of the unshare wrapper)."""
        if not self.running:
            return None
        if not self.rootfs:
            return self.process.pid
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def _in_chroot(self) -> bool:
        pid = self.pid
        if pid is None:
            return False
        try:
            return os.readlink(f"/proc/{pid}/root") == str(self.rootfs)
        except OSError:
            return False

    def cli_argv(self, command: str) -> list[str]:
        argv = self._asterisk_argv("-rx", command)
        if not self.rootfs:
            return ["/usr/sbin/" + argv[0], *argv[1:]]
        return ["nsenter", "--target", str(self.pid), "--mount", "--root", "--wd=/", "--", *argv]

    def cli(self, command: str, timeout: float = 30.0) -> str:
        """Run one CLI command over the control socket and return its output."""
        if self.rootfs and not self._in_chroot():
            raise AsteriskError("Asterisk is not running")
        done = proc.run(self.cli_argv(command), what=f"run Asterisk CLI '{command}'",
                        capture=True, timeout=timeout, check=False, cwd="/")
        if done.returncode != 0:
            raise AsteriskError(f"Asterisk CLI '{command}' failed: {done.stdout.strip()[-300:]}")
        return done.stdout

    def wait_fully_booted(self, timeout: float = 60.0) -> None:
        """Poll the control socket until Asterisk says it is fully booted."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.running:
                raise AsteriskError("Asterisk exited while starting; see " + str(self.log_dir / "console.log"))
            ready = (self.run_dir / "asterisk.ctl").exists() and (self._in_chroot() if self.rootfs else True)
            if ready:
                done = proc.run(self.cli_argv("core waitfullybooted"), what="wait for Asterisk",
                                capture=True, timeout=timeout, check=False, cwd="/")
                if done.returncode == 0 and "fully booted" in done.stdout.lower():
                    return
                last = done.stdout.strip()
            time.sleep(0.1)
        raise AsteriskError(f"Asterisk did not finish booting in {timeout:.0f}s: {last[-300:]}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.running:
            try:
                self.cli("core stop now", timeout=timeout)
            except (AsteriskError, subprocess.TimeoutExpired, proc.CommandFailed):
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()

    def kill(self) -> None:
        """SIGKILL Asterisk and its wrapper (the 'Asterisk died' fault)."""
        if self.process is None:
            return
        pid = self.pid
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)
        self._close()

    def _close(self) -> None:
        if self._console:
            self._console.close()
            self._console = None
