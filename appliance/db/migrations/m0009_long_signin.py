"""Long sign-in: how each signed-in agent takes calls ('ring': their phone rings for each
call; 'long': their phone stays connected for the shift, calls are bridged in)."""

STATEMENTS = (
    """ALTER TABLE "agent" ADD COLUMN "login_mode" VARCHAR(8) NOT NULL DEFAULT 'ring'""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
