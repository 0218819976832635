"""Seed a PostgreSQL benchmark database with N synthetic sipas-2023 responses in SQL.

The same shape as ``benchmarks/dashboard_speed.fill`` (which sends every row through COPY
from Python: about 8 minutes per million responses here), generated inside PostgreSQL with
``INSERT … SELECT`` over ``generate_series``: the same 20 units and analyst, one year of
days from 2025-01-01, channel ``single``, no procedure, 15 % of respondents given feedback,
the criteria and the general question scored ``clip(round(3.9 + quality + N(0, 0.8)), 1, 5)``
with a per-response ``quality ~ N(0, 0.6) + (unit − 10) · 0.03``, the nine expectations
uniform in 1–3, 4 % of answers blank and PA1–PA3 blank without feedback (about 25.4
answers per response). Random numbers come from ``hashint8extended`` of the response's
(or answer's) number, so a seed gives the same database whatever the plan; ids are 32 hex
digits (``md5``) in random order, like ``secrets.token_hex(16)``.

One transaction, in this order:

- ``TRUNCATE`` the (empty) responses, answers and answer_counts: their files are new in
  the transaction, so with ``wal_level = minimal`` PostgreSQL writes no WAL for the load;
- ``SET LOCAL session_replication_role = replica``: the ``answer_counts`` triggers of
  migration 0004 and the answers → responses foreign-key checks do not fire (the rows are
  consistent by construction); both are back at COMMIT (needs a superuser);
- answers' indexes (its primary key) are dropped, the rows inserted a million responses
  at a time (each response's answers together, as COPY writes them), and the indexes
  rebuilt with one sort each;
- ``answer_counts`` filled with the backfill of migration 0004 (the counts the triggers
  keep: one row per response key with item '' and value 0, and per key, item and value).

Then ``VACUUM ANALYZE`` of the three tables. Codes (``survey_codes``) are not written: the
analysis does not read them (``dashboard_speed.fill_codes`` adds them when needed).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import questionnaires  # noqa: E402

UNITS = 20
FIRST_DAY = dt.date(2025, 1, 1)
MIGRATION = Path(__file__).resolve().parents[1] / "survey_app" / "migrations" / "versions" / "0004_answer_counts.py"


def _uniform(x: str, stream: int) -> str:
    """SQL for a uniform number in [0, 1) from the integer expression ``x`` (52 bits of a hash)."""
    return f"((hashint8extended({x}, {stream}) & 4503599627370495)::float8 / 4503599627370496.0)"


def _normal(x: str, stream: int) -> str:
    """SQL for a standard normal number from ``x`` (Box–Muller on two uniforms)."""
    return f"(sqrt(-2.0 * ln(1.0 - {_uniform(x, stream)})) * cos(2.0 * pi() * {_uniform(x, stream + 1)}))"


def _response(seed: int) -> str:
    """The per-response draws from its number ``i``: a subquery over ``generate_series``."""
    s = seed * 100
    unit = f"floor({_uniform('i', s + 1)} * {UNITS})::int"
    return (f"SELECT i, md5('sipas-seed-{seed}-' || i) AS id, {unit} AS unit,"
            f" floor({_uniform('i', s + 2)} * 365)::int AS day, {_uniform('i', s + 3)} < 0.15 AS feedback,"
            f" 0.6 * {_normal('i', s + 4)} + ({unit} - {UNITS / 2}) * 0.03 AS quality"
            " FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i")


def response_sql(seed: int) -> str:
    return ("INSERT INTO responses (id, questionnaire_version_id, unit_id, procedure_id, channel, submitted_on,"
            " same_day, burst, respondent_type, feedback_given, gender, age_group, ethnicity, education,"
            " occupation, residence)"
            " SELECT s.id, %(version)s, (%(unit_ids)s::int[])[s.unit + 1], NULL, 'single',"
            f" DATE '{FIRST_DAY.isoformat()}' + s.day, s.day %% 3 = 0, false, 'ca_nhan',"
            " CASE WHEN s.feedback THEN 'co' ELSE 'khong' END, NULL, NULL, NULL, NULL, NULL, NULL"
            f" FROM ({_response(seed)}) s")


def answer_sql(seed: int, n_items: int) -> str:
    """Each response's answers, generated from a function of the response (LATERAL), so
    the rows come out response by response; OFFSET 0 keeps md5 once per response."""
    s = seed * 100
    j = f"(s.i * {n_items + 1} + t.k)"
    scored = (f"greatest(1, least(5, round(3.9 + s.quality + 0.8 * {_normal(j, s + 10)})))::smallint")
    expectation = f"(1 + floor({_uniform(j, s + 12)} * 3))::smallint"
    return ("INSERT INTO answers (response_id, item, value)"
            f" SELECT s.id, t.item, CASE WHEN t.expectation THEN {expectation} ELSE {scored} END"
            f" FROM ({_response(seed)} OFFSET 0) s"
            " CROSS JOIN LATERAL unnest(CASE WHEN s.feedback THEN %(items)s::text[] ELSE %(items_no_pa)s::text[] END,"
            " CASE WHEN s.feedback THEN %(expect)s::boolean[] ELSE %(expect_no_pa)s::boolean[] END)"
            " WITH ORDINALITY AS t(item, expectation, k)"
            f" WHERE {_uniform(j, s + 13)} >= 0.04")


def backfill_sql() -> list[str]:
    """Migration 0004's backfill of answer_counts (the counts its triggers keep), built
    from the migration's own key expressions."""
    spec = importlib.util.spec_from_file_location("sipas_migration_0004", MIGRATION)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return [
        f"INSERT INTO answer_counts ({m._KEY}, n) SELECT {m._RESPONSE_KEY}, '', 0, COUNT(*) "
        "FROM responses r GROUP BY r.submitted_on, r.unit_id, COALESCE(r.procedure_id, -1), "
        "r.questionnaire_version_id, r.channel ORDER BY 1, 2, 3, 4, 5",
        f"INSERT INTO answer_counts ({m._KEY}, n) SELECT {m._RESPONSE_KEY}, a.item, a.value, COUNT(*) "
        "FROM answers a JOIN responses r ON r.id = a.response_id "
        "GROUP BY r.submitted_on, r.unit_id, COALESCE(r.procedure_id, -1), r.questionnaire_version_id, "
        "r.channel, a.item, a.value ORDER BY 1, 2, 3, 4, 5, 6, 7",
    ]


def seed(app, n: int, seed: int = 7, chunk: int = 1_000_000) -> float:
    """Insert n responses with their answers and answer_counts in SQL; returns seconds taken."""
    import psycopg

    from benchmarks.dashboard_speed import organisation
    from survey_app.extensions import db

    start = time.perf_counter()
    q = questionnaires.load("sipas-2023")
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            raise SystemExit("the SQL seed is for PostgreSQL; SQLite is filled through Python")
        unit_ids, version_id = organisation()
        db.session.commit()
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        db.session.remove()
        db.engine.dispose()
    expectations = {e.code for e in q.expectations}
    items = [c.code for c in q.criteria] + ["HL"] + [e.code for e in q.expectations]
    no_pa = [i for i in items if i not in ("PA1", "PA2", "PA3")]
    params = {"version": version_id, "unit_ids": unit_ids, "items": items, "items_no_pa": no_pa,
              "expect": [i in expectations for i in items], "expect_no_pa": [i in expectations for i in no_pa]}

    def step(what: str, since: float) -> float:
        now = time.perf_counter()
        print(f"  {what} ({now - since:.0f} s)", file=sys.stderr, flush=True)
        return now

    with psycopg.connect(url) as conn:  # one transaction
        t = time.perf_counter()
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("SET LOCAL work_mem = '1GB'")
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        if conn.execute("SELECT EXISTS (SELECT 1 FROM responses)").fetchone()[0]:
            raise SystemExit("the SQL seed fills an empty database")
        conn.execute("TRUNCATE answer_counts, answers, responses")
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'answers'::regclass AND contype IN ('p', 'u')").fetchall()
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid ="
            " 'answers'::regclass AND indexrelid NOT IN (SELECT conindid FROM pg_constraint"
            " WHERE conrelid = 'answers'::regclass)").fetchall()
        for name, _ in constraints:
            conn.execute(f'ALTER TABLE answers DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        responses, answers = response_sql(seed), answer_sql(seed, len(items))
        for lo in range(1, n + 1, chunk):
            hi = min(lo + chunk - 1, n)
            conn.execute(responses, {**params, "lo": lo, "hi": hi})
            conn.execute(answers, {**params, "lo": lo, "hi": hi})
            t = step(f"inserted {hi:,} responses", t)
        for name, definition in constraints:
            conn.execute(f'ALTER TABLE answers ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            conn.execute(definition)
        t = step("answers' indexes rebuilt", t)
        for sql in backfill_sql():
            conn.execute(sql)
        t = step("answer_counts filled", t)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE responses, answers, answer_counts")
        step("VACUUM ANALYZE", t)
    return time.perf_counter() - start
