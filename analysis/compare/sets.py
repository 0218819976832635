"""Comparisons as results: one comparison, rankings, the set with adjusted p-values, and
the comparison of two groups' estimates."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .differences import Difference, _count, _finite, _nan_to_none, diff_estimates, diff_proportions
from .funnel import Funnel
from .multiplicity import ADJUST_METHODS, adjust_pvalues
from .shrinkage import Shrinkage

# --------------------------------------------------------------------------- results
#: What the adjustment family is (shown in the JSON).
FAMILY = "one indicator across the units (groups) for the same pair of periods or context"


@dataclass(frozen=True)
class Comparison:
    """One indicator of one group compared with its reference.

    ``keys`` are the group keys the two sides share (the context); ``dimension`` is what
    differs (``"period"`` or the unit column); ``label`` is the compared side (the later
    period, the unit) and ``reference`` the other (the earlier period, ``"rest"`` = all
    other units, or another unit). ``flag`` is ``"insufficient data"`` when either side is
    flagged.
    """

    keys: Mapping[str, Any]
    dimension: str
    label: str
    reference: str
    level: str  # "general" | "overall" | "element" | "criterion"
    code: str
    difference: Difference
    p_adjusted: float | None = None
    flag: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = self.difference
        return _nan_to_none(
            {
                "keys": dict(self.keys),
                "dimension": self.dimension,
                "label": self.label,
                "reference": self.reference,
                "level": self.level,
                "code": self.code,
                "index": d.a,
                "n": _count(d.n_a),
                "reference_index": d.b,
                "reference_n": _count(d.n_b),
                "difference": d.estimate,
                "se": d.se,
                "ci": list(d.ci),
                "p_value": d.p_value,
                "p_adjusted": self.p_adjusted,
                "method": d.method,
                "test": d.test,
                "df": d.df,
                "flag": self.flag,
            }
        )


@dataclass(frozen=True)
class Ranking:
    """Empirical-Bayes ranking and funnel-plot data of the units in one context."""

    keys: Mapping[str, Any]
    level: str
    code: str
    counts: str  # "observed" (satisfied / n) or "effective" (from index and SE)
    shrinkage: Shrinkage | None
    funnel: Funnel | None

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": _nan_to_none(dict(self.keys)),
            "level": self.level,
            "code": self.code,
            "counts": self.counts,
            "shrinkage": None if self.shrinkage is None else self.shrinkage.to_json(),
            "funnel": None if self.funnel is None else self.funnel.to_json(),
        }


@dataclass(frozen=True)
class ComparisonSet:
    """The comparisons of :func:`compare_periods` or :func:`compare_units`."""

    kind: str  # "previous" | "units"
    adjust: str
    confidence: float
    design: bool
    comparisons: tuple[Comparison, ...]
    rankings: tuple[Ranking, ...] = ()
    reference: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (no NaN): the ``comparisons`` key of ``sipas analyze --json``."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "adjust": self.adjust,
            "family": FAMILY,
            "confidence": self.confidence,
            "design": self.design,
            "items": [c.to_json() for c in self.comparisons],
        }
        if self.kind == "units":
            out["reference"] = self.reference
            out["rankings"] = [r.to_json() for r in self.rankings]
        return out


def _value(est: Any) -> float:
    value: Any = None if est is None else getattr(est, "value", None)
    return float(value) if _finite(value) else math.nan


def _se(est: Any) -> float:
    se: Any = None if est is None else getattr(est, "se", None)
    return float(se) if _finite(se) else math.nan


def _indicators(group: Any, levels: Sequence[str]) -> list[tuple[str, str, Any]]:
    """(level, code, estimate) of a GroupResult in report order."""
    out: list[tuple[str, str, Any]] = []
    if "general" in levels and getattr(group, "general", None) is not None:
        out.append(("general", "general", group.general))
    if "overall" in levels:
        out.append(("overall", "overall", group.overall))
    if "element" in levels:
        out += [("element", k, e) for k, e in group.elements.items()]
    if "criterion" in levels:
        out += [("criterion", k, c) for k, c in group.criteria.items()]
    return out


LEVELS = ("general", "overall", "element", "criterion")


def compare_estimates(
    a: Any, b: Any, *, level: str, design: bool, confidence: float = 0.95
) -> Difference:
    """Compare two estimates of the core (:class:`analysis.Estimate`) from independent samples.

    A proportion (``level`` "general" or "criterion") without a design uses
    :func:`diff_proportions` on the unweighted counts ``satisfied`` / ``n``; composites,
    and anything under a design, use :func:`diff_estimates` with ``V1 + V2`` — under a
    design with a t quantile on ``df = df_a + df_b`` (each side's PSUs minus strata;
    conservative when the sides share strata), normal when a side has no df.
    """
    proportion = level in ("general", "criterion")
    if proportion and not design:
        n_a = getattr(a, "n", 0) or 0 if a is not None else 0
        n_b = getattr(b, "n", 0) or 0 if b is not None else 0
        x_a = getattr(a, "satisfied", 0) if n_a else 0
        x_b = getattr(b, "satisfied", 0) if n_b else 0
        return diff_proportions(x1=x_a, n1=n_a, x2=x_b, n2=n_b, confidence=confidence)
    df = None
    if design:
        df_a: Any = getattr(a, "df", None)
        df_b: Any = getattr(b, "df", None)
        if _finite(df_a) and _finite(df_b):
            df = float(df_a) + float(df_b)
    return diff_estimates(
        a=_value(a), se_a=_se(a), b=_value(b), se_b=_se(b),
        n_a=float(getattr(a, "n", math.nan) if a is not None else math.nan),
        n_b=float(getattr(b, "n", math.nan) if b is not None else math.nan),
        df=df, confidence=confidence,
    )


def compare_groups(
    a: Any,
    b: Any,
    *,
    design: bool,
    confidence: float = 0.95,
    levels: Sequence[str] = LEVELS,
    keys: Mapping[str, Any] | None = None,
    dimension: str = "period",
    label: str = "",
    reference: str = "",
) -> list[Comparison]:
    """Every indicator of group ``a`` against the same indicator of group ``b``."""
    for level in levels:
        if level not in LEVELS:
            raise ValueError(f"levels: unknown level {level!r}; use {', '.join(LEVELS)}")
    flag_name = "insufficient data"
    out = []
    b_items = {(lv, code): est for lv, code, est in _indicators(b, levels)}
    for level, code, est in _indicators(a, levels):
        other = b_items.get((level, code))
        if other is None and level != "general":
            continue
        flagged = any(getattr(e, "flag", None) for e in (est, other) if e is not None)
        out.append(
            Comparison(
                keys=MappingProxyType(dict(keys or {})), dimension=dimension, label=label,
                reference=reference, level=level, code=code,
                difference=compare_estimates(est, other, level=level, design=design,
                                             confidence=confidence),
                flag=flag_name if flagged or other is None else None,
            )
        )
    return out


def _with_adjustment(comparisons: list[Comparison], method: str) -> tuple[Comparison, ...]:
    if method not in ADJUST_METHODS:
        raise ValueError(f"adjust: must be one of {', '.join(ADJUST_METHODS)}, got {method!r}")
    families: dict[Any, list[int]] = {}
    for i, c in enumerate(comparisons):
        if c.dimension == "period":
            # one indicator, one pair of periods, across the groups (units)
            family: tuple[Any, ...] = (c.level, c.code, c.label, c.reference)
        else:
            # one indicator in one context (period, other keys), across the units
            family = (c.level, c.code, tuple(sorted((k, str(v)) for k, v in c.keys.items())))
        families.setdefault(family, []).append(i)
    adjusted: list[float | None] = [None] * len(comparisons)
    for members in families.values():
        values = adjust_pvalues([comparisons[i].difference.p_value for i in members],
                                method=method)
        for i, v in zip(members, values, strict=True):
            adjusted[i] = float(v) if math.isfinite(v) else None
    return tuple(
        Comparison(c.keys, c.dimension, c.label, c.reference, c.level, c.code, c.difference,
                   adjusted[i], c.flag)
        for i, c in enumerate(comparisons)
    )


def _analyze(data: Any, questionnaire: Any, **kwargs: Any) -> Any:
    from .. import analyze  # late import: the core imports nothing from here

    if questionnaire is None:
        raise ValueError("questionnaire: needed when a DataFrame is given")
    return analyze(data, questionnaire, **kwargs)


def _is_result(obj: Any) -> bool:
    return hasattr(obj, "groups") and hasattr(obj, "questionnaire") and hasattr(obj, "to_json")




def comparisons_json(comparisons: ComparisonSet) -> dict[str, Any]:
    """The JSON-ready dict of a :class:`ComparisonSet` (same as its ``to_json()``)."""
    return comparisons.to_json()
