"""Issue 7 load test: ``sipas serve`` on PostgreSQL and on SQLite, many clients, racing duplicates,
optionally a kill -9 of the server in the middle; then the database is checked.

    python benchmarks/load/run.py                                   # both backends, issue-7 sizes
    python benchmarks/load/run.py --backend sqlite --codes 2000 --clients 50 --duplicates 100
    python benchmarks/load/run.py --crash                           # kill -9 mid-load, restart
    python benchmarks/load/run.py --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Each run gets a fresh database (a new SQLite file; a new PostgreSQL database ``sipas_bench_*``
made on the server of --postgres-url and dropped afterwards). Loopback only; every server is
stopped and every run is bounded by --timeout. Prints Markdown; exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.load.harness import LoadConfig, LoadReport, run_load  # noqa: E402

DEFAULT_POSTGRES = os.environ.get("SIPAS_TEST_POSTGRES_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--codes", type=int, default=20_000, help="distinct single-use codes answered")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients")
    parser.add_argument("--duplicates", type=int, default=1_000,
                        help="codes (among --codes) posted twice at the same moment")
    parser.add_argument("--crash", action="store_true", help="kill -9 the server mid-load, restart, finish")
    parser.add_argument("--crash-at", type=float, default=0.5, help="fraction of codes answered before the kill")
    parser.add_argument("--workers", type=int, default=2, help="sipas serve --workers")
    parser.add_argument("--threads", type=int, default=8, help="sipas serve --threads")
    parser.add_argument("--client-processes", type=int, default=0, help="0: one per 25 clients, 2 to 8")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed for each load run")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES,
                        help="an admin URL of the PostgreSQL server (default: $SIPAS_TEST_POSTGRES_URL)")
    parser.add_argument("--set", action="append", default=[], metavar="SIPAS_NAME=VALUE",
                        help="a setting for the server, e.g. --set SIPAS_UNLINK_SECONDS=5 (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the figures and checks as JSON")
    parser.add_argument("--workdir", type=Path, help="keep data directories and server logs here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    settings = dict(item.split("=", 1) for item in args.set)
    if any(not name.startswith("SIPAS_") for name in settings):
        raise SystemExit("--set: only SIPAS_* settings")
    reports: list[LoadReport] = []
    with tempfile.TemporaryDirectory(prefix="sipas-load-") as tmp:
        root = args.workdir or Path(tmp)
        for backend in backends:
            config = LoadConfig(backend=backend, codes=args.codes, clients=args.clients, duplicates=args.duplicates,
                                crash=args.crash, crash_at=args.crash_at, workers=args.workers, threads=args.threads,
                                client_processes=args.client_processes, timeout=args.timeout, settings=settings)
            print(f"... {backend}: {args.codes} codes, {args.clients} clients{', crash' if args.crash else ''}",
                  file=sys.stderr, flush=True)
            report = run_load(config, root / f"{backend}{'-crash' if args.crash else ''}", args.postgres_url)
            reports.append(report)
            print(report.markdown(), "\n", flush=True)
            if not report.ok:
                print("server log (tail):\n" + report.log_tail, file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps([
            {**r.figures(), "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in r.checks],
             "when": r.when, "machine": r.machine} for r in reports], indent=2, ensure_ascii=False))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
