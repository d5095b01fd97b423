"""Desk phones that provision themselves (issue 21 point 4): a phone's MAC address (12
lower-case hex digits, unique when given), its vendor's model (``provisioning/phones``),
the password it fetches its configuration file with (made when it gets a MAC), and when,
from which address and as which User-Agent it last fetched it."""

STATEMENTS = (
    'ALTER TABLE "phone" ADD COLUMN "mac" VARCHAR(12)',
    'ALTER TABLE "phone" ADD COLUMN "model" VARCHAR(32) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "phone" ADD COLUMN "prov_password" VARCHAR(32) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "phone" ADD COLUMN "prov_fetched_at" DATETIME',
    'ALTER TABLE "phone" ADD COLUMN "prov_fetched_from" VARCHAR(64) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "phone" ADD COLUMN "prov_user_agent" VARCHAR(128) NOT NULL DEFAULT \'\'',
    'CREATE UNIQUE INDEX "phone_mac" ON "phone" ("mac")',
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
