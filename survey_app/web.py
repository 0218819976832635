"""Blueprints, error pages, security headers and the login loader."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db, login_manager
from .i18n import current_lang, t
from .logs import private
from .models import ROLE_NAMES, User
from .services.timekeeping import local_time

log = private(logging.getLogger(__name__))  # it names request paths, which hold codes

# The one policy of every page, public, staff, admin, analyst and errors alike: no inline
# script or style. Styles live in static/css; charts are SVG styled by presentation
# attributes (analysis.charts.svg.svg_without_css).
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# Status -> the i18n key prefix of its page.
_ERROR_PAGES = {
    400: "err_bad_request", 403: "err_forbidden", 404: "err_not_found", 405: "err_method",
    413: "err_too_large", 429: "err_rate", 500: "err_server", 503: "err_busy",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_page(status: int, key: str, *, show_code_box: bool = False, **context: object):
    """A person-facing error page in the current language, with the right status."""
    if wants_json():
        return jsonify(error={"status": status, "message": t(f"{key}_body")}), status
    return render_template(
        "public/error.html", title=t(f"{key}_title"), body=t(f"{key}_body"),
        show_code_box=show_code_box, status=status, **context,
    ), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError):
        return error_page(400, "err_csrf")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        key = _ERROR_PAGES.get(exc.code or 500)
        if key is None:
            return exc
        return error_page(exc.code or 500, key, show_code_box=exc.code == 404)

    @app.errorhandler(DataError)
    def database_refused_data(exc: DataError):
        # Input the database cannot hold (PostgreSQL refuses NUL characters in text): the
        # request was wrong, not the server, and nothing of it was stored.
        db.session.rollback()
        log.warning("database refused the data of %s %s: %s", request.method, request.path,
                    type(exc.orig).__name__)
        return error_page(400, "err_bad_request")

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError):
        # A locked or unreachable database: nothing was stored; ask to retry.
        db.session.rollback()
        log.error("database unavailable: %s", exc)
        return error_page(503, "err_busy")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_page(500, "err_server")


# On every response. No page sends a Referer: a code in a URL never leaks to another site.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def citizen_path(path: str) -> bool:
    """A page whose URL may hold a code, or that follows one: never cached."""
    return path.startswith(("/s", "/S", "/thanks"))


def _register_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        for name, value in SECURITY_HEADERS:
            headers.setdefault(name, value)
        if citizen_path(request.path):
            headers.setdefault("Cache-Control", "no-store")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault(*HSTS)
        return response


@login_manager.user_loader
def load_user(cookie_id: str) -> User | None:
    """The cookie holds "user id:session id"; only a live server-side session counts."""
    from .services.users import session_user

    user_id, _, session_id = cookie_id.partition(":")
    user = session_user(session_id, hours=current_app.config["SIPAS_SESSION_HOURS"]) if session_id else None
    return user if user is not None and str(user.id) == user_id else None


def register(app: Flask) -> None:
    from .public.views import bp as public_bp

    app.register_blueprint(public_bp)
    from .kiosk.views import bp as kiosk_bp
    from .kiosk.views import staff_bp as kiosk_staff_bp

    app.register_blueprint(kiosk_bp)
    from .feedback.views import bp as feedback_bp
    from .feedback.views import staff_bp as cases_bp

    app.register_blueprint(feedback_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(kiosk_staff_bp)
    for module in ("staff", "admin", "analyst", "api"):
        blueprint = _optional_blueprint(module)
        if blueprint is not None:
            app.register_blueprint(blueprint)
    from .analyst.api import bp as indices_bp

    app.register_blueprint(indices_bp, name="indices_api")
    login_manager.login_view = "staff.login"
    login_manager.login_message = None
    _register_errors(app)
    _register_headers(app)
    app.jinja_env.globals.update(t=t, current_lang=current_lang, url_rules=app.view_functions,
                                 current_user=current_user, local_time=local_time, role_names=ROLE_NAMES)


def _optional_blueprint(module: str):
    import importlib

    try:
        views = importlib.import_module(f"survey_app.{module}.views")
    except ModuleNotFoundError as exc:
        if exc.name != f"survey_app.{module}.views":
            raise
        return None
    return views.bp
