"""Dispositions (call outcomes) the admin keeps, and queues that require one (issue 15).

- ``call_disposition.position``: the order agents see them in (the six seeded ones keep
  theirs); ``active``: a disposition an outcome used is switched off, never deleted, so
  old call records keep their meaning.
- ``call_disposition.label``: the name the admin gave, in any script; empty is "the
  appliance's own name for the code" (the catalog's ``disposition.<code>``, in the
  reader's language). The six seeded codes (their keys unchanged, so every saved outcome
  stays valid) carried English labels; those become empty, so Chinese users read Chinese.
- ``queue.disposition_required``: an agent who took a call of that queue takes no next
  call until they saved its disposition.
"""

SEEDED = (("resolved", "Resolved"), ("sale", "Sale"), ("call-back", "Call back"), ("complaint", "Complaint"),
          ("no-interest", "Not interested"), ("wrong-number", "Wrong number"))

STATEMENTS = (
    """ALTER TABLE "call_disposition" ADD COLUMN "position" INTEGER NOT NULL DEFAULT 0""",
    """ALTER TABLE "call_disposition" ADD COLUMN "active" INTEGER NOT NULL DEFAULT 1""",
    """UPDATE "call_disposition" SET "position" = "id" """,
    """ALTER TABLE "queue" ADD COLUMN "disposition_required" INTEGER NOT NULL DEFAULT 0""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    for code, label in SEEDED:
        db.execute_sql("""UPDATE "call_disposition" SET "label" = '' WHERE "code" = ? AND "label" = ?""", (code, label))
