"""Rating (billing) of calls the way Chinese carriers do (appliance/engine/rating.py).

- ``rate_plan``: a billing unit (first unit and next units, seconds), a minimum charge and
  a fee per call, monthly rents per trunk and per agent (all money integer fen);
  ``is_default``: the plan of a trunk given none.
- ``rate_plan_rate``: one price per minute per destination class of a plan (hundredths of a
  fen), at most one per class.
- ``trunk_rate_plan``: the plan each trunk is rated by (by the trunk's name, as call
  records keep it).
- ``call_record.cost`` (fen; NULL: not rated), ``rate_plan`` and ``destination_class``:
  what the call cost at hang-up, under which plan and as which class.
"""

STATEMENTS = (
    """CREATE TABLE "rate_plan" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(64) NOT NULL,
       "first_seconds" INTEGER NOT NULL, "next_seconds" INTEGER NOT NULL, "minimum_fen" INTEGER NOT NULL,
       "call_fee_fen" INTEGER NOT NULL, "trunk_rent_fen" INTEGER NOT NULL, "agent_rent_fen" INTEGER NOT NULL,
       "is_default" INTEGER NOT NULL, "updated_at" DATETIME NOT NULL, "updated_by" VARCHAR(64) NOT NULL)""",
    """CREATE UNIQUE INDEX "rate_plan_name" ON "rate_plan" ("name")""",
    """CREATE TABLE "rate_plan_rate" ("id" INTEGER NOT NULL PRIMARY KEY,
       "plan_id" INTEGER NOT NULL REFERENCES "rate_plan" ("id") ON DELETE CASCADE,
       "destination_class" VARCHAR(16) NOT NULL, "per_minute" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "rate_plan_rate_plan_id_destination_class" ON "rate_plan_rate"
       ("plan_id", "destination_class")""",
    """CREATE TABLE "trunk_rate_plan" ("id" INTEGER NOT NULL PRIMARY KEY, "trunk" VARCHAR(32) NOT NULL,
       "plan_id" INTEGER NOT NULL REFERENCES "rate_plan" ("id") ON DELETE CASCADE)""",
    """CREATE UNIQUE INDEX "trunk_rate_plan_trunk" ON "trunk_rate_plan" ("trunk")""",
    """CREATE INDEX "trunk_rate_plan_plan_id" ON "trunk_rate_plan" ("plan_id")""",
    """ALTER TABLE "call_record" ADD COLUMN "cost" INTEGER""",
    """ALTER TABLE "call_record" ADD COLUMN "rate_plan" VARCHAR(64) NOT NULL DEFAULT ''""",
    """ALTER TABLE "call_record" ADD COLUMN "destination_class" VARCHAR(16) NOT NULL DEFAULT ''""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
