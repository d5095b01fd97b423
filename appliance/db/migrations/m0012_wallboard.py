"""Wallboard: each queue's service-level threshold (calls answered within this many
seconds count as answered in time; default 20)."""

STATEMENTS = (
    """ALTER TABLE "queue" ADD COLUMN "service_level_seconds" INTEGER NOT NULL DEFAULT 20""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
