"""Customers, as far as routing needs them: a phone number, and the account manager a
returning customer is offered to first (VIP routing). The CRM extends this table."""

STATEMENTS = (
    """CREATE TABLE "customer" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(128) NOT NULL, "phone" VARCHAR(32) NOT NULL, "category" VARCHAR(32) NOT NULL, "account_manager_id" INTEGER, "created_at" DATETIME NOT NULL, FOREIGN KEY ("account_manager_id") REFERENCES "agent" ("id") ON DELETE SET NULL)""",
    """CREATE UNIQUE INDEX "customer_phone" ON "customer" ("phone")""",
    """CREATE INDEX "customer_account_manager_id" ON "customer" ("account_manager_id")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
