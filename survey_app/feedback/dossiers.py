"""Import the one-stop system's dossier counts (decided and overdue, per unit and month): the
Quyết định 766 item sipas cannot count itself, since it sees codes, not dossiers.

CSV columns ``unit, month, decided, overdue`` (month as YYYY-MM), one row per unit and month,
as the one-stop system's monthly report gives them. All or nothing, like the other imports:
any error rejects the file with one message a line. A unit and month already imported is
replaced (a corrected report).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from ..extensions import db
from ..models import Unit
from ..services import audit
from ..services.catalog import CatalogImportError, ImportResult, read_catalogue_csv
from .model import DossierTally

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _count(text: str) -> int | None:
    text = text.replace(".", "").replace(",", "").strip()  # "1.234" as a Vietnamese spreadsheet writes it
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def import_tallies(data: bytes, *, actor: str = "system") -> ImportResult:
    units = {u.code: u.id for u in db.session.scalars(select(Unit))}
    rows: dict[tuple[int, dt.date], tuple[int, int, int]] = {}
    errors: list[str] = []
    for line, row in read_catalogue_csv(data, ("unit", "month", "decided", "overdue"),
                                        {"unit", "month", "decided", "overdue"}):
        match = _MONTH.match(row["month"])
        decided, overdue = _count(row["decided"]), _count(row["overdue"])
        if row["unit"] not in units:
            errors.append(f"dòng {line}: đơn vị '{row['unit']}' không có trong danh mục (thêm đơn vị trước)")
        elif not match or not 1 <= int(match[2]) <= 12:
            errors.append(f"dòng {line}: tháng '{row['month']}' phải có dạng NNNN-TT, ví dụ 2026-04")
        elif decided is None or overdue is None:
            errors.append(f"dòng {line}: số hồ sơ đã giải quyết và quá hạn phải là số nguyên không âm")
        elif overdue > decided:
            errors.append(f"dòng {line}: số hồ sơ quá hạn ({overdue}) lớn hơn số đã giải quyết ({decided})")
        else:
            key = (units[row["unit"]], dt.date(int(match[1]), int(match[2]), 1))
            if key in rows:
                errors.append(f"dòng {line}: {row['unit']} tháng {row['month']} lặp lại (dòng {rows[key][0]})")
            else:
                rows[key] = (line, decided, overdue)
    if errors:
        raise CatalogImportError(errors)
    if not rows:
        raise CatalogImportError(["tệp không có dòng số liệu nào (the file has no data rows)"])
    existing = {(t.unit_id, t.month): t for t in db.session.scalars(select(DossierTally))}
    added = updated = 0
    for (unit_id, month), (_, decided, overdue) in rows.items():
        tally = existing.get((unit_id, month))
        if tally is None:
            db.session.add(DossierTally(unit_id=unit_id, month=month, decided=decided, overdue=overdue,
                                        imported_by=actor[:64]))
            added += 1
        else:
            tally.decided, tally.overdue, tally.imported_by = decided, overdue, actor[:64]
            updated += 1
    audit.record(actor, "dossiers.import", None, added=added, updated=updated)
    db.session.commit()
    return ImportResult(added=added, updated=updated)
