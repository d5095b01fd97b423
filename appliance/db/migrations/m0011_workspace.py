"""The agent workspace: what the agent says about each call (a disposition from the
admin's list and a note), and short messages between the people working in the UI."""

STATEMENTS = (
    """CREATE TABLE "call_disposition" ("id" INTEGER NOT NULL PRIMARY KEY, "code" VARCHAR(32) NOT NULL, "label" VARCHAR(64) NOT NULL)""",
    """CREATE UNIQUE INDEX "call_disposition_code" ON "call_disposition" ("code")""",
    """INSERT INTO "call_disposition" ("code", "label") VALUES ('resolved', 'Resolved'), ('sale', 'Sale'), ('call-back', 'Call back'), ('complaint', 'Complaint'), ('no-interest', 'Not interested'), ('wrong-number', 'Wrong number')""",
    """CREATE TABLE "call_outcome" ("id" INTEGER NOT NULL PRIMARY KEY, "linkedid" VARCHAR(64) NOT NULL, "agent" VARCHAR(16) NOT NULL, "disposition" VARCHAR(32) NOT NULL, "note" TEXT NOT NULL, "saved_by" VARCHAR(64) NOT NULL, "saved_at" DATETIME NOT NULL)""",
    """CREATE UNIQUE INDEX "call_outcome_linkedid_agent" ON "call_outcome" ("linkedid", "agent")""",
    """CREATE TABLE "message" ("id" INTEGER NOT NULL PRIMARY KEY, "sender" VARCHAR(64) NOT NULL, "recipient" VARCHAR(64) NOT NULL, "body" TEXT NOT NULL, "sent_at" DATETIME NOT NULL, "read_at" DATETIME)""",
    """CREATE INDEX "message_recipient_sent_at" ON "message" ("recipient", "sent_at")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
