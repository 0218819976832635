"""Frozen result objects of :func:`analysis.analyze` and their JSON form.

Units: ``value`` (JSON ``index``), ``se`` and ``ci`` are percent (0–100), unrounded;
``mean`` and ``mean_ci`` are on the answer scale (1–5). Anything that cannot be estimated
is None (JSON null), never NaN.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from questionnaires import Questionnaire

#: The small-cell flag (methodology §3.5) and its default rule: fewer than SMALL_N answers, or
#: an interval wider than MAX_WIDTH points.
INSUFFICIENT = "insufficient data"
SMALL_N, MAX_WIDTH = 30, 20.0


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
    distribution_weighted: Mapping[str, float | None] | None = None

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
        """The group whose keys equal ``keys``, e.g. ``result.group(unit="VP",
        period="2024-Q1")``; KeyError if there is none."""
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


# -- from the engine's arrays to result objects -----------------------------------------------
@dataclass
class PropArrays:
    """Arrays over groups for one proportion (fractions), as the engine computes them."""

    n: np.ndarray
    x: np.ndarray
    p: np.ndarray
    var: np.ndarray
    low: np.ndarray
    high: np.ndarray
    df: np.ndarray | None
    deff: np.ndarray | None
    lut: np.ndarray  # (G, L+1) influence value per unit weight
    sat: np.ndarray  # levels counted (bool, L+1)


#: Why an estimate is flagged (methodology §3.5), in the order they are said.
NO_ESTIMATE, TOO_FEW, TOO_WIDE = "no estimate", "small n", "wide interval"


def flag_reasons(value: float | None, ci: tuple[float, float] | None, n: int, small_n: int,
                 max_width: float) -> tuple[str, ...]:
    """The rules of §3.5 an estimate breaks: no estimate or interval; fewer than
    ``small_n`` answers; an interval wider than ``max_width`` points."""
    if value is None or ci is None:
        return (NO_ESTIMATE,)
    return tuple(reason for reason, broken in ((TOO_FEW, n < small_n), (TOO_WIDE, ci[1] - ci[0] > max_width))
                 if broken)


def _flag(value: float | None, ci: tuple[float, float] | None, n: int, small_n: int,
          max_width: float) -> str | None:
    return INSUFFICIENT if flag_reasons(value, ci, n, small_n, max_width) else None


def _none(value: Any) -> Any:
    """NaN and infinities to None (values already Python floats or ints)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def _f(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _ci(low: Any, high: Any, scale: float = 100.0) -> tuple[float, float] | None:
    low, high = float(low), float(high)
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return (low * scale, high * scale)


def assemble_groups(
    q: Questionnaire, eng: Any, props: dict[str, PropArrays], comp: dict[str, dict[str, Any]],
    dists: dict[str, np.ndarray], wdists: dict[str, np.ndarray],
    means: dict[str, tuple[np.ndarray, ...]], expectation_props: dict[str, tuple[PropArrays, PropArrays]],
    general: Any, small_n: int, max_width: float, boot: Any, grouping: Any,
) -> tuple[GroupResult, ...]:
    is_design = eng.is_design
    boot_note = "" if boot is None else str(boot.note)

    def design_parts(deff: Any, n: int, df: Any) -> dict[str, Any]:
        if not is_design:
            return {}
        d = _none(float(deff)) if deff is not None else None
        # n / deff, never above n (methodology §4): a deff under 1 from a variance that is
        # zero up to rounding would claim a sample larger than the one taken.
        return {"deff": d, "n_eff": None if not d else min(float(n), n / d),
                "df": None if df is None else int(df)}

    def with_boot(key: tuple[str, str], g: int, ci: tuple[float, float] | None,
                  notes: list[str]) -> tuple[float, float] | None:
        if boot is None:
            return ci
        got = boot.get(key, g)
        if got is None:
            notes.append(str(boot.fallback_note))
            return ci
        notes.append(boot_note)
        return got

    cache: dict[int, dict[str, list[Any]]] = {}

    def lists(pr: PropArrays) -> dict[str, list[Any]]:
        # Arrays to Python lists once per question: building ~2,000 result objects from
        # numpy scalars one by one would cost more than all the arithmetic.
        got = cache.get(id(pr))
        if got is None:
            has = pr.n > 0
            nan = np.nan
            with np.errstate(invalid="ignore"):
                got = {
                    "n": pr.n.tolist(), "x": pr.x.tolist(),
                    "value": np.where(has, pr.p * 100, nan).tolist(),
                    "se": np.where(has, np.sqrt(pr.var) * 100, nan).tolist(),
                    "low": np.where(has, pr.low * 100, nan).tolist(),
                    "high": np.where(has, pr.high * 100, nan).tolist(),
                    "zero_var": (has & (pr.var == 0)).tolist(),
                    "deff": [None] * eng.G if pr.deff is None else pr.deff.tolist(),
                    "df": [None] * eng.G if pr.df is None else pr.df.tolist(),
                }
            cache[id(pr)] = got
        return got

    mean_lists = {code: [a.tolist() for a in arrays] for code, arrays in means.items()}
    dist_lists = {code: d.tolist() for code, d in dists.items()}
    level_labels = {code: [str(v) for v in range(1, d.shape[1] + 1)] for code, d in dists.items()}
    wdist_lists = {code: (d / d.sum(axis=1, keepdims=True).clip(min=1e-300) * 100).tolist()
                   for code, d in wdists.items()}

    def proportion_estimate(code: str, pr: PropArrays, g: int, key: tuple[str, str],
                            criterion: bool) -> Estimate:
        li = lists(pr)
        n = li["n"][g]
        notes: list[str] = []
        value = _none(li["value"][g])
        ci = None
        if n:
            low, high = li["low"][g], li["high"][g]
            ci = (low, high) if low == low and high == high else None
            if is_design and li["zero_var"][g]:
                notes.append("design variance 0: effective n taken as n")
            ci = with_boot(key, g, ci, notes)
        common = dict(
            value=value, se=_none(li["se"][g]), ci=ci, n=n,
            flag=_flag(value, ci, n, small_n, max_width), note="; ".join(notes) or None,
            **design_parts(li["deff"][g] if n else None, n, li["df"][g]),
        )
        if not criterion:
            return Estimate(**common)
        m, _m_se, m_low, m_high = (values[g] for values in mean_lists[code])
        dist = dist_lists[code][g]
        labels = level_labels[code]
        weighted: dict[str, Any] | None = None
        if code in wdist_lists:
            weighted = dict(zip(labels, (_none(v) if n else None for v in wdist_lists[code][g]),
                                strict=True))
        return CriterionEstimate(
            **common, satisfied=li["x"][g], mean=_none(m) if n else None,
            mean_ci=(m_low, m_high) if n and m_low == m_low and m_high == m_high else None,
            distribution=dict(zip(labels, dist, strict=True)),
            distribution_weighted=weighted,
        )

    def composite_estimate(code: str, members: Sequence[str], g: int, label: str) -> Estimate:
        cp = comp[code]
        n = int(cp["n"][g])
        value = _f(cp["value"][g] * 100)
        notes: list[str] = []
        missing = [m for m in members if not _has(m, g)]
        if value is not None and missing:
            notes.append(f"no answers to {', '.join(missing)}: mean of "
                         f"{len(members) - len(missing)} of {len(members)} {label}")
        ci = None
        if value is not None:
            ci = _ci(cp["low"][g], cp["high"][g])
            crits = _criteria_of(code)
            if all(_extreme(c, g) for c in crits if props[c].n[g] > 0):
                ci = _correlated_ci(code, g)
                notes.append("all its criteria at 0 or 100 %: interval of perfectly "
                             "correlated criteria")
            ci = with_boot(("composite", code), g, ci, notes)
        se = _f(np.sqrt(cp["var"][g]) * 100) if value is not None else None
        return Estimate(
            value=value, se=se, ci=ci, n=n, flag=_flag(value, ci, n, small_n, max_width),
            note="; ".join(notes) or None,
            **design_parts(cp["deff"][g] if cp["deff"] is not None and value is not None
                           else None, n, cp["df"][g] if cp["df"] is not None else None),
        )

    element_codes = {e.code: [c.code for c in e.criteria] for e in q.elements}

    def _has(member: str, g: int) -> bool:
        if member in props:
            return bool(props[member].n[g] > 0)
        return bool(np.isfinite(comp[member]["value"][g]))

    def _criteria_of(code: str) -> list[str]:
        if code == "__overall__":
            return [c.code for c in q.criteria]
        return element_codes[code]

    def _extreme(code: str, g: int) -> bool:
        pr = props[code]
        return bool(pr.x[g] == 0 or pr.x[g] == pr.n[g])

    def _weights(code: str, g: int) -> dict[str, float]:
        if code != "__overall__":
            members = [c for c in element_codes[code] if props[c].n[g] > 0]
            return {c: 1.0 / len(members) for c in members}
        present = [e for e in element_codes if np.isfinite(comp[e]["value"][g])]
        out: dict[str, float] = {}
        for e in present:
            for c, a in _weights(e, g).items():
                out[c] = a / len(present)
        return out

    def _correlated_ci(code: str, g: int) -> tuple[float, float] | None:
        weights = _weights(code, g)
        low = math.fsum(a * props[c].low[g] for c, a in weights.items())
        high = math.fsum(a * props[c].high[g] for c, a in weights.items())
        theta = float(comp[code]["value"][g])
        # Clip to [0, 1] and around θ (rounding of the averages).
        return _ci(min(max(low, 0.0), theta), max(min(high, 1.0), theta))

    results = []
    for g, keys in enumerate(grouping.keys):
        crit = {c.code: cast(CriterionEstimate, proportion_estimate(
            c.code, props[c.code], g, ("prop", c.code), True)) for c in q.criteria}
        elems = {e: composite_estimate(e, members, g, "criteria")
                 for e, members in element_codes.items()}
        overall = composite_estimate("__overall__", list(element_codes), g, "elements")
        gen = None
        if general is not None:
            gen = cast(CriterionEstimate, proportion_estimate(
                general.code, props[general.code], g, ("prop", general.code), True))
        expectations = {}
        for code, (top, top_two) in expectation_props.items():
            expectations[code] = ExpectationEstimate(
                n=int(top.n[g]),
                top=proportion_estimate(code, top, g, ("top", code), False),
                top_two=proportion_estimate(code, top_two, g, ("top_two", code), False),
                distribution={str(v + 1): int(c) for v, c in enumerate(dists[code][g])},
            )
        df_group = overall.df
        results.append(GroupResult(
            keys=keys, n=overall.n, general=gen, overall=overall, elements=elems,
            criteria=crit, expectations=expectations, df=df_group,
        ))
    return tuple(results)
