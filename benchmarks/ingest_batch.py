"""Durable ingest over websockets in frames of 500: accepted and acknowledged events per second.

A server (``python app.py --no-simulate``, SQLite) in one process; here,
several websocket connections send simulator events in frames of 500, each
keeping a window of frames in flight, for a bounded time. Compared, as a
ratio, with a plain executemany append of the same rows into SQLite (one
commit per 500 rows) measured in the same run.

    python benchmarks/ingest_batch.py [--seconds 20] [--connections 4] [--batch 500] [--window 4]

Prints one JSON object.
"""

from ingest_harness import main

if __name__ == "__main__":
    main("ingest_batch", batch=500, window=4, events=200_000, baseline_rows_per_commit=500, doc=__doc__)
