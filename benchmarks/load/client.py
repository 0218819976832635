"""Clients that behave like citizens' phones: GET the form, walk its steps, submit, follow nothing.

A survey is what a phone does with the stepped form (survey_app/public/steps.py): ``GET
/s/<code>``, then one POST per step. Each step's POST carries what its page's form holds (the
token, the hidden fields with the earlier steps' answers, the empty honeypot) plus the answers
of that step and ``go=next``, and answers 200 with the next step's page, whose form the next
POST takes; the last step's POST says ``go=submit`` and is the only one that can store (303).

Clients run as threads in several forked processes (the GIL of one process would otherwise
be the bottleneck), on ``http.client`` with keep-alive (light: the client shares two cores
with the server). Each process reports its own CPU time so the report can say how much of the
machine the clients took.

A survey that loses its connection (the server was killed) is retried from the GET until a
deadline: a 409 then means an earlier, unacknowledged submit was stored.
"""

from __future__ import annotations

import html
import http.client
import multiprocessing
import queue
import re
import resource
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

# Anything that means "the connection broke", as opposed to an HTTP answer.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)
_CSRF = re.compile(rb'name="csrf_token"[^>]*?value="([^"]+)"')
# The form's other hidden fields (lang, step, the other steps' answers), as the template writes them.
_HIDDEN = re.compile(rb'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}

Steps = tuple[dict[str, str], ...]  # the answers a person gives on each step of the form, in order


def survey_answers() -> Steps:
    """A complete, valid sipas-2023 submission (as tests.support.full_answers), split into the
    form's steps: what a person fills in on each screen."""
    import questionnaires
    from survey_app.public.steps import steps

    q = questionnaires.load("sipas-2023")
    data = {code: "4" for code in q.answer_columns}
    for item in q.expectations:
        data[item.code] = "2"
    data.update(feedback_given="co", respondent_type="ca_nhan", gender="nu", age_group="35-49",
                comment="Cán bộ nhiệt tình.")
    return tuple({name: data[name] for name in step.fields if name in data} for step in steps(q))


class Http:
    """One keep-alive connection, reopened after the server closes or breaks it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.reused = False  # the open connection has already carried a request
        self.stale_retries = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn, self.reused = None, False

    def open(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.connect()
            self.reused = False
        return self.conn

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> None:
        self.open().request(method, path, body=body, headers=headers or {})

    def receive(self) -> tuple[int, http.client.HTTPResponse, bytes]:
        assert self.conn is not None
        reply = self.conn.getresponse()
        data = reply.read()
        self.reused = True
        if reply.will_close:
            self.close()
        return reply.status, reply, data

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPResponse, bytes]:
        """A GET; retried once on a fresh connection when a kept-alive one turns out closed
        by the server (what browsers do for idempotent requests)."""
        was_reused = self.reused and self.conn is not None
        try:
            self.send("GET", path, headers=headers)
            return self.receive()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not was_reused:
                raise
            self.stale_retries += 1
            self.send("GET", path, headers=headers)
            return self.receive()


def _cookies(reply: http.client.HTTPResponse) -> str:
    return "; ".join(value.split(";", 1)[0] for value in reply.headers.get_all("Set-Cookie") or [])


def _page_form(body: bytes) -> tuple[int, dict[str, str]]:
    """The step a survey page shows, and what its form sends besides that step's answers: the
    token, the hidden fields and the empty honeypot."""
    match = _CSRF.search(body)
    if not match:
        raise ValueError("no CSRF token in the form")
    form = {name.decode(): html.unescape(value.decode()) for name, value in _HIDDEN.findall(body)}
    form.update(csrf_token=match.group(1).decode(), website="")
    return int(form["step"]), form


@dataclass
class Outcome:
    """What one task (a survey, a racing pair, or a hello-world request) saw."""

    index: int
    kind: str  # "survey", "pair" or "hello"
    statuses: list[str] = field(default_factory=list)  # "G200", "P200", "P303", ...: every HTTP answer, in order
    timings: list[float] = field(default_factory=list)  # seconds each of those took, request to answer
    latency: float = 0.0  # first byte sent .. last byte received, retries included
    errors: int = 0  # broken or refused connections
    unacknowledged: int = 0  # submits (go=submit) sent whose answer never came
    interrupted: bool = False  # a racing pair that lost its connection (finished as a plain survey)
    error_kinds: list[str] = field(default_factory=list)  # exception names of the broken connections
    done: bool = False  # ended with an answer (303 or 409), not by the deadline
    end: float = 0.0

    @property
    def stored(self) -> int:
        return self.statuses.count("P303")

    def count(self, prefix: str) -> int:
        return sum(1 for status in self.statuses if status.startswith(prefix))


class _Survey:
    """One survey on one connection: its requests, their statuses and timings in ``out``."""

    def __init__(self, http: Http, path: str, out: Outcome) -> None:
        self.http, self.path, self.out = http, path, out
        self.headers = dict(_FORM)

    def get(self) -> tuple[int, bytes]:
        started = time.monotonic()
        status, reply, body = self.http.get(self.path)
        cookies = _cookies(reply)
        if cookies:
            self.headers["Cookie"] = cookies
        self.log("G", status, started)
        return status, body

    def post(self, form: dict[str, str]) -> tuple[int, bytes]:
        started = time.monotonic()
        self.http.send("POST", self.path, urllib.parse.urlencode(form).encode(), self.headers)
        status, _, body = self.http.receive()
        self.log("P", status, started)
        return status, body

    def log(self, method: str, status: int, started: float) -> None:
        self.out.statuses.append(f"{method}{status}")
        self.out.timings.append(time.monotonic() - started)

    def walk(self, steps: Steps) -> dict[str, str] | bool:
        """GET the form and go through every step but the last with ``go=next``, each POST
        taking its form from the page before; the last step's form, filled in and ready for
        ``go=submit``. Or, when a page is not the next step, whether the code has its answer
        (409: answered already, say by an earlier unacknowledged submit). These POSTs store
        nothing: one cut by a broken connection is simply retried from the GET."""
        status, body = self.get()
        for expected in range(len(steps)):
            if status != 200:
                return status == 409
            step, form = _page_form(body)
            if step != expected:
                raise ValueError(f"the page shows step {step}, not {expected}")
            form.update(steps[step])
            if step == len(steps) - 1:
                return {**form, "go": "submit"}
            status, body = self.post({**form, "go": "next"})
        raise ValueError("no steps to walk")


def _attempt_survey(http: Http, path: str, steps: Steps, out: Outcome) -> bool:
    """Walk the form's steps and submit; True once the code has an answer (303 or 409)."""
    survey = _Survey(http, path, out)
    form = survey.walk(steps)
    if isinstance(form, bool):
        return form
    try:
        status, _ = survey.post(form)
    except CONNECTION_ERRORS:
        out.unacknowledged += 1
        raise
    return status in (303, 409)


def _attempt_pair(http: Http, path: str, steps: Steps, out: Outcome) -> bool:
    """A double tap: the steps walked once, then the last one submitted twice at the same
    moment, on its own connection and on a second one opened for it (a browser retrying in
    parallel). gunicorn's gthread worker queues a new connection for its threads as soon as
    it accepts it, so both submits wait in the same queues and are handled concurrently."""
    survey = _Survey(http, path, out)
    form = survey.walk(steps)
    if isinstance(form, bool):
        return form
    payload = urllib.parse.urlencode(form).encode()
    other = Http(http.host, http.port, http.timeout)
    try:
        other.open()
        sent = 0
        try:
            started = time.monotonic()
            for side in (http, other):
                sent += 1  # counted before: a send that fails may still have delivered the request
                side.send("POST", path, payload, survey.headers)
            for side in (http, other):
                status, _, _ = side.receive()
                sent -= 1
                survey.log("P", status, started)
        except CONNECTION_ERRORS:
            out.unacknowledged += sent
            raise
    finally:
        other.close()
    return True


def run_task(http: Http, index: int, kind: str, code: str, steps: Steps, deadline: float) -> Outcome:
    out = Outcome(index, kind)
    started = time.monotonic()
    path = f"/s/{code}"
    attempt = _attempt_pair if kind == "pair" else _attempt_survey
    backoff = 0.05
    while True:
        try:
            out.done = attempt(http, path, steps, out)
            break
        except CONNECTION_ERRORS as exc:
            out.errors += 1
            out.error_kinds.append(type(exc).__name__)
            http.close()
            if kind == "pair":
                out.interrupted, attempt = True, _attempt_survey
            if time.monotonic() + backoff > deadline:
                break
            time.sleep(backoff)
            backoff = min(backoff * 2, 0.5)
        except Exception as exc:  # a page without its form, say: report it, keep the client alive
            out.statuses.append(f"E{type(exc).__name__}")
            http.close()
            break
    out.end = time.monotonic()
    out.latency = out.end - started
    return out


def hello(http: Http, index: int) -> Outcome:
    out = Outcome(index, "hello")
    started = time.monotonic()
    try:
        status, _, body = http.get("/healthz")
        out.statuses.append(f"G{status}")
        out.done = status == 200 and b'"ok"' in body
    except CONNECTION_ERRORS:
        out.errors += 1
        http.close()
    out.end = time.monotonic()
    out.latency = out.end - started
    return out


@dataclass
class ClientRun:
    outcomes: list[Outcome]
    started: float
    ended: float
    client_cpu: float  # CPU seconds of all client processes
    processes: int
    threads: int
    stale_retries: int

    @property
    def wall(self) -> float:
        return self.ended - self.started


def _client_process(slot: int, tasks: list[tuple[int, str, str]], threads: int, host: str, port: int,
                    answers: Steps, hello_only: bool, seconds: float | None, deadline_in: float,
                    timeout: float, barrier, progress, results, pace: float | None, origin) -> None:
    lock = threading.Lock()
    pending = list(reversed(tasks))
    done: list[Outcome] = []
    stale = [0]
    barrier.wait()
    started = time.monotonic()
    schedule_origin = origin.value
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    stop_at = started + seconds if seconds is not None else float("inf")
    deadline = started + deadline_in

    def worker(number: int) -> None:
        http = Http(host, port, timeout)
        mine: list[Outcome] = []
        counter = number
        try:
            while time.monotonic() < min(stop_at, deadline):
                if hello_only:
                    mine.append(hello(http, slot * 1_000_000_000 + counter))
                    counter += threads
                else:
                    with lock:
                        if not pending:
                            break
                        index, kind, code = pending.pop()
                    if pace is None:
                        mine.append(run_task(http, index, kind, code, answers, deadline))
                    else:  # task i starts at origin + i / pace; a late start counts in its latency
                        scheduled = schedule_origin + index / pace
                        time.sleep(max(0.0, scheduled - time.monotonic()))
                        outcome = run_task(http, index, kind, code, answers, deadline)
                        outcome.latency = outcome.end - scheduled
                        mine.append(outcome)
                    with progress.get_lock():
                        progress.value += 1
        finally:
            http.close()
            with lock:
                done.extend(mine)
                stale[0] += http.stale_retries

    pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    ended = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    results.put((slot, done, started, ended, used, stale[0]))


def run_clients(host: str, port: int, *, clients: int, processes: int, answers: Steps = (),
                tasks: list[tuple[int, str, str]] | None = None, seconds: float | None = None,
                deadline: float = 600, timeout: float = 60,
                on_tick: Callable[[int], None] | None = None, pace: float | None = None) -> ClientRun:
    """Run ``tasks`` (index, "survey" | "pair", code) with ``clients`` concurrent clients, or
    hello-world requests when ``tasks`` is None, for ``seconds`` or until the tasks run out;
    ``answers`` holds each step's answers (``survey_answers()``).

    ``deadline`` (seconds) bounds everything, retries included. With ``pace`` (tasks per
    second, all clients together), task ``i`` is scheduled ``i / pace`` seconds after the
    start: a client waits for it, and the task's latency is counted from its scheduled start,
    so a slow server cannot hide its queue. ``on_tick(completed)`` is called in this process
    about twenty times a second (the crash test kills the server there: at five a second a
    fast server finished the load between two ticks).
    """
    processes = max(1, min(processes, clients))
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(processes + 1, timeout=120)
    progress = ctx.Value("q", 0)
    results = ctx.Queue()
    origin = ctx.Value("d", 0.0)
    hello_only = tasks is None
    if pace is not None and (hello_only or pace <= 0):
        raise ValueError("pace: a positive rate of tasks, for survey tasks only")
    if hello_only and seconds is None:
        raise ValueError("seconds: hello-world clients run for a fixed time")
    shares = [clients // processes + (1 if p < clients % processes else 0) for p in range(processes)]
    chunks: list[list[tuple[int, str, str]]] = [[] for _ in range(processes)]
    for position, task in enumerate(tasks or []):
        chunks[position % processes].append(task)
    procs = [
        ctx.Process(target=_client_process, daemon=True, args=(
            slot, chunks[slot], shares[slot], host, port, answers, hello_only, seconds, deadline, timeout,
            barrier, progress, results, pace, origin))
        for slot in range(processes)
    ]
    for proc in procs:
        proc.start()
    gathered: list[tuple[int, list[Outcome], float, float, float, int]] = []
    try:
        origin.value = time.monotonic() + 0.2  # the schedule's zero, shortly after every client is ready
        barrier.wait()
        hard_stop = time.monotonic() + deadline + timeout + 30
        while len(gathered) < processes:
            if on_tick is not None:
                on_tick(progress.value)
            try:
                gathered.append(results.get(timeout=0.05))
            except queue.Empty:
                if time.monotonic() > hard_stop:
                    raise TimeoutError("clients did not finish by the deadline") from None
                if not any(proc.is_alive() for proc in procs) and results.empty():
                    raise RuntimeError("a client process died without reporting") from None
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    outcomes = sorted((o for item in gathered for o in item[1]), key=lambda o: o.index)
    return ClientRun(
        outcomes=outcomes, started=min(g[2] for g in gathered), ended=max(g[3] for g in gathered),
        client_cpu=sum(g[4] for g in gathered), processes=processes, threads=clients,
        stale_retries=sum(g[5] for g in gathered),
    )
