"""Outgoing calls: which trunks carry them, in which order."""

STATEMENTS = (
    """ALTER TABLE "trunk" ADD COLUMN "outbound_priority" INTEGER NOT NULL DEFAULT 1""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
