"""A fresh install: commands say to run `sipas init`, nothing appears where a command was run
by mistake, every file sipas writes is private, and no code is printed for a public URL that
no citizen's phone can open."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from survey_app.cli import _create_app, main_group
from tests.support import ORG, cli_runner, hermetic_environ


def _sipas(args: list[str], **env: str):
    """The console script's own app loading (not a test app), in the current directory."""
    return CliRunner().invoke(main_group, args, obj=ScriptInfo(create_app=_create_app),
                              env={**hermetic_environ(), **env})


def test_a_command_before_init_says_what_to_do_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _sipas(["unit", "add", "SNGV", "Sở Ngoại vụ"])
    assert result.exit_code == 1 and "sipas init" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == [], "a command run before init created files"


def test_a_database_without_schema_says_run_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sipas-data").mkdir()
    (tmp_path / "sipas-data" / "sipas.sqlite").write_bytes(b"")
    result = _sipas(["unit", "list"])
    assert result.exit_code == 1 and "chạy `sipas init` trước" in result.output


def test_init_then_commands_work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _sipas(["init"]).exit_code == 0
    added = _sipas(["unit", "add", "SNGV", "Sở Ngoại vụ"])
    assert added.exit_code == 0, added.output


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_every_file_sipas_writes_is_private_whatever_the_umask(tmp_path, monkeypatch, make_app):
    old = os.umask(0o022)
    try:
        app = make_app()
        from tests.support import seed_org, store_random_answers

        with app.app_context():
            seed_org()
        store_random_answers(app, count=2)
        data = tmp_path / "data"
        backup = tmp_path / "out" / "sipas.bak"
        backup.parent.mkdir()
        assert cli_runner(app).invoke(["backup", "-o", str(backup)]).exit_code == 0
        wal = data / "sipas.sqlite-wal"
        assert wal.exists(), "the database runs in WAL mode"
        assert _mode(data) == 0o700
        for path in [*data.rglob("*"), backup]:
            if path.is_file():
                assert _mode(path) == 0o600, f"{path} is {oct(_mode(path))}"
    finally:
        os.umask(old)


def test_a_loopback_public_url_prints_no_code(make_app):
    from survey_app.config import public_url_problem

    assert public_url_problem("http://localhost:5000") and public_url_problem("http://127.0.0.1:8000/")
    assert public_url_problem("https://khaosat.sonv.gov.vn") is None
    app = make_app(SIPAS_PUBLIC_URL="http://localhost:5000")
    with app.app_context():
        from tests.support import seed_org

        seed_org()
    result = cli_runner(app).invoke(["codes", "issue", "--unit", ORG.section])
    assert result.exit_code == 1 and "SIPAS_PUBLIC_URL" in result.output
    from tests.support import Auth, csrf_token

    client = app.test_client()
    Auth(client).login("staff")
    home = client.get("/staff/").get_data(as_text=True)
    assert 'id="public-url-problem"' in home and "SIPAS_PUBLIC_URL" in home
    slip = client.post("/staff/slip", data={"unit": ORG.section, "procedure": ORG.procedure,
                                           "questionnaire": "sipas-2023@1", "csrf_token": csrf_token(home)})
    assert slip.status_code == 503 and "SIPAS_PUBLIC_URL" in slip.get_data(as_text=True)
    with app.app_context():
        from sqlalchemy import func, select

        from survey_app.extensions import db
        from survey_app.models import SurveyCode

        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 0


@pytest.mark.parametrize("url", ["http://localhost:5000", "http://127.0.0.1:8000"])
def test_serve_warns_about_a_public_url_that_phones_cannot_open(make_app, monkeypatch, url):
    from survey_app.commands import server

    app = make_app(SIPAS_PUBLIC_URL=url)
    monkeypatch.setattr(server, "run_gunicorn", lambda *args, **kwargs: None)
    result = CliRunner().invoke(main_group, ["serve"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0 and "Cảnh báo" in result.output and "SIPAS_PUBLIC_URL" in result.output
