"""Sticky agent: per queue, offer a caller first to the agent who last talked with them;
the call record says which routing rule placed the call."""

STATEMENTS = (
    """ALTER TABLE "queue" ADD COLUMN "sticky_lookback_days" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "queue" ADD COLUMN "sticky_min_talk_seconds" INTEGER NOT NULL DEFAULT 30""",
    """ALTER TABLE "queue" ADD COLUMN "sticky_ring_seconds" INTEGER NOT NULL DEFAULT 15""",
    """ALTER TABLE "call_record" ADD COLUMN "route_rule" VARCHAR(16) NOT NULL DEFAULT ''""",
    """CREATE INDEX "call_record_caller_end_time" ON "call_record" ("caller", "end_time")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
