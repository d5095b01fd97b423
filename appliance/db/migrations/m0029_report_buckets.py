"""Report summaries in 15-minute buckets (issue 17): ``report_bucket``.

One row per UTC quarter hour (``bucket``: its start, Unix seconds, a multiple of 900) and
per queue, DID, agent and direction, with the sums the reports read (see
``appliance/services/reports.py``).  Kept up to date when a call record is written (in
the same transaction) and when an agent's wrap-up ends; rebuilt from the call records and
the agent-state log on demand.  A fresh table is filled by the rebuild at once, so an
appliance that already holds call records reports on them from the first start.
"""

STATEMENTS = (
    """CREATE TABLE "report_bucket" ("id" INTEGER NOT NULL PRIMARY KEY, "bucket" INTEGER NOT NULL,
       "queue" VARCHAR(32) NOT NULL, "did" VARCHAR(32) NOT NULL, "agent" VARCHAR(16) NOT NULL,
       "direction" VARCHAR(8) NOT NULL, "calls" INTEGER NOT NULL, "offered" INTEGER NOT NULL,
       "answered" INTEGER NOT NULL, "answered_in_time" INTEGER NOT NULL, "abandoned" INTEGER NOT NULL,
       "no_agent" INTEGER NOT NULL, "handled" INTEGER NOT NULL, "wait_seconds" REAL NOT NULL,
       "wait_answered" REAL NOT NULL, "talk_seconds" REAL NOT NULL, "wrapup_seconds" REAL NOT NULL)""",
    """CREATE UNIQUE INDEX "report_bucket_bucket_queue_did_agent_direction"
       ON "report_bucket" ("bucket", "queue", "did", "agent", "direction")""",
    """CREATE TABLE "report_schedule" ("id" INTEGER NOT NULL PRIMARY KEY, "report" VARCHAR(16) NOT NULL,
       "period" VARCHAR(8) NOT NULL, "recipients" VARCHAR(1000) NOT NULL, "queue" VARCHAR(32) NOT NULL,
       "language" VARCHAR(8) NOT NULL, "last_period" VARCHAR(16) NOT NULL, "last_error" VARCHAR(255) NOT NULL,
       "created_by" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL)""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    from appliance.services.reports import rebuild_buckets

    rebuild_buckets(db, days=False)  # the day summaries come with their own migration
