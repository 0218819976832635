"""Anonymous at rest on SQLite (issue 13): the write-ahead log never holds the commit that
pairs a burned code with its answer once the answer is acknowledged, and a purged comment
leaves no byte in any file of the data directory."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.support import answer_over_http, cli_runner, csrf_token, full_answers, issue_codes

WAL_HEADER = 32
FRAME_HEADER = 24


def _wal_commits(path: Path) -> int:
    """Commit frames in a WAL file, as an attacker with a copy of it would count them."""
    if not path.exists() or path.stat().st_size <= WAL_HEADER:
        return 0
    data = path.read_bytes()
    page_size = struct.unpack(">I", data[8:12])[0]
    salt = data[16:24]
    commits, offset = 0, WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(data):
        _, size_after, frame_salt = struct.unpack(">II8s", data[offset:offset + 16])
        if frame_salt != salt:  # frames of an earlier, reset log: SQLite ignores them too
            break
        commits += size_after != 0
        offset += FRAME_HEADER + page_size
    return commits


def _answer(app, code: str, comment: str) -> None:
    client = app.test_client()
    html = client.get(f"/s/{code}").get_data(as_text=True)
    response = client.post(f"/s/{code}", data={**full_answers(comment=comment), "csrf_token": csrf_token(html)})
    assert response.status_code == 303


def test_an_acknowledged_answer_leaves_no_commit_in_the_log(app, tmp_path):
    data = Path(app.config["SIPAS_DATA_DIR"])
    codes = issue_codes(app, count=6)
    for n, code in enumerate(codes):
        _answer(app, code, f"góp ý số {n}")
        # What a copy of the data directory taken now would hold: no commit to read.
        assert _wal_commits(data / "sipas.sqlite-wal") == 0, f"after answer {n + 1}"


def test_the_wal_parser_sees_commits_when_the_log_is_not_sealed(app, monkeypatch):
    """The check above can fail: without the seal the log holds one commit per answer."""
    from survey_app.services import responses

    monkeypatch.setattr(responses, "seal_wal", lambda: True)
    data = Path(app.config["SIPAS_DATA_DIR"])
    codes = issue_codes(app, count=3)
    before = _wal_commits(data / "sipas.sqlite-wal")
    for code in codes:
        _answer(app, code, "")
    assert _wal_commits(data / "sipas.sqlite-wal") - before >= 3


def test_a_purged_comment_leaves_no_trace_in_the_data_directory(app):
    import datetime as dt

    from sqlalchemy import select

    from survey_app.extensions import db
    from survey_app.models import Comment

    marker = "Dấu vết riêng tư QZX-7781 của người dân"
    [old, kept] = issue_codes(app, count=2)
    _answer(app, old, marker)
    _answer(app, kept, "Góp ý vẫn giữ")
    with app.app_context():
        row = db.session.scalars(select(Comment).filter_by(text=marker)).one()
        row.submitted_on = row.submitted_on - dt.timedelta(days=400)
        db.session.commit()
    result = cli_runner(app).invoke(["purge-comments", "--older-than", "365", "--yes"])
    assert result.exit_code == 0 and "Deleted 1 comment" in result.output, result.output
    needles = [marker.encode("utf-8"), b"QZX-7781"]
    data = Path(app.config["SIPAS_DATA_DIR"])
    for path in data.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(needle in content for needle in needles), f"{path.name} still holds the purged comment"
    with app.app_context():
        assert db.session.scalars(select(Comment.text)).all() == ["Góp ý vẫn giữ"]


def test_an_answer_stands_when_the_log_cannot_be_sealed(app, monkeypatch, caplog):
    """The answer is committed before the seal: a busy database there is logged, not shown."""
    from sqlalchemy import func, select
    from sqlalchemy.engine import Connection
    from sqlalchemy.exc import OperationalError

    from survey_app.extensions import db
    from survey_app.models import Response

    original = Connection.exec_driver_sql

    def busy(self, statement, *args, **kwargs):
        if "wal_checkpoint" in statement:
            raise OperationalError(statement, {}, Exception("database is locked"))
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "exec_driver_sql", busy)
    [code] = issue_codes(app)
    _answer(app, code, "")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert "not sealed" in caplog.text


@pytest.mark.slow
def test_answers_through_sipas_serve_leave_no_commit_in_the_log(tmp_path):
    """The same through the real server (gunicorn workers, their own connections): a copy of
    the data directory taken after the answers holds no commit to read."""
    import shutil

    from benchmarks.load.server import Server, fresh_site, prepare

    with fresh_site("sqlite", tmp_path / "site") as site:
        codes = prepare(site, 8)
        with Server(site, workers=2, threads=2) as server:
            server.start()
            for code in codes:
                answer_over_http(site.port, code)
                copy = tmp_path / "copy"
                shutil.rmtree(copy, ignore_errors=True)
                # What an attacker takes, answer by answer; a dashboard snapshot being written
                # (a temporary file renamed into place) may vanish under the copy: left out.
                shutil.copytree(site.workdir / "data", copy, ignore=shutil.ignore_patterns(".frame-*"))
                assert _wal_commits(copy / "sipas.sqlite-wal") == 0
            server.stop()
