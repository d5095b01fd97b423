"""SIP sources blocked after failed authentications (appliance/services/sipguard.py): one row
per block, kept after it ends (``ended_at``, ``ended_by``) so the page can say what happened.
A restart keeps the blocks that have not ended."""

STATEMENTS = (
    """CREATE TABLE "sip_block" ("id" INTEGER NOT NULL PRIMARY KEY, "address" VARCHAR(64) NOT NULL,
       "blocked_at" DATETIME NOT NULL, "until" DATETIME NOT NULL, "failures" INTEGER NOT NULL,
       "accounts" VARCHAR(400) NOT NULL, "kinds" VARCHAR(100) NOT NULL, "first_failure_at" DATETIME,
       "ended_at" DATETIME, "ended_by" VARCHAR(64) NOT NULL)""",
    """CREATE INDEX "sip_block_address" ON "sip_block" ("address")""",
    """CREATE INDEX "sip_block_ended_at" ON "sip_block" ("ended_at")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
