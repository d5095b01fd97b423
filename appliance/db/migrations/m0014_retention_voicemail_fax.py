"""Retention and archive of recordings (how long each is kept, per direction and per queue;
when it was archived, when it expired) and callers' messages (voicemail: after hours on a
DID, or when a queue's callers reach nobody) and faxes received on DIDs set for fax."""

STATEMENTS = (
    """ALTER TABLE "recording" ADD COLUMN "archived_at" DATETIME""",
    """ALTER TABLE "recording" ADD COLUMN "expired_at" DATETIME""",
    """ALTER TABLE "recording" ADD COLUMN "archive_error" VARCHAR(255) NOT NULL DEFAULT ''""",
    """CREATE INDEX "recording_created_at" ON "recording" ("created_at")""",
    """ALTER TABLE "recording_rule" ADD COLUMN "keep_days" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "queue" ADD COLUMN "recording_keep_days" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "queue" ADD COLUMN "voicemail" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "did" ADD COLUMN "after_hours_voicemail" INTEGER NOT NULL DEFAULT 0""",
    """CREATE TABLE "voice_message" ("id" INTEGER NOT NULL PRIMARY KEY, "linkedid" VARCHAR(64) NOT NULL,
       "recording_key" VARCHAR(64) NOT NULL, "caller" VARCHAR(64) NOT NULL, "caller_name" VARCHAR(128) NOT NULL,
       "did" VARCHAR(32) NOT NULL, "queue" VARCHAR(32) NOT NULL, "agent" VARCHAR(16) NOT NULL,
       "reason" VARCHAR(32) NOT NULL, "created_at" DATETIME NOT NULL, "handled_by" VARCHAR(64) NOT NULL,
       "handled_at" DATETIME, "note" TEXT NOT NULL)""",
    """CREATE UNIQUE INDEX "voice_message_recording_key" ON "voice_message" ("recording_key")""",
    """CREATE INDEX "voice_message_queue_created_at" ON "voice_message" ("queue", "created_at")""",
    """ALTER TABLE "did" ADD COLUMN "fax" INTEGER NOT NULL DEFAULT 0""",
    """CREATE TABLE "fax" ("id" INTEGER NOT NULL PRIMARY KEY, "linkedid" VARCHAR(64) NOT NULL,
       "direction" VARCHAR(8) NOT NULL, "did" VARCHAR(32) NOT NULL, "caller" VARCHAR(64) NOT NULL,
       "caller_name" VARCHAR(128) NOT NULL, "state" VARCHAR(16) NOT NULL, "pages" INTEGER NOT NULL,
       "pdf_path" VARCHAR(255) NOT NULL, "bytes" INTEGER, "sha256" VARCHAR(64) NOT NULL,
       "error_code" VARCHAR(64) NOT NULL, "detail" TEXT NOT NULL, "created_at" DATETIME NOT NULL,
       "completed_at" DATETIME)""",
    """CREATE UNIQUE INDEX "fax_linkedid" ON "fax" ("linkedid")""",
    """CREATE INDEX "fax_created_at" ON "fax" ("created_at")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
