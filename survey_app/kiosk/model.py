"""The kiosks table: a tablet paired with a unit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import SurveyCode, Unit, utcnow


class Kiosk(db.Model):
    """A counter tablet. Its browser keeps a random device key in a cookie (only the key's
    hash is stored here); it is paired by a one-time code a clerk's screen shows, valid for
    minutes. ``waiting_code_id`` is the single-use code a clerk has sent it and it has not
    yet shown: cleared when the kiosk opens it, so no lasting record links a kiosk to a code
    (and a response never names the kiosk, only the channel)."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    questionnaire: Mapped[str] = mapped_column(String(64))
    pairing_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    paired_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    waiting_code_id: Mapped[int | None] = mapped_column(ForeignKey("survey_codes.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()
    waiting_code: Mapped[SurveyCode | None] = relationship()
