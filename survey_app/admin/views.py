"""Admin pages: units, procedures (with CSV import), users, API keys, the audit log.

Every page is for admins only (checked once for the whole blueprint, so a new route cannot
forget it); every change goes through a service or is audited here."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import func, select

from analysis.safe_text import neutralise

from ..extensions import db, login_manager
from ..models import ApiKey, AuditEntry, Role, User
from ..params import page_number
from ..services import apikeys, audit, audit_words, catalog, users
from ..services.search import contains
from ..services.timekeeping import zone
from .forms import (
    KIND_LABELS,
    ROLE_LABELS,
    ApiKeyForm,
    AuditFilterForm,
    ConfirmForm,
    PasswordResetForm,
    UserAddForm,
    UserEditForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50
AUDIT_CSV_LIMIT = 100_000


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != Role.ADMIN:
        abort(403)
    return None


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"role_labels": ROLE_LABELS, "kind_labels": KIND_LABELS,
            "page_url": _page_url}


def _page_url(number: int) -> str:
    """This page with the same filters, at page ``number``."""
    return url_for(request.endpoint or "admin.index", **{**(request.view_args or {}), **request.args.to_dict(),
                                                           "page": number})


def _me() -> str:
    return current_user.username


def _unit_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [
        (u.code, "\u2003" * depth + f"{u.name} ({u.code})" + ("" if u.active else " — ngừng hoạt động"))
        for u, depth in catalog.units_in_order()
    ]


def _get_or_404(model: type, ident: int):
    found = db.session.get(model, ident)
    if found is None:
        abort(404)
    return found


def _form_page(form, *, title: str, submit: str, back: str, errors: list[str] | None = None,
               template: str = "admin/form.html", **context: Any):
    status = 400 if (errors or form.errors) else 200
    return render_template(template, form=form, title=title, submit=submit, back=back,
                           errors=errors or [], **context), status


@bp.get("/")
def index():
    return redirect(url_for("admin.units"))


# Users ---------------------------------------------------------------------------------------

@bp.get("/users", endpoint="users")  # the function name would hide the users service
def users_list():
    rows = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", rows=rows, account_status=users.status)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserAddForm()
    form.unit.choices = _unit_choices("— Không gắn với đơn vị —")
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            user = users.add_user(form.username.data, form.password.data, form.role.data,
                                  unit=form.unit.data or None, actor=_me())
        except users.AccountError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            flash(f"Đã tạo tài khoản {user.username} ({ROLE_LABELS[user.role]}). Báo mật khẩu ban đầu cho người "
                  "dùng qua kênh riêng.", "success")
            return redirect(url_for("admin.users"), 303)
    return _form_page(form, title="Thêm tài khoản", submit="Tạo tài khoản", back=url_for("admin.users"),
                      errors=errors)


def _other_active_admins(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN.value, User.active, User.id != user.id)) or 0


def _user_page(user: User, form: UserEditForm, reset: PasswordResetForm, errors: list[str] | None = None):
    return _form_page(form, title=f"Tài khoản {user.username}", submit="Lưu", back=url_for("admin.users"),
                      errors=errors, template="admin/user_edit.html", user=user, reset=reset,
                      unlock=ConfirmForm(), status=users.status(user), locked=users.is_locked(user))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user: User = _get_or_404(User, user_id)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    form.unit.choices = _unit_choices("— Không gắn với đơn vị —")
    if request.method == "GET":
        form.unit.data = user.unit.code if user.unit else ""
    reset = PasswordResetForm(formdata=None)
    if not form.validate_on_submit():
        return _user_page(user, form, reset)
    role, active, unit_code = form.role.data, form.active.data, form.unit.data or None
    loses_admin = user.role == Role.ADMIN and user.active and (role != Role.ADMIN or not active)
    if loses_admin and _other_active_admins(user) == 0:
        return _user_page(user, form, reset, [
            f"{user.username} là quản trị viên cuối cùng còn hoạt động: hãy tạo hoặc kích hoạt một quản trị viên "
            "khác trước khi đổi vai trò hoặc khóa tài khoản này."])
    try:
        unit = catalog.unit_by_code(unit_code) if unit_code else None
    except catalog.CatalogError as exc:
        return _user_page(user, form, reset, [str(exc)])
    user.role, user.unit, user.active = role, unit, active
    audit.record(_me(), "user.update", user.username, role=role, unit=unit_code, active=active)
    db.session.commit()
    flash(f"Đã lưu tài khoản {user.username}.", "success")
    if user.id == current_user.id and (role != Role.ADMIN or not active):
        return redirect(url_for("staff.home"), 303)
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<int:user_id>/password")
def user_password(user_id: int):
    user: User = _get_or_404(User, user_id)
    reset = PasswordResetForm()
    if reset.validate_on_submit():
        try:
            users.reset_password(user, reset.password.data, actor=_me())
        except users.AccountError as exc:
            db.session.rollback()
            reset.password.errors = [str(exc)]
        else:
            if user.id == current_user.id:
                login_user(user)  # the session token changed: keep this session
            flash(f"Đã đặt lại mật khẩu cho {user.username} và mở khóa tài khoản. Các phiên đăng nhập cũ của "
                  "tài khoản này đã bị đăng xuất.", "success")
            return redirect(url_for("admin.user_edit", user_id=user.id), 303)
    form = UserEditForm(obj=user)
    form.unit.choices = _unit_choices("— Không gắn với đơn vị —")
    form.unit.data = user.unit.code if user.unit else ""
    page, _ = _user_page(user, form, reset)
    return page, 400


@bp.post("/users/<int:user_id>/unlock")
def user_unlock(user_id: int):
    user: User = _get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    users.unlock(user, actor=_me())
    flash(f"Đã mở khóa đăng nhập cho {user.username} (mật khẩu giữ nguyên).", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id), 303)


# API keys ------------------------------------------------------------------------------------

@bp.get("/api-keys")
def api_keys():
    return render_template("admin/api_keys.html", rows=apikeys.all_keys(), scopes=apikeys.SCOPES)


@bp.route("/api-keys/new", methods=["GET", "POST"])
def api_key_new():
    form = ApiKeyForm()
    form.unit.choices = _unit_choices("— Không giới hạn đơn vị (chỉ với quyền đọc chỉ số) —")
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            key, full_key = apikeys.create(form.name.data, form.scopes.data, unit=form.unit.data or None,
                                           actor=_me(), created_by=current_user)
        except apikeys.ApiKeyError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            page = render_template("admin/api_key_created.html", key=key, full_key=full_key)
            # The only time the key exists outside the caller's hands: keep it out of every cache.
            return Response(page, status=201, headers={"Cache-Control": "no-store"})
    return _form_page(form, title="Tạo khóa API", submit="Tạo khóa", back=url_for("admin.api_keys"),
                      errors=errors)


@bp.post("/api-keys/<int:key_id>/revoke")
def api_key_revoke(key_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    key: ApiKey = _get_or_404(ApiKey, key_id)
    if apikeys.revoke(key, actor=_me()):
        flash(f"Đã thu hồi khóa {key.prefix} ({key.name}): phần mềm dùng khóa này không gọi được API nữa.",
              "success")
    else:
        flash(f"Khóa {key.prefix} đã bị thu hồi trước đó; không có gì thay đổi.", "warning")
    return redirect(url_for("admin.api_keys"), 303)


# Audit log -----------------------------------------------------------------------------------

def _audit_filters() -> tuple[AuditFilterForm, Any, dict[str, str]]:
    """The filter form (from the query string) and the filtered, newest-first query."""
    form = AuditFilterForm(request.args)
    actions = db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    form.action.choices = [("", "— Tất cả —")] + [(a, audit_words.action_name(a)) for a in actions]
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    applied: dict[str, str] = {}
    if not form.validate():
        return form, query, applied
    if form.actor.data and form.actor.data.strip():
        actor = form.actor.data.strip()
        query = query.where(contains(AuditEntry.actor, actor))
        applied["actor"] = actor
    if form.action.data:
        query = query.where(AuditEntry.action == form.action.data)
        applied["action"] = form.action.data
    if form.date_from.data:
        query = query.where(AuditEntry.at >= _utc_midnight(form.date_from.data))
        applied["from"] = form.date_from.data.isoformat()
    if form.date_to.data:
        query = query.where(AuditEntry.at < _utc_midnight(form.date_to.data + dt.timedelta(days=1)))
        applied["to"] = form.date_to.data.isoformat()
    return form, query, applied


def _utc_midnight(day: dt.date) -> dt.datetime:
    """The start of a local calendar day, as the naive UTC the database stores."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)


@bp.get("/audit", endpoint="audit")  # the function name would hide the audit service
def audit_log():
    form, query, applied = _audit_filters()
    page = db.paginate(query, page=page_number(), per_page=PAGE_SIZE, error_out=False)
    status = 400 if form.errors else 200
    return render_template("admin/audit.html", form=form, page=page, applied=applied,
                           csv_url=url_for("admin.audit_csv", **applied), action_name=audit_words.action_name,
                           details_text=audit_words.details_text), status


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula (typed login names
    and targets come from outside; the rule is analysis/safe_text.py's, as for every export)."""
    return neutralise("" if value is None else str(value))


@bp.get("/audit.csv")
def audit_csv():
    form, query, applied = _audit_filters()
    if form.errors:
        flash("Bộ lọc chưa hợp lệ: sửa bộ lọc rồi tải lại CSV.", "error")
        return redirect(url_for("admin.audit", **request.args.to_dict()))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["at_utc", "actor", "action", "target", "details"])
    for entry in db.session.scalars(query.limit(AUDIT_CSV_LIMIT)):
        writer.writerow([entry.at.isoformat(timespec="seconds") + "Z", _cell(entry.actor), _cell(entry.action),
                         _cell(entry.target), _cell(entry.details)])
    audit.record(_me(), "export.audit", None, filters=json.dumps(applied, ensure_ascii=False) if applied else None)
    db.session.commit()
    return Response(buffer.getvalue().encode("utf-8-sig"), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="sipas-nhat-ky.csv"', "Cache-Control": "no-store"})


from . import imports, procedures, units  # noqa: E402, F401  (their pages, on this blueprint)
