"""Routing rules, part 1: opening hours (time conditions) with a holiday calendar, the
after-hours destination of each DID, and the inbound blacklist."""

STATEMENTS = (
    """CREATE TABLE "time_condition" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "schedule" TEXT NOT NULL, "timezone" VARCHAR(64) NOT NULL, "use_holidays" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "time_condition_name" ON "time_condition" ("name")""",
    """CREATE TABLE "holiday" ("id" INTEGER NOT NULL PRIMARY KEY, "date" VARCHAR(10) NOT NULL, "name" VARCHAR(64) NOT NULL, "kind" VARCHAR(8) NOT NULL)""",
    """CREATE UNIQUE INDEX "holiday_date" ON "holiday" ("date")""",
    """CREATE TABLE "blocked_number" ("id" INTEGER NOT NULL PRIMARY KEY, "number" VARCHAR(32) NOT NULL, "note" VARCHAR(128) NOT NULL, "created_at" DATETIME NOT NULL)""",
    """CREATE UNIQUE INDEX "blocked_number_number" ON "blocked_number" ("number")""",
    """ALTER TABLE "did" ADD COLUMN "time_condition_id" INTEGER REFERENCES "time_condition" ("id") ON DELETE SET NULL""",
    """ALTER TABLE "did" ADD COLUMN "after_hours_queue_id" INTEGER REFERENCES "queue" ("id") ON DELETE SET NULL""",
    """CREATE INDEX "did_time_condition_id" ON "did" ("time_condition_id")""",
    """CREATE INDEX "did_after_hours_queue_id" ON "did" ("after_hours_queue_id")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
