"""Calling permissions against toll fraud: an agent's own permission (the dearest class of
number they may call: appliance/engine/calling.py), or ``role``: as their web account's role
says.  Where the office is in the numbering plan (``home_region``, ``area_code``) are rows of
``site_setting`` and need no column."""

STATEMENTS = (
    """ALTER TABLE "agent" ADD COLUMN "call_permission" VARCHAR(16) NOT NULL DEFAULT 'role'""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
