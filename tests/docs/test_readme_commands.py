"""Every command in README.md runs as written.

The rule: the README holds exactly two set-up commands that work on a fresh machine (the
block under "Try it", which installs and runs the product, and the block after
``<!-- ci:test-command -->``, which installs and runs the test suite); every other command in
it is run here, by the real ``sipas`` console script under ``bash -euo pipefail``, in a
temporary directory with an environment built from :func:`tests.support.hermetic_environ`.
A command added to the README without a check here fails :func:`test_every_command_is_run`.

Commands are the lines of the fenced ``sh`` blocks (trailing ``# comments`` stripped, ``\\``
continuations joined) and the inline code spans of the prose that start with ``sipas ``.
The only edits made to a command's text are the substitutions in :data:`SUBSTITUTIONS`
(a database URL and listening ports), by exact string replacement of text that must be there.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import re
import shutil
import signal
import site
import socket
import statistics
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import full_answers, hermetic_environ

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLE_PLAN = ROOT / "analysis" / "report" / "example_plan.toml"

PUBLIC_URL = "https://khaosat.example.gov.vn"  # codes are refused for a loopback public URL
TRY_IT = "python -m pip install . && sipas demo"
SHELL_LANGUAGES = {"sh", "bash", "shell", "console", "zsh"}

# The plan report's period in the README, and the days the test dates its answers to: the
# example plan's baseline (2026-Q2) and the reported quarter, whatever day the test runs.
BASELINE_DAY = dt.date(2026, 5, 12)
PERIOD_DAY = dt.date(2026, 8, 18)
OLD_COMMENT_DAYS = 400  # older than `purge-comments --older-than 365`
PHONE = "0912345678"  # scrubbed from comments before they are stored


# --------------------------------------------------------------------------- the README
@dataclass(frozen=True)
class Command:
    text: str
    section: str  # the "## " heading above it
    line: int
    prose: bool = False  # an inline code span, not a line of a block
    setup: bool = False  # one of the two set-up commands


def strip_comment(line: str) -> str:
    """``cmd  # note`` → ``cmd``; a ``#`` inside quotes or inside a word stays."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def split_commands(lines: list[str]) -> list[tuple[int, str]]:
    """(index of first line, command) for each command of a block's lines."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for i, raw in enumerate(lines):
        text = strip_comment(raw)
        if not pending:
            start = i
        if text.endswith("\\"):
            pending.append(text[:-1].strip())
            continue
        pending.append(text.strip())
        command = " ".join(part for part in pending if part)
        pending = []
        if command:
            out.append((start, command))
    assert not pending, f"a block ends inside a continued line: {pending}"
    return out


def readme_commands(text: str | None = None) -> list[Command]:
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    commands: list[Command] = []
    prose: list[tuple[int, str, str]] = []  # line number, text, heading
    section = ""
    marker = False
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^\s*(```+)\s*(\S*)", line)
        if fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].lstrip().startswith(fence.group(1))), None)
            assert end is not None, f"README.md:{i + 1}: a fence that never closes"
            body = lines[i + 1:end]
            if fence.group(2) in SHELL_LANGUAGES:
                setup = marker or section == "Try it"
                for offset, command in split_commands(body):
                    commands.append(Command(command, section, i + 2 + offset, setup=setup))
            else:
                hidden = [b for b in body if b.lstrip().startswith("sipas ")]
                assert not hidden, f"README.md:{i + 1}: commands in a block that is not ```sh: {hidden}"
            marker = False
            i = end + 1
            continue
        if line.startswith("## "):
            section = line[3:].strip()
        if line.strip():
            marker = line.strip() == "<!-- ci:test-command -->"
        prose.append((i + 1, line, section))
        i += 1
    # Code spans may wrap across lines: search the prose as one text.
    joined = "\n".join(line for _, line, _ in prose)
    starts = [0]
    for _, line, _ in prose:
        starts.append(starts[-1] + len(line) + 1)
    for match in re.finditer(r"(?<!`)`([^`]+)`(?!`)", joined):
        span = " ".join(match.group(1).split())
        if span.startswith("sipas "):
            line_no, _, heading = next(prose[k] for k in range(len(prose)) if starts[k + 1] > match.start())
            commands.append(Command(span, heading, line_no, prose=True))
    return commands


def mentions(commands: list[Command]) -> set[str]:
    """Spans that only name a command (`sipas serve` runs gunicorn) rather than run it: just
    ``sipas NAME``, where the README has a command this file runs that starts with it."""
    run_here = [c.text for c in commands if not c.setup and c.text in KNOWN]
    return {c.text for c in commands if c.prose and re.fullmatch(r"sipas [a-z][a-z-]*", c.text)
            and any(t == c.text or t.startswith(c.text + " ") for t in run_here)}


def block(section_prefix: str) -> list[str]:
    found = [c.text for c in readme_commands()
             if not c.prose and not c.setup and c.section.startswith(section_prefix)]
    assert found, f"README.md has no sh block under a heading starting with {section_prefix!r}"
    return found


# --------------------------------------------------------------------------- running
@dataclass
class Ran:
    command: str
    stdout: str
    stderr: str
    cwd: Path


@dataclass
class Context:
    cwd: Path
    env: dict[str, str]
    state: dict = field(default_factory=dict)


def run(command: str, ctx: Context, *, timeout: float = 180) -> Ran:
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=ctx.cwd, env=ctx.env,
                          capture_output=True, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, (
        f"README command failed (exit {proc.returncode}): {command}\n"
        f"--- stdout\n{out[-4000:]}\n--- stderr\n{err[-4000:]}")
    return Ran(command, out, err, ctx.cwd)


def substitute(command: str, replacements: dict[str, str]) -> str:
    """The only edits made to README text: exact replacements of text that must be there."""
    for old, new in replacements.items():
        assert old in SUBSTITUTIONS, f"{old!r} is not a text the test may replace"
        assert command.count(old) == 1, f"{old!r} is not (once) in the README command {command!r}"
        command = command.replace(old, new)
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """The whole process group (bash, the server, its workers)."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def serving(script: str, ctx: Context, port: int, *, limit: float = 60) -> Iterator[Path]:
    """Run ``script`` in the background in its own process group until GET /healthz on
    ``port`` answers 200 (at most ``limit`` seconds); stop the group afterwards, always.
    Yields the log file (stdout and stderr)."""
    log = ctx.cwd / f"serve-{port}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=ctx.cwd, env=ctx.env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + limit
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{script!r} exited {proc.returncode} before serving:\n"
                            f"{log.read_text('utf-8', 'replace')[-4000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no answer on http://127.0.0.1:{port}/healthz after {limit} s:\n"
                            f"{log.read_text('utf-8', 'replace')[-4000:]}")
            time.sleep(0.25)
        yield log
    finally:
        _stop(proc)


# --------------------------------------------------------------------------- data
CATALOGUE = ("code,name,field\n"
             "1.000301,\"Chứng nhận lãnh sự giấy tờ, tài liệu tại Sở Ngoại vụ\",Lãnh sự\n"
             "1.000302,\"Hợp pháp hóa lãnh sự giấy tờ, tài liệu tại Sở Ngoại vụ\",Lãnh sự\n")


def _app(ctx: Context):
    from survey_app import create_app

    return create_app({"SIPAS_DATA_DIR": ctx.env["SIPAS_DATA_DIR"], "SIPAS_PUBLIC_URL": PUBLIC_URL})


def _answer(app, codes: list[str], rng: random.Random) -> int:
    """Answer ``codes`` through the services the public form uses; every fourth with a
    comment that holds a phone number. Returns the number of comments."""
    import questionnaires
    from survey_app.services import codes as code_service
    from survey_app.services import responses

    q = questionnaires.load("sipas-2023")
    comments = 0
    with app.app_context():
        for n, code in enumerate(codes):
            comment = f"Cán bộ nhiệt tình, gọi lại số {PHONE} nếu cần." if n % 4 == 0 else ""
            comments += bool(comment)
            data = full_answers(comment=comment)
            for criterion in q.criteria:
                data[criterion.code] = str(rng.choice([2, 3, 4, 4, 5, 5]))
            data["HL"] = str(rng.choice([3, 4, 4, 5, 5]))
            submission = responses.validate(q, data)
            assert isinstance(submission, responses.Submission), submission
            responses.store(code_service.find(code), q, submission)
    return comments


def store_answers(ctx: Context) -> None:
    """Before `sipas export responses`: answer most of the codes the README issued and a
    further batch, then date codes and answers into the plan's baseline quarter and the
    reported one (the README's period label holds whenever the test runs), and one comment
    more than a year back for `purge-comments`."""
    from sqlalchemy import select

    from survey_app.extensions import db
    from survey_app.models import Comment, Response, SurveyCode
    from survey_app.services import catalog
    from survey_app.services import codes as code_service

    app = _app(ctx)
    rng = random.Random(2026)
    printed: list[str] = ctx.state["codes"]
    with app.app_context():
        unit = catalog.unit_by_code("LS")
        procedure = catalog.procedure_by_code("1.000302")
        _, more = code_service.issue(unit=unit, procedure=procedure, count=40, actor="test")
    answered = printed[:20] + [item.code for item in more][:34]
    comments = _answer(app, answered, rng)
    with app.app_context():
        days = [BASELINE_DAY, PERIOD_DAY]
        for n, response in enumerate(db.session.scalars(select(Response).order_by(Response.id))):
            response.submitted_on = days[n % 2] + dt.timedelta(days=n % 20)
        for n, code in enumerate(db.session.scalars(select(SurveyCode).filter_by(kind="single"))):
            code.issued_at = dt.datetime.combine(days[n % 2] + dt.timedelta(days=n % 20), dt.time(2))
            code.expires_at = code.issued_at + dt.timedelta(days=30)
        old = dt.date.today() - dt.timedelta(days=OLD_COMMENT_DAYS)
        for n, comment in enumerate(db.session.scalars(select(Comment).order_by(Comment.id))):
            comment.submitted_on = old if n == 0 else days[n % 2]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    ctx.state.update(responses=len(answered), comments=comments)


# --------------------------------------------------------------------------- checks
Check = Callable[[Ran, Context], None]


def _file(ran: Ran, name: str, magic: bytes = b"") -> Path:
    path = ran.cwd / name
    assert path.is_file() and path.stat().st_size > 0, f"{ran.command}: {name} was not written"
    assert path.read_bytes().startswith(magic), f"{name} does not start with {magic!r}"
    return path


def _says(*needles: str, stream: str = "stdout") -> Check:
    def check(ran: Ran, ctx: Context) -> None:
        text = getattr(ran, stream)
        for needle in needles:
            assert needle in text, f"{ran.command}: {needle!r} not in {stream}:\n{text[-2000:]}"
    return check


def check_codes(ran: Ran, ctx: Context) -> None:
    lines = ran.stdout.splitlines()
    assert len(lines) == 24 and all(f"\t{PUBLIC_URL}/s/" in line for line in lines), ran.stdout
    ctx.state["codes"] = [line.split("\t")[0] for line in lines]
    _file(ran, "shift.pdf", b"%PDF")


def check_poster(ran: Ran, ctx: Context) -> None:
    assert len(ran.stdout.splitlines()) == 1 and f"{PUBLIC_URL}/s/" in ran.stdout
    _file(ran, "poster.pdf", b"%PDF")


def check_responses_csv(ran: Ran, ctx: Context) -> None:
    import pandas as pd

    frame = pd.read_csv(_file(ran, "responses.csv"), encoding="utf-8-sig")
    assert len(frame) == ctx.state["responses"]
    assert set(frame["unit"].astype(str)) == {"LS"}
    assert {"questionnaire", "HL"} <= set(frame.columns)


def check_comments_xlsx(ran: Ran, ctx: Context) -> None:
    from openpyxl import load_workbook

    rows = list(load_workbook(_file(ran, "comments.xlsx", b"PK")).active.iter_rows(values_only=True))
    assert len(rows) == 1 + ctx.state["comments"]  # a header and the comments
    text = json.dumps(rows, ensure_ascii=False, default=str)
    assert "Cán bộ nhiệt tình" in text and PHONE not in text  # scrubbed before it was stored


def check_apikey(ran: Ran, ctx: Context) -> None:
    assert len(ran.stdout.split()) == 1 and len(ran.stdout.strip()) >= 20, ran.stdout
    assert "mot-cua" in ran.stderr and "unit LS" in ran.stderr


def check_backup(ran: Ran, ctx: Context) -> None:
    _file(ran, "sipas-2026-11-26.bak", b"SQLite format 3")
    assert "Backed up" in ran.stdout


def check_purge(ran: Ran, ctx: Context) -> None:
    assert re.search(r"Deleted 1 comment\(s\) submitted before \d{4}-\d\d-\d\d", ran.stdout), ran.stdout


def check_table(ran: Ran, ctx: Context) -> None:
    # For people: Vietnamese words, periods in words, decimal commas (docs/glossary.md).
    for quarter in ("Quý II/2026", "Quý III/2026"):
        assert f"Đơn vị: LS · Kỳ báo cáo: {quarter}   (Số phiếu: " in ran.stdout, ran.stdout
    assert re.search(r"\n  HL  Chỉ số hài lòng chung \(SIPAS\) +\d+,\d  \d+,\d–\d+,\d ", ran.stdout), ran.stdout
    assert "Không đủ dữ liệu (n = " in ran.stdout and "2026-Q" not in ran.stdout


def check_indices_json(ran: Ran, ctx: Context) -> None:
    doc = json.loads(_file(ran, "indices.json").read_text(encoding="utf-8"))
    groups = doc["groups"]
    assert groups and sum(g["n"] for g in groups) >= ctx.state["responses"], groups
    assert all(g["keys"]["period"].startswith("2026-PAR-") for g in groups)


def check_plan_file(ran: Ran, ctx: Context) -> None:
    from analysis.targets import load_plan

    path = _file(ran, "plan.toml")
    assert path.read_bytes() == EXAMPLE_PLAN.read_bytes()
    assert load_plan(path).baseline == "2026-Q2"


def check_report_xlsx(ran: Ran, ctx: Context) -> None:
    from openpyxl import load_workbook

    book = load_workbook(_file(ran, "report.xlsx", b"PK"))
    cells = " ".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)
    assert len(book.worksheets) >= 2 and "LS" in cells
    assert f"{ctx.state['responses'] // 2} responses, period 2026-Q3" in ran.stderr, ran.stderr


def check_sample_size(ran: Ran, ctx: Context) -> None:
    # Methodology §6 (docs/analysis.md): n0 = z² p(1−p)/e², × deff, /(1 + n1/N), ÷ response rate.
    z = statistics.NormalDist().inv_cdf(0.975)
    n0 = z * z * 0.5 * 0.5 / 0.05**2
    n_finite = n0 * 1.5 / (1 + n0 * 1.5 / 2000)
    required, codes = math.ceil(round(n_finite, 9)), math.ceil(round(n_finite / 0.6, 9))
    assert (required, codes) == (448, 746)
    assert ran.stdout.startswith("Cỡ mẫu cho mỗi đơn vị báo cáo (phương pháp §6)\n"), ran.stdout
    assert re.search(rf"Số phiếu trả lời cần có\s+{required}\n", ran.stdout), ran.stdout
    assert re.search(rf"Số mã cần phát ra \(÷ 0,6\)\s+{codes}\n", ran.stdout), ran.stdout
    assert re.search(r"Yamane .*\s333,33  → 334\n", ran.stdout), ran.stdout  # 2000 / (1 + 2000 · 0.05²)


def check_demo(ran: Ran, ctx: Context) -> None:
    assert "Demo province: UBND tỉnh Đồng Nai" in ran.stdout and "Sở Ngoại vụ" in ran.stdout
    assert re.search(r"Counter kiosk \(a tablet\): \S+/k — pairing code \d{3} \d{3}", ran.stdout), ran.stdout
    assert (ran.cwd / "sipas-data" / "sipas.sqlite").is_file()  # "the data lives in ./sipas-data"
    assert re.search(r"admin\s+admin\s+\S{8,}", ran.stdout), ran.stdout


def check_demo_indices(ran: Ran, ctx: Context) -> None:
    groups = json.loads(ran.stdout)["groups"]
    units = {g["keys"]["unit"] for g in groups}
    # Bình Phước's former consular section, merged into LS on 1 July 2025, counts under LS: no group
    # of its own, and LS's quarters run from before the merger on (docs/organisation.md).
    assert "BP-LS" not in units and "2025-Q2" in {g["keys"]["period"] for g in groups if g["keys"]["unit"] == "LS"}
    assert {"VP", "LS", "HTQT", "BG"} <= units and all(re.fullmatch(r"\d{4}-Q\d", g["keys"]["period"])
                                                       for g in groups)


def check_example_plan(ran: Ran, ctx: Context) -> None:
    assert ran.stdout == EXAMPLE_PLAN.read_text(encoding="utf-8")
    tomllib.loads(ran.stdout)


STAFF: dict[str, Check] = {
    "sipas init": _says("Database ready: sqlite:", "Questionnaires loaded: sipas-2023@1"),
    'sipas unit add SNGV "Sở Ngoại vụ"': _says("Added unit SNGV (department): Sở Ngoại vụ"),
    'sipas unit add LS "Phòng Lãnh sự" --parent SNGV': _says("Added unit LS (section): Phòng Lãnh sự"),
    "sipas procedure import catalogue.csv": _says("Imported catalogue.csv: 2 added, 0 updated."),
    "sipas user add lan --role staff --unit LS --password-stdin < password.txt":
        _says("Added user lan (staff, unit LS)."),
    "sipas user list": _says("lan\tstaff\tLS\tđang hoạt động"),
    "sipas user unlock lan": _says("Đã mở khóa đăng nhập cho lan (trước đó: đang hoạt động)."),
    "sipas codes issue --unit LS --procedure 1.000301 --count 24 --pdf shift.pdf": check_codes,
    "sipas codes issue --unit LS --kind counter --pdf poster.pdf": check_poster,
    "sipas export responses -o responses.csv": check_responses_csv,
    "sipas export comments --format xlsx -o comments.xlsx": check_comments_xlsx,
    "sipas apikey add mot-cua --scope codes:issue --unit LS": check_apikey,
    "sipas backup -o sipas-2026-11-26.bak": check_backup,
    "sipas restore sipas-2026-11-26.bak --yes": _says("Restored sipas-2026-11-26.bak"),
    "sipas purge-comments --older-than 365 --yes": check_purge,
    "sipas seal": _says("Rewritten in key order: the whole database (VACUUM)."),
    "sipas dossiers import mot-cua.csv": _says("Đã nhập mot-cua.csv: thêm 3, thay 0"),
}
BEFORE: dict[str, Callable[[Context], None]] = {"sipas export responses -o responses.csv": store_answers}
ANALYSTS: dict[str, Check] = {
    "sipas analyze responses.csv --by unit --period quarter --format table": check_table,
    "sipas analyze --db --period par --ci-method wilson --format json -o indices.json": check_indices_json,
    "sipas report --example-plan > plan.toml": check_plan_file,
    "sipas report --db --plan plan.toml --period 2026-Q3 -o report.xlsx": check_report_xlsx,
    "sipas sample-size --margin 0.05 --population 2000 --deff 1.5 --response-rate 0.6": check_sample_size,
    "sipas index766 --period 2026-Q3": _says("Phòng Lãnh sự (LS)", "Tỷ lệ hồ sơ quá hạn (từ hệ thống một cửa): 1,7 %",
                                             "Mức độ hài lòng: 100 % − (% quá hạn"),
}
PROSE: dict[str, Check] = {
    "sipas demo --no-serve": check_demo,
    "sipas analyze --db --questionnaire sipas-2023 --by unit --period quarter --format json": check_demo_indices,
    "sipas report --example-plan": check_example_plan,
}
# Commands that serve until stopped: the port in the README's text is replaced by a free one.
SERVING_PROSE = {"sipas demo --port 8080": "8080"}
DATABASE_URL = "postgresql+psycopg://sipas:secret@db.internal/sipas"
POSTGRES = [
    "python -m pip install '.[postgres]'",
    f"export SIPAS_DATABASE_URL={DATABASE_URL}",
    "export SIPAS_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(48))')",
    f"export SIPAS_PUBLIC_URL={PUBLIC_URL}",
    "sipas init",
    "sipas serve --host 127.0.0.1 --port 8000 --workers 4 --threads 8",
]
KNOWN = {*STAFF, *ANALYSTS, *PROSE, *SERVING_PROSE, *POSTGRES}
SUBSTITUTIONS = {"--port 8080": "a free port", "--port 8000": "a free port",
                 DATABASE_URL: "a fresh database from SIPAS_TEST_POSTGRES_URL"}


# --------------------------------------------------------------------------- tests
def test_parsing_of_blocks_and_spans():
    text = """## Try it

```sh
python -m pip install . && sipas demo
```

Then `sipas demo
--port 9` or `not sipas` and ``sipas x``.

<!-- ci:test-command -->
```sh
make test   # the suite
```

## Other

```sh
export K=$(python -c 'print("#")')  # a # in quotes stays
sipas a --b \\
      --c   # joined
# only a comment
```
"""
    found = [(c.text, c.section, c.prose, c.setup) for c in readme_commands(text)]
    assert found == [
        ("python -m pip install . && sipas demo", "Try it", False, True),
        ("make test", "Try it", False, True),
        ("export K=$(python -c 'print(\"#\")')", "Other", False, False),
        ("sipas a --b --c", "Other", False, False),
        ("sipas demo --port 9", "Try it", True, False),
    ]


def test_every_command_is_run():
    """Two set-up commands; every other command of the README has a run and a check here."""
    commands = readme_commands()
    setup = [c for c in commands if c.setup]
    assert [c.text for c in setup][:1] == [TRY_IT] and len(setup) == 2, setup
    assert "python -m pytest" in setup[1].text, setup[1]  # the block after <!-- ci:test-command -->
    named = mentions(commands)
    others = [c for c in commands if not c.setup and not (c.prose and c.text in named)]
    unknown = [f"README.md:{c.line}: {c.text}" for c in others if c.text not in KNOWN]
    assert not unknown, "README commands that no test runs (add a check in this file):\n" + "\n".join(unknown)
    stale = KNOWN - {c.text for c in others}
    assert not stale, f"checks for commands the README no longer has: {sorted(stale)}"
    assert block("Staff") == list(STAFF) and block("Analysts") == list(ANALYSTS)
    assert block("Deploying on PostgreSQL") == POSTGRES


def environ(**extra: str) -> dict[str, str]:
    """The operator's environment without SIPAS_*; `sipas` and `python` are those of the
    interpreter running the tests (not a version manager's shim, a process more each time)."""
    env = hermetic_environ()
    scripts = Path(sys.executable).parent
    if (scripts / "sipas").is_file():
        env["PATH"] = f"{scripts}{os.pathsep}{env.get('PATH', '')}"
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", **extra)
    return env


@pytest.fixture
def shell(tmp_path) -> Context:
    return Context(tmp_path, environ(SIPAS_DATA_DIR=str(tmp_path / "sipas-data"), SIPAS_PUBLIC_URL=PUBLIC_URL))


@pytest.mark.slow
def test_staff_then_analyst_blocks(shell):
    """The staff block on a new installation, in order; answers come in before the export;
    then the analysts' block on what the staff block exported and stored."""
    (shell.cwd / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    (shell.cwd / "password.txt").write_text("mật khẩu đủ dài cho lan\n", encoding="utf-8")
    (shell.cwd / "mot-cua.csv").write_text("unit,month,decided,overdue\nLS,2026-07,120,2\nLS,2026-08,110,2\n"
                                           "LS,2026-09,130,2\n", encoding="utf-8")
    for command in block("Staff"):
        if command in BEFORE:
            BEFORE[command](shell)
        STAFF[command](run(command, shell), shell)
    for command in block("Analysts"):
        ANALYSTS[command](run(command, shell), shell)


@pytest.mark.slow
def test_prose_commands(tmp_path):
    """The `sipas ...` spans of the prose, with the operator's environment as the README
    assumes it (no SIPAS_DATA_DIR: the demo's data lives in ./sipas-data)."""
    ctx = Context(tmp_path, environ())
    commands = readme_commands()
    spans = {c.text for c in commands if c.prose} - mentions(commands)
    assert spans == {*PROSE, *SERVING_PROSE}
    for command in PROSE:  # the demo's set-up first: the others read its data
        PROSE[command](run(command, ctx), ctx)
    for command, port_text in SERVING_PROSE.items():
        port = free_port()
        script = substitute(command, {f"--port {port_text}": f"--port {port}"})
        with serving(script, ctx, port) as log, \
                urllib.request.urlopen(f"http://127.0.0.1:{port}/staff/login", timeout=10) as page:
            assert page.status == 200
        assert f"http://127.0.0.1:{port}/staff/login" in log.read_text("utf-8")


def _source_copy(target: Path) -> Path:
    """The working tree without build output: pip builds in the source directory (build/,
    *.egg-info), which must not happen in the tree other people are working in."""
    ignore = shutil.ignore_patterns(".git", "*.egg-info", "build", "dist", "__pycache__", ".*_cache", ".hypothesis",
                                    ".benchmarks", "sipas-data", "node_modules", ".venv", "*.sqlite*", "tests")
    shutil.copytree(ROOT, target, ignore=ignore)
    return target


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_deploy_block(postgres_admin_url, tmp_path):
    """The deployment block as written, in a throw-away venv that sees the machine's packages
    (nothing is downloaded but the build backend), against a fresh PostgreSQL database."""
    from tests.conftest import _create_pg_database, _drop_pg_database

    commands = block("Deploying on PostgreSQL")
    install, rest = commands[0], commands[1:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=120)  # pip: the machine's, installing into the venv
    if sys.prefix != sys.base_prefix:
        # The tests run in a virtual environment: the throw-away one sees its packages too
        # (after its own), as it would see the system's.
        [inner] = venv.glob("lib/python*/site-packages")
        (inner / "outer-environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    source = _source_copy(tmp_path / "sipas")
    env = environ(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", VIRTUAL_ENV=str(venv))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env.pop("PYTHONHOME", None)
    ctx = Context(source, env)
    run(install, ctx, timeout=300)
    sipas = venv / "bin" / "sipas"
    assert sipas.is_file() and os.access(sipas, os.X_OK), "the install made no sipas command in the venv"
    assert list(venv.glob("lib/python*/site-packages/survey_app/templates")), "sipas was not installed in the venv"

    name, url = _create_pg_database(postgres_admin_url)
    try:
        port = free_port()
        script = substitute("\n".join(rest), {DATABASE_URL: url, "--port 8000": f"--port {port}"})
        with serving(script, ctx, port) as log:
            output = log.read_text("utf-8", "replace")
        assert f"Database ready: {url.split('://')[0]}://" in output and name in output, output
        assert f"sipas serving on http://127.0.0.1:{port} (public URL {PUBLIC_URL})" in output, output
        # The secret key came from the environment; nothing was generated into a data directory.
        assert not (source / "sipas-data" / "secret_key").exists()
        import psycopg
        from sqlalchemy.engine import make_url

        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(plain) as conn:
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
    finally:
        _drop_pg_database(postgres_admin_url, name)


def test_report_without_plan_or_period_says_how_to_start_one():
    """The README's first analyst step, `sipas report --example-plan`, needs no other option;
    without it, --plan and --period are needed and the error says where a plan comes from.
    (The report command alone, without the app: tests/analysis/test_cli.py covers the rest.)"""
    from click.testing import CliRunner

    from analysis.cli import report_command

    def no_database() -> str:
        raise AssertionError("--example-plan must not open the database")

    command = report_command(no_database)
    printed = CliRunner().invoke(command, ["--example-plan"])
    assert printed.exit_code == 0 and printed.stdout_bytes == EXAMPLE_PLAN.read_bytes()
    for args, missing in ((["--period", "2026"], "missing --plan:"), ([], "missing --plan and --period:"),
                          (["--plan", "plan.toml"], "missing --period:")):
        result = CliRunner().invoke(command, args)
        assert result.exit_code == 2 and missing in result.output, result.output
        assert "sipas report --example-plan > plan.toml" in result.output
    mixed = CliRunner().invoke(command, ["--example-plan", "--db", "--period", "2026"])
    assert mixed.exit_code == 2 and "leave out --period, --db" in mixed.output, mixed.output
