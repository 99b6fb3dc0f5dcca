"""Durable ingest over websockets, one event per frame: accepted and acknowledged events per second.

Like ingest_batch.py, but every frame carries a single event (a JSON
object), as a producer that sends each event as it happens would. Frames are
pipelined (a window in flight per connection) and the server answers each
after the group commit that holds it. Compared, as a ratio, with a plain
SQLite append that commits every row on its own — what acknowledging each
event durably costs without group commit — measured in the same run.

    python benchmarks/ingest_single.py [--seconds 20] [--connections 4] [--window 64]

Prints one JSON object.
"""

from ingest_harness import main

if __name__ == "__main__":
    main("ingest_single", batch=1, window=64, events=100_000, baseline_rows_per_commit=1, doc=__doc__)
