"""The dashboard's cell tallies in the database (migration 0006): written by the seal,
read only while they still hold the responses of their days, and giving the numbers of the
rows (to 1e-9) on SQLite and PostgreSQL — so a fresh process reads the cells and the days
since the seal, not every response."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import analysis
import questionnaires
from analysis.cell_tallies import analyze_cells
from survey_app.extensions import db
from survey_app.models import AuditEntry, CellTally, Response, TallySeal
from survey_app.services import cell_store, dataset
from tests.analysis.test_indb import assert_same, seed_random
from tests.support import Auth, cli_runner

Q = questionnaires.load("sipas-2023")
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2026, 1, 31)  # around seed_random's two years


@pytest.fixture
def seeded(backend_app):
    seed_random(backend_app, 700, seed=11)
    cell_store.memo.clear()
    yield backend_app
    cell_store.memo.clear()


def rows(app, **window):
    with app.app_context():
        return analysis.load_database(db.engine, questionnaire="sipas-2023", **window)


def cells(app, window=(None, None)):
    with app.app_context():
        return cell_store.cells_for(db.engine, "sipas-2023", window=window)


def refresh(app, through):
    with app.app_context():
        return cell_store.refresh(db.engine, "sipas-2023", through)


CASES = [
    ({}, {}),
    ({"by": "unit", "period": "quarter"}, {}),
    ({"by": ["channel", "same_day"], "period": "par"}, {}),
    ({"by": "unit", "period": "month"}, {"date_from": dt.date(2024, 3, 10), "date_to": dt.date(2025, 2, 14)}),
    ({"period": "year"}, {"date_from": dt.date(2024, 7, 15), "date_to": dt.date(2025, 10, 3)}),
]


def assert_cells_give_rows(app):
    everything = rows(app)
    for options, window in CASES:
        found = cells(app, (window.get("date_from"), window.get("date_to")))
        assert found.n == len(everything)
        assert_same(analyze_cells(found, Q, **options, **window).to_json(),
                    analysis.analyze(everything, Q, **options, **window).to_json())


def test_cells_give_the_rows_numbers_unsealed_half_sealed_and_sealed(seeded):
    assert_cells_give_rows(seeded)  # nothing stored: every half-month from its rows
    done = refresh(seeded, dt.date(2024, 11, 20))
    assert done.halves[0] == FIRST and done.halves[-1] == dt.date(2024, 11, 15)
    assert_cells_give_rows(seeded)  # stored up to a day inside a half, the rest from rows
    refresh(seeded, LAST)
    assert_cells_give_rows(seeded)
    with seeded.app_context():
        stored = db.session.scalar(sa.select(sa.func.sum(CellTally.n)))
        seal = db.session.get(TallySeal, "sipas-2023")
    assert stored == len(rows(seeded)) and seal.through == LAST


def test_a_cell_that_no_longer_holds_its_days_is_read_from_rows_and_rebuilt(seeded):
    refresh(seeded, LAST)
    assert refresh(seeded, LAST).halves == ()  # nothing changed: nothing rewritten
    with seeded.app_context():  # a response moved into a sealed half-month (a restore, a fix)
        moved = db.session.scalars(sa.select(Response).where(Response.submitted_on >= dt.date(2025, 6, 1))).first()
        before = moved.submitted_on
        moved.submitted_on = dt.date(2024, 5, 20)
        db.session.commit()
    assert_cells_give_rows(seeded)
    assert set(refresh(seeded, LAST).halves) == {dt.date(2024, 5, 15), before.replace(day=1 if before.day < 15 else 15)}


def test_damaged_or_foreign_cells_are_never_read(seeded):
    refresh(seeded, LAST)
    with seeded.app_context():
        db.session.execute(sa.update(CellTally).values(tallies=b"not tallies"))
        db.session.commit()
    cell_store.memo.clear()
    assert_cells_give_rows(seeded)  # logged, read from rows
    with seeded.app_context():
        db.session.execute(sa.update(TallySeal).values(layout="another layout"))
        db.session.commit()
    assert_cells_give_rows(seeded)
    assert len(refresh(seeded, LAST).halves) == 48  # a questionnaire changed: every half rebuilt


def test_the_seal_command_brings_cells_to_yesterday(seeded):
    result = cli_runner(seeded).invoke(["seal"])
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        seal = db.session.get(TallySeal, "sipas-2023")
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "database.seal")).one()
        from survey_app.services.timekeeping import today

        assert seal.through == today() - dt.timedelta(days=1)
    assert '"tally_halves": 48' in entry.details


@pytest.fixture
def load_calls(monkeypatch):
    calls = []
    real = analysis.load_database

    def recording(*args, **kwargs):
        calls.append((kwargs.get("date_from"), kwargs.get("date_to")))
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "load_database", recording)
    dataset.cache.clear()
    yield calls
    dataset.cache.clear()


def test_a_fresh_dashboard_reads_the_cells_and_only_the_days_since(seeded, load_calls):
    refresh(seeded, dt.date(2025, 12, 20))
    dataset.cache.clear()
    load_calls.clear()
    client = seeded.test_client()
    Auth(client).login("analyst")
    for page in ("/analyst/", "/analyst/criteria", "/analyst/trend?period=month", "/analyst/units",
                 "/analyst/?unit=SEC&from=2024-02-03&to=2025-03-31&channel=single"):
        assert client.get(page).status_code == 200, page
    assert (None, None) not in load_calls  # never every response
    assert all(first is not None and (first >= dt.date(2025, 12, 21) or (last - first).days < 16)
               for first, last in load_calls), load_calls
    with seeded.test_request_context("/analyst/?unit=SEC&from=2024-02-03&to=2025-03-31&channel=single&period=month"):
        from survey_app.analyst import data as D

        v = D.view()
        got = D.analyze(v, by="unit", period="month")
        chosen = analysis.load_database(db.engine, questionnaire="sipas-2023", units="SEC",
                                        date_from="2024-02-03", date_to="2025-03-31")
        chosen = chosen[chosen["channel"] == "single"]
        assert_same(got.to_json(), analysis.analyze(chosen, Q, by="unit", period="month").to_json())
        covered = D.coverage(v)
    assert (covered.responses, covered.first, covered.last) == (
        len(chosen), chosen["submitted_on"].min().date(), chosen["submitted_on"].max().date())


def test_the_api_from_cells_equals_the_api_from_rows(seeded, load_calls):
    refresh(seeded, LAST)
    load_calls.clear()
    client = seeded.test_client()
    Auth(client).login("analyst")
    query = "/api/v1/indices?by=unit,same_day&period=quarter&from=2024-02-10&to=2025-05-14&unit=DEPT"
    from_cells = client.get(query).get_json()
    assert (None, None) not in load_calls
    assert load_calls == [(dt.date(2024, 2, 1), dt.date(2024, 2, 14))]  # only the half-month the window cuts
    from_rows = client.get(query + "&bootstrap=20&seed=1")  # a bootstrap needs the rows
    assert from_rows.status_code == 200 and (None, None) in load_calls
    assert [g["keys"] for g in from_rows.get_json()["groups"]] == [g["keys"] for g in from_cells["groups"]]
    everything = rows(seeded)
    expected = analysis.analyze(everything, Q, by=("unit", "same_day"), period="quarter",
                                date_from="2024-02-10", date_to="2025-05-14").to_json()
    assert_same(from_cells, expected)
    assert len(from_cells["groups"]) > 10


def test_flagged_poster_answers_can_be_left_out(app):
    """The dashboard's "Phiếu gắn cờ" filter: flagged poster answers in (from the cells) or
    out (from the rows, which carry the flag), the coverage counted the same way."""
    from survey_app.analyst import data as D
    from tests.support import store_random_answers

    store_random_answers(app, count=4, seed=3)
    with app.app_context():
        db.session.execute(sa.update(Response).where(Response.id.in_(
            sa.select(Response.id).order_by(Response.id).limit(1).scalar_subquery())).values(burst=True))
        db.session.commit()
    Auth(app.test_client()).login("analyst")
    for query, expected in (("", 4), ("?flagged=exclude", 3)):
        with app.test_request_context("/analyst/" + query):
            v = D.view()
            assert D.from_cells(v, {}) == (not query)
            assert D.analyze(v).groups[0].n == D.coverage(v).responses == expected
    client = app.test_client()
    Auth(client).login("analyst")
    page = client.get("/analyst/?flagged=exclude").get_data(as_text=True)
    assert '<option value="exclude" selected>Không tính phiếu gắn cờ</option>' in page
