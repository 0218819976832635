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
2. *composites*: with p_gk from (1), the influence value of each response on each element
   and the overall index, z_i = Σ_k a_gk (y_ik − p_gk)/n_gk, summed per response and then
   per group as Σz and Σz²: the linearised variance of every composite (every respondent
   its own PSU, one stratum, as in the in-memory path without a design). The coefficients
   a_gk/n_gk travel in a second small table of groups × criteria rows.

Both joins are on integer keys and small tables (arrays bound to the statement on
PostgreSQL, temporary tables on SQLite); every aggregate is a plain
``COUNT``/``SUM``/``MAX`` that a distributed PostgreSQL pushes down to its shards
(docs/deploy.md). No Flask; plain SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from questionnaires import Questionnaire

from .design import SurveyDesign
from .estimator import CompositeSpec, CompositeStats, Counted, Source, estimate
from .intervals import check_confidence, normalize_ci_method
from .io import _engine, _split_questionnaire, _unit_ids, _where, export_frame, resolve_questionnaire
from .periods import check_kind, group_rows, to_date
from .results import AnalysisResult, PropArrays


@dataclass(frozen=True)
class _Key:
    """A ``by`` column: its raw value on the response (what the cells table joins on, NULL
    as a sentinel so equality joins work) and the value the export shows."""

    raw: str
    label: str
    sql_type: Any


_INT = sa.BigInteger()
_TEXT = sa.String(64)
_KEYS = {
    "unit": _Key("r.unit_id", "u.code", _INT),
    "procedure": _Key("COALESCE(r.procedure_id, -1)", "p.code", _INT),
    "questionnaire": _Key("r.questionnaire_version_id", "qv.questionnaire_id", _INT),
    "questionnaire_version": _Key("r.questionnaire_version_id", "qv.version", _INT),
    "channel": _Key("r.channel", "r.channel", _TEXT),
    "same_day": _Key("COALESCE(CAST(r.same_day AS INTEGER), -1)", "r.same_day", _INT),
    **{name: _Key(f"COALESCE(r.{name}, '')", f"r.{name}", _TEXT) for name in (
        "respondent_type", "feedback_given", "gender", "age_group", "ethnicity", "education",
        "occupation", "residence")},
}
#: The ``by`` columns the database can group by (the export's columns that describe a response).
GROUP_COLUMNS = tuple(_KEYS)

#: PostgreSQL work_mem for the analysis's transaction: the per-response sums of a million
#: responses hash in about 150 MB.
_WORK_MEM = "256MB"

_FROM = (" FROM responses r JOIN questionnaire_versions qv ON qv.id = r.questionnaire_version_id")
#: Responses and answers counted by triggers (migration 0004), with the responses' columns
#: for these keys: counts come from there when the grouping and the selection use only them.
_COUNTED_KEYS = frozenset({"unit", "procedure", "questionnaire", "questionnaire_version", "channel"})
_COUNTS_FROM = (" FROM answer_counts r JOIN questionnaire_versions qv ON qv.id = r.questionnaire_version_id")


def _half_month(dialect: str) -> str:
    """year·24 + (month − 1)·2 + (day ≥ 15): the half-month a response was given in."""
    if dialect == "sqlite":  # dates are stored as 'YYYY-MM-DD'
        part = "CAST(substr(r.submitted_on, {0}, {1}) AS INTEGER)"
        year, month, day = part.format(1, 4), part.format(6, 2), part.format(9, 2)
    else:
        year, month, day = (f"CAST(EXTRACT({f} FROM r.submitted_on) AS INTEGER)"
                            for f in ("YEAR", "MONTH", "DAY"))
    return f"({year} * 24 + ({month} - 1) * 2 + CASE WHEN {day} >= 15 THEN 1 ELSE 0 END)"


def _cell_day(cell: int) -> dt.date:
    year, rest = divmod(int(cell), 24)
    month, half = divmod(rest, 2)
    return dt.date(year, month + 1, 15 if half else 1)


class SqlSource(Source):
    """Sufficient statistics computed by the database (no design: simple random sample)."""

    def __init__(self, conn: sa.Connection, q: Questionnaire, *, n_rows: int, G: int, cells: str,
                 where: str, params: dict[str, Any], bind: list[Any], method: str,
                 confidence: float, overlapping: bool, counted: bool) -> None:
        super().__init__(G=G, is_design=False, weighted=False, method=method, confidence=confidence)
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
        # One stratum of n_rows PSUs (every response its own): the variance formula of
        # analysis.design, bound once.
        self.bound = SurveyDesign(n_rows).bind(None, np.zeros(0, dtype=np.int64), G)
        self.items = _items(q)
        self._levels = self._count_levels()

    def _sql(self, text: str) -> Any:
        binds = [*self.bind, *([sa.bindparam("items", expanding=True)] if ":items" in text else [])]
        return self.conn.execute(sa.text(text).bindparams(*binds), self.params)

    def _count_levels(self) -> dict[str, np.ndarray]:
        tops = {code: scale.max for code, scale in self.items.items()}
        counts = {code: np.zeros((self.G, top + 1), dtype=np.int64) for code, top in tops.items()}
        self.params["items"] = list(tops)
        if self.counted:
            levels = ("SELECT m.gid, r.item, r.value, SUM(r.n)" + _COUNTS_FROM + f" JOIN {self.cells}"
                      + self.where + (" AND" if self.where else " WHERE") + " r.item IN :items"
                      " GROUP BY m.gid, r.item, r.value")
        else:
            levels = ("SELECT m.gid, a.item, a.value, COUNT(*)" + self.answers + self.where
                      + (" AND" if self.where else " WHERE") + " a.item IN :items"
                      " GROUP BY m.gid, a.item, a.value")
        rows = self._sql(levels).all()
        for gid, item, value, n in rows:
            if 1 <= int(value) <= tops[item]:
                counts[item][int(gid), int(value)] += int(n)
        return counts

    def has(self, code: str) -> bool:
        return code in self.items

    def counts(self, code: str, top: int) -> Counted:
        cnt = self._levels[code]
        wc = cnt.astype(np.float64)
        return cnt, wc, wc

    def level_variance(self, code: str, top: int, counted: Counted, lut: np.ndarray) -> np.ndarray:
        return self.bound.variance_from_counts(counted[1], counted[2], lut)

    def composites(self, specs: Sequence[CompositeSpec], props: dict[str, PropArrays]) -> list[CompositeStats]:
        criteria = {c.code: c for c in self.questionnaire.criteria}
        J = len(specs)
        columns_of = {"gid": sa.BigInteger(), "item": _TEXT, "sat": sa.Integer(),
                      **{f"{kind}{j}": sa.Float() for kind in ("s", "u") for j in range(J)},
                      **{f"m{j}": sa.Integer() for j in range(J)}}
        records = []
        for code, c in criteria.items():
            pr = props[code]
            levels = np.arange(c.scale.max + 1)
            first_sat = int(min(c.scale.satisfied))
            if set(c.scale.satisfied) != set(range(first_sat, c.scale.max + 1)):
                raise ValueError(f"{code}: the satisfied levels must be the top ones for the "
                                 "analysis in the database")
            first_unsat = int(levels[1:][~pr.sat[1:]][0])
            columns: dict[str, np.ndarray] = {}
            for j, spec in enumerate(specs):
                a = spec.members.get(code)
                a = np.zeros(self.G) if a is None else a
                columns[f"s{j}"] = pr.lut[:, first_sat] * a
                columns[f"u{j}"] = pr.lut[:, first_unsat] * a
            member = {f"m{j}": int(code in spec.members) for j, spec in enumerate(specs)}
            for g in np.flatnonzero(pr.n > 0).tolist():
                records.append({"gid": g, "item": code, "sat": first_sat, **member,
                                **{name: float(v[g]) for name, v in columns.items()}})
        coef = _small_table(self.conn, "sipas_coef", "c", columns_of, records, self.params)
        inner = ", ".join(
            f"SUM(CASE WHEN a.value >= c.sat THEN c.s{j} ELSE c.u{j} END) AS z{j}, MAX(c.m{j}) AS n{j}"
            for j in range(J))
        outer = ", ".join(f"SUM(t.z{j}), SUM(t.z{j} * t.z{j}), SUM(t.n{j})" for j in range(J))
        # Per response (a PAR half-month belongs to several groups: there per response and group).
        per_response = "r.id, m.gid" if self.overlapping else "r.id"
        gid = "m.gid" if self.overlapping else "MIN(m.gid)"
        rows = self._sql(
            f"SELECT t.gid, {outer} FROM (SELECT {gid} AS gid, {inner}" + self.answers
            + f" {self.join_word} {coef} ON c.gid = m.gid AND c.item = a.item"
            + self.where + f" GROUP BY {per_response}) t GROUP BY t.gid").all()
        sums = np.zeros((3 * J, self.G))
        for row in rows:
            sums[:, int(row[0])] = [float(v or 0) for v in row[1:]]
        return [CompositeStats(self.bound.variance_from_sums(sums[3 * j], sums[3 * j + 1]),
                               np.rint(sums[3 * j + 2]).astype(np.int64)) for j in range(J)]


_PG_ARRAY = {sa.BigInteger: "bigint", sa.Integer: "integer", sa.String: "text", sa.Float: "double precision"}


def _small_table(conn: sa.Connection, name: str, alias: str, columns: dict[str, Any],
                 records: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """A small table of ``records`` the analysis joins, as a FROM item named ``alias``.

    PostgreSQL: ``unnest`` of bound arrays, one per column — no temporary table, so the
    query stays parallel-safe (a temporary table keeps it in one process) and a
    distributed PostgreSQL can ship it with the query. SQLite: a temporary table created
    afresh (a pooled connection keeps one that an interrupted analysis left; pysqlite runs
    DDL outside the transaction), dropped with the connection's next analysis."""
    if conn.dialect.name == "postgresql":
        arrays = []
        for column, kind in columns.items():
            params[f"{name}_{column}"] = [r[column] for r in records]
            arrays.append(f"CAST(:{name}_{column} AS {_PG_ARRAY[type(kind)]}[])")
        return f"unnest({', '.join(arrays)}) AS {alias}({', '.join(columns)})"
    table = sa.Table(name, sa.MetaData(), *(sa.Column(c, kind) for c, kind in columns.items()),
                     prefixes=["TEMPORARY"])
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    table.create(conn)
    if records:
        conn.execute(table.insert(), records)
    return f"{name} {alias}"


def _items(q: Questionnaire) -> dict[str, Any]:
    """Scale of every question the analysis counts: criteria, the general question, expectations."""
    items = {c.code: c.scale for c in q.criteria}
    if q.general is not None:
        items[q.general.code] = q.general.scale
    items.update({e.code: e.scale for e in q.expectations})
    return items


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
    small_n: int = 30,
    max_width: float = 20.0,
) -> AnalysisResult:
    """The result of ``analyze(load_database(url, ...), q, by=..., period=..., ...)``,
    computed with SQL aggregates: memory and transfer grow with the number of groups, not
    of responses.

    Without a design (the database holds no weights, strata or PSUs); ``by`` takes the
    columns of :data:`GROUP_COLUMNS`. ``units``/``descendants``/``date_from``/``date_to``
    select responses as :func:`analysis.load_database` does, ``equal`` further by the
    value of a column (``{"procedure": "P1", "channel": "single"}``) and ``not_blank`` by
    columns that hold a value; ``questionnaire`` defaults to the only questionnaire the
    selected responses answer, analysed as its newest version present.
    """
    confidence = check_confidence(confidence)
    method = normalize_ci_method(ci_method)
    by_t = (by,) if isinstance(by, str) else tuple(by)
    for column in by_t:
        if column not in _KEYS:
            raise ValueError(f"by: column '{column}' cannot be grouped in the database; use one "
                             f"of {', '.join(GROUP_COLUMNS)}")
    if len(set(by_t)) != len(by_t):
        raise ValueError(f"by: a column is named twice in {list(by_t)}")
    if period is not None:
        check_kind(period)
    date_from = to_date(date_from, "date_from")
    date_to = to_date(date_to, "date_to")
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValueError(f"date_from: {date_from} is after date_to {date_to}")
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
        where, params, bind = _selection(conn, qid, version, date_from, date_to, units, descendants,
                                         equal, not_blank)
        q = qobj or _newest_answered(conn, where, params, bind, qid)
        counted = (set(by_t) <= _COUNTED_KEYS and set(equal or {}) <= {"procedure", "channel"}
                   and not tuple(not_blank) and sa.inspect(conn).has_table("answer_counts"))
        cells, raw = _cells(conn, by_t, period, where, params, bind, counted)
        grouping = group_rows(cells, by_t, period, None, None)
        src = SqlSource(conn, q, n_rows=int(cells["_n"].sum()), G=grouping.G,
                        cells=_cell_map(conn, cells, raw, grouping, period, params),
                        where=where, params=params, bind=bind, method=method,
                        confidence=confidence, overlapping=period == "par", counted=counted)
        groups = estimate(q, src, small_n=int(small_n), max_width=float(max_width),
                          grouping=grouping)
        transaction.rollback()
    return AnalysisResult(
        questionnaire=q, confidence=confidence, ci_method=method, weight=None, strata=None,
        cluster=None, df=None, by=by_t, period=period, date_from=date_from, date_to=date_to,
        bootstrap=None, small_n=int(small_n), max_width=float(max_width), groups=groups,
    )


_FILTERS = ("procedure", "channel", "same_day", "respondent_type", "feedback_given", "gender", "age_group",
            "ethnicity", "education", "occupation", "residence")


def _selection(conn: sa.Connection, qid: str | None, version: int | None, date_from: Any, date_to: Any,
               units: Any, descendants: bool, equal: Mapping[str, str] | None,
               not_blank: Iterable[str]) -> tuple[str, dict[str, Any], list[Any]]:
    """The WHERE clause (on ``r``, the responses, and ``qv``) that selects the responses."""
    params: dict[str, Any] = {}
    bind: list[Any] = []
    where = _where("r", "submitted_on", qid, version, date_from, date_to,
                   _unit_ids(conn, units, descendants), params, bind)
    clauses = [where[len(" WHERE "):]] if where else []
    for column, value in (equal or {}).items():
        if column not in _FILTERS or column == "same_day":
            raise ValueError(f"equal: responses cannot be selected by '{column}' in the database")
        if column == "procedure":  # by code; an unknown code selects nothing
            found = conn.execute(sa.text("SELECT id FROM procedures WHERE code = :code"), {"code": value}).scalar()
            value = -2 if found is None else found  # -1 is "no procedure" in answer_counts
            column = "procedure_id"
        clauses.append(f"r.{column} = :equal_{column}")
        params[f"equal_{column}"] = value
    for column in not_blank:
        if column not in _FILTERS:
            raise ValueError(f"not_blank: responses cannot be selected by '{column}' in the database")
        clauses.append(f"r.{'procedure_id' if column == 'procedure' else column} IS NOT NULL")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params, bind


def _newest_answered(conn: sa.Connection, where: str, params: dict[str, Any], bind: list[Any],
                     qid: str | None) -> Questionnaire:
    rows = conn.execute(sa.text(
        "SELECT qv.questionnaire_id, MAX(qv.version)" + _FROM + where
        + " GROUP BY qv.questionnaire_id").bindparams(*bind), params).all()
    if len(rows) > 1:
        raise ValueError("questionnaire: the database holds responses to several questionnaires "
                         f"({', '.join(sorted(r[0] for r in rows))}); name one")
    if not rows:
        if qid is None:
            raise ValueError("questionnaire: no responses are selected; name the questionnaire")
        return resolve_questionnaire(qid)
    return resolve_questionnaire(f"{rows[0][0]}@{int(rows[0][1])}")


def _cells(conn: sa.Connection, by: tuple[str, ...], period: str | None, where: str,
           params: dict[str, Any], bind: list[Any], counted: bool) -> tuple[pd.DataFrame, list[str]]:
    """Responses counted per raw group key and half-month, as a frame in the export's types
    (so the keys equal those of the in-memory path), and the raw key expressions."""
    raw = list(dict.fromkeys(_KEYS[c].raw for c in by))
    labels = [_KEYS[c].label for c in by]
    cell = _half_month(conn.dialect.name) if period is not None else "0"
    joins = (" JOIN units u ON u.id = r.unit_id" if "unit" in by else "") + (
        " LEFT JOIN procedures p ON p.id = r.procedure_id" if "procedure" in by else "")
    keys = [*(f"{e} AS k{i}" for i, e in enumerate(raw)), *(f"{e} AS l{i}" for i, e in enumerate(labels))]
    group = [*raw, *labels, *([cell] if period is not None else [])]
    rows = conn.execute(sa.text(
        f"SELECT {', '.join([*keys, f'{cell} AS cell', 'SUM(r.n)' if counted else 'COUNT(*)'])}"
        + (_COUNTS_FROM if counted else _FROM) + joins + where
        + ((" AND" if where else " WHERE") + " r.item = ''" if counted else "")
        + (f" GROUP BY {', '.join(group)}" if group else "")).bindparams(*bind), params).all()
    rows = [r for r in rows if r[-1]]  # no GROUP BY: one row, counting 0 when nothing is selected
    width = len(raw)
    frame = export_frame([r[width:width + len(labels)] for r in rows], list(by))
    frame["submitted_on"] = pd.to_datetime([_cell_day(r[-2]) for r in rows]).astype("datetime64[s]") \
        if period is not None else pd.NaT
    frame["_raw"] = [tuple(r[:width]) for r in rows]
    frame["_cell"] = [int(r[-2]) for r in rows]
    frame["_n"] = np.array([int(r[-1]) for r in rows], dtype=np.int64)
    return frame, raw


def _cell_map(conn: sa.Connection, cells: pd.DataFrame, raw: list[str], grouping: Any,
              period: str | None, params: dict[str, Any]) -> str:
    """A small table from (raw keys, half-month) to group id, and what joins it (``m``)."""
    if not raw and period is None:
        return "(SELECT 0 AS gid) m ON 1 = 1"
    by_raw = {k.raw: k.sql_type for k in _KEYS.values()}
    columns = {**{f"k{i}": by_raw[e] for i, e in enumerate(raw)}, "cell": sa.Integer(), "gid": sa.BigInteger()}
    positions = np.arange(len(cells)) if grouping.rows is None else grouping.rows
    raws, days = cells["_raw"].tolist(), cells["_cell"].tolist()
    records = [{**{f"k{i}": raws[p][i] for i in range(len(raw))}, "cell": days[p], "gid": int(g)}
               for p, g in zip(positions.tolist(), grouping.gid.tolist(), strict=True)]
    table = _small_table(conn, "sipas_cells", "m", columns, records, params)
    on = [f"m.k{i} = {e}" for i, e in enumerate(raw)]
    if period is not None:
        on.append(f"m.cell = {_half_month(conn.dialect.name)}")
    return f"{table} ON " + " AND ".join(on)
