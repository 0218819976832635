"""Configuration precedence: defaults < SIPAS_* environment < test mapping."""

from __future__ import annotations

import os
import stat

import pytest

from survey_app import config, create_app


def test_defaults(monkeypatch, tmp_path):
    for name in config.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    values = config.build()
    assert values["SIPAS_DATA_DIR"] == str(tmp_path / "sipas-data")
    assert values["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'sipas-data' / 'sipas.sqlite'}"
    assert values["SIPAS_CODE_TTL_DAYS"] == 30
    assert values["SIPAS_PUBLIC_URL"] == "http://localhost:5000"


def test_environment_overrides_defaults_and_test_mapping_overrides_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SIPAS_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("SIPAS_CODE_TTL_DAYS", "7")
    monkeypatch.setenv("SIPAS_PUBLIC_URL", "https://ks.example.vn/")
    monkeypatch.setenv("SIPAS_SECRET_KEY", "from-env")
    values = config.build()
    assert values["SIPAS_CODE_TTL_DAYS"] == 7
    assert values["SIPAS_PUBLIC_URL"] == "https://ks.example.vn"
    assert values["SECRET_KEY"] == "from-env"
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SIPAS_DATA_DIR"] == str(tmp_path / "env")
    values = config.build({"SIPAS_CODE_TTL_DAYS": 3, "SIPAS_DATABASE_URL": "sqlite://"})
    assert values["SIPAS_CODE_TTL_DAYS"] == 3
    assert values["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_bad_environment_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SIPAS_CODE_TTL_DAYS", "thirty")
    with pytest.raises(config.ConfigError, match="SIPAS_CODE_TTL_DAYS.*whole number"):
        config.build()


def test_secret_key_is_made_once_and_kept_private(monkeypatch, tmp_path):
    monkeypatch.delenv("SIPAS_SECRET_KEY", raising=False)
    first = config.build({"SIPAS_DATA_DIR": str(tmp_path)})["SECRET_KEY"]
    second = config.build({"SIPAS_DATA_DIR": str(tmp_path)})["SECRET_KEY"]
    assert first == second and len(first) >= 40
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_create_app_uses_the_mapping(tmp_path):
    app = create_app({"SIPAS_DATA_DIR": str(tmp_path), "SIPAS_SECRET_KEY": "k", "SIPAS_PUBLIC_URL": "http://x/"})
    assert app.config["SIPAS_PUBLIC_URL"] == "http://x"
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_no_connection_is_pinged_at_every_checkout(tmp_path):
    """SQLAlchemy's pre-ping costs every request a round trip; server connections are tested
    only after sitting idle (tests/app/test_database.py::test_idle_connections_lost_*)."""
    base = {"SIPAS_DATA_DIR": str(tmp_path), "SIPAS_SECRET_KEY": "k"}  # no key file in the working directory
    sqlite = config.build({**base, "SIPAS_DATABASE_URL": "sqlite://"})
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": False}
    postgres = config.build({**base, "SIPAS_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert postgres["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False


def test_the_pool_keeps_a_connection_per_server_thread(tmp_path, monkeypatch):
    """Fewer pooled connections than threads and the others are opened and closed on every
    request (on PostgreSQL a server process each): `sipas serve` sizes the pool to its
    threads unless SIPAS_DB_POOL_SIZE says otherwise."""
    from survey_app.commands.server import _pool_for

    base = {"SIPAS_DATA_DIR": str(tmp_path), "SIPAS_SECRET_KEY": "k"}
    for url in (f"sqlite:///{tmp_path / 'x.sqlite'}", "postgresql+psycopg://u@h/db"):
        options = config.build({**base, "SIPAS_DATABASE_URL": url})["SQLALCHEMY_ENGINE_OPTIONS"]
        assert (options["pool_size"], options["max_overflow"]) == (10, 10)
    monkeypatch.delenv("SIPAS_DB_POOL_SIZE", raising=False)
    _pool_for(16)
    assert config.from_environment()["SIPAS_DB_POOL_SIZE"] == 18
    options = config.build({**base, "SIPAS_DATABASE_URL": "postgresql+psycopg://u@h/db"})["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_size"] == 18
    monkeypatch.setenv("SIPAS_DB_POOL_SIZE", "4")
    _pool_for(16)
    assert config.from_environment()["SIPAS_DB_POOL_SIZE"] == 4
    with pytest.raises(config.ConfigError, match="SIPAS_DB_POOL_SIZE"):
        config.build({**base, "SIPAS_DB_POOL_SIZE": -1})
