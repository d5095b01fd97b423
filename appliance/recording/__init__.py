"""Call recordings: MixMonitor's WAV in the spool becomes a verified MP3 in the store.

- ``wav``: reading what Asterisk wrote, including a file cut short by a crash;
- ``mp3``: encoding with lameenc, and a frame scanner of our own that verifies the result;
- ``policy``: the pure part: states, what a worker's answer means, the start-up
  reconciliation plan, the disk guard;
- ``worker``: the encoding job and the worker process that runs it (``python -m
  appliance.recording.worker``);
- ``pipeline``: the adapters: the pool of worker processes, the database rows, the spool.

See docs/recording.md for the states and the crash-safety argument.
"""
