"""Funnel-plot data with exact binomial control limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import stats

from .differences import _check_confidence, _finite, _nan_to_none
from .shrinkage import Counts, _as_counts


# --------------------------------------------------------------------------- funnel plot
def funnel_limits(
    *, p: float, n: float | Counts, coverage: float = 0.95, method: str = "exact"
) -> tuple[np.ndarray, np.ndarray]:
    """Funnel-plot control limits (percent) around a proportion ``p`` for sample sizes n.

    ``method="exact"`` (default): Spiegelhalter's (2005) interpolated binomial limits —
    for the quantile ``q`` (e.g. 0.025 and 0.975), ``r = F⁻¹(q)`` of Binomial(n, p),
    ``α = (F(r) − q)/(F(r) − F(r − 1))`` and the limit ``(r − α)/n``.
    ``method="normal"``: ``p ± z √(p(1 − p)/n)``, clipped to [0, 1].

    Parameters
    ----------
    p : float
        The overall proportion (0–1).
    n : float or sequence
        Sample sizes.
    coverage : float
        0.95 and 0.998 are the usual two pairs of limits.
    method : {"exact", "normal"}

    Examples
    --------
    >>> low, high = funnel_limits(p=0.8, n=[100], coverage=0.95, method="normal")
    >>> round(float(low[0]), 2), round(float(high[0]), 2)
    (72.16, 87.84)
    >>> low, high = funnel_limits(p=0.8, n=[100], coverage=0.95)
    >>> round(float(low[0]), 2), round(float(high[0]), 2)
    (71.35, 87.03)
    """
    coverage = _check_confidence(coverage)
    if not _finite(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"p: must be a proportion between 0 and 1, got {p!r}")
    if method not in ("exact", "normal"):
        raise ValueError(f"method: must be 'exact' or 'normal', got {method!r}")
    ns = np.atleast_1d(np.asarray(n, dtype=float))
    if np.any(~np.isfinite(ns)) or np.any(ns <= 0):
        raise ValueError("n: sample sizes must be positive")
    tail = (1.0 - coverage) / 2.0
    if method == "normal":
        z = stats.norm.isf(tail)
        half = z * np.sqrt(p * (1.0 - p) / ns)
        return 100.0 * np.clip(p - half, 0.0, 1.0), 100.0 * np.clip(p + half, 0.0, 1.0)

    def limit(q: float) -> np.ndarray:
        m = np.round(ns)  # the binomial needs whole numbers of trials
        r = stats.binom.ppf(q, m, p)
        f_r = stats.binom.cdf(r, m, p)
        f_r1 = stats.binom.cdf(r - 1, m, p)
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(f_r > f_r1, (f_r - q) / (f_r - f_r1), 0.0)
        return np.clip((r - alpha) / m, 0.0, 1.0)

    return 100.0 * limit(tail), 100.0 * limit(1.0 - tail)


@dataclass(frozen=True)
class FunnelPoint:
    label: str
    x: float
    n: float
    index: float
    limits95: tuple[float, float]
    limits998: tuple[float, float]
    signal: str | None  # "above 99.8", "above 95", "below 95", "below 99.8" or None
    flag: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _nan_to_none(
            {
                "label": self.label, "x": self.x, "n": self.n, "index": self.index,
                "limits95": list(self.limits95), "limits998": list(self.limits998),
                "signal": self.signal, "flag": self.flag,
            }
        )


@dataclass(frozen=True)
class Funnel:
    """Data for a funnel plot: points per unit and limit curves over a grid of n."""

    centre: float
    method: str
    points: tuple[FunnelPoint, ...]
    curve: Mapping[str, tuple[float, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def to_json(self) -> dict[str, Any]:
        return _nan_to_none(
            {
                "centre": self.centre,
                "method": self.method,
                "points": [p.to_json() for p in self.points],
                "curve": {k: list(v) for k, v in self.curve.items()},
            }
        )


def funnel(
    *,
    x: Counts,
    n: Counts,
    labels: Sequence[str] | None = None,
    flags: Sequence[str | None] | None = None,
    centre: float | None = None,
    method: str = "exact",
    grid: int = 60,
) -> Funnel:
    """Funnel-plot data: each unit's index against n, with 95 % and 99.8 % limits.

    The centre line is the pooled proportion ``Σx / Σn`` (percent) unless ``centre`` (a
    target, in percent) is given. A unit outside the 95 % limits is a warning, outside
    99.8 % an alarm (Spiegelhalter 2005). The curve holds ``n`` and the four limits on a
    grid from a quarter of the smallest n to 1.1 times the largest (log-spaced).

    Examples
    --------
    >>> f = funnel(x=[40, 180, 290], n=[50, 200, 400], labels=["A", "B", "C"])
    >>> round(f.centre, 2), [p.signal for p in f.points]
    (78.46, [None, 'above 99.8', 'below 95'])
    """
    xs, ns = _as_counts(x, n)
    labels = [str(i + 1) for i in range(xs.size)] if labels is None else [str(v) for v in labels]
    flags = [None] * xs.size if flags is None else list(flags)
    if len(labels) != xs.size or len(flags) != xs.size:
        raise ValueError("labels: must have one label (and flag) per unit")
    if centre is None:
        p = float(xs.sum() / ns.sum())
    else:
        if not _finite(centre) or not 0 <= centre <= 100:
            raise ValueError(f"centre: must be a percentage, got {centre!r}")
        p = centre / 100.0
    lo95, hi95 = funnel_limits(p=p, n=ns, coverage=0.95, method=method)
    lo998, hi998 = funnel_limits(p=p, n=ns, coverage=0.998, method=method)
    points = []
    for i in range(xs.size):
        index = 100.0 * float(xs[i] / ns[i])
        signal = None
        if index > hi998[i]:
            signal = "above 99.8"
        elif index < lo998[i]:
            signal = "below 99.8"
        elif index > hi95[i]:
            signal = "above 95"
        elif index < lo95[i]:
            signal = "below 95"
        points.append(
            FunnelPoint(labels[i], float(xs[i]), float(ns[i]), index,
                        (float(lo95[i]), float(hi95[i])), (float(lo998[i]), float(hi998[i])),
                        signal, flags[i])
        )
    # From a quarter of the smallest n to a tenth past the largest: the limits visibly narrow.
    low_n, high_n = max(1.0, float(np.floor(ns.min() / 4))), float(np.ceil(ns.max() * 11 / 10))
    grid_n = np.unique(np.round(np.geomspace(low_n, max(high_n, low_n + 1), grid)))
    c_lo95, c_hi95 = funnel_limits(p=p, n=grid_n, coverage=0.95, method=method)
    c_lo998, c_hi998 = funnel_limits(p=p, n=grid_n, coverage=0.998, method=method)
    curve = MappingProxyType(
        {
            "n": tuple(float(v) for v in grid_n),
            "low95": tuple(float(v) for v in c_lo95),
            "high95": tuple(float(v) for v in c_hi95),
            "low998": tuple(float(v) for v in c_lo998),
            "high998": tuple(float(v) for v in c_hi998),
        }
    )
    return Funnel(100.0 * p, method, tuple(points), curve)
