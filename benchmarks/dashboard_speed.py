"""Dashboard speed with many stored responses (issue: analysts' dashboard, "Speed").

Fills a fresh database with N synthetic sipas-2023 responses (default 1,000,000) across 20
units and a year, then times every dashboard page through the app, as a ratio to the time
of one ``SELECT count(*) FROM responses`` measured in the same run (machines here are shared
and noisy). Reports the cold first load (the per-process response cache filling), each page
warm, and each page again after one new response arrived (incremental refresh).

    python benchmarks/dashboard_speed.py --responses 1000000                 # SQLite
    python benchmarks/dashboard_speed.py --responses 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # PostgreSQL

The PostgreSQL run creates and drops its own database next to the one in the URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import secrets
import statistics
import sys
import tempfile
import time
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
              "SIPAS_PASSWORD_HASH": "scrypt:1024:8:1"}
    if url:
        config["SIPAS_DATABASE_URL"] = url
    app = create_app(config)
    with app.app_context():
        initialise()
    return app


def fill(app, n: int, seed: int = 7) -> float:
    """Insert n responses with their answers; returns seconds taken."""
    from sqlalchemy import insert

    from survey_app.database import questionnaire_version
    from survey_app.extensions import db
    from survey_app.models import Answer, Response, Unit
    from survey_app.services import catalog, users

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    q = questionnaires.load("sipas-2023")
    with app.app_context():
        catalog.add_unit("SO", "Sở")
        for i in range(UNITS):
            catalog.add_unit(f"U{i:02d}", f"Phòng {i:02d}", parent="SO")
        users.add_user("analyst", "bench password 1", "analyst")
        unit_ids = [db.session.scalar(db.select(Unit.id).filter_by(code=f"U{i:02d}")) for i in range(UNITS)]
        version_id = questionnaire_version("sipas-2023").id
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
                answers = [dict(response_id=ids[r], item=items[c], value=int(scores[r, c]))
                           for r, c in zip(rows, cols, strict=True)]
                db.session.execute(insert(Answer), answers)
                db.session.commit()
            print(f"  inserted {offset + m:,} responses", file=sys.stderr, flush=True)
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


def run(args) -> dict:
    data_dir = tempfile.mkdtemp(prefix="sipas-bench-")
    url, cleanup = args.database_url, None
    if url and url.startswith("postgresql"):
        url, cleanup = _fresh_pg(url)
    try:
        app = _make_app(url, data_dir)
        fill_seconds = fill(app, args.responses)
        baseline = count_time(app)
        client = app.test_client()
        login(client)
        cold = timed_get(client, PAGES[0])
        warm = {p: min(timed_get(client, p), timed_get(client, p)) for p in PAGES}
        refreshed = {}
        for p in PAGES:  # the worst case: every page right after a new response
            add_one_response(app)
            refreshed[p] = timed_get(client, p)
        return {"backend": "postgresql" if url and url.startswith("postgresql") else "sqlite",
                "responses": args.responses, "fill_seconds": fill_seconds, "count_seconds": baseline,
                "cold_first_page": cold, "warm": warm, "after_new_response": refreshed}
    finally:
        if cleanup:
            cleanup()


def _fresh_pg(admin_url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"sipas_bench_{secrets.token_hex(4)}"
    base = make_url(admin_url)
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
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
    out.write(f"Baseline `SELECT count(*) FROM responses`: {base * 1000:.1f} ms (median of 5). "
              f"Filling the database took {result['fill_seconds']:.0f} s. "
              f"Cold first page (cache fill): {result['cold_first_page']:.2f} s.\n\n")
    out.write("| page | warm (s) | ÷ count(*) | after a new response (s) | ÷ count(*) |\n|---|---:|---:|---:|---:|\n")
    for page in PAGES:
        w, a = result["warm"][page], result["after_new_response"][page]
        out.write(f"| `{page}` | {w:.3f} | {w / base:.1f} | {a:.3f} | {a / base:.1f} |\n")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL admin URL; SQLite in a temporary directory when omitted")
    args = parser.parse_args()
    print(report(run(args)))


if __name__ == "__main__":
    main()
