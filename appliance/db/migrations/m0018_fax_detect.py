"""A voice DID that listens for a calling fax machine's tone (CNG) in the first seconds and
sends such a call to the fax receiver (appliance/confgen/extensions.py)."""

STATEMENTS = (
    """ALTER TABLE "did" ADD COLUMN "fax_detect" INTEGER NOT NULL DEFAULT 0""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
