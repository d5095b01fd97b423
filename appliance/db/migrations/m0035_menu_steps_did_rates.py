"""The IVR report's record (issue 17): ``menu_step``, one row per turn of a caller in the voice
menus (the menu, what they keyed, where it took them), written by the FastAGI ``menu``
handler; an index on ``campaign_attempt.started_at`` for the outbound-results report's
date range; and ``did_rate_plan``, the plan that rates a DID's incoming calls (a 400 number)
in place of its trunk's."""

STATEMENTS = (
    """CREATE TABLE "menu_step" ("id" INTEGER NOT NULL PRIMARY KEY, "at" DATETIME NOT NULL, "linkedid" VARCHAR(64) NOT NULL, "menu" VARCHAR(32) NOT NULL, "kind" VARCHAR(16) NOT NULL, "keys" VARCHAR(16) NOT NULL, "next_menu" VARCHAR(32) NOT NULL, "left" VARCHAR(16) NOT NULL)""",
    """CREATE INDEX "menu_step_at" ON "menu_step" ("at")""",
    """CREATE INDEX "menu_step_linkedid" ON "menu_step" ("linkedid")""",
    """CREATE INDEX "campaign_attempt_started_at" ON "campaign_attempt" ("started_at")""",
    """CREATE TABLE "did_rate_plan" ("id" INTEGER NOT NULL PRIMARY KEY, "did" VARCHAR(32) NOT NULL,
       "plan_id" INTEGER NOT NULL REFERENCES "rate_plan" ("id") ON DELETE CASCADE)""",
    """CREATE UNIQUE INDEX "did_rate_plan_did" ON "did_rate_plan" ("did")""",
    """CREATE INDEX "did_rate_plan_plan_id" ON "did_rate_plan" ("plan_id")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
