"""E-mail to customers (issue 19 point 9).

- ``customer.email``: where e-mail to the customer goes ('' none: sending is refused).
- ``mail_template``: an admin's e-mail (name, subject, plain-text body) with the customer's
  fields as placeholders.
- ``customer_mail``: each e-mail sent to a customer (from their page or a work order): the
  address, subject and body as sent, who sent it and when, and what the outbox made of it
  (``queued``, then ``sent`` or ``failed`` with the server's answer).
"""

STATEMENTS = (
    """ALTER TABLE "customer" ADD COLUMN "email" VARCHAR(254) NOT NULL DEFAULT ''""",
    """CREATE TABLE "mail_template" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(64) NOT NULL,
       "subject" VARCHAR(200) NOT NULL, "body" TEXT NOT NULL, "updated_at" DATETIME NOT NULL,
       "updated_by" VARCHAR(64) NOT NULL)""",
    """CREATE UNIQUE INDEX "mail_template_name" ON "mail_template" ("name")""",
    """CREATE TABLE "customer_mail" ("id" INTEGER NOT NULL PRIMARY KEY, "customer_id" INTEGER NOT NULL,
       "work_order_id" INTEGER, "template" VARCHAR(64) NOT NULL, "address" VARCHAR(254) NOT NULL,
       "subject" VARCHAR(400) NOT NULL, "body" TEXT NOT NULL, "state" VARCHAR(8) NOT NULL, "error" TEXT NOT NULL,
       "outbox_id" VARCHAR(64) NOT NULL, "sent_by" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL,
       "done_at" DATETIME,
       FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE,
       FOREIGN KEY ("work_order_id") REFERENCES "work_order" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "customer_mail_customer_id" ON "customer_mail" ("customer_id")""",
    """CREATE INDEX "customer_mail_work_order_id" ON "customer_mail" ("work_order_id")""",
    """CREATE INDEX "customer_mail_customer_id_created_at" ON "customer_mail" ("customer_id", "created_at")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
