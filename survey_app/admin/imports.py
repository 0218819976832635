"""The admin's CSV imports (procedures, units): one page and one path for each, all or
nothing, every line's error listed, the upload limit explained."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db
from ..models import Role
from ..services import catalog
from .forms import CsvFileForm
from .views import _me, bp


def _too_large_message() -> str:
    limit = current_app.config["SIPAS_MAX_UPLOAD_BYTES"]
    size = f"{limit / 1024 / 1024:.1f} MB".replace(".", ",") if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return (f"Tệp lớn hơn giới hạn {size}: tách danh mục thành nhiều tệp nhỏ hơn rồi nhập lần lượt "
            "(mã đã có sẽ được cập nhật, không bị trùng).")


@dataclass(frozen=True)
class CsvImport:
    """One of the admin's CSV imports: its page's words and the service that reads the file."""

    title: str
    what: str  # "thủ tục", "đơn vị"
    columns_hint: str
    back: str  # endpoint of the list page
    run: Callable[[bytes, str], Any]  # (file, actor) -> ImportResult; raises CatalogImportError


IMPORTS: dict[str, CsvImport] = {}


def _import_page(kind: CsvImport, form: CsvFileForm, line_errors: list[str], status: int):
    return render_template("admin/import.html", kind=kind, form=form, line_errors=line_errors), status


def csv_import(kind: CsvImport):
    """The import page: the file read up to the upload limit, all or nothing, every line's
    error listed when it is refused."""
    form = CsvFileForm()
    form.file.label.text, form.file.description = f"Tệp CSV {kind.what}", kind.columns_hint
    if not form.validate_on_submit():
        return _import_page(kind, form, [], 400 if form.errors else 200)
    limit = current_app.config["SIPAS_MAX_UPLOAD_BYTES"]
    data = form.file.data.read(limit + 1)
    if len(data) > limit:
        form.file.errors = [_too_large_message()]
        return _import_page(kind, form, [], 413)
    try:
        result = kind.run(data, _me())
    except catalog.CatalogImportError as exc:
        db.session.rollback()
        return _import_page(kind, form, exc.errors, 400)
    flash(f"Đã nhập: {result.added} {kind.what} mới, {result.updated} {kind.what} được cập nhật.", "success")
    return redirect(url_for(kind.back), 303)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):
    """A body over the app's limit is refused before any view runs: explain it on the import page."""
    from ..web import error_page

    allowed = current_user.is_authenticated and current_user.role == Role.ADMIN
    if allowed and request.endpoint in IMPORTS:
        form = CsvFileForm(formdata=None)
        form.file.errors = [_too_large_message()]
        return _import_page(IMPORTS[request.endpoint], form, [], 413)
    return error_page(413, "err_too_large")


