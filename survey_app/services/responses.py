"""Checking and storing a citizen's answers, anonymously and at most once per code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Engine

from questionnaires import Questionnaire

from .. import group_commit, rawsql
from ..models import CHOICE_FIELDS, CodeKind, SurveyCode, random_id, utcnow
from . import codes, unlink
from . import response_sql as sql
from .scrub import scrub
from .timekeeping import local_date


@dataclass
class Submission:
    """Answers that passed validation, ready to store."""

    answers: dict[str, int] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)
    comment: str = ""


@dataclass
class Invalid:
    """Per-field problems, as (Vietnamese, English) message pairs."""

    errors: dict[str, tuple[str, str]]


def _int_in(raw: str, allowed: tuple[int, ...]) -> int | None:
    raw = raw.strip()
    # ASCII only: str.isdigit() also accepts '²' and '٣', which int() refuses or reads as digits.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3:
        return None
    value = int(raw)
    return value if value in allowed else None


@dataclass(frozen=True)
class _Plan:
    """What :func:`validate` checks, worked out once per questionnaire version."""

    choices: tuple[tuple[str, frozenset[str]], ...]
    # code, the answers as a radio button sends them ("1".."5") -> value, the allowed values
    rated: tuple[tuple[str, dict[str, int], tuple[int, ...]], ...]
    gated: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # criterion, (condition, needed)
    general: str | None
    comment_limit: int


_plans: dict[tuple[str, str], _Plan] = {}


def _plan(q: Questionnaire) -> _Plan:
    key = (q.key, q.sha256)
    if key not in _plans:
        _plans[key] = _Plan(
            choices=tuple((c.code, frozenset(c.values)) for c in q.choice_questions),
            rated=tuple((r.code, {str(v): v for v in r.scale.values}, r.scale.values) for r in q.rated_questions),
            gated=tuple((c.code, tuple(c.asked_if.items())) for c in q.criteria if c.asked_if),
            general=q.general.code if q.general is not None else None,
            comment_limit=q.comment.max_length if q.comment else 0,
        )
    return _plans[key]


def validate(q: Questionnaire, form: Mapping[str, str]) -> Submission | Invalid:
    """Check a submitted form against the questionnaire.

    Every question is optional except the general question (the SIPAS headline); blank
    means not answered. Criteria asked only under a condition (the PA items) are kept only
    when the condition holds; answered without saying whether feedback was given, they are
    an error the person can fix.
    """
    plan, sub, errors = _plan(q), Submission(), {}
    for code, allowed in plan.choices:
        raw = (form.get(code) or "").strip()
        if raw and raw not in allowed:
            errors[code] = ("Lựa chọn không hợp lệ.", "Not a valid choice.")
        elif raw:
            sub.choices[code] = raw
    for code, exact, values in plan.rated:
        raw = form.get(code) or ""
        value = exact.get(raw)
        if value is None:
            if not raw.strip():
                continue
            value = _int_in(raw, values)
        if value is None:
            errors[code] = ("Câu trả lời không hợp lệ: chọn một mức.", "Not a valid answer: choose a level.")
        else:
            sub.answers[code] = value
    for code, conditions in plan.gated:
        for condition, needed in conditions:
            given = sub.choices.get(condition)
            if code not in sub.answers or given == needed:
                continue
            if given is None and condition not in errors:
                errors[condition] = (
                    "Vui lòng cho biết Ông/Bà có phản ánh, kiến nghị không.",
                    "Please say whether you gave feedback.",
                )
            sub.answers.pop(code, None)  # not applicable: missing, not negative
    if plan.general is not None and plan.general not in sub.answers and plan.general not in errors:
        errors[plan.general] = ("Vui lòng trả lời câu hỏi này.", "Please answer this question.")
    comment = (form.get("comment") or "").replace("\r\n", "\n")
    limit = plan.comment_limit
    if len(comment) > limit:
        errors["comment"] = (
            f"Góp ý dài quá {limit} ký tự ({len(comment)}).",
            f"The comment is longer than {limit} characters ({len(comment)}).",
        )
    sub.comment = comment.strip()
    return Invalid(errors) if errors else sub


class _BurstWatch:
    """Per-process memory of recent submission times for each counter code, to flag bursts
    (many answers from one poster within a short window). Holds no client data."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[int, deque[float]] = defaultdict(deque)

    def hit(self, code_id: int, window: float, threshold: int) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._times[code_id]
            times.append(now)
            while times and now - times[0] > window:
                times.popleft()
            return len(times) >= threshold


burst_watch = _BurstWatch()


@dataclass(frozen=True)
class _Stored:
    """One submission as rows, every value worked out before the write (on SQLite the
    write holds the one lock)."""

    code_id: int
    single: bool
    # Mappings of parameters; on SQLite bound (rawsql.Statement.bind) before the write.
    response: Any  # response_sql.RESPONSE_COLUMNS
    answers: list[Any]  # response_id, item, value
    comment: Any | None  # comment_id, text and response_sql.COMMENT_COLUMNS


def store(record: SurveyCode | codes.CodeInfo, q: Questionnaire, submission: Submission) -> str:
    """Store a response for ``record`` in one transaction; burn a single-use code in it.

    Returns the new response's random id. Raises CodeError(ANSWERED, VOIDED or EXPIRED)
    and stores nothing when the code can no longer be used, including when a simultaneous
    submission of the same code won the race.
    """
    now = utcnow()
    rows = _rows(record, submission, now)
    connection = rawsql.connection()
    if connection.engine.dialect.name == "postgresql":
        statement = sql.STORE_SINGLE_POSTGRESQL if rows.single else sql.STORE_COUNTER_POSTGRESQL
        comment = rows.comment or {"comment_id": None, "text": ""}  # shares the response's other values
        [(stored,)] = connection.rows(statement, **{**rows.response, **comment}, code_id=rows.code_id, now=now,
                                      items=list(submission.answers), values=list(submission.answers.values()))
    else:
        stored = group_commit.write(_write_together, _bound(connection.engine, rows))
    if not stored:
        raise codes.refusal(record.id, now)  # the precise reason
    unlink.after_submission()
    return str(rows.response["id"])


def _rows(record: SurveyCode | codes.CodeInfo, submission: Submission, now: dt.datetime) -> _Stored:
    today = local_date(now)
    single = record.kind == CodeKind.SINGLE
    if single:
        burst = False
    else:
        config = current_app.config
        burst = burst_watch.hit(record.id, config["SIPAS_BURST_WINDOW_SECONDS"], config["SIPAS_BURST_THRESHOLD"])
    shared = {"questionnaire_version_id": record.questionnaire_version_id, "unit_id": record.unit_id,
              "procedure_id": record.procedure_id, "submitted_on": today}
    response_id = random_id()
    response = {**shared, "id": response_id, "channel": str(record.kind), "burst": burst,
                "same_day": today == local_date(record.issued_at) if single else None,
                **{name: submission.choices.get(name) for name in CHOICE_FIELDS}}
    answers = [{"response_id": response_id, "item": item, "value": value} for item, value in submission.answers.items()]
    text = scrub(submission.comment) if submission.comment else ""
    # The comment is kept apart from the response: its own random id, no link.
    comment = {**shared, "comment_id": random_id(), "text": text} if text else None
    return _Stored(record.id, single, response, answers, comment)


def _bound(engine: Engine, rows: _Stored) -> _Stored:
    """The rows as DB-API parameters: converted here, not under the write lock."""
    return dataclasses.replace(
        rows, response=sql.INSERT_RESPONSE.bind(engine, rows.response),
        answers=sql.INSERT_ANSWER.bind_many(engine, rows.answers),
        comment=sql.INSERT_COMMENT.bind(engine, rows.comment) if rows.comment else None)


def _write_together(connection: rawsql.Connection, batch: list[_Stored]) -> list[bool]:
    """SQLite: the submissions of one group commit, in its transaction. Each result is False
    (and nothing of it written) when its code could no longer be burned."""
    singles = [rows.code_id for rows in batch if rows.single]
    burned: set[int] = set()
    if singles:
        codes_ = {f"code{n}": code_id for n, code_id in enumerate(singles)}
        burned = {code_id for (code_id,) in connection.rows(sql.burn_codes(len(singles)), now=utcnow(), **codes_)}
    stored = []
    for rows in batch:
        stored.append(not rows.single or rows.code_id in burned)
        if rows.single:
            burned.discard(rows.code_id)  # the same code twice in one batch: the first one takes it
    kept = [rows for rows, ok in zip(batch, stored, strict=True) if ok]
    if kept:
        connection.insert_rows(sql.INSERT_RESPONSE, [rows.response for rows in kept], bound=True)
        connection.insert_rows(sql.INSERT_ANSWER, [answer for rows in kept for answer in rows.answers], bound=True)
        comments = [rows.comment for rows in kept if rows.comment]
        if comments:
            connection.insert_rows(sql.INSERT_COMMENT, comments, bound=True)
    return stored
