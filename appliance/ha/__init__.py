"""Hot standby: two boxes, one floating address (keepalived), the database and the finished
files copied from the active box to the standby as they change (``replication``), and the
role each box plays (``roles``).  See docs/architecture.md, "Hot standby"."""
