"""Engine, part 1: queue overflow, announcements and auto-pause; agent pause with a
reason code; pause reasons; the agent state history that reports are built from."""

STATEMENTS = (
    """ALTER TABLE "queue" ADD COLUMN "overflow_queue_id" INTEGER REFERENCES "queue" ("id") ON DELETE SET NULL""",
    """ALTER TABLE "queue" ADD COLUMN "announce_holdtime" INTEGER NOT NULL DEFAULT 1""",
    """ALTER TABLE "queue" ADD COLUMN "periodic_announce_seconds" INTEGER NOT NULL DEFAULT 30""",
    """ALTER TABLE "queue" ADD COLUMN "autopause_after" INTEGER NOT NULL DEFAULT 3""",
    """CREATE INDEX "queue_overflow_queue_id" ON "queue" ("overflow_queue_id")""",
    """ALTER TABLE "agent" ADD COLUMN "paused" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "agent" ADD COLUMN "pause_reason" VARCHAR(32) NOT NULL DEFAULT ''""",
    """CREATE TABLE "pause_reason" ("id" INTEGER NOT NULL PRIMARY KEY, "code" VARCHAR(32) NOT NULL, "label" VARCHAR(64) NOT NULL)""",
    """CREATE UNIQUE INDEX "pause_reason_code" ON "pause_reason" ("code")""",
    """CREATE TABLE "agent_state_log" ("id" INTEGER NOT NULL PRIMARY KEY, "agent" VARCHAR(16) NOT NULL, "state" VARCHAR(16) NOT NULL, "reason" VARCHAR(32) NOT NULL, "started_at" DATETIME NOT NULL, "ended_at" DATETIME, "seconds" REAL)""",
    """CREATE INDEX "agent_state_log_agent_started_at" ON "agent_state_log" ("agent", "started_at")""",
)

# Pause reasons every call center has; "missed-calls" is the one the engine uses itself.
DEFAULT_PAUSE_REASONS = (
    ("break", "Break / 小休"),
    ("lunch", "Lunch / 用餐"),
    ("training", "Training / 培训"),
    ("meeting", "Meeting / 会议"),
    ("missed-calls", "Missed calls (automatic) / 未接自动暂停"),
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    for code, label in DEFAULT_PAUSE_REASONS:
        db.execute_sql('INSERT INTO "pause_reason" ("code", "label") VALUES (?, ?)', (code, label))
