"""Scoped API tokens (issue 22 point 2).

- ``api_token.scopes``: the scopes the token is limited to, separated by spaces
  (``calls:read customers:write``); '' (every token made before) is the full access of its
  owner's role.
- ``api_token.addresses``: the source addresses and networks (CIDR) it may be used from,
  separated by spaces; '' is any address.
"""

STATEMENTS = (
    """ALTER TABLE "api_token" ADD COLUMN "scopes" TEXT NOT NULL DEFAULT ''""",
    """ALTER TABLE "api_token" ADD COLUMN "addresses" TEXT NOT NULL DEFAULT ''""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
