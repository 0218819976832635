"""Additive sufficient statistics per group, and the source that estimates from them.

Without a design every published estimate of a group is a function of its *tallies*:

- ``levels[k][g, v]``: respondents of group g answering level v (0 = blank) to question k;
- ``gram[g]``: Σ_i x_i x_iᵀ over the group's respondents, x_i the 2K indicators "answered
  criterion k and not satisfied", "satisfied with criterion k" — what the composites'
  variance needs: a composite's influence value is linear in x_i, z_i = c·x_i with
  c = (a_k ℓ_k(unsatisfied), a_k ℓ_k(satisfied))_k, so Σ_i z_i² = cᵀ gram c whatever the
  group's p;
- ``answered[c][g]``: respondents answering at least one criterion of composite c.

Tallies add: the rest of a unit is the total of its context minus the unit, so a unit is
compared with the rest without analysing the whole sample once per unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from questionnaires import Questionnaire

from .estimator import CompositeSpec, CompositeStats, CountSource, state_influence
from .results import PropArrays


@dataclass(frozen=True)
class Tallies:
    levels: dict[str, np.ndarray]
    gram: np.ndarray  # (G, 2K, 2K): columns 2j "criterion j answered, not satisfied", 2j+1 "satisfied"
    criteria: tuple[str, ...]
    answered: dict[str, np.ndarray]
    n_rows: int  # responses in the whole input (the variance's PSU count without a design)

    @property
    def G(self) -> int:
        return len(self.gram)

    def combine(self, weights: np.ndarray) -> Tallies:
        """New groups as integer combinations of these: ``weights[g′, g]`` (e.g. +1 for a
        context's groups, −1 for the unit, to make the rest)."""
        def mix(a: np.ndarray) -> np.ndarray:
            return np.rint(np.tensordot(weights, a, axes=(1, 0))).astype(np.int64)

        return Tallies({k: mix(v) for k, v in self.levels.items()}, mix(self.gram), self.criteria,
                       {k: mix(v) for k, v in self.answered.items()}, self.n_rows)


def count_rows(codes: dict[str, np.ndarray], scales: dict[str, Any], gid: np.ndarray, G: int,
               q: Questionnaire, n_rows: int, *, levels: dict[str, np.ndarray],
               answered: dict[str, np.ndarray]) -> Tallies:
    """The tallies of analysed rows: ``codes[k]`` the answer level of each row (0 blank),
    ``gid`` its group; ``levels`` and ``answered`` (respondents per group answering at least
    one criterion of each element, and of all: "__overall__") as the analysis counted them."""
    criteria = tuple(c.code for c in q.criteria)
    states = {}  # per level: 0 blank, 1 answered and not satisfied, 2 satisfied
    for k in criteria:
        table = np.where(np.isin(np.arange(scales[k].max + 1), list(scales[k].satisfied)), 2, 1).astype(np.int16)
        table[0] = 0
        states[k] = table
    return Tallies(levels, _gram(codes, states, criteria, gid, G), criteria, answered, n_rows)


def _gram(codes: dict[str, np.ndarray], states: dict[str, np.ndarray], criteria: tuple[str, ...],
          gid: np.ndarray, G: int) -> np.ndarray:
    """Σ x xᵀ per group, x a row's "not satisfied"/"satisfied" indicators of each criterion:
    counted through the joint states of blocks of criteria (:func:`_gram_by_states`, cost
    grows with the groups) or row by row (:func:`_gram_by_rows`, cost grows with the rows),
    whichever costs less: a dashboard's few groups of many rows, or a day's cells (one per
    unit, channel and same-day flag: a province's 1,500 cells of a few rows each)."""
    sizes = [3 ** len(criteria[i:i + _BLOCK]) for i in range(0, len(criteria), _BLOCK)]
    by_states = G * sum(a * b for i, a in enumerate(sizes) for b in sizes[i:])
    by_rows = len(gid) * (2 * len(criteria)) ** 2
    if by_rows < by_states:
        return _gram_by_rows(codes, states, criteria, gid, G)
    return _gram_by_states(codes, states, criteria, gid, G)


_ROW_CHUNK = 20_000  # rows whose outer products are held at once (~115 MB at 19 criteria)


def _gram_by_rows(codes: dict[str, np.ndarray], states: dict[str, np.ndarray], criteria: tuple[str, ...],
                  gid: np.ndarray, G: int) -> np.ndarray:
    width = 2 * len(criteria)
    order = np.argsort(gid, kind="stable")
    x = np.zeros((len(gid), width), dtype=np.int64)
    for i, k in enumerate(criteria):
        state = states[k][codes[k][order]]
        x[:, 2 * i] = state == 1
        x[:, 2 * i + 1] = state == 2
    groups = gid[order]
    gram = np.zeros((G, width, width), dtype=np.int64)
    for start in range(0, len(groups), _ROW_CHUNK):
        part, owner = x[start:start + _ROW_CHUNK], groups[start:start + _ROW_CHUNK]
        firsts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        outer = part[:, :, None] * part[:, None, :]
        gram[owner[firsts]] += np.add.reduceat(outer, firsts, axis=0)
    return gram


def _gram_by_states(codes: dict[str, np.ndarray], states: dict[str, np.ndarray], criteria: tuple[str, ...],
                    gid: np.ndarray, G: int) -> np.ndarray:
    """Σ x xᵀ per group from the criteria's answer levels and each level's state
    (``states[k][level]``: 0 blank, 1 not satisfied, 2 satisfied). The states of up to four
    criteria are packed in one number (3⁴ = 81 values), so one bincount per pair of blocks
    (15 for 19 criteria, not 171 for pairs of criteria) counts every joint state, and two
    small matrix products with the blocks' one-hot digit matrices turn the joint counts
    into the counts of every pair of criteria."""
    blocks = [criteria[i:i + _BLOCK] for i in range(0, len(criteria), _BLOCK)]
    packed = [_packed(codes, states, block) for block in blocks]
    digits = [_digits(len(block)) for block in blocks]
    # Rows 3j+1 and 3j+2 of a block's pair counts ("not satisfied", "satisfied" of its j-th
    # criterion) go to columns 2i and 2i+1 of the Gram matrix, i the criterion's position.
    pick = [np.array([3 * j + s for j in range(len(block)) for s in (1, 2)]) for block in blocks]
    place = [np.array([2 * criteria.index(k) + s for k in block for s in (0, 1)]) for block in blocks]
    gram = np.zeros((G, 2 * len(criteria), 2 * len(criteria)), dtype=np.int64)
    for x, block_a in enumerate(blocks):
        size_a = 3 ** len(block_a)
        base = gid * size_a + packed[x]  # group and block x's joint state, reused for every pair
        joint = np.bincount(base, minlength=G * size_a).reshape(G, size_a).astype(np.float64)
        within = np.einsum("gc,cx,cy->gxy", joint, digits[x], digits[x])
        gram[:, place[x][:, None], place[x][None, :]] = np.rint(within[:, pick[x]][:, :, pick[x]])
        for y in range(x + 1, len(blocks)):
            size_b = 3 ** len(blocks[y])
            joint = np.bincount(base * size_b + packed[y], minlength=G * size_a * size_b)
            cross = digits[x].T @ joint.reshape(G, size_a, size_b).astype(np.float64) @ digits[y]
            counts = np.rint(cross[:, pick[x]][:, :, pick[y]])
            gram[:, place[x][:, None], place[y][None, :]] = counts
            gram[:, place[y][:, None], place[x][None, :]] = counts.transpose(0, 2, 1)
    return gram


def _packed(codes: dict[str, np.ndarray], states: dict[str, np.ndarray], block: Sequence[str]) -> np.ndarray:
    """Each row's joint state of a block's criteria, Σ_j state_j · 3^j (int16)."""
    out = np.zeros(len(codes[block[0]]), dtype=np.int16)
    for j, k in enumerate(block):
        table, level = states[k], codes[k]
        top = np.flatnonzero(table == 2)
        if len(top) and np.array_equal(top, np.arange(top[0], len(table))) and (table[1:top[0]] == 1).all():
            # Satisfied = the top levels: two comparisons of int8 codes, no gather through
            # an index array (which numpy widens to 8 bytes a row first).
            state = (level > 0).view(np.int8) + (level >= top[0]).view(np.int8)
        else:
            state = table[level]
        out += state * np.int16(3 ** j)
    return out


def _digits(size: int) -> np.ndarray:
    """One-hot digits of every packed code of ``size`` criteria: [code, 3j + s] = 1 when the
    j-th criterion's state is s."""
    codes = np.arange(3 ** size)
    out = np.zeros((3 ** size, 3 * size))
    for j in range(size):
        out[codes, 3 * j + (codes // 3 ** j) % 3] = 1.0
    return out


#: Relative size below which a composite's Σz² from tallies is rounding (see TallySource).
_ROUNDING = 1e-12
#: Criteria packed per bincount (3⁴ states each; a pair of blocks has 6,561 joint states per group).
_BLOCK = 4


class TallySource(CountSource):
    """Estimates from tallies (no design: every respondent its own PSU, one stratum)."""

    def __init__(self, tallies: Tallies, *, method: str, confidence: float) -> None:
        super().__init__(n_rows=tallies.n_rows, G=tallies.G, method=method, confidence=confidence)
        self.tallies = tallies
        self.levels = tallies.levels

    def composites(self, specs: Sequence[CompositeSpec], props: dict[str, PropArrays]) -> list[CompositeStats]:
        return [self._composite(spec, props) for spec in specs]

    def _composite(self, spec: CompositeSpec, props: dict[str, PropArrays]) -> CompositeStats:
        c = np.zeros((self.G, 2 * len(self.tallies.criteria)))
        for j, k in enumerate(self.tallies.criteria):
            a = spec.members.get(k)
            if a is None:
                continue
            not_satisfied, satisfied = state_influence(props[k])
            c[:, 2 * j] = a * not_satisfied
            c[:, 2 * j + 1] = a * satisfied
        diagonal = np.diagonal(self.tallies.gram, axis1=1, axis2=2)  # counts of each indicator
        s1 = (c * diagonal).sum(axis=1)
        s2 = np.einsum("gi,gij,gj->g", c, self.tallies.gram, c)
        # The quadratic form sums terms of both signs: where they cancel (a composite whose
        # influence values are all zero, as when its criteria's answers offset exactly) what
        # is left is rounding, ~1e-16 of the terms, which a square root would magnify into
        # a visible SE. Below 1e-12 of the terms' magnitude it is zero, as row sums give.
        magnitude = np.einsum("gi,gij,gj->g", np.abs(c), self.tallies.gram, np.abs(c))
        s2 = np.where(np.abs(s2) <= _ROUNDING * magnitude, 0.0, s2)
        return CompositeStats(self.bound.variance_from_sums(s1, s2), self.tallies.answered[spec.code])
