"""Softphones in the browser (issue 21 point 5): ``phone.webrtc`` marks a phone the agent's
workspace registers over WebSocket (WebRTC) instead of a desk phone; false for every phone
there was."""

STATEMENTS = (
    """ALTER TABLE "phone" ADD COLUMN "webrtc" INTEGER NOT NULL DEFAULT 0""",
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
