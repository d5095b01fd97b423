"""Analog phones on FXS ports and the card's ways out (issue 21 points 2 and 3).

- ``phone.dahdi_channel``: the DAHDI channel of a phone of kind ``fxs`` (an analog phone on
  an FXS port of the telephony card); NULL for SIP phones.  The installer's
  ``<data_dir>/dahdi/fxs-extensions.json`` is read into phones once at the next start
  (appliance/services/fxs.py), then ignored.
- ``card_route``: the FXO lines' group or a PRI span, a way out in the outbound route
  beside the SIP trunks, with its own ``outbound_priority``.
"""

STATEMENTS = (
    """ALTER TABLE "phone" ADD COLUMN "dahdi_channel" INTEGER""",
    """CREATE TABLE "card_route" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(32) NOT NULL,
       "display_name" VARCHAR(64) NOT NULL, "line" VARCHAR(8) NOT NULL, "span" INTEGER NOT NULL,
       "outbound_priority" INTEGER NOT NULL)""",
    """CREATE UNIQUE INDEX "card_route_name" ON "card_route" ("name")""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
