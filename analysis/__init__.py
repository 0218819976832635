"""SIPAS analysis: indices with confidence intervals, design-based estimation, periods, inputs.

Pure pandas/numpy/scipy; imports ``questionnaires``, never the web app. The statistical
contract is methodology.md §2–§6; :func:`analyze` documents the rules where the
formulas give no answer.

>>> import pandas as pd, questionnaires
>>> q = questionnaires.load("sipas-2023")
>>> df = pd.DataFrame({c.code: [5, 4, 3] for c in q.criteria})
>>> result = analyze(df, q)
>>> round(result.groups[0].overall.index, 2)
66.67
"""

from __future__ import annotations

from .design import DesignInfo, SurveyDesign, korn_graubard_ci
from .indices import analyze
from .intervals import (
    CI_METHODS,
    critical_value,
    logit_ci,
    normalize_ci_method,
    proportion_ci,
    proportion_ci_array,
)
from .io import (
    EXPORT_COLUMNS,
    answer_codes,
    load_database,
    load_issuance,
    read_responses,
    resolve_questionnaire,
)
from .periods import (
    PAR_WINDOWS,
    PERIOD_KINDS,
    period_bounds,
    period_kind,
    period_labels,
    period_sort_key,
    previous_period,
)
from .results import (
    INSUFFICIENT,
    AnalysisResult,
    CriterionEstimate,
    Estimate,
    ExpectationEstimate,
    GroupResult,
)

__all__ = [
    "CI_METHODS",
    "EXPORT_COLUMNS",
    "INSUFFICIENT",
    "PAR_WINDOWS",
    "PERIOD_KINDS",
    "AnalysisResult",
    "CriterionEstimate",
    "DesignInfo",
    "Estimate",
    "ExpectationEstimate",
    "GroupResult",
    "SurveyDesign",
    "analyze",
    "answer_codes",
    "critical_value",
    "korn_graubard_ci",
    "load_database",
    "load_issuance",
    "logit_ci",
    "normalize_ci_method",
    "period_bounds",
    "period_kind",
    "period_labels",
    "period_sort_key",
    "previous_period",
    "proportion_ci",
    "proportion_ci_array",
    "read_responses",
    "resolve_questionnaire",
]
