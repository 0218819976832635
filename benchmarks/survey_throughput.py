"""Citizens' surveys under ``sipas serve``: latency at a province's peak, and the ceiling.

Issue 19 restated the goal for real load. A survey is what a citizen's phone does with the
stepped form (survey_app/public/steps.py), on a fresh single-use code: GET /s/<code> (step 1
and its token), then one POST per step, 8 for sipas-2023: seven go=next, each carrying the
answers so far in the page's hidden fields and answered 200 with the next step's page, then
go=submit on the last step, which stores the response (303). benchmarks/load/client.py.

(a) **Paced**: 20 surveys/s (a province's peak; a nation averages about 3/s) for 30 s, with
    10 and with 50 clients. Survey i is scheduled at i / 20 s; a client waits for its slot,
    and the latency is counted from the scheduled start, so a slow server cannot hide its
    queue. Goal: p95 per survey < 100 ms, no failed survey.
(b) **Saturated**: 50 clients back to back. Goal: completed surveys/s >= 10 x the peak (200/s).
    Each repeat also measures ``GET /healthz`` (a bare route of the same app and server) on
    the same clients, alternating with the surveys, and reports surveys/s as a ratio to it
    (the machine is shared and noisy; the ratio is what compares across runs).

Clients are threads in several processes (keep-alive connections, http.client); each process
measures its CPU time, reported next to the server's.

    python benchmarks/survey_throughput.py [--backend sqlite|postgres] [--postgres-url URL]
        [--pace 20] [--paced-seconds 30] [--paced-clients 10 50]
        [--clients 50] [--seconds 10] [--repeats 3] [--workers 2] [--threads 8]

Exit status 1 when a goal is missed or a survey fails.
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

from benchmarks.load.client import ClientRun, Steps, run_clients, survey_answers  # noqa: E402
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

    def request_ms(self, status: str) -> float:
        """Median milliseconds of the survey requests that answered ``status``: "G200" (the
        first step), "P200" (a step's POST, go=next), "P303" (the submit)."""
        # not strict: a survey that ended on an exception has its "E..." status last, without a timing
        times = [t for o in self.run.outcomes for s, t in zip(o.statuses, o.timings, strict=False) if s == status]
        return 1000 * statistics.median(times) if times else 0.0


def run_phase(server: Server, site, *, kind: str, clients: int, processes: int, seconds: float,
              codes: list[str], answers: Steps, pace: float | None = None) -> Phase:
    members = server.members() + database_pids(site)
    before, (busy_before, _) = cpu_seconds(members), machine_busy()
    tasks = [(i, "survey", code) for i, code in enumerate(codes)] if kind == "survey" else None
    if pace is not None:
        tasks = tasks[:int(pace * seconds)] if tasks else tasks
    run = run_clients(HOST, site.port, clients=clients, processes=processes, answers=answers, tasks=tasks,
                      seconds=None if pace else seconds, deadline=seconds + 120, pace=pace)
    after, (busy_after, _) = cpu_seconds(server.members() + database_pids(site)), machine_busy()
    db_pids = set(database_pids(site))
    server_cpu = cpu_delta({p: s for p, s in before.items() if p not in db_pids},
                           {p: s for p, s in after.items() if p not in db_pids})
    database_cpu = cpu_delta({p: s for p, s in before.items() if p in db_pids},
                             {p: s for p, s in after.items() if p in db_pids})
    if kind == "survey":
        walked = ["G200", *["P200"] * (len(answers) - 1), "P303"]  # every step, then the submit
        ok = sum(1 for o in run.outcomes if o.statuses == walked)
    else:
        ok = sum(1 for o in run.outcomes if o.done)
    return Phase(kind, run, ok, len(run.outcomes) - ok, server_cpu, database_cpu, busy_after - busy_before)


def _processes(clients: int, chosen: int) -> int:
    return chosen or max(2, min(8, -(-clients // 12)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pace", type=float, default=20, help="surveys/s of the paced runs (a province's peak)")
    parser.add_argument("--paced-seconds", type=float, default=30)
    parser.add_argument("--paced-clients", type=int, nargs="*", default=[10, 50])
    parser.add_argument("--p95-goal", type=float, default=0.100, help="seconds, paced runs")
    parser.add_argument("--clients", type=int, default=50, help="saturated runs")
    parser.add_argument("--seconds", type=float, default=10, help="length of each saturated phase")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3, help="seconds of each kind before measuring")
    parser.add_argument("--ceiling-goal", type=float, default=0, help="surveys/s saturated (0: 10 x --pace)")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--workers", type=int, default=2, help="sipas serve --workers")
    parser.add_argument("--threads", type=int, default=8, help="sipas serve --threads")
    parser.add_argument("--client-processes", type=int, default=0, help="0: one per 12 clients, 2 to 8")
    args = parser.parse_args(argv)
    args.ceiling_goal = args.ceiling_goal or 10 * args.pace
    paced_total = int(args.pace * args.paced_seconds) * len(args.paced_clients)
    codes_needed = paced_total + int(500 * (args.seconds * args.repeats + args.warmup)) + 500
    answers = survey_answers()
    paced: list[tuple[int, Phase]] = []
    phases: list[tuple[Phase, Phase]] = []
    with tempfile.TemporaryDirectory(prefix="sipas-throughput-") as tmp, \
            fresh_site(args.backend, Path(tmp), args.postgres_url) as site:
        codes = prepare(site, codes_needed)
        with Server(site, workers=args.workers, threads=args.threads) as server:
            server.start()
            fresh = list(codes)  # not used yet (clients take them in no particular order)

            def phase(kind: str, seconds: float, clients: int, pace: float | None = None) -> Phase:
                nonlocal fresh
                result = run_phase(server, site, kind=kind, clients=clients,
                                   processes=_processes(clients, args.client_processes),
                                   seconds=seconds, codes=fresh, answers=answers, pace=pace)
                if kind == "survey":
                    taken = {o.index for o in result.run.outcomes}
                    fresh = [code for i, code in enumerate(fresh) if i not in taken]
                    if not fresh:
                        print("warning: the codes ran out during a survey phase", file=sys.stderr)
                return result

            if args.warmup:
                phase("hello", args.warmup, args.clients)
                phase("survey", args.warmup, args.clients)
            for clients in args.paced_clients:
                paced.append((clients, phase("survey", args.paced_seconds, clients, pace=args.pace)))
            for _ in range(args.repeats):
                phases.append((phase("hello", args.seconds, args.clients), phase("survey", args.seconds, args.clients)))
            server.stop()
    print(report(args, paced, phases))
    return 0 if goals(args, paced, phases)[0] else 1


def goals(args: argparse.Namespace, paced: list[tuple[int, Phase]],
          phases: list[tuple[Phase, Phase]]) -> tuple[bool, list[str]]:
    """Whether every goal is met, and one line per goal."""
    lines, ok = [], True
    for clients, run in paced:
        met = run.latency(.95) < args.p95_goal and not run.failed and not count_5xx(run.run.outcomes)
        ok &= met
        lines.append(f"Paced {args.pace:g}/s, {clients} clients: p95 {run.latency(.95) * 1000:.0f} ms "
                     f"(goal < {args.p95_goal * 1000:.0f} ms), {run.completed} of {len(run.run.outcomes)} "
                     f"completed -- {'met' if met else 'NOT met'}.")
    if phases:
        rate = statistics.median(s.rate for _, s in phases)
        failed = sum(s.failed + count_5xx(s.run.outcomes) for _, s in phases)
        met = rate >= args.ceiling_goal and not failed
        ok &= met
        lines.append(f"Saturated, {args.clients} clients: {rate:.0f} surveys/s (goal >= {args.ceiling_goal:.0f}), "
                     f"{failed} failed -- {'met' if met else 'NOT met'}; hello-world ratio "
                     f"{statistics.median(s.rate / h.rate for h, s in phases):.3f}.")
    return ok, lines


def report(args: argparse.Namespace, paced: list[tuple[int, Phase]], phases: list[tuple[Phase, Phase]]) -> str:
    def cores(seconds: float, phase: Phase) -> str:
        return f"{seconds / phase.run.wall:.2f}"

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Surveys, {when}, {args.backend}, `sipas serve --workers {args.workers} --threads {args.threads}`; "
        f"{machine_description()}.",
        "",
        f"Paced at {args.pace:g} surveys/s for {args.paced_seconds:g} s (latency from each survey's scheduled start):",
        "",
        "| clients | surveys | completed | failed | p50 | p95 | max | GET / step POST / submit, p50 "
        "| server CPU ms per survey |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for clients, run in paced:
        lines.append(f"| {clients} | {len(run.run.outcomes)} | {run.completed} | {run.failed} "
                     f"| {run.latency(.5) * 1000:.0f} ms | {run.latency(.95) * 1000:.0f} ms "
                     f"| {run.latency(1.0) * 1000:.0f} ms "
                     f"| {run.request_ms('G200'):.1f} / {run.request_ms('P200'):.1f} / {run.request_ms('P303'):.1f} ms "
                     f"| {1000 * run.server_cpu / max(1, run.completed):.1f} |")
    lines += [
        "",
        f"Saturated: {args.clients} clients back to back, {args.seconds:g} s phases, hello-world and surveys "
        "alternating:",
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
    busy = med(s.machine_cpu / s.run.wall for _, s in phases)
    db = med(s.database_cpu / s.run.wall for _, s in phases)
    lines += [
        "",
        f"CPU columns are cores busy on average (of {os.cpu_count()}); whole machine during the saturated "
        f"survey phases {busy:.2f} cores (other jobs included)"
        + (f", PostgreSQL backends {db:.2f}" if args.backend == "postgres" else "") + ".",
        "",
        *goals(args, paced, phases)[1],
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
