"""The first schema: users, telephony configuration, call records, audit log."""

STATEMENTS = (
    """CREATE TABLE "phone" ("id" INTEGER NOT NULL PRIMARY KEY, "extension" VARCHAR(16) NOT NULL, "secret" VARCHAR(128) NOT NULL, "callerid_name" VARCHAR(64) NOT NULL, "kind" VARCHAR(8) NOT NULL, "codecs" VARCHAR(64) NOT NULL, "nat" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "phone_extension" ON "phone" ("extension")""",
    """CREATE TABLE "user" ("id" INTEGER NOT NULL PRIMARY KEY, "username" VARCHAR(64) NOT NULL, "password_hash" VARCHAR(255) NOT NULL, "role" VARCHAR(16) NOT NULL, "language" VARCHAR(8) NOT NULL, "active" INTEGER NOT NULL, "created_at" DATETIME NOT NULL)""",
    """CREATE UNIQUE INDEX "user_username" ON "user" ("username")""",
    """CREATE TABLE "agent" ("id" INTEGER NOT NULL PRIMARY KEY, "number" VARCHAR(16) NOT NULL, "name" VARCHAR(64) NOT NULL, "phone_id" INTEGER, "user_id" INTEGER, "logged_in" INTEGER NOT NULL, FOREIGN KEY ("phone_id") REFERENCES "phone" ("id") ON DELETE SET NULL, FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE SET NULL)""",
    """CREATE UNIQUE INDEX "agent_number" ON "agent" ("number")""",
    """CREATE INDEX "agent_phone_id" ON "agent" ("phone_id")""",
    """CREATE INDEX "agent_user_id" ON "agent" ("user_id")""",
    """CREATE TABLE "api_token" ("id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL, "name" VARCHAR(64) NOT NULL, "token_hash" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "last_used_at" DATETIME, FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "api_token_user_id" ON "api_token" ("user_id")""",
    """CREATE UNIQUE INDEX "api_token_token_hash" ON "api_token" ("token_hash")""",
    """CREATE TABLE "audit_log" ("id" INTEGER NOT NULL PRIMARY KEY, "at" DATETIME NOT NULL, "username" VARCHAR(64) NOT NULL, "action" VARCHAR(16) NOT NULL, "object_type" VARCHAR(32) NOT NULL, "object_id" VARCHAR(64) NOT NULL, "detail" TEXT NOT NULL)""",
    """CREATE INDEX "audit_log_at" ON "audit_log" ("at")""",
    """CREATE TABLE "call_record" ("id" INTEGER NOT NULL PRIMARY KEY, "linkedid" VARCHAR(64) NOT NULL, "direction" VARCHAR(8) NOT NULL, "caller" VARCHAR(64) NOT NULL, "caller_name" VARCHAR(128) NOT NULL, "did" VARCHAR(32) NOT NULL, "trunk" VARCHAR(32) NOT NULL, "queue" VARCHAR(32) NOT NULL, "agent" VARCHAR(16) NOT NULL, "enter_time" DATETIME NOT NULL, "answer_time" DATETIME, "end_time" DATETIME, "wait_seconds" REAL NOT NULL, "talk_seconds" REAL NOT NULL, "disposition" VARCHAR(24) NOT NULL, "fallback_reason" VARCHAR(64) NOT NULL, "hangup_cause" INTEGER)""",
    """CREATE UNIQUE INDEX "call_record_linkedid" ON "call_record" ("linkedid")""",
    """CREATE INDEX "call_record_enter_time" ON "call_record" ("enter_time")""",
    """CREATE TABLE "trunk" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "host" VARCHAR(255) NOT NULL, "port" INTEGER NOT NULL, "match" TEXT NOT NULL, "username" VARCHAR(64) NOT NULL, "secret" VARCHAR(128) NOT NULL, "register" INTEGER NOT NULL, "codecs" VARCHAR(64) NOT NULL, "max_channels" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "trunk_name" ON "trunk" ("name")""",
    """CREATE TABLE "queue" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL, "display_name" VARCHAR(64) NOT NULL, "strategy" VARCHAR(16) NOT NULL, "ring_timeout" INTEGER NOT NULL, "retry" INTEGER NOT NULL, "wrapup_seconds" INTEGER NOT NULL, "max_wait_seconds" INTEGER NOT NULL, "musicclass" VARCHAR(32) NOT NULL, "announce_position" INTEGER NOT NULL, "announce_frequency" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "queue_name" ON "queue" ("name")""",
    """CREATE TABLE "did" ("id" INTEGER NOT NULL PRIMARY KEY, "number" VARCHAR(32) NOT NULL, "description" VARCHAR(128) NOT NULL, "trunk_id" INTEGER, "dest_type" VARCHAR(16) NOT NULL, "dest_queue_id" INTEGER, FOREIGN KEY ("trunk_id") REFERENCES "trunk" ("id") ON DELETE SET NULL, FOREIGN KEY ("dest_queue_id") REFERENCES "queue" ("id") ON DELETE SET NULL)""",
    """CREATE UNIQUE INDEX "did_number" ON "did" ("number")""",
    """CREATE INDEX "did_trunk_id" ON "did" ("trunk_id")""",
    """CREATE INDEX "did_dest_queue_id" ON "did" ("dest_queue_id")""",
    """CREATE TABLE "queue_member" ("id" INTEGER NOT NULL PRIMARY KEY, "queue_id" INTEGER NOT NULL, "agent_id" INTEGER NOT NULL, "penalty" INTEGER NOT NULL, FOREIGN KEY ("queue_id") REFERENCES "queue" ("id") ON DELETE CASCADE, FOREIGN KEY ("agent_id") REFERENCES "agent" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "queue_member_queue_id" ON "queue_member" ("queue_id")""",
    """CREATE INDEX "queue_member_agent_id" ON "queue_member" ("agent_id")""",
    """CREATE UNIQUE INDEX "queue_member_queue_id_agent_id" ON "queue_member" ("queue_id", "agent_id")""",
)


def up(db, migrator) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
