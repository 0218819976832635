"""Opening, finding, closing and rating feedback cases."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import Connection, insert, select

from ..extensions import db
from ..models import CodeKind, utcnow
from ..services import audit, codes
from ..services.codes import CodeError, app_key
from ..services.timekeeping import local_date
from . import deadlines
from .model import CaseKind, CaseRating, CaseStatus, FeedbackCase

# Case numbers: "PA-" and 8 symbols without look-alikes (no 0/O, 1/I/L, U), ~40 bits.
_SYMBOLS = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_PREFIX = "PA"
OUTCOME_LIMIT = 4000


class CaseError(ValueError):
    """A request about a case that cannot be met; the message says why, in Vietnamese."""


def new_number() -> str:
    body = "".join(secrets.choice(_SYMBOLS) for _ in range(8))
    return f"{_PREFIX}-{body[:4]}-{body[4:]}"


def normal_number(typed: str) -> str | None:
    """A typed case number in its stored form, or None when it cannot be one."""
    cleaned = "".join(ch for ch in typed.upper() if ch.isalnum())
    if cleaned.startswith(_PREFIX):
        cleaned = cleaned[len(_PREFIX):]
    if len(cleaned) != 8 or any(ch not in _SYMBOLS for ch in cleaned):
        return None
    return f"{_PREFIX}-{cleaned[:4]}-{cleaned[4:]}"


def follow_hash(code_id: int) -> str:
    """What ties a case to the single-use code it came with, for the citizen to find it
    again; keyed, so the database alone cannot tie the two."""
    return hmac.new(app_key("case-follow"), b"code:%d" % code_id, hashlib.sha256).hexdigest()


def due_on(received: dt.date) -> dt.date:
    config = current_app.config
    return deadlines.add_working_days(received, int(config["SIPAS_FEEDBACK_WORKING_DAYS"]),
                                      config["SIPAS_HOLIDAY_DATES"])


def open_case(connection: Connection, *, record, kind: str, text: str, channel: str, today: dt.date) -> str:
    """Insert a case in the caller's transaction (the one that stores the response); returns
    its number. ``record`` is the code answered (a CodeInfo or SurveyCode)."""
    number = new_number()
    connection.execute(insert(FeedbackCase.__table__).values(
        id=secrets.token_hex(16), number=number, kind=CaseKind(kind).value, channel=channel,
        follow_hash=follow_hash(record.id) if record.kind == CodeKind.SINGLE else None,
        unit_id=record.unit_id, procedure_id=record.procedure_id, received_on=today, due_on=due_on(today),
        text=text, status=CaseStatus.OPEN.value))
    return number


def by_number(typed: str) -> FeedbackCase | None:
    number = normal_number(typed)
    return None if number is None else db.session.scalar(select(FeedbackCase).where(FeedbackCase.number == number))


def by_code(typed: str) -> FeedbackCase | None:
    """The case opened with a typed single-use code's answer, if any."""
    try:
        record = codes.lookup(typed)
    except CodeError:
        return None
    return of_code(record.id)


def of_code(code_id: int) -> FeedbackCase | None:
    """The case opened with the answer to the code ``code_id`` (a single-use code), if any."""
    return db.session.scalar(select(FeedbackCase).where(FeedbackCase.follow_hash == follow_hash(code_id)))


def find(typed: str) -> FeedbackCase | None:
    """A case by its number or by the survey code it came with."""
    typed = typed.strip()[:64]
    return by_number(typed) or by_code(typed) if typed else None


def of_units(unit_ids: set[int] | None, *, status: str | None = None) -> list[FeedbackCase]:
    """Cases of these units (all when None), the oldest deadline first."""
    query = select(FeedbackCase).order_by(FeedbackCase.status.desc(), FeedbackCase.due_on, FeedbackCase.number)
    if unit_ids is not None:
        query = query.where(FeedbackCase.unit_id.in_(unit_ids))
    if status:
        query = query.where(FeedbackCase.status == status)
    return list(db.session.scalars(query))


def close(case: FeedbackCase, *, outcome: str, actor: str) -> None:
    outcome = outcome.replace("\r\n", "\n").strip()
    if case.status == CaseStatus.CLOSED:
        raise CaseError("Phản ánh, kiến nghị này đã được đóng.")
    if not outcome:
        raise CaseError("Ghi kết quả xử lý: người dân sẽ đọc nội dung này khi tra cứu.")
    if len(outcome) > OUTCOME_LIMIT:
        raise CaseError(f"Kết quả xử lý dài quá {OUTCOME_LIMIT} ký tự ({len(outcome)}).")
    case.status, case.outcome, case.closed_on = CaseStatus.CLOSED.value, outcome, local_date(utcnow())
    audit.record(actor, "case.close", case.number, unit=case.unit.code, on_time=case.on_time)
    db.session.commit()


def rate(case: FeedbackCase, rating: str) -> None:
    """The citizen's one rating of how a closed case was handled. A refusal's message is the
    key of its text in the citizen's language (i18n)."""
    if case.status != CaseStatus.CLOSED:
        raise CaseError("rate_not_closed")
    if case.rating is not None:
        raise CaseError("rate_twice")
    case.rating, case.rated_on = CaseRating(rating).value, local_date(utcnow())
    db.session.commit()
