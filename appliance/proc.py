"""The one place the appliance starts other programs.

Argument lists only (never ``shell=True``), an explicit environment, the command
logged before it runs, and a failure that says what we were trying to do.
"""

from __future__ import annotations

import logging
import os
import resource
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# The environment every child gets unless the caller adds to it.
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}


# nobody/nogroup, the same numbers in Debian's passwd on the appliance and in the rootfs
UNPRIVILEGED = 65534


class CommandFailed(RuntimeError):
    """A child program failed; the message says what it was for and how it ended.  ``limit``
    names the limit that stopped it, if one did: ``time`` (the wall clock), ``cpu``,
    ``file`` (a file larger than allowed) or ``output``."""

    def __init__(self, what: str, argv: Sequence[str], returncode: int, output: str, limit: str = ""):
        self.what = what
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        self.limit = limit
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(
            f"could not {what}: {shlex.join(self.argv)} exited with {returncode}"
            + (f"\n{tail}" if tail else "")
        )


@dataclass(frozen=True)
class Limits:
    """What one run of a program over untrusted input may use, set with ``setrlimit`` in
    the child before it starts: processor seconds (SIGXCPU, then SIGKILL a second later),
    address space (an allocation beyond it fails: Ghostscript says VMerror, Python raises
    MemoryError) and the size of any file it writes (SIGXFSZ).  No core dumps."""

    cpu_seconds: int = 60
    memory_bytes: int = 512 * 1024 * 1024
    file_bytes: int = 256 * 1024 * 1024

    def apply(self) -> None:
        """Runs in the child between fork and exec: nothing here may take a lock."""
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (self.memory_bytes, self.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_bytes, self.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


CAP_SETGID, CAP_SETUID = 6, 7


def can_switch_user() -> bool:
    """Whether this process may start a child as another user: root (development, tests), or
    the image's ``appliance`` account, which keeps CAP_SETUID and CAP_SETGID effective for
    that (appliance/privileges.py)."""
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status") as status:
            effective = next(int(line.split()[1], 16) for line in status if line.startswith("CapEff:"))
    except (OSError, StopIteration, ValueError):
        return False
    return bool(effective >> CAP_SETUID & 1 and effective >> CAP_SETGID & 1)


def others_can_run(path: str | os.PathLike, bit: int = 0o001) -> bool:
    """Whether a user with no rights of its own (nobody) could start the program at ``path``
    (``bit`` 0o004: read the file): the file and every folder on the way to it (links
    followed) open to others.  Our own Python on the appliance is /usr/bin/python3; a
    developer's may live under /root."""
    real = Path(os.path.realpath(path))
    try:
        if not real.stat().st_mode & bit:
            return False
        return all(folder.stat().st_mode & 0o001 for folder in real.parents)
    except OSError:
        return False


def _stopped_by(returncode: int, limits: Limits | None) -> tuple[str, str]:
    """(limit, sentence) for a child that a resource limit ended, else ("", "")."""
    if limits is None or returncode >= 0:
        return "", ""
    if -returncode in (signal.SIGXCPU, signal.SIGKILL):
        return "cpu", f"stopped after {limits.cpu_seconds} s of processor time"
    if -returncode == signal.SIGXFSZ:
        return "file", f"stopped: it wrote a file larger than {limits.file_bytes} bytes"
    return "", ""


def _kill_group(child: subprocess.Popen) -> None:
    """The child and everything it started (its own session): gone, and the child reaped."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(BASE_ENV)
    if extra:
        env.update(extra)
    return env


def _check_argv(argv: Sequence[str]) -> list[str]:
    if isinstance(argv, (str, bytes)):
        raise TypeError("argv must be a list of arguments, not a string")
    return [os.fspath(a) for a in argv]


def run(
    argv: Sequence[str],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    capture: bool = False,
    check: bool = True,
    cwd: str | None = None,
) -> subprocess.CompletedProcess:
    """Run a program to completion.  With ``capture`` its output is returned."""
    argv = _check_argv(argv)
    logger.info("run (%s): %s", what, shlex.join(argv))
    proc = subprocess.run(
        argv,
        env=child_env(env),
        timeout=timeout,
        cwd=cwd,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        text=True,
    )
    if check and proc.returncode != 0:
        raise CommandFailed(what, argv, proc.returncode, proc.stdout or "")
    return proc


def spawn(
    argv: Sequence[str],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    stdin=subprocess.DEVNULL,
    stdout=None,
    stderr=None,
    cwd: str | None = None,
    account=None,
) -> subprocess.Popen:
    """Start a long-running program and return its handle (in its own process group);
    with ``account`` (a ``privileges.Account``) as that user, its groups and no others."""
    argv = _check_argv(argv)
    logger.info("spawn (%s): %s%s", what, shlex.join(argv), f" as {account.name}" if account else "")
    as_user = {"user": account.uid, "group": account.gid, "extra_groups": list(account.groups)} if account else {}
    return subprocess.Popen(
        argv,
        **as_user,
        env=child_env(env),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        start_new_session=True,
    )


def filter_through(
    argv: Sequence[str],
    data: bytes,
    *,
    what: str,
    rootfs: str | os.PathLike | None = None,
    timeout: float = 120.0,
    max_output: int = 256 * 1024 * 1024,
    messages: list[str] | None = None,
    limits: Limits | None = None,
    unprivileged: bool = False,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Feed ``data`` to a program on its standard input and return what it wrote.

    The program is one of the rootfs's (Ghostscript, mpg123: system programs come from
    the same Debian tree as Asterisk) or our own Python (``appliance.upload_worker``).
    With ``rootfs`` set (developers' machines and the tests) it runs chrooted into that
    tree; on the appliance (``rootfs`` empty) it runs natively.  What it writes is its
    standard output, or, for a program that must seek in its output (Ghostscript's TIFF
    devices), the file named by the argument ``{out}``.  Either way it works in a fresh
    private folder (its ``TMPDIR`` and working folder; ``{out}`` is there) that is removed
    afterwards whatever happened: a program killed half-way leaves no copy of the input
    behind.  A file name from a user never reaches the command line.

    For untrusted input: ``limits`` (processor time, memory, file size) are set in the
    child, ``unprivileged`` runs it as nobody when we may switch users (``can_switch_user``;
    chrooted, only as root), and at ``timeout`` seconds of wall clock its whole process
    group is killed.  The private folder is handed to nobody (root), or opened to it (the
    image's ``appliance`` account may not chown; its ``/tmp`` is the unit's own,
    ``PrivateTmp``), and nobody writes with umask 022 so that we can read what it wrote.
    A non-zero exit, a timeout, a limit or output larger than ``max_output`` raise
    ``CommandFailed`` with the program's own message (and ``limit`` set when a limit
    stopped it).  Given a ``messages`` list, a program writing to ``{out}`` adds what it
    said on its standard output and error there (Ghostscript names the pages it could not
    draw).
    """
    argv = _check_argv(argv)
    root = Path(rootfs) if rootfs else Path("/")
    as_root = os.geteuid() == 0
    drop = unprivileged and (as_root if rootfs else can_switch_user())
    scratch = Path(tempfile.mkdtemp(prefix="filter-", dir=root / "tmp"))
    try:
        inner = "/" + str(scratch.relative_to(root))  # the folder as the program sees it
        out = inner + "/out"
        to_file = any("{out}" in a for a in argv)
        argv = [a.replace("{out}", out) for a in argv]
        options: dict = {}
        if drop and as_root:
            os.chown(scratch, UNPRIVILEGED, UNPRIVILEGED)
        elif drop:  # nobody's files in it are still ours to delete (nobody makes no folders in it)
            os.chmod(scratch, 0o777)
        if rootfs:  # chroot changes the user after entering the tree (nobody has no chroot right)
            argv = ["chroot", *([f"--userspec={UNPRIVILEGED}:{UNPRIVILEGED}"] if drop else []), os.fspath(rootfs),
                    *argv]
        else:
            options["cwd"] = scratch
            if drop:
                options.update(user=UNPRIVILEGED, group=UNPRIVILEGED, extra_groups=[], umask=0o022)
        logger.info("filter (%s): %s, %d bytes in%s%s", what, shlex.join(argv), len(data),
                    f", limits {limits}" if limits else "", ", as nobody" if drop else "")
        try:
            child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=child_env({"TMPDIR": inner, **(env or {})}), start_new_session=True,
                                     preexec_fn=limits.apply if limits else None, **options)
        except OSError as exc:
            raise CommandFailed(what, argv, -1, str(exc)) from exc
        try:
            stdout, stderr = child.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            raise CommandFailed(what, argv, -1, f"no answer within {timeout:g} s: stopped", limit="time") from None
        except BaseException:  # the caller went away (a greenlet killed): so does the child
            _kill_group(child)
            raise
        if child.returncode != 0:
            limit, sentence = _stopped_by(child.returncode, limits)
            message = (stderr or stdout).decode("utf-8", "replace")
            raise CommandFailed(what, argv, child.returncode, f"{sentence}\n{message}" if sentence else message,
                                limit=limit)
        path = scratch / "out"
        size = path.stat().st_size if to_file and path.exists() else len(stdout)
        if size > max_output:
            raise CommandFailed(what, argv, 0, f"output larger than {max_output} bytes", limit="output")
        if to_file:
            if not path.exists():
                raise CommandFailed(what, argv, 0, "the program wrote no output file")
            if messages is not None:
                messages.append((stdout + stderr).decode("utf-8", "replace"))
            return path.read_bytes()
        return stdout
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
