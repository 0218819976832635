"""From sufficient statistics to estimates: the arithmetic every analysis path shares.

An analysis reads its data through a *source* (:class:`Source`): per group and answer
level, counts and weight sums of each question; the variance of a criterion's linearised
influence values; and, for composites, the variance of Σ_k a_gk·z_ik over every respondent,
its answered count, df and deff. Three sources exist: the rows of a frame in memory
(:class:`analysis.indices.RowSource`), aggregates computed by the database
(:class:`analysis.indb.SqlSource`) and additive tallies (:class:`analysis.tallies.TallySource`);
the last two share :class:`CountSource`. Everything here — proportions, Wilson or
Korn–Graubard intervals, mean scores, available-case composites, logit intervals — is the
one implementation they use, so they give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from questionnaires import Questionnaire

from .design import SurveyDesign, korn_graubard_ci
from .intervals import critical_value, logit_ci, normal_ci, proportion_ci_array
from .results import GroupResult, PropArrays, assemble_groups

Counted = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class CompositeSpec:
    """A composite index: ``members[code][g]`` is criterion ``code``'s weight a_gk in group g
    (0 where the criterion has no answers: available case)."""

    level: str  # "element" or "overall"
    code: str
    members: dict[str, np.ndarray]


@dataclass(frozen=True)
class CompositeStats:
    """Per group: the linearised variance, respondents answering a member, df and deff."""

    var: np.ndarray
    n: np.ndarray
    df: np.ndarray | None = None
    deff: np.ndarray | None = None


def sat_mask(scale: Any, values: Iterable[int]) -> np.ndarray:
    mask = np.zeros(scale.max + 1, dtype=bool)
    mask[list(values)] = True
    return mask


class Source:
    """What an analysis needs from its data; subclasses read rows or aggregates."""

    G: int
    is_design: bool
    weighted: bool
    method: str
    confidence: float

    def __init__(self, *, G: int, is_design: bool, weighted: bool, method: str,
                 confidence: float) -> None:
        self.G = int(G)
        self.is_design = is_design
        self.weighted = weighted
        self.method = method
        self.confidence = confidence
        self.z = critical_value(confidence)

    # -- what a source provides ------------------------------------------------------------
    def has(self, code: str) -> bool:
        """Whether the data hold answers to this question (a column, or stored items)."""
        raise NotImplementedError

    def counts(self, code: str, top: int) -> Counted:
        """Per group and level 0..top (0 = blank): counts, weight sums, squared-weight sums."""
        raise NotImplementedError

    def level_variance(self, code: str, top: int, counted: Counted, lut: np.ndarray) -> np.ndarray:
        """Variance per group of an estimate whose influence value per unit weight is
        ``lut[g, level]`` (a proportion or a mean of one question)."""
        raise NotImplementedError

    def df_of(self, code: str) -> np.ndarray | None:
        """Design df per group of an estimate over the answerers of ``code`` (None: no design)."""
        return None

    def composites(self, specs: Sequence[CompositeSpec], props: dict[str, PropArrays]) -> list[CompositeStats]:
        raise NotImplementedError

    def keep(self, key: tuple[str, str], code: str, pr: PropArrays) -> None:
        """Hook: a source that keeps influence values for domain contrasts records them."""

    # -- shared arithmetic -----------------------------------------------------------------
    def q(self, df: np.ndarray | None) -> Any:
        return self.z if df is None else critical_value(self.confidence, df)

    def proportion(self, code: str, top: int, sat: np.ndarray, counted: Counted,
                   df: np.ndarray | None) -> PropArrays:
        cnt, w1, _w2 = counted
        n = cnt[:, 1:].sum(axis=1)
        x = cnt[:, sat].sum(axis=1)
        wn = w1[:, 1:].sum(axis=1)
        wx = w1[:, sat].sum(axis=1)
        has = n > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(has, wx / np.where(has, wn, 1.0), np.nan)
            lut = np.where(has[:, None], (sat[None, :] - p[:, None]) / wn[:, None], 0.0)
        lut[:, 0] = 0.0
        var = self.level_variance(code, top, counted, lut)
        var = np.where(has, np.maximum(var, 0.0), np.nan)
        deff = None
        if self.is_design:
            with np.errstate(invalid="ignore", divide="ignore"):
                deff = var / (p * (1 - p) / n)
            low, high = korn_graubard_ci(p, var, n, df, confidence=self.confidence)
        else:
            low, high = proportion_ci_array(x, n, self.method, self.confidence)
        return PropArrays(n, x, p, var, low, high, df, deff, lut, sat)

    def mean(self, code: str, top: int, counted: Counted,
             df: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        _cnt, w1, _w2 = counted
        levels = np.arange(top + 1, dtype=np.float64)
        wn = w1[:, 1:].sum(axis=1)
        has = wn > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(has, (w1 * levels).sum(axis=1) / np.where(has, wn, 1.0), np.nan)
            lut = np.where(has[:, None], (levels[None, :] - m[:, None]) / wn[:, None], 0.0)
        lut[:, 0] = 0.0
        var = np.where(has, np.maximum(self.level_variance(code, top, counted, lut), 0.0), np.nan)
        se = np.sqrt(var)
        low, high = normal_ci(m, se, self.q(df))
        return m, se, np.clip(low, 1, top), np.clip(high, 1, top)


def question_scales(q: Questionnaire) -> dict[str, Any]:
    """The scale of every question an analysis counts: criteria, the general question and
    the expectations."""
    scales = {c.code: c.scale for c in q.criteria}
    if q.general is not None:
        scales[q.general.code] = q.general.scale
    scales.update({e.code: e.scale for e in q.expectations})
    return scales


def state_influence(pr: PropArrays) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the influence value per unit weight of an answer that is not satisfied and
    of one that is (every level of a state has the same one)."""
    levels = np.arange(len(pr.sat))
    return pr.lut[:, levels[1:][~pr.sat[1:]][0]], pr.lut[:, levels[pr.sat][0]]


class CountSource(Source):
    """A source whose level counts per group are given (``self.levels``, set by the
    subclass): every respondent its own PSU in one stratum of ``n_rows`` — the variances of
    proportions and means then follow from the counts. Without weights a simple random
    sample; with ``weight_name``, a design with those weights whose sums per group and level
    (Σw, Σw²) the subclass sets in ``self.weight_sums``."""

    levels: dict[str, np.ndarray]
    weight_sums: dict[str, tuple[np.ndarray, np.ndarray]]

    def __init__(self, *, n_rows: int, G: int, method: str, confidence: float,
                 weight_name: str | None = None) -> None:
        super().__init__(G=G, is_design=weight_name is not None, weighted=weight_name is not None,
                         method=method, confidence=confidence)
        self.design = SurveyDesign(n_rows, names=(weight_name, None, None))
        self.bound = self.design.bind(None, np.zeros(0, dtype=np.int64), self.G)

    def has(self, code: str) -> bool:
        return code in self.levels

    def counts(self, code: str, top: int) -> Counted:
        cnt = self.levels[code]
        if self.weighted:
            return (cnt, *self.weight_sums[code])
        wc = cnt.astype(np.float64)
        return cnt, wc, wc

    def df_of(self, code: str) -> np.ndarray | None:
        """Every respondent its own PSU in one stratum: df = answerers − 1."""
        return respondents_df(self.levels[code][:, 1:].sum(axis=1)) if self.is_design else None

    def level_variance(self, code: str, top: int, counted: Counted, lut: np.ndarray) -> np.ndarray:
        return self.bound.variance_from_counts(counted[1], counted[2], lut)


def respondents_df(n: np.ndarray) -> np.ndarray:
    """Design df per group when every respondent is a PSU of one stratum: n − 1 (0 if none)."""
    n = np.asarray(n, dtype=np.int64)
    return n - (n > 0)


def composite_specs(q: Questionnaire, props: dict[str, PropArrays],
                    G: int) -> tuple[list[CompositeSpec], dict[str, np.ndarray]]:
    """Each element and the overall index as weights per criterion and group (available
    case: a criterion without answers weighs 0, the others share its weight), with the
    composite's value per group (NaN where none of its criteria has answers)."""
    elements = q.elements
    avail = {c.code: props[c.code].n > 0 for c in q.criteria}
    k_avail = {e.code: np.sum([avail[c.code] for c in e.criteria], axis=0, dtype=np.int64)
               for e in elements}
    e_avail = np.sum([k_avail[e.code] > 0 for e in elements], axis=0, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_e = np.where(e_avail > 0, 1.0 / e_avail, 0.0)
    specs: list[CompositeSpec] = []
    values: dict[str, np.ndarray] = {}
    overall: dict[str, np.ndarray] = {}
    overall_value = np.zeros(G)
    for e in elements:
        k = k_avail[e.code]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_k = np.where(k > 0, 1.0 / k, 0.0)
        members: dict[str, np.ndarray] = {}
        value = np.zeros(G)
        for c in e.criteria:
            a = np.where(avail[c.code], inv_k, 0.0)
            members[c.code] = a
            overall[c.code] = a * inv_e
            value += np.where(avail[c.code], props[c.code].p, 0.0) * a
        values[e.code] = np.where(k > 0, value, np.nan)
        overall_value += np.where(k > 0, values[e.code], 0.0)
        specs.append(CompositeSpec("element", e.code, members))
    specs.append(CompositeSpec("overall", "__overall__", overall))
    values["__overall__"] = np.where(e_avail > 0, overall_value * inv_e, np.nan)
    return specs, values


class GroupCount(NamedTuple):
    """A group's keys and respondents, without its estimates (``estimate(counts_only=True)``)."""

    keys: dict[str, Any]
    n: int


def estimate(
    q: Questionnaire, src: Source, *, small_n: int, max_width: float, grouping: Any,
    bootstrap: Any = None, counts_only: bool = False,
) -> tuple[GroupResult, ...] | tuple[GroupCount, ...]:
    """Every estimate of every group, from what ``src`` gives. ``bootstrap(general,
    expectation_codes)`` returns BCa intervals (or None), for sources that hold rows.
    ``counts_only``: each group's keys and n, for a caller that keeps only the tallies the
    source counted (cell_tallies.tally_cells): building ~50,000 estimate objects for 1,500
    cells cost more than the counting."""
    props: dict[str, PropArrays] = {}
    dists: dict[str, np.ndarray] = {}
    wdists: dict[str, np.ndarray] = {}
    means: dict[str, tuple[np.ndarray, ...]] = {}

    def question(code: str, scale: Any, sets: Sequence[np.ndarray]) -> list[PropArrays]:
        counted = src.counts(code, scale.max)
        dists[code] = counted[0][:, 1:]
        if src.weighted:
            wdists[code] = counted[1][:, 1:]
        df_k = src.df_of(code)
        means[code] = src.mean(code, scale.max, counted, df_k)
        return [src.proportion(code, scale.max, s, counted, df_k) for s in sets]

    for c in q.criteria:
        props[c.code] = question(c.code, c.scale, [sat_mask(c.scale, c.scale.satisfied)])[0]
        src.keep(("criterion", c.code), c.code, props[c.code])
    general = q.general if q.general is not None and src.has(q.general.code) else None
    if general is not None:
        props[general.code] = question(
            general.code, general.scale, [sat_mask(general.scale, general.scale.satisfied)])[0]
        src.keep(("general", "general"), general.code, props[general.code])
    expectation_props: dict[str, tuple[PropArrays, PropArrays]] = {}
    for item in q.expectations:
        if src.has(item.code):
            top = item.scale.max
            pair = question(item.code, item.scale,
                            [sat_mask(item.scale, [top]), sat_mask(item.scale, [top - 1, top])])
            expectation_props[item.code] = (pair[0], pair[1])

    specs, values = composite_specs(q, props, src.G)
    comp = {spec.code: composite_result(src, values[spec.code], stats)
            for spec, stats in zip(specs, src.composites(specs, props), strict=True)}
    if counts_only:
        return tuple(GroupCount(keys, int(n)) for keys, n in zip(grouping.keys, comp["__overall__"]["n"],
                                                                   strict=True))
    boot = None if bootstrap is None else bootstrap(general, list(expectation_props))
    return assemble_groups(q, src, props, comp, dists, wdists, means, expectation_props, general,
                           small_n, max_width, boot, grouping)


def composite_result(src: Source, value: np.ndarray, stats: CompositeStats) -> dict[str, Any]:
    var = np.maximum(stats.var, 0.0)
    q = src.q(stats.df)
    low, high = logit_ci(value, np.sqrt(var), q)
    return {"value": value, "var": var, "n": stats.n, "df": stats.df, "deff": stats.deff,
            "low": low, "high": high, "q": q}
