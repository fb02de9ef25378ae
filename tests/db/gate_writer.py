"""Another process writing to a SQLite database through the engine, for the gate's tests.

``python -m tests.db.gate_writer URL SECONDS HOLD``: background (non-urgent) write
transactions for SECONDS, each holding the database HOLD seconds; prints ``started`` inside
the first one, and the number of transactions at the end.
"""

from __future__ import annotations

import sys
import time

from bot.db.engine import make_engine


def main(url: str, seconds: float, hold: float) -> None:
    engine = make_engine(url)
    stop = time.monotonic() + seconds
    count = 0
    while time.monotonic() < stop:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO log (who) VALUES ('worker')")
            if count == 0:
                print("started", flush=True)  # inside its first transaction
            time.sleep(hold)
        count += 1
    print(count, flush=True)
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
