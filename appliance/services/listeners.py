"""Telling a service's listeners (``changed``, ``finished`` ... lists of callables that other
services register in the composition root) without letting one that fails undo or stop the
change that was just committed."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def tell(listeners, about: str, *args) -> None:
    """Call each of ``listeners`` with ``args``; a failure is logged (``about`` says what
    changed) and the next one is still told."""
    for listener in listeners:
        try:
            listener(*args)
        except Exception:
            logger.exception("%s: a listener failed", about)
