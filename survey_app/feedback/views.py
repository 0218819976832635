"""The citizen's follow pages (/pa) and the staff's case pages (/staff/cases).

The citizen finds a case with its number or the survey code it came with, reads the
deadline and the answer, and rates the handling once; no login, no cookie (the rating
form's token is bound to the case, as the survey form's is to the code). Staff see the
cases of their units, the deadline first, and close each with the answer the citizen reads.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..access import require_unit, roles_required, unit_scope
from ..extensions import csrf, db
from ..i18n import current_lang
from ..models import Role, utcnow
from ..public import form_token
from ..public import views as public_views
from ..services.timekeeping import local_date
from ..web import error_page
from . import deadlines, service
from .model import CaseRating, CaseStatus, FeedbackCase

bp = Blueprint("feedback", __name__, url_prefix="/pa")
staff_bp = Blueprint("cases", __name__, url_prefix="/staff/cases")


def _subject(case: FeedbackCase) -> bytes:
    return b"case:" + case.id.encode()


@bp.get("")
@bp.get("/")
def follow():
    typed = (request.args.get("q") or "").strip()[:64]
    if typed:
        case = service.find(typed)
        if case is not None:
            return redirect(url_for("feedback.case", number=case.number, lang=current_lang()), 303)
        if not public_views.miss_allowed():  # the same guard as against guessing survey codes
            return error_page(429, "err_rate")
        return render_template("feedback/follow.html", typed=typed, not_found=True), 404
    return render_template("feedback/follow.html", typed="", not_found=False)


def _public_case(number: str) -> FeedbackCase:
    case = service.by_number(number)
    if case is None:
        abort(404)
    return case


@bp.get("/<number>")
def case(number: str):
    return _case_page(_public_case(number))


def _case_page(case: FeedbackCase, error: str | None = None, status: int = 200):
    return render_template("feedback/case.html", case=case, token=form_token.issue_for(_subject(case)),
                           error=error), status


@csrf.exempt  # the form carries its own token, bound to the case
@bp.post("/<number>")
def rate(number: str):
    case = _public_case(number)
    form_token.check_for(_subject(case), request.form.get(form_token.FIELD),
                         request.headers.get("Sec-Fetch-Site"))
    rating = request.form.get("rating") or ""
    if rating not in {r.value for r in CaseRating}:
        return _case_page(case, "rate_choose", 400)
    try:
        service.rate(case, rating)
    except service.CaseError as exc:
        return _case_page(case, str(exc), 409)
    return redirect(url_for("feedback.case", number=case.number, lang=current_lang()), 303)


# --------------------------------------------------------------------------- the staff's side
HANDLERS = (Role.STAFF, Role.ADMIN)


class CloseForm(FlaskForm):
    outcome = TextAreaField("Kết quả xử lý (người dân đọc nội dung này khi tra cứu)", validators=[
        DataRequired("Ghi kết quả xử lý."),
        Length(max=service.OUTCOME_LIMIT, message=f"Tối đa {service.OUTCOME_LIMIT} ký tự.")])


@staff_bp.get("/")
@roles_required(*HANDLERS)
def index():
    status = request.args.get("status", CaseStatus.OPEN.value)
    status = status if status in {s.value for s in CaseStatus} else ""
    today = local_date(utcnow())
    cases = service.of_units(unit_scope(current_user), status=status or None)
    return render_template("feedback/cases.html", cases=cases, status=status, today=today,
                           left=lambda c: deadlines.working_days_between(
                               today, c.due_on, current_app.config["SIPAS_HOLIDAY_DATES"]))


def _staff_case(number: str) -> FeedbackCase:
    case = service.by_number(number)
    if case is None:
        abort(404)
    require_unit(current_user, case.unit)
    return case


@staff_bp.route("/<number>", methods=["GET", "POST"])
@roles_required(*HANDLERS)
def detail(number: str):
    case = _staff_case(number)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            service.close(case, outcome=form.outcome.data, actor=current_user.username)
        except service.CaseError as exc:
            form.outcome.errors = [str(exc)]
        else:
            flash(f"Đã trả lời {case.number}: người dân thấy kết quả khi tra cứu.", "success")
            return redirect(url_for("cases.index"), 303)
    db.session.rollback()
    return render_template("feedback/case_staff.html", case=case, form=form), 400 if form.errors else 200
