"""Campaigns without agents (issue 16): a voice notification, "press a key to talk to an
agent", an automatic survey, and answering-machine detection (services/agentless.py).

- ``campaign``: ``language`` (what the values are said in), ``prompt`` (a prompt's name:
  the message), ``spoken`` (JSON: the call list's columns said after it, and how),
  ``press_key`` (the key that puts the callee into the campaign's queue), ``questions``
  (JSON: the survey's prompts, in order), ``amd`` (answering-machine detection on) and
  ``amd_action`` (on a machine: hangup | message | agent).
- ``campaign_attempt``: what came of an answered call: ``amd`` (machine | human | notsure)
  and Asterisk's ``amd_cause``, ``heard`` (the message played to the end), ``keys`` (the
  key pressed) and ``answers`` (JSON: the survey's keys, by question).
"""

STATEMENTS = (
    """ALTER TABLE "campaign" ADD COLUMN "language" VARCHAR(8) NOT NULL DEFAULT 'zh_CN'""",
    """ALTER TABLE "campaign" ADD COLUMN "prompt" VARCHAR(32) NOT NULL DEFAULT ''""",
    """ALTER TABLE "campaign" ADD COLUMN "spoken" TEXT NOT NULL DEFAULT '[]'""",
    """ALTER TABLE "campaign" ADD COLUMN "press_key" VARCHAR(1) NOT NULL DEFAULT '1'""",
    """ALTER TABLE "campaign" ADD COLUMN "questions" TEXT NOT NULL DEFAULT '[]'""",
    """ALTER TABLE "campaign" ADD COLUMN "amd" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "campaign" ADD COLUMN "amd_action" VARCHAR(8) NOT NULL DEFAULT 'hangup'""",
    """ALTER TABLE "campaign_attempt" ADD COLUMN "amd" VARCHAR(8) NOT NULL DEFAULT ''""",
    """ALTER TABLE "campaign_attempt" ADD COLUMN "amd_cause" VARCHAR(32) NOT NULL DEFAULT ''""",
    """ALTER TABLE "campaign_attempt" ADD COLUMN "heard" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "campaign_attempt" ADD COLUMN "keys" VARCHAR(16) NOT NULL DEFAULT ''""",
    """ALTER TABLE "campaign_attempt" ADD COLUMN "answers" TEXT NOT NULL DEFAULT '[]'""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
