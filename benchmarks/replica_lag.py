"""How far a streaming replica lags behind its primary under a peak-season write load.

One command: ``python benchmarks/replica_lag.py [--seconds 30] [--writers 4]``. It makes a
throwaway primary and replica from the machine's PostgreSQL binaries (tests/replica/pair.py,
in temporary folders on free ports, with fsync on like a real server), runs a write load
against the primary from several processes, and samples the lag every 100 ms two ways:

- on the replica, ``now() - pg_last_xact_replay_timestamp()`` while it has received WAL it
  has not replayed yet (0 when it has replayed everything): how old the newest
  transaction a reader there can see is, compared with the primary;
- on the primary, ``pg_stat_replication.replay_lag``: how long after a commit the replica
  reported having replayed it.

The load: each writer commits, as fast as it can, what a review decision writes (the
state change of one item, an audit row with its before and after, a notification row),
so about three row writes per transaction: the writes of benchmarks/load.py's peak mix
without the HTTP and Django around them, several times as many per second as that mix
makes. Prints min, median, p95 and max of each.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.replica.pair import Pair, make_pair, missing, stop_pair

SCHEMA = """
CREATE TABLE item (id bigserial PRIMARY KEY, status text NOT NULL, updated_at timestamptz);
CREATE TABLE audit (id bigserial PRIMARY KEY, item_id bigint NOT NULL, before text,
                    after text, comment text, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE notice (id bigserial PRIMARY KEY, item_id bigint NOT NULL, body text,
                     at timestamptz NOT NULL DEFAULT now());
INSERT INTO item (status) SELECT 'submitted' FROM generate_series(1, 20000);
"""

DECISION = [
    "UPDATE item SET status = %s, updated_at = now() WHERE id = %s",
    "INSERT INTO audit (item_id, before, after, comment) VALUES (%s, 'submitted', %s, %s)",
    "INSERT INTO notice (item_id, body) VALUES (%s, %s)",
]


def writer(url: str, until: float, counter) -> None:
    import random

    import psycopg

    done = 0
    with psycopg.connect(url) as conn:
        while time.time() < until:
            item = random.randint(1, 20000)
            status = random.choice(["approved", "returned"])
            with conn.transaction():
                conn.execute(DECISION[0], [status, item])
                conn.execute(DECISION[1], [item, status, "审核意见" * 10])
                conn.execute(DECISION[2], [item, "您的毕业去向登记已审核。" * 8])
            done += 1
    with counter.get_lock():
        counter.value += done


def sample(pair: Pair, until: float) -> tuple[list[float], list[float]]:
    replay_age, reported = [], []
    with pair.connect(pair.replica_port) as replica, pair.connect(pair.primary_port) as primary:
        while time.time() < until:
            row = replica.execute(
                "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
            ).fetchone()
            replay_age.append(float(row[0] or 0) * 1000 if row else 0.0)
            row = primary.execute(
                "SELECT EXTRACT(EPOCH FROM replay_lag) FROM pg_stat_replication"
            ).fetchone()
            if row and row[0] is not None:
                reported.append(float(row[0]) * 1000)
            time.sleep(0.1)
    return replay_age, reported


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{name}: min {ordered[0]:.1f} ms, median {statistics.median(ordered):.1f} ms, "
        f"p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms ({len(values)} samples)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    if reason := missing():
        sys.exit(f"cannot make a primary and replica here: {reason}")
    # A real server's durability: the lag includes the primary's and replica's disk writes.
    pair = make_pair(settings={"fsync": "on", "full_page_writes": "on"})
    try:
        with pair.connect(pair.primary_port) as conn:
            conn.execute(SCHEMA)
        pair.wait_caught_up()
        counter = multiprocessing.Value("i", 0)
        until = time.time() + args.seconds
        writers = [
            multiprocessing.Process(target=writer, args=(pair.primary_url, until, counter))
            for _ in range(args.writers)
        ]
        for process in writers:
            process.start()
        replay_age, reported = sample(pair, until)
        for process in writers:
            process.join()
        load = os.getloadavg()[0]
        print(
            f"{counter.value} decisions in {args.seconds:.0f} s from {args.writers} writers "
            f"({counter.value / args.seconds:.0f}/s, 3 row writes each); "
            f"load average {load:.1f} on {os.cpu_count()} cores"
        )
        print(summary("replica behind (now - last replayed commit)", replay_age))
        print(summary("pg_stat_replication.replay_lag", reported))
    finally:
        stop_pair(pair)


if __name__ == "__main__":
    main()
