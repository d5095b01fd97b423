"""Signed webhooks (issue 22 point 1).

- ``webhook_subscription``: a URL, the event types it wants, its HMAC secret, active or not.
- ``webhook_delivery``: the outbox, one row per subscription and event (the JSON body fixed
  when queued), with its state (``pending``, ``delivered``, ``failed``), tries, last error,
  next try; a call's events carry its linkedid (``order_key``) and go in order.
"""

STATEMENTS = (
    """CREATE TABLE "webhook_subscription" ("id" INTEGER NOT NULL PRIMARY KEY, "url" VARCHAR(2000) NOT NULL,
       "events" TEXT NOT NULL, "secret" VARCHAR(128) NOT NULL, "active" INTEGER NOT NULL,
       "created_at" DATETIME NOT NULL, "created_by" VARCHAR(64) NOT NULL)""",
    """CREATE TABLE "webhook_delivery" ("id" INTEGER NOT NULL PRIMARY KEY, "subscription_id" INTEGER NOT NULL,
       "event_id" VARCHAR(40) NOT NULL, "type" VARCHAR(40) NOT NULL, "order_key" VARCHAR(64) NOT NULL,
       "body" TEXT NOT NULL, "state" VARCHAR(10) NOT NULL, "attempts" INTEGER NOT NULL,
       "created_at" REAL NOT NULL, "next_try" REAL NOT NULL, "last_error" TEXT NOT NULL, "last_status" INTEGER,
       "done_at" REAL,
       FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscription" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "webhook_delivery_subscription_id" ON "webhook_delivery" ("subscription_id")""",
    """CREATE INDEX "webhook_delivery_state_id" ON "webhook_delivery" ("state", "id")""",
    """CREATE INDEX "webhook_delivery_subscription_id_id" ON "webhook_delivery" ("subscription_id", "id")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
