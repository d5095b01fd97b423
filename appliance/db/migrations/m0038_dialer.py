"""Dialer modes (issue 16 point 3, services/dialer.py): what a campaign the appliance dials
for needs.

- ``campaign.ratio``: power mode's lines per free agent (default 2);
  ``target_abandon``: predictive mode's abandon target in percent (default 3);
  ``max_lines_per_agent``: the hard cap of lines per agent, every dialled mode (default 3);
  ``max_lines``: the campaign's own concurrency limit (0: none); ``callerid_pool``: the
  caller-ID pool its calls present ('' none);
- its retry rules (``engine.compliance.RetryRules``): ``retry_busy_minutes`` (10),
  ``retry_no_answer_minutes`` (60; an abandoned call too), ``retry_failed_minutes`` (30),
  ``max_attempts`` (3);
- ``campaign_attempt.answered_at``: when the callee picked up (ring and handle times for
  pacing).  An attempt's ``result`` may now also be ``abandoned``.
"""

STATEMENTS = (
    """ALTER TABLE "campaign" ADD COLUMN "ratio" REAL NOT NULL DEFAULT 2.0""",
    """ALTER TABLE "campaign" ADD COLUMN "target_abandon" REAL NOT NULL DEFAULT 3.0""",
    """ALTER TABLE "campaign" ADD COLUMN "max_lines_per_agent" REAL NOT NULL DEFAULT 3.0""",
    """ALTER TABLE "campaign" ADD COLUMN "max_lines" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "campaign" ADD COLUMN "callerid_pool" VARCHAR(32) NOT NULL DEFAULT ''""",
    """ALTER TABLE "campaign" ADD COLUMN "retry_busy_minutes" INTEGER NOT NULL DEFAULT 10""",
    """ALTER TABLE "campaign" ADD COLUMN "retry_no_answer_minutes" INTEGER NOT NULL DEFAULT 60""",
    """ALTER TABLE "campaign" ADD COLUMN "retry_failed_minutes" INTEGER NOT NULL DEFAULT 30""",
    """ALTER TABLE "campaign" ADD COLUMN "max_attempts" INTEGER NOT NULL DEFAULT 3""",
    """ALTER TABLE "campaign_attempt" ADD COLUMN "answered_at" DATETIME""",
    """CREATE INDEX "campaign_attempt_campaign_id_result" ON "campaign_attempt" ("campaign_id", "result")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
