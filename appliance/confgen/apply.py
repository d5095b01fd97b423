"""Write generated config atomically and reload only the Asterisk modules whose
file changed, from a fixed allow-list.  ``modules.conf`` cannot be reloaded: a
change there is reported as needing a restart.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.confgen import render_all

logger = logging.getLogger(__name__)

# file -> the CLI command that reloads just the module reading it.
RELOAD_COMMANDS = {
    "pjsip.conf": "module reload res_pjsip.so",
    "extensions.conf": "dialplan reload",
    "queues.conf": "module reload app_queue.so",
    "manager.conf": "manager reload",
    "musiconhold.conf": "module reload res_musiconhold.so",
    "rtp.conf": "module reload res_rtp_asterisk.so",
    "http.conf": "module reload http",  # Asterisk's core HTTP server (the softphones' WebSocket)
    "agents.conf": "module reload app_agent_pool.so",
    "chan_dahdi.conf": "module reload chan_dahdi.so",  # written by confgen.dahdi, not render_all
}
RESTART_ONLY = frozenset({"modules.conf"})


@dataclass
class ApplyResult:
    changed: list[str] = field(default_factory=list)
    reloaded: list[str] = field(default_factory=list)
    restart_needed: bool = False


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


FILE_MODE = 0o640  # secrets inside (pjsip.conf, manager.conf): the owner writes, Asterisk's group reads


def write_atomic(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` (mode 0640) unless it already holds it; True if it changed."""
    path = Path(path)
    data = text.encode()
    try:
        if digest(path.read_text()) == digest(text):
            if path.stat().st_mode & 0o777 != FILE_MODE:  # written by an older version
                os.chmod(path, FILE_MODE)
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)  # a part file left by a crash may carry another mode
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # whatever the umask
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def write_files(model, generated_dir: Path) -> list[str]:
    generated_dir = Path(generated_dir)
    generated_dir.mkdir(parents=True, exist_ok=True)
    rendered = render_all(model)  # render everything first: a bad value writes nothing
    return [fn for fn, text in rendered.items() if write_atomic(generated_dir / fn, text)]


def apply(model, generated_dir: Path, cli: Callable[[str], str] | None) -> ApplyResult:
    """Render, write what changed, and reload it through ``cli`` (None: not running)."""
    result = ApplyResult(changed=write_files(model, generated_dir))
    for filename in result.changed:
        if filename in RESTART_ONLY:
            if cli is not None:  # not running: the next start reads it anyway
                result.restart_needed = True
                logger.warning("%s changed: Asterisk must be restarted to load the new module list", filename)
            continue
        command = RELOAD_COMMANDS[filename]
        if cli is not None:
            cli(command)
            result.reloaded.append(command)
    if result.changed:
        logger.info("config applied: changed %s, reloaded %s", result.changed, result.reloaded)
    return result
