"""Response rates: codes issued, answered, voided and still open per unit and period.

The rate is ``analysis.response_rate``'s: answered over the codes whose window has closed
(a code still open may yet be answered); the open ones are counted apart. A voided code was
never handed to anyone. Counter (poster) codes have no denominator and are left out. Periods
follow the local calendar day the code was issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select

from analysis.response_rate import CodeCounts

from ..extensions import db
from ..models import CodeKind, SurveyCode, Unit, utcnow
from .timekeeping import zone

PERIODS = ("day", "week", "month")
COUNTS = ["issued", "voided", "closed", "closed_answered", "open", "open_answered"]
COLUMNS = ["unit", "unit_name", "period", *COUNTS, "rate"]


def _period_label(day: pd.Series, period: str) -> pd.Series:
    if period == "day":
        return day.dt.strftime("%Y-%m-%d")
    if period == "week":
        iso = day.dt.isocalendar()
        return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    return day.dt.strftime("%Y-%m")


def response_rates(*, unit_ids: Iterable[int] | None, period: str = "month",
                   date_from: dt.date | None = None, date_to: dt.date | None = None,
                   roll_up: bool = True) -> pd.DataFrame:
    """One row per unit and period. With ``roll_up`` each unit also counts the codes of the
    units below it (a section includes its counters)."""
    if period not in PERIODS:
        raise ValueError(f"period: '{period}' is not one of {', '.join(PERIODS)}")
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    query = select(SurveyCode.unit_id, SurveyCode.issued_at, SurveyCode.status, SurveyCode.expires_at).where(
        SurveyCode.kind == CodeKind.SINGLE.value)
    if date_from:
        query = query.where(SurveyCode.issued_at >= _utc_start(date_from))
    if date_to:
        query = query.where(SurveyCode.issued_at < _utc_start(date_to + dt.timedelta(days=1)))
    frame = pd.DataFrame(db.session.execute(query).all(), columns=["unit_id", "issued_at", "status", "expires_at"])
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    now = utcnow()
    local = pd.to_datetime(frame["issued_at"]).dt.tz_localize("UTC").dt.tz_convert(zone()).dt.tz_localize(None)
    frame["period"] = _period_label(local, period)
    answered = frame["status"].eq("answered")
    handed = ~frame["status"].eq("voided")
    window_open = pd.to_datetime(frame["expires_at"]).gt(now)
    frame["issued"] = 1
    frame["voided"] = (~handed).astype(int)
    frame["closed"] = (handed & ~window_open).astype(int)
    frame["closed_answered"] = (answered & ~window_open).astype(int)
    frame["open"] = (handed & window_open).astype(int)
    frame["open_answered"] = (answered & window_open).astype(int)
    counts = frame.groupby(["unit_id", "period"])[COUNTS].sum()
    if roll_up:
        counts = _roll_up(counts, units)
    counts = counts.reset_index()
    allowed = None if unit_ids is None else set(unit_ids)
    if allowed is not None:
        counts = counts[counts["unit_id"].isin(allowed)]
    counts["unit"] = counts["unit_id"].map(lambda i: units[i].code)
    counts["unit_name"] = counts["unit_id"].map(lambda i: units[i].name)
    counts["rate"] = [CodeCounts(handed_out=row.closed + row.open, answered=row.closed_answered + row.open_answered,
                                 open=row.open, open_answered=row.open_answered).rate
                      for row in counts.itertuples()]
    counts["rate"] = counts["rate"].astype(float)
    return counts.sort_values(["unit", "period"])[COLUMNS].reset_index(drop=True)


def _roll_up(counts: pd.DataFrame, units: dict[int, Unit]) -> pd.DataFrame:
    """Add each unit's counts to every unit above it."""
    rows = []
    for (unit_id, period), values in counts.iterrows():
        current: int | None = unit_id
        while current is not None:
            rows.append((current, period, *values.tolist()))
            current = units[current].parent_id if current in units else None
    rolled = pd.DataFrame(rows, columns=["unit_id", "period", *counts.columns])
    return rolled.groupby(["unit_id", "period"]).sum()


def _utc_start(day: dt.date) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)
