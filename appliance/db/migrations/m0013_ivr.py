"""IVR: prompts, voice menus and their options; DIDs (and their after-hours branch) leading
into a menu; the post-call survey per queue and its result on the call record.

A default prompt set is seeded from Asterisk's English core sounds (Allison Smith,
CC-BY-SA 3.0, package asterisk-core-sounds-en-gsm in the rootfs)."""

STATEMENTS = (
    """CREATE TABLE "prompt" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "description" VARCHAR(128) NOT NULL DEFAULT '', "language" VARCHAR(8) NOT NULL DEFAULT 'en', "source" VARCHAR(8) NOT NULL DEFAULT 'upload', "sound" VARCHAR(64) NOT NULL DEFAULT '', "file" VARCHAR(128) NOT NULL DEFAULT '', "duration_seconds" REAL NOT NULL DEFAULT 0, "peak_dbfs" REAL, "rms_dbfs" REAL, "created_at" DATETIME NOT NULL)""",
    """CREATE UNIQUE INDEX "prompt_name" ON "prompt" ("name")""",
    """CREATE TABLE "menu" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "description" VARCHAR(128) NOT NULL DEFAULT '', "prompt_id" INTEGER, "timeout_seconds" INTEGER NOT NULL DEFAULT 5, "max_tries" INTEGER NOT NULL DEFAULT 3, "invalid_action" VARCHAR(16) NOT NULL DEFAULT 'hangup', "invalid_target" VARCHAR(32) NOT NULL DEFAULT '', "timeout_action" VARCHAR(16) NOT NULL DEFAULT 'hangup', "timeout_target" VARCHAR(32) NOT NULL DEFAULT '', "skip" INTEGER NOT NULL DEFAULT 0, "live" INTEGER NOT NULL DEFAULT 0, "updated_at" DATETIME NOT NULL, FOREIGN KEY ("prompt_id") REFERENCES "prompt" ("id") ON DELETE RESTRICT)""",
    """CREATE UNIQUE INDEX "menu_name" ON "menu" ("name")""",
    """CREATE INDEX "menu_prompt_id" ON "menu" ("prompt_id")""",
    """CREATE TABLE "menu_option" ("id" INTEGER NOT NULL PRIMARY KEY, "menu_id" INTEGER NOT NULL, "digit" VARCHAR(1) NOT NULL, "action" VARCHAR(16) NOT NULL, "target" VARCHAR(32) NOT NULL DEFAULT '', "enabled" INTEGER NOT NULL DEFAULT 1, FOREIGN KEY ("menu_id") REFERENCES "menu" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "menu_option_menu_id" ON "menu_option" ("menu_id")""",
    """CREATE UNIQUE INDEX "menu_option_menu_id_digit" ON "menu_option" ("menu_id", "digit")""",
    """ALTER TABLE "did" ADD COLUMN "dest_menu_id" INTEGER REFERENCES "menu" ("id") ON DELETE SET NULL""",
    """ALTER TABLE "did" ADD COLUMN "after_hours_menu_id" INTEGER REFERENCES "menu" ("id") ON DELETE SET NULL""",
    """ALTER TABLE "queue" ADD COLUMN "survey_enabled" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "queue" ADD COLUMN "survey_prompt" VARCHAR(32) NOT NULL DEFAULT ''""",
    """ALTER TABLE "queue" ADD COLUMN "survey_low_score" INTEGER NOT NULL DEFAULT 2""",
    """ALTER TABLE "call_record" ADD COLUMN "survey" VARCHAR(16) NOT NULL DEFAULT ''""",
    """ALTER TABLE "call_record" ADD COLUMN "survey_score" INTEGER""",
)

# The built-in prompts: Asterisk's English core sounds that make sense in a menu.
DEFAULT_SOUNDS = (
    ("en-hello", "hello", "Hello"),
    ("en-one-moment", "one-moment-please", "One moment please"),
    ("en-invalid", "pm-invalid-option", "That is not a valid option"),
    ("en-try-again", "please-try-again", "Please try again"),
    ("en-enter-number", "vm-enter-num-to-call", "Please enter the number you wish to call"),
    ("en-unavailable", "vm-isunavail", "...is unavailable"),
    ("en-not-available", "feature-not-avail-line", "That feature is not available on this line"),
    ("en-thank-you", "auth-thankyou", "Thank you"),
    ("en-goodbye", "vm-goodbye", "Goodbye"),
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    for name, sound, description in DEFAULT_SOUNDS:
        db.execute_sql("""INSERT INTO "prompt" ("name", "description", "language", "source", "sound", "created_at")
                          VALUES (?, ?, 'en', 'sound', ?, CURRENT_TIMESTAMP)""", (name, description, sound))
