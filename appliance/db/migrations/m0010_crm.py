"""The CRM: custom fields defined by the admin, tags, notes and follow-ups on customers;
indexes for searching customers by name (prefix), category and tag."""

STATEMENTS = (
    """ALTER TABLE "customer" ADD COLUMN "custom" TEXT NOT NULL DEFAULT '{}'""",
    """ALTER TABLE "customer" ADD COLUMN "created_by" VARCHAR(64) NOT NULL DEFAULT ''""",
    """ALTER TABLE "customer" ADD COLUMN "updated_at" DATETIME""",
    """CREATE INDEX "customer_name" ON "customer" ("name")""",
    """CREATE INDEX "customer_category" ON "customer" ("category")""",
    """CREATE TABLE "customer_field" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "label" VARCHAR(64) NOT NULL, "type" VARCHAR(8) NOT NULL, "required" INTEGER NOT NULL, "choices" TEXT NOT NULL, "position" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "customer_field_name" ON "customer_field" ("name")""",
    """CREATE TABLE "customer_tag" ("id" INTEGER NOT NULL PRIMARY KEY, "customer_id" INTEGER NOT NULL, "tag" VARCHAR(32) NOT NULL, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "customer_tag_tag" ON "customer_tag" ("tag")""",
    """CREATE UNIQUE INDEX "customer_tag_customer_id_tag" ON "customer_tag" ("customer_id", "tag")""",
    """CREATE TABLE "customer_note" ("id" INTEGER NOT NULL PRIMARY KEY, "customer_id" INTEGER NOT NULL, "author" VARCHAR(64) NOT NULL, "body" TEXT NOT NULL, "linkedid" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "customer_note_customer_id_created_at" ON "customer_note" ("customer_id", "created_at")""",
    """CREATE TABLE "follow_up" ("id" INTEGER NOT NULL PRIMARY KEY, "customer_id" INTEGER NOT NULL, "kind" VARCHAR(16) NOT NULL, "due_at" DATETIME NOT NULL, "note" VARCHAR(500) NOT NULL, "agent_id" INTEGER, "created_by" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "done_at" DATETIME, "done_by" VARCHAR(64) NOT NULL, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE, FOREIGN KEY ("agent_id") REFERENCES "agent" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "follow_up_customer_id" ON "follow_up" ("customer_id")""",
    """CREATE INDEX "follow_up_agent_id_done_at_due_at" ON "follow_up" ("agent_id", "done_at", "due_at")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
