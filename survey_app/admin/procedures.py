"""The admin's procedure pages: the catalogue with search, a procedure's form, the CSV import."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from ..extensions import db
from ..models import Procedure
from ..params import page_number
from ..services import catalog
from ..services.search import contains
from .forms import ProcedureAddForm, ProcedureEditForm, SearchForm
from .imports import IMPORTS, CsvImport, csv_import
from .views import PAGE_SIZE, _form_page, _get_or_404, _me, bp


@bp.get("/procedures")
def procedures():
    search = SearchForm(request.args)
    query = select(Procedure).order_by(Procedure.code)
    text = (search.q.data or "").strip()[:100] if search.validate() else ""
    if text:
        query = query.where(or_(*(contains(column, text)
                                  for column in (Procedure.code, Procedure.name, Procedure.field))))
    page = db.paginate(query, page=page_number(), per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/procedures.html", search=search, page=page, q=text)


@bp.route("/procedures/new", methods=["GET", "POST"])
def procedure_new():
    form = ProcedureAddForm()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            procedure = catalog.add_procedure(form.code.data, form.name.data, field=form.field.data, actor=_me())
        except catalog.CatalogError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            flash(f"Đã thêm thủ tục {procedure.code}.", "success")
            return redirect(url_for("admin.procedures", q=procedure.code), 303)
    return _form_page(form, title="Thêm thủ tục", submit="Thêm thủ tục", back=url_for("admin.procedures"),
                      errors=errors)


@bp.route("/procedures/<int:procedure_id>", methods=["GET", "POST"])
def procedure_edit(procedure_id: int):
    procedure: Procedure = _get_or_404(Procedure, procedure_id)
    form = ProcedureEditForm(obj=procedure if request.method == "GET" else None)
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            catalog.update_procedure(procedure, name=form.name.data, field=form.field.data,
                                     active=form.active.data, actor=_me())
        except catalog.CatalogError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            flash(f"Đã lưu thủ tục {procedure.code}.", "success")
            return redirect(url_for("admin.procedures", q=procedure.code), 303)
    return _form_page(form, title=f"Sửa thủ tục {procedure.code}", submit="Lưu",
                      back=url_for("admin.procedures"), errors=errors)


IMPORTS["admin.procedure_import"] = PROCEDURES_CSV = CsvImport(
    "Nhập danh mục thủ tục từ tệp CSV", "thủ tục",
    "Các cột code, name, field và (không bắt buộc) competent_unit: mã cơ quan có thẩm quyền giải quyết; "
    "mã hóa UTF-8 (có hoặc không có BOM). Mã đã có sẽ được cập nhật. Ví dụ: "
    "1.000001,Hợp pháp hóa lãnh sự giấy tờ,Lãnh sự", "admin.procedures",
    lambda data, actor: catalog.import_procedures(data, actor=actor))




@bp.route("/procedures/import", methods=["GET", "POST"])
def procedure_import():
    return csv_import(PROCEDURES_CSV)
