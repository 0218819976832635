"""The admin's unit pages: the tree, a unit's form, the CSV import of a province's units and
the record of a merger or rename (services/unit_import.py, services/successions.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..extensions import db
from ..models import Unit
from ..services import catalog, successions
from ..services import unit_import as unit_import_service
from .forms import UnitAddForm, UnitEditForm, UnitMergeForm
from .imports import IMPORTS, CsvImport, csv_import
from .views import _form_page, _get_or_404, _me, _unit_choices, bp


@bp.get("/units")
def units():
    rows = catalog.units_in_order()
    children: dict[int | None, list[Unit]] = {}
    for unit, _depth in rows:
        children.setdefault(unit.parent_id, []).append(unit)
    successors = {m.code: (successor, m.effective_on) for successor, merged in successions.merged_into().items()
                  for m in merged}
    return render_template("admin/units.html", rows=rows, children=children, successors=successors)


@bp.route("/units/new", methods=["GET", "POST"])
def unit_new():
    form = UnitAddForm()
    form.parent.choices = _unit_choices("— Không có (đơn vị cấp cao nhất) —")
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            unit = catalog.add_unit(form.code.data, form.name.data, parent=form.parent.data or None,
                                    kind=form.kind.data or None, actor=_me())
        except catalog.CatalogError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            flash(f"Đã thêm đơn vị {unit.code} — {unit.name}.", "success")
            return redirect(url_for("admin.units"), 303)
    return _form_page(form, title="Thêm đơn vị", submit="Thêm đơn vị", back=url_for("admin.units"), errors=errors)


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
def unit_edit(unit_id: int):
    unit: Unit = _get_or_404(Unit, unit_id)
    form = UnitEditForm(obj=unit if request.method == "GET" else None)
    form.parent.choices = _unit_choices("— Không có (đơn vị cấp cao nhất) —")
    if request.method == "GET":
        form.parent.data = unit.parent.code if unit.parent else ""
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            catalog.update_unit(unit, name=form.name.data, parent=form.parent.data or None,
                                active=form.active.data, actor=_me())
        except catalog.CatalogError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            flash(f"Đã lưu đơn vị {unit.code}.", "success")
            return redirect(url_for("admin.units"), 303)
    return _form_page(form, title=f"Sửa đơn vị {unit.code}", submit="Lưu", back=url_for("admin.units"),
                      errors=errors)


IMPORTS["admin.unit_import"] = UNITS_CSV = CsvImport(
    "Nhập đơn vị từ tệp CSV", "đơn vị",
    "Các cột code, name, kind, parent (mã đơn vị cấp trên); kind: province, department, centre, commune, "
    "section, counter hoặc tỉnh, sở, trung tâm, xã, phường, phòng, quầy. Đơn vị cấp trên có thể đứng trước hay "
    "sau; mã đã có sẽ được cập nhật. Ví dụ: X0001,Phường Trấn Biên,phường,TINH", "admin.units",
    lambda data, actor: unit_import_service.import_units(data, actor=actor))


@bp.route("/units/import", methods=["GET", "POST"])
def unit_import():
    return csv_import(UNITS_CSV)


@bp.route("/units/merge", methods=["GET", "POST"])
def unit_merge():
    """A merger or rename: the predecessors stop (inactive), the successor carries on their
    work from a date; the analysis counts their answers under it."""
    form = UnitMergeForm()
    errors: list[str] = []
    if request.method == "GET" and request.args.get("from"):
        form.predecessors.data = request.args["from"][:500]
    if form.validate_on_submit():
        codes = [c.strip() for c in form.predecessors.data.replace(";", ",").split(",") if c.strip()]
        try:
            successions.record(codes, form.successor.data.strip(), effective_on=form.effective_on.data,
                               actor=_me(), note=form.note.data or "")
        except catalog.CatalogError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            flash(f"Đã ghi nhận: {', '.join(codes)} → {form.successor.data.strip()} từ "
                  f"{form.effective_on.data.strftime('%d/%m/%Y')}. Số liệu cũ được tính cho đơn vị tiếp nhận.",
                  "success")
            return redirect(url_for("admin.units"), 303)
    return _form_page(form, title="Ghi nhận sáp nhập hoặc đổi tên đơn vị", submit="Ghi nhận",
                      back=url_for("admin.units"), errors=errors)
