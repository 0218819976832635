"""The unit_successions table: a merger or a rename maps a unit to the one that carries on
its work from a date (on 1 July 2025, 63 provinces became 34 and the districts were
dissolved; ~3,300 communes and wards remain)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .models import Unit, utcnow


class UnitSuccession(db.Model):
    """``predecessor`` ceased on ``effective_on``; ``successor`` carries on its work from that
    day. Several predecessors of one successor are a merger; one is a rename or a transfer.
    The analysis groups a predecessor's answers under its last successor (with a note), so a
    trend runs on across the change."""

    __tablename__ = "unit_successions"
    __table_args__ = (CheckConstraint("predecessor_id <> successor_id", name="not_itself"),)

    predecessor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64))

    predecessor: Mapped[Unit] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Unit] = relationship(foreign_keys=[successor_id])
