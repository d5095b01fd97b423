"""Call recordings: one row per recorded call, from the WAV MixMonitor writes to the verified
MP3 kept (see docs/recording.md). Linked to the call by Asterisk's linkedid, which is the
call record's key too: ``call_record`` rows are rewritten in place (INSERT OR REPLACE) and do
not keep their id."""

STATEMENTS = (
    """CREATE TABLE "recording" ("id" INTEGER NOT NULL PRIMARY KEY, "linkedid" VARCHAR(64) NOT NULL, "state" VARCHAR(16) NOT NULL, "wav_path" VARCHAR(255) NOT NULL, "mp3_path" VARCHAR(255) NOT NULL, "error_code" VARCHAR(64) NOT NULL DEFAULT '', "detail" TEXT NOT NULL DEFAULT '', "repaired" INTEGER NOT NULL DEFAULT 0, "attempts" INTEGER NOT NULL DEFAULT 0, "bytes" INTEGER, "duration_seconds" REAL, "sha256" VARCHAR(64) NOT NULL DEFAULT '', "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "completed_at" DATETIME)""",
    """CREATE UNIQUE INDEX "recording_linkedid" ON "recording" ("linkedid")""",
    """CREATE INDEX "recording_state" ON "recording" ("state")""",
    """CREATE INDEX "recording_completed_at" ON "recording" ("completed_at")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
