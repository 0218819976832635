"""The issue-7 load run, optionally with a kill -9 in the middle, and its checks.

``run_load(LoadConfig(...), workdir)`` starts ``sipas serve`` on a fresh database, answers
every code once (some of them as a racing double submission), stops the server and checks the
database: used by benchmarks/load/run.py and tests/load/test_crash_recovery.py.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import random
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .client import ClientRun, Outcome, run_clients, survey_answers
from .server import HOST, Server, Site, cpu_delta, cpu_seconds, database_pids, fresh_site, machine_busy, prepare

EXPECTED = {"G200", "G409", "P200", "P303", "P409"}  # P200: a step of the form


@dataclass
class LoadConfig:
    backend: str = "sqlite"
    codes: int = 20_000
    clients: int = 200
    duplicates: int = 1_000  # codes posted twice at the same moment (among ``codes``)
    crash: bool = False
    crash_at: float = 0.5  # kill -9 after this fraction of the codes has an answer
    workers: int = 2
    threads: int = 8
    client_processes: int = 0  # 0: one per 25 clients, from 2 to 8
    timeout: float = 900  # seconds for the load itself, retries included
    seed: int = 7
    settings: dict[str, str] = field(default_factory=dict)  # SIPAS_* settings for the server, e.g. limits

    def processes(self) -> int:
        return self.client_processes or max(2, min(8, math.ceil(self.clients / 25)))


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Crash:
    at_completed: int = 0  # tasks finished when the server was killed
    at_seconds: float = 0.0  # since the load started
    killed: list[int] = field(default_factory=list)  # master first, then workers
    down_seconds: float = 0.0  # kill .. the restarted server answers
    restarted_at: float = 0.0  # time.monotonic() when it answered again
    integrity_after_kill: list[str] = field(default_factory=list)  # SQLite, before the restart


@dataclass
class DbState:
    responses: int
    answers: int
    comments: int
    statuses: dict[str, int]
    orphan_answers: int
    responses_without_answers: int
    answers_per_response: tuple[int, int]
    answered_hashes: set[str]
    integrity: list[Check]


@dataclass
class LoadReport:
    config: LoadConfig
    when: str
    machine: str
    prepare_seconds: float
    start_seconds: float
    run: ClientRun
    db: DbState
    checks: list[Check]
    crash: Crash | None
    server_cpu: float
    database_cpu: float
    machine_cpu: float
    log_tail: str = ""
    sqlite_files: dict[str, int] = field(default_factory=dict)  # file -> bytes, under load
    log_problems: list[str] = field(default_factory=list)  # error lines of the server's log

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def latencies(self, kind: str = "survey") -> list[float]:
        return sorted(o.latency for o in self.run.outcomes if o.kind == kind and o.done)

    def figures(self) -> dict[str, object]:
        run, wall = self.run, self.run.wall
        surveys = self.latencies("survey")
        requests = sum(len(o.statuses) for o in run.outcomes)
        return {
            "backend": self.config.backend, "crash": self.config.crash, "codes": self.config.codes,
            "clients": self.config.clients, "duplicates": self.config.duplicates,
            "workers": self.config.workers, "threads": self.config.threads, "wall_s": round(wall, 1),
            "codes_per_s": round(sum(o.done for o in run.outcomes) / wall, 1),
            "requests_per_s": round(requests / wall, 1),
            "survey_p50_ms": _ms(percentile(surveys, 0.50)), "survey_p95_ms": _ms(percentile(surveys, 0.95)),
            "survey_p99_ms": _ms(percentile(surveys, 0.99)),
            "client_cpu_cores": round(run.client_cpu / wall, 2), "server_cpu_cores": round(self.server_cpu / wall, 2),
            "database_cpu_cores": round(self.database_cpu / wall, 2),
            "machine_cpu_cores": round(self.machine_cpu / wall, 2),
            "server_cpu_ms_per_code": round(1000 * self.server_cpu / max(1, sum(o.done for o in run.outcomes)), 1),
            "database_cpu_ms_per_code": round(
                1000 * self.database_cpu / max(1, sum(o.done for o in run.outcomes)), 1),
            "http_5xx": count_5xx(run.outcomes), "connection_errors": sum(o.errors for o in run.outcomes),
            "responses": self.db.responses, "stale_keepalive_retries": self.run.stale_retries,
            "sqlite_files": self.sqlite_files,
        }

    def markdown(self) -> str:
        f = self.figures()
        mode = "kill -9 mid-load" if self.config.crash else "steady"
        lines = [
            f"### {self.config.backend}, {mode}: {self.config.codes} codes, {self.config.clients} clients, "
            f"{self.config.duplicates} racing duplicates",
            "",
            f"{self.when}; {self.machine}; `sipas serve --workers {self.config.workers} "
            f"--threads {self.config.threads}`; {self.run.processes} client processes.",
            "",
            "| codes answered/s | HTTP requests/s | survey p50 | p95 | p99 | wall | 5xx | connection errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {f['codes_per_s']} | {f['requests_per_s']} | {f['survey_p50_ms']} ms | {f['survey_p95_ms']} ms "
            f"| {f['survey_p99_ms']} ms | {f['wall_s']} s | {f['http_5xx']} | {f['connection_errors']} |",
            "",
            f"CPU (cores busy on average, of 2): clients {f['client_cpu_cores']}, server {f['server_cpu_cores']}, "
            f"database backends {f['database_cpu_cores']}, whole machine {f['machine_cpu_cores']} "
            f"(other jobs included). Server CPU per answered code {f['server_cpu_ms_per_code']} ms, "
            f"database {f['database_cpu_ms_per_code']} ms. "
            f"Setup: {self.prepare_seconds:.1f} s to issue the codes, {self.start_seconds:.1f} s to start the server. "
            f"Keep-alive connections found closed by the server and reopened for a GET: {self.run.stale_retries}.",
        ]
        if self.sqlite_files:
            sizes = ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in self.sqlite_files.items())
            lines[-1] += f" Files at the end of the load: {sizes}."
        if self.crash is not None:
            c = self.crash
            lines += ["", f"Killed (SIGKILL to the process group) after {c.at_completed} of {self.config.codes} "
                          f"codes, {c.at_seconds:.1f} s into the load: pids {c.killed} (the master and its workers); "
                          f"answering again {c.down_seconds:.1f} s later."]
        lines += ["", "| check | result | detail |", "|---|---|---|"]
        lines += [f"| {c.name} | {'ok' if c.ok else '**FAILED**'} | {c.detail} |" for c in self.checks]
        return "\n".join(lines)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def count_5xx(outcomes: Iterable[Outcome]) -> int:
    return sum(1 for o in outcomes for s in o.statuses if s[1:2] == "5")


def machine_description() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores (shared, noisy), Python {platform.python_version()}, "
            f"app at {code_version()}")


def code_version() -> str:
    """The commit measured, and whether the app's files differ from it (read-only git)."""
    from .server import REPO_ROOT

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown commit"
    dirty = git("status", "--porcelain", "--", "survey_app", "questionnaires").strip()
    return f"{commit}{' + uncommitted changes' if dirty else ''}"


class _CpuMeter:
    """CPU seconds of the server's processes (every generation) and of the PostgreSQL backends
    serving the run's database. Processes that appear after the start count from zero; a
    process killed between two samples loses its last fraction of a second."""

    def __init__(self, server: Server, site: Site) -> None:
        self.server, self.site = server, site
        self.db_pids: set[int] = set(database_pids(site))
        self.server_pids: set[int] = set(server.members())
        self.first = cpu_seconds(sorted(self.server_pids | self.db_pids))
        self.last = dict(self.first)
        self.db_checked = time.monotonic()

    def sample(self) -> None:
        members = self.server.members()
        self.server_pids.update(members)
        if self.site.backend == "postgres" and time.monotonic() - self.db_checked > 2:
            self.db_pids.update(database_pids(self.site))
            self.db_checked = time.monotonic()
        self.last.update(cpu_seconds(members + sorted(self.db_pids)))

    def totals(self) -> tuple[float, float]:
        self.db_checked = 0.0
        self.sample()

        def used(pids: set[int]) -> float:
            seen = {p: self.last[p] for p in pids if p in self.last}
            return cpu_delta({p: self.first.get(p, 0.0) for p in seen}, seen)

        return used(self.server_pids - self.db_pids), used(self.db_pids)


class _Killer:
    """Called by the client runner about twenty times a second: kill -9 once, restart."""

    def __init__(self, server: Server, site: Site, at: int, meter: _CpuMeter) -> None:
        self.server, self.site, self.at, self.meter = server, site, at, meter
        self.crash: Crash | None = None
        self.load_started = time.monotonic()

    def __call__(self, completed: int) -> None:
        self.meter.sample()
        if self.crash is not None or completed < self.at:
            return
        crash = self.crash = Crash(at_completed=completed, at_seconds=time.monotonic() - self.load_started)
        killed_at = time.monotonic()
        crash.killed = self.server.kill9()
        if self.site.backend == "sqlite":
            crash.integrity_after_kill = sqlite_integrity(self.site)
        self.server.start()
        crash.restarted_at = time.monotonic()
        crash.down_seconds = crash.restarted_at - killed_at


def build_tasks(config: LoadConfig, codes: list[str]) -> list[tuple[int, str, str]]:
    """Every code once, ``duplicates`` of them as racing pairs, in a random order."""
    if not 0 <= config.duplicates <= len(codes):
        raise ValueError(f"duplicates: must be from 0 to the number of codes ({len(codes)})")
    rng = random.Random(config.seed)
    pairs = set(rng.sample(range(len(codes)), config.duplicates))
    tasks = [(i, "pair" if i in pairs else "survey", code) for i, code in enumerate(codes)]
    rng.shuffle(tasks)
    return tasks


def run_load(config: LoadConfig, workdir: Path, admin_url: str | None = None) -> LoadReport:
    """Serve, load (and crash), stop, inspect: never leaves a server or a database behind."""
    if config.codes < 1 or config.clients < 1:
        raise ValueError("codes and clients: at least 1")
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with fresh_site(config.backend, workdir, admin_url) as site:
        site.settings.update(config.settings)
        began = time.monotonic()
        codes = prepare(site, config.codes)
        prepared = time.monotonic() - began
        tasks = build_tasks(config, codes)
        answers = survey_answers()
        with Server(site, workers=config.workers, threads=config.threads) as server:
            start_seconds = server.start()
            meter = _CpuMeter(server, site)
            killer = _Killer(server, site, max(1, int(config.codes * config.crash_at)), meter) if config.crash else None
            busy_before, _ = machine_busy()
            if killer is not None:
                killer.load_started = time.monotonic()
            run = run_clients(HOST, site.port, clients=config.clients, processes=config.processes(),
                              answers=answers, tasks=tasks, deadline=config.timeout,
                              on_tick=killer if killer is not None else lambda _n: meter.sample())
            busy_after, _ = machine_busy()
            server_cpu, database_cpu = meter.totals()
            files = _sqlite_files(site)  # before the stop: closing the last connection checkpoints
            server.stop()
            log_tail, log_problems = server.log_tail(), server.log_problems()
        state = inspect_database(site, codes)
    crash = killer.crash if killer is not None else None
    report = LoadReport(
        config=config, when=when, machine=machine_description(), prepare_seconds=prepared,
        start_seconds=start_seconds, run=run, db=state, checks=[], crash=crash, server_cpu=server_cpu,
        database_cpu=database_cpu, machine_cpu=busy_after - busy_before, log_tail=log_tail, sqlite_files=files,
        log_problems=log_problems,
    )
    report.checks = evaluate(report, codes, site)
    return report


def _sqlite_files(site: Site) -> dict[str, int]:
    if site.backend != "sqlite":
        return {}
    data = site.workdir / "data"
    return {p.name: p.stat().st_size for p in sorted(data.glob("sipas.sqlite*"))}


def code_hashes(site: Site, codes: list[str]) -> dict[str, str]:
    """code -> the hash the database stores, computed by the app's own function and key."""
    from survey_app import create_app
    from survey_app.services import codes as code_service

    app = create_app({"SIPAS_DATA_DIR": str(site.workdir / "data"), "SIPAS_DATABASE_URL": site.database_url,
                      "SIPAS_SECRET_KEY": site.secret_key, "SIPAS_PUBLIC_URL": site.base_url})
    with app.app_context():
        return {code: code_service.code_hash(code_service.parse(code)) for code in codes}


def sqlite_integrity(site: Site) -> list[str]:
    """Problems ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` report ([] = none)."""
    import sqlite3

    path = site.workdir / "data" / "sipas.sqlite"
    conn = sqlite3.connect(path, timeout=30)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"foreign key: {row}" for row in conn.execute("PRAGMA foreign_key_check")]
    finally:
        conn.close()
    return problems


_AMCHECK_INDEXES = """
SELECT c.relname FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE am.amname = 'btree' AND n.nspname = 'public' AND i.indisvalid AND i.indisready
"""


def postgres_integrity(site: Site) -> list[Check]:
    """amcheck on every B-tree index (with heapallindexed) and every table, when contrib is there."""
    import psycopg

    from .server import _plain

    checks = []
    with psycopg.connect(_plain(site.database_url), autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        except psycopg.Error as exc:
            return [Check("amcheck", True, f"skipped: extension not available ({exc.diag.message_primary})")]
        indexes = [row[0] for row in conn.execute(_AMCHECK_INDEXES)]
        bad = []
        for name in indexes:
            try:
                conn.execute("SELECT bt_index_check(%s::regclass, true)", (f'public."{name}"',))
            except psycopg.Error as exc:
                bad.append(f"{name}: {exc.diag.message_primary}")
        checks.append(Check("amcheck B-tree indexes", not bad, "; ".join(bad) or f"{len(indexes)} indexes clean"))
        has_heap = conn.execute("SELECT 1 FROM pg_proc WHERE proname = 'verify_heapam'").fetchone()
        if has_heap:
            tables = [row[0] for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            corrupt = []
            for table in tables:
                rows = conn.execute("SELECT blkno, offnum, msg FROM verify_heapam(%s::regclass)",
                                    (f'public."{table}"',)).fetchall()
                corrupt += [f"{table} block {r[0]}: {r[2]}" for r in rows]
            checks.append(Check("amcheck verify_heapam", not corrupt,
                                "; ".join(corrupt[:5]) or f"{len(tables)} tables clean"))
    return checks


def inspect_database(site: Site, codes: list[str]) -> DbState:
    from sqlalchemy import create_engine, text

    engine = create_engine(site.database_url)
    try:
        with engine.connect() as conn:
            def one(sql: str) -> int:
                return int(conn.execute(text(sql)).scalar_one())

            responses = one("SELECT count(*) FROM responses")
            answers = one("SELECT count(*) FROM answers")
            comments = one("SELECT count(*) FROM comments")
            orphans = one("SELECT count(*) FROM answers a LEFT JOIN responses r ON r.id = a.response_id "
                          "WHERE r.id IS NULL")
            bare = one("SELECT count(*) FROM responses r WHERE NOT EXISTS "
                       "(SELECT 1 FROM answers a WHERE a.response_id = r.id)")
            low, high = conn.execute(text(
                "SELECT coalesce(min(n), 0), coalesce(max(n), 0) FROM "
                "(SELECT count(*) AS n FROM answers GROUP BY response_id) AS per")).one()
            statuses: dict[str, int] = {row[0]: int(row[1]) for row in conn.execute(
                text("SELECT status, count(*) FROM survey_codes GROUP BY status"))}
            answered = {row[0] for row in conn.execute(
                text("SELECT code_hash FROM survey_codes WHERE status = 'answered'"))}
    finally:
        engine.dispose()
    if site.backend == "sqlite":
        problems = sqlite_integrity(site)
        integrity = [Check("SQLite integrity_check + foreign_key_check", not problems,
                           "; ".join(problems[:5]) or "ok")]
    else:
        orphan_fk = _postgres_orphans(site)
        integrity = [Check("PostgreSQL orphan rows (every foreign key)", not orphan_fk,
                           "; ".join(orphan_fk) or "none"), *postgres_integrity(site)]
    return DbState(responses=responses, answers=answers, comments=comments, statuses=statuses,
                   orphan_answers=orphans, responses_without_answers=bare,
                   answers_per_response=(int(low), int(high)), answered_hashes=answered, integrity=integrity)


_FOREIGN_KEYS = """
SELECT tc.table_name, kcu.column_name, ccu.table_name, ccu.column_name
FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name
WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'
"""


def _postgres_orphans(site: Site) -> list[str]:
    """Rows whose foreign key points at nothing (the constraints forbid it; this looks anyway)."""
    import psycopg

    from .server import _plain

    found = []
    with psycopg.connect(_plain(site.database_url), autocommit=True) as conn:
        for table, column, parent, key in conn.execute(_FOREIGN_KEYS).fetchall():
            row = conn.execute(
                f'SELECT count(*) FROM "{table}" c WHERE c."{column}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM "{parent}" p WHERE p."{key}" = c."{column}")').fetchone()
            n = row[0] if row else 0
            if n:
                found.append(f"{table}.{column} -> {parent}: {n}")
    return found


def evaluate(report: LoadReport, codes: list[str], site: Site) -> list[Check]:
    config, db, outcomes = report.config, report.db, report.run.outcomes
    n = len(codes)
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks.append(Check(name, bool(ok), detail))

    unfinished = [o.index for o in outcomes if not o.done]
    check("every code got an answer (303 or 409)", len(outcomes) == n and not unfinished,
          f"{len(outcomes)} of {n} tasks ran, {len(unfinished)} without an answer")
    fives = count_5xx(outcomes)
    check("no 5xx", fives == 0, f"{fives} answers 5xx")
    odd: dict[str, int] = {}
    for o in outcomes:
        for status in o.statuses:
            if status not in EXPECTED:
                odd[status] = odd.get(status, 0) + 1
    check("no unexpected HTTP answers", not odd, ", ".join(f"{k}: {v}" for k, v in sorted(odd.items())) or
          "only 200, 303 and 409")
    check(f"exactly {n} responses", db.responses == n, f"{db.responses} responses")
    answered = db.statuses.get("answered", 0)
    check("every code burned once (status answered)", answered == n and sum(db.statuses.values()) == n,
          ", ".join(f"{k}: {v}" for k, v in sorted(db.statuses.items())))
    check("responses == codes answered", db.responses == answered, f"{db.responses} vs {answered}")
    twice = [o.index for o in outcomes if o.stored > 1]
    hashes = code_hashes(site, [codes[o.index] for o in outcomes if o.stored])
    lost = [code for code, hashed in hashes.items() if hashed not in db.answered_hashes]
    acknowledged = sum(1 for o in outcomes if o.stored)
    check("every 303 is in the database", not lost and not twice,
          f"{acknowledged} codes acknowledged with 303; {len(lost)} of them not answered in the database; "
          f"{len(twice)} codes acknowledged twice")
    pairs = [o for o in outcomes if o.kind == "pair" and not o.interrupted]
    bad_pairs = [o.index for o in pairs if o.count("P303") != 1 or o.count("P409") != 1]
    check("racing duplicates: one 303 and one 409 each", not bad_pairs,
          f"{len(pairs)} pairs raced, {len(bad_pairs)} wrong"
          + (f"; {config.duplicates - len(pairs)} interrupted by the kill" if config.crash else ""))
    check("no answers without their response row", db.orphan_answers == 0, f"{db.orphan_answers} orphans")
    low, high = db.answers_per_response
    check("every response has all its answers, and its comment", db.responses_without_answers == 0
          and low == high and db.comments == db.responses,
          f"{low}..{high} answers per response, {db.responses_without_answers} without any; "
          f"{db.comments} comments")
    checks.extend(db.integrity)
    check("server log: no error, traceback or worker timeout", not report.log_problems,
          f"{len(report.log_problems)} lines" + (f", first: `{report.log_problems[0][:200]}`"
                                                 if report.log_problems else ""))
    errors = sum(o.errors for o in outcomes)
    if not config.crash:
        check("no broken connections", errors == 0, f"{errors} connection errors")
        check("every code acknowledged with a 303 exactly once", acknowledged == n, f"{acknowledged} of {n}")
    else:
        crash = report.crash
        check("the server was killed mid-load and came back",
              crash is not None and 0 < crash.at_completed < n and len(crash.killed) >= 2,
              "" if crash is None else f"at {crash.at_completed}/{n}, {len(crash.killed)} processes, "
              f"down {crash.down_seconds:.1f} s")
        if crash is not None and site.backend == "sqlite":
            check("SQLite intact right after the kill (before the restart)", not crash.integrity_after_kill,
                  "; ".join(crash.integrity_after_kill[:5]) or "ok")
        unacked = [o for o in outcomes if not o.stored]
        unexplained = [o.index for o in unacked if not o.unacknowledged]
        cut = sum(o.unacknowledged for o in outcomes)
        check("a code answered without a 303 had its POST cut by the kill", not unexplained,
              f"{len(unacked)} codes stored whose 303 was lost ({len(unexplained)} without a cut POST); "
              f"{cut} POSTs cut; {errors} connection errors in all")
    return checks
