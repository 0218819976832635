"""The analysts' page of complaints, requests and the Quyết định 766 satisfaction items
(analysis/decision766.py): the selected unit's total and one row per unit directly below it
(every unit below rolled into it), for a period chosen by its label."""

from __future__ import annotations

import datetime as dt

from flask import current_app, request

from analysis import decision766 as d766
from analysis.periods import period_bounds
from analysis.results import MAX_WIDTH, SMALL_N

from ..access import roles_required
from ..extensions import db
from ..services import catalog
from ..services.timekeeping import today
from . import data as D
from .views import READERS, _page, bp


def period_choices(now: dt.date) -> list[str]:
    """This quarter and the five before it, this year and the last, the last six months."""
    quarter = (now.month - 1) // 3
    quarters = [f"{now.year - (quarter - i < 0)}-Q{(quarter - i) % 4 + 1}" for i in range(6)]
    first = now.replace(day=1)
    months = []
    for _ in range(6):
        months.append(first.strftime("%Y-%m"))
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return quarters + [str(now.year), str(now.year - 1)] + months


def _groups(selected: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each unit's code -> the row it is counted in: the unit directly below ``selected`` that
    holds it (or ``selected`` itself); no selection: the top units (the units below the top
one when there is only one). And each row's name."""
    ordered = catalog.units_in_order()
    code_of = {u.id: u.code for u, _ in ordered}
    parent = {u.code: code_of.get(u.parent_id) for u, _ in ordered}
    names = {u.code: u.name for u, _ in ordered}
    roots = [code for code, above in parent.items() if above is None]
    if not selected and len(roots) == 1:  # one province: its units are the rows
        selected = roots[0]
    group_of = {}
    for code in parent:
        chain = [code]
        while parent[chain[-1]] is not None:
            chain.append(parent[chain[-1]])
        if not selected:
            group_of[code] = chain[-1]
        elif selected in chain:
            at = chain.index(selected)
            group_of[code] = chain[at - 1] if at > 0 else selected
    return group_of, names


@bp.get("/766")
@roles_required(*READERS)
def decision766():
    v = D.view()
    now = today()
    choices = period_choices(now)
    label = request.args.get("p766") or choices[0]
    error = None
    try:
        period_bounds(label)
    except ValueError:
        error, label = f"Kỳ '{label[:20]}' không hợp lệ; đang xem {choices[0]}.", choices[0]
    counts = d766.load_counts(db.engine, label, units=[v.filters.unit] if v.filters.unit else None,
                                     as_of=now, timezone=current_app.config["SIPAS_TIMEZONE"])
    group_of, names = _groups(v.filters.unit)
    rows = d766.roll_up(counts, group_of)
    blocks = [(names.get(code, code), code, found)
              for code, found in zip(rows.index, d766.items_of(rows), strict=True)]
    total = d766.items(counts.loc["*"])
    return _page("decision766.html", v, http_status=400 if error else None, label=label, choices=choices,
                 blocks=blocks, total=total, names=d766.ITEMS, error=error, small_n=SMALL_N, max_width=MAX_WIDTH)
