"""Outbound, the foundation (issue 16): call lists and their entries, campaigns, the lists a
campaign dials, and one attempt record per try (linked to its call record by ``linkedid``).

- ``call_list_entry.number`` is normalised (``appliance.numbers.normalise``) and
  ``number_key`` (``numbers.key``) is unique per list: a number is in a list once.
- ``call_list_entry.state``: pending -> offered (to ``taken_by``, one conditional UPDATE) ->
  dialling -> done; ``next_attempt_at`` holds a call-back's time.
- ``campaign.mode``: only ``preview`` is implemented; ``state`` stopped | running | paused.
"""

STATEMENTS = (
    """CREATE TABLE "call_list" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "display_name" VARCHAR(64) NOT NULL, "owner_queue" VARCHAR(32) NOT NULL, "owner_agents" TEXT NOT NULL, "state" VARCHAR(8) NOT NULL, "created_at" DATETIME NOT NULL, "created_by" VARCHAR(64) NOT NULL)""",
    """CREATE UNIQUE INDEX "call_list_name" ON "call_list" ("name")""",
    """CREATE TABLE "call_list_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "call_list_id" INTEGER NOT NULL, "number" VARCHAR(32) NOT NULL, "number_key" VARCHAR(32) NOT NULL, "name" VARCHAR(128) NOT NULL, "customer_id" INTEGER, "data" TEXT NOT NULL, "agent" VARCHAR(16) NOT NULL, "attempts" INTEGER NOT NULL, "last_result" VARCHAR(16) NOT NULL, "next_attempt_at" DATETIME, "state" VARCHAR(8) NOT NULL, "taken_by" VARCHAR(16) NOT NULL, "taken_at" DATETIME, "campaign" INTEGER, FOREIGN KEY ("call_list_id") REFERENCES "call_list" ("id") ON DELETE CASCADE, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "call_list_entry_call_list_id" ON "call_list_entry" ("call_list_id")""",
    """CREATE INDEX "call_list_entry_customer_id" ON "call_list_entry" ("customer_id")""",
    """CREATE UNIQUE INDEX "call_list_entry_call_list_id_number_key" ON "call_list_entry" ("call_list_id", "number_key")""",
    """CREATE INDEX "call_list_entry_state_next_attempt_at" ON "call_list_entry" ("state", "next_attempt_at")""",
    """CREATE INDEX "call_list_entry_taken_by_state" ON "call_list_entry" ("taken_by", "state")""",
    """CREATE TABLE "campaign" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "display_name" VARCHAR(64) NOT NULL, "mode" VARCHAR(16) NOT NULL, "queue" VARCHAR(32) NOT NULL, "agents" TEXT NOT NULL, "script" TEXT NOT NULL, "auto_next" INTEGER NOT NULL, "start_at" DATETIME, "stop_at" DATETIME, "state" VARCHAR(8) NOT NULL, "updated_at" DATETIME NOT NULL, "updated_by" VARCHAR(64) NOT NULL)""",
    """CREATE UNIQUE INDEX "campaign_name" ON "campaign" ("name")""",
    """CREATE TABLE "campaign_list" ("id" INTEGER NOT NULL PRIMARY KEY, "campaign_id" INTEGER NOT NULL, "call_list_id" INTEGER NOT NULL, "position" INTEGER NOT NULL, FOREIGN KEY ("campaign_id") REFERENCES "campaign" ("id") ON DELETE CASCADE, FOREIGN KEY ("call_list_id") REFERENCES "call_list" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "campaign_list_campaign_id" ON "campaign_list" ("campaign_id")""",
    """CREATE INDEX "campaign_list_call_list_id" ON "campaign_list" ("call_list_id")""",
    """CREATE UNIQUE INDEX "campaign_list_campaign_id_call_list_id" ON "campaign_list" ("campaign_id", "call_list_id")""",
    """CREATE TABLE "campaign_attempt" ("id" INTEGER NOT NULL PRIMARY KEY, "campaign_id" INTEGER NOT NULL, "entry_id" INTEGER NOT NULL, "agent" VARCHAR(16) NOT NULL, "number" VARCHAR(32) NOT NULL, "linkedid" VARCHAR(64) NOT NULL, "started_at" DATETIME NOT NULL, "ended_at" DATETIME, "result" VARCHAR(16) NOT NULL, "disposition" VARCHAR(32) NOT NULL, "note" TEXT NOT NULL, "callback_at" DATETIME, FOREIGN KEY ("campaign_id") REFERENCES "campaign" ("id") ON DELETE CASCADE, FOREIGN KEY ("entry_id") REFERENCES "call_list_entry" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "campaign_attempt_campaign_id" ON "campaign_attempt" ("campaign_id")""",
    """CREATE INDEX "campaign_attempt_entry_id" ON "campaign_attempt" ("entry_id")""",
    """CREATE INDEX "campaign_attempt_linkedid" ON "campaign_attempt" ("linkedid")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
