"""Voice verification codes (``POST /api/v1/voice-codes``): one row per call that says a
code.  The code itself is never stored, not even as a hash: the row says whom it was
said to, in which language, who asked (``sender``: ``token:<id>`` or ``user:<name>``,
what the per-sender limit counts) and how the call ended."""

STATEMENTS = (
    """CREATE TABLE "voice_code" ("id" INTEGER NOT NULL PRIMARY KEY, "number" VARCHAR(32) NOT NULL,
       "language" VARCHAR(8) NOT NULL, "requested_by" VARCHAR(64) NOT NULL, "sender" VARCHAR(64) NOT NULL,
       "call_token" VARCHAR(32) NOT NULL, "audio" VARCHAR(32) NOT NULL, "state" VARCHAR(16) NOT NULL,
       "detail" VARCHAR(64) NOT NULL,
       "said" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "ended_at" DATETIME)""",
    """CREATE INDEX "voice_code_number_created_at" ON "voice_code" ("number", "created_at")""",
    """CREATE INDEX "voice_code_sender_created_at" ON "voice_code" ("sender", "created_at")""",
    """CREATE INDEX "voice_code_state" ON "voice_code" ("state")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
