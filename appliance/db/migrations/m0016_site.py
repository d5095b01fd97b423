"""Settings of this call center made in the web UI rather than the settings file: the
first-run wizard's progress, the time zone and the default language (appliance/services/site.py)."""

STATEMENTS = (
    """CREATE TABLE "site_setting" ("key" VARCHAR(64) NOT NULL PRIMARY KEY, "value" TEXT NOT NULL,
       "updated_at" DATETIME NOT NULL, "updated_by" VARCHAR(64) NOT NULL)""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
