"""The one place the appliance starts other programs.

Argument lists only (never ``shell=True``), an explicit environment, the command
logged before it runs, and a failure that says what we were trying to do.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

# The environment every child gets unless the caller adds to it.
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}


class CommandFailed(RuntimeError):
    """A child program failed; the message says what it was for and how it ended."""

    def __init__(self, what: str, argv: Sequence[str], returncode: int, output: str):
        self.what = what
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(
            f"could not {what}: {shlex.join(self.argv)} exited with {returncode}"
            + (f"\n{tail}" if tail else "")
        )


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
) -> bytes:
    """Feed ``data`` to a program on its standard input and return what it wrote.

    The program is one of the rootfs's (Ghostscript, mpg123: system programs come from
    the same Debian tree as Asterisk).  With ``rootfs`` set (developers' machines and the
    tests) it runs chrooted into that tree; on the appliance (``rootfs`` empty) it runs
    natively.  What it writes is its standard output, or, for a program that must seek in
    its output (Ghostscript's TIFF devices), the file named by the argument ``{out}``:
    a fresh private folder's file, read back and removed.  A file name from a user never
    reaches the command line.  A non-zero exit, a timeout or output larger than
    ``max_output`` raise ``CommandFailed`` with the program's own message.  Given a
    ``messages`` list, a program writing to ``{out}`` adds what it said on its standard
    output and error there (Ghostscript names the pages it could not draw).
    """
    argv = _check_argv(argv)
    root = Path(rootfs) if rootfs else Path("/")
    with tempfile.TemporaryDirectory(prefix="filter-", dir=root / "tmp") as scratch:
        out = "/" + str(Path(scratch).relative_to(root) / "out")
        to_file = any("{out}" in a for a in argv)
        argv = [a.replace("{out}", out) for a in argv]
        if rootfs:
            argv = ["chroot", os.fspath(rootfs), *argv]
        logger.info("filter (%s): %s, %d bytes in", what, shlex.join(argv), len(data))
        try:
            proc = subprocess.run(argv, input=data, env=child_env(), timeout=timeout,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except subprocess.TimeoutExpired as exc:
            raise CommandFailed(what, argv, -1, f"no answer within {timeout:g} s") from exc
        except OSError as exc:
            raise CommandFailed(what, argv, -1, str(exc)) from exc
        if proc.returncode != 0:
            message = (proc.stderr or proc.stdout).decode("utf-8", "replace")
            raise CommandFailed(what, argv, proc.returncode, message)
        path = root / out.lstrip("/")
        size = path.stat().st_size if to_file and path.exists() else len(proc.stdout)
        if size > max_output:
            raise CommandFailed(what, argv, 0, f"output larger than {max_output} bytes")
        if to_file:
            if not path.exists():
                raise CommandFailed(what, argv, 0, "the program wrote no output file")
            if messages is not None:
                messages.append((proc.stdout + proc.stderr).decode("utf-8", "replace"))
            return path.read_bytes()
        return proc.stdout
