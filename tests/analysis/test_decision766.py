"""The Quyết định 766 satisfaction items on a hand-computed example, read from the database
(SQLite and PostgreSQL) through the same services a citizen's answer and a clerk's reply use.

The example (unit SEC, this quarter): 20 single-use codes handed out (a 21st voided), 10
answered on the tt01-counter form, 3 of them "Không hài lòng"; 4 of those answers opened a
complaint, a poster answer a fifth. Cases: two closed on time (one rated satisfied), one
closed a day late (rated dissatisfied), one open and not yet due, the poster's open and past
due. The one-stop system reported 50 dossiers decided with 2 overdue in the quarter's first
month and 30 with 2 in the second.

By hand: on time 2 / (2 closed on time + 1 closed late + 1 open past due) = 50 %; handling
satisfaction 1 / 2 = 50 %; procedure satisfaction (20 − 3) / 20 = 85 %; complaint or
dissatisfied (3 + 4) / 20 = 35 % (the poster's case is not a dossier's); overdue 4 / 80 = 5 %;
satisfaction 100 − (5 + 35) = 60 %. Wilson 95 % bounds from
statsmodels.stats.proportion.proportion_confint(x, n, method="wilson").
"""

from __future__ import annotations

import datetime as dt

import pytest

from analysis import decision766
from survey_app.extensions import db
from survey_app.feedback.model import DossierTally, FeedbackCase
from survey_app.models import Unit, utcnow
from survey_app.services.timekeeping import local_date
from tests.support import ORG, csrf_token, issue_codes

WILSON = {(7, 20): (18.119182, 56.714572), (2, 4): (15.003899, 84.996101), (1, 2): (9.453121, 90.546879),
          (17, 20): (63.958114, 94.763125), (4, 80): (1.961355, 12.162276)}


def _answer(client, code: str, hl: str, case_kind: str = "") -> None:
    page = client.get(f"/s/{code}").get_data(as_text=True)
    reply = client.post(f"/s/{code}", data={"csrf_token": csrf_token(page), "HL": hl, "DG1": hl,
                                            "comment": "Chờ lâu." if case_kind else "", "case_kind": case_kind})
    assert reply.status_code == 303, reply.get_data(as_text=True)[:500]


def _example(app) -> tuple[str, dt.date]:
    client = app.test_client()
    codes = issue_codes(app, count=21, questionnaire="tt01-counter")
    with app.app_context():
        from survey_app.services import codes as code_service

        code_service.void_codes([code_service.find(codes[20])], actor="test")
    for i, code in enumerate(codes[:10]):
        _answer(client, code, "1" if i < 3 else "3", "complaint" if i in (0, 4, 5, 6) else "")
    _answer(client, issue_codes(app, kind="counter", questionnaire="tt01-counter")[0], "3", "request")
    with app.app_context():
        today = local_date(utcnow())
        found = db.session.scalars(db.select(FeedbackCase).order_by(FeedbackCase.channel.desc())).all()
        assert [c.channel for c in found] == ["single"] * 4 + ["counter"]
        (one, two, late, pending), poster = found[:4], found[4]
        for case, closed, rating in ((one, today, "satisfied"), (two, today, None), (late, None, "dissatisfied")):
            case.status, case.outcome, case.rating = "closed", "Đã xử lý.", rating
            case.closed_on = closed or case.due_on + dt.timedelta(days=1)
        pending.due_on = today
        poster.due_on = today - dt.timedelta(days=1)
        first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        unit = db.session.scalar(db.select(Unit).where(Unit.code == ORG.section))
        for month, decided, overdue in ((first, 50, 2), (first.replace(month=first.month + 1), 30, 2)):
            db.session.add(DossierTally(unit_id=unit.id, month=month, decided=decided, overdue=overdue,
                                        imported_by="test"))
        db.session.commit()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}", today


def test_the_766_items_match_the_hand_computed_example(backend_app):
    period, today = _example(backend_app)
    with backend_app.app_context():
        counts = decision766.load_counts(db.engine, period, as_of=today)
    assert list(counts.index) == [ORG.section, "*"]
    row = counts.loc[ORG.section]
    assert row[["dossiers", "answered", "dissatisfied", "cases", "cases_from_dossiers", "on_time", "late",
                "pending", "rated", "rated_satisfied", "decided", "overdue"]].tolist() == [
        20, 10, 3, 5, 4, 2, 2, 1, 2, 1, 80, 4]
    got = {item.key: item for item in decision766.items(row)}
    expected = {"feedback_on_time": (2, 4, 50.0), "handling_satisfaction": (1, 2, 50.0),
                "procedure_satisfaction": (17, 20, 85.0), "complaint_or_dissatisfied": (7, 20, 35.0),
                "overdue": (4, 80, 5.0)}
    for key, (x, n, estimate) in expected.items():
        item = got[key]
        assert (item.x, item.n) == (x, n) and item.estimate == pytest.approx(estimate), key
        assert (item.low, item.high) == pytest.approx(WILSON[(x, n)], abs=1e-5), key
    assert got["feedback_on_time"].note == "1 chưa đến hạn, chưa tính"
    overall = got["satisfaction_766"]
    assert overall.estimate == pytest.approx(60.0)
    assert (overall.low, overall.high) == pytest.approx((95 - WILSON[(7, 20)][1], 95 - WILSON[(7, 20)][0]), abs=1e-5)


def test_without_the_one_stop_counts_the_composite_says_what_it_needs(app):
    period, today = _example(app)
    with app.app_context():
        db.session.execute(db.delete(DossierTally))
        db.session.commit()
        counts = decision766.load_counts(db.engine, period, as_of=today, units=[ORG.department])
    got = {item.key: item for item in decision766.items(counts.loc["*"])}
    assert got["procedure_satisfaction"].estimate == pytest.approx(85.0)
    assert got["satisfaction_766"].note.startswith("cần số hồ sơ quá hạn")
    table = decision766.table(counts, lang="en")
    assert set(table["unit"]) == {ORG.section, "*"} and "Overdue dossiers" in table["name"].iloc[4]


def test_dissatisfied_levels_are_those_below_the_midpoint():
    assert decision766.dissatisfied_levels([1, 2, 3]) == (1,)
    assert decision766.dissatisfied_levels(range(1, 6)) == (1, 2)


def test_the_one_stop_counts_import_and_the_index766_command(app, tmp_path):
    from tests.support import cli_runner

    period, today = _example(app)
    runner = cli_runner(app)
    with app.app_context():
        db.session.execute(db.delete(DossierTally))
        db.session.commit()
    first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,month,decided,overdue\nNOPE,2026-04,5,1\nSEC,2026-13,5,1\nSEC,2026-04,5,9\n",
                   encoding="utf-8")
    refused = runner.invoke(args=["dossiers", "import", str(bad)])
    assert refused.exit_code == 1
    for words in ("dòng 2: đơn vị 'NOPE'", "dòng 3: tháng '2026-13'", "dòng 4: số hồ sơ quá hạn (9)"):
        assert words in refused.output
    good = tmp_path / "mot-cua.csv"
    months = [first.strftime("%Y-%m"), first.replace(month=first.month + 1).strftime("%Y-%m")]
    good.write_text(f"unit;month;decided;overdue\nSEC;{months[0]};50;2\nSEC;{months[1]};30;2\n", encoding="utf-8")
    assert "thêm 2" in runner.invoke(args=["dossiers", "import", str(good)]).output
    assert "thay 2" in runner.invoke(args=["dossiers", "import", str(good)]).output  # a corrected report replaces
    shown = runner.invoke(args=["index766", "--period", period, "--as-of", today.isoformat()])
    assert shown.exit_code == 0, shown.output
    assert "Mức độ hài lòng: 100 % − (% quá hạn + % có phản ánh hoặc không hài lòng): 60 % [38,3; 76,9]" in shown.output
    assert "Tỷ lệ phản ánh, kiến nghị được xử lý đúng hạn: 50 % [15,0; 85,0] (2/4) — 1 chưa đến hạn" in shown.output
    as_csv = runner.invoke(args=["index766", "--period", period, "--format", "csv", "--lang", "en"]).output
    assert as_csv.startswith("unit,item,name,x,n,estimate,ci_low,ci_high,note")
    wrong = runner.invoke(args=["index766", "--period", "2026-Q5"])
    assert wrong.exit_code == 1 and "2026-Q5" in wrong.output


def test_the_analysts_page_shows_the_items_by_unit_below_the_selection(app):
    from tests.support import Auth

    _example(app)
    client = app.test_client()
    assert client.get("/analyst/766").status_code == 302  # login first
    Auth(client).login("analyst")
    page = client.get("/analyst/766").get_data(as_text=True)
    assert "không phải điểm công bố trên Cổng" in page
    rows = page.split('<tr class="total">')[1]
    assert "<b>85,0 %</b>" in rows and "17/20" in rows and "<b>60,0 %</b>" in rows
    assert "Phòng Lãnh sự" in rows  # no selection, one top unit: the units below it are the rows
    below = client.get(f"/analyst/766?unit={ORG.department}").get_data(as_text=True)
    assert "Phòng Lãnh sự" in below.split('<tr class="total">')[1]
    wrong = client.get("/analyst/766?p766=2026-Q9")
    assert wrong.status_code == 400 and "không hợp lệ" in wrong.get_data(as_text=True)
    Auth(staff := app.test_client()).login("staff")
    assert staff.get("/analyst/766").status_code == 403
