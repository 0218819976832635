"""Units against each other or against the rest of their context, with rankings."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .differences import _finite, diff_with_se
from .funnel import funnel
from .sets import (
    LEVELS,
    Comparison,
    ComparisonSet,
    Ranking,
    _analyze,
    _indicators,
    _is_result,
    _se,
    _value,
    _with_adjustment,
    compare_groups,
)
from .shrinkage import shrink


def _counts_for_ranking(est: Any, level: str, design: bool) -> tuple[float, float, str]:
    """(x, n, kind) for shrinkage and the funnel: observed counts for a proportion without
    a design; otherwise effective counts n_eff = θ(1 − θ)/SE², x = θ · n_eff (the counts of
    a simple random sample with the same index and SE), never more than the observed n (a
    variance that is zero up to rounding would otherwise give n_eff ≈ 10³³ and send the
    funnel's quantiles searching without end), and the observed n when SE is 0 or θ is 0
    or 1."""
    if est is None or not _finite(getattr(est, "value", None)) or not getattr(est, "n", 0):
        return math.nan, math.nan, "observed"
    if level in ("general", "criterion") and not design:
        return float(est.satisfied), float(est.n), "observed"
    theta = float(est.value) / 100.0
    se = _se(est) / 100.0
    if not (math.isfinite(se) and se > 0 and 0 < theta < 1):
        return theta * float(est.n), float(est.n), "effective"
    n_eff = min(theta * (1.0 - theta) / se**2, float(est.n))
    return theta * n_eff, n_eff, "effective"


def _rankings(groups_by_context: Mapping[tuple[Any, ...], Mapping[str, Any]], level: str,
              code: str, design: bool, confidence: float) -> tuple[Ranking, ...]:
    out = []
    for context, units in groups_by_context.items():
        labels, xs, ns, flags = [], [], [], []
        kind = "observed"
        for unit_label, g in units.items():
            est = g.general if level == "general" else g.overall
            x, n, kind_i = _counts_for_ranking(est, level, design)
            if not (math.isfinite(x) and math.isfinite(n) and n > 0):
                continue
            kind = kind_i
            labels.append(str(unit_label))
            xs.append(min(max(x, 0.0), n))
            ns.append(n)
            flags.append(getattr(est, "flag", None))
        shrunk = fun = None
        if len(labels) >= 2:
            shrunk = shrink(x=xs, n=ns, labels=labels, flags=flags, confidence=confidence)
            fun = funnel(x=xs, n=ns, labels=labels, flags=flags)
        out.append(Ranking(MappingProxyType(dict(context)), level, code, kind, shrunk, fun))
    return tuple(out)


def rank_units(result: Any, *, unit: str = "unit") -> tuple[Ranking, ...]:
    """The rankings of an analysis grouped by ``unit``, one per context (its other keys):
    empirical-Bayes shrinkage (:func:`shrink`) and funnel-plot data (:func:`funnel`) of the
    general index (HL), or of the composite when the questionnaire has no general question;
    flagged units are not ranked. What :func:`compare_units` ranks, without comparing: linear
    in the units, where every pair of 800 units is 318,000 comparisons.

    Examples
    --------
    >>> import pandas as pd, questionnaires, analysis
    >>> q = questionnaires.load("tt01-counter")
    >>> df = pd.DataFrame({"DG1": [3, 2] * 60, "DG2": [3] * 120, "DG3": [2] * 120,
    ...                    "HL": [3, 1, 2, 3] * 20 + [1, 1, 2, 3] * 10,
    ...                    "unit": ["A"] * 40 + ["B"] * 40 + ["C"] * 40})
    >>> (ranking,) = rank_units(analysis.analyze(df, q, by="unit"))
    >>> [(p.label, round(p.index, 1)) for p in ranking.funnel.points]
    [('A', 75.0), ('B', 75.0), ('C', 50.0)]
    """
    if not _is_result(result) or unit not in result.by:
        raise ValueError(f"unit: the result is not grouped by {unit!r}")
    has_general = result.questionnaire.general is not None
    level, code = ("general", "general") if has_general else ("overall", "overall")
    return _rankings(_by_context(result.groups, unit), level, code, bool(result.is_design), result.confidence)


def compare_units(
    result_or_df: Any,
    questionnaire: Any = None,
    *,
    unit: str = "unit",
    reference: str = "rest",
    by: str | Sequence[str] = (),
    period: str | None = None,
    adjust: str = "holm",
    levels: Sequence[str] = LEVELS,
    **analyze_options: Any,
) -> ComparisonSet:
    """Each unit against the others, with adjusted p-values, shrinkage and funnel data.

    ``reference="rest"`` (default): each unit against all the other units together, in
    the same context (the other ``by`` keys and period) — two independent samples; needs
    the responses (a DataFrame), since "the rest" is analysed afresh.
    ``reference="pairwise"``: every pair of units (works on an AnalysisResult too).
    p-values are adjusted within each family (one indicator in one context, across the
    units or pairs). Rankings: per context, empirical-Bayes shrinkage
    (:func:`shrink`) and funnel-plot data (:func:`funnel`) of the general index (HL), or of
    the composite when the questionnaire has no general question; flagged units are not
    ranked (:func:`rank_units`).

    Parameters
    ----------
    result_or_df : DataFrame, or AnalysisResult grouped by ``unit`` (pairwise only)
    questionnaire : Questionnaire or str (DataFrame input)
    unit : the unit column
    reference : {"rest", "pairwise"}
    by, period : further grouping (the context); DataFrame input only
    adjust : {"holm", "bh"}
    levels : indicators to compare

    Examples
    --------
    >>> import pandas as pd, questionnaires
    >>> q = questionnaires.load("tt01-counter")
    >>> df = pd.DataFrame({"DG1": [3, 2] * 60, "DG2": [3] * 120, "DG3": [2] * 120,
    ...                    "HL": [3, 1, 2, 3] * 20 + [1, 1, 2, 3] * 10,
    ...                    "unit": ["A"] * 40 + ["B"] * 40 + ["C"] * 40})
    >>> res = compare_units(df, q, levels=["general"])
    >>> [(c.label, round(c.difference.estimate, 1)) for c in res.comparisons]
    [('A', 12.5), ('B', 12.5), ('C', -25.0)]
    """
    if reference not in ("rest", "pairwise"):
        raise ValueError(f"reference: must be 'rest' or 'pairwise', got {reference!r}")
    by_t = tuple(c for c in ((by,) if isinstance(by, str) else tuple(by)) if c != unit)
    tallies: list[Any] = []  # the analysis's counts, when it has no design (the rest by subtraction)
    if _is_result(result_or_df):
        if reference == "rest":
            raise ValueError(
                "reference: 'rest' needs the responses (a DataFrame); use 'pairwise' with a result"
            )
        result = result_or_df
        if unit not in result.by:
            raise ValueError(f"unit: the result is not grouped by {unit!r}")
        data = None
    else:
        data = result_or_df
        if not hasattr(data, "columns") or unit not in data.columns:
            raise ValueError(f"unit: column {unit!r} is missing")
        result = _analyze(data, questionnaire, by=(unit, *by_t), period=period, _tallies=tallies,
                          **analyze_options)
    design = bool(result.is_design)
    confidence = result.confidence
    contexts = _by_context(result.groups, unit)

    comparisons: list[Comparison] = []
    if reference == "pairwise":
        for context, units in contexts.items():
            for (la, ga), (lb, gb) in itertools.combinations(units.items(), 2):
                comparisons += compare_groups(
                    ga, gb, design=design, confidence=confidence, levels=levels,
                    keys=dict(context), dimension=unit, label=str(la), reference=str(lb),
                )
    elif tallies and not analyze_options.get("bootstrap"):
        comparisons += _against_rest_by_subtraction(tallies[0], result, unit=unit, levels=levels)
    else:
        assert data is not None
        for label in sorted({u for units in contexts.values() for u in units if u is not None}, key=str):
            comparisons += _against_rest(data, result.questionnaire, unit=unit, label=label, by=by_t,
                                         period=period, levels=levels, confidence=confidence,
                                         analyze_options=analyze_options)
    return ComparisonSet(
        kind="units", adjust=adjust, confidence=confidence, design=design,
        comparisons=_with_adjustment(comparisons, adjust), rankings=rank_units(result, unit=unit),
        reference=reference,
    )


_SIDE = "__side__"


def _by_context(groups: Sequence[Any], column: str) -> dict[tuple[Any, ...], dict[Any, Any]]:
    """Groups by their other keys (the context), then by their value of ``column``."""
    contexts: dict[tuple[Any, ...], dict[Any, Any]] = {}
    for g in groups:
        keys = dict(g.keys)
        value = keys.pop(column)
        contexts.setdefault(tuple(keys.items()), {})[value] = g
    return contexts


def _against_rest_by_subtraction(tallies: Any, result: Any, *, unit: str,
                                 levels: Sequence[str]) -> list[Comparison]:
    """Every unit against the rest without a design, in one pass: the tallies of each group
    of the analysis by unit (:mod:`analysis.tallies`: level counts, indicator cross-products,
    answered counts) add up, so the rest of a unit is its context's total minus the unit,
    and its estimates come from the shared estimator. The same numbers as analysing the
    sample once per unit with the unit and the rest as two groups (:func:`_against_rest`),
    at the cost of one count."""
    from ..estimator import estimate
    from ..tallies import TallySource

    grouping = _Keys([dict(g.keys) for g in result.groups])
    members: dict[tuple[Any, ...], list[int]] = {}
    for g, keys in enumerate(grouping.keys):
        context = tuple((k, v) for k, v in keys.items() if k != unit)
        members.setdefault(context, []).append(g)
    pairs = [(g, context) for g, keys in enumerate(grouping.keys) if keys[unit] is not None
             for context in [tuple((k, v) for k, v in keys.items() if k != unit)] if len(members[context]) > 1]
    if not pairs:
        return []
    mix = np.zeros((len(pairs), tallies.G))
    for row, (g, context) in enumerate(pairs):
        mix[row, members[context]] = 1.0
        mix[row, g] -= 1.0
    source = TallySource(tallies.combine(mix), method=result.ci_method, confidence=result.confidence)
    rest = estimate(result.questionnaire, source, small_n=result.small_n, max_width=result.max_width,
                    grouping=_Keys([{} for _ in pairs]))
    out: list[Comparison] = []
    order = sorted(range(len(pairs)), key=lambda i: str(grouping.keys[pairs[i][0]][unit]))
    for i in order:
        g, context = pairs[i]
        label = grouping.keys[g][unit]
        out += compare_groups(result.groups[g], rest[i], design=False, confidence=result.confidence,
                              levels=levels, keys=dict(context), dimension=unit, label=str(label),
                              reference="rest")
    return out


@dataclass(frozen=True)
class _Keys:
    """The group keys an estimate is assembled under (all a grouping gives the estimator)."""

    keys: list[dict[str, Any]]


def _against_rest(data: Any, questionnaire: Any, *, unit: str, label: Any, by: tuple[str, ...],
                  period: str | None, levels: Sequence[str], confidence: float,
                  analyze_options: Mapping[str, Any]) -> list[Comparison]:
    """One unit against the rest, as two domains of the one design (methodology §4).

    The whole sample is analysed once with each row marked "unit" or "rest", so each side is
    a domain of the whole design (its PSU counts, strata and df are the design's). Without a
    design the two sides share no respondent and are compared as independent samples
    (Newcombe for a proportion). Under a design the difference's variance is that of the
    linearised difference summed per PSU over the whole design
    (:func:`analysis.indices.domain_contrast_variance`), so it carries the covariance of
    sides that share PSUs, with t on the design's df (PSUs − strata of the whole sample).
    """
    from ..indices import Influence, analyze, domain_contrast_variance

    sides = np.where(data[unit].astype(object) == label, "unit", "rest")
    kept: list[Influence] = []
    result = analyze(data.assign(**{_SIDE: sides}), questionnaire, by=(_SIDE, *by), period=period,
                     _influence=kept, **analyze_options)
    influence = kept[0]
    design = bool(result.is_design)
    gids = {tuple(keys.items()): g for g, keys in enumerate(influence.grouping.keys)}
    out: list[Comparison] = []
    for context, pair in _by_context(result.groups, _SIDE).items():
        if "unit" not in pair or "rest" not in pair:
            continue
        common = dict(keys=dict(context), dimension=unit, label=str(label), reference="rest")
        if not design:
            out += compare_groups(pair["unit"], pair["rest"], design=False, confidence=confidence,
                                  levels=levels, **common)
            continue
        plus = gids[tuple({_SIDE: "unit", **dict(context)}.items())]
        minus = gids[tuple({_SIDE: "rest", **dict(context)}.items())]
        rest_items = {(lv, code): est for lv, code, est in _indicators(pair["rest"], levels)}
        for level, code, est in _indicators(pair["unit"], levels):
            other = rest_items.get((level, code))
            if other is None:
                continue
            variance = domain_contrast_variance(influence, (level, code), plus, minus)
            flagged = any(getattr(e, "flag", None) for e in (est, other))
            out.append(Comparison(
                keys=MappingProxyType(dict(context)), dimension=unit, label=str(label), reference="rest",
                level=level, code=code,
                difference=diff_with_se(a=_value(est), b=_value(other), se=100.0 * math.sqrt(variance),
                                        n_a=float(est.n), n_b=float(other.n),
                                        df=float(result.df) if result.df else None, confidence=confidence),
                flag="insufficient data" if flagged else None,
            ))
    return out
