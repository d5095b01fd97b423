"""The knowledge base (知识库, issue 19 point 7): categories (a tree of two levels), articles
(title, body in plain text or a small Markdown, tags, whether agents may read it yet), the
queues each article is suggested for, and attachments (files under the data directory's
``kb/``, their names and sizes here).

Search is SQLite FTS5 with the ``trigram`` tokenizer (SQLite 3.34+): any run of three or more
characters matches, which suits Chinese without a word segmenter.  ``kb_fts`` is an
external-content index over ``kb_article`` (its title, tags and ``plain``: the body without
Markdown's marks, so snippets read as text) kept in step by the triggers below, so an
article is searchable in the same transaction that saves it and never twice."""

STATEMENTS = (
    """CREATE TABLE "kb_category" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(64) NOT NULL, "parent_id" INTEGER, "position" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("parent_id") REFERENCES "kb_category" ("id"))""",
    """CREATE INDEX "kb_category_parent_id" ON "kb_category" ("parent_id")""",
    """CREATE TABLE "kb_article" ("id" INTEGER NOT NULL PRIMARY KEY, "title" VARCHAR(200) NOT NULL, "body" TEXT NOT NULL, "plain" TEXT NOT NULL, "format" VARCHAR(8) NOT NULL, "category_id" INTEGER, "tags" VARCHAR(500) NOT NULL, "published" INTEGER NOT NULL, "version" INTEGER NOT NULL, "created_by" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "updated_by" VARCHAR(64) NOT NULL, "updated_at" DATETIME NOT NULL, FOREIGN KEY ("category_id") REFERENCES "kb_category" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "kb_article_category_id" ON "kb_article" ("category_id")""",
    """CREATE TABLE "kb_article_queue" ("id" INTEGER NOT NULL PRIMARY KEY, "article_id" INTEGER NOT NULL, "queue" VARCHAR(32) NOT NULL, FOREIGN KEY ("article_id") REFERENCES "kb_article" ("id") ON DELETE CASCADE)""",
    """CREATE UNIQUE INDEX "kb_article_queue_article_id_queue" ON "kb_article_queue" ("article_id", "queue")""",
    """CREATE INDEX "kb_article_queue_queue" ON "kb_article_queue" ("queue")""",
    """CREATE TABLE "kb_attachment" ("id" INTEGER NOT NULL PRIMARY KEY, "article_id" INTEGER NOT NULL, "filename" VARCHAR(200) NOT NULL, "stored" VARCHAR(64) NOT NULL, "size" INTEGER NOT NULL, "sha256" VARCHAR(64) NOT NULL, "created_by" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("article_id") REFERENCES "kb_article" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "kb_attachment_article_id" ON "kb_attachment" ("article_id")""",
    """CREATE VIRTUAL TABLE "kb_fts" USING fts5(title, plain, tags, content='kb_article', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER "kb_article_fts_insert" AFTER INSERT ON "kb_article" BEGIN
         INSERT INTO kb_fts (rowid, title, plain, tags) VALUES (new.id, new.title, new.plain, new.tags);
       END""",
    """CREATE TRIGGER "kb_article_fts_delete" AFTER DELETE ON "kb_article" BEGIN
         INSERT INTO kb_fts (kb_fts, rowid, title, plain, tags) VALUES ('delete', old.id, old.title, old.plain, old.tags);
       END""",
    """CREATE TRIGGER "kb_article_fts_update" AFTER UPDATE OF title, plain, tags ON "kb_article" BEGIN
         INSERT INTO kb_fts (kb_fts, rowid, title, plain, tags) VALUES ('delete', old.id, old.title, old.plain, old.tags);
         INSERT INTO kb_fts (rowid, title, plain, tags) VALUES (new.id, new.title, new.plain, new.tags);
       END""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
