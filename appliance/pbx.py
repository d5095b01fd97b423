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

One Asterisk per instance directory.  An Asterisk left running by an appliance process
that died without stopping it (``kill -9``: its wrapper and Asterisk are not our
children any more) is found before every start (``leftovers``: a process of the
rootfs's ``asterisk`` started on *this* directory's ``asterisk.conf``) and stopped; a
SIP or AMI port still held by anything else then refuses the start with ``PortBusy``
instead of starting a second Asterisk that cannot bind.  Each start also writes a fresh
``token`` into the dialplan's globals (``CC_INSTANCE``): the AMI client compares it
with what the Asterisk on its port answers, so it never talks to a stranger.

**No call waits on DNS.**  Asterisk looks up the machine's own host name for every RTP
stream it binds to the wildcard address (``ast_find_ourip`` in res_rtp_asterisk: the host
name, then ``A.ROOT-SERVERS.NET``), which it does whenever SIP listens on ``0.0.0.0`` (the
image, ``make run``).  Found in the host table that costs nothing; through a resolver
that does not answer (a LAN without DNS) it held each call leg for 20 s.  The image's
``/etc/hosts`` names the box (``image_build.image``); the rootfs used as a chroot has no
``/etc/hosts`` at all, so each instance lays its own ``etc`` over the rootfs's, in its
private mount namespace only: ``chroot-etc/hosts`` (localhost and this machine's host
name, ``hosts_file``), and any other file put there (a test's ``resolv.conf``).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

from appliance import dialplan_vars, proc, sounds
from appliance.confgen import asterisk_conf
from appliance.confgen.apply import write_atomic
from appliance.confgen.model import Paths

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
STATIC_ETC = REPO_ROOT / "rootfs" / "etc" / "asterisk"
MOUNTPOINT = "/appliance"  # image_build.rootfs.INSTANCE_MOUNTPOINT
GENERATED = "appliance"  # subdirectory of etc/ holding generated files
INSTANCE_FILE = "instance.conf"  # under etc/appliance/: this start's token, in the dialplan's [globals]

CHROOT_ETC = "chroot-etc"  # under the instance directory: files laid over the rootfs's /etc

# Runs inside the new mount namespace, before chroot.  The paths arrive as
# positional parameters, never pasted into the script.  The instance's own /etc files
# (CHROOT_ETC) are an overlay's upper layer; without overlayfs Asterisk starts anyway,
# with the rootfs's /etc and a warning in its console log.
_CHROOT_SCRIPT = (
    'set -e; root="$1"; inst="$2"; shift 2; '
    'mount --rbind /dev "$root/dev"; '
    'mount -t proc proc "$root/proc"; '
    'mount --bind "$inst" "$root/appliance"; '
    f'mount -t overlay appliance-etc -o "lowerdir=$root/etc,upperdir=$inst/{CHROOT_ETC},'
    f'workdir=$inst/{CHROOT_ETC}.work" "$root/etc" '
    '|| echo "appliance: /etc of the chroot not replaced (no overlayfs): host names may be looked up in DNS" >&2; '
    'exec chroot "$root" "$@"'
)


def hosts_file(hostname: str) -> str:
    """/etc/hosts naming localhost and ``hostname``, this machine's own name, for IPv4 as
    Debian writes it and for IPv6 as systemd's nss-myhostname answers it: Asterisk looks the
    name up for every RTP stream bound to the wildcard address, and PJSIP for both
    families when it starts; a family missing here is asked of DNS."""
    lines = ["# written by the appliance: the machine's own name is never looked up in DNS",
             "127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    if hostname and hostname != "localhost":
        lines += [f"127.0.1.1\t{hostname}", f"::1\t{hostname}"]
    return "\n".join(lines) + "\n"


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


class PortBusy(AsteriskError):
    """A port this Asterisk must bind is held by another program: starting it anyway
    would give an Asterisk without SIP or AMI."""

    code = "pbx.port_busy"


def port_holders(proto: str, port: int) -> list[str]:
    """Who holds ``port`` (``"udp"`` or ``"tcp"``), as ``"pid 123 (asterisk)"``; the pids
    of other users' processes are only known to root."""
    try:
        conns = psutil.net_connections(kind=proto)
    except (psutil.Error, OSError):
        return []
    holders = []
    for conn in conns:
        if conn.laddr and conn.laddr.port == port and (proto == "udp" or conn.status == psutil.CONN_LISTEN):
            try:
                name = psutil.Process(conn.pid).name() if conn.pid else "?"
            except psutil.Error:
                name = "?"
            holders.append(f"pid {conn.pid} ({name})" if conn.pid else "another user's process")
    return sorted(set(holders))


def check_port_free(proto: str, host: str, port: int) -> None:
    """Raise ``PortBusy`` if ``host:port`` cannot be bound now.  TCP with SO_REUSEADDR
    (only a listener counts, not the closed connections of a dead Asterisk); UDP without
    (PJSIP's socket refuses a second one)."""
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        if proto == "tcp":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            holders = ", ".join(port_holders(proto, port)) or "unknown"
            raise PortBusy(f"{proto.upper()} port {host}:{port} is in use (held by {holders}): "
                           f"Asterisk was not started ({exc.strerror})") from None


class AsteriskInstance:
    def __init__(self, instance_dir: Path, rootfs: Path | None, account=None):
        self.instance_dir = Path(instance_dir).resolve()
        self.rootfs = Path(rootfs).resolve() if rootfs else None
        # native only (the image): Asterisk runs as this ``privileges.Account``, sharing the
        # instance directory through its group; None: as we run (chrooted as root in development)
        self.account = account
        self.process: subprocess.Popen | None = None
        self.token: str | None = None  # this start's CC_INSTANCE (prepare), None before
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
    def chroot_etc_dir(self) -> Path:
        """Files that replace the rootfs's own in /etc for this instance's Asterisk (chroot only)."""
        return self.instance_dir / CHROOT_ETC

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
        for sub in ("", "etc", "etc/" + GENERATED, "run", "log", "spool", "spool/cache", "lib",
                    "lib/keys"):  # res_crypto's key folder (astkeydir), empty: it says so at load otherwise
            folder = self.instance_dir / sub
            folder.mkdir(parents=True, exist_ok=True)
            if self.account is not None:  # Asterisk's group reads and writes here, setgid: so do new files
                if folder.stat().st_gid != self.account.gid:
                    os.chown(folder, -1, self.account.gid)
                os.chmod(folder, 0o2770)
        if self.account is not None:
            # a file written before its folder was Asterisk's (chan_dahdi.conf: DAHDI is
            # configured before the first start) kept the appliance's group, and Asterisk
            # could not read it ("Permission denied", seen on the image)
            for path in self.generated_dir.iterdir():
                if path.is_file() and path.stat().st_gid != self.account.gid:
                    os.chown(path, -1, self.account.gid)
        for src in sorted(STATIC_ETC.glob("*.conf")):
            shutil.copyfile(src, self.etc_dir / src.name)
        copy_changed(sounds.SOURCE_DIR, self.sounds_dir, "*/*.gsm")
        write_atomic(self.etc_dir / asterisk_conf.FILENAME, asterisk_conf.render(model))
        if self.rootfs:
            for folder in (self.chroot_etc_dir, self.instance_dir / f"{CHROOT_ETC}.work"):
                folder.mkdir(exist_ok=True)
            write_atomic(self.chroot_etc_dir / "hosts", hosts_file(socket.gethostname()))
        self.token = secrets.token_hex(16)
        write_atomic(self.generated_dir / INSTANCE_FILE,
                     f"; this start's identity, checked by the AMI client\n{dialplan_vars.INSTANCE_GLOBAL}={self.token}\n")

    # -- process ------------------------------------------------------------
    def _asterisk_argv(self, *args: str) -> list[str]:
        return ["asterisk", "-C", f"{self.paths.etc}/asterisk.conf", *args]

    def start_argv(self) -> list[str]:
        argv = self._asterisk_argv("-f", "-n", "-g")
        if not self.rootfs:
            argv = ["/usr/sbin/" + argv[0], *argv[1:]]
            # as its own user (proc.spawn switches), and without the capabilities the
            # appliance's programs inherit (privileges.py)
            return ["setpriv", "--inh-caps=-all", "--", *argv] if self.account else argv
        return ["unshare", "--mount", "--propagation", "private", "--fork", "--",
                "sh", "-c", _CHROOT_SCRIPT, "sh", str(self.rootfs), str(self.instance_dir), *argv]

    def leftovers(self) -> list[psutil.Process]:
        """Asterisk daemons started on this instance directory that are not ours: left
        by an appliance process that died without stopping them."""
        ours = self.pid
        conf = f"{self.paths.etc}/asterisk.conf"
        found = []
        for process in psutil.process_iter():
            try:
                if process.pid == ours or process.name() != "asterisk":
                    continue
                argv = process.cmdline()
                if conf not in argv or any(a.startswith(("-r", "-R", "-x")) for a in argv):
                    continue  # another instance's, or a CLI client (asterisk -rx)
                if self.rootfs and not self._sees_instance(process.pid):
                    continue  # the same path inside the chroot, another instance's directory
                found.append(process)
            except (psutil.Error, OSError):
                continue
        return found

    def _sees_instance(self, pid: int) -> bool:
        """Whether process ``pid`` (chrooted, in its own mount namespace) has this
        instance directory at its ``/appliance``."""
        try:
            theirs = os.stat(f"/proc/{pid}/root{MOUNTPOINT}")
        except OSError:
            return False
        mine = self.instance_dir.stat()
        return (theirs.st_dev, theirs.st_ino) == (mine.st_dev, mine.st_ino)

    def stop_leftovers(self, timeout: float = 10.0) -> list[int]:
        """Stop every ``leftovers`` process: SIGTERM, then SIGKILL after ``timeout``;
        returns their pids."""
        found = self.leftovers()
        for process in found:
            logger.warning("an Asterisk of this instance is still running (pid %s, left by an earlier appliance "
                           "process): stopping it", process.pid)
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(found, timeout=timeout)
        for process in alive:
            logger.warning("Asterisk pid %s did not stop within %.0f s: killing it", process.pid, timeout)
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(alive, timeout=timeout)
        if alive:
            raise AsteriskError(f"could not stop the earlier Asterisk (pid {', '.join(str(p.pid) for p in alive)})")
        return [p.pid for p in found]

    def start(self, ports: tuple[tuple[str, str, int], ...] = ()) -> None:
        """Start Asterisk, after stopping an earlier one of this instance left running and
        checking that each of ``ports`` (``(proto, host, port)``) is free."""
        if self.running:
            raise AsteriskError("Asterisk is already running")
        self.stop_leftovers()
        for proto, host, port in ports:
            check_port_free(proto, host, port)
        (self.run_dir / "asterisk.ctl").unlink(missing_ok=True)
        self._console = open(self.log_dir / "console.log", "ab")
        self.process = proc.spawn(self.start_argv(), what="start Asterisk", stdout=self._console,
                                  stderr=subprocess.STDOUT, account=self.account)

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
        # The same directory, not the same path: read from inside another chroot (a fresh
        # machine checked in a minimal chroot, as README says) the link names the host's path.
        try:
            there, ours = os.stat(f"/proc/{pid}/root"), os.stat(self.rootfs)
        except OSError:
            return False
        return (there.st_dev, there.st_ino) == (ours.st_dev, ours.st_ino)

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
