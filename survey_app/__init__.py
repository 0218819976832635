"""sipas: citizen satisfaction surveys at public-service counters (the Flask app)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``SIPAS_*`` environment variables, then ``config``."""
    from . import config as configuration
    from . import params
    from .blas import limit_blas_threads
    from .collector import tune_collector
    from .database import configure_sqlite, ping_idle_connections, prepare_sqlite_file
    from .extensions import csrf, db, login_manager
    from .logs import private
    from .web import register

    app = Flask(__name__)
    private(app.logger)  # "Exception on /s/<code>" would name a citizen's code
    app.config.from_mapping(configuration.build(config))
    params.install(app)  # before any route: ids in URLs are bounded, bad query values are a 400
    if app.config["SIPAS_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["SIPAS_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    prepare_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"], app.config["SIPAS_DATA_DIR"])
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
        ping_idle_connections(db.engine)
    # Before CSRF: the small public form must be refused (413) before anything parses it.
    app.before_request(_limit_public_body)
    csrf.init_app(app)
    # Templates get current_user as a lazy proxy (web.register), not Flask-Login's context
    # processor, which loads the user for every template: the citizen's pages never need it.
    login_manager.init_app(app, add_context_processor=False)
    register(app)
    limit_blas_threads()
    tune_collector()
    from .cli import register_cli

    register_cli(app)
    _warm_fonts()
    return app


def _warm_fonts() -> None:
    """Parse the PDF fonts now, so the first slip a clerk prints does not wait for it."""
    from .printing import FontNotFoundError, register_fonts

    with contextlib.suppress(FontNotFoundError):  # printing reports it; surveys need no font
        register_fonts()


def _limit_public_body() -> None:
    from flask import current_app, request

    if request.path[:2] in ("/s", "/S"):
        request.max_content_length = current_app.config["SIPAS_MAX_BODY_BYTES"]
