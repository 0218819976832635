"""Database models (SQLAlchemy 2, typed). The schema is documented in docs/CONTRACTS.md.

Anonymity is a property of this schema: a response row keeps no reference to the code that
was used, no address, no user agent and no time finer than the date; its id is random and,
on SQLite, the table has no rowid, so storage order does not reveal submission order.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> dt.datetime:
    """Timestamps are stored as naive UTC on both backends."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def random_id() -> str:
    return secrets.token_hex(16)


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    ANALYST = "analyst"


#: Roles as pages name them (docs/glossary.md).
ROLE_NAMES = {Role.ADMIN.value: "quản trị viên", Role.STAFF.value: "nhân viên",
              Role.ANALYST.value: "chuyên viên phân tích"}


class UnitKind(enum.StrEnum):
    """Where a unit stands in a province's two-tier government (since 1 July 2025)."""

    PROVINCE = "province"  # the provincial People's Committee (UBND tỉnh)
    DEPARTMENT = "department"  # a department (sở, ban, ngành)
    CENTRE = "centre"  # a Public Administrative Service Centre or one of its branches
    COMMUNE = "commune"  # a commune or ward (UBND xã, phường) and its centre
    SECTION = "section"  # a section (phòng) of a department
    COUNTER = "counter"


class CodeKind(enum.StrEnum):
    SINGLE = "single"
    COUNTER = "counter"


class Channel(enum.StrEnum):
    """How a response came in: a single-use code (phone), a counter poster, a counter kiosk."""

    SINGLE = "single"
    COUNTER = "counter"
    KIOSK = "kiosk"


class CodeStatus(enum.StrEnum):
    ISSUED = "issued"
    ANSWERED = "answered"
    VOIDED = "voided"


def _enum_check(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (CheckConstraint(_enum_check("kind", UnitKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=UnitKind.SECTION.value)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.code")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class Procedure(db.Model):
    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The agency competent to decide it, when a code names none (migration 0010).
    competent_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))

    competent_unit: Mapped[Unit | None] = relationship()

    def __repr__(self) -> str:
        return f"<Procedure {self.code}>"


class QuestionnaireVersion(db.Model):
    """A snapshot of every questionnaire version the database has seen: a published version
    is immutable, so a file that changed under the same number is refused."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "version", name="id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def key(self) -> str:
        return f"{self.questionnaire_id}@{self.version}"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_enum_check("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Unused since sessions are kept on the server (staff_sessions, migration 0003).
    session_token: Mapped[str] = mapped_column(String(32), default=random_id)
    # Remembered choices for one-click printing.
    last_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    last_procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])

    # The StaffSession this request runs under (set by the login and by load_user).
    staff_session_id = None  # type: str | None  (not a column)

    def get_id(self) -> str:
        return f"{self.id}:{self.staff_session_id or ''}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class StaffSession(db.Model):
    """A staff login, named by the session cookie. Logging out deletes it, so a copied cookie
    stops working; it ends SIPAS_SESSION_HOURS after the login whatever the cookie says."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    unit: Mapped[Unit | None] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split() if s)


class CodeBatch(db.Model):
    __tablename__ = "code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="web")  # web, cli, api

    unit: Mapped[Unit] = relationship()
    procedure: Mapped[Procedure | None] = relationship()
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()


class SurveyCode(db.Model):
    """A printed questionnaire code. Only a hash identifies it (a leaked database does not
    hand out unused codes); ``sealed`` is the code encrypted with a key derived from the
    secret key, so staff can reprint it."""

    __tablename__ = "survey_codes"
    __table_args__ = (
        CheckConstraint(_enum_check("kind", CodeKind), name="kind"),
        CheckConstraint(_enum_check("status", CodeStatus), name="status"),
        Index("ix_survey_codes_unit_issued", "unit_id", "issued_at"),
        # The dashboard's response rate: counts by status, covered by the index.
        Index("ix_survey_codes_kind_status", "kind", "status", "expires_at", "issued_at"),
        UniqueConstraint("dossier_hash", name="dossier_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sealed: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("code_batches.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CodeStatus.ISSUED.value)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Keyed hash of the dossier number (one-stop-shop API): repeats return the same code.
    dossier_hash: Mapped[str | None] = mapped_column(String(64))
    # The agency competent to decide the dossier, when it is not the unit that received it
    # (a service centre receives for the departments): migration 0010.
    competent_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    competent_unit: Mapped[Unit | None] = relationship(foreign_keys=[competent_unit_id])
    procedure: Mapped[Procedure | None] = relationship()
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    batch: Mapped[CodeBatch | None] = relationship()


class Response(db.Model):
    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint(_enum_check("channel", Channel), name="channel"),
        Index("ix_responses_unit_submitted", "unit_id", "submitted_on"),
        Index("ix_responses_submitted", "submitted_on"),
        # The dashboard cache's data version: count and latest date per questionnaire.
        Index("ix_responses_version_submitted", "questionnaire_version_id", "submitted_on"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    channel: Mapped[str] = mapped_column(String(16))
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    same_day: Mapped[bool | None] = mapped_column(Boolean)
    burst: Mapped[bool] = mapped_column(Boolean, default=False)
    respondent_type: Mapped[str | None] = mapped_column(String(32))
    feedback_given: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(32))
    age_group: Mapped[str | None] = mapped_column(String(32))
    ethnicity: Mapped[str | None] = mapped_column(String(32))
    education: Mapped[str | None] = mapped_column(String(32))
    occupation: Mapped[str | None] = mapped_column(String(32))
    residence: Mapped[str | None] = mapped_column(String(32))
    # The answers packed one character per item (migration 0005, kept by triggers): what a
    # process reads to load responses quickly. The answers table stays the source.
    answer_codes: Mapped[str | None] = mapped_column(String(250))
    # The code's competent agency, if it named one (migration 0010): reports cut by either.
    competent_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    procedure: Mapped[Procedure | None] = relationship()
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()


# The coded single-choice fields a response row stores, in export order.
CHOICE_FIELDS = (
    "respondent_type", "feedback_given", "gender", "age_group",
    "ethnicity", "education", "occupation", "residence",
)


class Answer(db.Model):
    __tablename__ = "answers"
    __table_args__ = ({"sqlite_with_rowid": False},)

    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)

    response: Mapped[Response] = relationship(back_populates="answers")


class AnswerPosition(db.Model):
    """Where each rated item of a questionnaire version sits in ``responses.answer_codes``
    (1-based) and the string's width; written with the version (``sync_questionnaires``)."""

    __tablename__ = "answer_positions"

    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)


class AnswerCount(db.Model):
    """Answers counted per (day, unit, procedure, questionnaire version, channel, item, level),
    kept by triggers (migration 0004) in the transaction that stores or deletes a response:
    the analysis counts levels here instead of in the answers table. ``procedure_id`` is -1
    for none; item '' with value 0 counts the responses."""

    __tablename__ = "answer_counts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    submitted_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    questionnaire_version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    item: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class TallySeal(db.Model):
    """How far the stored cell tallies of a questionnaire reach, and in which layout
    (migration 0006; written by the nightly seal)."""

    __tablename__ = "tally_seals"

    questionnaire_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    layout: Mapped[str] = mapped_column(String(16))
    through: Mapped[dt.date] = mapped_column(Date)


class CellTally(db.Model):
    """One half-month × unit × channel × same-day cell's tallies (analysis/cell_tallies.py):
    derived from the responses by the nightly seal, read by the dashboard. ``same_day`` is
    0 or 1, 2 for a response without the flag (poster and kiosk answers)."""

    __tablename__ = "cell_tallies"
    __table_args__ = ({"sqlite_with_rowid": False},)

    questionnaire_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    starts_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    same_day: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    tallies: Mapped[bytes] = mapped_column(LargeBinary)


class Comment(db.Model):
    """A scrubbed free-text comment. Deliberately not linked to its response, so a comment
    that gives its author away cannot reveal that person's scores."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_unit_submitted", "unit_id", "submitted_on"),
                      {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    procedure: Mapped[Procedure | None] = relationship()


class AnswerNonce(db.Model):
    """A poster answer's one-time value (sent by the form's script with every delivery of the
    same submission): a second delivery after a lost reply finds it and stores nothing. Keyed
    hash and date only, no link to the answer; forgotten after two days by the nightly seal
    (migration 0011)."""

    __tablename__ = "answer_nonces"
    __table_args__ = ({"sqlite_with_rowid": False},)

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_on: Mapped[dt.date] = mapped_column(Date)


class AuditEntry(db.Model):
    """Append-only (database triggers refuse UPDATE and DELETE): who did what, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)


from .feedback.model import DossierTally, FeedbackCase  # noqa: E402, F401  (complaints, requests; one-stop counts)
from .kiosk.model import Kiosk  # noqa: E402, F401  (the kiosks table, beside the others)
from .successions import UnitSuccession  # noqa: E402, F401  (mergers and renames of units)
