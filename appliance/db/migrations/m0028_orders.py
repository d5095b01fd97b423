"""Orders and sales (issue 18): suppliers, the product catalogue (gifts are products at no
price with their own stock), customers' delivery addresses, orders with their lines, their
history of changes (who, when), payments, and member points (a balance per customer changed
only by one conditional UPDATE, with a ledger entry beside every change).  Money is whole
fen (1/100 yuan) in INTEGER columns."""

STATEMENTS = (
    """CREATE TABLE "supplier" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(128) NOT NULL, "contact" VARCHAR(64) NOT NULL, "phone" VARCHAR(32) NOT NULL, "note" VARCHAR(500) NOT NULL, "created_at" DATETIME NOT NULL)""",
    """CREATE UNIQUE INDEX "supplier_name" ON "supplier" ("name")""",
    """CREATE TABLE "product" ("id" INTEGER NOT NULL PRIMARY KEY, "code" VARCHAR(32) NOT NULL, "name" VARCHAR(128) NOT NULL, "category" VARCHAR(32) NOT NULL, "price_fen" INTEGER NOT NULL, "unit" VARCHAR(16) NOT NULL, "stock" INTEGER NOT NULL, "active" INTEGER NOT NULL, "gift" INTEGER NOT NULL, "supplier_id" INTEGER, "created_at" DATETIME NOT NULL, "updated_at" DATETIME, FOREIGN KEY ("supplier_id") REFERENCES "supplier" ("id") ON DELETE SET NULL)""",
    """CREATE UNIQUE INDEX "product_code" ON "product" ("code")""",
    """CREATE INDEX "product_category" ON "product" ("category")""",
    """CREATE INDEX "product_supplier_id" ON "product" ("supplier_id")""",
    """CREATE TABLE "customer_address" ("id" INTEGER NOT NULL PRIMARY KEY, "customer_id" INTEGER NOT NULL, "address" VARCHAR(255) NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "customer_address_customer_id" ON "customer_address" ("customer_id")""",
    """CREATE TABLE "sales_order" ("id" INTEGER NOT NULL PRIMARY KEY, "customer_id" INTEGER, "customer_name" VARCHAR(128) NOT NULL, "customer_phone" VARCHAR(32) NOT NULL, "agent" VARCHAR(16) NOT NULL, "created_by" VARCHAR(64) NOT NULL, "linkedid" VARCHAR(64) NOT NULL, "state" VARCHAR(16) NOT NULL, "address" VARCHAR(255) NOT NULL, "payment_method" VARCHAR(16) NOT NULL, "note" VARCHAR(500) NOT NULL, "subtotal_fen" INTEGER NOT NULL, "points_used" INTEGER NOT NULL, "points_fen" INTEGER NOT NULL, "total_fen" INTEGER NOT NULL, "paid_fen" INTEGER NOT NULL, "points_earned" INTEGER NOT NULL, "points_taken" INTEGER NOT NULL, "stock_taken" INTEGER NOT NULL, "courier" VARCHAR(32) NOT NULL, "tracking" VARCHAR(64) NOT NULL, "reason" VARCHAR(500) NOT NULL, "version" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "sales_order_customer_id" ON "sales_order" ("customer_id")""",
    """CREATE INDEX "sales_order_agent" ON "sales_order" ("agent")""",
    """CREATE INDEX "sales_order_linkedid" ON "sales_order" ("linkedid")""",
    """CREATE INDEX "sales_order_state" ON "sales_order" ("state")""",
    """CREATE INDEX "sales_order_tracking" ON "sales_order" ("tracking")""",
    """CREATE INDEX "sales_order_created_at" ON "sales_order" ("created_at")""",
    """CREATE TABLE "order_item" ("id" INTEGER NOT NULL PRIMARY KEY, "order_id" INTEGER NOT NULL, "product_id" INTEGER, "code" VARCHAR(32) NOT NULL, "name" VARCHAR(128) NOT NULL, "quantity" INTEGER NOT NULL, "list_price_fen" INTEGER NOT NULL, "price_fen" INTEGER NOT NULL, "gift" INTEGER NOT NULL, FOREIGN KEY ("order_id") REFERENCES "sales_order" ("id") ON DELETE CASCADE, FOREIGN KEY ("product_id") REFERENCES "product" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "order_item_order_id" ON "order_item" ("order_id")""",
    """CREATE INDEX "order_item_product_id" ON "order_item" ("product_id")""",
    """CREATE TABLE "order_event" ("id" INTEGER NOT NULL PRIMARY KEY, "order_id" INTEGER NOT NULL, "at" DATETIME NOT NULL, "username" VARCHAR(64) NOT NULL, "action" VARCHAR(16) NOT NULL, "from_state" VARCHAR(16) NOT NULL, "to_state" VARCHAR(16) NOT NULL, "detail" TEXT NOT NULL, FOREIGN KEY ("order_id") REFERENCES "sales_order" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "order_event_order_id" ON "order_event" ("order_id")""",
    """CREATE TABLE "payment" ("id" INTEGER NOT NULL PRIMARY KEY, "order_id" INTEGER NOT NULL, "amount_fen" INTEGER NOT NULL, "method" VARCHAR(16) NOT NULL, "paid_on" VARCHAR(10) NOT NULL, "reference" VARCHAR(64) NOT NULL, "created_by" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("order_id") REFERENCES "sales_order" ("id") ON DELETE CASCADE)""",
    """CREATE INDEX "payment_order_id" ON "payment" ("order_id")""",
    """CREATE TABLE "points_balance" ("customer_id" INTEGER NOT NULL PRIMARY KEY, "balance" INTEGER NOT NULL, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE)""",
    """CREATE TABLE "points_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "customer_id" INTEGER NOT NULL, "order_id" INTEGER, "delta" INTEGER NOT NULL, "balance" INTEGER NOT NULL, "reason" VARCHAR(16) NOT NULL, "username" VARCHAR(64) NOT NULL, "at" DATETIME NOT NULL, FOREIGN KEY ("customer_id") REFERENCES "customer" ("id") ON DELETE CASCADE, FOREIGN KEY ("order_id") REFERENCES "sales_order" ("id") ON DELETE SET NULL)""",
    """CREATE INDEX "points_entry_customer_id" ON "points_entry" ("customer_id")""",
    """CREATE INDEX "points_entry_order_id" ON "points_entry" ("order_id")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
