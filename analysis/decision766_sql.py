"""The SQL behind :func:`analysis.decision766.load_counts`: one GROUP BY per source, so the
database does the counting and a handful of rows per unit come back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

import questionnaires

from .decision766 import COUNT_COLUMNS, dissatisfied_levels

_DOSSIERS = ("SELECT unit_id, COUNT(*) AS dossiers, SUM(CASE WHEN status = 'answered' THEN 1 ELSE 0 END) AS answered"
             " FROM survey_codes WHERE kind = 'single' AND status <> 'voided'"
             " AND issued_at >= :lo AND issued_at < :hi{units} GROUP BY unit_id")
# Answers to single-use codes (phone or kiosk) by their general question's level.
_GENERAL = ("SELECT unit_id, questionnaire_version_id AS version, item, value, SUM(n) AS n FROM answer_counts"
            " WHERE channel IN ('single', 'kiosk') AND submitted_on BETWEEN :start AND :end{units}"
            " AND item IN :items GROUP BY unit_id, questionnaire_version_id, item, value")
_CASES = ("SELECT unit_id,"
          " SUM(CASE WHEN channel IN ('single', 'kiosk') THEN 1 ELSE 0 END) AS cases_from_dossiers,"
          " COUNT(*) AS cases,"
          " SUM(CASE WHEN status = 'closed' AND closed_on <= due_on THEN 1 ELSE 0 END) AS on_time,"
          " SUM(CASE WHEN (status = 'closed' AND closed_on > due_on) OR (status = 'open' AND due_on < :as_of)"
          " THEN 1 ELSE 0 END) AS late,"
          " SUM(CASE WHEN status = 'open' AND due_on >= :as_of THEN 1 ELSE 0 END) AS pending,"
          " SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END) AS rated,"
          " SUM(CASE WHEN rating = 'satisfied' THEN 1 ELSE 0 END) AS rated_satisfied"
          " FROM feedback_cases WHERE received_on BETWEEN :start AND :end{units} GROUP BY unit_id")
_DOSSIER_TALLIES = ("SELECT unit_id, SUM(decided) AS decided, SUM(overdue) AS overdue FROM dossier_tallies"
                    " WHERE month BETWEEN :start AND :end{units} GROUP BY unit_id")


def read_counts(url: Any, start: dt.date, end: dt.date, utc_bounds: tuple[dt.datetime, dt.datetime],
                units: Iterable[str] | str | None, as_of: dt.date) -> pd.DataFrame:
    import sqlalchemy as sa

    from .io import _engine, _unit_ids
    from .successions import successor_ids

    params = {"start": start, "end": end, "lo": utc_bounds[0], "hi": utc_bounds[1], "as_of": as_of}
    with _engine(url).connect() as conn:
        unit_ids = _unit_ids(conn, units, True)
        where = "" if unit_ids is None else " AND unit_id IN :unit_ids"
        if unit_ids is not None:
            params["unit_ids"] = unit_ids

        generals = _general_questions(conn)
        params["items"] = sorted({code for code, _ in generals.values()}) or [""]

        def frame(sql: str) -> pd.DataFrame:
            statement = sa.text(sql.format(units=where))
            for name in ("unit_ids", "items"):
                if f":{name}" in sql.format(units=where):
                    statement = statement.bindparams(sa.bindparam(name, expanding=True))
            result = conn.execute(statement, params)
            return pd.DataFrame(result.all(), columns=list(result.keys()))

        parts = [frame(_DOSSIERS), _dissatisfied(frame(_GENERAL), generals), frame(_CASES), frame(_DOSSIER_TALLIES)]
        codes = dict(conn.execute(sa.text("SELECT id, code FROM units")).all())
        successors = successor_ids(conn)
    merged = [p.set_index("unit_id").astype(float) for p in parts if not p.empty]
    out = pd.concat(merged, axis=1) if merged else pd.DataFrame(columns=list(COUNT_COLUMNS))
    out = out.reindex(columns=list(COUNT_COLUMNS))
    imported = out[["decided", "overdue"]]
    out = out.fillna(0.0)
    out[["decided", "overdue"]] = imported
    # A merged unit's counts go to the unit that carries on its work.
    out.index = [codes[successors.get(int(i), int(i))] for i in out.index]
    return out.groupby(level=0).sum(min_count=1).sort_index()


def _general_questions(conn: Any) -> dict[int, tuple[str, tuple[int, ...]]]:
    """Per questionnaire version: its general question and the levels that say dissatisfied."""
    import sqlalchemy as sa

    out = {}
    for version_id, content in conn.execute(sa.text("SELECT id, content FROM questionnaire_versions")).all():
        q = questionnaires.load_text(content)
        if q.general is not None:
            out[int(version_id)] = (q.general.code, dissatisfied_levels(q.general.scale.values))
    return out


def _dissatisfied(general: pd.DataFrame, generals: dict[int, tuple[str, tuple[int, ...]]]) -> pd.DataFrame:
    """Per unit: the answers to the general question below its scale's midpoint."""
    if general.empty:
        return pd.DataFrame(columns=["unit_id", "dissatisfied"])
    low = [generals.get(int(v), ("", ()))[0] == item and int(val) in generals[int(v)][1]
           for v, item, val in zip(general["version"], general["item"], general["value"], strict=True)]
    general = general.assign(dissatisfied=np.where(low, general["n"], 0))
    return general.groupby("unit_id", as_index=False)["dissatisfied"].sum()
