"""How long the nightly seal (``sipas seal``: SQLite VACUUM, PostgreSQL CLUSTER) holds the
write lock, against copying the same database file once (the least a rewrite must do).

The seal rewrites the answer, comment and code tables in key order (issue 13); it runs in
the hour ``SIPAS_SEAL_HOUR`` and citizens' answers wait for it. The ratio says what the seal
costs beyond moving the bytes; the seconds say how large a database one night's seal can take.

    python benchmarks/seal_speed.py [--responses 200000] [--database-url PG_ADMIN_URL]

Each run fills a fresh database (responses with their answers, and their codes), then times
a file copy of the SQLite database (or, on PostgreSQL, ``CREATE TABLE ... AS SELECT`` of the
answers) and the seal, alternately, three times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dashboard_speed import _make_app, fill, fill_codes  # noqa: E402
from benchmarks.load.harness import machine_description  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--database-url", help="PostgreSQL admin URL; SQLite in a temporary directory when omitted")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from sqlalchemy import text

    from survey_app.extensions import db
    from survey_app.services.seal import rewrite_in_key_order

    with tempfile.TemporaryDirectory(prefix="sipas-seal-") as tmp:
        url, drop = _database(args.database_url, Path(tmp))
        try:
            app = _make_app(url, str(Path(tmp) / "data"))
            fill(app, args.responses)
            fill_codes(app, args.responses)
            baseline, seal = [], []
            with app.app_context():
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    if db.engine.dialect.name == "sqlite":
                        shutil.copyfile(Path(db.engine.url.database), Path(tmp) / "copy.sqlite")
                    else:
                        with db.engine.begin() as connection:
                            connection.execute(text("CREATE TABLE seal_baseline AS SELECT * FROM answers"))
                            connection.execute(text("DROP TABLE seal_baseline"))
                    baseline.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    rewrite_in_key_order()
                    seal.append(time.perf_counter() - start)
                backend = db.engine.dialect.name
                size = Path(db.engine.url.database).stat().st_size if backend == "sqlite" else None
                db.session.remove()
                db.engine.dispose()
        finally:
            drop()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    what = "file copy" if backend == "sqlite" else "CREATE TABLE AS SELECT of the answers"
    print(f"Seal, {when}, {backend}, {args.responses:,} responses"
          + (f" ({size / 2**20:.0f} MiB)" if size else "") + f"; {machine_description()}.\n")
    print(f"| repeat | baseline ({what}) | seal | ratio |\n|---:|---:|---:|---:|")
    for n, (b, s) in enumerate(zip(baseline, seal, strict=True), 1):
        print(f"| {n} | {b:.2f} s | {s:.2f} s | {s / b:.1f} |")
    print(f"| **median** | {statistics.median(baseline):.2f} s | {statistics.median(seal):.2f} s "
          f"| **{statistics.median(s / b for b, s in zip(baseline, seal, strict=True)):.1f}** |")
    return 0


def _database(admin_url: str | None, workdir: Path):
    if not admin_url:
        return None, lambda: None
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"sipas_seal_{secrets.token_hex(4)}"
    plain = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


if __name__ == "__main__":
    sys.exit(main())
