"""Checking and storing a citizen's answers, anonymously and at most once per code."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import insert

from questionnaires import Questionnaire

from ..extensions import db
from ..models import CHOICE_FIELDS, Answer, CodeKind, Comment, Response, SurveyCode, utcnow
from . import codes, unlink
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


def validate(q: Questionnaire, form: Mapping[str, str]) -> Submission | Invalid:
    """Check a submitted form against the questionnaire.

    Every question is optional except the general question (the SIPAS headline); blank
    means not answered. Criteria asked only under a condition (the PA items) are kept only
    when the condition holds; answered without saying whether feedback was given, they are
    an error the person can fix.
    """
    sub, errors = Submission(), {}
    for choice in q.choice_questions:
        raw = (form.get(choice.code) or "").strip()
        if raw and raw not in choice.values:
            errors[choice.code] = ("Lựa chọn không hợp lệ.", "Not a valid choice.")
        elif raw:
            sub.choices[choice.code] = raw
    for question in q.rated_questions:
        raw = form.get(question.code) or ""
        if not raw.strip():
            continue
        value = _int_in(raw, question.scale.values)
        if value is None:
            errors[question.code] = ("Câu trả lời không hợp lệ: chọn một mức.", "Not a valid answer: choose a level.")
        else:
            sub.answers[question.code] = value
    for criterion in q.criteria:
        for condition, needed in criterion.asked_if.items():
            given = sub.choices.get(condition)
            if criterion.code not in sub.answers or given == needed:
                continue
            if given is None and condition not in errors:
                errors[condition] = (
                    "Vui lòng cho biết Ông/Bà có phản ánh, kiến nghị không.",
                    "Please say whether you gave feedback.",
                )
            sub.answers.pop(criterion.code, None)  # not applicable: missing, not negative
    if q.general is not None and q.general.code not in sub.answers and q.general.code not in errors:
        errors[q.general.code] = ("Vui lòng trả lời câu hỏi này.", "Please answer this question.")
    comment = (form.get("comment") or "").replace("\r\n", "\n")
    limit = q.comment.max_length if q.comment else 0
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


def store(record: SurveyCode, q: Questionnaire, submission: Submission) -> str:
    """Store a response for ``record`` in one transaction; burn a single-use code in it.

    Returns the new response's random id. Raises CodeError(ANSWERED, VOIDED or EXPIRED)
    and stores nothing when the code can no longer be used, including when a simultaneous
    submission of the same code won the race.
    """
    now = utcnow()
    code_id, kind = record.id, record.kind
    issued_on = local_date(record.issued_at)
    unit_id, procedure_id, version_id = record.unit_id, record.procedure_id, record.questionnaire_version_id
    # End the read transaction so the first statement below starts the write (SQLite then
    # waits for the lock instead of failing to upgrade a stale read snapshot).
    db.session.rollback()
    today = local_date(now)
    burst = False
    if kind == CodeKind.SINGLE:
        if not codes.burn(code_id, now):
            db.session.rollback()
            refreshed = db.session.get(SurveyCode, code_id)
            codes.usable(refreshed, now)  # raises the precise reason
            raise codes.CodeError(codes.CodeProblem.ANSWERED)
    else:
        config = current_app.config
        burst = burst_watch.hit(code_id, config["SIPAS_BURST_WINDOW_SECONDS"], config["SIPAS_BURST_THRESHOLD"])
    response = Response(
        questionnaire_version_id=version_id, unit_id=unit_id, procedure_id=procedure_id,
        channel=kind, submitted_on=today,
        same_day=(today == issued_on) if kind == CodeKind.SINGLE else None,
        burst=burst, **{name: submission.choices.get(name) for name in CHOICE_FIELDS},
    )
    db.session.add(response)
    db.session.flush()
    if submission.answers:  # one multi-row INSERT rather than one ORM object per answer
        db.session.execute(insert(Answer), [
            {"response_id": response.id, "item": item, "value": value} for item, value in submission.answers.items()])
    text = scrub(submission.comment) if submission.comment else ""
    if text:
        db.session.add(Comment(questionnaire_version_id=version_id, unit_id=unit_id,
                               procedure_id=procedure_id, submitted_on=today, text=text))
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    response_id = response.id
    unlink.after_submission()
    return response_id

