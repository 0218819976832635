"""The citizen's pages: type a code, answer the questionnaire, thank-you.

No login, no cookies beyond the session that CSRF needs, no JavaScript required.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import RequestEntityTooLarge

from ..database import questionnaire_of
from ..i18n import current_lang
from ..models import CodeKind
from ..services import codes, responses
from ..services.codes import CodeError, CodeProblem
from ..web import error_page

bp = Blueprint("public", __name__)
log = logging.getLogger(__name__)

# Client addresses live only in this memory, never in the database or the logs' storage.
_limits = MovingWindowRateLimiter(MemoryStorage())

_PROBLEM_PAGES = {
    CodeProblem.MALFORMED: (404, "err_unknown"),
    CodeProblem.UNKNOWN: (404, "err_unknown"),
    CodeProblem.CHECK_FAILED: (404, "err_check"),
    CodeProblem.EXPIRED: (410, "err_expired"),
    CodeProblem.VOIDED: (410, "err_voided"),
    CodeProblem.ANSWERED: (409, "err_answered"),
}


class SurveyForm(FlaskForm):
    """Only CSRF lives here; the answer fields are defined by the questionnaire file and
    checked by services.responses.validate."""


def _client() -> str:
    return request.remote_addr or "unknown"


def _problem_page(problem: CodeProblem, typed: str = ""):
    status, key = _PROBLEM_PAGES[problem]
    if status == 404 and not _limits.hit(
        parse_limit(current_app.config["SIPAS_CODE_LOOKUP_LIMIT"]), "code-miss", _client()
    ):
        log.warning("code guessing: too many unknown codes from one client; refusing for a while")
        return error_page(429, "err_rate")
    return error_page(status, key, show_code_box=status == 404, typed=typed)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    return error_page(413, "err_too_large")


@bp.get("/")
def index():
    return redirect(url_for("public.enter", lang=request.args.get("lang")))


@bp.get("/s")
@bp.get("/s/")
def enter():
    typed = (request.args.get("code") or "").strip()[:64]
    if typed:
        try:
            canonical = codes.canonical(typed)
        except CodeError as exc:
            return _problem_page(exc.problem, typed)
        return redirect(url_for("public.survey", code=canonical, lang=request.args.get("lang")), 303)
    return render_template("public/enter.html")


def _load(code: str):
    record = codes.find(code)
    codes.usable(record)
    return record


# Upper-case URLs let the QR code use its compact alphanumeric mode; url_for builds the
# first rule registered (the lower decorator), so links stay lower-case.
@bp.route("/S/<code>", methods=["GET", "POST"])
@bp.route("/s/<code>", methods=["GET", "POST"])
def survey(code: str):
    try:
        record = _load(code)
    except CodeError as exc:
        return _problem_page(exc.problem, code[:64])
    q = questionnaire_of(record.questionnaire_version)
    form = SurveyForm()
    values: dict[str, str] = {}
    errors: dict[str, tuple[str, str]] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            return error_page(400, "err_csrf")
        values = {key: request.form.get(key, "") for key in request.form}
        if values.get("website"):  # honeypot: people never see this field
            log.info("honeypot field filled; submission refused")
            return error_page(400, "err_bad_request")
        if record.kind == CodeKind.COUNTER and not _limits.hit(
            parse_limit(current_app.config["SIPAS_COUNTER_RATE_LIMIT"]), "counter", str(record.id), _client()
        ):
            return error_page(429, "err_rate")
        result = responses.validate(q, values)
        if isinstance(result, responses.Submission):
            try:
                responses.store(record, q, result)
            except CodeError as exc:
                return _problem_page(exc.problem)
            return redirect(url_for("public.thanks", lang=current_lang()), 303)
        errors = result.errors
    status = 400 if errors else 200
    return render_template(
        "public/survey.html", q=q, record=record, form=form, errors=errors,
        questions=_questions(q, values, errors), action=url_for("public.survey", code=code.upper()),
    ), status


_fresh_forms: dict[tuple[str, str, str], str] = {}


def _questions(q, values: dict[str, str], errors: dict) -> str:
    """The questions' HTML. A fresh form depends only on the questionnaire version and the
    language, so it is rendered once per process (it is most of the page's work)."""
    if values or errors:
        return render_template("public/_questions.html", q=q, values=values, errors=errors)
    key = (q.key, q.sha256, current_lang())
    if key not in _fresh_forms:
        _fresh_forms[key] = render_template("public/_questions.html", q=q, values={}, errors={})
    return _fresh_forms[key]


@bp.get("/thanks")
def thanks():
    return render_template("public/thanks.html")


@bp.get("/healthz")
def health():
    return {"status": "ok"}
