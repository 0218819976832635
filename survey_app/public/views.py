"""The citizen's pages: type a code, answer the questionnaire, thank-you.

No login, no cookies (the form's CSRF token is bound to the code: form_token.py), no
JavaScript required. Every request about a code is answered here, and only here:
QR -> /s/<code> -> this view -> services (codes, responses) -> one commit.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import csrf
from ..feedback import service as cases
from ..i18n import current_lang
from ..models import CodeKind
from ..services import codes, responses
from ..services.codes import CodeError, CodeProblem
from ..web import error_page
from . import form_token, steps
from .page import survey_page

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


def _client() -> str:
    return request.remote_addr or "unknown"


def miss_allowed() -> bool:
    """Count a lookup of an unknown code (or case) from this client; False past the limit."""
    return _limits.hit(parse_limit(current_app.config["SIPAS_CODE_LOOKUP_LIMIT"]), "code-miss", _client())


def _problem_page(problem: CodeProblem, typed: str = "", code_id: int | None = None):
    """The page for a code that cannot be answered; an answered code (``code_id``, looked up
    already) also leads to the case its answer opened."""
    status, key = _PROBLEM_PAGES[problem]
    if problem == CodeProblem.ANSWERED:
        return error_page(status, key, case=cases.of_code(code_id) if code_id is not None else None)
    if status == 404 and not miss_allowed():
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


# Upper-case URLs let the QR code use its compact alphanumeric mode; url_for builds the
# first rule registered (the lower decorator), so links stay lower-case.
@csrf.exempt  # the form carries its own token, bound to the code (form_token)
@bp.route("/S/<code>", methods=["GET", "POST"])
@bp.route("/s/<code>", methods=["GET", "POST"])
def survey(code: str):
    return answer_page(code, action="public.survey", thanks="public.thanks")


def answer_page(code: str, *, action: str, thanks: str, kiosk: bool = False):
    """The form for ``code`` and what its submission does, wherever it is shown: on a phone
    (``public.survey``) or on a counter kiosk (``kiosk.survey``: channel ``kiosk``).
    ``action`` and ``thanks`` are the endpoints the form posts to and goes to once stored."""
    record = None
    try:
        record = codes.lookup(code)
        codes.usable(record)
    except CodeError as exc:
        return _problem_page(exc.problem, code[:64], record.id if record is not None else None)
    q = record.questionnaire()
    poster = record.kind == CodeKind.COUNTER
    if poster and request.method == "GET" and not _limits.test(_poster_limit(), "counter", str(record.id), _client()):
        # Said before the form is shown, so nobody fills it in for nothing.
        return error_page(429, "err_poster_rate")
    values: dict[str, str] = {}
    errors: dict[str, tuple[str, str]] = {}
    step = 0
    if request.method == "POST":
        values = request.form.to_dict()
        form_token.check(record.id, values.pop(form_token.FIELD, None), request.headers.get("Sec-Fetch-Site"))
        if values.get("website"):  # honeypot: people never see this field
            log.info("honeypot field filled; submission refused")
            return error_page(400, "err_bad_request")
        go, step = values.pop("go", "submit"), _step(values.pop("step", None))
        nonce = _NONCE.fullmatch(values.pop("nonce", "") or "")
        result = responses.validate(q, values)
        if go in ("next", "back"):  # moving between steps stores nothing
            order = steps.steps(q)
            shown = order[min(step, len(order) - 1)].fields
            errors = {} if isinstance(result, responses.Submission) else {
                k: v for k, v in result.errors.items() if k in shown and go == "next"}
            step = step if errors else step + (1 if go == "next" else -1)
            return _page(record, q, code, values, errors, step, action, kiosk)
        if isinstance(result, responses.Submission):
            # A completed answer is never thrown away: past the poster's per-client limit
            # (the form was already open) it is stored flagged, for analysts to weigh.
            over = poster and not _limits.hit(_poster_limit(), "counter", str(record.id), _client())
            if over:
                log.info("poster answer over the per-client limit: stored flagged")
            try:
                stored = responses.store(record, q, result, over_limit=over, kiosk=kiosk,
                                         nonce=nonce[0] if nonce else None)
            except CodeError as exc:
                return _problem_page(exc.problem, code[:64], record.id)
            return redirect(url_for(thanks, lang=current_lang(), case=stored.case_number), 303)
        errors = result.errors
        step = min(steps.step_of(q, field) for field in errors)  # the first step with a problem
    return _page(record, q, code, values, errors, step, action, kiosk)


_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")  # keep-answers.js: 22 characters of base64url


def _step(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0


def _page(record, q, code: str, values: dict[str, str], errors: dict[str, tuple[str, str]], step: int,
          action: str, kiosk: bool):
    return survey_page(q, unit_name=record.unit_name, procedure_name=record.procedure_name,
                       token=form_token.issue(record.id), action=url_for(action, code=code.upper()),
                       values=values, errors=errors, step=step, status=400 if errors else 200, kiosk=kiosk)


def _poster_limit():
    return parse_limit(current_app.config["SIPAS_COUNTER_RATE_LIMIT"])


@bp.get("/thanks")
def thanks():
    return render_template("public/thanks.html", case=cases.by_number(request.args.get("case") or ""))


@bp.get("/healthz")
def health():
    return {"status": "ok"}
