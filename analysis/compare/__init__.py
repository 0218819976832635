"""Comparisons between periods and units, multiplicity adjustment, shrinkage and funnel plots.

Methodology §4. All values are in percent (differences in percentage points), like the
rest of the package.

* Two independent proportions (a criterion or the general index, no design): the
  difference ``p1 − p2`` with Newcombe's hybrid-score interval (method 10 of Newcombe 1998;
  statsmodels ``confint_proportions_2indep(..., method="newcomb")``) and the pooled
  two-proportion z test (statsmodels ``proportions_ztest``).
* Composites (element, overall) and anything under a design: the difference of two
  linearised estimates with ``Var = V1 + V2`` (independent samples), normal quantile, or t
  with ``df = df1 + df2`` under a design.
* Many comparisons: Holm (family-wise error) or Benjamini–Hochberg (false discovery rate),
  identical to statsmodels ``multipletests(..., method="holm" | "fdr_bh")``.
* Ranking units: empirical-Bayes beta-binomial shrinkage, hyper-parameters by marginal
  maximum likelihood; funnel-plot data with exact binomial control limits.

Modules: ``differences`` (two estimates), ``multiplicity``, ``shrinkage``, ``funnel``,
``sets`` (comparisons as results, two groups compared), ``previous`` (periods) and
``units`` (units pairwise or against the rest; rankings alone: ``rank_units``).

>>> d = diff_proportions(x1=37, n1=50, x2=30, n2=50)
>>> round(d.estimate, 4), [round(v, 4) for v in d.ci], round(d.p_value, 4)
(14.0, [-4.3641, 31.133], 0.1366)
"""

from .differences import (
    Difference,
    diff_estimates,
    diff_proportions,
    two_proportion_ztest,
    wilson_interval,
)
from .funnel import Funnel, FunnelPoint, funnel, funnel_limits
from .multiplicity import ADJUST_METHODS, adjust_pvalues
from .previous import compare_periods
from .sets import LEVELS, Comparison, ComparisonSet, Ranking, compare_estimates, compare_groups, comparisons_json
from .shrinkage import BetaBinomialFit, Shrinkage, ShrunkEstimate, fit_beta_binomial, shrink
from .units import compare_units, rank_units

__all__ = [
    "ADJUST_METHODS",
    "BetaBinomialFit",
    "LEVELS",
    "Comparison",
    "ComparisonSet",
    "Ranking",
    "Difference",
    "Funnel",
    "FunnelPoint",
    "ShrunkEstimate",
    "Shrinkage",
    "adjust_pvalues",
    "compare_estimates",
    "compare_groups",
    "compare_periods",
    "compare_units",
    "comparisons_json",
    "diff_estimates",
    "diff_proportions",
    "fit_beta_binomial",
    "funnel",
    "funnel_limits",
    "rank_units",
    "shrink",
    "two_proportion_ztest",
    "wilson_interval",
]
