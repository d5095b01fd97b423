"""Sign-in hardening (issue 13): server-side web sessions, persisted sign-in throttling,
API tokens that can expire.

- ``web_session``: one row per signed-in browser; the cookie carries a random id of
  which only the SHA-256 is stored.  Logout, a new password and switching the account off
  delete rows.  ``csrf`` is the session's CSRF token.
- ``login_throttle``: failed sign-ins counted per account (``user:<name>``) and per source
  (``addr:<ip>``, ``console:<device>``), and when the key is locked until; the web UI and
  the serial console read and write the same rows, so a restart forgets nothing.
- ``api_token.expires_at``: an optional end; NULL is "never" (every token made before).
"""

STATEMENTS = (
    """CREATE TABLE "web_session" ("id" INTEGER NOT NULL PRIMARY KEY,
       "user_id" INTEGER NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
       "token_hash" VARCHAR(64) NOT NULL, "csrf" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL,
       "last_seen_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL,
       "user_agent" VARCHAR(255) NOT NULL, "address" VARCHAR(64) NOT NULL)""",
    """CREATE UNIQUE INDEX "web_session_token_hash" ON "web_session" ("token_hash")""",
    """CREATE INDEX "web_session_user_id" ON "web_session" ("user_id")""",
    """CREATE TABLE "login_throttle" ("key" VARCHAR(128) NOT NULL PRIMARY KEY,
       "failures" INTEGER NOT NULL, "first_failure_at" DATETIME NOT NULL, "last_failure_at" DATETIME NOT NULL,
       "locked_until" DATETIME, "lockouts" INTEGER NOT NULL)""",
    """ALTER TABLE "api_token" ADD COLUMN "expires_at" DATETIME""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
