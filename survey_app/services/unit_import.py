"""Import a province's units from a CSV (columns code, name, kind, parent), as the province's
catalogue of agencies lists them: the People's Committee, its departments, the service
centre and its branches, ~100 communes and wards, their counters.

All or nothing, like the procedure import: any error rejects the file with one message a
line. A unit may come before or after its parent in the file; an existing code is updated
(name, kind, parent). Kinds are the machine names or their Vietnamese words.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Unit, UnitKind
from . import audit
from .catalog import _UNIT_CODE, CatalogImportError, ImportResult, read_catalogue_csv

KIND_WORDS = {
    "tỉnh": UnitKind.PROVINCE, "ubnd tỉnh": UnitKind.PROVINCE, "sở": UnitKind.DEPARTMENT,
    "ban": UnitKind.DEPARTMENT, "ngành": UnitKind.DEPARTMENT, "trung tâm": UnitKind.CENTRE,
    "chi nhánh": UnitKind.CENTRE, "xã": UnitKind.COMMUNE, "phường": UnitKind.COMMUNE, "đặc khu": UnitKind.COMMUNE,
    "phòng": UnitKind.SECTION, "quầy": UnitKind.COUNTER,
}


def _kind(text: str) -> UnitKind | None:
    text = text.strip().lower()
    if text in {k.value for k in UnitKind}:
        return UnitKind(text)
    return KIND_WORDS.get(text)


def import_units(data: bytes, *, actor: str = "system") -> ImportResult:
    rows: dict[str, tuple[int, str, UnitKind, str]] = {}
    errors: list[str] = []
    for line, row in read_catalogue_csv(data, ("code", "name", "kind", "parent"), {"code", "name", "kind"}):
        code, name, parent = row["code"], row["name"], row["parent"]
        kind = _kind(row["kind"])
        if not _UNIT_CODE.match(code):
            errors.append(f"dòng {line}: mã đơn vị '{code}' không hợp lệ: chữ, số, '-', '_' hoặc '.', tối đa 32 ký tự")
        elif not name:
            errors.append(f"dòng {line}: đơn vị '{code}' chưa có tên")
        elif kind is None:
            words = ", ".join(sorted({k.value for k in UnitKind} | set(KIND_WORDS)))
            errors.append(f"dòng {line}: loại đơn vị '{row['kind']}' không rõ; dùng một trong: {words}")
        elif code in rows:
            errors.append(f"dòng {line}: mã '{code}' lặp lại trong tệp (dòng {rows[code][0]})")
        elif parent == code:
            errors.append(f"dòng {line}: đơn vị '{code}' không thể là cấp trên của chính nó")
        else:
            rows[code] = (line, name[:200], kind, parent)
    existing = {u.code: u for u in db.session.scalars(select(Unit))}
    for code, (line, _, _, parent) in rows.items():
        if parent and parent not in rows and parent not in existing:
            errors.append(f"dòng {line}: cấp trên '{parent}' của '{code}' không có trong tệp hay trong danh mục")
    errors += _cycles(rows, existing)
    if errors:
        raise CatalogImportError(errors)
    if not rows:
        raise CatalogImportError(["tệp không có dòng dữ liệu nào (the file has no data rows)"])
    units = dict(existing)
    for code, (_, name, kind, _) in rows.items():
        unit = units.get(code) or Unit(code=code)
        unit.name, unit.kind = name, kind.value
        units[code] = unit
        db.session.add(unit)
    for code, (_, _, _, parent) in rows.items():
        units[code].parent = units[parent] if parent else None
    added = sum(code not in existing for code in rows)
    audit.record(actor, "unit.import", None, added=added, updated=len(rows) - added)
    db.session.commit()
    return ImportResult(added=added, updated=len(rows) - added)


def _cycles(rows: dict[str, tuple[int, str, UnitKind, str]], existing: dict[str, Unit]) -> list[str]:
    """A unit that would end up above itself, through the file's parents and the catalogue's."""
    code_by_id = {unit.id: code for code, unit in existing.items()}
    stored = {code: code_by_id.get(unit.parent_id) for code, unit in existing.items()}

    def parent_of(code: str) -> str | None:
        return (rows[code][3] or None) if code in rows else stored.get(code)

    found = []
    for code, (line, *_rest) in rows.items():
        seen, current = {code}, parent_of(code)
        while current is not None:
            if current in seen:
                found.append(f"dòng {line}: đơn vị '{code}' nằm dưới chính nó qua các cấp trên (vòng lặp)")
                break
            seen.add(current)
            current = parent_of(current)
    return found
