"""Display names in any script for the objects whose key is the ASCII name Asterisk knows
them by (a trunk called 中国电信 is ``trunk-1`` to Asterisk): trunks, opening hours, voice
menus and prompts (queues had theirs already).  Empty means "shown by the key"."""

STATEMENTS = tuple(
    f"""ALTER TABLE "{table}" ADD COLUMN "display_name" VARCHAR(64) NOT NULL DEFAULT ''"""
    for table in ("trunk", "time_condition", "menu", "prompt")
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
