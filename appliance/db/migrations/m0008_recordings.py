"""Call recordings: one row per recorded call, from the WAV MixMonitor writes to the verified
MP3 kept (see docs/recording.md). Linked to the call by Asterisk's linkedid, which is the
call record's key too: ``call_record`` rows are rewritten in place (INSERT OR REPLACE) and do
not keep their id.

The recording setting (force / yes / dontcare / no / never, appliance/recording/rules.py)
of each trunk, queue and agent, and one row per call direction with its setting and
whether recording starts at the answer or at the ring-back."""

STATEMENTS = (
    """CREATE TABLE "recording" ("id" INTEGER NOT NULL PRIMARY KEY, "linkedid" VARCHAR(64) NOT NULL, "state" VARCHAR(16) NOT NULL, "wav_path" VARCHAR(255) NOT NULL, "mp3_path" VARCHAR(255) NOT NULL, "error_code" VARCHAR(64) NOT NULL DEFAULT '', "detail" TEXT NOT NULL DEFAULT '', "repaired" INTEGER NOT NULL DEFAULT 0, "attempts" INTEGER NOT NULL DEFAULT 0, "bytes" INTEGER, "duration_seconds" REAL, "sha256" VARCHAR(64) NOT NULL DEFAULT '', "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "completed_at" DATETIME, "wanted" INTEGER NOT NULL DEFAULT 1, "partial" INTEGER NOT NULL DEFAULT 0, "policy" VARCHAR(64) NOT NULL DEFAULT '')""",
    """CREATE UNIQUE INDEX "recording_linkedid" ON "recording" ("linkedid")""",
    """CREATE INDEX "recording_state" ON "recording" ("state")""",
    """CREATE INDEX "recording_completed_at" ON "recording" ("completed_at")""",
    """ALTER TABLE "trunk" ADD COLUMN "recording" VARCHAR(8) NOT NULL DEFAULT 'dontcare'""",
    """ALTER TABLE "queue" ADD COLUMN "recording" VARCHAR(8) NOT NULL DEFAULT 'dontcare'""",
    """ALTER TABLE "agent" ADD COLUMN "recording" VARCHAR(8) NOT NULL DEFAULT 'dontcare'""",
    """CREATE TABLE "recording_rule" ("id" INTEGER NOT NULL PRIMARY KEY, "direction" VARCHAR(8) NOT NULL, "recording" VARCHAR(8) NOT NULL DEFAULT 'dontcare', "start_at" VARCHAR(8) NOT NULL DEFAULT 'answer')""",
    """CREATE UNIQUE INDEX "recording_rule_direction" ON "recording_rule" ("direction")""",
    # every inbound and outbound call recorded from the answer; internal calls on demand
    """INSERT INTO "recording_rule" ("direction", "recording", "start_at") VALUES ('inbound', 'yes', 'answer'), ('outbound', 'yes', 'answer'), ('internal', 'dontcare', 'answer')""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
