"""Shared fixtures: an app on a fresh database (SQLite, or PostgreSQL for backend tests),
Flask's test client and CLI runner, a login helper, and a small organisation."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from flask import Flask

from survey_app import create_app
from tests.support import IN_CI, Auth, cli_runner, hermetic_environ, require, seed_org

POSTGRES_URL = os.environ.get("SIPAS_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session", autouse=True)
def _hermetic_environment() -> Iterator[None]:
    """No test sees the operator's ``SIPAS_*`` settings (database, data directory, public URL,
    plan file, ...): every app, CLI run and subprocess is configured by the test alone. The
    PostgreSQL tests use ``SIPAS_TEST_POSTGRES_URL`` and only it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(hermetic_environ(saved))
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Commands run in-process (`sipas demo`, `sipas serve`) export settings for their
    workers; each test gets the environment back as it was."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    require(bool(POSTGRES_URL), "SIPAS_TEST_POSTGRES_URL is not set (bash .ci/run starts PostgreSQL)")
    return POSTGRES_URL


def _create_pg_database(admin_url: str) -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"sipas_test_{secrets.token_hex(6)}"
    url = make_url(admin_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, url.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(admin_url: str, name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _make_app(tmp_path, database_url: str | None, **extra) -> Flask:
    config = {
        "TESTING": True,
        "SIPAS_DATA_DIR": str(tmp_path / "data"),
        "SIPAS_SECRET_KEY": "test-secret-" + secrets.token_hex(8),
        "SIPAS_PUBLIC_URL": "http://sipas.test",
        "RATELIMIT_ENABLED": True,
        "SIPAS_PASSWORD_HASH": "scrypt:1024:8:1",  # fast for tests; production keeps the default
        **extra,
    }
    if database_url:
        config["SIPAS_DATABASE_URL"] = database_url
    return create_app(config)


def _initialised(app: Flask) -> Flask:
    from survey_app.commands.server import initialise

    with app.app_context():
        initialise()
    return app


@pytest.fixture
def make_app(tmp_path, request) -> Iterator:
    """Build further apps on the same or another database (factory fixture)."""
    made: list[Flask] = []

    def factory(database_url: str | None = None, *, init: bool = True, **extra) -> Flask:
        app = _make_app(tmp_path, database_url, **extra)
        made.append(app)
        return _initialised(app) if init else app

    yield factory
    for app in made:
        with app.app_context():
            from survey_app.extensions import db

            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    """An initialised app on a fresh SQLite file, with a small organisation."""
    application = make_app()
    with application.app_context():
        seed_org()
    return application


def _seeded_postgres_app(request, make_app) -> Iterator[Flask]:
    """An app on a fresh PostgreSQL database with the small organisation, dropped afterwards."""
    admin_url = request.getfixturevalue("postgres_admin_url")
    name, url = _create_pg_database(admin_url)
    try:
        application = make_app(url)
        with application.app_context():
            seed_org()
        yield application
        with application.app_context():
            from survey_app.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        _drop_pg_database(admin_url, name)


@pytest.fixture(params=["sqlite", "postgres"])
def backend_app(request, make_app) -> Iterator[Flask]:
    """The same test on SQLite and on PostgreSQL (a fresh database each time)."""
    if request.param == "sqlite":
        application = make_app()
        with application.app_context():
            seed_org()
        yield application
        return
    yield from _seeded_postgres_app(request, make_app)


@pytest.fixture
def postgres_app(request, make_app) -> Iterator[Flask]:
    """An app on a fresh PostgreSQL database only (for PostgreSQL-specific behaviour)."""
    yield from _seeded_postgres_app(request, make_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return cli_runner(app)


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def live_server(app):
    """The app served over HTTP on a free loopback port, in a thread (for the browser)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["SIPAS_PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
    app.config["SIPAS_ALLOW_LOCAL_PUBLIC_URL"] = True  # the browser runs on this machine
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app.config["SIPAS_PUBLIC_URL"]
    server.shutdown()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium (Debian's; never a downloaded one)."""
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api") if not IN_CI else __import__(
        "playwright.sync_api", fromlist=["sync_playwright"])
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def phone(browser):
    """A phone-sized page (360 x 740, touch)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit and burst memory is per process; each test starts with none (ids repeat
    across tests)."""
    from survey_app.public import views as public_views
    from survey_app.services import responses

    public_views._limits.storage.reset()
    responses.burst_watch.clear()
    yield
