"""Call scripts (话术, issue 19 point 8): the scripts (steps as JSON: text per language, the
customer field a step's question fills, the next step by answer), where each is read (one
queue's or one campaign's calls: a queue or campaign has one script at most), and each
agent's way through a script on a call (``linkedid``, the steps as they were when it
began, the path taken), so a supervisor sees what was said."""

STATEMENTS = (
    """CREATE TABLE "call_script" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "label" VARCHAR(64) NOT NULL, "steps" TEXT NOT NULL, "active" INTEGER NOT NULL, "updated_at" DATETIME NOT NULL, "updated_by" VARCHAR(64) NOT NULL)""",
    """CREATE UNIQUE INDEX "call_script_name" ON "call_script" ("name")""",
    """CREATE TABLE "call_script_use" ("id" INTEGER NOT NULL PRIMARY KEY, "script_id" INTEGER NOT NULL, "queue_id" INTEGER, "campaign_id" INTEGER, FOREIGN KEY ("script_id") REFERENCES "call_script" ("id") ON DELETE CASCADE, FOREIGN KEY ("queue_id") REFERENCES "queue" ("id") ON DELETE CASCADE, FOREIGN KEY ("campaign_id") REFERENCES "campaign" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "call_script_use_script_id" ON "call_script_use" ("script_id")""",
    """CREATE UNIQUE INDEX "call_script_use_queue_id" ON "call_script_use" ("queue_id")""",
    """CREATE UNIQUE INDEX "call_script_use_campaign_id" ON "call_script_use" ("campaign_id")""",
    """CREATE TABLE "call_script_run" ("id" INTEGER NOT NULL PRIMARY KEY, "linkedid" VARCHAR(64) NOT NULL, "agent" VARCHAR(16) NOT NULL, "script_id" INTEGER, "script_label" VARCHAR(64) NOT NULL, "source" VARCHAR(80) NOT NULL, "steps" TEXT NOT NULL, "customer_id" INTEGER, "current" VARCHAR(32) NOT NULL, "path" TEXT NOT NULL, "started_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, FOREIGN KEY ("script_id") REFERENCES "call_script" ("id") ON DELETE SET NULL, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "call_script_run_script_id" ON "call_script_run" ("script_id")""",
    """CREATE INDEX "call_script_run_customer_id" ON "call_script_run" ("customer_id")""",
    """CREATE UNIQUE INDEX "call_script_run_linkedid_agent" ON "call_script_run" ("linkedid", "agent")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
