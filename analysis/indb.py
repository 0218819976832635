"""The analysis inside the database: :func:`analyze_database` computes the sufficient
statistics of :mod:`analysis.estimator` with SQL aggregates and never fetches an answer row.

Three queries over the tables of docs/CONTRACTS.md (algebra: docs/analysis.md, "Analysis in
the database"):

0. *cells*: responses counted per group key and half-month (``GROUP BY``); the half-months
   are the finest grain of every period kind (a PAR window runs from the 15th), so the
   groups, their order and their keys come from the same :func:`analysis.periods.group_rows`
   as the in-memory path, applied to these few rows. A small table maps each cell to
   its group(s).
1. *levels*: answers counted per (group, item, level) — criteria, the general question and
   the expectations: counts, distributions, proportions, means and their variances.
   (0) and (1) read ``answer_counts``, which triggers keep (migration 0004), when the
   grouping and the selection use only its columns; else the responses and answers.
2. *composites*: with p_gk from (1), the influence value of each response on each element
   and the overall index, z_i = Σ_k a_gk (y_ik − p_gk)/n_gk, summed per response and then
   per group as Σz and Σz²: the linearised variance of every composite (every respondent
   its own PSU, one stratum, as in the in-memory path without a design). The coefficients
   a_gk/n_gk travel in a second small table of groups × criteria rows.

Both joins are on integer keys and small tables (arrays bound to the statement on
PostgreSQL, temporary tables on SQLite); every aggregate is a plain
``COUNT``/``SUM``/``MAX``, which a distributed PostgreSQL splits into partial aggregates per
shard (docs/deploy.md says what is and is not pushed down). The SQL that selects responses
and forms the cells is in :mod:`analysis.dbcells`. No Flask; plain SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from questionnaires import Questionnaire

from .code_frame import WEIGHT_COLUMN, FrameWeights
from .dbcells import (
    COUNTED_KEYS,
    FROM_COUNTS,
    GROUP_COLUMNS,
    KEYS,
    TEXT,
    cell_map,
    count_cells,
    newest_answered,
    selection,
    small_table,
    where_also,
)
from .estimator import (
    CompositeSpec,
    CompositeStats,
    CountSource,
    estimate,
    question_scales,
    respondents_df,
    state_influence,
)
from .indices import check_options
from .intervals import check_confidence, normalize_ci_method
from .io import _engine, _split_questionnaire, resolve_questionnaire
from .periods import group_rows
from .results import MAX_WIDTH, SMALL_N, AnalysisResult, PropArrays
from .successions import relabel, successor_codes

#: PostgreSQL work_mem for the analysis's transaction: the per-response sums of a million
#: responses hash in about 150 MB.
_WORK_MEM = "256MB"

class SqlSource(CountSource):
    """Sufficient statistics computed by the database: a simple random sample, or weights
    constant within each cell (the cells table's ``w``: frame weights), every respondent
    its own PSU."""

    def __init__(self, conn: sa.Connection, q: Questionnaire, *, n_rows: int, G: int, cells: str,
                 where: str, params: dict[str, Any], bind: list[Any], method: str,
                 confidence: float, overlapping: bool, counted: bool,
                 weight_name: str | None = None) -> None:
        super().__init__(n_rows=n_rows, G=G, method=method, confidence=confidence, weight_name=weight_name)
        self.conn = conn
        self.questionnaire = q
        # Responses, their group cell and their answers. SQLite keeps the order written with
        # CROSS JOIN: the responses in key order, each one's answers by their key prefix (in
        # key order too, so pages are read once), and a group per response streams without
        # a sort; the planner's own order looked answers up at random, twice as slow.
        j = "CROSS JOIN" if conn.dialect.name == "sqlite" else "JOIN"
        self.answers = (f" FROM responses r {j} questionnaire_versions qv ON qv.id = r.questionnaire_version_id"
                        f" {j} {cells} {j} answers a ON a.response_id = r.id")
        self.join_word = j
        self.where = where
        self.params = params
        self.bind = bind
        self.overlapping = overlapping
        self.counted = counted  # levels from answer_counts
        self.cells = cells
        self.levels = self._count_levels()

    def _sql(self, text: str) -> Any:
        binds = [*self.bind, *([sa.bindparam("items", expanding=True)] if ":items" in text else [])]
        return self.conn.execute(sa.text(text).bindparams(*binds), self.params)

    def _count_levels(self) -> dict[str, np.ndarray]:
        tops = {code: scale.max for code, scale in question_scales(self.questionnaire).items()}
        counts = {code: np.zeros((self.G, top + 1), dtype=np.int64) for code, top in tops.items()}
        sums = {code: (np.zeros(c.shape), np.zeros(c.shape)) for code, c in counts.items()}
        self.params["items"] = list(tops)
        n = "r.n" if self.counted else "1"
        weighted = f", SUM(m.w * {n}), SUM(m.w * m.w * {n})" if self.weighted else ""
        if self.counted:
            levels = (f"SELECT m.gid, r.item, r.value, SUM(r.n){weighted}" + FROM_COUNTS + f" JOIN {self.cells}"
                      + where_also(self.where, "r.item IN :items") + " GROUP BY m.gid, r.item, r.value")
        else:
            levels = (f"SELECT m.gid, a.item, a.value, COUNT(*){weighted}" + self.answers
                      + where_also(self.where, "a.item IN :items") + " GROUP BY m.gid, a.item, a.value")
        for gid, item, value, count, *w in self._sql(levels).all():
            if 1 <= int(value) <= tops[item]:
                counts[item][int(gid), int(value)] += int(count)
                if w:
                    sums[item][0][int(gid), int(value)] += float(w[0])
                    sums[item][1][int(gid), int(value)] += float(w[1])
        self.weight_sums = sums
        return counts

    def composites(self, specs: Sequence[CompositeSpec], props: dict[str, PropArrays]) -> list[CompositeStats]:
        criteria = {c.code: c for c in self.questionnaire.criteria}
        J = len(specs)
        # Per criterion and group, the influence value of a satisfied and of a not-satisfied
        # answer on each composite (s, u); with weights also the same with the unweighted
        # count as denominator (t, v: the simple-random-sample variance behind deff).
        kinds = ("s", "u", "t", "v") if self.weighted else ("s", "u")
        columns_of = {"gid": sa.BigInteger(), "item": TEXT, "sat": sa.Integer(),
                      **{f"{kind}{j}": sa.Float() for kind in kinds for j in range(J)},
                      **{f"m{j}": sa.Integer() for j in range(J)}}
        records = []
        for code, c in criteria.items():
            pr = props[code]
            first_sat = int(min(c.scale.satisfied))
            if set(c.scale.satisfied) != set(range(first_sat, c.scale.max + 1)):
                raise ValueError(f"{code}: the satisfied levels must be the top ones for the "
                                 "analysis in the database")
            states = dict(zip("us", state_influence(pr), strict=True))
            if self.weighted:
                with np.errstate(divide="ignore", invalid="ignore"):
                    states["v"] = np.where(pr.n > 0, -pr.p / pr.n, 0.0)
                    states["t"] = np.where(pr.n > 0, (1 - pr.p) / pr.n, 0.0)
            columns: dict[str, np.ndarray] = {}
            for j, spec in enumerate(specs):
                a = spec.members.get(code)
                a = np.zeros(self.G) if a is None else a
                for kind in kinds:
                    columns[f"{kind}{j}"] = states[kind] * a
            member = {f"m{j}": int(code in spec.members) for j, spec in enumerate(specs)}
            for g in np.flatnonzero(pr.n > 0).tolist():
                records.append({"gid": g, "item": code, "sat": first_sat, **member,
                                **{name: float(v[g]) for name, v in columns.items()}})
        coef = small_table(self.conn, "sipas_coef", "c", columns_of, records, self.params)

        def influence(j: int, satisfied: str, not_satisfied: str) -> str:
            return f"SUM(CASE WHEN a.value >= c.sat THEN c.{satisfied}{j} ELSE c.{not_satisfied}{j} END)"

        inner = [f"{influence(j, 's', 'u')} AS z{j}, MAX(c.m{j}) AS n{j}" for j in range(J)]
        outer = [f"SUM(t.z{j}), SUM(t.z{j} * t.z{j}), SUM(t.n{j})" for j in range(J)]
        if self.weighted:  # one weight per response: its cell's
            inner = [*(f"{influence(j, 't', 'v')} AS q{j}" for j in range(J)), "MAX(m.w) AS w", *inner]
            outer = [f"SUM(t.w * t.z{j}), SUM(t.w * t.w * t.z{j} * t.z{j}), SUM(t.n{j}),"
                     f" SUM(t.w * t.n{j}), SUM(t.w * t.q{j} * t.q{j})" for j in range(J)]
        width = 5 if self.weighted else 3
        # Per response (a PAR half-month belongs to several groups: there per response and group).
        per_response = "r.id, m.gid" if self.overlapping else "r.id"
        gid = "m.gid" if self.overlapping else "MIN(m.gid)"
        rows = self._sql(
            f"SELECT t.gid, {', '.join(outer)} FROM (SELECT {gid} AS gid, {', '.join(inner)}" + self.answers
            + f" {self.join_word} {coef} ON c.gid = m.gid AND c.item = a.item"
            + self.where + f" GROUP BY {per_response}) t GROUP BY t.gid").all()
        sums = np.zeros((width * J, self.G))
        for row in rows:
            sums[:, int(row[0])] = [float(v or 0) for v in row[1:]]
        stats = []
        for j in range(J):
            z, zz, answered = sums[width * j:width * j + 3]
            var = self.bound.variance_from_sums(z, zz)
            n = np.rint(answered).astype(np.int64)
            if not self.weighted:
                stats.append(CompositeStats(var, n))
                continue
            wn, qq = sums[width * j + 3:width * j + 5]
            with np.errstate(divide="ignore", invalid="ignore"):
                deff = np.maximum(var, 0.0) / (n / wn * qq)
            stats.append(CompositeStats(var, n, respondents_df(n), deff))
        return stats


def analyze_database(
    url: Any,
    questionnaire: Questionnaire | str | None = None,
    *,
    by: str | Sequence[str] = (),
    period: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    units: Iterable[str] | str | None = None,
    descendants: bool = True,
    equal: Mapping[str, str] | None = None,
    not_blank: Iterable[str] = (),
    ci_method: str = "wilson",
    confidence: float = 0.95,
    small_n: int = SMALL_N,
    max_width: float = MAX_WIDTH,
    frame_weights: FrameWeights | None = None,
) -> AnalysisResult:
    """The result of ``analyze(load_database(url, ...), q, by=..., period=..., ...)``,
    computed with SQL aggregates: memory and transfer grow with the number of groups, not
    of responses.

    Without ``frame_weights`` a simple random sample of respondents; with them
    (:class:`analysis.code_frame.FrameWeights`) the single-use responses weighted by the
    code frame's response rates, every respondent its own PSU — the result of
    ``analyze(weigh_frame(frame, frame_weights)[0], q, weight="frame_weight", ...)``.
    ``by`` takes the columns of :data:`GROUP_COLUMNS`. ``units``/``descendants``/``date_from``/``date_to``
    select responses as :func:`analysis.load_database` does, ``equal`` further by the
    value of a column (``{"procedure": "P1", "channel": "single"}``) and ``not_blank`` by
    columns that hold a value; ``questionnaire`` defaults to the only questionnaire the
    selected responses answer, analysed as its newest version present.
    """
    confidence = check_confidence(confidence)
    method = normalize_ci_method(ci_method)
    by_t, date_from, date_to = check_options(by, period, date_from, date_to, small_n, max_width)
    for column in by_t:
        if column not in KEYS:
            raise ValueError(f"by: column '{column}' cannot be grouped in the database; use one "
                             f"of {', '.join(GROUP_COLUMNS)}")
    qid, version, qobj = _split_questionnaire(questionnaire)
    if version is not None and qobj is None:  # a version this installation does not know: said here
        qobj = resolve_questionnaire(str(questionnaire))
    engine = _engine(url)
    with engine.connect() as conn, conn.begin() as transaction:
        if conn.dialect.name == "postgresql":
            # The planner cannot estimate a join on the half-month expression and guessed a
            # few hundred rows where a million come: it then looked answers up one response
            # at a time or sorted them on disk. Hash joins and hash aggregates in memory are
            # right for every size here (the settings end with this read-only transaction).
            conn.execute(sa.text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
            conn.execute(sa.text("SET LOCAL enable_nestloop = off"))
            conn.execute(sa.text("SET LOCAL enable_sort = off"))
        if frame_weights is not None:  # the code frame holds single-use codes only
            if (equal or {}).get("channel", "single") != "single":
                raise ValueError("frame weights: only single-use answers have a code frame; "
                                 "select channel 'single' or analyse without frame weights")
            equal = {**(equal or {}), "channel": "single"}
        where, params, bind = selection(conn, qid, version, date_from, date_to, units, descendants,
                                         equal, not_blank)
        q = qobj or newest_answered(conn, where, params, bind, qid)
        # Weights are constant within (unit, procedure, month): cells go down to them.
        cell_by = (tuple(dict.fromkeys([*by_t, "unit", "procedure"])), period or "month") \
            if frame_weights is not None else (by_t, period)
        counted = (set(cell_by[0]) <= COUNTED_KEYS and set(equal or {}) <= {"procedure", "channel"}
                   and not tuple(not_blank) and sa.inspect(conn).has_table("answer_counts"))
        cells, raw = count_cells(conn, *cell_by, where, params, bind, counted)
        # By unit, a merged unit's cells count under its successor (the labels only: the cells,
        # and a code frame's weights, stay the issuing unit's).
        successors = successor_codes(conn)
        grouping = group_rows(cells.assign(**{c: relabel(cells[c], successors) for c in ("unit", "competent_unit")
                                              if c in by_t}), by_t, period, None, None)
        weights = None if frame_weights is None else frame_weights.weights(
            cells["unit"], cells["procedure"], cells["submitted_on"])
        n_rows = int(cells["_n"].sum())
        src = SqlSource(conn, q, n_rows=n_rows, G=grouping.G,
                        cells=cell_map(conn, cells, raw, grouping, cell_by[1], params, weights),
                        where=where, params=params, bind=bind, method=method,
                        confidence=confidence, overlapping=period == "par", counted=counted,
                        weight_name=None if weights is None else WEIGHT_COLUMN)
        src.design.check_lonely()
        groups = estimate(q, src, small_n=int(small_n), max_width=float(max_width),
                          grouping=grouping)
        transaction.rollback()
    return AnalysisResult(
        questionnaire=q, confidence=confidence, ci_method=method if weights is None else "korn-graubard",
        weight=None if weights is None else WEIGHT_COLUMN, strata=None, cluster=None,
        df=None if weights is None else int(respondents_df(np.array([n_rows]))[0]),
        by=by_t, period=period, date_from=date_from, date_to=date_to,
        bootstrap=None, small_n=int(small_n), max_width=float(max_width), groups=groups,
    )


