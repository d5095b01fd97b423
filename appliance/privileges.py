"""Least privilege on the image: who owns what, and which capabilities reach children.

On the image ``appliance.service`` runs as the ``appliance`` account (``service_user``)
with a few capabilities granted by systemd as *ambient* ones (docs/image.md): binding
ports 80/443, configuring the LAN port and the DHCP client's raw socket, and three that
only this process needs, to start Asterisk as ``asterisk`` (``asterisk_user``) and stop
it: CAP_SETUID, CAP_SETGID, CAP_KILL.  Ambient capabilities pass to every program we
start, so ``keep_to_ourselves`` takes those three out of the ambient set at start-up
(they stay effective here): Ghostscript, mpg123, the encoders and the DHCP client never
get them, and Asterisk is started with none at all (``pbx``: ``setpriv --inh-caps=-all``).

``make run`` and the tests run as root with no ``service_user``: nothing here applies.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import grp
import logging
import os
import pwd
from dataclasses import dataclass

logger = logging.getLogger(__name__)

CAP_KILL, CAP_SETGID, CAP_SETUID = 5, 6, 7
# Capabilities this process uses itself and no child may inherit.
OURS_ONLY = (CAP_SETUID, CAP_SETGID, CAP_KILL)
PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_LOWER = 47, 1, 3


def _prctl(*args: int) -> int:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    result = libc.prctl(*(ctypes.c_ulong(a) for a in args), ctypes.c_ulong(0), ctypes.c_ulong(0))
    if result < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


def ambient(cap: int) -> bool:
    return _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap) == 1


def keep_to_ourselves(caps=OURS_ONLY) -> list[int]:
    """Lower ``caps`` from this thread's ambient set (call before any thread starts: the
    set is per thread and inherited by new ones); returns those lowered."""
    lowered = []
    for cap in caps:
        if ambient(cap):
            _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap)
            lowered.append(cap)
    if lowered:
        logger.info("capabilities %s kept from the programs we start", lowered)
    return lowered


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]  # every group it is in, its own first

    @classmethod
    def named(cls, name: str) -> "Account":
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise LookupError(f"no account {name!r} on this system") from None
        groups = os.getgrouplist(name, entry.pw_gid)
        return cls(name, entry.pw_uid, entry.pw_gid, tuple(dict.fromkeys([entry.pw_gid, *groups])))

    @property
    def group(self) -> str:
        return grp.getgrgid(self.gid).gr_name


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
