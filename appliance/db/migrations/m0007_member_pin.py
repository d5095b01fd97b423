"""Member PIN check: DIDs that ask callers for their PIN, and each customer's PIN (hashed)."""

STATEMENTS = (
    """ALTER TABLE "did" ADD COLUMN "require_pin" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "customer" ADD COLUMN "pin_hash" VARCHAR(255) NOT NULL DEFAULT ''""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
