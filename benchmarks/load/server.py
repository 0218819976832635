"""A real ``sipas serve`` (gunicorn master + gthread workers) on a fresh database, on loopback.

Everything here cleans up after itself: the server runs in its own process group, which is
stopped (or killed) as a whole, and a PostgreSQL database made for a run is dropped after it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"  # loopback only, always
UNIT = "BENCH"
SIPAS = [sys.executable, "-c", "from survey_app.cli import main; main()"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _plain(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as libpq understands it."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Site:
    """One data directory and database, and the environment every ``sipas`` process gets."""

    backend: str
    workdir: Path
    port: int
    database_url: str  # SQLAlchemy URL
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    settings: dict[str, str] = field(default_factory=dict)  # further SIPAS_* settings for the server

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def app_config(self) -> dict[str, str]:
        return {"SIPAS_DATA_DIR": str(self.workdir / "data"), "SIPAS_DATABASE_URL": self.database_url,
                "SIPAS_PUBLIC_URL": self.base_url, "SIPAS_SECRET_KEY": self.secret_key,
                "SIPAS_ALLOW_LOCAL_PUBLIC_URL": "true",  # the load clients run on this machine
                "SIPAS_SEAL_HOUR": "-1"}  # no nightly rewrite in the middle of a measurement

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")}
        path = [str(REPO_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env.update(PYTHONPATH=os.pathsep.join(path), **self.settings, **self.app_config())
        return env


@contextlib.contextmanager
def fresh_site(backend: str, workdir: Path, admin_url: str | None = None) -> Iterator[Site]:
    """A new SQLite file, or a new PostgreSQL database ``sipas_bench_*`` dropped afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    if backend == "sqlite":
        yield Site(backend, workdir, port, f"sqlite:///{workdir / 'data' / 'sipas.sqlite'}")
        return
    if backend != "postgres":
        raise ValueError(f"backend: '{backend}' is not sqlite or postgres")
    if not admin_url:
        raise ValueError("admin_url: a PostgreSQL URL is needed for the postgres backend")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"sipas_bench_{secrets.token_hex(6)}"
    with psycopg.connect(_plain(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        yield Site(backend, workdir, port, url)
    finally:
        with psycopg.connect(_plain(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(site: Site, count: int) -> list[str]:
    """Create the schema, a unit and ``count`` single-use codes; return the codes.

    The services `sipas init`, `sipas unit add` and `sipas codes issue` call, in this process
    (each CLI start imports pandas and scipy for the analysis commands: seconds each).
    """
    from survey_app import create_app
    from survey_app.commands.server import initialise
    from survey_app.extensions import db
    from survey_app.services import catalog, codes

    app = create_app(site.app_config())
    made: list[str] = []
    with app.app_context():
        try:
            initialise()
            catalog.add_unit(UNIT, "Đơn vị đo tải")
            unit = catalog.unit_by_code(UNIT)
            while len(made) < count:
                _, issued = codes.issue(unit=unit, procedure=None, questionnaire="sipas-2023", kind="single",
                                        count=min(codes.MAX_BATCH, count - len(made)), actor="benchmark",
                                        source="cli")
                made.extend(item.code for item in issued)
        finally:
            db.session.remove()
            db.engine.dispose()
    return made


def _stat(pid: int) -> tuple[str, int, int, float] | None:
    """(state, ppid, pgrp, cpu seconds) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat and stat[2] == pgid and stat[0] != "Z":
                members.append(int(entry))
    return sorted(members)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    return {pid: stat[3] for pid in pids if (stat := _stat(pid))}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # guest time is already counted in user
    idle = values[3] + values[4]
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


class Server:
    """``sipas serve`` in its own process group: start, wait until it answers, kill -9, stop."""

    def __init__(self, site: Site, *, workers: int = 2, threads: int = 8) -> None:
        self.site, self.workers, self.threads = site, workers, threads
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = site.workdir / "server.log"
        self.starts = 0

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # start_new_session: the master leads its own group

    def start(self, timeout: float = 90) -> float:
        """Start and wait for ``GET /healthz``; returns the seconds it took."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("the server is already running")
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [*SIPAS, "serve", "--host", HOST, "--port", str(self.site.port),
                 "--workers", str(self.workers), "--threads", str(self.threads)],
                env=self.site.env(), cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )
        self.starts += 1
        try:
            self._wait_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        return time.monotonic() - started

    def _wait_ready(self, deadline: float) -> None:
        url = f"{self.site.base_url}/healthz"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"sipas serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    # Every worker must be up, not just the first one.
                    if (reply.status == 200 and json.loads(reply.read()) == {"status": "ok"}
                            and len(self.members()) >= self.workers + 1):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"sipas serve did not answer on {url} in time:\n{self.log_tail()}")

    def members(self) -> list[int]:
        return group_members(self.pgid) if self.proc is not None else []

    def kill9(self, timeout: float = 30) -> list[int]:
        """SIGKILL the master and every worker at once; wait until all are gone."""
        pids = self.members()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while group_members(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if group_members(self.pgid):
            raise RuntimeError(f"processes of group {self.pgid} survived SIGKILL")
        return pids

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the group (gunicorn's graceful stop), SIGKILL what is left; idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None or group_members(self.pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while group_members(self.pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def log_problems(self) -> list[str]:
        """Lines of the server's log that report an error, a traceback or a worker timeout."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        markers = ("Traceback", "ERROR", "CRITICAL", "WORKER TIMEOUT")
        return [line for line in text.splitlines() if any(marker in line for marker in markers)]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def database_pids(site: Site) -> list[int]:
    """PostgreSQL backends serving the site's database (for CPU accounting), else []."""
    if site.backend != "postgres":
        return []
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(site.database_url).database
    with psycopg.connect(_plain(site.database_url), autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                            (name,)).fetchall()
    return [row[0] for row in rows]
