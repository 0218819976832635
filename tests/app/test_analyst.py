"""The analysts' dashboard: access, numbers equal to the analysis package on the same data,
filters in the URL, downloads, comments, and a cache that sees new responses."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

import analysis
import questionnaires
from tests.support import ORG, issue_codes
from tests.support import store_random_answers as answer

PAGES = ["/analyst/", "/analyst/criteria", "/analyst/trend", "/analyst/units", "/analyst/priorities",
         "/analyst/expectations", "/analyst/comments", "/analyst/downloads"]


@pytest.fixture
def analyst(client, auth):
    auth.login("analyst")
    return client


def exported(runner) -> analysis.pd.DataFrame:
    raw = runner.invoke(["export", "responses"]).stdout_bytes
    return analysis.read_responses(io.BytesIO(raw))


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_analyst_or_admin(app, client, auth, path):
    assert client.get(path).status_code == 302  # anonymous: to the login page
    auth.login("staff")
    assert client.get(path).status_code == 403
    auth.logout()
    auth.login("admin")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_pages_work_without_data(analyst, path):
    assert analyst.get(path).status_code == 200


def test_overview_numbers_equal_the_analysis_of_the_export(app, analyst, runner):
    answer(app, count=40, seed=1)
    answer(app, unit=ORG.other_section, count=25, seed=2)
    frame = exported(runner)
    q = questionnaires.load("sipas-2023")
    expected = analysis.analyze(frame, q).groups[0]
    page = analyst.get("/analyst/").get_data(as_text=True)
    general = re.search(r'id="kpi-general">.*?<div class="value">([^<]+)</div>', page, re.S).group(1)
    overall = re.search(r'id="kpi-overall">.*?<div class="value">([^<]+)</div>', page, re.S).group(1)
    assert general == analysis.format.format_percent(expected.general.value)
    assert overall == analysis.format.format_percent(expected.overall.value)
    assert f'<div class="value" id="response-count">{expected.n}</div>' in page
    # The unit filter includes the units below and keeps to the filtered rows.
    page = analyst.get(f"/analyst/?unit={ORG.section}").get_data(as_text=True)
    only = analysis.analyze(frame[frame["unit"].isin([ORG.section, ORG.counter])], q).groups[0]
    assert f'id="response-count">{only.n}<' in page
    assert analysis.format.format_percent(only.overall.value) in page


def test_criteria_page_sorted_with_distribution(app, analyst, runner):
    answer(app, count=35, seed=3)
    page = analyst.get("/analyst/criteria").get_data(as_text=True)
    codes = re.findall(r'<tr data-code="([A-Z]+\d)">', page)
    result = analysis.analyze(exported(runner), "sipas-2023").groups[0]
    values = [result.criteria[c].value for c in codes]
    assert len(codes) == 19 and values == sorted(values)
    assert "<svg" in page and "Số liệu" not in page or "<table" in page


def test_trend_units_priorities_expectations_render_numbers(app, analyst):
    answer(app, count=35, seed=4)
    answer(app, unit=ORG.other_section, count=35, seed=5)
    trend = analyst.get("/analyst/trend?period=month").get_data(as_text=True)
    assert "trend-table" in trend and "<svg" in trend
    units = analyst.get("/analyst/units").get_data(as_text=True)
    assert "Phòng Lãnh sự" in units and "Phòng Hợp tác quốc tế" in units and "<svg" in units
    priorities = analyst.get("/analyst/priorities").get_data(as_text=True)
    assert 'id="concentrate"' in priorities
    expectations = analyst.get("/analyst/expectations").get_data(as_text=True)
    assert "MD1" in expectations and "%" in expectations


def test_the_units_chart_of_many_units_draws_those_the_funnel_names(app, analyst, monkeypatch):
    """Beyond MOST_CHARTED_UNITS units the chart draws the units the funnel names (outside its
    limits, the highest and the lowest) and its caption says how many of how many; the table
    keeps every unit. (The limits made small here: a province has 800 units.)"""
    from analysis.charts import draw
    from survey_app.analyst import views

    monkeypatch.setattr(views, "MOST_CHARTED_UNITS", 2)
    monkeypatch.setattr(draw, "_FUNNEL_NAMED", 1)
    monkeypatch.setattr(draw, "_FUNNEL_MOST_NAMED", 2)
    answer(app, count=30, seed=11, HL="5")
    answer(app, unit=ORG.other_section, count=30, seed=12, HL="1")
    answer(app, unit=ORG.counter, count=30, seed=13)
    page = analyst.get("/analyst/units").get_data(as_text=True)
    assert "2 trong 3 đơn vị" in page
    chart = page[page.index("<svg"):page.index("</svg>")]
    assert "Phòng Lãnh sự" in chart and "Phòng Hợp tác quốc tế" in chart and "Quầy 1" not in chart
    table = page[page.index('id="units-table"'):]
    assert all(name in table for name in ("Phòng Lãnh sự", "Phòng Hợp tác quốc tế", "Quầy 1"))


def test_filters_are_kept_in_links_and_bad_filters_explained(app, analyst):
    page = analyst.get(f"/analyst/criteria?unit={ORG.section}&period=month").get_data(as_text=True)
    assert re.search(rf'href="/analyst/trend\?[^"]*unit={ORG.section}[^"]*period=month', page)
    bad = analyst.get("/analyst/?unit=NOPE&from=2024-13-01").get_data(as_text=True)
    assert "Không có đơn vị" in bad and "không hợp lệ" in bad


def test_new_response_is_seen_at_once(app, analyst):
    answer(app, count=3, seed=6)
    assert 'id="response-count">3<' in analyst.get("/analyst/").get_data(as_text=True)
    answer(app, count=1, seed=7)
    assert 'id="response-count">4<' in analyst.get("/analyst/").get_data(as_text=True)


def test_comments_are_searchable_paginated_and_escaped(app, analyst):
    answer(app, count=2, seed=8, comment="<script>alert(1)</script> ghế ngồi chờ")
    answer(app, count=30, seed=9, comment="Rất tốt")
    page = analyst.get("/analyst/comments").get_data(as_text=True)
    assert "32 góp ý" in page and "Trang 1 / 2" in page
    found = analyst.get("/analyst/comments?search=gh%E1%BA%BF").get_data(as_text=True)
    assert "2 góp ý" in found
    # Comments are ordered by day, then by their random ids: look for the two by search.
    assert "<script>alert(1)</script>" not in found and "&lt;script&gt;alert(1)&lt;/script&gt;" in found
    assert "Trang 2 / 2" in analyst.get("/analyst/comments?page=2").get_data(as_text=True)
    assert analyst.get("/analyst/comments?search=%25").status_code == 200


def test_downloads(app, analyst, runner):
    answer(app, count=31, seed=10)
    responses = analyst.get("/analyst/download/responses.csv")
    assert responses.status_code == 200 and responses.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(responses.data.decode("utf-8-sig"))))
    assert len(rows) == 31 and rows[0]["TC1"] in {"1", "2", "3", "4", "5", ""}
    assert analyst.get("/analyst/download/responses.xlsx").data[:2] == b"PK"
    indices = json.loads(analyst.get("/analyst/download/indices.json").data)
    assert indices["questionnaire"] == "sipas-2023" and indices["groups"][0]["keys"]["period"]
    assert analyst.get("/analyst/download/indices.csv").status_code == 200
    assert analyst.get("/analyst/download/indices.xlsx").data[:2] == b"PK"
    report = analyst.get("/analyst/download/report.html")
    assert report.status_code == 200 and "<svg" in report.get_data(as_text=True)
    assert analyst.get("/analyst/download/report.xlsx").data[:2] == b"PK"
    assert analyst.get("/analyst/download/report.pdf").status_code == 404


def test_response_rate_is_over_codes_whose_window_has_closed(app, analyst):
    """Open codes may still be answered: they are shown apart, not counted as non-responses."""
    import datetime as dt

    from sqlalchemy import select

    from survey_app.analyst import data
    from survey_app.extensions import db
    from survey_app.models import SurveyCode, utcnow
    from survey_app.services import codes

    answer(app, count=3, seed=11)          # answered, window closed below
    answer(app, count=1, seed=14)          # answered, window still open
    waiting = issue_codes(app, count=4)    # voided, expired, and two still open
    issue_codes(app, kind="counter", count=1)  # posters are not handed out one per dossier
    with app.app_context():
        answered = db.session.scalars(select(SurveyCode).filter_by(status="answered").order_by(SurveyCode.id)).all()
        for code in [*answered[:3], codes.find(waiting[1])]:
            code.expires_at = utcnow() - dt.timedelta(days=1)
        codes.void_codes([codes.find(waiting[0])], actor="test")
        db.session.commit()
    with app.test_request_context("/analyst/"):
        rate = data.response_rate(data.view())
    assert (rate.issued, rate.voided) == (8, 1)
    c = rate.codes
    assert (c.handed_out, c.answered, c.open, c.open_answered, c.closed) == (7, 4, 3, 1, 4)
    assert rate.rate == 75.0
    page = analyst.get("/analyst/").get_data(as_text=True)
    assert "(3 / 4 mã dùng một lần đã hết hạn trả lời); 3 mã còn hạn, 1 đã trả lời" in page


def test_overview_counts_responses_and_says_which_days_they_cover(app, analyst):
    """The response count is the number of responses (not an index's n), with its dates."""
    from survey_app.services.timekeeping import today

    answer(app, count=4, seed=15)
    answer(app, count=1, seed=16, **{c: "" for c in questionnaires.load("sipas-2023").answer_columns
                                     if c != "HL"})
    page = analyst.get("/analyst/").get_data(as_text=True)
    assert 'id="response-count">5<' in page
    assert re.search(r'id="kpi-overall".*n = <span class="n">4</span>', page, re.S)
    day = today().strftime("%d/%m/%Y")
    assert f"Số liệu từ {day} đến {day}" in page


def test_same_day_split_equals_an_analysis_of_the_single_use_rows(app, analyst, runner):
    from sqlalchemy import bindparam, text

    from survey_app.analyst import data
    from survey_app.extensions import db

    answer(app, count=40, seed=21)
    ids = bindparam("ids", expanding=True)
    with app.app_context():  # some answered later at home, some through a counter poster
        stored = db.session.scalars(text("SELECT id FROM responses ORDER BY id")).all()
        db.session.execute(text("UPDATE responses SET same_day = :f WHERE id IN :ids").bindparams(ids),
                           {"f": False, "ids": stored[:15]})
        db.session.execute(text("UPDATE responses SET same_day = NULL, channel = 'counter' WHERE id IN :ids")
                           .bindparams(ids), {"ids": stored[15:22]})
        db.session.commit()
    with app.test_request_context("/analyst/"):
        split = data.split(data.view(), "same_day", 1, 0)
    rows = exported(runner)
    single = rows[rows["same_day"].notna()]
    expected = {int(g.keys["same_day"]): g for g in
                analysis.analyze(single, questionnaires.load("sipas-2023"), by="same_day").groups}
    assert split["first"].n == expected[1].n == 18 and split["second"].n == expected[0].n == 15
    for level in ("general", "overall"):  # from the cell tallies: equal to rounding
        assert getattr(split["first"], level).value == pytest.approx(getattr(expected[1], level).value, rel=1e-12)
        assert getattr(split["second"], level).ci == pytest.approx(getattr(expected[0], level).ci, rel=1e-12)
    assert set(split["differences"]) == {"general", "overall"}


@pytest.mark.parametrize("count", [40, 10], ids=["enough-data", "flagged-small-cell"])
def test_plan_status_says_not_met_in_the_reports_words(app, analyst, tmp_path, count):
    """An index whose whole interval lies below the target is "Không đạt" (as in the plan
    report), flagged small cells included; the words come from the report's glossary."""
    from analysis.report.labels import label
    from analysis.targets import VERDICTS

    plan = tmp_path / "plan.toml"
    plan.write_text('[targets]\ngeneral = 85\noverall = 99.5\n', encoding="utf-8")
    app.config["SIPAS_PLAN_FILE"] = str(plan)
    answer(app, count=count, seed=12, HL="2")
    page = analyst.get("/analyst/").get_data(as_text=True)
    status = page.split("So với mục tiêu kế hoạch", 1)[1].split("</table>", 1)[0]
    general = status.split("Chỉ số SIPAS (câu hỏi chung)", 1)[1].split("</tr>", 1)[0]
    assert label("not_met", "vi") == "Không đạt" and "Không đạt" in general
    cells = re.findall(r'<td class="verdict[^"]*">([^<]*)</td>', status)
    assert cells and set(cells) <= {label(v, "vi") for v in VERDICTS} | {"–"}, cells


def test_priorities_name_every_quadrant_in_words(app, analyst):
    from analysis.priorities import QUADRANTS
    from analysis.report.labels import label

    answer(app, count=60, seed=13)
    page = analyst.get("/analyst/priorities").get_data(as_text=True)
    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    for code in QUADRANTS:
        assert f">{code}<" not in table
    shown = {label(code, "vi") for code in QUADRANTS if f">{label(code, 'vi')}<" in table}
    assert shown, "no quadrant named in Vietnamese"


def test_downloaded_plan_report_has_the_response_rate_of_sipas_report_db(app, analyst, runner):
    """The dashboard's plan report reads code issuance as `sipas report --db` does."""
    import datetime as dt

    from sqlalchemy import select

    from survey_app.analyst.data import EXAMPLE_PLAN
    from survey_app.extensions import db
    from survey_app.models import SurveyCode, utcnow
    from survey_app.services.timekeeping import today

    answer(app, count=31, seed=17)
    issue_codes(app, count=9)
    with app.app_context():
        for code in db.session.scalars(select(SurveyCode)):
            code.expires_at = utcnow() - dt.timedelta(minutes=1)
        db.session.commit()
    period = today().strftime("%Y-%m")
    web = analyst.get(f"/analyst/download/report.html?report_period={period}").get_data(as_text=True)
    cli = runner.invoke(["report", "--db", "--plan", str(EXAMPLE_PLAN), "--period", period]).output
    fact = "Tỷ lệ phản hồi (trên mã đã hết hạn trả lời): 77,5 %"  # 31 of 40
    assert fact in web and fact in cli
    assert "Không có số liệu mã phát ra" not in web


def test_the_dashboard_says_why_an_estimate_is_flagged(app, analyst):
    answer(app, count=12, seed=5)
    page = analyst.get("/analyst/criteria").get_data(as_text=True)
    assert '<span class="flag">Không đủ dữ liệu</span> <span class="why">(n = ' in page
    assert "dưới 30 người trả lời" in page and "chưa đủ dữ liệu" not in page
