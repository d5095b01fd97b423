"""The one place the appliance starts other programs.

Argument lists only (never ``shell=True``), an explicit environment, the command
logged before it runs, and a failure that says what we were trying to do.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence

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
) -> subprocess.Popen:
    """Start a long-running program and return its handle (in its own process group)."""
    argv = _check_argv(argv)
    logger.info("spawn (%s): %s", what, shlex.join(argv))
    return subprocess.Popen(
        argv,
        env=child_env(env),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        start_new_session=True,
    )
