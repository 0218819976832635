"""The content of the plan report: every number, computed once, for HTML and XLSX alike."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import questionnaires

from ..compare import Comparison, Funnel, adjust_pvalues, compare_groups, funnel
from ..priorities import CriterionPriority, Priorities, priorities
from ..response_rate import CodeCounts
from ..results import MAX_WIDTH, SMALL_N, flag_reasons
from ..targets import Plan, TargetCheck, check_targets

__all__ = ["CellWarning", "PlanReport", "ResponseRate", "UnitReport", "build_report"]

CHANGE_LEVELS = ("general", "overall", "element")


@dataclass(frozen=True)
class ResponseRate:
    """Single-use codes issued in the period and their response rate (§2.6).

    With code states (``answered``, ``open``, ``open_answered``: what the database gives) the
    rate is :class:`analysis.response_rate.CodeCounts`'s, over the codes whose window has
    closed; from a plain count of codes issued it is responses / codes issued.
    """

    responses: int
    issued: int
    answered: int | None
    rate: float | None  # percent; None when no code was issued (or no window has closed)
    open: int | None = None
    open_answered: int | None = None


@dataclass(frozen=True)
class CellWarning:
    """One estimate flagged "insufficient data" (§3.5)."""

    level: str
    code: str
    n: int
    width: float | None
    reasons: tuple[str, ...] = ()  # analysis.results.flag_reasons


@dataclass(frozen=True)
class UnitReport:
    """Everything the report says about one unit (``unit`` None: the whole organisation)."""

    unit: str | None
    name: str
    group: Any  # GroupResult of the period, or None when the unit has no responses
    baseline_group: Any
    checks: tuple[TargetCheck, ...]
    changes: tuple[Comparison, ...]
    response: ResponseRate | None
    priorities: Priorities | None
    warnings: tuple[CellWarning, ...]

    @property
    def n(self) -> int:
        return 0 if self.group is None else int(self.group.n)

    def concentrate(self, k: int = 5) -> tuple[CriterionPriority, ...]:
        return () if self.priorities is None else self.priorities.concentrate(k)

    def check(self, level: str, code: str | None = None) -> TargetCheck | None:
        for c in self.checks:
            if c.level == level and (code is None or c.code == code):
                return c
        return None

    def change(self, level: str, code: str) -> Comparison | None:
        for c in self.changes:
            if c.level == level and c.code == code:
                return c
        return None


@dataclass(frozen=True)
class PlanReport:
    plan: Plan
    questionnaire: questionnaires.Questionnaire
    period: str
    start: dt.date
    end: dt.date
    baseline: str | None
    baseline_start: dt.date | None
    baseline_end: dt.date | None
    lang: str
    generated: dt.date
    confidence: float
    ci_method: str
    small_n: int
    max_width: float
    department: UnitReport
    units: tuple[UnitReport, ...]
    funnel: Funnel | None
    has_issuance: bool
    adjust: str = "holm"
    notes: tuple[str, ...] = field(default=())

    @property
    def all_units(self) -> tuple[UnitReport, ...]:
        return (self.department, *self.units)


def _questionnaire(df: pd.DataFrame, plan: Plan, questionnaire: Any) -> questionnaires.Questionnaire:
    from .. import resolve_questionnaire

    if questionnaire is not None:
        return resolve_questionnaire(questionnaire)
    if plan.questionnaire is not None:
        return resolve_questionnaire(plan.questionnaire)
    if "questionnaire" in df.columns:
        ids = sorted({str(v) for v in df["questionnaire"].dropna()})
        if len(ids) == 1:
            key = ids[0]
            if "questionnaire_version" in df.columns:
                versions = pd.to_numeric(df["questionnaire_version"], errors="coerce").dropna()
                if len(versions):
                    key = f"{key}@{int(versions.max())}"
            return resolve_questionnaire(key)
        if len(ids) > 1:
            raise ValueError(
                f"questionnaire: the data hold answers to {', '.join(ids)}; name one"
            )
    raise ValueError("questionnaire: name it (in the plan or with --questionnaire)")


def _width(est: Any) -> float | None:
    ci = getattr(est, "ci", None)
    if ci is None or ci[0] is None or ci[1] is None:
        return None
    return float(ci[1]) - float(ci[0])


def _warnings(group: Any, small_n: int, max_width: float) -> tuple[CellWarning, ...]:
    if group is None:
        return ()
    items: list[tuple[str, str, Any]] = []
    if group.general is not None:
        items.append(("general", "general", group.general))
    items.append(("overall", "overall", group.overall))
    items += [("element", k, e) for k, e in group.elements.items()]
    items += [("criterion", k, c) for k, c in group.criteria.items()]
    return tuple(
        CellWarning(level, code, int(est.n), _width(est),
                    flag_reasons(est.value, est.ci, int(est.n), small_n, max_width))
        for level, code, est in items
        if est.flag
    )


def _response_rates(
    period_df: pd.DataFrame, issuance: pd.DataFrame | None, unit: str, start: dt.date,
    end: dt.date,
) -> dict[str | None, ResponseRate] | None:
    """Per unit (and None = all): responses with single-use codes / single codes issued."""
    if issuance is None:
        return None
    missing = [c for c in ("unit", "issued") if c not in issuance.columns]
    day_col = "day" if "day" in issuance.columns else ("date" if "date" in issuance.columns
                                                         else None)
    if missing or day_col is None:
        need = ", ".join(missing + ([] if day_col else ["day"]))
        raise ValueError(f"issuance: column(s) {need} missing (need unit, day, issued)")
    codes = issuance.copy()
    days = pd.to_datetime(codes[day_col], errors="coerce")
    if days.isna().any():
        raise ValueError(f"issuance: column '{day_col}' has values that are not dates")
    codes = codes[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]
    if "kind" in codes.columns:
        codes = codes[codes["kind"].astype(str) == "single"]
    issued = pd.to_numeric(codes["issued"], errors="coerce").fillna(0)
    def column(name: str) -> pd.Series | None:
        return pd.to_numeric(codes[name], errors="coerce").fillna(0) if name in codes.columns else None

    answered, still_open, open_answered = column("answered"), column("open"), column("open_answered")

    def rate_of(mask: Any, n_resp: int) -> ResponseRate:
        n_issued = int(issued[mask].sum())
        if answered is None or still_open is None or open_answered is None:
            return ResponseRate(responses=n_resp, issued=n_issued,
                                answered=None if answered is None else int(answered[mask].sum()),
                                rate=100.0 * n_resp / n_issued if n_issued else None)
        counts = CodeCounts(handed_out=n_issued, answered=int(answered[mask].sum()),
                            open=int(still_open[mask].sum()), open_answered=int(open_answered[mask].sum()))
        return ResponseRate(responses=n_resp, issued=n_issued, answered=counts.answered, rate=counts.rate,
                            open=counts.open, open_answered=counts.open_answered)

    responses = period_df
    if "channel" in responses.columns:
        responses = responses[responses["channel"].astype(object) == "single"]
    counts = responses[unit].astype(object).value_counts(dropna=True)
    counts.index = counts.index.map(str)
    units = sorted(set(codes["unit"].astype(str)) | {str(u) for u in counts.index})
    out: dict[str | None, ResponseRate] = {}
    for u in units:
        out[u] = rate_of(codes["unit"].astype(str) == u, int(counts.get(u, 0)))
    out[None] = rate_of(slice(None), int(counts.sum()))
    return out


def _in_window(df: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    from ..periods import to_dates

    days = to_dates(df["submitted_on"])
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    return df[(days >= lo) & (days <= hi)]


def build_report(
    df: pd.DataFrame,
    plan: Plan,
    *,
    period: str,
    questionnaire: Any = None,
    issuance: pd.DataFrame | None = None,
    lang: str = "vi",
    unit: str = "unit",
    baseline: str | None = None,
    ci_method: str = "wilson",
    small_n: int = SMALL_N,
    max_width: float = MAX_WIDTH,
    today: dt.date | None = None,
) -> PlanReport:
    """Compute the plan report for one period (see :mod:`analysis.report`).

    Parameters
    ----------
    df : DataFrame
        Responses in the export format (needs ``submitted_on`` and the unit column).
    plan : Plan
        From :func:`analysis.targets.load_plan`.
    period : str
        A period label: ``2024``, ``2024-H1``, ``2024-Q1``, ``2024-03``, ``2024-PAR-6M``.
    questionnaire : Questionnaire or str, optional
        Default: the plan's, else the data's ``questionnaire`` column.
    issuance : DataFrame, optional
        Codes issued per unit and day (:func:`analysis.load_issuance`, or columns
        ``unit, day, issued[, kind, answered]``); gives the response rates.
    lang : {"vi", "en"}
    unit : str
        The unit column.
    baseline : str, optional
        Overrides the plan's baseline period.
    ci_method, small_n, max_width : as for :func:`analysis.analyze`.
    today : date, optional
        The report's date (default: today).
    """
    from .. import analyze
    from ..periods import period_bounds

    if lang not in ("vi", "en"):
        raise ValueError(f"lang: must be 'vi' or 'en', got {lang!r}")
    if not isinstance(df, pd.DataFrame):
        raise ValueError("df: must be a pandas DataFrame")
    for column in (unit, "submitted_on"):
        if column not in df.columns:
            raise ValueError(f"{column}: column '{column}' is missing; the report needs it")
    q = _questionnaire(df, plan, questionnaire)
    plan.validate(q)
    start, end = period_bounds(str(period))
    baseline = baseline if baseline is not None else plan.baseline
    options: dict[str, Any] = {"confidence": plan.confidence, "ci_method": ci_method,
                               "small_n": small_n, "max_width": max_width}

    period_df = _in_window(df, start, end)
    if len(period_df) == 0:
        raise ValueError(f"period: no responses from {start} to {end} ({period})")
    by_unit = analyze(period_df, q, by=(unit,), **options)
    whole = analyze(period_df, q, **options).groups[0]

    b_start = b_end = None
    base_units: dict[Any, Any] = {}
    base_whole = None
    if baseline is not None:
        b_start, b_end = period_bounds(baseline)
        base_df = _in_window(df, b_start, b_end)
        if len(base_df):
            base_units = {g.keys[unit]: g for g in analyze(base_df, q, by=(unit,), **options).groups}
            base_whole = analyze(base_df, q, **options).groups[0]

    rates = _response_rates(period_df, issuance, unit, start, end)
    current = {g.keys[unit]: g for g in by_unit.groups}
    order = [u for u in plan.units if u in current] + sorted(
        (u for u in current if u not in plan.units and u is not None), key=str
    )
    if None in current:
        order.append(None)  # responses without a unit: their own row

    def unit_report(code: Any, group: Any, base: Any, sub: pd.DataFrame) -> UnitReport:
        targets = plan.targets_for(None if code is None else str(code))
        changes: tuple[Comparison, ...] = ()
        if base is not None and group is not None:
            changes = tuple(compare_groups(
                group, base, design=False, confidence=plan.confidence, levels=CHANGE_LEVELS,
                keys={} if code is None else {unit: code}, dimension="period",
                label=str(period), reference=str(baseline),
            ))
        prio = None
        if len(sub):
            prio = priorities(sub, q, confidence=plan.confidence, small_n=small_n,
                              max_width=max_width)
        return UnitReport(
            unit=None if code is None else str(code),
            name=plan.unit_name(str(code)) if code is not None else "",
            group=group, baseline_group=base,
            checks=check_targets(group, targets) if group is not None else (),
            changes=changes,
            response=None if rates is None else rates.get(
                None if code is None else str(code), ResponseRate(0, 0, None, None)),
            priorities=prio, warnings=_warnings(group, small_n, max_width),
        )

    unit_values = period_df[unit].astype(object)
    units = [
        unit_report(u, current[u], base_units.get(u),
                    period_df[unit_values == u] if u is not None else period_df[unit_values.isna()])
        for u in order
    ]
    units = _adjust_changes(units)
    department = unit_report(None, whole, base_whole, period_df)

    fun = None
    general_units = [(u.unit or "–", u.group.general) for u in units
                     if u.group is not None and u.group.general is not None and u.group.general.n]
    if len(general_units) >= 2:
        fun = funnel(
            x=[float(e.satisfied) for _, e in general_units],
            n=[float(e.n) for _, e in general_units],
            labels=[label for label, _ in general_units],
            flags=[e.flag for _, e in general_units],
        )
    return PlanReport(
        plan=plan, questionnaire=q, period=str(period), start=start, end=end,
        baseline=baseline if base_whole is not None else None,
        baseline_start=b_start if base_whole is not None else None,
        baseline_end=b_end if base_whole is not None else None,
        lang=lang, generated=today or dt.date.today(), confidence=plan.confidence,
        ci_method=by_unit.ci_method, small_n=small_n, max_width=max_width,
        department=department, units=tuple(units), funnel=fun,
        has_issuance=rates is not None,
    )


def _adjust_changes(units: Sequence[UnitReport]) -> list[UnitReport]:
    """Holm-adjust the change p-values across units, per indicator."""
    families: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for i, u in enumerate(units):
        for j, c in enumerate(u.changes):
            families.setdefault((c.level, c.code), []).append((i, j))
    adjusted: dict[tuple[int, int], float | None] = {}
    for members in families.values():
        values = adjust_pvalues([units[i].changes[j].difference.p_value for i, j in members],
                                method="holm")
        for key, v in zip(members, values, strict=True):
            adjusted[key] = float(v) if math.isfinite(v) else None
    out = []
    for i, u in enumerate(units):
        changes = tuple(
            Comparison(c.keys, c.dimension, c.label, c.reference, c.level, c.code,
                       c.difference, adjusted.get((i, j)), c.flag)
            for j, c in enumerate(u.changes)
        )
        out.append(UnitReport(u.unit, u.name, u.group, u.baseline_group, u.checks, changes,
                              u.response, u.priorities, u.warnings))
    return out


def estimate_rows(report: PlanReport, unit_report: UnitReport) -> list[Mapping[str, Any]]:
    """(level, code, name, estimate) rows of one unit, in report order."""
    q = report.questionnaire
    lang = report.lang
    g = unit_report.group
    if g is None:
        return []
    rows: list[Mapping[str, Any]] = []
    if g.general is not None and q.general is not None:
        rows.append({"level": "general", "code": q.general.code, "key": "general",
                     "name": q.general.text[lang], "est": g.general})
    rows.append({"level": "overall", "code": "", "key": "overall", "name": "", "est": g.overall})
    for e in q.elements:
        if e.code in g.elements:
            rows.append({"level": "element", "code": e.code, "key": e.code,
                         "name": e.title[lang], "est": g.elements[e.code]})
    for c in q.criteria:
        if c.code in g.criteria:
            rows.append({"level": "criterion", "code": c.code, "key": c.code,
                         "name": c.text[lang], "est": g.criteria[c.code]})
    return rows
