"""The feedback tables: cases, and the one-stop system's dossier counts (imported)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Procedure, Unit, _enum_check, random_id, utcnow


class CaseKind(enum.StrEnum):
    COMPLAINT = "complaint"  # phản ánh
    REQUEST = "request"  # kiến nghị


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseRating(enum.StrEnum):
    """The citizen's word on how the case was handled, once it is closed."""

    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"


class FeedbackCase(db.Model):
    """A complaint or request. Like a comment it is not linked to the response it came with,
    so whoever handles it cannot see the person's scores; ``follow_hash`` (a keyed hash of a
    single-use code) lets the citizen find it again with the code on the receipt, and
    ``number`` (random) with the number the thank-you page showed. Dates only, no times."""

    __tablename__ = "feedback_cases"
    __table_args__ = (
        CheckConstraint(_enum_check("kind", CaseKind), name="kind"),
        CheckConstraint(_enum_check("status", CaseStatus), name="status"),
        CheckConstraint(f"rating IS NULL OR {_enum_check('rating', CaseRating)}", name="rating"),
        Index("ix_feedback_cases_unit_received", "unit_id", "received_on"),
        Index("ix_feedback_cases_status_due", "status", "due_on"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    follow_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    received_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    rating: Mapped[str | None] = mapped_column(String(16))
    rated_on: Mapped[dt.date | None] = mapped_column(Date)

    unit: Mapped[Unit] = relationship()
    procedure: Mapped[Procedure | None] = relationship()

    @property
    def on_time(self) -> bool | None:
        """Closed by the deadline; None while open."""
        return None if self.closed_on is None else self.closed_on <= self.due_on


class DossierTally(db.Model):
    """Dossiers decided and overdue per unit and month, imported from the one-stop system
    (sipas does not see dossiers, only the codes it printed): the 766 item that needs them."""

    __tablename__ = "dossier_tallies"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # the month's first day
    decided: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(64))

    unit: Mapped[Unit] = relationship()
