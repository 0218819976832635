"""The requests that used to overflow (OverflowError, 500): ids past BIGINT, absurd page
numbers, dates at the ends of the calendar, huge numbers in JSON. Each now has its exact
answer: 404 for an id no row can have, 400 with a sentence that says what to send instead.
test_route_sweep.py tries the same values on every route; this file pins the answers."""

from __future__ import annotations

import json

import pytest

from survey_app.params import DAY_OUT_OF_RANGE, MAX_PAGE
from tests.security.hostile import HUGE, signed_in
from tests.support import store_random_answers

PAGE_WORDS = f"Số trang phải là số nguyên từ 1 đến {MAX_PAGE}"
RANGE_WORDS = "Ngày phải trong khoảng 2000-01-01 đến 2100-12-31"


@pytest.mark.parametrize(("who", "url", "words"), [
    ("analyst", f"/analyst/comments?page={HUGE}", PAGE_WORDS),
    ("analyst", f"/analyst/comments?page={2**63 - 1}", PAGE_WORDS),
    ("analyst", f"/analyst/comments?page={MAX_PAGE + 1}", PAGE_WORDS),
    ("analyst", "/analyst/comments?page=0", PAGE_WORDS),
    ("admin", f"/admin/procedures?page={HUGE}", PAGE_WORDS),
    ("admin", f"/admin/audit?page={HUGE}", PAGE_WORDS),
    ("admin", "/admin/audit?page=" + "9" * 5000, PAGE_WORDS),
    ("analyst", "/analyst/?from=0001-01-01", RANGE_WORDS),
    ("analyst", "/analyst/?to=9999-12-31", RANGE_WORDS),
    ("admin", "/analyst/trend?from=0001-01-01&to=9999-12-31", RANGE_WORDS),
    ("analyst", "/analyst/comments?from=1999-12-31", RANGE_WORDS),
    ("analyst", "/analyst/download/responses.csv?to=9999-12-31", RANGE_WORDS),
    ("analyst", "/analyst/download/indices.json?from=0001-01-01", RANGE_WORDS),
    ("analyst", "/analyst/download/report.html?from=0001-01-01", RANGE_WORDS),
    ("staff", "/staff/rates?from=0001-01-01&to=9999-12-31", RANGE_WORDS),
    ("analyst", "/staff/rates?to=9999-12-31&format=csv", RANGE_WORDS),
    ("admin", "/admin/audit?date_from=0001-01-01", RANGE_WORDS),
    ("admin", "/admin/audit?date_to=9999-12-31", RANGE_WORDS),
])
def test_absurd_pages_and_dates_are_400_with_a_sentence(app, who, url, words):
    store_random_answers(app, count=2, comment="Góp ý thử.")
    client, _ = signed_in(app, who)
    response = client.get(url)
    assert response.status_code == 400, (url, response.status_code)
    assert response.mimetype == "text/html"  # the page that says why, never a file without the filter
    assert words in response.get_data(as_text=True)


def test_the_audit_csv_with_an_absurd_date_goes_back_to_the_filter(app):
    client, _ = signed_in(app, "admin")
    response = client.get("/admin/audit.csv?date_to=9999-12-31")
    assert response.status_code == 302 and "/admin/audit?" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 400 and RANGE_WORDS in page.get_data(as_text=True)


@pytest.mark.parametrize(("who", "url"), [
    ("analyst", "/analyst/?from=2000-01-01&to=2100-12-31"),
    ("analyst", f"/analyst/comments?from=2000-01-01&to=2100-12-31&page={MAX_PAGE}"),
    ("staff", "/staff/rates?from=2000-01-01&to=2100-12-31&period=day"),
    ("admin", "/admin/audit?date_from=2000-01-01&date_to=2100-12-31"),
    ("admin", f"/admin/procedures?page={MAX_PAGE}"),
])
def test_the_ends_of_the_ranges_are_accepted(app, who, url):
    store_random_answers(app, count=2)
    client, _ = signed_in(app, who)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert "không hợp lệ" not in response.get_data(as_text=True)


@pytest.mark.parametrize("number", [str(2**63), str(2**64), HUGE, "9" * 5000])
@pytest.mark.parametrize(("who", "template"), [
    ("staff", "/staff/slip/{}"), ("staff", "/staff/slip/{}.pdf"), ("staff", "/staff/batches/{}"),
    ("admin", "/staff/batches/{}.pdf"), ("admin", "/admin/users/{}"), ("admin", "/admin/units/{}"),
    ("admin", "/admin/procedures/{}"), ("anonymous", "/staff/slip/{}"),
])
def test_ids_no_row_can_have_are_404_for_everyone(app, who, template, number):
    client, _ = signed_in(app, who)
    assert client.get(template.format(number)).status_code == 404


def test_the_largest_possible_id_is_still_an_ordinary_404(app):
    client, _ = signed_in(app, "staff")
    assert client.get(f"/staff/slip/{2**63 - 1}").status_code == 404
    assert client.get("/staff/batches/" + "0" * 40 + "999").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"unit": "SEC", "questionnaire": f"x@{HUGE}"}, "questionnaire"),
    ({"unit": "SEC", "questionnaire": f"sipas-2023@{HUGE}"}, "questionnaire"),
    ({"unit": "SEC", "questionnaire": f"sipas-2023@{2**63}"}, "questionnaire"),
    ({"unit": int(HUGE)}, "unit"),
    ('{"unit": "SEC", "procedure": ' + "9" * 5000 + "}", None),
])
def test_huge_numbers_in_the_api_json_are_400_in_the_api_error_shape(app, world, body, field):
    response = app.test_client().post("/api/v1/codes", data=body if isinstance(body, str) else json.dumps(body),
                                      content_type="application/json",
                                      headers={"Authorization": f"Bearer {world.sec_key}"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["field"] == field and error["message"]


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31"])
def test_indices_api_refuses_dates_out_of_range(app, world, query):
    response = app.test_client().get(f"/api/v1/indices?{query}",
                                     headers={"Authorization": f"Bearer {world.indices_key}"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == query.partition("=")[0] and DAY_OUT_OF_RANGE in error["message"]
