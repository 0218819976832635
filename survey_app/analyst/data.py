"""What the dashboard shows, computed by the analysis package and cached by filter and data
version. Views and templates only display these objects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flask import current_app
from flask import g as request_memo
from sqlalchemy import func, select

import analysis
import questionnaires
from analysis import compare, priorities
from analysis.cell_tallies import CELL_COLUMNS, CellTallies, analyze_cells
from analysis.response_rate import CodeCounts
from analysis.successions import relabel
from analysis.targets import Plan, load_plan, verdict

from ..extensions import db
from ..models import CodeKind, CodeStatus, Procedure, QuestionnaireVersion, Response, SurveyCode, Unit, utcnow
from ..services import cell_store, dataset, successions
from ..services.rates import _utc_start
from . import filters as F

EXAMPLE_PLAN = Path(analysis.__file__).resolve().parent / "report" / "example_plan.toml"


@dataclass(frozen=True)
class View:
    """The filtered responses' context for one request."""

    filters: F.Filters
    questionnaire: questionnaires.Questionnaire
    unit_codes: frozenset[str] | None


def view() -> View:
    f = F.from_request()
    q = questionnaires.load(f.questionnaire)
    codes = frozenset(F.unit_codes(f.unit)) if f.unit else None
    return View(f, q, codes)


def cached(v: View, name: str, compute) -> Any:
    """``compute(selected_rows)`` cached by (name, filters) until the data change."""
    return dataset.cache.result(
        db.engine, v.filters.questionnaire, (name, v.filters.key()),
        lambda frame: compute(F.apply(frame, v.filters, set(v.unit_codes) if v.unit_codes else None)),
    )


def derived(v: View, name: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, built from results the page already has (a chart, a comparison),
    cached like :func:`cached` but without loading the rows it would not read."""
    return dataset.cache.value(db.engine, v.filters.questionnaire, (name, v.filters.key()), compute)


def selected(v: View) -> pd.DataFrame:
    return cached(v, "rows", lambda rows: rows)


def from_cells(v: View, options: dict[str, Any]) -> bool:
    """Whether the analysis can come from the cell tallies: they are kept by unit, channel,
    same-day flag and half-month (or day), not by procedure or the poster flag, and hold
    no design."""
    return not v.filters.procedure and not v.filters.flagged and set(options) <= {"by", "period"} and set(
        (options.get("by"),) if isinstance(options.get("by"), str) else options.get("by") or ()) <= set(CELL_COLUMNS)


def cells(v: View) -> CellTallies:
    """The cells of the responses the filters select (a date window is a union of cells)."""
    f = v.filters
    memo = request_memo.setdefault("sipas_cells", {})  # once per request, however many analyses read them
    if f.key() not in memo:
        memo[f.key()] = _selected_cells(v)
    return memo[f.key()]


def _selected_cells(v: View) -> CellTallies:
    f = v.filters
    found = cell_store.cells_for(db.engine, f.questionnaire, window=(f.date_from, f.date_to))
    table = found.cells
    mask = np.ones(len(table), dtype=bool)
    if v.unit_codes is not None:
        mask &= table["unit"].isin(v.unit_codes).to_numpy()
    if f.channel:
        mask &= (table["channel"] == f.channel).to_numpy()
    if f.date_from:
        mask &= (table["first"] >= pd.Timestamp(f.date_from)).to_numpy()
    if f.date_to:
        mask &= (table["last"] <= pd.Timestamp(f.date_to)).to_numpy()
    return found.select(mask)


def analyze(v: View, **options: Any) -> analysis.AnalysisResult:
    """The analysis of the selected responses: from the cell tallies when the filters and
    options allow (the same numbers, without loading responses), else from the rows. By unit,
    a merged or renamed unit's answers count under the unit that carries on its work."""
    successors = successors_for(options.get("by"))
    key = "analyze:" + repr(sorted(options.items())) + (repr(successions.version()) if successors else "")
    if from_cells(v, options):
        return derived(v, key, lambda: analyze_cells(as_successors(cells(v), successors), v.questionnaire,
                                                      **options))
    return cached(v, key, lambda rows: analysis.analyze(as_successors(rows, successors), v.questionnaire,
                                                        **options))


def successors_for(by: Any) -> dict[str, str]:
    """The successor of each merged unit when the analysis groups ``by`` unit, else nothing."""
    return successions.final_successors() if "unit" in ((by,) if isinstance(by, str) else by or ()) else {}


def as_successors(data: pd.DataFrame | CellTallies, successors: dict[str, str]) -> Any:
    """``data`` (rows or cells) with each merged unit's code replaced by its successor's (the
    dashboard, the indices API and analysis.indb group a merged unit's answers alike)."""
    if not successors:
        return data
    if isinstance(data, CellTallies):
        return dataclasses.replace(data, cells=data.cells.assign(unit=relabel(data.cells["unit"], successors)))
    return data.assign(unit=relabel(data["unit"], successors))


def plan() -> tuple[Plan | None, str]:
    """The plan's targets: SIPAS_PLAN_FILE, else the example plan (said on the page)."""
    path = current_app.config.get("SIPAS_PLAN_FILE")
    source = Path(path) if path else EXAMPLE_PLAN
    try:
        return load_plan(source), str(source if path else "kế hoạch mẫu — đơn vị chưa cài kế hoạch của mình; "
                                                           "nhờ người quản trị máy chủ cài tệp kế hoạch")
    except (OSError, ValueError) as exc:
        return None, f"không đọc được kế hoạch {source}: {exc}"


def unit_targets(p: Plan | None, unit: str) -> Any:
    """The targets for the unit in view (the department's when no unit is chosen)."""
    return None if p is None else p.targets_for(unit or None)


def verdict_of(estimate: Any, target: float | None) -> str | None:
    """The plan report's verdict: from the interval alone, flagged (small) estimates
    included, since a wide interval already makes them inconclusive unless it is clear."""
    if estimate is None or target is None or estimate.ci is None:
        return None
    return verdict(ci=estimate.ci, target=target)


@dataclass(frozen=True)
class Rate:
    """Single-use codes issued in the window (by issue date): voided ones apart, the rest
    counted as in ``analysis.response_rate`` (rate over the codes whose window has closed)."""

    issued: int
    voided: int
    codes: CodeCounts

    @property
    def rate(self) -> float | None:
        return self.codes.rate


def response_rate(v: View) -> Rate:
    """Counted in the database, grouped by status and by whether the code's window is still
    open (a million codes would take seconds to count in Python)."""
    f = v.filters
    window_open = (SurveyCode.expires_at > utcnow()).label("window_open")
    query = (select(SurveyCode.status, window_open, func.count())
             .join(QuestionnaireVersion, QuestionnaireVersion.id == SurveyCode.questionnaire_version_id)
             .where(SurveyCode.kind == CodeKind.SINGLE.value, QuestionnaireVersion.questionnaire_id == f.questionnaire))
    if v.unit_codes is not None:
        query = query.join(Unit, Unit.id == SurveyCode.unit_id).where(Unit.code.in_(v.unit_codes))
    if f.procedure:
        query = query.join(Procedure, Procedure.id == SurveyCode.procedure_id).where(Procedure.code == f.procedure)
    if f.date_from:
        query = query.where(SurveyCode.issued_at >= _utc_start(f.date_from))
    if f.date_to:
        query = query.where(SurveyCode.issued_at < _utc_start(f.date_to + dt.timedelta(days=1)))
    counts = {(status, bool(is_open)): int(n)
              for status, is_open, n in db.session.execute(query.group_by(SurveyCode.status, window_open))}
    voided = sum(n for (status, _), n in counts.items() if status == CodeStatus.VOIDED.value)
    handed = {key: n for key, n in counts.items() if key[0] != CodeStatus.VOIDED.value}
    answered = CodeStatus.ANSWERED.value
    return Rate(issued=voided + sum(handed.values()), voided=voided, codes=CodeCounts(
        handed_out=sum(handed.values()),
        answered=sum(n for (status, _), n in handed.items() if status == answered),
        open=sum(n for (_, is_open), n in handed.items() if is_open),
        open_answered=handed.get((answered, True), 0)))


def issuance(v: View, period: str) -> pd.DataFrame:
    """Single-use codes issued in the report's period for the units (and procedure) in view:
    the plan report's response rates, read as ``sipas report --db`` reads them."""
    start, end = analysis.period_bounds(period)
    frame = analysis.load_issuance(db.engine, questionnaire=v.filters.questionnaire, date_from=start,
                                   date_to=end, units=v.filters.unit or None,
                                   timezone=current_app.config["SIPAS_TIMEZONE"])
    if v.filters.procedure:
        frame = frame[frame["procedure"] == v.filters.procedure]
    return frame


@dataclass(frozen=True)
class Coverage:
    """How many responses the filters select, and the first and last day they were given."""

    responses: int
    first: dt.date | None
    last: dt.date | None


def coverage(v: View) -> Coverage:
    """Counted in the database (an index range), like the response rate."""
    f = v.filters
    query = (select(func.count(), func.min(Response.submitted_on), func.max(Response.submitted_on))
             .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
             .where(QuestionnaireVersion.questionnaire_id == f.questionnaire))
    query = F.narrow(query, Response, f, v.unit_codes)
    if f.channel:
        query = query.where(Response.channel == f.channel)
    if f.flagged == "exclude":
        query = query.where(Response.burst.is_(False))
    count, first, last = db.session.execute(query).one()
    return Coverage(int(count), _day(first), _day(last))


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite gives text


def split(v: View, column: str, first: Any, second: Any) -> dict[str, Any] | None:
    """General and composite indices of two kinds of answers (``column`` is ``first``, is
    ``second``) with their difference, the other answers left out (a group of their own would
    change the others' intervals, which are computed over the whole sample): answers given
    on the day the code was printed against later ones (``same_day``), on the counter's kiosk
    against a phone's (``channel``)."""
    name = f"split:{column}"
    if from_cells(v, {"by": column}):
        def from_cell_tallies() -> analysis.AnalysisResult | None:
            found = cells(v)
            chosen = found.select(found.cells[column].isin([first, second]).to_numpy())
            return analyze_cells(chosen, v.questionnaire, by=column) if len(chosen) else None

        return _split(derived(v, name, from_cell_tallies), column, first, second)
    return _split(cached(v, name, lambda rows: _split_rows(rows, v.questionnaire, column, (first, second))),
                  column, first, second)


def _split_rows(rows: pd.DataFrame, q: questionnaires.Questionnaire, column: str,
                values: tuple[Any, Any]) -> analysis.AnalysisResult | None:
    if column not in rows:
        return None
    chosen = rows[column].isin(values)
    if not bool(chosen.any()):
        return None
    # Only the columns the two indices read.
    columns = [c.code for c in q.criteria] + ([q.general.code] if q.general else []) + [column]
    picked = rows[[c for c in columns if c in rows]]
    return analysis.analyze(picked if bool(chosen.all()) else picked[chosen], q, by=column)


def _split(result: analysis.AnalysisResult | None, column: str, first: Any, second: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    groups = {(int(g.keys[column]) if column == "same_day" else g.keys[column]): g for g in result.groups}
    a, b = groups.get(first), groups.get(second)
    differences = {}
    for level in ("general", "overall") if a is not None and b is not None else ():
        x, y = getattr(a, level), getattr(b, level)
        if x is None or y is None or x.value is None or y.value is None:
            continue
        differences[level] = compare.diff_estimates(a=x.value, se_a=x.se, b=y.value, se_b=y.se, n_a=x.n, n_b=y.n)
    return {"first": a, "second": b, "differences": differences}


def trend(v: View) -> dict[str, Any]:
    result = analyze(v, period=v.filters.period)
    groups = sorted(result.groups, key=lambda g: analysis.period_sort_key(g.keys["period"]))
    latest = None
    if len(groups) >= 2:
        # From the analysis above: analysing a million rows again would double the page's time.
        comparisons = derived(v, "trend-compare:" + v.filters.period, lambda: compare.compare_periods(
            result, levels=("general", "overall")))
        last = groups[-1].keys["period"]
        latest = [c for c in comparisons.comparisons if c.label == last]
    return {"groups": groups, "latest": latest}


def units(v: View) -> dict[str, Any]:
    result = analyze(v, by="unit")
    ranking = None
    if sum(g.keys.get("unit") is not None for g in result.groups) >= 2:
        # The page shows the ranking (shrinkage, funnel) only, from the per-unit result: no
        # comparisons (every pair of a province's 800 units was 318,000 of them, 16-19 s).
        rankings = derived(v, "units-ranking", lambda: compare.rank_units(result))
        ranking = rankings[0] if rankings else None
    names = dict(db.session.execute(select(Unit.code, Unit.name)).all())  # rows, no ORM object a unit
    return {"result": result, "ranking": ranking, "names": names, "merged": successions.merged_into()}


def importance(v: View) -> Any:
    return cached(v, "priorities", lambda rows: priorities.priorities(rows, v.questionnaire))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)
