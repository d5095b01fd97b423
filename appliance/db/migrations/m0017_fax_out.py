"""Faxes sent from an uploaded PDF (appliance/services/fax_out.py): where to, how many tries
so far and allowed, when the next one is due, who sent it and the file's name."""

STATEMENTS = (
    """ALTER TABLE "fax" ADD COLUMN "destination" VARCHAR(32) NOT NULL DEFAULT ''""",
    """ALTER TABLE "fax" ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "fax" ADD COLUMN "max_attempts" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "fax" ADD COLUMN "next_try_at" DATETIME""",
    """ALTER TABLE "fax" ADD COLUMN "created_by" VARCHAR(64) NOT NULL DEFAULT ''""",
    """ALTER TABLE "fax" ADD COLUMN "source_name" VARCHAR(128) NOT NULL DEFAULT ''""",
    """CREATE INDEX "fax_state_next_try_at" ON "fax" ("state", "next_try_at")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
