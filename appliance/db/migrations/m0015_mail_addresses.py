"""Where received faxes and callers' messages are e-mailed: a fax DID's addresses and a
queue's (appliance/mail.py sends them)."""

STATEMENTS = (
    """ALTER TABLE "did" ADD COLUMN "fax_email" VARCHAR(1000) NOT NULL DEFAULT ''""",
    """ALTER TABLE "queue" ADD COLUMN "voicemail_email" VARCHAR(1000) NOT NULL DEFAULT ''""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
