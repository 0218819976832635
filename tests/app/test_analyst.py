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
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "32 góp ý" in page and "Trang 1 / 2" in page
    found = analyst.get("/analyst/comments?search=gh%E1%BA%BF").get_data(as_text=True)
    assert "2 góp ý" in found
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


def test_response_rate_counts_issued_answered_voided_and_expired(app, analyst):
    import datetime as dt

    from survey_app.analyst import data
    from survey_app.extensions import db
    from survey_app.models import utcnow
    from survey_app.services import codes

    answer(app, count=3, seed=11)
    waiting = issue_codes(app, count=4)
    issue_codes(app, kind="counter", count=1)  # posters are not handed out one per dossier
    with app.app_context():
        codes.void_codes([codes.find(waiting[0])], actor="test")
        codes.find(waiting[1]).expires_at = utcnow() - dt.timedelta(days=1)
        db.session.commit()
    with app.test_request_context("/analyst/"):
        rate = data.response_rate(data.view())
    assert (rate.issued, rate.answered, rate.voided, rate.expired) == (7, 3, 1, 1)
    assert rate.handed_out == 6 and rate.rate == 50.0
    assert "(3 / 6 mã dùng một lần đã phát)" in analyst.get("/analyst/").get_data(as_text=True)


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
        split = data.same_day_split(data.view())
    rows = exported(runner)
    single = rows[rows["same_day"].notna()]
    expected = {int(g.keys["same_day"]): g for g in
                analysis.analyze(single, questionnaires.load("sipas-2023"), by="same_day").groups}
    assert split["today"].n == expected[1].n == 18 and split["later"].n == expected[0].n == 15
    for level in ("general", "overall"):
        assert getattr(split["today"], level).value == getattr(expected[1], level).value
        assert getattr(split["later"], level).ci == getattr(expected[0], level).ci
    assert set(split["differences"]) == {"general", "overall"}
