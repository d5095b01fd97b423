"""FastAGI handlers, one module per script name, and the registry that maps names to them.

A handler is ``handler(session: AgiSession, request: AgiRequest) -> None``: it sends its
commands through the session and sets the channel variables the dialplan reads
(names in ``appliance.dialplan_vars``). It may raise: the server turns any exception into
the fallback (see ``appliance.agi.server``), except for a handler registered with
``fallback=False``: one whose work is an extra the call can go on without (starting a
recording), whose failure is logged and leaves the caller where the dialplan goes next. Handlers are registered by the composition
root (``appliance.main``), not by importing this package.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Callable

    from appliance.agi.protocol import AgiRequest
    from appliance.agi.session import AgiSession

Handler: TypeAlias = "Callable[[AgiSession, AgiRequest], None]"

_SCRIPT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class HandlerRegistry:
    """Script name (the path of ``agi://host:port/<script>``) -> handler."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._no_fallback: set[str] = set()

    def register(self, script: str, handler: Handler, *, fallback: bool = True) -> None:
        """Add ``handler`` for ``script``; a name registered twice is a programming error."""
        if not _SCRIPT_RE.fullmatch(script):
            raise ValueError(f"not a FastAGI script name: {script!r}")
        if not callable(handler):
            raise TypeError(f"handler for {script!r} is not callable")
        if script in self._handlers:
            raise ValueError(f"FastAGI script {script!r} is already registered")
        self._handlers[script] = handler
        if not fallback:
            self._no_fallback.add(script)

    def sends_to_fallback(self, script: str) -> bool:
        """Whether a failure of this script's handler sends the caller to the fallback."""
        return script not in self._no_fallback

    def get(self, script: str) -> Handler | None:
        return self._handlers.get(script)

    def names(self) -> list[str]:
        return sorted(self._handlers)
