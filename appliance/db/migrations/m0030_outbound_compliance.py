"""Outbound compliance (appliance/services/compliance.py): the do-not-call list, caller-ID
pools with the calls presented with each number (what the hourly and daily caps count),
and the refused outbound calls with the rule that refused each.  The calling window and
the default pool are site settings (``compliance.window``, ``compliance.window_holidays``,
``callerid.default_pool``): no rows until an admin changes them."""

STATEMENTS = (
    """CREATE TABLE "dnc_number" ("id" INTEGER NOT NULL PRIMARY KEY, "number" VARCHAR(32) NOT NULL,
       "number_key" VARCHAR(32) NOT NULL, "reason" VARCHAR(128) NOT NULL, "added_by" VARCHAR(64) NOT NULL,
       "source" VARCHAR(8) NOT NULL, "created_at" DATETIME NOT NULL, "expires_at" DATETIME)""",
    """CREATE UNIQUE INDEX "dnc_number_number_key" ON "dnc_number" ("number_key")""",
    """CREATE TABLE "caller_id_number" ("id" INTEGER NOT NULL PRIMARY KEY, "pool" VARCHAR(32) NOT NULL,
       "number" VARCHAR(32) NOT NULL, "per_hour" INTEGER NOT NULL, "per_day" INTEGER NOT NULL,
       "active" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "caller_id_number_pool_number" ON "caller_id_number" ("pool", "number")""",
    """CREATE TABLE "caller_id_use" ("id" INTEGER NOT NULL PRIMARY KEY, "number" VARCHAR(32) NOT NULL,
       "at" DATETIME NOT NULL)""",
    """CREATE INDEX "caller_id_use_at" ON "caller_id_use" ("at")""",
    """CREATE TABLE "call_refusal" ("id" INTEGER NOT NULL PRIMARY KEY, "at" DATETIME NOT NULL,
       "path" VARCHAR(16) NOT NULL, "rule" VARCHAR(16) NOT NULL, "number" VARCHAR(32) NOT NULL,
       "agent" VARCHAR(32) NOT NULL, "actor" VARCHAR(64) NOT NULL, "campaign" VARCHAR(32) NOT NULL,
       "detail" TEXT NOT NULL)""",
    """CREATE INDEX "call_refusal_at" ON "call_refusal" ("at")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
