"""sipas purge-comments: old comments go, the numbers stay, the purge is on the record."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, AuditEntry, Comment, Response
from survey_app.services.backup import purge_comments
from survey_app.services.timekeeping import today
from tests.support import cli_runner, csrf_token, full_answers, issue_codes


def _answer_with_comment(app, code: str, comment: str) -> None:
    client = app.test_client()
    page = client.get(f"/s/{code}")
    data = {**full_answers(comment=comment), "csrf_token": csrf_token(page.get_data(as_text=True))}
    assert client.post(f"/s/{code}", data=data).status_code == 303


def _age_comments(app, days_ago: dict[str, int]) -> None:
    """Move each comment (by text) and every response back in time."""
    with app.app_context():
        for comment in db.session.scalars(select(Comment)):
            comment.submitted_on = today() - dt.timedelta(days=days_ago[comment.text])
        for response in db.session.scalars(select(Response)):
            response.submitted_on = today() - dt.timedelta(days=400)
        db.session.commit()


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        models = (Comment, Response, Answer)
        return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in models)


def test_purge_deletes_only_old_comments_and_keeps_the_numbers(backend_app):
    app = backend_app
    ages = {"cũ lắm": 400, "vừa quá hạn": 31, "đúng hạn": 30, "hôm nay": 0}
    for code, text in zip(issue_codes(app, count=len(ages)), ages, strict=True):
        _answer_with_comment(app, code, text)
    _age_comments(app, ages)
    comments, responses, answers = _counts(app)
    assert comments == 4 and responses == 4

    runner = cli_runner(app)
    dry = runner.invoke(["purge-comments", "--older-than", "30", "--dry-run"])
    assert dry.exit_code == 0 and "Would delete 2 comment(s)" in dry.output, dry.output
    assert _counts(app) == (4, responses, answers)

    done = runner.invoke(["purge-comments", "--older-than", "30", "--yes"])
    assert done.exit_code == 0 and "Deleted 2 comment(s)" in done.output, done.output
    assert _counts(app) == (2, responses, answers)
    with app.app_context():
        assert set(db.session.scalars(select(Comment.text))) == {"đúng hạn", "hôm nay"}
        entries = list(db.session.scalars(select(AuditEntry).filter_by(action="comments.purge")))
    assert len(entries) == 1, "the dry run is not recorded; the purge is"
    details = json.loads(entries[0].details)
    assert details["deleted"] == 2 and details["older_than_days"] == 30
    assert details["before"] == (today() - dt.timedelta(days=30)).isoformat()

    again = runner.invoke(["purge-comments", "--older-than", "30", "--yes"])
    assert "Deleted 0 comment(s)" in again.output


def _an_old_and_a_recent_comment(app) -> None:
    ages = {"cũ": 100, "mới": 1}
    for code, text in zip(issue_codes(app, count=len(ages)), ages, strict=True):
        _answer_with_comment(app, code, text)
    _age_comments(app, ages)


def _purges(app) -> int:
    with app.app_context():
        return len(list(db.session.scalars(select(AuditEntry).filter_by(action="comments.purge"))))


def test_purge_asks_first_and_deletes_on_yes(app):
    _an_old_and_a_recent_comment(app)
    result = cli_runner(app).invoke(["purge-comments", "--older-than", "30"], input="y\n")
    assert result.exit_code == 0, result.output
    cutoff = (today() - dt.timedelta(days=30)).isoformat()
    assert f"This deletes 1 comment(s) submitted before {cutoff}" in result.output
    assert "Xóa vĩnh viễn 1 bình luận này? (Delete them for good?) [y/N]" in result.output
    assert "Deleted 1 comment(s)" in result.output
    with app.app_context():
        assert list(db.session.scalars(select(Comment.text))) == ["mới"]
    assert _purges(app) == 1


@pytest.mark.parametrize("answer", ["n\n", "\n", None], ids=["no", "default", "no-stdin"])
def test_purge_deletes_nothing_without_confirmation(app, answer):
    _an_old_and_a_recent_comment(app)
    before = _counts(app)
    result = cli_runner(app).invoke(["purge-comments", "--older-than", "30"], input=answer)
    assert result.exit_code == 1, result.output
    assert "Không xóa bình luận nào" in result.output and "--yes" in result.output
    assert "Traceback" not in result.output and "Deleted" not in result.output
    assert _counts(app) == before and _purges(app) == 0


def test_purge_with_nothing_to_delete_does_not_ask(app):
    result = cli_runner(app).invoke(["purge-comments", "--older-than", "30"])
    assert result.exit_code == 0 and "nothing to delete" in result.output, result.output
    assert "[y/N]" not in result.output and _purges(app) == 0


def test_purge_dry_run_never_asks(app):
    _an_old_and_a_recent_comment(app)
    result = cli_runner(app).invoke(["purge-comments", "--older-than", "30", "--dry-run"])
    assert result.exit_code == 0 and "Would delete 1 comment(s)" in result.output
    assert "[y/N]" not in result.output and _counts(app)[0] == 2


@pytest.mark.parametrize("days", ["0", "-1"])
def test_purge_rejects_an_age_below_one_day(app, days):
    _an_old_and_a_recent_comment(app)
    result = cli_runner(app).invoke(["purge-comments", "--older-than", days, "--yes"])
    assert result.exit_code == 2 and "--older-than" in result.output, result.output
    assert "số ngày phải từ 1 trở lên" in result.output and "DAYS must be 1 or more" in result.output
    assert _counts(app)[0] == 2 and _purges(app) == 0


def test_purge_service_counts_against_a_given_day(app):
    [code] = issue_codes(app)
    _answer_with_comment(app, code, "góp ý")
    with app.app_context():
        submitted = db.session.scalar(select(Comment.submitted_on))
        assert purge_comments(10, actor="test", dry_run=True, today=submitted + dt.timedelta(days=10)).count == 0
        result = purge_comments(10, actor="test", today=submitted + dt.timedelta(days=11))
        assert (result.count, result.cutoff) == (1, submitted + dt.timedelta(days=1))
