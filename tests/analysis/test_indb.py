"""The analysis in the database gives the numbers of the in-memory analysis of the same
responses (to 1e-9), on SQLite and on PostgreSQL, for random data and every grouping the
dashboard and the CLI use."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
import sqlalchemy as sa

import analysis
import questionnaires
from analysis.indb import GROUP_COLUMNS, analyze_database
from survey_app.extensions import db
from survey_app.models import Answer, Procedure, Response, Unit

Q = questionnaires.load("sipas-2023")


def seed_random(app, count: int, seed: int) -> str:
    """``count`` random responses in every unit, some without a procedure, same-day flag or
    answers, over two years; returns the database URL."""
    rng = random.Random(seed)
    with app.app_context():
        from survey_app.database import questionnaire_version

        version_id = questionnaire_version("sipas-2023").id
        units = db.session.scalars(sa.select(Unit.id)).all()
        procedures = [*db.session.scalars(sa.select(Procedure.id)).all(), None]
        responses, answers = [], []
        for i in range(count):
            rid = f"r{seed}x{i:08d}"
            responses.append({
                "id": rid, "questionnaire_version_id": version_id, "unit_id": rng.choice(units),
                "procedure_id": rng.choice(procedures), "channel": rng.choice(["single", "counter"]),
                "submitted_on": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(730)),
                "same_day": rng.choice([True, False, None]), "burst": False,
                "gender": rng.choice(["nam", "nu", None]), "feedback_given": rng.choice(["co", "khong"]),
            })
            skew = rng.random()  # respondents differ, so criteria correlate
            for c in Q.criteria:
                if rng.random() < 0.12:
                    continue
                top = c.scale.max
                answers.append({"response_id": rid, "item": c.code,
                                "value": top if rng.random() < skew else rng.randint(1, top)})
            if rng.random() < 0.9:
                answers.append({"response_id": rid, "item": "HL", "value": rng.randint(1, 5)})
            for e in Q.expectations:
                if rng.random() < 0.7:
                    answers.append({"response_id": rid, "item": e.code, "value": rng.randint(1, e.scale.max)})
        db.session.execute(sa.insert(Response.__table__), responses)
        db.session.execute(sa.insert(Answer.__table__), answers)
        db.session.commit()
        return db.engine.url.render_as_string(hide_password=False)


def assert_same(a, b, path="") -> None:
    """Equal structure and text; numbers equal to 1e-9 (relative above 1)."""
    if isinstance(a, dict):
        assert set(a) == set(b), (path, set(a) ^ set(b))
        for key in a:
            assert_same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


GROUPINGS = [
    {},
    {"by": "unit"},
    {"by": "unit", "period": "quarter"},
    {"by": ["procedure", "same_day"], "period": "month"},
    {"period": "par"},
    {"by": "channel", "period": "year", "date_from": "2024-03-10", "date_to": "2025-08-14"},
    {"by": ["gender", "questionnaire_version"], "period": "half", "ci_method": "jeffreys", "confidence": 0.9},
]


@pytest.fixture
def seeded(backend_app):
    return seed_random(backend_app, 900, seed=5)


@pytest.mark.parametrize("options", GROUPINGS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "all")
def test_database_analysis_equals_the_in_memory_analysis(seeded, options):
    options = dict(options)
    window = {k: options[k] for k in ("date_from", "date_to") if k in options}
    frame = analysis.load_database(seeded, questionnaire="sipas-2023", **window)
    expected = analysis.analyze(frame, Q, **options).to_json()
    got = analyze_database(seeded, "sipas-2023", **options).to_json()
    assert len(got["groups"]) > 1 or not (options.get("by") or options.get("period"))
    assert_same(got, expected)


def test_a_unit_and_its_descendants(backend_app):
    url = seed_random(backend_app, 300, seed=8)
    frame = analysis.load_database(url, questionnaire="sipas-2023", units=["DEPT"])
    sections = analysis.load_database(url, questionnaire="sipas-2023", units=["SEC"], descendants=False)
    assert_same(analyze_database(url, units=["DEPT"], by="unit").to_json(),
                analysis.analyze(frame, Q, by="unit").to_json())
    assert_same(analyze_database(url, units=["SEC"], descendants=False).to_json(),
                analysis.analyze(sections, Q).to_json())


def test_the_questionnaire_is_the_one_answered(app):
    url = seed_random(app, 40, seed=2)
    result = analyze_database(url)
    assert result.questionnaire.id == "sipas-2023"
    assert result.groups[0].n > 0


def test_no_responses_gives_an_empty_group_like_the_frame(app):
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    frame = analysis.load_database(url, questionnaire="sipas-2023")
    assert_same(analyze_database(url, "sipas-2023").to_json(), analysis.analyze(frame, Q).to_json())
    with pytest.raises(ValueError, match="name the questionnaire"):
        analyze_database(url)


def test_columns_it_cannot_group_by_are_named(app):
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    with pytest.raises(ValueError, match="cannot be grouped in the database.*unit"):
        analyze_database(url, "sipas-2023", by="TC1")
    assert "unit" in GROUP_COLUMNS and "procedure" in GROUP_COLUMNS


@pytest.mark.parametrize("equal,not_blank", [
    ({"channel": "counter"}, ()),
    ({"procedure": "LS01"}, ()),
    ({"procedure": "no-such-code"}, ()),
    ({"gender": "nu", "channel": "single"}, ("same_day",)),
])
def test_selecting_by_column_values_equals_filtering_the_frame(seeded, equal, not_blank):
    frame = analysis.load_database(seeded, questionnaire="sipas-2023")
    with_procedures = frame.dropna(subset=["procedure"])
    code = str(with_procedures["procedure"].iloc[0]) if len(with_procedures) else "none"
    equal = {k: (code if v == "LS01" else v) for k, v in equal.items()}
    rows = frame
    for column, value in equal.items():
        rows = rows[rows[column] == value]
    for column in not_blank:
        rows = rows[rows[column].notna()]
    got = analyze_database(seeded, "sipas-2023", by="unit", period="quarter", equal=equal, not_blank=not_blank)
    assert_same(got.to_json(), analysis.analyze(rows, Q, by="unit", period="quarter").to_json())
    assert sum(g.n for g in got.groups) <= len(rows)


def test_unknown_selections_are_refused_in_words(app):
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    with pytest.raises(ValueError, match="cannot be selected by 'TC1'"):
        analyze_database(url, "sipas-2023", equal={"TC1": "5"})
    with pytest.raises(ValueError, match="cannot be selected by 'HL'"):
        analyze_database(url, "sipas-2023", not_blank=["HL"])


@pytest.mark.parametrize("options,counted", [
    ({"by": "unit", "period": "quarter"}, True),
    ({"by": ["procedure", "channel"], "equal": {"channel": "single"}}, True),
    ({"by": "gender"}, False),
    ({"by": "unit", "not_blank": ["same_day"]}, False),
])
def test_levels_are_counted_from_answer_counts_when_the_keys_allow(seeded, options, counted):
    """Answers are read once (the composites' pass) when answer_counts holds the grouping."""
    statements: list[str] = []
    engine = sa.create_engine(seeded)
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: statements.append(statement))
    analyze_database(engine, "sipas-2023", **options)
    engine.dispose()
    reads_answers = [s for s in statements if " answers a " in s]
    reads_counts = [s for s in statements if "answer_counts" in s]
    assert len(reads_answers) == (1 if counted else 2)
    assert bool(reads_counts) == counted


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_random_data_and_groupings_agree(app, seed):
    """Property test: small random data (some groups with one respondent or none satisfied)
    and a grouping drawn at random; every number of the JSON agrees to 1e-9."""
    rng = random.Random(seed)
    url = seed_random(app, rng.choice([3, 40, 150]), seed=seed)
    options = {"by": rng.sample(["unit", "procedure", "channel", "same_day", "gender"], rng.randint(0, 2)),
               "period": rng.choice([None, "month", "quarter", "par", "year"]),
               "ci_method": rng.choice(["wilson", "jeffreys", "clopper-pearson", "agresti-coull", "wald"]),
               "small_n": rng.choice([0, 30])}
    frame = analysis.load_database(url, questionnaire="sipas-2023")
    assert_same(analyze_database(url, "sipas-2023", **options).to_json(),
                analysis.analyze(frame, Q, **options).to_json())
