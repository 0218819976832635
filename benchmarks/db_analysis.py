"""The analysis in the database (issue 14): ``analyze_database`` — what ``sipas analyze --db``
and ``GET /api/v1/indices`` run — against a plain SQL ``GROUP BY`` of the satisfied counts.

Fills a fresh database with N synthetic sipas-2023 responses (default 1,000,000; 20 units,
one year; ``benchmarks/dashboard_speed.fill``, COPY on PostgreSQL; with ``--seed sql`` the
same shape generated inside PostgreSQL by ``benchmarks/seed_sql.seed``, minutes instead of
hours at 10 M) and times, in the same run and on the same database:

- the baseline: ``SELECT unit, quarter, item, COUNT(*), SUM(value >= 4)`` over the answers
  joined to their responses, grouped by unit, quarter and item — the least any analysis by
  unit and quarter reads;
- ``analyze_database(url, by="unit", period="quarter")`` in a fresh child process, with the
  child's peak resident memory (``ru_maxrss``) after the imports and after the analysis;
- with ``--frame``, the former path (``load_database`` + ``analyze``) for comparison.

    python benchmarks/db_analysis.py --responses 1000000                      # SQLite
    python benchmarks/db_analysis.py --responses 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # PostgreSQL
    python benchmarks/db_analysis.py --responses 1000000 --keep /tmp/d       # fill once, rerun
    python benchmarks/db_analysis.py --responses 10000000 --seed sql --keep /tmp/p10m \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # 10 M, seeded in SQL

Goals (issue 14): analysis ≤ 1.5 × the baseline, client peak memory ≤ 100 MB. Exit
status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.dashboard_speed import _stored, bench_app, fill  # noqa: E402
from benchmarks.seed_sql import seed as seed_sql  # noqa: E402

GOAL_RATIO = 1.5
GOAL_MB = 100.0


def baseline_seconds(url: str, repeat: int) -> float:
    import sqlalchemy as sa

    from analysis.dbcells import half_month

    engine = sa.create_engine(url)
    quarter = f"(({half_month(engine.dialect.name)}) / 6)"
    sql = sa.text(
        f"SELECT r.unit_id, {quarter}, a.item, COUNT(*), SUM(CASE WHEN a.value >= 4 THEN 1 ELSE 0 END)"
        " FROM answers a JOIN responses r ON r.id = a.response_id"
        f" GROUP BY r.unit_id, {quarter}, a.item")
    times = []
    with engine.connect() as conn:
        for _ in range(repeat):
            start = time.perf_counter()
            conn.execute(sql).all()
            times.append(time.perf_counter() - start)
    engine.dispose()
    return statistics.median(times)


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
import analysis, analysis.indb
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if {frame!r}:
    frame = analysis.load_database({url!r}, questionnaire="sipas-2023")
    result = analysis.analyze(frame, "sipas-2023", by="unit", period="quarter")
else:
    result = analysis.indb.analyze_database({url!r}, "sipas-2023", by="unit", period="quarter")
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "imports_mb": before / 1024, "peak_mb": after / 1024,
                  "groups": len(result.groups)}}))
"""


def child(url: str, *, frame: bool = False) -> dict:
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=root, url=url, frame=frame)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> dict:
    postgres = bool(args.database_url and args.database_url.startswith("postgresql"))
    if args.seed == "sql" and not postgres:
        raise SystemExit("--seed sql needs --database-url (PostgreSQL)")
    with bench_app(args) as (app, _):
        filled = None
        if _stored(app) == 0:
            filled = (seed_sql if args.seed == "sql" else fill)(app, args.responses)
        with app.app_context():
            from survey_app.extensions import db

            url = db.engine.url.render_as_string(hide_password=False)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as conn:
                    conn.execute(db.text("ANALYZE"))  # fresh statistics after COPY, as autovacuum would
                    conn.commit()
        load = [os.getloadavg()[0]]
        base = baseline_seconds(url, args.repeat)
        load.append(os.getloadavg()[0])
        runs = [child(url) for _ in range(args.repeat)]
        load.append(os.getloadavg()[0])
        result = {"backend": "postgresql" if url.startswith("postgresql") else "sqlite",
                  "responses": _stored(app), "baseline": base, "runs": runs, "load": load,
                  "fill": None if filled is None else {"how": args.seed, "seconds": filled}}
        if args.frame:
            result["frame"] = child(url, frame=True)
        return result


def report(result: dict) -> tuple[str, bool]:
    base = result["baseline"]
    seconds = statistics.median(r["seconds"] for r in result["runs"])
    peak = max(r["peak_mb"] for r in result["runs"])
    imports = max(r["imports_mb"] for r in result["runs"])
    ratio = seconds / base
    ok = ratio <= GOAL_RATIO and peak - imports <= GOAL_MB
    lines = [
        f"### {result['backend']}, {result['responses']:,} responses, by unit and quarter "
        f"({result['runs'][0]['groups']} groups)",
        "",
        "| what | seconds | ÷ baseline | client peak RSS (MB) | of which the analysis |",
        "|---|---:|---:|---:|---:|",
        f"| baseline: SQL GROUP BY unit, quarter, item | {base:.2f} | 1.00 | | |",
        f"| `analyze_database` (median of {len(result['runs'])}: "
        f"{', '.join(format(r['seconds'], '.1f') for r in result['runs'])} s) | {seconds:.2f} | {ratio:.2f} | "
        f"{peak:.0f} | {peak - imports:.0f} |",
    ]
    if "frame" in result:
        f = result["frame"]
        lines.append(f"| former path: `load_database` + `analyze` | {f['seconds']:.2f} | "
                     f"{f['seconds'] / base:.2f} | {f['peak_mb']:.0f} | {f['peak_mb'] - f['imports_mb']:.0f} |")
    lines += ["", f"Client peak RSS after the imports {imports:.0f} MB, after the analysis {peak:.0f} MB. "
              "Load average (1 min) before the baseline, before and after the analysis: "
              + ", ".join(f"{x:.1f}" for x in result.get("load", []))
              + (f". Filled in this run ({result['fill']['how']}) in {result['fill']['seconds']:.0f} s"
                 if result.get("fill") else ". Database filled by an earlier run") + "."]
    lines += ["", f"Goals: ≤ {GOAL_RATIO} × baseline, ≤ {GOAL_MB:.0f} MB for the analysis: "
              + ("met" if ok else "MISSED")]
    return "\n".join(lines) + "\n", ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL admin URL; SQLite in a temporary directory when omitted")
    parser.add_argument("--keep", metavar="DIR", help="keep the filled database and reuse it on the next run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--frame", action="store_true", help="also time load_database + analyze (slow)")
    parser.add_argument("--seed", choices=("copy", "sql"), default="copy",
                        help="how an empty database is filled: through Python (COPY on PostgreSQL, INSERT on "
                             "SQLite; about 8 min per million responses) or, PostgreSQL only, generated in SQL "
                             "by benchmarks/seed_sql.py (same shape, no codes; run as a superuser)")
    args = parser.parse_args(argv)
    text, ok = report(run(args))
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
