"""tarfile's ``data`` extraction filter where this Python has it: 3.11.4 and later (the image's
Python, the test machines'), not Debian 12's own 3.11.2, on which ``make test`` also runs.
Without it, extraction is tarfile's old one: used only on archives this project made itself
(a derived upgrade bundle, the backup fixtures, npm's tarballs checked by their hash)."""

from __future__ import annotations

import tarfile

SAFE: dict = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
