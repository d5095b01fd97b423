"""Customer search without a scan (issue 23 point 1): ``customer_fts``, an SQLite FTS5 index
with the ``trigram`` tokenizer over each customer's name and phone, so a part of a name
(Chinese too) or of a number of three or more characters is found in the index instead of
by reading all 100,000 rows.  External content (``customer``), kept in step by the triggers
below in the same transaction that writes the customer; the customers there already are
indexed here (``rebuild``)."""

STATEMENTS = (
    """CREATE VIRTUAL TABLE "customer_fts" USING fts5(name, phone, content='customer', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER "customer_fts_insert" AFTER INSERT ON "customer" BEGIN
         INSERT INTO customer_fts (rowid, name, phone) VALUES (new.id, new.name, new.phone);
       END""",
    """CREATE TRIGGER "customer_fts_delete" AFTER DELETE ON "customer" BEGIN
         INSERT INTO customer_fts (customer_fts, rowid, name, phone) VALUES ('delete', old.id, old.name, old.phone);
       END""",
    """CREATE TRIGGER "customer_fts_update" AFTER UPDATE OF name, phone ON "customer" BEGIN
         INSERT INTO customer_fts (customer_fts, rowid, name, phone) VALUES ('delete', old.id, old.name, old.phone);
         INSERT INTO customer_fts (rowid, name, phone) VALUES (new.id, new.name, new.phone);
       END""",
    """INSERT INTO customer_fts (customer_fts) VALUES ('rebuild')""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
