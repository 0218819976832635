"""Dashboard filters, read from the query string so every view can be bookmarked."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from flask import request
from sqlalchemy import func, or_, select

from analysis.codebook import CHANNELS as CHANNEL_NAMES
from analysis.io import _unit_ids

from ..extensions import db
from ..models import Procedure, QuestionnaireVersion, Unit
from ..params import parse_day
from ..services.search import contains

PERIODS = {"month": "Tháng", "quarter": "Quý", "half": "6 tháng", "year": "Năm", "par": "Kỳ báo cáo CCHC"}
CHANNELS = {"": "Tất cả", **CHANNEL_NAMES["vi"]}  # the codebook's words (docs/glossary.md)
#: Poster answers stored flagged (in a burst, or past the per-client limit): in or out.
FLAGGED = {"": "Tính cả phiếu gắn cờ", "exclude": "Không tính phiếu gắn cờ"}


@dataclass(frozen=True)
class Filters:
    questionnaire: str
    unit: str = ""
    procedure: str = ""
    period: str = "quarter"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    channel: str = ""
    flagged: str = ""
    errors: tuple[str, ...] = field(default=(), compare=False)

    def key(self) -> tuple:
        return (self.questionnaire, self.unit, self.procedure, self.period, self.date_from, self.date_to,
                self.channel, self.flagged)

    def query(self, **overrides: object) -> dict[str, str]:
        """The filters as query-string arguments (for links that keep them)."""
        values = {"q": self.questionnaire, "unit": self.unit, "procedure": self.procedure, "period": self.period,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "", "channel": self.channel,
                  "flagged": self.flagged}
        values.update({k: str(v) for k, v in overrides.items()})
        return {k: v for k, v in values.items() if v}

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def questionnaire_ids() -> list[str]:
    return sorted({v for v in db.session.scalars(select(QuestionnaireVersion.questionnaire_id))},
                  key=lambda q: (q != "sipas-2023", q))


def questionnaire_titles() -> dict[str, str]:
    """Each questionnaire's title in Vietnamese (its newest version's), for the drop-down."""
    import questionnaires

    titles = {}
    for qid in questionnaire_ids():
        try:
            titles[qid] = questionnaires.load(qid).title["vi"]
        except LookupError:  # a version this installation no longer ships: its id will do
            titles[qid] = qid
    return titles


def _date(name: str, errors: list[str]) -> dt.date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError as exc:
        errors.append(f"{exc} Đã bỏ qua ngày này.")
        return None


def from_request() -> Filters:
    """Valid filters from the query string; anything invalid is dropped with a message."""
    errors: list[str] = []
    ids = questionnaire_ids()
    questionnaire = request.args.get("q") or (ids[0] if ids else "sipas-2023")
    if questionnaire not in ids:
        errors.append(f"Không có phiếu '{questionnaire[:40]}' (đã dùng phiếu mặc định).")
        questionnaire = ids[0] if ids else "sipas-2023"
    unit = _chosen(Unit, Unit.name, "đơn vị", (request.args.get("unit") or "").strip()[:100], errors)
    procedure = _chosen(Procedure, Procedure.name, "thủ tục", (request.args.get("procedure") or "").strip()[:100],
                        errors)
    period = request.args.get("period") or "quarter"
    if period not in PERIODS:
        errors.append(f"Kỳ '{period[:20]}' không hợp lệ (đã dùng quý).")
        period = "quarter"
    channel = request.args.get("channel") or ""
    if channel not in CHANNELS:
        channel = ""
    flagged = request.args.get("flagged") or ""
    if flagged not in FLAGGED:
        flagged = ""
    date_from, date_to = _date("from", errors), _date("to", errors)
    if date_from and date_to and date_from > date_to:
        errors.append("Ngày bắt đầu sau ngày kết thúc: đã đổi chỗ hai ngày.")
        date_from, date_to = date_to, date_from
    return Filters(questionnaire, unit, procedure, period, date_from, date_to, channel, flagged, tuple(errors))


#: Above this many units (or procedures) the filter bar takes a typed code or name instead of
#: listing them all: a province's 3,662 units and 2,000 procedures were ~450 KB of <option>s.
LIST_LIMIT = 300
_SHOWN_MATCHES = 8


def listed(model: Any) -> bool:
    """Whether the filter bar lists ``model``'s rows (Unit or Procedure) in a drop-down."""
    return (db.session.scalar(select(func.count()).select_from(model)) or 0) <= LIST_LIMIT


def _chosen(model: Any, name: Any, what: str, typed: str, errors: list[str]) -> str:
    """The code of the unit or procedure ``typed`` names: its code, or a part of its code or
    name that only it has; "" (and a message listing the candidates) otherwise."""
    if not typed or db.session.scalar(select(model.id).filter_by(code=typed)) is not None:
        return typed
    pattern = or_(model.code.contains(typed, autoescape=True), contains(name, typed))
    found = db.session.execute(select(model.code, name).where(pattern).order_by(model.code)
                               .limit(_SHOWN_MATCHES + 1)).all()
    if len(found) == 1:
        return found[0][0]
    if not found:
        errors.append(f"Không có {what} nào có mã hay tên chứa '{typed[:40]}' (đã bỏ lọc {what}).")
    else:
        shown = "; ".join(f"{n} ({c})" for c, n in found[:_SHOWN_MATCHES])
        more = " …" if len(found) > _SHOWN_MATCHES else ""
        errors.append(f"Nhiều {what} khớp với '{typed[:40]}': {shown}{more}. Gõ thêm cho đúng một {what} "
                      f"(đã bỏ lọc {what}).")
    return ""


def unit_codes(unit: str) -> set[str]:
    """The unit and every unit below it, and the units whose work they carry on (merged or
    renamed into them) with the units below those: a successor's figures run on across the
    change. The same selection as the analysis in the database (analysis.io)."""
    ids = _unit_ids(db.session.connection(), unit, descendants=True)
    return set(db.session.scalars(select(Unit.code).where(Unit.id.in_(ids))))


def apply(frame: pd.DataFrame, filters: Filters, codes: set[str] | None) -> pd.DataFrame:
    """The rows the filters select (the period type groups; it does not select)."""
    mask = pd.Series(True, index=frame.index)
    if codes is not None:
        mask &= frame["unit"].isin(codes)
    if filters.procedure:
        mask &= frame["procedure"].eq(filters.procedure)
    if filters.channel:
        mask &= frame["channel"].eq(filters.channel)
    if filters.flagged == "exclude" and "flagged" in frame:
        mask &= frame["flagged"].ne(1)
    if filters.date_from:
        mask &= frame["submitted_on"] >= pd.Timestamp(filters.date_from)
    if filters.date_to:
        mask &= frame["submitted_on"] <= pd.Timestamp(filters.date_to)
    return frame[mask] if not bool(mask.all()) else frame


def narrow(query: Any, model: Any, filters: Filters, codes: set[str] | frozenset[str] | None) -> Any:
    """``query`` over ``model`` (responses or comments: unit, procedure, day) kept to the
    filters' units, procedure and days, as :func:`apply` keeps a frame's rows."""
    if codes is not None:
        query = query.where(model.unit_id.in_(select(Unit.id).where(Unit.code.in_(codes))))
    if filters.procedure:
        query = query.where(model.procedure_id.in_(select(Procedure.id).where(Procedure.code == filters.procedure)))
    if filters.date_from:
        query = query.where(model.submitted_on >= filters.date_from)
    if filters.date_to:
        query = query.where(model.submitted_on <= filters.date_to)
    return query


__all__ = ["CHANNELS", "FLAGGED", "PERIODS", "Filters", "apply", "from_request", "narrow", "unit_codes"]
