"""Each period against the previous one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .sets import LEVELS, Comparison, ComparisonSet, _analyze, _is_result, _with_adjustment, compare_groups


def compare_periods(
    result_or_df: Any,
    questionnaire: Any = None,
    *,
    by: str | Sequence[str] = (),
    period: str | None = None,
    adjust: str = "holm",
    levels: Sequence[str] = LEVELS,
    **analyze_options: Any,
) -> ComparisonSet:
    """Each period against the period before it, per group (methodology §4).

    "The period before" is the previous period of the same kind (2024-Q1 before 2024-Q2,
    2023-12 before 2024-01); for the overlapping PAR windows it is the same window one year
    earlier (:func:`analysis.previous_period`). A period whose previous period has no data in
    that group is not compared. The two periods are independent samples (different
    respondents); see :func:`compare_estimates` for the methods. p-values are adjusted
    (``adjust`` = "holm" or "bh") within each family: one indicator, one pair of periods,
    across the groups.

    Parameters
    ----------
    result_or_df : AnalysisResult or DataFrame
        A result of ``analyze(..., period=...)``, or responses to analyse with ``by``,
        ``period`` and ``analyze_options`` (``confidence``, ``weight``, ...).
    questionnaire : Questionnaire or str
        Needed with a DataFrame.
    by, period : as for :func:`analysis.analyze` (DataFrame input only).
    adjust : {"holm", "bh"}
    levels : which indicators to compare (default all: general, overall, elements, criteria).

    Examples
    --------
    >>> import pandas as pd, questionnaires
    >>> q = questionnaires.load("tt01-counter")
    >>> df = pd.DataFrame({"DG1": [3, 2, 1, 3] * 25 + [3, 3, 2, 3] * 25,
    ...                    "DG2": [3] * 200, "DG3": [2] * 200,
    ...                    "HL": [3, 2, 1, 1] * 25 + [3, 3, 2, 1] * 25,
    ...                    "submitted_on": ["2024-02-01"] * 100 + ["2024-05-01"] * 100})
    >>> res = compare_periods(df, q, period="quarter")
    >>> c = next(c for c in res.comparisons if c.level == "general")
    >>> d = c.difference
    >>> c.label, c.reference, round(d.estimate, 1), [round(v, 2) for v in d.ci]
    ('2024-Q2', '2024-Q1', 25.0, [11.62, 37.17])
    """
    from ..periods import period_sort_key, previous_period

    if _is_result(result_or_df):
        result = result_or_df
        if result.period is None:
            raise ValueError("result_or_df: the result has no periods; analyse with period=...")
    else:
        if period is None:
            raise ValueError("period: needed to compare periods (month, quarter, half, year, par)")
        result = _analyze(result_or_df, questionnaire, by=by, period=period, **analyze_options)
    design = bool(result.is_design)
    by_context: dict[tuple[Any, ...], dict[str, Any]] = {}
    for g in result.groups:
        keys = dict(g.keys)
        label = keys.pop("period")
        context = tuple(keys.items())
        by_context.setdefault(context, {})[label] = g
    comparisons: list[Comparison] = []
    for context, periods in by_context.items():
        for label in sorted(periods, key=period_sort_key):
            before = previous_period(label)
            if before not in periods:
                continue
            comparisons += compare_groups(
                periods[label], periods[before], design=design, confidence=result.confidence,
                levels=levels, keys=dict(context), dimension="period", label=label,
                reference=before,
            )
    return ComparisonSet(
        kind="previous", adjust=adjust, confidence=result.confidence, design=design,
        comparisons=_with_adjustment(comparisons, adjust),
    )
