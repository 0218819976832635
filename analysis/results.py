"""Frozen result objects of :func:`analysis.analyze` and their JSON form.

Units: ``value`` (JSON ``index``), ``se`` and ``ci`` are percent (0–100), unrounded;
``mean`` and ``mean_ci`` are on the answer scale (1–5). Anything that cannot be estimated
is None (JSON null), never NaN.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from questionnaires import Questionnaire

#: The small-cell flag (methodology §3.5).
INSUFFICIENT = "insufficient data"


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _pair(pair: tuple[float, float] | None) -> list[float | None] | None:
    return None if pair is None else [_num(pair[0]), _num(pair[1])]


def _key(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Estimate:
    """An index with its uncertainty.

    Attributes
    ----------
    value : float or None
        The index in percent (``index`` is an alias); None when nobody answered.
    se : float or None
        Standard error in percent (linearisation; design-based under a design).
    ci : (low, high) or None
        Confidence interval in percent.
    n : int
        Respondents it rests on (methodology §2.3a).
    flag : str or None
        ``"insufficient data"`` when n < ``small_n``, the interval is wider than
        ``max_width`` points, or there is no estimate or interval.
    deff, n_eff, df : design effect, effective sample size n/deff, design degrees of
        freedom (None without a design).
    note : str or None
        What a reader should know (components missing, a fallback rule applied).
    """

    value: float | None
    se: float | None
    ci: tuple[float, float] | None
    n: int
    flag: str | None = None
    deff: float | None = None
    n_eff: float | None = None
    df: int | None = None
    note: str | None = None

    @property
    def index(self) -> float | None:
        return self.value

    def to_json(self, design: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": _num(self.value), "se": _num(self.se), "ci": _pair(self.ci),
            "n": int(self.n), "flag": self.flag,
        }
        if design:
            out.update(deff=_num(self.deff), n_eff=_num(self.n_eff), df=self.df)
        out["note"] = self.note
        return out


@dataclass(frozen=True)
class CriterionEstimate(Estimate):
    """A criterion (or the general question): the index plus the count satisfied, the
    mean score with its interval and the answer distribution (unweighted counts per
    level, keys ``"1"``.. as text)."""

    satisfied: int = 0
    mean: float | None = None
    mean_ci: tuple[float, float] | None = None
    distribution: Mapping[str, int] = field(default_factory=dict)
    distribution_weighted: Mapping[str, float] | None = None

    def to_json(self, design: bool = False) -> dict[str, Any]:
        out = super().to_json(design)
        note = out.pop("note")
        out.update(
            satisfied=int(self.satisfied), mean=_num(self.mean), mean_ci=_pair(self.mean_ci),
            distribution={k: int(v) for k, v in self.distribution.items()},
        )
        if self.distribution_weighted is not None:
            out["distribution_weighted"] = {
                k: _num(v) for k, v in self.distribution_weighted.items()
            }
        out["note"] = note
        return out


@dataclass(frozen=True)
class ExpectationEstimate:
    """An expectation item (methodology §2.4): the share answering the top level
    ("Rất nhiều") and the share answering one of the top two levels, among its n
    answerers."""

    n: int
    top: Estimate
    top_two: Estimate
    distribution: Mapping[str, int] = field(default_factory=dict)

    def to_json(self, design: bool = False) -> dict[str, Any]:
        return {
            "n": int(self.n), "top": self.top.to_json(design),
            "top_two": self.top_two.to_json(design),
            "distribution": {k: int(v) for k, v in self.distribution.items()},
        }


@dataclass(frozen=True)
class GroupResult:
    """The estimates of one group (one combination of the ``by`` values and period)."""

    keys: Mapping[str, Any]
    n: int
    general: CriterionEstimate | None
    overall: Estimate
    elements: Mapping[str, Estimate]
    criteria: Mapping[str, CriterionEstimate]
    expectations: Mapping[str, ExpectationEstimate] = field(default_factory=dict)
    df: int | None = None

    def to_json(self, design: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "keys": {k: _key(v) for k, v in self.keys.items()},
            "n": int(self.n),
            "general": None if self.general is None else self.general.to_json(design),
            "overall": self.overall.to_json(design),
            "elements": {k: e.to_json(design) for k, e in self.elements.items()},
            "criteria": {k: c.to_json(design) for k, c in self.criteria.items()},
            "expectations": {k: e.to_json(design) for k, e in self.expectations.items()},
        }
        if design:
            out["df"] = self.df
        return out


@dataclass(frozen=True)
class AnalysisResult:
    """Everything :func:`analysis.analyze` computed; ``to_json()`` gives the issue-5 shape."""

    questionnaire: Questionnaire
    confidence: float
    ci_method: str
    weight: str | None
    strata: str | None
    cluster: str | None
    df: int | None
    by: tuple[str, ...]
    period: str | None
    date_from: dt.date | None
    date_to: dt.date | None
    bootstrap: int | None
    small_n: int
    max_width: float
    groups: tuple[GroupResult, ...]

    @property
    def is_design(self) -> bool:
        return any(x is not None for x in (self.weight, self.strata, self.cluster))

    def to_json(self) -> dict[str, Any]:
        """A dict that ``json.dumps(..., allow_nan=False)`` accepts."""
        design = self.is_design
        return {
            "questionnaire": self.questionnaire.id,
            "confidence": self.confidence,
            "design": {"weight": self.weight, "strata": self.strata, "cluster": self.cluster,
                       "df": self.df},
            "groups": [g.to_json(design) for g in self.groups],
            "questionnaire_version": self.questionnaire.version,
            "ci_method": self.ci_method,
            "by": list(self.by),
            "period": self.period,
            "date_from": None if self.date_from is None else self.date_from.isoformat(),
            "date_to": None if self.date_to is None else self.date_to.isoformat(),
            "bootstrap": self.bootstrap,
            "small_n": self.small_n,
            "max_width": self.max_width,
        }

    def group(self, **keys: Any) -> GroupResult:
        """The group whose keys equal ``keys`` (KeyError if there is none).

        >>> # result.group(unit="VP", period="2024-Q1")
        """
        for g in self.groups:
            if dict(g.keys) == keys:
                return g
        raise KeyError(keys)

    def to_frame(self) -> pd.DataFrame:
        """One row per group and estimate, for tables, CSV and XLSX.

        Columns: the group keys, ``group_n``, ``level`` (general, overall, element,
        criterion, expectation_top, expectation_top_two), ``code``, ``index``, ``se``,
        ``ci_low``, ``ci_high``, ``n``, ``flag``, ``satisfied``, ``mean``,
        ``mean_ci_low``, ``mean_ci_high``, ``deff``, ``n_eff``, ``df``, ``note``.
        """
        rows = []
        general_code = self.questionnaire.general.code if self.questionnaire.general else "HL"
        for g in self.groups:
            base = {k: _key(v) for k, v in g.keys.items()}
            base["group_n"] = g.n
            items: list[tuple[str, str, Estimate]] = []
            if g.general is not None:
                items.append(("general", general_code, g.general))
            items.append(("overall", "overall", g.overall))
            items += [("element", k, e) for k, e in g.elements.items()]
            items += [("criterion", k, c) for k, c in g.criteria.items()]
            for k, e in g.expectations.items():
                items += [("expectation_top", k, e.top), ("expectation_top_two", k, e.top_two)]
            for level, code, est in items:
                row = dict(base)
                row.update(
                    level=level, code=code, index=_num(est.value), se=_num(est.se),
                    ci_low=None if est.ci is None else _num(est.ci[0]),
                    ci_high=None if est.ci is None else _num(est.ci[1]),
                    n=est.n, flag=est.flag,
                    satisfied=getattr(est, "satisfied", None),
                    mean=_num(getattr(est, "mean", None)),
                    mean_ci_low=None, mean_ci_high=None,
                    deff=_num(est.deff), n_eff=_num(est.n_eff), df=est.df, note=est.note,
                )
                mean_ci = getattr(est, "mean_ci", None)
                if mean_ci is not None:
                    row.update(mean_ci_low=_num(mean_ci[0]), mean_ci_high=_num(mean_ci[1]))
                rows.append(row)
        columns = [*self.by, *(["period"] if self.period else []), "group_n", "level", "code",
                   "index", "se", "ci_low", "ci_high", "n", "flag", "satisfied", "mean",
                   "mean_ci_low", "mean_ci_high", "deff", "n_eff", "df", "note"]
        return pd.DataFrame(rows, columns=columns)
