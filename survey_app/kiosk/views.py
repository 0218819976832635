"""The kiosk's pages (/k) and the clerk's kiosk pages (/staff/kiosks).

The tablet: /k asks for the pairing code once, then waits ("Mời Ông/Bà đánh giá...") and
looks again every few seconds (a meta refresh: no JavaScript needed) until a clerk sends it
a code; it then shows the questionnaire for that code, thanks the citizen and starts again.
The clerk: creates and pairs the unit's kiosks, and after handing back a dossier presses one
button beside "In phiếu"; the clerk's screen never shows the answers.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..access import require_unit, roles_required, unit_scope
from ..extensions import csrf, db
from ..feedback import service as cases
from ..models import Role, Unit
from ..public.views import answer_page
from ..services import catalog
from ..web import error_page
from . import service
from .model import Kiosk

bp = Blueprint("kiosk", __name__, url_prefix="/k")
staff_bp = Blueprint("kiosks", __name__, url_prefix="/staff/kiosks")
COOKIE = "sipas_kiosk"
LOOK_SECONDS = 3  # how often a waiting kiosk asks for a code
THANKS_SECONDS = 8  # how long the thank-you stays before the next person
CASE_THANKS_SECONDS = 60  # ... when it shows the number of a complaint or request to note
ISSUERS = (Role.STAFF, Role.ADMIN)


class PairForm(FlaskForm):
    pairing = StringField("Mã ghép", validators=[DataRequired(message="Nhập mã ghép gồm 6 chữ số."), Length(max=20)])


class KioskForm(FlaskForm):
    unit = SelectField("Đơn vị", choices=[])
    name = StringField("Tên máy tính bảng", validators=[DataRequired(message="Đặt tên, ví dụ \u201cQuầy 1\u201d."),
                                                         Length(max=100)])


def _this_kiosk() -> Kiosk | None:
    return service.by_key(request.cookies.get(COOKIE))


@bp.get("/")
@bp.get("")
def home():
    kiosk = _this_kiosk()
    if kiosk is None:
        return render_template("kiosk/pair.html", form=PairForm())
    code = service.pick_up(kiosk)
    if code:
        return redirect(url_for("kiosk.survey", code=code), 303)
    return render_template("kiosk/idle.html", kiosk=kiosk, look=LOOK_SECONDS)


@bp.post("/pair")
def pair():
    form = PairForm()
    if not form.validate_on_submit():
        return render_template("kiosk/pair.html", form=form), 400
    try:
        kiosk, key = service.pair(form.pairing.data)
    except service.KioskError as exc:
        form.pairing.errors = [str(exc)]
        return render_template("kiosk/pair.html", form=form), 400
    reply = make_response(redirect(url_for("kiosk.home"), 303))
    reply.set_cookie(COOKIE, key, max_age=400 * 24 * 3600, path="/k", httponly=True, samesite="Lax",
                     secure=current_app.config["SIPAS_PUBLIC_URL"].startswith("https:"))
    return reply


@csrf.exempt  # the form carries its own token, bound to the code (public/form_token.py)
@bp.route("/s/<code>", methods=["GET", "POST"])
def survey(code: str):
    if _this_kiosk() is None:  # only a paired tablet answers as a kiosk
        return redirect(url_for("kiosk.home"), 303) if request.method == "GET" else error_page(400, "err_bad_request")
    return answer_page(code, action="kiosk.survey", thanks="kiosk.thanks", kiosk=True)


@bp.get("/thanks")
def thanks():
    case = cases.by_number(request.args.get("case") or "")  # time to note the case's number
    return render_template("kiosk/thanks.html", wait=CASE_THANKS_SECONDS if case else THANKS_SECONDS, case=case)


# --------------------------------------------------------------------------- the clerk's side
def _units() -> list[Unit]:
    scope = unit_scope(current_user)
    return [u for u, _ in catalog.units_in_order() if u.active and (scope is None or u.id in scope)]


def _kiosk_or_404(kiosk_id: int, *, revoked: bool = False) -> Kiosk:
    """The kiosk, 404 when there is none (or it was revoked, unless ``revoked``), 403 when it
    is another unit's."""
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None or (kiosk.revoked_at is not None and not revoked):
        abort(404)
    require_unit(current_user, kiosk.unit)
    return kiosk


def _csrf_checked() -> None:
    """A form of buttons only: its CSRF token, or 400."""
    if not FlaskForm().validate_on_submit():
        abort(400)


def visible_kiosks() -> list[Kiosk]:
    """The kiosks of the current user's units (all for an admin)."""
    return service.of_units(unit_scope(current_user))


@staff_bp.route("/", methods=["GET", "POST"])
@roles_required(*ISSUERS)
def index():
    form = KioskForm()
    form.unit.choices = [(u.code, f"{u.name} ({u.code})") for u in _units()]
    if form.validate_on_submit():
        unit = catalog.unit_by_code(form.unit.data)
        require_unit(current_user, unit)
        try:
            kiosk, digits = service.create(unit=unit, name=form.name.data, actor=current_user.username)
        except service.KioskError as exc:
            form.name.errors = [str(exc)]
        else:
            return _pairing_page(kiosk, digits)
    return render_template("kiosk/list.html", form=form, kiosks=visible_kiosks()), 400 if form.errors else 200


def _pairing_page(kiosk: Kiosk, digits: str):
    return render_template("kiosk/pairing.html", kiosk=kiosk, digits=digits, minutes=service.PAIRING_MINUTES,
                           address=current_app.config["SIPAS_PUBLIC_URL"] + url_for("kiosk.home"))


@staff_bp.post("/<int:kiosk_id>/pair")
@roles_required(*ISSUERS)
def repair(kiosk_id: int):
    _csrf_checked()
    kiosk = _kiosk_or_404(kiosk_id)
    return _pairing_page(kiosk, service.repair(kiosk, actor=current_user.username))


@staff_bp.post("/<int:kiosk_id>/revoke")
@roles_required(*ISSUERS)
def revoke(kiosk_id: int):
    _csrf_checked()
    kiosk = _kiosk_or_404(kiosk_id, revoked=True)
    if kiosk.revoked_at is None:
        service.revoke(kiosk, actor=current_user.username)
    flash(f"Đã thu hồi máy tính bảng \u201c{kiosk.name}\u201d: máy không còn nhận mã.", "success")
    return redirect(url_for("kiosks.index"), 303)


@staff_bp.post("/<int:kiosk_id>/send")
@roles_required(*ISSUERS)
def send(kiosk_id: int):
    """One click after handing back a dossier: the kiosk shows the questionnaire for it."""
    _csrf_checked()
    kiosk = _kiosk_or_404(kiosk_id)
    try:
        chosen = (request.form.get("procedure") or "").strip()  # the home form's procedure, as for a slip
        procedure = catalog.procedure_by_code(chosen) if chosen else None
        current_user.last_procedure_id = procedure.id if procedure else None
        service.send(kiosk, procedure=procedure, actor=current_user.username)
    except (service.KioskError, catalog.CatalogError) as exc:
        flash(str(exc), "error")
    else:
        flash(f"Đã mời đánh giá trên \u201c{kiosk.name}\u201d. Máy sẽ hiện phiếu trong vài giây.", "success")
    return redirect(url_for("staff.home"), 303)
