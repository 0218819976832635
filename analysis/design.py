"""Survey design: weights, strata, PSUs; linearisation variance for domains; Korn–Graubard.

Variance (methodology §3.3), PSUs sampled with replacement, for an estimate with
influence values z_i (already multiplied by the weight w_i):

    V = Σ_h n_h/(n_h − 1) Σ_j (z_hj − z̄_h)²,   z_hj = Σ_{i in PSU j of stratum h} z_i,

with n_h the number of PSUs of stratum h *in the whole input* and z̄_h their mean. Groups
(``by``, periods) and the ``date_from``/``date_to`` window are *domains* of that design:
z_i is zero outside the domain, PSUs of the stratum without a domain member still count in
n_h and in z̄_h. This is exactly what R's ``survey`` package does for ``subset(design, ...)``
and ``svyby`` (``svydesign(ids=~cluster, strata=~stratum, weights=~weight, nest=TRUE)``).
Without a design every respondent is its own PSU in a single stratum (``ids=~1``).

Degrees of freedom of an estimate (used for t quantiles and Korn–Graubard): the number of
PSUs that contain at least one of the respondents the estimate uses, minus the number of
strata containing such PSUs — R's ``degf()`` of the corresponding subset.

A stratum with a single PSU among the analysed rows raises ValueError naming the stratum
(R's default ``options(survey.lonely.psu = "fail")``); merge it with a similar stratum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .intervals import _alpha, check_confidence


def dense_unique(values: np.ndarray, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique values of a non-negative integer array and the inverse, like
    ``np.unique(values, return_inverse=True)`` but O(n) through a bincount when the
    values are small (numpy's own unique sorts or hashes, seconds for millions)."""
    values = np.asarray(values, dtype=np.int64)
    top = (int(values.max()) + 1 if len(values) else 0) if size is None else size
    if top > 8 * len(values) + 1024:
        uniq, inverse = np.unique(values, return_inverse=True)
        return uniq, inverse.ravel()
    present = np.bincount(values, minlength=top) > 0
    remap = np.cumsum(present) - 1
    return np.flatnonzero(present), remap[values]


def _distinct(values: np.ndarray) -> int:
    """Number of distinct non-negative integers."""
    if len(values) == 0:
        return 0
    return int(np.count_nonzero(np.bincount(values)))


def _codes(series: pd.Series, column: str, option: str) -> tuple[np.ndarray, np.ndarray]:
    if series.isna().any():
        row = series.index[series.isna().to_numpy()][0]
        raise ValueError(f"{option}: column '{column}' is blank in row {row!r}")
    codes, uniques = pd.factorize(series, sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


class SurveyDesign:
    """Weights, strata and PSUs of every row of the input (before any domain selection).

    Build it with :meth:`from_frame`. Without any of the three options the design is a
    simple random sample of respondents (``is_design`` False).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"w": [1.0, 2.0, 1.0, 2.0], "h": ["a", "a", "b", "b"],
    ...                    "c": [1, 2, 1, 2]})
    >>> d = SurveyDesign.from_frame(df, weight="w", strata="h", cluster="c")
    >>> d.n_psu.tolist(), d.df()
    ([2, 2], 2)
    """

    def __init__(
        self,
        n_rows: int,
        *,
        weights: np.ndarray | None = None,
        stratum: np.ndarray | None = None,
        stratum_labels: np.ndarray | None = None,
        psu: np.ndarray | None = None,
        psu_labels: np.ndarray | None = None,
        names: tuple[str | None, str | None, str | None] = (None, None, None),
    ) -> None:
        self.n_rows = int(n_rows)
        self.weights = weights
        self.weight_name, self.strata_name, self.cluster_name = names
        self.is_design = any(name is not None for name in names)
        self.stratum = stratum
        self.stratum_labels = stratum_labels if stratum_labels is not None else np.array([None])
        self.H = 1 if stratum is None else len(self.stratum_labels)
        self.psu = psu
        self.psu_labels = psu_labels
        if psu is None:
            # Every row is its own PSU.
            if stratum is None:
                self.n_psu = np.array([self.n_rows], dtype=np.int64)
            else:
                self.n_psu = np.bincount(stratum, minlength=self.H).astype(np.int64)
            self.psu_stratum = None
        else:
            n_units = int(psu.max()) + 1 if len(psu) else 0
            first = np.full(n_units, -1, dtype=np.int64)
            first[psu[::-1]] = np.arange(len(psu) - 1, -1, -1)
            self.psu_stratum = (
                np.zeros(n_units, dtype=np.int64) if stratum is None else stratum[first]
            )
            self.n_psu = np.bincount(self.psu_stratum, minlength=self.H).astype(np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.f_h = np.where(self.n_psu > 1, self.n_psu / (self.n_psu - 1.0), 1.0)

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        weight: str | None = None,
        strata: str | None = None,
        cluster: str | None = None,
    ) -> SurveyDesign:
        """The design described by columns of ``df`` (each option names a column or is None).

        Weights must be finite and positive; strata and cluster values must not be blank.
        Cluster identifiers are nested within strata (``nest=TRUE``).
        """
        n = len(df)
        weights = None
        if weight is not None:
            raw = pd.to_numeric(df[weight], errors="coerce")
            values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isfinite(values) | (values <= 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"weight: column '{weight}' must hold positive numbers; row "
                    f"{df.index[i]!r} has {df[weight].iloc[i]!r}"
                )
            weights = values
        stratum = labels_h = None
        if strata is not None:
            stratum, labels_h = _codes(df[strata], strata, "strata")
        psu = labels_psu = None
        if cluster is not None:
            cl, labels_c = _codes(df[cluster], cluster, "cluster")
            if stratum is not None:
                pair = stratum * max(len(labels_c), 1) + cl
                uniq, psu = dense_unique(pair)
                psu = psu.astype(np.int64)
                labels_psu = labels_c[np.asarray(uniq) % max(len(labels_c), 1)]
            else:
                psu, labels_psu = cl, labels_c
        return cls(
            n, weights=weights, stratum=stratum, stratum_labels=labels_h, psu=psu,
            psu_labels=labels_psu, names=(weight, strata, cluster),
        )

    # -- whole-analysis facts -------------------------------------------------------------
    def check_lonely(self, rows: np.ndarray | None = None) -> None:
        """Raise ValueError if a stratum that has analysed rows has only one PSU."""
        lonely = self.n_psu == 1
        if not self.is_design or not lonely.any():  # no design: a lone respondent is fine
            return
        if rows is None:
            present = np.ones(self.H, dtype=bool)
        elif self.stratum is None:
            present = np.array([len(rows) > 0])
        else:
            present = np.bincount(self.stratum[rows], minlength=self.H) > 0
        hit = np.flatnonzero(lonely & present)
        if len(hit) == 0:
            return
        h = int(hit[0])
        if self.strata_name is None and self.cluster_name is None:
            raise ValueError(
                f"weight: the data hold a single respondent, so no design variance can be "
                f"estimated with weights (column '{self.weight_name}'); at least two are needed"
            )
        if self.strata_name is None:
            raise ValueError(
                f"cluster: the data hold a single PSU (column '{self.cluster_name}'), so no "
                "variance can be estimated; at least two PSUs are needed"
            )
        raise ValueError(
            f"strata: stratum {self.stratum_labels[h]!r} (column '{self.strata_name}') has "
            "only one PSU, so its variance cannot be estimated; merge it with a similar "
            "stratum (R survey: lonely PSU)"
        )

    def df(self, rows: np.ndarray | None = None) -> int | None:
        """Design degrees of freedom of the given distinct rows (all rows by default):
        PSUs − strata.

        None without a design.
        """
        if not self.is_design:
            return None
        rows = np.arange(self.n_rows) if rows is None else rows  # rows: distinct positions
        if len(rows) == 0:
            return 0
        n_psu = len(rows) if self.psu is None else _distinct(self.psu[rows])
        n_strata = 1 if self.stratum is None else _distinct(self.stratum[rows])
        return int(n_psu - n_strata)

    def bind(self, rows: np.ndarray | None, gid: np.ndarray, n_groups: int) -> BoundDesign:
        """Prepare domain computations for analysed rows ``rows`` (positions into the input,
        possibly repeated across overlapping periods; None = every row once) with group
        ids ``gid``."""
        return BoundDesign(self, rows, gid, n_groups)


class BoundDesign:
    """A design bound to the analysed rows and their groups; see :meth:`variance`."""

    def __init__(
        self, design: SurveyDesign, rows: np.ndarray | None, gid: np.ndarray, n_groups: int
    ) -> None:
        self.design = design
        self.gid = gid
        self.G = int(n_groups)
        self.H = design.H
        take = (lambda a: a) if rows is None else (lambda a: a[rows])
        self.w = None if design.weights is None else take(design.weights)
        self.simple = design.psu is None and design.stratum is None
        self.cell: np.ndarray | None = None
        self.cell_g: np.ndarray | None = None
        self.cell_hg: np.ndarray | None = None
        self.row_hg: np.ndarray | None = None
        self.n_cells = 0
        if design.psu is not None and design.psu_stratum is not None:
            pair = take(design.psu) * self.G + gid
            uniq, cell = dense_unique(pair)
            self.cell = cell
            self.n_cells = len(uniq)
            self.cell_g = uniq % self.G
            self.cell_hg = design.psu_stratum[uniq // self.G] * self.G + self.cell_g
        elif design.stratum is not None:
            self.row_hg = take(design.stratum) * self.G + gid

    def weighted(self, values: np.ndarray) -> np.ndarray:
        """``values`` times the row weights (unchanged without weights)."""
        return values if self.w is None else values * self.w

    def variance_from_sums(self, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """The variance per group from Σ z_hj and Σ z_hj² per (stratum, group) (H×G values,
        stratum-major): Σ_h n_h/(n_h − 1) (Σ z_hj² − (Σ z_hj)²/n_h)."""
        s1 = s1.reshape(self.H, self.G)
        s2 = s2.reshape(self.H, self.G)
        n_h = self.design.n_psu.astype(np.float64)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            centred = s2 - np.where(n_h > 0, s1 * s1 / n_h, 0.0)
        return (self.design.f_h[:, None] * centred).sum(axis=0)

    def variance(self, z: np.ndarray) -> np.ndarray:
        """Variance per group of the domain estimates with influence values ``z`` (one per
        analysed row, weights included)."""
        G, H = self.G, self.H
        cell, cell_hg = self.cell, self.cell_hg
        if cell is not None and cell_hg is not None:
            totals = np.bincount(cell, weights=z, minlength=self.n_cells)
            s1 = np.bincount(cell_hg, weights=totals, minlength=H * G)
            s2 = np.bincount(cell_hg, weights=totals * totals, minlength=H * G)
            return self.variance_from_sums(s1, s2)
        index = self.gid if self.row_hg is None else self.row_hg
        s1 = np.bincount(index, weights=z, minlength=H * G)
        s2 = np.bincount(index, weights=z * z, minlength=H * G)
        return self.variance_from_sums(s1, s2)

    def variance_from_counts(self, w1: np.ndarray, w2: np.ndarray, lut: np.ndarray) -> np.ndarray:
        """Fast path for a single criterion without strata or clusters.

        ``w1[g, v]`` and ``w2[g, v]`` are the sums of weights and squared weights of the
        rows of group g answering v, ``lut[g, v]`` the influence value per unit weight.
        """
        s1 = (w1 * lut).sum(axis=1)
        s2 = (w2 * lut * lut).sum(axis=1)
        return self.variance_from_sums(s1, s2)

    def df_groups(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Per group: PSUs containing an analysed row where ``mask`` is true, minus the
        strata containing such PSUs (the t degrees of freedom of the estimate)."""
        G, H = self.G, self.H
        weights = None if mask is None else mask.astype(np.float64)
        cell, cell_g, cell_hg = self.cell, self.cell_g, self.cell_hg
        if cell is not None and cell_g is not None and cell_hg is not None:
            present = (np.bincount(cell, weights=weights, minlength=self.n_cells) > 0)
            psus = np.bincount(cell_g, weights=present, minlength=G)
            strata_present = np.bincount(cell_hg, weights=present, minlength=H * G) > 0
        else:
            psus = np.bincount(self.gid, weights=weights, minlength=G)
            index = self.gid if self.row_hg is None else self.row_hg
            strata_present = np.bincount(index, weights=weights, minlength=H * G) > 0
        strata = strata_present.reshape(H, G).sum(axis=0)
        return np.rint(psus).astype(np.int64) - strata.astype(np.int64)


def korn_graubard_ci(
    p: Any, variance: Any, n: Any, df: Any, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Korn–Graubard interval for a proportion under a complex design (fractions).

    As R ``survey::svyciprop(method = "beta")``: the effective sample size
    n* = p(1 − p)/V, scaled by (t_{n−1}/t_df)² with t the α/2 quantiles, gives the
    Clopper–Pearson-type bounds Beta⁻¹(α/2; n*p, n*(1 − p) + 1) and
    Beta⁻¹(1 − α/2; n*p + 1, n*(1 − p)). ``n`` is the number of respondents the
    proportion is estimated from and ``df`` the design degrees of freedom.

    Rules where R returns NaN: the lower bound is 0 when p = 0 and the upper bound 1 when
    p = 1; when the design variance is 0 (always so at p = 0 or 1) n* is taken as n
    (design effect 1, the usual convention, e.g. NCHS presentation standards). The
    interval is NaN when n < 2 or df < 1 (no t quantile).

    >>> low, high = korn_graubard_ci(0.74, 0.74 * 0.26 / 50, 50, 49)
    >>> round(float(low), 6), round(float(high), 6)   # = Clopper-Pearson 37/50
    (0.596552, 0.853699)
    """
    alpha = _alpha(check_confidence(confidence))
    p = np.asarray(p, dtype=np.float64)
    v = np.asarray(variance, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    d = np.asarray(df, dtype=np.float64)
    p, v, n, d = np.broadcast_arrays(p, v, n, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(v > 0, p * (1 - p) / np.where(v > 0, v, 1.0), n)
        ok = (n >= 2) & (d >= 1) & np.isfinite(p)
        t_n = stats.t.ppf(alpha / 2, np.where(ok, n - 1, 1.0))
        t_d = stats.t.ppf(alpha / 2, np.where(ok, d, 1.0))
        n_eff = n_eff * (t_n / t_d) ** 2
        a, b = n_eff * p, n_eff * (1 - p)
        low = np.where(p <= 0, 0.0, stats.beta.ppf(alpha / 2, np.where(a > 0, a, 1), b + 1))
        high = np.where(
            p >= 1, 1.0, stats.beta.ppf(1 - alpha / 2, a + 1, np.where(b > 0, b, 1))
        )
    low = np.where(ok, low, np.nan)
    high = np.where(ok, high, np.nan)
    return low, high


@dataclass(frozen=True)
class DesignInfo:
    """Names of the design columns and the design degrees of freedom, for the JSON."""

    weight: str | None
    strata: str | None
    cluster: str | None
    df: int | None

    def to_json(self) -> dict[str, Any]:
        return {"weight": self.weight, "strata": self.strata, "cluster": self.cluster,
                "df": self.df}
