"""Completed surveys per second under ``sipas serve``, against a hello-world route on the same server.

Issue 3: concurrent clients (default 50) each run complete surveys -- GET /s/<code> (the form,
a CSRF token and a session cookie), POST the answers with the token, follow nothing (303) -- on
fresh single-use codes; in the same run the same clients hammer ``GET /healthz`` (a bare
``{"status": "ok"}`` route of the same app and server), the baseline. Hello-world and survey
phases alternate in every repeat and the ratio is taken per repeat, then the median, so load
from other processes on a shared machine hits both sides. Goal: surveys/s / hello requests/s
>= 0.25, and p95 per survey at 50 clients recorded.

Clients are threads in several processes (keep-alive connections, http.client); each process
measures its CPU time, reported next to the server's, so the table says whether the client
side took the machine.

    python benchmarks/survey_throughput.py [--clients 50] [--seconds 10] [--repeats 3]
        [--backend sqlite|postgres] [--postgres-url URL] [--workers 2] [--threads 8]

Exit status 1 when the median ratio is below --goal or a survey fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.load.client import ClientRun, run_clients, survey_answers  # noqa: E402
from benchmarks.load.harness import count_5xx, machine_description, percentile  # noqa: E402
from benchmarks.load.run import DEFAULT_POSTGRES  # noqa: E402
from benchmarks.load.server import (  # noqa: E402
    HOST,
    Server,
    cpu_delta,
    cpu_seconds,
    database_pids,
    fresh_site,
    machine_busy,
    prepare,
)


@dataclass
class Phase:
    kind: str  # "hello" or "survey"
    run: ClientRun
    completed: int  # hello: 200 {"status": "ok"}; survey: 303
    failed: int
    server_cpu: float
    database_cpu: float
    machine_cpu: float

    @property
    def rate(self) -> float:
        return self.completed / self.run.wall

    def latency(self, q: float) -> float:
        return percentile(sorted(o.latency for o in self.run.outcomes if o.done), q)


def run_phase(server: Server, site, *, kind: str, clients: int, processes: int, seconds: float,
              codes: list[str], answers: dict[str, str]) -> Phase:
    members = server.members() + database_pids(site)
    before, (busy_before, _) = cpu_seconds(members), machine_busy()
    tasks = [(i, "survey", code) for i, code in enumerate(codes)] if kind == "survey" else None
    run = run_clients(HOST, site.port, clients=clients, processes=processes, answers=answers, tasks=tasks,
                      seconds=seconds, deadline=seconds + 120)
    after, (busy_after, _) = cpu_seconds(server.members() + database_pids(site)), machine_busy()
    db_pids = set(database_pids(site))
    server_cpu = cpu_delta({p: s for p, s in before.items() if p not in db_pids},
                           {p: s for p, s in after.items() if p not in db_pids})
    database_cpu = cpu_delta({p: s for p, s in before.items() if p in db_pids},
                             {p: s for p, s in after.items() if p in db_pids})
    if kind == "survey":
        ok = sum(1 for o in run.outcomes if o.statuses == ["G200", "P303"])
    else:
        ok = sum(1 for o in run.outcomes if o.done)
    return Phase(kind, run, ok, len(run.outcomes) - ok, server_cpu, database_cpu, busy_after - busy_before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3, help="seconds of each kind before measuring")
    parser.add_argument("--codes", type=int, default=0, help="codes to issue (0: enough for 500 surveys/s)")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--workers", type=int, default=2, help="sipas serve --workers")
    parser.add_argument("--threads", type=int, default=8, help="sipas serve --threads")
    parser.add_argument("--client-processes", type=int, default=0, help="0: one per 12 clients, 2 to 8")
    parser.add_argument("--goal", type=float, default=0.25)
    args = parser.parse_args(argv)
    processes = args.client_processes or max(2, min(8, -(-args.clients // 12)))
    codes_needed = args.codes or int(500 * (args.seconds * args.repeats + args.warmup)) + 500
    answers = survey_answers()
    phases: list[tuple[Phase, Phase]] = []
    with tempfile.TemporaryDirectory(prefix="sipas-throughput-") as tmp, \
            fresh_site(args.backend, Path(tmp), args.postgres_url) as site:
        codes = prepare(site, codes_needed)
        with Server(site, workers=args.workers, threads=args.threads) as server:
            server.start()
            fresh = list(codes)  # not used yet (clients take them in no particular order)

            def phase(kind: str, seconds: float) -> Phase:
                nonlocal fresh
                result = run_phase(server, site, kind=kind, clients=args.clients, processes=processes,
                                   seconds=seconds, codes=fresh, answers=answers)
                if kind == "survey":
                    taken = {o.index for o in result.run.outcomes}
                    fresh = [code for i, code in enumerate(fresh) if i not in taken]
                    if not fresh:
                        print("warning: the codes ran out during a survey phase; use --codes", file=sys.stderr)
                return result

            if args.warmup:
                phase("hello", args.warmup)
                phase("survey", args.warmup)
            for _ in range(args.repeats):
                phases.append((phase("hello", args.seconds), phase("survey", args.seconds)))
            server.stop()
    print(report(args, processes, phases))
    ratio = statistics.median(s.rate / h.rate for h, s in phases)
    failed = sum(s.failed + count_5xx(s.run.outcomes) for _, s in phases)
    return 0 if ratio >= args.goal and not failed else 1


def report(args: argparse.Namespace, processes: int, phases: list[tuple[Phase, Phase]]) -> str:
    def cores(seconds: float, phase: Phase) -> str:
        return f"{seconds / phase.run.wall:.2f}"

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Survey throughput, {when}, {args.backend}, {args.clients} concurrent clients ({processes} client processes), "
        f"`sipas serve --workers {args.workers} --threads {args.threads}`, {args.seconds:g} s phases; "
        f"{machine_description()}.",
        "",
        "| repeat | hello req/s | hello p50 / p95 | surveys/s | survey p50 / p95 | ratio | failed "
        "| client CPU (hello / survey) | server CPU (hello / survey) | server CPU ms per survey |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, (hello, survey) in enumerate(phases, 1):
        lines.append(
            f"| {n} | {hello.rate:.0f} | {hello.latency(.5) * 1000:.0f} / {hello.latency(.95) * 1000:.0f} ms "
            f"| {survey.rate:.1f} | {survey.latency(.5) * 1000:.0f} / {survey.latency(.95) * 1000:.0f} ms "
            f"| {survey.rate / hello.rate:.3f} | {hello.failed + survey.failed} "
            f"| {cores(hello.run.client_cpu, hello)} / {cores(survey.run.client_cpu, survey)} "
            f"| {cores(hello.server_cpu, hello)} / {cores(survey.server_cpu, survey)} "
            f"| {1000 * survey.server_cpu / max(1, survey.completed):.1f} |")
    med = statistics.median

    def ms(values) -> str:
        return f"{med(values) * 1000:.0f}"

    lines.append(
        f"| **median** | {med(h.rate for h, _ in phases):.0f} "
        f"| {ms(h.latency(.5) for h, _ in phases)} / {ms(h.latency(.95) for h, _ in phases)} ms "
        f"| {med(s.rate for _, s in phases):.1f} "
        f"| {ms(s.latency(.5) for _, s in phases)} / {ms(s.latency(.95) for _, s in phases)} ms "
        f"| **{med(s.rate / h.rate for h, s in phases):.3f}** | | | | |")
    ratio = med(s.rate / h.rate for h, s in phases)
    busy = med(s.machine_cpu / s.run.wall for _, s in phases)
    db = med(s.database_cpu / s.run.wall for _, s in phases)
    lines += [
        "",
        f"Goal: ratio >= {args.goal} -- {'met' if ratio >= args.goal else 'NOT met'}. "
        f"CPU columns are cores busy on average (of {os.cpu_count()}); whole machine during the "
        f"survey phases {busy:.2f} cores (other jobs included)"
        + (f", PostgreSQL backends {db:.2f}" if args.backend == "postgres" else "") + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
