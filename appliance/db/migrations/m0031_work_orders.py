"""Work orders (工单, issue 19): types the admin defines (their own fields, a workflow of
states and transitions with a time limit per state, priorities, who is told on escalation),
the orders themselves (linked to a customer, a call, a voice message or a survey), and each
order's history (who, when, from which state to which, a note, photos).

An order's escalation is stored on it (``escalation_level``, ``escalated_at``) beside when its
state began and is due (``state_since``, ``due_at``), so the scheduler computes what is owed
from the rows at every tick and at start: nothing escalates twice, nothing is missed after
downtime."""

STATEMENTS = (
    """CREATE TABLE "work_order_type" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "label" VARCHAR(64) NOT NULL, "fields" TEXT NOT NULL, "states" TEXT NOT NULL, "transitions" TEXT NOT NULL, "priorities" VARCHAR(200) NOT NULL, "leader_email" VARCHAR(1000) NOT NULL, "manager_email" VARCHAR(1000) NOT NULL, "from_survey" INTEGER NOT NULL, "active" INTEGER NOT NULL, "created_at" DATETIME NOT NULL)""",
    """CREATE UNIQUE INDEX "work_order_type_name" ON "work_order_type" ("name")""",
    """CREATE TABLE "work_order" ("id" INTEGER NOT NULL PRIMARY KEY, "type_id" INTEGER NOT NULL, "title" VARCHAR(200) NOT NULL, "state" VARCHAR(32) NOT NULL, "priority" VARCHAR(32) NOT NULL, "customer_id" INTEGER, "linkedid" VARCHAR(64) NOT NULL, "voice_message_id" INTEGER, "source" VARCHAR(16) NOT NULL, "custom" TEXT NOT NULL, "assignee_kind" VARCHAR(16) NOT NULL, "assignee" VARCHAR(64) NOT NULL, "engineer_contact" VARCHAR(128) NOT NULL, "created_by" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "state_since" DATETIME NOT NULL, "due_at" DATETIME, "escalation_level" INTEGER NOT NULL, "escalated_at" DATETIME, "closed_at" DATETIME, FOREIGN KEY ("type_id") REFERENCES "work_order_type" ("id"), FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE SET NULL, FOREIGN KEY ("voice_message_id") REFERENCES "voice_message" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "work_order_type_id" ON "work_order" ("type_id")""",
    """CREATE INDEX "work_order_customer_id" ON "work_order" ("customer_id")""",
    """CREATE INDEX "work_order_voice_message_id" ON "work_order" ("voice_message_id")""",
    """CREATE INDEX "work_order_linkedid" ON "work_order" ("linkedid")""",
    """CREATE INDEX "work_order_closed_at_due_at" ON "work_order" ("closed_at", "due_at")""",
    """CREATE INDEX "work_order_assignee_kind_assignee" ON "work_order" ("assignee_kind", "assignee")""",
    """CREATE TABLE "work_order_event" ("id" INTEGER NOT NULL PRIMARY KEY, "order_id" INTEGER NOT NULL, "at" DATETIME NOT NULL, "actor" VARCHAR(64) NOT NULL, "kind" VARCHAR(16) NOT NULL, "from_state" VARCHAR(32) NOT NULL, "to_state" VARCHAR(32) NOT NULL, "note" TEXT NOT NULL, "photos" TEXT NOT NULL, FOREIGN KEY ("order_id") REFERENCES "work_order" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "work_order_event_order_id" ON "work_order_event" ("order_id")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
