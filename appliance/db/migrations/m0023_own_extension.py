"""The supervisor's own extension, kept with their account (``user.own_extension``): the phone
the wallboard rings to listen to, whisper to or barge into an agent's call, the same on
every browser they sign in on ('' until they name it; it was kept in one browser before)."""

STATEMENTS = (
    """ALTER TABLE "user" ADD COLUMN "own_extension" VARCHAR(16) NOT NULL DEFAULT ''""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
