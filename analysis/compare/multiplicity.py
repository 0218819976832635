"""Adjusting p-values for many comparisons: Holm and Benjamini–Hochberg."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

ADJUST_METHODS = ("holm", "bh")


# --------------------------------------------------------------------------- multiplicity
def adjust_pvalues(p_values: Iterable[float], *, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple comparisons.

    Holm: ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``;
    Benjamini–Hochberg: ``p̃_(i) = min_{j ≥ i} min(1, m p_(j) / j)``, for the ascending
    p-values ``p_(1) ≤ … ≤ p_(m)``. NaN p-values are left NaN and not counted in ``m``.

    Parameters
    ----------
    p_values : iterable of float
    method : {"holm", "bh"}

    Examples
    --------
    >>> p = [0.001, 0.01, 0.02, 0.04, 0.3]
    >>> adjust_pvalues(p, method="holm").round(4).tolist()
    [0.005, 0.04, 0.06, 0.08, 0.3]
    >>> adjust_pvalues(p, method="bh").round(4).tolist()
    [0.005, 0.025, 0.0333, 0.05, 0.3]
    """
    if method not in ADJUST_METHODS:
        raise ValueError(f"method: must be one of {', '.join(ADJUST_METHODS)}, got {method!r}")
    p = np.asarray(list(p_values), dtype=float)
    if p.ndim != 1:
        raise ValueError("p_values: must be one-dimensional")
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError("p_values: must lie between 0 and 1")
    out = np.full(p.shape, np.nan)
    values = p[ok]
    m = values.size
    if m == 0:
        return out
    order = np.argsort(values, kind="mergesort")
    ranked = values[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * ranked))
    else:
        adjusted = np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1]
        adjusted = np.minimum(1.0, adjusted)
    result = np.empty(m)
    result[order] = adjusted
    out[ok] = result
    return out
