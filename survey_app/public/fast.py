"""The citizen's two busy requests, served without Flask's request machinery.

Nearly every request a citizen makes is one of two: the fresh form for a valid code (GET) and
a complete, valid submission of it (POST). Flask's request context (session, URL matching,
hooks, the response object) costs about as much as the survey work itself, so these two are
answered here, in front of Flask, with the same services the view uses. Anything else -- an
unknown, used or expired code, a counter poster (rate limits), a refused answer, a bad token,
another language, a database error, a form this process has not rendered yet -- is passed
untouched to the Flask view (public/views.py), which is the one place that words errors.
So this module decides nothing: it either does exactly what the view would do on the happy
path, or steps aside before anything is stored.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, g

from ..i18n import LANGS
from ..models import CodeKind
from ..services import codes, responses
from ..services.codes import CodeError
from ..web import HSTS, SECURITY_HEADERS
from . import form_token
from .page import fresh_form

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# A code as printed or typed with dashes: anything else (spaces, lower-case oddities that need
# quoting) goes to the view, which canonicalises it.
_PATH = re.compile(r"/[sS]/([0-9A-Za-z-]{1,40})\Z")
_QUERY_LANG = {"": None, **{f"lang={lang}": lang for lang in LANGS}}
_FORM = "application/x-www-form-urlencoded"


class _StepAside(Exception):
    """Not the happy path: let the Flask view answer."""


class FastSurvey:
    """WSGI middleware: the fresh form and a valid submission, else the Flask app."""

    def __init__(self, app: Flask, flask_wsgi: WSGIApp) -> None:
        self.app, self.flask_wsgi = app, flask_wsgi
        self.body_limit = int(app.config["SIPAS_MAX_BODY_BYTES"])
        self.headers = [*SECURITY_HEADERS, ("Cache-Control", "no-store")]
        if app.config.get("SESSION_COOKIE_SECURE"):
            self.headers.append(HSTS)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        found = _PATH.match(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD")
        if found is None or method not in ("GET", "POST"):
            return self.flask_wsgi(environ, start_response)
        try:
            if method == "GET":
                status, headers, body = self._form(environ, found.group(1))
            else:
                status, headers, body = self._submit(environ, found.group(1))
        except _StepAside:
            return self.flask_wsgi(environ, start_response)
        except Exception:  # noqa: BLE001  (nothing was stored: the view meets it again and reports it)
            log.debug("fast path failed; the view takes the request", exc_info=True)
            return self.flask_wsgi(environ, start_response)
        start_response(status, [*headers, *self.headers])
        return [body]

    def _form(self, environ: dict[str, Any], code: str) -> tuple[str, list[tuple[str, str]], bytes]:
        lang = _query_lang(environ)
        with self.app.app_context():
            g.lang = lang
            record = _usable(code, remembered=False)
            q = record.questionnaire()
            root = environ.get("SCRIPT_NAME", "")
            page = fresh_form(q, lang=lang, root=root, unit_name=record.unit_name,
                              procedure_name=record.procedure_name, token=form_token.issue(record.id),
                              action=f"{root}/s/{code.upper()}", here=environ["PATH_INFO"])
        if page is None:  # the first request for this page in this process renders it (the view)
            raise _StepAside
        return "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))], page

    def _submit(self, environ: dict[str, Any], code: str) -> tuple[str, list[tuple[str, str]], bytes]:
        if environ.get("QUERY_STRING"):
            raise _StepAside
        values = self._form_values(environ)
        token = values.pop(form_token.FIELD, None)
        if values.get("website"):  # the honeypot: the view logs and refuses it
            raise _StepAside
        lang = values.get("lang")
        lang = lang if lang in LANGS else "vi"
        with self.app.app_context():
            g.lang = lang
            record = _usable(code, remembered=True)
            if record.kind != CodeKind.SINGLE:  # counter posters have per-client rate limits: the view
                raise _StepAside
            form_token.check(record.id, token, environ.get("HTTP_SEC_FETCH_SITE"))  # raises: the view's 400
            q = record.questionnaire()
            result = responses.validate(q, values)
            if not isinstance(result, responses.Submission):
                raise _StepAside
            try:
                # Nothing is stored when this raises: the view tries again and words the refusal.
                responses.store(record, q, result)
            finally:
                codes.forget(code)
        location = f"{environ.get('SCRIPT_NAME', '')}/thanks?lang={lang}"
        return "303 SEE OTHER", [("Location", location), ("Content-Type", "text/html; charset=utf-8"),
                                 ("Content-Length", "0")], b""

    def _form_values(self, environ: dict[str, Any]) -> dict[str, str]:
        """The urlencoded body's first value per name, as Werkzeug parses it. The body is
        read here, so it is put back for the view whatever happens next."""
        kind = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        length = environ.get("CONTENT_LENGTH", "")
        if kind != _FORM or not length.isdigit() or int(length) > self.body_limit:
            raise _StepAside
        raw = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(raw)
        if len(raw) != int(length):  # the client went away mid-body: never store a cut answer
            raise _StepAside
        try:
            text = raw.decode()
        except UnicodeDecodeError as exc:
            raise _StepAside from exc
        values: dict[str, str] = {}
        for name, value in parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"):
            values.setdefault(name, value)
        return values


def _query_lang(environ: dict[str, Any]) -> str:
    lang = _QUERY_LANG.get(environ.get("QUERY_STRING", ""), "?")
    if lang == "?":
        raise _StepAside
    return lang or "vi"


def _usable(code: str, *, remembered: bool) -> codes.CodeInfo:
    try:
        record = codes.lookup(code, remembered=remembered)
        codes.usable(record)
    except CodeError as exc:
        raise _StepAside from exc
    return record


def install(app: Flask) -> None:
    app.wsgi_app = FastSurvey(app, app.wsgi_app)  # type: ignore[method-assign]
