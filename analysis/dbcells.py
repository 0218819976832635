"""Selecting responses and grouping them into cells in SQL, for :mod:`analysis.indb`.

The ``by`` columns a response can be grouped by (:data:`KEYS`), the WHERE clause that selects
responses (:func:`selection`), the responses counted per group key and half-month
(:func:`count_cells`), the small table from cells to group ids (:func:`cell_map`) and the
small tables' form on each database (:func:`small_table`). Plain SQLAlchemy, no Flask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from questionnaires import Questionnaire

from .io import _unit_ids, _where, export_frame, resolve_questionnaire


@dataclass(frozen=True)
class Key:
    """A ``by`` column: its raw value on the response (what the cells table joins on, NULL
    as a sentinel so equality joins work) and the value the export shows."""

    raw: str
    label: str
    sql_type: Any


INT = sa.BigInteger()
TEXT = sa.String(64)
KEYS = {
    "unit": Key("r.unit_id", "u.code", INT),
    # The agency competent to decide the dossier; the receiving unit when the code named none.
    "competent_unit": Key("COALESCE(r.competent_unit_id, r.unit_id)", "cu.code", INT),
    "procedure": Key("COALESCE(r.procedure_id, -1)", "p.code", INT),
    "questionnaire": Key("r.questionnaire_version_id", "qv.questionnaire_id", INT),
    "questionnaire_version": Key("r.questionnaire_version_id", "qv.version", INT),
    "channel": Key("r.channel", "r.channel", TEXT),
    "same_day": Key("COALESCE(CAST(r.same_day AS INTEGER), -1)", "r.same_day", INT),
    "flagged": Key("CAST(r.burst AS INTEGER)", "r.burst", INT),
    **{name: Key(f"COALESCE(r.{name}, '')", f"r.{name}", TEXT) for name in (
        "respondent_type", "feedback_given", "gender", "age_group", "ethnicity", "education",
        "occupation", "residence")},
}
#: The ``by`` columns the database can group by (the export's columns that describe a response).
GROUP_COLUMNS = tuple(KEYS)

FROM_RESPONSES = (" FROM responses r JOIN questionnaire_versions qv ON qv.id = r.questionnaire_version_id")
#: Responses and answers counted by triggers (migration 0004), with the responses' columns
#: for these keys: counts come from there when the grouping and the selection use only them.
COUNTED_KEYS = frozenset({"unit", "procedure", "questionnaire", "questionnaire_version", "channel"})
FROM_COUNTS = (" FROM answer_counts r JOIN questionnaire_versions qv ON qv.id = r.questionnaire_version_id")


def half_month(dialect: str) -> str:
    """year·24 + (month − 1)·2 + (day ≥ 15): the half-month a response was given in."""
    if dialect == "sqlite":  # dates are stored as 'YYYY-MM-DD'
        part = "CAST(substr(r.submitted_on, {0}, {1}) AS INTEGER)"
        year, month, day = part.format(1, 4), part.format(6, 2), part.format(9, 2)
    else:
        year, month, day = (f"CAST(EXTRACT({f} FROM r.submitted_on) AS INTEGER)"
                            for f in ("YEAR", "MONTH", "DAY"))
    return f"({year} * 24 + ({month} - 1) * 2 + CASE WHEN {day} >= 15 THEN 1 ELSE 0 END)"


def cell_day(cell: int) -> dt.date:
    year, rest = divmod(int(cell), 24)
    month, half = divmod(rest, 2)
    return dt.date(year, month + 1, 15 if half else 1)


PG_ARRAY = {sa.BigInteger: "bigint", sa.Integer: "integer", sa.String: "text", sa.Float: "double precision"}


def small_table(conn: sa.Connection, name: str, alias: str, columns: dict[str, Any],
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
            arrays.append(f"CAST(:{name}_{column} AS {PG_ARRAY[type(kind)]}[])")
        return f"unnest({', '.join(arrays)}) AS {alias}({', '.join(columns)})"
    table = sa.Table(name, sa.MetaData(), *(sa.Column(c, kind) for c, kind in columns.items()),
                     prefixes=["TEMPORARY"])
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    table.create(conn)
    if records:
        conn.execute(table.insert(), records)
    return f"{name} {alias}"


#: The columns of a response that select it (its unit and questionnaire have their own options).
FILTERS = tuple(name for name in KEYS if name not in ("unit", "questionnaire", "questionnaire_version"))


def selection(conn: sa.Connection, qid: str | None, version: int | None, date_from: Any, date_to: Any,
               units: Any, descendants: bool, equal: Mapping[str, str] | None,
               not_blank: Iterable[str]) -> tuple[str, dict[str, Any], list[Any]]:
    """The WHERE clause (on ``r``, the responses, and ``qv``) that selects the responses."""
    params: dict[str, Any] = {}
    bind: list[Any] = []
    where = _where("r", "submitted_on", qid, version, date_from, date_to,
                   _unit_ids(conn, units, descendants), params, bind)
    clauses = [where[len(" WHERE "):]] if where else []
    for column, value in (equal or {}).items():
        if column not in FILTERS or column == "same_day":
            raise ValueError(f"equal: responses cannot be selected by '{column}' in the database")
        if column == "procedure":  # by code; an unknown code selects nothing
            found = conn.execute(sa.text("SELECT id FROM procedures WHERE code = :code"), {"code": value}).scalar()
            value = -2 if found is None else found  # -1 is "no procedure" in answer_counts
            column = "procedure_id"
        clauses.append(f"r.{column} = :equal_{column}")
        params[f"equal_{column}"] = value
    for column in not_blank:
        if column not in FILTERS:
            raise ValueError(f"not_blank: responses cannot be selected by '{column}' in the database")
        clauses.append(f"r.{'procedure_id' if column == 'procedure' else column} IS NOT NULL")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params, bind


def where_also(where: str, clause: str) -> str:
    """``where`` (a WHERE clause or "") with ``clause`` added."""
    return f"{where} AND {clause}" if where else f" WHERE {clause}"


def newest_answered(conn: sa.Connection, where: str, params: dict[str, Any], bind: list[Any],
                     qid: str | None) -> Questionnaire:
    rows = conn.execute(sa.text(
        "SELECT qv.questionnaire_id, MAX(qv.version)" + FROM_RESPONSES + where
        + " GROUP BY qv.questionnaire_id").bindparams(*bind), params).all()
    if len(rows) > 1:
        raise ValueError("questionnaire: the database holds responses to several questionnaires "
                         f"({', '.join(sorted(r[0] for r in rows))}); name one")
    if not rows:
        if qid is None:
            raise ValueError("questionnaire: no responses are selected; name the questionnaire")
        return resolve_questionnaire(qid)
    return resolve_questionnaire(f"{rows[0][0]}@{int(rows[0][1])}")


def count_cells(conn: sa.Connection, by: tuple[str, ...], period: str | None, where: str,
           params: dict[str, Any], bind: list[Any], counted: bool) -> tuple[pd.DataFrame, list[str]]:
    """Responses counted per raw group key and half-month, as a frame in the export's types
    (so the keys equal those of the in-memory path), and the raw key expressions."""
    raw = list(dict.fromkeys(KEYS[c].raw for c in by))
    labels = [KEYS[c].label for c in by]
    cell = half_month(conn.dialect.name) if period is not None else "0"
    joins = (" JOIN units u ON u.id = r.unit_id" if "unit" in by else "") + (
        " JOIN units cu ON cu.id = COALESCE(r.competent_unit_id, r.unit_id)" if "competent_unit" in by else "") + (
        " LEFT JOIN procedures p ON p.id = r.procedure_id" if "procedure" in by else "")
    keys = [*(f"{e} AS k{i}" for i, e in enumerate(raw)), *(f"{e} AS l{i}" for i, e in enumerate(labels))]
    group = [*raw, *labels, *([cell] if period is not None else [])]
    source = FROM_COUNTS + joins + where_also(where, "r.item = ''") if counted else FROM_RESPONSES + joins + where
    rows = conn.execute(sa.text(
        f"SELECT {', '.join([*keys, f'{cell} AS cell', 'SUM(r.n)' if counted else 'COUNT(*)'])}" + source
        + (f" GROUP BY {', '.join(group)}" if group else "")).bindparams(*bind), params).all()
    rows = [r for r in rows if r[-1]]  # no GROUP BY: one row, counting 0 when nothing is selected
    width = len(raw)
    frame = export_frame([r[width:width + len(labels)] for r in rows], list(by))
    frame["submitted_on"] = pd.to_datetime([cell_day(r[-2]) for r in rows]).astype("datetime64[s]") \
        if period is not None else pd.NaT
    frame["_raw"] = [tuple(r[:width]) for r in rows]
    frame["_cell"] = [int(r[-2]) for r in rows]
    frame["_n"] = np.array([int(r[-1]) for r in rows], dtype=np.int64)
    return frame, raw


def cell_map(conn: sa.Connection, cells: pd.DataFrame, raw: list[str], grouping: Any,
              period: str | None, params: dict[str, Any], weights: np.ndarray | None = None) -> str:
    """A small table from (raw keys, half-month) to group id — and, given ``weights`` per
    cell, to the cell's weight ``w`` — and what joins it (``m``)."""
    if not raw and period is None:
        return "(SELECT 0 AS gid) m ON 1 = 1"
    by_raw = {k.raw: k.sql_type for k in KEYS.values()}
    columns = {**{f"k{i}": by_raw[e] for i, e in enumerate(raw)}, "cell": sa.Integer(), "gid": sa.BigInteger(),
               **({"w": sa.Float()} if weights is not None else {})}
    positions = np.arange(len(cells)) if grouping.rows is None else grouping.rows
    raws, days = cells["_raw"].tolist(), cells["_cell"].tolist()
    w = [] if weights is None else weights.tolist()
    records = [{**{f"k{i}": raws[p][i] for i in range(len(raw))}, "cell": days[p], "gid": int(g),
                **({"w": w[p]} if w else {})}
               for p, g in zip(positions.tolist(), grouping.gid.tolist(), strict=True)]
    table = small_table(conn, "sipas_cells", "m", columns, records, params)
    on = [f"m.k{i} = {e}" for i, e in enumerate(raw)]
    if period is not None:
        on.append(f"m.cell = {half_month(conn.dialect.name)}")
    return f"{table} ON " + " AND ".join(on)
