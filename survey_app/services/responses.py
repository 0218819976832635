"""Checking and storing a citizen's answers, anonymously and at most once per code."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import ARRAY, Connection, SmallInteger, String, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from questionnaires import Questionnaire

from ..database import seal_wal
from ..extensions import db
from ..feedback import service as cases
from ..models import (
    CHOICE_FIELDS,
    Answer,
    AnswerNonce,
    Channel,
    CodeKind,
    Comment,
    Response,
    SurveyCode,
    random_id,
    utcnow,
)
from . import codes, unlink
from .codes import BURN, burn_where
from .scrub import scrub
from .timekeeping import local_date


@dataclass
class Submission:
    """Answers that passed validation, ready to store."""

    answers: dict[str, int] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    case_kind: str = ""  # "complaint" or "request": the comment asks for an answer (a case)


@dataclass(frozen=True)
class Stored:
    response_id: str
    case_number: str | None  # the feedback case the comment opened, if it asked for one


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
    if limit:
        sub.case_kind = (form.get("case_kind") or "").strip()
        if sub.case_kind not in CASE_KINDS:
            errors["case_kind"] = ("Lựa chọn không hợp lệ.", "Not a valid choice.")
        elif sub.case_kind and not sub.comment and "comment" not in errors:
            errors["comment"] = ("Vui lòng viết nội dung phản ánh, kiến nghị để cơ quan trả lời.",
                                 "Please write the complaint or request for the agency to answer.")
    return Invalid(errors) if errors else sub


CASE_KINDS = ("", "complaint", "request")


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

    def clear(self) -> None:
        with self._lock:
            self._times.clear()


burst_watch = _BurstWatch()


def store(record: SurveyCode | codes.CodeInfo, q: Questionnaire, submission: Submission, *,
          over_limit: bool = False, kiosk: bool = False, nonce: str | None = None) -> Stored:
    """Store a response for ``record`` in one transaction; burn a single-use code in it.

    ``kiosk``: the answer was given on a counter kiosk (its channel says so; a single-use
    code's answer otherwise came from a phone). ``nonce``: the one-time value the form's
    script sends with every delivery of one submission; a poster answer whose nonce was seen
    is refused like a used code (CodeError(ANSWERED)), so a resend after a lost reply stores
    nothing (a single-use code is burned instead).

    A poster's answer is flagged (``burst``) when it came in a burst or ``over_limit`` (past
    the per-client limit). A comment marked as a complaint or request also opens a feedback
    case, in the same transaction. Returns the new response's random id and the case's
    number. Raises CodeError(ANSWERED, VOIDED or EXPIRED)
    and stores nothing when the code can no longer be used, including when a simultaneous
    submission of the same code won the race: the burn is one conditional UPDATE, and of
    two racing transactions only one changes the row (on SQLite the write lock orders them;
    on PostgreSQL the second waits for the first's row lock, then finds the code burned).
    """
    now = utcnow()
    today = local_date(now)
    single = record.kind == CodeKind.SINGLE
    # Core statements on the session's connection, in the session's transaction: one
    # connection per request, one commit, no ORM objects for rows nobody reads back.
    connection = db.session.connection()
    try:
        if single:
            burned = connection.execute(BURN.where(burn_where(SurveyCode.id == record.id)), {"now": now})
            if burned.rowcount != 1:
                db.session.rollback()
                raise codes.refusal(record.id, now)
        if not single and nonce and not _first_delivery(connection, nonce, today):
            db.session.rollback()
            raise codes.CodeError(codes.CodeProblem.ANSWERED)
        shared = {"questionnaire_version_id": record.questionnaire_version_id, "unit_id": record.unit_id,
                  "procedure_id": record.procedure_id, "submitted_on": today}
        response_id, case_number = random_id(), None
        channel = Channel.KIOSK.value if kiosk else str(record.kind)
        connection.execute(insert(Response.__table__).values(
            **shared, competent_unit_id=record.competent_unit_id, id=response_id, channel=channel,
            burst=not single and (_burst(record.id) or over_limit),
            same_day=today == local_date(record.issued_at) if single else None,
            **{name: submission.choices.get(name) for name in CHOICE_FIELDS}))
        if submission.answers:
            _insert_answers(connection, response_id, submission.answers)
        text = scrub(submission.comment) if submission.comment else ""
        if text:  # kept apart from the response: its own random id, no link
            connection.execute(insert(Comment.__table__).values(**shared, id=random_id(), text=text))
            if submission.case_kind:
                case_number = cases.open_case(connection, record=record, kind=submission.case_kind, text=text,
                                              channel=channel, today=today)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    seal_wal()  # SQLite: the commit that pairs the burn with the answer leaves the log at once
    unlink.after_submission()  # PostgreSQL: the transaction stamps, within a bound
    return Stored(response_id, case_number)


def _first_delivery(connection: Connection, nonce: str, today) -> bool:
    """Record ``nonce`` in the transaction; False when a delivery of it was stored before."""
    hashed = hmac.new(codes.app_key("answer-nonce"), nonce.encode(), hashlib.sha256).hexdigest()
    try:
        with connection.begin_nested():  # a delivery seen before (or at the same moment): the key refuses it
            connection.execute(insert(AnswerNonce.__table__).values(nonce_hash=hashed, seen_on=today))
    except IntegrityError:
        return False
    return True


def _insert_answers(connection: Connection, response_id: str, answers: dict[str, int]) -> None:
    """The answers in one statement of fixed text: on PostgreSQL the items and values as two
    arrays (executemany, or a multi-row VALUES of varying length, cost a round trip per row
    or a compilation per submission); SQLite has no network to cross and runs executemany
    in C."""
    if connection.dialect.name == "postgresql":
        connection.execute(_INSERT_ANSWER_ARRAYS, {"response_id": response_id, "items": list(answers),
                                                   "values": list(answers.values())})
    else:
        connection.execute(insert(Answer.__table__), [{"response_id": response_id, "item": item, "value": value}
                                                      for item, value in answers.items()])


_GIVEN = func.unnest(bindparam("items", type_=ARRAY(String())), bindparam("values", type_=ARRAY(SmallInteger())))
_GIVEN = _GIVEN.table_valued("item", "value").render_derived(name="given")
_INSERT_ANSWER_ARRAYS = insert(Answer.__table__).from_select(
    ["response_id", "item", "value"],
    select(bindparam("response_id", type_=String()), _GIVEN.c.item, _GIVEN.c.value))


def _burst(code_id: int) -> bool:
    config = current_app.config
    return burst_watch.hit(code_id, config["SIPAS_BURST_WINDOW_SECONDS"], config["SIPAS_BURST_THRESHOLD"])
