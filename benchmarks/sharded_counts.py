"""The national path on one machine (issue 14): ``answer_counts`` split over two throw-away
PostgreSQL instances as postgres_fdw partitions, and a GROUP BY by unit pushed to them.

What it shows: with the table partitioned by unit (range), a query that groups by unit is
aggregated whole on each shard (partitionwise aggregate; postgres_fdw ships the aggregate
and returns one row per group), so only aggregate rows travel — what a Citus layout
distributed by unit does too (docs/deploy.md). It times the same query on one local table
of the same rows (the baseline), and with partitionwise aggregation off (every row travels).

Needs the PostgreSQL 15 binaries (``initdb``, ``pg_ctl``) and root (the instances run as the
``postgres`` user via ``runuser``), like ``.ci/run``. The coordinator is a throw-away
instance too; nothing outside ``--workdir`` is touched.

    python benchmarks/sharded_counts.py [--units 2000] [--days 365] [--workdir /tmp/sipas-shards]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
PORTS = {"coordinator": 55461, "shard1": 55462, "shard2": 55463}
TABLE = ("submitted_on date, unit_id integer, procedure_id integer, questionnaire_version_id integer, "
         "channel varchar(16), item varchar(32), value smallint, n bigint")
QUERY = "SELECT unit_id, item, value, SUM(n) FROM answer_counts GROUP BY unit_id, item, value"


def _as_postgres(*args: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)


@contextlib.contextmanager
def instances(workdir: Path) -> Iterator[None]:
    """Three fresh instances (loopback only, fsync off), stopped and removed afterwards."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    shutil.chown(workdir, "postgres")
    started = []
    try:
        for name, port in PORTS.items():
            data = workdir / name
            _as_postgres(str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
            _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-l", str(workdir / f"{name}.log"), "-w", "-o",
                         f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off", "start")
            started.append(data)
        yield
    finally:
        for data in started:
            with contextlib.suppress(subprocess.CalledProcessError):
                _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(workdir, ignore_errors=True)


def sql(port: int, statement: str, *settings: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as conn:
        for setting in settings:
            conn.execute(setting)
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def fill(port: int, first: int, last: int, days: int) -> None:
    """Counts as the triggers keep them: every unit, day, criterion and level of sipas-2023."""
    sql(port, f"CREATE TABLE answer_counts ({TABLE})")
    sql(port, f"""
        INSERT INTO answer_counts
        SELECT DATE '2025-01-01' + d, u, -1, 1, 'single', 'C' || i, v, 1 + (u * 7 + d * 3 + i * 5 + v) % 9
        FROM generate_series({first}, {last}) u, generate_series(0, {days - 1}) d,
             generate_series(1, 19) i, generate_series(1, 5) v""")
    sql(port, "ANALYZE answer_counts")


def timed(port: int, statement: str, repeat: int, *settings: str) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = len(sql(port, statement, *settings))
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sipas-shards"))
    args = parser.parse_args(argv)
    half = args.units // 2
    coordinator = PORTS["coordinator"]
    with instances(args.workdir):
        fill(PORTS["shard1"], 1, half, args.days)
        fill(PORTS["shard2"], half + 1, args.units, args.days)
        sql(coordinator, "CREATE EXTENSION postgres_fdw")
        sql(coordinator, f"CREATE TABLE answer_counts ({TABLE}) PARTITION BY RANGE (unit_id)")
        for name, low, high in (("shard1", 1, half + 1), ("shard2", half + 1, args.units + 1)):
            sql(coordinator, f"CREATE SERVER {name} FOREIGN DATA WRAPPER postgres_fdw "
                             f"OPTIONS (host '127.0.0.1', port '{PORTS[name]}', dbname 'postgres', "
                             "use_remote_estimate 'true', fetch_size '10000', async_capable 'true')")
            sql(coordinator, f"CREATE USER MAPPING FOR postgres SERVER {name} OPTIONS (user 'postgres')")
            sql(coordinator, f"CREATE FOREIGN TABLE answer_counts_{name} PARTITION OF answer_counts "
                             f"FOR VALUES FROM ({low}) TO ({high}) SERVER {name} OPTIONS (table_name 'answer_counts')")
        sql(coordinator, f"CREATE TABLE local_counts ({TABLE})")
        for name in ("shard1", "shard2"):
            sql(coordinator, f"INSERT INTO local_counts SELECT * FROM answer_counts_{name}")
        sql(coordinator, "ANALYZE local_counts")
        rows = sql(coordinator, "SELECT COUNT(*) FROM local_counts")[0][0]
        local, groups = timed(coordinator, QUERY.replace("answer_counts", "local_counts"), args.repeat)
        on, off = "SET enable_partitionwise_aggregate = on", "SET enable_partitionwise_aggregate = off"
        pushed, pushed_groups = timed(coordinator, QUERY, args.repeat, on)
        plan = "\n".join(r[0] for r in sql(coordinator, "EXPLAIN (VERBOSE, COSTS OFF) " + QUERY, on))
        pulled, pulled_groups = timed(coordinator, QUERY, args.repeat, off)
    assert groups == pushed_groups == pulled_groups, (groups, pushed_groups, pulled_groups)
    print(f"answer_counts: {rows:,} rows ({args.units:,} units × {args.days} days × 19 criteria × 5 levels), "
          f"{groups:,} groups (unit, item, level); median of {args.repeat}\n")
    print("| where the rows are | GROUP BY unit, item, level | ÷ one local table |\n|---|---:|---:|")
    print(f"| one local table (baseline) | {local:.2f} s | 1.00 |")
    print(f"| two fdw shards, partitionwise aggregate on | {pushed:.2f} s | {pushed / local:.2f} |")
    print(f"| two fdw shards, partitionwise aggregate off | {pulled:.2f} s | {pulled / local:.2f} |")
    pushed_down = "Aggregate on (" in plan or "GROUP BY" in plan.split("Remote SQL", 1)[-1]
    print(f"\nAggregate pushed to the shards: {'yes' if pushed_down else 'NO'}\n\n```\n{plan}\n```")
    return 0 if pushed_down else 1


if __name__ == "__main__":
    sys.exit(main())
