"""Day summaries for the reports that read call records by caller's place, trunk and
cost (issue 17 point 4): ``report_place_day`` and ``report_trunk_day``.

One row per office day (``day``: its local midnight as Unix seconds, in the site's time
zone when written) and per direction, queue and DID, and the caller's seven-digit place
key (``numbers.place_key_sql``, with one number of the key in ``caller`` to place it);
or per direction, queue, DID, agent, trunk and destination class, with the charges.
Kept in the transaction that writes each call record (``services/reports.py``), rebuilt
with the 15-minute buckets; a fresh table is filled from the records already there.
"""

STATEMENTS = (
    """CREATE TABLE "report_place_day" ("id" INTEGER NOT NULL PRIMARY KEY, "day" INTEGER NOT NULL,
       "direction" VARCHAR(8) NOT NULL, "queue" VARCHAR(32) NOT NULL, "did" VARCHAR(32) NOT NULL,
       "place" VARCHAR(32) NOT NULL, "caller" VARCHAR(64) NOT NULL, "calls" INTEGER NOT NULL,
       "answered" INTEGER NOT NULL, "abandoned" INTEGER NOT NULL, "talk_seconds" REAL NOT NULL)""",
    """CREATE UNIQUE INDEX "report_place_day_day_direction_queue_did_place"
       ON "report_place_day" ("day", "direction", "queue", "did", "place")""",
    """CREATE TABLE "report_trunk_day" ("id" INTEGER NOT NULL PRIMARY KEY, "day" INTEGER NOT NULL,
       "direction" VARCHAR(8) NOT NULL, "queue" VARCHAR(32) NOT NULL, "did" VARCHAR(32) NOT NULL,
       "agent" VARCHAR(16) NOT NULL, "trunk" VARCHAR(32) NOT NULL,
       "destination_class" VARCHAR(16) NOT NULL, "calls" INTEGER NOT NULL, "answered" INTEGER NOT NULL,
       "abandoned" INTEGER NOT NULL, "talk_seconds" REAL NOT NULL, "rated" INTEGER NOT NULL,
       "unrated" INTEGER NOT NULL, "cost_fen" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "report_trunk_day_day_direction_queue_did_agent_trunk_destination_class"
       ON "report_trunk_day"
       ("day", "direction", "queue", "did", "agent", "trunk", "destination_class")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    from appliance.services.reports import rebuild_days_summaries, site_zone

    rebuild_days_summaries(db, site_zone())
