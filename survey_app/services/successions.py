"""Mergers and renames of units, and what the analysis makes of them.

Recording one: each predecessor gets its successor and the day the successor took over, and
is set inactive (no new codes; its answers stay as they were stored). Reading them: the
analysis groups a predecessor's answers under its last successor, and choosing the
successor in a filter takes its predecessors' answers with it, so a trend runs on across a
merger; pages say which units a successor's figures include.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import Unit
from ..successions import UnitSuccession
from . import audit
from .catalog import CatalogError, unit_by_code


@dataclass(frozen=True)
class Merged:
    """A predecessor as a successor's page names it."""

    code: str
    name: str
    effective_on: dt.date


def record(predecessors: list[str], successor: str, *, effective_on: dt.date, actor: str,
           note: str = "") -> list[UnitSuccession]:
    """``successor`` carries on the work of ``predecessors`` from ``effective_on``."""
    into = unit_by_code(successor)
    if not predecessors:
        raise CatalogError("Nêu ít nhất một đơn vị được sáp nhập (name at least one predecessor).")
    found: list[UnitSuccession] = []
    chain = final_successors()
    for code in dict.fromkeys(predecessors):
        unit = unit_by_code(code)
        if unit.id == into.id:
            raise CatalogError(f"Đơn vị '{code}' không thể sáp nhập vào chính nó (a unit cannot succeed itself).")
        if db.session.get(UnitSuccession, unit.id) is not None:
            raise CatalogError(f"Đơn vị '{code}' đã được sáp nhập trước đó (already has a successor).")
        if chain.get(into.code) == code:
            raise CatalogError(f"'{successor}' đã thuộc về '{code}': sáp nhập vòng tròn (a cycle).")
        unit.active = False
        found.append(UnitSuccession(predecessor=unit, successor=into, effective_on=effective_on,
                                    note=note.strip()[:500] or None, recorded_by=actor))
    db.session.add_all(found)
    audit.record(actor, "unit.merge", into.code, predecessors=list(dict.fromkeys(predecessors)),
                 effective_on=effective_on.isoformat())
    db.session.commit()
    return found


def final_successors() -> dict[str, str]:
    """Each predecessor's code → the code of the unit that carries on its work now (the end
    of its chain: A → B on one day and B → C later make A → C)."""
    from analysis.successions import successor_codes  # here: the command line starts without pandas

    return successor_codes(db.session.connection())


def merged_into() -> dict[str, list[Merged]]:
    """Each successor's code → the units whose answers its figures include."""
    rows = db.session.execute(select(Unit.code, Unit.name, UnitSuccession.effective_on)
                              .join(UnitSuccession, UnitSuccession.predecessor_id == Unit.id)).all()
    names = {code: (name, day) for code, name, day in rows}
    out: dict[str, list[Merged]] = {}
    for code, successor in sorted(final_successors().items()):
        name, day = names[code]
        out.setdefault(successor, []).append(Merged(code, name, day))
    return out


def version() -> tuple[int, dt.datetime | None]:
    """Changes when a succession is recorded: part of the key of cached analyses by unit."""
    count, latest = db.session.execute(select(func.count(), func.max(UnitSuccession.recorded_at))).one()
    return int(count), latest
