"""Every foundation command through the CLI runner (as `sipas ...`) and under `flask`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEntry, Procedure, Unit, User
from tests.support import ORG, cli_runner, csrf_token, full_answers, hermetic_environ, issue_codes


def test_init_is_idempotent(runner):
    first = runner.invoke(["init"])
    assert first.exit_code == 0 and "Database ready" in first.output
    assert "none new" in runner.invoke(["init"]).output


def test_unit_add_and_list(app, runner):
    result = runner.invoke(["unit", "add", "NEW", "Phòng Mới", "--parent", ORG.department])
    assert result.exit_code == 0 and "section" in result.output
    listing = runner.invoke(["unit", "list"]).output
    assert "  NEW\tPhòng Mới" in listing
    bad = runner.invoke(["unit", "add", "X", "Y", "--parent", "NOPE"])
    assert bad.exit_code == 1 and "NOPE" in bad.output
    dup = runner.invoke(["unit", "add", "NEW", "Again"])
    assert dup.exit_code == 1 and "đã tồn tại" in dup.output


def test_procedure_add_and_import(app, runner, tmp_path):
    assert runner.invoke(["procedure", "add", "2.000001", "Cấp thẻ ABTC", "--field", "ABTC"]).exit_code == 0
    good = tmp_path / "ok.csv"
    good.write_bytes("code,name,field\n2.000002,Chứng nhận lãnh sự,Lãnh sự\n2.000001,Cấp thẻ ABTC mới,ABTC\n"
                     .encode("utf-8-sig"))
    result = runner.invoke(["procedure", "import", str(good)])
    assert result.exit_code == 0 and "1 added, 1 updated" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,field\n2.000003,Tốt,X\n,Thiếu mã,X\n2.000004,,X\n", encoding="utf-8")
    result = runner.invoke(["procedure", "import", str(bad)])
    assert result.exit_code == 1 and "dòng 3" in result.output and "dòng 4" in result.output
    with app.app_context():
        assert db.session.scalar(select(Procedure).filter_by(code="2.000003")) is None  # nothing half-imported
        assert db.session.scalar(select(Procedure.name).filter_by(code="2.000001")) == "Cấp thẻ ABTC mới"
    assert "2.000002\tChứng nhận lãnh sự" in runner.invoke(["procedure", "list"]).output


def test_user_add_with_password_stdin(app, runner):
    result = runner.invoke(["user", "add", "Nhanvien", "--role", "staff", "--unit", ORG.section,
                            "--password-stdin"], input="mật khẩu đủ dài\n")
    assert result.exit_code == 0
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="nhanvien"))
        assert user.role == "staff" and user.password_hash.startswith("scrypt:")
    short = runner.invoke(["user", "add", "x2", "--role", "analyst", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "10" in short.output
    no_unit = runner.invoke(["user", "add", "x3", "--role", "staff", "--password-stdin"], input="long enough pw\n")
    assert no_unit.exit_code == 1 and "--unit" in no_unit.output


def test_user_list_unlock_and_reset_password(app, runner):
    """The accounts an admin manages on the web, from the command line too: the list says
    who is locked until when; unlock keeps the password; reset sets one, unlocks, and ends
    every session; an unknown name says how to find the right one."""
    import datetime as dt

    from survey_app.models import AuditEntry

    with app.app_context():
        db.session.scalar(select(User).filter_by(username="staff")).locked_until = dt.datetime(2999, 1, 1, 1, 30)
        db.session.commit()
    listing = runner.invoke(["user", "list"])
    assert listing.exit_code == 0
    lines = {line.split("\t")[0]: line for line in listing.output.splitlines()}
    assert lines["staff"].endswith("tạm khóa đăng nhập đến 01/01/2999 08:30 (nhập sai mật khẩu nhiều lần)"), lines
    assert lines["analyst"].split("\t")[1:] == ["analyst", "—", "đang hoạt động"]
    unlocked = runner.invoke(["user", "unlock", "Staff"])
    assert unlocked.exit_code == 0 and "Đã mở khóa đăng nhập cho staff" in unlocked.output
    reset = runner.invoke(["user", "reset-password", "analyst", "--password-stdin"], input="một mật khẩu mới dài\n")
    assert reset.exit_code == 0 and "đăng xuất mọi phiên" in reset.output
    short = runner.invoke(["user", "reset-password", "analyst", "--password-stdin"], input="ngắn\n")
    assert short.exit_code == 1 and "10" in short.output
    unknown = runner.invoke(["user", "unlock", "khongco"])
    assert unknown.exit_code == 1 and "sipas user list" in unknown.output
    with app.app_context():
        assert db.session.scalar(select(User).filter_by(username="staff")).locked_until is None
        actions = [(e.actor, e.action, e.target) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(["user.unlock", "user.password"])).order_by(AuditEntry.id))]
    assert actions == [("cli", "user.unlock", "staff"), ("cli", "user.password", "analyst")]
    from survey_app.services import users

    with app.app_context():
        assert users.authenticate("analyst", "một mật khẩu mới dài", max_failures=5, lock_minutes=15).user


def test_codes_issue_formats(app, runner):
    result = runner.invoke(["codes", "issue", "--unit", ORG.section, "--count", "3", "--format", "json"])
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and all(r["url"] == f"http://sipas.test/s/{r['code']}" for r in rows)
    assert all(r["expires_at"] for r in rows)
    as_csv = runner.invoke(["codes", "issue", "--unit", ORG.section, "--kind", "counter", "--format", "csv"])
    [row] = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert row["kind"] == "counter" and not row["expires_at"]
    text = runner.invoke(["codes", "issue", "--unit", ORG.section, "--procedure", ORG.procedure])
    code, url = text.stdout.strip().split("\t")
    assert url.endswith(code)
    assert runner.invoke(["codes", "issue", "--unit", "NOPE"]).exit_code == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(action="codes.issue")) == 3


def test_export_responses_csv_has_bom_and_contract_columns(app, runner):
    client = app.test_client()
    [code] = issue_codes(app)
    html = client.get(f"/s/{code}").get_data(as_text=True)
    client.post(f"/s/{code}", data={**full_answers(TC2=""), "csrf_token": csrf_token(html)})
    result = runner.invoke(["export", "responses"])
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 1
    header = list(rows[0])
    assert header[:18] == ["response_id", "questionnaire", "questionnaire_version", "unit", "procedure",
                           "channel", "submitted_on", "same_day", "flagged", "respondent_type", "feedback_given",
                           "gender", "age_group", "ethnicity", "education", "occupation", "residence",
                           "competent_unit"]
    assert header[18:22] == ["TC1", "TC2", "TC3", "TC4"] and header[-1] == "MD9"
    assert rows[0]["TC2"] == "" and rows[0]["TC1"] == "4" and rows[0]["unit"] == ORG.section
    assert rows[0]["flagged"] == "0"


def test_export_xlsx_needs_a_file(app, runner, tmp_path):
    assert runner.invoke(["export", "responses", "--format", "xlsx"]).exit_code == 1
    target = tmp_path / "r.xlsx"
    assert runner.invoke(["export", "responses", "--format", "xlsx", "-o", str(target)]).exit_code == 0
    assert target.read_bytes()[:2] == b"PK"


def test_export_comments(app, runner):
    client = app.test_client()
    [code] = issue_codes(app)
    html = client.get(f"/s/{code}").get_data(as_text=True)
    client.post(f"/s/{code}", data={**full_answers(comment="Gọi 0912345678"), "csrf_token": csrf_token(html)})
    rows = list(csv.DictReader(io.StringIO(runner.invoke(["export", "comments"]).stdout_bytes.decode("utf-8-sig"))))
    assert rows[0]["text"] == "Gọi [số điện thoại]" and rows[0]["unit"] == ORG.section


def test_demo_sets_up_a_department_with_data(make_app, monkeypatch):
    monkeypatch.setenv("SIPAS_PUBLIC_URL", "http://127.0.0.1:5999")
    demo_app = make_app(init=False)
    result = cli_runner(demo_app).invoke(["demo", "--no-serve", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert "Sở Ngoại vụ" in result.output and "vanphong" in result.output
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Unit)) >= 5
        from survey_app.models import Response
        assert db.session.scalar(select(func.count()).select_from(Response)) > 500
        from survey_app.feedback.model import DossierTally, FeedbackCase
        assert db.session.scalar(select(func.count()).select_from(FeedbackCase).where(
            FeedbackCase.status == "open")) >= 1
        assert db.session.scalar(select(func.count()).select_from(DossierTally)) > 100
    last_year = str(dt.date.today().year - 1)  # in the demo's 20 months, its one-stop months imported
    shown = cli_runner(demo_app).invoke(["index766", "--period", last_year])
    assert shown.exit_code == 0 and "Mức độ hài lòng: 100 % − (% quá hạn" in shown.output
    assert "cần số hồ sơ quá hạn" not in shown.output.split("Tổng")[-1]
    again = cli_runner(demo_app).invoke(["demo", "--no-serve"])
    assert again.exit_code == 0  # idempotent: only the passwords change


def test_commands_work_under_flask_cli(app):
    runner = FlaskCliRunner(app)
    result = runner.invoke(args=["unit", "list"])
    assert result.exit_code == 0 and ORG.department in result.output


def test_the_command_line_loads_pandas_only_for_the_commands_that_need_it():
    """`sipas serve` and the other commands start without pandas and scipy (seconds to
    import); the analysis commands are still listed and found."""
    probe = ("import sys, survey_app.cli as cli; "
             "print(sorted(m for m in ('pandas', 'scipy', 'analysis.cli') if m in sys.modules)); "
             "print(cli.main_group.get_command(None, 'analyze') is not None)")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env=hermetic_environ()).stdout
    assert output.split("\n")[:2] == ["[]", "True"]


def test_flask_cli_lists_the_analysis_commands_too(app):
    assert {"analyze", "report", "sample-size", "serve", "codes"} <= set(app.cli.list_commands(None))
