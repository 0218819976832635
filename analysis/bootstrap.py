"""BCa bootstrap intervals for the indices (methodology §3.4, ``analyze(bootstrap=N)``).

``scipy.stats.bootstrap(..., method="BCa")`` with a vectorised statistic that computes, from
one resample, every proportion of the group (criteria, the general question, expectation
shares) and the composites built from them (elements, overall: available-case means).

- Without a design (or with weights only) the group's respondents are resampled
  (``paired=True``: a respondent's answers stay together).
- With strata and/or clusters, PSUs are resampled within strata: each stratum's PSUs that
  contain members of the group are one sample, resampled independently. A stratum where
  the group has a single PSU cannot be resampled and enters every resample unchanged.
  The naive PSU bootstrap understates the variance by the factor (n_h − 1)/n_h (no Rao–Wu
  rescaling is possible through scipy), which matters only for strata with few PSUs.

Only the intervals change; standard errors, deff and mean-score intervals stay analytic.
BCa is undefined (NaN) when every resample gives the same value — everyone satisfied,
nobody satisfied — or when a resample has no answer for the index; the analytic interval
is then kept and the estimate's ``note`` says so. Cost: BCa's jackknife evaluates the
statistic once per resampling unit, so time grows with the square of the group size;
the bootstrap suits groups of up to a few thousand respondents.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

#: Note on estimates whose interval comes from the bootstrap.
NOTE = "BCa bootstrap interval ({n} resamples of {units})"
#: Note on estimates where BCa is undefined.
FALLBACK = "bootstrap BCa interval undefined (e.g. all resamples equal): analytic interval"


@dataclass
class BootstrapIntervals:
    """Intervals in percent by (kind, code) and group; None where BCa is undefined."""

    note: str
    fallback_note: str = FALLBACK
    cis: dict[tuple[str, str], list[tuple[float, float] | None]] = field(default_factory=dict)

    def get(self, key: tuple[str, str], g: int) -> tuple[float, float] | None:
        values = self.cis.get(key)
        return None if values is None else values[g]


def _statistic(table: np.ndarray, fixed: np.ndarray, n_props: int,
               elements: list[list[int]]) -> Any:
    units = table.shape[0]

    def statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        lead = np.broadcast_shapes(*(s.shape[:-1] for s in samples))
        parts = [np.broadcast_to(s, lead + s.shape[-1:]) for s in samples]
        idx = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
        flat = idx.reshape(-1, idx.shape[-1]).astype(np.int64)
        b = flat.shape[0]
        offsets = (np.arange(b, dtype=np.int64) * units)[:, None]
        freq = np.bincount((flat + offsets).ravel(), minlength=b * units).reshape(b, units)
        sums = freq.astype(np.float64) @ table + fixed
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            props = sums[:, :n_props] / sums[:, n_props:]
            elems = [np.nanmean(props[:, members], axis=1) for members in elements]
            columns = [props]
            if elems:
                elem = np.stack(elems, axis=1)
                columns += [elem, np.nanmean(elem, axis=1)[:, None]]
            out = np.concatenate(columns, axis=1)
        return out.T.reshape((out.shape[1], *lead))

    return statistic


def bootstrap_intervals(
    *, codes: dict[str, np.ndarray], q: Any, general: Any, expectations: list[str], eng: Any,
    design: Any, grouping: Any, n_resamples: int, seed: int | None,
) -> BootstrapIntervals:
    """BCa intervals for every index of every group (see the module docstring)."""
    items: list[tuple[tuple[str, str], str, np.ndarray]] = []
    for c in q.criteria:
        items.append((("prop", c.code), c.code, _mask(c.scale.max, c.scale.satisfied)))
    if general is not None:
        items.append((("prop", general.code), general.code,
                      _mask(general.scale.max, general.scale.satisfied)))
    for item in q.expectations:
        if item.code in expectations:
            top = item.scale.max
            items.append((("top", item.code), item.code, _mask(top, [top])))
            items.append((("top_two", item.code), item.code, _mask(top, [top - 1, top])))
    position = {c.code: i for i, c in enumerate(q.criteria)}
    elements = [[position[c.code] for c in e.criteria] for e in q.elements]
    keys = [key for key, _, _ in items] + [("composite", e.code) for e in q.elements]
    keys.append(("composite", "__overall__"))
    stratified = design.psu is not None or design.stratum is not None
    result = BootstrapIntervals(NOTE.format(
        n=n_resamples, units="PSUs within strata" if stratified else "respondents"))
    result.cis = {key: [None] * grouping.G for key in keys}
    rng = np.random.default_rng(seed)
    gid = eng.gid
    order = np.argsort(gid, kind="stable")
    starts = np.searchsorted(gid[order], np.arange(grouping.G + 1))
    rows = grouping.rows
    for g in range(grouping.G):
        sel = order[starts[g]:starts[g + 1]]
        if len(sel) < 2:
            continue
        w = None if eng.bound.w is None else eng.bound.w[sel]
        m = len(items)
        table = np.empty((len(sel), 2 * m))
        for j, (_key, code, sat) in enumerate(items):
            cc = codes[code][sel]
            answered = (cc > 0).astype(np.float64)
            yes = sat[cc].astype(np.float64)
            table[:, j] = yes if w is None else yes * w
            table[:, m + j] = answered if w is None else answered * w
        input_rows = sel if rows is None else rows[sel]
        if stratified:
            unit = input_rows if design.psu is None else design.psu[input_rows]
            uniq, local = np.unique(unit, return_inverse=True)
            table = np.stack([np.bincount(local.ravel(), weights=table[:, j],
                                          minlength=len(uniq)) for j in range(2 * m)], axis=1)
            if design.stratum is None:
                strata_of = np.zeros(len(uniq), dtype=np.int64)
            elif design.psu is None:
                strata_of = design.stratum[uniq]
            else:
                strata_of = design.psu_stratum[uniq]
            samples, fixed = [], np.zeros(2 * m)
            for h in np.unique(strata_of):
                members = np.flatnonzero(strata_of == h)
                if len(members) >= 2:
                    samples.append(members)
                else:
                    fixed += table[members].sum(axis=0)
        else:
            samples, fixed = [np.arange(len(sel))], np.zeros(2 * m)
        if not samples:
            continue
        statistic = _statistic(table, fixed, m, elements)
        batch = max(1, int(4_000_000 // max(table.shape[0], 1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = stats.bootstrap(
                    tuple(samples), statistic, n_resamples=n_resamples, batch=batch,
                    vectorized=True, paired=len(samples) == 1, method="BCa",
                    confidence_level=eng.confidence, rng=rng,
                )
            except (ValueError, FloatingPointError):
                continue
        low = np.atleast_1d(res.confidence_interval.low)
        high = np.atleast_1d(res.confidence_interval.high)
        for j, key in enumerate(keys):
            if np.isfinite(low[j]) and np.isfinite(high[j]):
                result.cis[key][g] = (float(low[j]) * 100, float(high[j]) * 100)
    return result


def _mask(top: int, values: Any) -> np.ndarray:
    mask = np.zeros(top + 1, dtype=bool)
    mask[list(values)] = True
    return mask
