"""Dashboard speed with many stored responses (issue: analysts' dashboard, "Speed").

Fills a fresh database with N synthetic sipas-2023 responses (default 1,000,000) across 20
units and a year, then times every dashboard page through the app, as a ratio to the time
of one ``SELECT count(*) FROM responses`` measured in the same run (machines here are shared
and noisy). Reports the cold first load (the per-process response cache filling), each page
warm, and each page again after one new response arrived (incremental refresh).

    python benchmarks/dashboard_speed.py --responses 1000000                 # SQLite
    python benchmarks/dashboard_speed.py --responses 1000000 --keep /tmp/d  # fill once, rerun faster
    python benchmarks/dashboard_speed.py --responses 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # PostgreSQL

The PostgreSQL run creates and drops its own database next to the one in the URL (with
--keep it keeps one named after DIR, to fill once and rerun).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import questionnaires  # noqa: E402

PAGES = ["/analyst/", "/analyst/criteria", "/analyst/trend", "/analyst/units", "/analyst/priorities",
         "/analyst/expectations", "/analyst/comments", "/api/v1/indices?by=unit&period=quarter"]
UNITS = 20


def _make_app(url: str | None, data_dir: str):
    from survey_app import create_app
    from survey_app.commands.server import initialise

    config = {"TESTING": True, "SIPAS_DATA_DIR": data_dir, "SIPAS_SECRET_KEY": "bench",
              "SIPAS_PASSWORD_HASH": "scrypt:1024:8:1", "SIPAS_PUBLIC_URL": "https://bench.invalid"}
    if url:
        config["SIPAS_DATABASE_URL"] = url
    app = create_app(config)
    with app.app_context():
        initialise()
    return app


def organisation() -> tuple[list[int], int]:
    """The benchmark's department, its units and analyst (in an app context): the units' ids
    and the sipas-2023 version's."""
    from survey_app.database import questionnaire_version
    from survey_app.extensions import db
    from survey_app.models import Unit
    from survey_app.services import catalog, users

    catalog.add_unit("SO", "Sở")
    for i in range(UNITS):
        catalog.add_unit(f"U{i:02d}", f"Phòng {i:02d}", parent="SO")
    users.add_user("analyst", "bench password 1", "analyst")
    unit_ids = [db.session.scalar(db.select(Unit.id).filter_by(code=f"U{i:02d}")) for i in range(UNITS)]
    return unit_ids, questionnaire_version("sipas-2023").id


def fill(app, n: int, seed: int = 7) -> float:
    """Insert n responses with their answers; returns seconds taken."""
    from sqlalchemy import insert

    from survey_app.extensions import db
    from survey_app.models import Answer, Response

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    q = questionnaires.load("sipas-2023")
    with app.app_context():
        unit_ids, version_id = organisation()
        items = [c.code for c in q.criteria] + ["HL"] + [e.code for e in q.expectations]
        first = dt.date(2025, 1, 1)
        chunk = 50_000
        postgres = db.engine.dialect.name == "postgresql"
        for offset in range(0, n, chunk):
            m = min(chunk, n - offset)
            ids = [secrets.token_hex(16) for _ in range(m)]
            units = rng.integers(0, UNITS, m)
            days = rng.integers(0, 365, m)
            feedback = rng.random(m) < 0.15
            quality = rng.normal(0, 0.6, m) + (units - UNITS / 2) * 0.03
            scores = np.clip(np.rint(3.9 + quality[:, None] + rng.normal(0, 0.8, (m, len(items)))), 1, 5).astype(int)
            scores[:, -9:] = rng.integers(1, 4, (m, 9))
            blank = rng.random((m, len(items))) < 0.04
            pa = [items.index(c) for c in ("PA1", "PA2", "PA3")]
            blank[:, pa] |= ~feedback[:, None]
            responses = [dict(id=ids[i], questionnaire_version_id=version_id, unit_id=unit_ids[units[i]],
                              procedure_id=None, channel="single", submitted_on=first + dt.timedelta(days=int(days[i])),
                              same_day=bool(days[i] % 3 == 0), burst=False, respondent_type="ca_nhan",
                              feedback_given="co" if feedback[i] else "khong", gender=None, age_group=None,
                              ethnicity=None, education=None, occupation=None, residence=None) for i in range(m)]
            rows, cols = np.nonzero(~blank)
            if postgres:
                _copy(db, responses, ids, items, rows, cols, scores)
            else:
                db.session.execute(insert(Response), responses)
                # Plain DB-API tuples: 25 million ORM dicts would take longer than the benchmark.
                cursor = db.session.connection().connection.driver_connection.cursor()
                cursor.executemany(f"INSERT INTO {Answer.__tablename__} (response_id, item, value) VALUES (?, ?, ?)",
                                   zip([ids[r] for r in rows], [items[c] for c in cols],
                                       scores[rows, cols].tolist(), strict=True))
                db.session.commit()
            print(f"  inserted {offset + m:,} responses", file=sys.stderr, flush=True)
    return time.perf_counter() - start


def fill_codes(app, n: int, seed: int = 8) -> float:
    """The single-use codes behind n responses, as a department would have them: one per
    answered response plus a quarter more never answered (some voided, some expired), so
    the overview's response rate counts a realistic table. Returns seconds taken."""
    from survey_app.database import questionnaire_version
    from survey_app.extensions import db
    from survey_app.models import SurveyCode, Unit

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    with app.app_context():
        unit_ids = [db.session.scalar(db.select(Unit.id).filter_by(code=f"U{i:02d}")) for i in range(UNITS)]
        version_id = questionnaire_version("sipas-2023").id
        total = n + n // 4
        first = dt.datetime(2025, 1, 1, 8)
        columns = ("code_hash", "unit_id", "questionnaire_version_id", "kind", "status", "issued_at", "expires_at")
        marker = "%s" if db.engine.dialect.name == "postgresql" else "?"
        sql = (f"INSERT INTO {SurveyCode.__tablename__} ({', '.join(columns)}) "
               f"VALUES ({', '.join([marker] * len(columns))})")
        for offset in range(0, total, 100_000):
            m = min(100_000, total - offset)
            issued = [first + dt.timedelta(minutes=int(x)) for x in rng.integers(0, 365 * 24 * 60, m)]
            status = np.where(np.arange(offset, offset + m) < n, "answered",
                              np.where(rng.random(m) < 0.1, "voided", "issued"))
            rows = [(secrets.token_hex(32), unit_ids[int(u)], version_id, "single", str(st), at,
                     at + dt.timedelta(days=30)) for u, st, at in zip(rng.integers(0, UNITS, m), status, issued,
                                                                      strict=True)]
            # The session's own connection, asked for again after each commit has released it.
            db.session.connection().connection.driver_connection.cursor().executemany(sql, rows)
            db.session.commit()
    return time.perf_counter() - start


def _copy(db, responses, ids, items, rows, cols, scores) -> None:
    """PostgreSQL: COPY is an order of magnitude faster than INSERT for bulk data."""
    connection = db.session.connection().connection.driver_connection
    fields = list(responses[0])
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY responses ({', '.join(fields)}) FROM STDIN") as copy:
            for row in responses:
                copy.write_row([row[f] for f in fields])
        with cursor.copy("COPY answers (response_id, item, value) FROM STDIN") as copy:
            for r, c in zip(rows, cols, strict=True):
                copy.write_row((ids[r], items[c], int(scores[r, c])))
    db.session.commit()


def _stored(app, table: str = "responses") -> int:
    from sqlalchemy import text

    from survey_app.extensions import db

    with app.app_context():
        return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def count_time(app, repeats: int = 5) -> float:
    from sqlalchemy import text

    from survey_app.extensions import db

    times = []
    with app.app_context():
        for _ in range(repeats):
            start = time.perf_counter()
            db.session.execute(text("SELECT count(*) FROM responses")).scalar()
            times.append(time.perf_counter() - start)
            db.session.rollback()
    return statistics.median(times)


def cold_starts(app, client, *, from_database: bool) -> dict[str, float]:
    """The first page of a fresh process (no snapshot file): the overview with no cell
    tallies stored (every half-month tallied from the responses' rows), the seal's writing
    of the tallies, the overview again from them (what a new server process does after the
    night's seal); then the priorities page, which reads the rows themselves, from the
    database and from the snapshot that load left behind."""
    from survey_app.extensions import db
    from survey_app.services import cell_store, dataset, snapshots
    from survey_app.services.timekeeping import today

    def fresh_process() -> None:
        dataset.cache.clear()
        for path in snapshots.SnapshotStore.for_app(app).directory.glob("*.frame"):
            path.unlink()

    times = {}
    with app.app_context():
        db.session.execute(db.text("DELETE FROM cell_tallies"))
        db.session.execute(db.text("DELETE FROM tally_seals"))
        db.session.commit()
    if from_database:
        fresh_process()
        times["unsealed"] = timed_get(client, PAGES[0])
    with app.app_context():
        start = time.perf_counter()
        cell_store.refresh_all(db.engine, today() - dt.timedelta(days=1))
        times["seal_tallies"] = time.perf_counter() - start
    fresh_process()
    times["sealed"] = timed_get(client, PAGES[0])
    if from_database:
        fresh_process()
        times["rows_database"] = timed_get(client, "/analyst/priorities")
    snapshots.wait_for_writes()  # the snapshot is written in the background
    dataset.cache.clear()
    times["rows_snapshot"] = timed_get(client, "/analyst/priorities")
    return times


def timed_get(client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def login(client) -> None:
    import re

    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/staff/login", data={"username": "analyst", "password": "bench password 1", "csrf_token": token})


def add_one_response(app) -> None:
    from survey_app.services import catalog, codes, responses

    q = questionnaires.load("sipas-2023")
    with app.app_context():
        _, [item] = codes.issue(unit=catalog.unit_by_code("U00"), procedure=None, actor="bench", count=1)
        data = {c: "4" for c in q.answer_columns if not c.startswith("PA")}
        data["feedback_given"] = "khong"
        for e in q.expectations:
            data[e.code] = "2"
        responses.store(codes.find(item.code), q, responses.validate(q, data))


@contextlib.contextmanager
def bench_app(args) -> Iterator:
    """The app on the benchmark's database: SQLite in ``--keep`` or a temporary directory,
    or a fresh PostgreSQL database next to ``--database-url`` (dropped afterwards unless kept)."""
    data_dir = args.keep or tempfile.mkdtemp(prefix="sipas-bench-")
    url, cleanup = args.database_url, None
    if url and url.startswith("postgresql"):
        url, cleanup = _fresh_pg(url, keep=args.keep)
    try:
        yield _make_app(url, data_dir), url
    finally:
        if cleanup:
            cleanup()


def run(args) -> dict:
    with bench_app(args) as (app, url):
        stored = _stored(app)
        if 0 < stored < args.responses:  # a kept database also holds the previous runs' new responses
            raise SystemExit(f"{args.keep} holds {stored:,} responses, not {args.responses:,}: use another --keep")
        fill_seconds = fill(app, args.responses) if stored == 0 else 0.0
        if _stored(app, "survey_codes") < args.responses:  # responses added by earlier runs issue a few
            fill_seconds += fill_codes(app, args.responses)
        baseline = count_time(app)
        client = app.test_client()
        login(client)
        cold = cold_starts(app, client, from_database=not args.skip_database_cold)
        warm = {p: min(timed_get(client, p), timed_get(client, p)) for p in PAGES}
        refreshed = {}
        for p in PAGES:  # the worst case: every page right after a new response
            add_one_response(app)
            refreshed[p] = timed_get(client, p)
        return {"backend": "postgresql" if url and url.startswith("postgresql") else "sqlite",
                "responses": args.responses, "fill_seconds": fill_seconds, "count_seconds": baseline,
                "cold": cold, "warm": warm, "after_new_response": refreshed}


def _fresh_pg(admin_url: str, keep: str | None = None):
    """A new database next to the admin URL's, dropped afterwards; with --keep, one named
    after the kept directory and left in place for the next run."""
    import hashlib

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(admin_url)
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    if keep:
        name = "sipas_bench_keep_" + hashlib.sha256(str(Path(keep).resolve()).encode()).hexdigest()[:8]
        with psycopg.connect(plain, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return base.set(database=name).render_as_string(hide_password=False), None
    name = f"sipas_bench_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from survey_app.extensions import db  # noqa: F401  (engines are disposed with the process)

        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(hide_password=False), drop


def report(result: dict) -> str:
    out = io.StringIO()
    base = result["count_seconds"]
    out.write(f"### Dashboard, {result['backend']}, {result['responses']:,} responses\n\n")
    filled = f"Filling the database took {result['fill_seconds']:.0f} s. " if result["fill_seconds"] else ""
    cold = result["cold"]

    def took(name: str, what: str) -> str:
        return f"{what} {cold[name]:.2f} s (÷ count(*) {cold[name] / base:.0f})" if name in cold else ""

    out.write(f"Baseline `SELECT count(*) FROM responses`: {base * 1000:.1f} ms (median of 5). {filled}\n\n"
              "First page (`/analyst/`) of a fresh process, no snapshot file: "
              + "; ".join(x for x in (took("unsealed", "no cell tallies stored"),
                                      took("sealed", "after the seal stored them")) if x)
              + f" (the seal's tallies took {cold['seal_tallies']:.1f} s). "
              "First `/analyst/priorities` (reads the rows): "
              + "; ".join(x for x in (took("rows_database", "from the database"),
                                      took("rows_snapshot", "from the snapshot")) if x) + ".\n\n")
    out.write("| page | warm (s) | ÷ count(*) | after a new response (s) | ÷ count(*) |\n|---|---:|---:|---:|---:|\n")
    for page in PAGES:
        w, a = result["warm"][page], result["after_new_response"][page]
        out.write(f"| `{page}` | {w:.3f} | {w / base:.1f} | {a:.3f} | {a / base:.1f} |\n")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL admin URL; SQLite in a temporary directory when omitted")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep the filled database (SQLite: in DIR; PostgreSQL: a database named after DIR) "
                             "and reuse it on the next run")
    parser.add_argument("--skip-database-cold", action="store_true",
                        help="do not time a first page from the answers table (minutes at a million)")
    args = parser.parse_args()
    print(report(run(args)))


if __name__ == "__main__":
    main()
