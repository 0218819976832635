"""Staff pages: login, one-click slips, batches, posters, voiding, response rates."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

import questionnaires

from ..access import require_unit, roles_required, unit_scope
from ..config import configured_public_url_problem
from ..extensions import db
from ..kiosk import service as kiosk_service
from ..models import CodeBatch, CodeKind, CodeStatus, Procedure, QuestionnaireVersion, Role, SurveyCode, Unit, utcnow
from ..params import parse_day
from ..printing import qr_svg
from ..services import audit, catalog, codes, printing, users
from ..services import rates as rate_service
from ..services.exports import to_bytes
from .forms import BatchForm, CodeTargetForm, ConfirmForm, LoginForm, PasswordForm, VoidCodeForm

bp = Blueprint("staff", __name__, url_prefix="/staff")
ISSUERS = (Role.STAFF, Role.ADMIN)


@bp.errorhandler(codes.PublicUrlError)
def _public_url_unusable(exc: codes.PublicUrlError):
    """Nothing is printed; the clerk reads why and whom to ask (the server's operator)."""
    db.session.rollback()
    return render_template("staff/error.html", message=str(exc)), 503


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        config = current_app.config
        outcome = users.authenticate(form.username.data, form.password.data,
                                     max_failures=config["SIPAS_LOGIN_MAX_FAILURES"],
                                     lock_minutes=config["SIPAS_LOGIN_LOCK_MINUTES"])
        if outcome.user is not None:
            session.permanent = True  # the cookie's lifetime; the server ends the session itself too
            login_user(outcome.user)
            return redirect(_safe_next(request.args.get("next")) or url_for("staff.home"))
        # The same words for an unknown name, a wrong password and a locked account: the
        # answer must not tell which user names exist.
        status = 401
        flash(f"Sai tên đăng nhập hoặc mật khẩu. Sau {config['SIPAS_LOGIN_MAX_FAILURES']} lần sai liên tiếp, "
              f"tài khoản bị tạm khóa {config['SIPAS_LOGIN_LOCK_MINUTES']} phút; nếu quên mật khẩu, "
              "hãy liên hệ quản trị viên.", "error")
    elif request.method == "POST":
        status = 400
    return render_template("staff/login.html", form=form), status


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (``//evil``, ``/\tevil`` that a browser
    reads as ``//evil``, a backslash), never a control character (a header split)."""
    if not target or not target.startswith("/") or any(ord(ch) < 0x21 or ch in "\\\x7f" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


@bp.post("/logout")
@login_required
def logout():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    audit.record(current_user.username, "logout", current_user.username)
    users.close_session(current_user.staff_session_id)
    db.session.commit()
    logout_user()
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        config = current_app.config
        try:
            users.change_password(current_user, form.current.data, form.new.data,
                                  max_failures=config["SIPAS_LOGIN_MAX_FAILURES"],
                                  lock_minutes=config["SIPAS_LOGIN_LOCK_MINUTES"])
        except users.AccountError as exc:
            if users.is_locked(current_user):  # too many wrong passwords: this session ended too
                logout_user()
                flash("Nhập sai mật khẩu quá nhiều lần: tài khoản bị tạm khóa, phiên đăng nhập đã kết thúc.",
                      "error")
                return redirect(url_for("staff.login"))
            form.current.errors.append(str(exc))
        else:
            flash("Đã đổi mật khẩu. Các phiên đăng nhập khác đã bị đăng xuất.", "success")
            return redirect(url_for("staff.home"))
    return render_template("staff/password.html", form=form), 400 if form.errors else 200


def _target_choices(form: CodeTargetForm) -> None:
    scope = unit_scope(current_user)
    units = [(u, d) for u, d in catalog.units_in_order() if u.active and (scope is None or u.id in scope)]
    form.unit.choices = [(u.code, "\u2003" * d + f"{u.name} ({u.code})") for u, d in units]
    procedures = [(code, f"{code} — {name}") for code, name in db.session.execute(
        select(Procedure.code, Procedure.name).where(Procedure.active).order_by(Procedure.code))]
    usual = _usual_procedures(scope)
    blank = [("", "— Không chọn —")]
    if usual:  # the unit's own procedures first: the catalogue holds a province's thousands
        form.procedure.choices = {"Thủ tục đơn vị hay in mã (90 ngày qua)": blank + [c for c in procedures
                                                                                   if c[0] in usual],
                                  "Các thủ tục khác": [c for c in procedures if c[0] not in usual]}
    else:
        form.procedure.choices = blank + procedures
    keys = sorted({(v.questionnaire_id, v.version) for v in db.session.scalars(select(QuestionnaireVersion))},
                  key=lambda k: (k[0] != "sipas-2023", k[0], -k[1]))
    form.questionnaire.choices = [(f"{q}@{v}", questionnaires.load(q, v).title["vi"] + f" (phiên bản {v})")
                                  for q, v in keys if (q, v) in questionnaires.available()]


def _usual_procedures(scope: set[int] | None, days: int = 90, most: int = 15) -> list[str]:
    """The procedures the user's units printed most codes for lately (from the batches: a
    few rows a day, not a count of every code)."""
    since = utcnow() - dt.timedelta(days=days)
    query = (select(Procedure.code).join(CodeBatch, CodeBatch.procedure_id == Procedure.id)
             .where(CodeBatch.created_at >= since, Procedure.active)
             .group_by(Procedure.code).order_by(func.sum(CodeBatch.count).desc(), Procedure.code).limit(most))
    if scope is not None:
        query = query.where(CodeBatch.unit_id.in_(scope))
    return list(db.session.scalars(query))


def _remembered(form: CodeTargetForm) -> None:
    if request.method == "GET":
        if current_user.last_unit_id:
            unit = db.session.get(Unit, current_user.last_unit_id)
            form.unit.data = unit.code if unit else None
        if current_user.last_procedure_id:
            procedure = db.session.get(Procedure, current_user.last_procedure_id)
            form.procedure.data = procedure.code if procedure else ""


def _resolve(form: CodeTargetForm) -> tuple[Unit, Procedure | None]:
    unit = catalog.unit_by_code(form.unit.data)
    require_unit(current_user, unit)
    procedure = catalog.procedure_by_code(form.procedure.data) if form.procedure.data else None
    current_user.last_unit_id = unit.id
    current_user.last_procedure_id = procedure.id if procedure else None
    return unit, procedure


@bp.get("/")
@login_required
def home():
    if current_user.role == Role.ANALYST:
        return redirect(url_for("analyst.overview") if "analyst.overview" in current_app.view_functions
                        else url_for("staff.rates"))
    form = CodeTargetForm()
    _target_choices(form)
    _remembered(form)
    url_problem = configured_public_url_problem(current_app.config)
    # The batch form's count only: its unit, procedure and questionnaire are the slip form's.
    return render_template("staff/home.html", form=form, void_form=VoidCodeForm(),
                           batch_form=BatchForm(formdata=None), url_problem=url_problem,
                           kiosks=kiosk_service.of_units(unit_scope(current_user)))


def _one_code(kind: CodeKind, button: str, **options):
    """The home form's target, one code of ``kind`` issued for it; None (with a message)
    when the choices are not valid for this user."""
    form = CodeTargetForm()
    _target_choices(form)
    if not form.validate_on_submit():
        flash(f"Chọn đơn vị, thủ tục và phiếu khảo sát hợp lệ rồi bấm {button}.", "error")
        return None
    unit, procedure = _resolve(form)
    return codes.issue(unit=unit, procedure=procedure, questionnaire=form.questionnaire.data, kind=kind, count=1,
                       actor=current_user.username, **options)


@bp.post("/slip")
@roles_required(*ISSUERS)
def slip():
    """One click: issue one single-use code and open the slip, which prints itself."""
    issued = _one_code(CodeKind.SINGLE, "In phiếu", source=codes.SLIPS)
    if issued is None:
        return redirect(url_for("staff.home"))
    return redirect(url_for("staff.show_slip", code_id=issued[1][0].id, autoprint=1), 303)


@bp.post("/poster")
@roles_required(*ISSUERS)
def poster():
    """One click: a counter code (a poster many people answer), opened as its A4 PDF."""
    issued = _one_code(CodeKind.COUNTER, "In áp phích")
    if issued is None:
        return redirect(url_for("staff.home"))
    return redirect(url_for("staff.batch_pdf", batch_id=issued[0].id), 303)


def _owned(model: type[SurveyCode] | type[CodeBatch], record_id: int):
    """The code or batch, 404 when it does not exist, 403 when it is another unit's."""
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    require_unit(current_user, record.unit_id)
    return record


def _code_record(code_id: int) -> SurveyCode:
    return _owned(SurveyCode, code_id)


@bp.get("/slip/<int:code_id>")
@roles_required(*ISSUERS)
def show_slip(code_id: int):
    item = _printable(code_id)
    return render_template("staff/slip.html", item=item, svg=qr_svg(item.url, size="100%"),
                           wording=printing.slip_texts(item), autoprint=request.args.get("autoprint") == "1",
                           void_form=ConfirmForm())


@bp.get("/slip/<int:code_id>.pdf")
@roles_required(*ISSUERS)
def slip_pdf(code_id: int):
    item = _printable(code_id)
    size = "A6" if request.args.get("size") == "A6" else "80mm"
    return _pdf(printing.slip_document(item, size=size), f"sipas-phieu-{item.id}.pdf")


def _printable(code_id: int) -> codes.IssuedCode:
    """A code of the user's units that can be printed (404 when its text cannot be unsealed)."""
    record = _code_record(code_id)
    text = codes.unseal(record)
    if text is None:
        abort(404)
    return codes.describe(record, text)


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


@bp.route("/batches", methods=["GET", "POST"])
@login_required
def batches():
    if current_user.role not in (Role.STAFF, Role.ADMIN):
        abort(403)
    form = BatchForm()
    if request.method == "POST":  # the form is shown only after a POST's error: no choices for a GET
        _target_choices(form)
    if request.method == "POST" and form.validate_on_submit():
        unit, procedure = _resolve(form)
        batch, _ = codes.issue(unit=unit, procedure=procedure, questionnaire=form.questionnaire.data,
                               kind=CodeKind.SINGLE, count=form.count.data, actor=current_user.username)
        # Straight to the label sheet: the second click of a shift's batch is the print.
        return redirect(url_for("staff.batch_pdf", batch_id=batch.id), 303)
    rows = _batch_rows()
    return render_template("staff/batches.html", form=form, rows=rows), 400 if form.errors else 200


def _batch_rows(limit: int = 200):
    scope = unit_scope(current_user)
    now = utcnow()
    expired = (SurveyCode.status == CodeStatus.ISSUED.value) & SurveyCode.expires_at.is_not(None) & (
        SurveyCode.expires_at <= now)
    query = (
        select(CodeBatch,
               func.count(SurveyCode.id),
               func.sum((SurveyCode.status == CodeStatus.ANSWERED.value).cast(db.Integer)),
               func.sum((SurveyCode.status == CodeStatus.VOIDED.value).cast(db.Integer)),
               func.sum(expired.cast(db.Integer)))
        .join(SurveyCode, SurveyCode.batch_id == CodeBatch.id)
        .group_by(CodeBatch.id)
        .order_by(CodeBatch.id.desc())
        .limit(limit)
        # Each row shows its unit and procedure: two IN queries, not two lazy loads a row.
        .options(selectinload(CodeBatch.unit), selectinload(CodeBatch.procedure))
    )
    if scope is not None:
        query = query.where(CodeBatch.unit_id.in_(scope))
    return db.session.execute(query).all()


def _batch_or_404(batch_id: int) -> CodeBatch:
    return _owned(CodeBatch, batch_id)


@bp.get("/batches/<int:batch_id>")
@roles_required(*ISSUERS)
def batch(batch_id: int):
    record = _batch_or_404(batch_id)
    counts = dict(db.session.execute(
        select(SurveyCode.status, func.count()).where(SurveyCode.batch_id == batch_id).group_by(SurveyCode.status)
    ).all())
    return render_template("staff/batch.html", batch=record, counts=counts, confirm=ConfirmForm())


@bp.get("/batches/<int:batch_id>.pdf")
@roles_required(*ISSUERS)
def batch_pdf(batch_id: int):
    """The batch's still-usable codes as label sheets (or the counter poster): a reprint."""
    record = _batch_or_404(batch_id)
    members = list(db.session.scalars(select(SurveyCode).where(SurveyCode.batch_id == batch_id)
                                      .order_by(SurveyCode.id)))
    items = codes.reprint(members, actor=current_user.username)
    if not items:
        flash("Lô này không còn mã nào dùng được để in.", "warning")
        return redirect(url_for("staff.batch", batch_id=batch_id))
    if record.kind == CodeKind.COUNTER:
        items = items[:1]
    return _pdf(printing.batch_document(items, kind=record.kind), f"sipas-lo-{batch_id}.pdf")


@bp.post("/batches/<int:batch_id>/void")
@roles_required(*ISSUERS)
def void_batch(batch_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _batch_or_404(batch_id)
    members = list(db.session.scalars(select(SurveyCode).where(SurveyCode.batch_id == batch_id)))
    voided = codes.void_codes(members, actor=current_user.username, reason="batch")
    flash(f"Đã hủy {voided} mã chưa được trả lời của lô {batch_id}.", "success")
    return redirect(url_for("staff.batch", batch_id=batch_id), 303)


@bp.post("/codes/void")
@roles_required(*ISSUERS)
def void_code():
    form = VoidCodeForm()
    if not form.validate_on_submit():
        flash("Nhập mã cần hủy.", "error")
        return redirect(url_for("staff.home"))
    try:
        record = codes.find(form.code.data)
    except codes.CodeError as exc:
        message = ("Mã có vẻ bị gõ nhầm (ký tự kiểm tra không khớp)." if exc.problem == codes.CodeProblem.CHECK_FAILED
                   else "Không tìm thấy mã này.")
        flash(message, "error")
        return redirect(url_for("staff.home"))
    require_unit(current_user, record.unit_id)
    if codes.void_codes([record], actor=current_user.username, reason="single") == 1:
        flash("Đã hủy mã.", "success")
    else:
        flash("Mã này đã được trả lời hoặc đã bị hủy trước đó; không có gì thay đổi.", "warning")
    return redirect(url_for("staff.home"))


@bp.post("/slip/<int:code_id>/void")
@roles_required(*ISSUERS)
def void_slip(code_id: int):
    """Void a slip that did not print properly, and print a fresh one for the same target."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    record = _code_record(code_id)
    codes.void_codes([record], actor=current_user.username, reason="reprint")
    _, [item] = codes.issue(unit=record.unit, procedure=record.procedure,
                            questionnaire=record.questionnaire_version.key, kind=CodeKind.SINGLE, count=1,
                            actor=current_user.username)
    return redirect(url_for("staff.show_slip", code_id=item.id, autoprint=1), 303)


def _date_arg(name: str, errors: list[str]) -> dt.date | None:
    """The filter date ``name`` (None when absent); a bad one is dropped, said, and added to ``errors``."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError as exc:
        errors.append(str(exc))
        flash(f"{exc} Đã bỏ qua ngày này.", "error")
        return None


@bp.get("/rates")
@roles_required(Role.STAFF, Role.ADMIN, Role.ANALYST)
def rates():
    period = request.args.get("period", "month")
    if period not in rate_service.PERIODS:
        period = "month"
    errors: list[str] = []
    date_from, date_to = _date_arg("from", errors), _date_arg("to", errors)
    table = rate_service.response_rates(unit_ids=unit_scope(current_user), period=period,
                                        date_from=date_from, date_to=date_to)
    if request.args.get("format") == "csv" and not errors:  # not a file without the dates asked for
        audit.record(current_user.username, "export.rates", None, period=period)
        db.session.commit()
        return Response(to_bytes(table, "csv"), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="sipas-ty-le-phan-hoi-{period}.csv"'})
    csv_url = url_for("staff.rates", **{**request.args.to_dict(), "period": period, "format": "csv"})
    return render_template("staff/rates.html", table=table, period=period, date_from=date_from, date_to=date_to,
                           csv_url=csv_url), 400 if errors else 200

