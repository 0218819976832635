"""Units (a hierarchy) and procedures (the national catalogue)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Procedure, Unit, UnitKind
from . import audit

_UNIT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_PROCEDURE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")


class CatalogError(ValueError):
    """Input a person must correct; the message says what to do."""


def unit_by_code(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).filter_by(code=code))
    if unit is None:
        raise CatalogError(f"Không có đơn vị mã '{code}' (unknown unit '{code}'); xem 'sipas unit list'.")
    return unit


def procedure_by_code(code: str) -> Procedure:
    procedure = db.session.scalar(select(Procedure).filter_by(code=code))
    if procedure is None:
        raise CatalogError(f"Không có thủ tục mã '{code}' (unknown procedure '{code}').")
    return procedure


def descendant_ids(unit_id: int) -> set[int]:
    """The unit and every unit below it."""
    rows = db.session.execute(select(Unit.id, Unit.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for uid, parent in rows:
        children.setdefault(parent, []).append(uid)
    found, stack = set(), [unit_id]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, ()))
    return found


def units_in_order() -> list[tuple[Unit, int]]:
    """Every unit with its depth, parents before children (for lists and select boxes)."""
    units = db.session.scalars(select(Unit).order_by(Unit.code)).all()
    by_parent: dict[int | None, list[Unit]] = {}
    for unit in units:
        by_parent.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[Unit, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in by_parent.get(parent, ()):
            ordered.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def add_unit(code: str, name: str, *, parent: str | None = None, kind: str | None = None,
             actor: str = "system") -> Unit:
    code, name = code.strip(), name.strip()
    if not _UNIT_CODE.match(code):
        raise CatalogError(
            f"Mã đơn vị '{code}' không hợp lệ: dùng chữ, số, '-', '_' hoặc '.', tối đa 32 ký tự "
            "(unit code: letters, digits, - _ . up to 32 characters)."
        )
    if not name:
        raise CatalogError("Tên đơn vị không được để trống (a unit needs a name).")
    if db.session.scalar(select(Unit).filter_by(code=code)) is not None:
        raise CatalogError(f"Mã đơn vị '{code}' đã tồn tại (unit '{code}' already exists).")
    parent_unit = unit_by_code(parent) if parent else None
    if kind is None:
        kind = UnitKind.DEPARTMENT if parent_unit is None else (
            UnitKind.SECTION if parent_unit.kind == UnitKind.DEPARTMENT else UnitKind.COUNTER
        )
    if kind not in {k.value for k in UnitKind}:
        raise CatalogError(f"Loại đơn vị '{kind}' không hợp lệ (kind: {', '.join(k.value for k in UnitKind)}).")
    unit = Unit(code=code, name=name[:200], kind=str(kind), parent=parent_unit)
    db.session.add(unit)
    audit.record(actor, "unit.add", code, name=name, parent=parent)
    db.session.commit()
    return unit


def update_unit(unit: Unit, *, name: str, parent: str | None, active: bool, actor: str) -> Unit:
    name = name.strip()
    if not name:
        raise CatalogError("Tên đơn vị không được để trống (a unit needs a name).")
    parent_unit = unit_by_code(parent) if parent else None
    if parent_unit is not None and parent_unit.id in descendant_ids(unit.id):
        raise CatalogError("Không thể đặt đơn vị dưới chính nó (a unit cannot be placed under itself).")
    unit.name, unit.parent, unit.active = name[:200], parent_unit, active
    audit.record(actor, "unit.update", unit.code, name=name, parent=parent, active=active)
    db.session.commit()
    return unit


def _check_procedure(code: str, name: str) -> None:
    if not _PROCEDURE_CODE.match(code):
        raise CatalogError(
            f"Mã thủ tục '{code}' không hợp lệ: dùng chữ, số và . _ / -, tối đa 64 ký tự "
            "(procedure code: letters, digits and . _ / -, up to 64 characters)."
        )
    if not name:
        raise CatalogError(f"Thủ tục '{code}' chưa có tên (procedure '{code}' needs a name).")
    if len(name) > 500:
        raise CatalogError(f"Tên thủ tục '{code}' dài quá 500 ký tự (name longer than 500 characters).")


def add_procedure(code: str, name: str, *, field: str | None = None, actor: str = "system") -> Procedure:
    code, name, field = code.strip(), name.strip(), (field or "").strip() or None
    _check_procedure(code, name)
    if db.session.scalar(select(Procedure).filter_by(code=code)) is not None:
        raise CatalogError(f"Mã thủ tục '{code}' đã tồn tại (procedure '{code}' already exists).")
    procedure = Procedure(code=code, name=name, field=field and field[:200])
    db.session.add(procedure)
    audit.record(actor, "procedure.add", code, name=name)
    db.session.commit()
    return procedure


def update_procedure(procedure: Procedure, *, name: str, field: str | None, active: bool,
                     actor: str) -> Procedure:
    name = name.strip()
    _check_procedure(procedure.code, name)
    procedure.name, procedure.field, procedure.active = name, (field or "").strip()[:200] or None, active
    audit.record(actor, "procedure.update", procedure.code, name=name, active=active)
    db.session.commit()
    return procedure


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int


class CatalogImportError(CatalogError):
    """A catalogue file with errors; ``errors`` lists them per line. Nothing was imported."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "\n".join(errors[:50]) + (f"\n… và {len(errors) - 50} lỗi khác" if len(errors) > 50 else "")
        super().__init__(
            f"Không nhập gì cả: tệp có {len(errors)} lỗi (nothing imported; fix these lines):\n{shown}"
        )


def read_catalogue_csv(data: bytes, columns: tuple[str, ...], required: set[str]) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a catalogue CSV as (line as a spreadsheet numbers it, stripped values
    of ``columns``); blank lines left out. UTF-16 is read and other encodings named (the
    analysis's rule), the separator sniffed (``,``, ``;`` or tab). Raises CatalogImportError
    for a file that cannot be read as such."""
    from analysis.io import csv_as_utf8  # here: the command line loads pandas only where it is needed

    try:
        text = csv_as_utf8(data).decode("utf-8-sig")  # the analysis's rule: UTF-16 read, other codes named
    except ValueError as exc:
        raise CatalogImportError([str(exc)]) from None
    if "\x00" in text:
        raise CatalogImportError(["tệp chứa ký tự NUL: không phải tệp CSV văn bản (not a text CSV file)"])
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        # The sniffer often guesses doublequote=False, which mangles a quoted "" (a quote
        # inside a field) as Excel and RFC 4180 write it.
        dialect.doublequote = True
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not required <= set(header):
        named = ", ".join(columns)
        raise CatalogImportError([f"dòng 1: cần các cột {named}; thấy: {', '.join(header) or 'không có'} "
                                  f"(line 1: the header must name the columns {named})"])
    reader.fieldnames = header
    out: list[tuple[int, dict[str, str]]] = []
    errors: list[str] = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            errors.append(f"dòng {line}: thừa cột (too many columns)")
            continue
        values = {name: (row.get(name) or "").strip() for name in columns}
        if any(values.values()):
            out.append((line, values))
    if errors:
        raise CatalogImportError(errors)
    return out


def import_procedures(data: bytes, *, actor: str = "system") -> ImportResult:
    """Import a CSV of the national catalogue (columns code, name, field and, optionally,
    competent_unit: the code of the agency competent to decide it, recorded on its codes when
    another unit receives the dossier; blank leaves it as it is). UTF-8 with or without BOM.
    All or nothing: any error rejects the whole file, with one message a line. Existing codes
    are updated."""
    errors: list[str] = []
    rows: dict[str, tuple[str, str | None, str]] = {}
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    for line, row in read_catalogue_csv(data, ("code", "name", "field", "competent_unit"), {"code", "name"}):
        code, name, field, competent = row["code"], row["name"], row["field"] or None, row["competent_unit"]
        try:
            _check_procedure(code, name)
        except CatalogError as exc:
            errors.append(f"dòng {line}: {exc}")
            continue
        if code in rows:
            errors.append(f"dòng {line}: mã '{code}' lặp lại trong tệp (code repeated in the file)")
            continue
        if competent and competent not in units:
            errors.append(f"dòng {line}: cơ quan có thẩm quyền '{competent}' không có trong danh mục đơn vị "
                          "(unknown competent unit)")
            continue
        rows[code] = (name, field and field[:200], competent)
    if errors:
        raise CatalogImportError(errors)
    if not rows:
        raise CatalogImportError(["tệp không có dòng dữ liệu nào (the file has no data rows)"])
    existing = {p.code: p for p in db.session.scalars(select(Procedure).where(Procedure.code.in_(rows)))}
    for code, (name, field, competent) in rows.items():
        procedure = existing.get(code) or Procedure(code=code)
        procedure.name, procedure.field = name, field
        if competent:
            procedure.competent_unit = units[competent]
        if code not in existing:
            db.session.add(procedure)
    audit.record(actor, "procedure.import", None, added=len(rows) - len(existing), updated=len(existing))
    db.session.commit()
    return ImportResult(added=len(rows) - len(existing), updated=len(existing))
