"""Placeholder: number 10 belongs to a migration on another branch (see the IVR branch's
notes).  It changes nothing; it only keeps the numbers 1..N without a gap so this branch
runs.  Drop this file when the branch is merged and the real m0010 takes its place."""


def up(db, migrator):
    pass
