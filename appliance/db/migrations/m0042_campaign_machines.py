"""Answering machines as a campaign call's own result (issue 16 points 5 and 6): an attempt
whose callee was an answering machine (AMD) and was not put through to an agent ends with
``result = 'machine'`` (before: ``answered`` without agents, ``failed`` with them), and the
campaign's retry rules gain ``retry_machine_minutes`` (0: never again after a machine, the
default).
"""


def up(db, migrator):
    db.execute_sql("""ALTER TABLE "campaign" ADD COLUMN "retry_machine_minutes" INTEGER NOT NULL DEFAULT 0""")
    # the attempts that met a machine and ended there take their own result
    db.execute_sql("""UPDATE "campaign_attempt" SET "result" = 'machine'"""
                   """ WHERE "amd" = 'machine' AND "result" IN ('answered', 'failed') AND "agent" = ''""")
