"""Loading a database's responses into a frame (issue 14): ``analysis.load_database`` with
each response's packed answers (migration 0005) against the pivot of the answers table,
in the same process, on an existing database (for instance one that
``benchmarks/dashboard_speed.py --keep DIR`` or ``benchmarks/db_analysis.py --keep DIR``
filled). Upgrades the database to the newest migration first and reports how long that
took (the backfill of the packed answers, the first time). Both frames must be equal.

    python benchmarks/load_speed.py sqlite:////tmp/s1m/sipas.sqlite
    python benchmarks/load_speed.py postgresql+psycopg://postgres@127.0.0.1:5432/sipas_bench_keep_xxxx

Prints one JSON line: seconds for the migration, ``count(*)`` (median of 5), the packed
load (best of 2), the pivot, their ratios to ``count(*)`` and the speed-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the database (SQLAlchemy URL)")
    args = parser.parse_args(argv)

    import pandas as pd
    import sqlalchemy as sa
    from alembic import command

    import analysis
    from analysis import io
    from survey_app.database import alembic_config

    start = time.perf_counter()
    command.upgrade(alembic_config(args.url), "head")
    migrate = time.perf_counter() - start
    engine = sa.create_engine(args.url)

    def count() -> float:
        with engine.connect() as conn:
            begin = time.perf_counter()
            conn.execute(sa.text("SELECT count(*) FROM responses")).scalar()
            return time.perf_counter() - begin

    def load() -> tuple[pd.DataFrame, float]:
        begin = time.perf_counter()
        frame = analysis.load_database(args.url, questionnaire="sipas-2023")
        return frame, time.perf_counter() - begin

    base = statistics.median(count() for _ in range(5))
    packed, first = load()
    packed, second = load()
    packed_seconds = min(first, second)
    io._packed_answers = lambda conn: False  # the answers table's path
    pivot, pivot_seconds = load()
    pd.testing.assert_frame_equal(packed, pivot)
    print(json.dumps({"rows": len(packed), "migrate_s": round(migrate, 1), "count_s": round(base, 4),
                      "packed_s": round(packed_seconds, 2), "pivot_s": round(pivot_seconds, 2),
                      "packed_x_count": round(packed_seconds / base, 1),
                      "pivot_x_count": round(pivot_seconds / base, 1),
                      "speedup": round(pivot_seconds / packed_seconds, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
