"""Nonresponse weights from the code frame: the weights on a hand-computed example, pooling of
thin classes, and the same weighted analysis in the database as in memory (to 1e-9)."""

from __future__ import annotations

import datetime as dt
import json
import random

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import analysis
import questionnaires
from analysis.code_frame import WEIGHT_COLUMN, FrameWeights, weigh_frame
from analysis.indb import analyze_database
from survey_app.extensions import db
from survey_app.models import Procedure, SurveyCode, Unit

from .test_indb import assert_same, seed_random

Q = questionnaires.load("sipas-2023")


def issuance(rows):
    """An issuance frame as ``load_issuance`` gives it, from (unit, procedure, day, issued,
    answered, open, open_answered)."""
    frame = pd.DataFrame(rows, columns=["unit", "procedure", "day", "issued", "answered", "open", "open_answered"])
    frame["day"] = pd.to_datetime(frame["day"])
    frame["kind"] = "single"
    return frame


def test_weight_is_issued_over_answered_of_the_closed_codes_in_the_class():
    w = FrameWeights.from_issuance(issuance([
        ("A", "P1", "2025-01-03", 40, 20, 0, 0),    # A×P1×Jan: 40 issued, 20 answered → 2
        ("A", "P1", "2025-01-20", 10, 5, 10, 5),    # still open: left out of the rate
        ("A", "P2", "2025-01-04", 30, 10, 0, 0),    # A×P2×Jan: 3
        ("B", None, "2025-02-01", 50, 25, 0, 0),    # B×(none)×Feb: 2
    ]), min_answered=10)
    got = w.weights(pd.Series(["A", "A", "B", "A"]), pd.Series(["P1", "P2", None, "P1"]),
                    pd.Series(pd.to_datetime(["2025-01-05", "2025-01-31", "2025-02-27", "2025-01-21"])))
    assert got.tolist() == [2.0, 3.0, 2.0, 2.0]


def test_thin_classes_pool_with_the_unit_month_then_the_unit_then_everything():
    w = FrameWeights.from_issuance(issuance([
        ("A", "P1", "2025-01-03", 12, 4, 0, 0),     # 4 answers < 10: pooled with A×Jan
        ("A", "P2", "2025-01-03", 18, 8, 0, 0),     # A×Jan: 30 issued, 12 answered → 2.5
        ("A", "P1", "2025-02-03", 10, 2, 0, 0),     # A×Feb: 2 answers; A: 40/14
        ("B", "P1", "2025-02-03", 20, 5, 0, 0),     # B alone too thin: everything 60/19
    ]), min_answered=10)
    table = w.classes(pd.Series(["A", "A", "B", "C"]), pd.Series(["P1", "P9", "P1", "P1"]),
                      pd.Series(["2025-01", "2025-02", "2025-02", "2025-03"]))
    assert table["weight"].tolist() == pytest.approx([30 / 12, 40 / 14, 60 / 19, 60 / 19])
    assert table["pooled_as"].tolist() == ["đơn vị × tháng", "đơn vị", "toàn bộ", "toàn bộ"]


def test_no_answered_closed_code_is_a_clear_error():
    with pytest.raises(ValueError, match="no single-use code issued in the period was answered"):
        FrameWeights.from_issuance(issuance([("A", "P1", "2025-01-03", 5, 3, 5, 3)]))


def test_weigh_frame_keeps_single_use_answers_and_counts_the_rest():
    w = FrameWeights.from_issuance(issuance([("A", "P1", "2025-01-03", 40, 20, 0, 0)]))
    frame = pd.DataFrame({"unit": ["A", "A", "A"], "procedure": ["P1", "P1", None],
                          "channel": ["single", "counter", "single"],
                          "submitted_on": pd.to_datetime(["2025-01-04", "2025-01-04", "2025-01-09"])})
    kept, left_out = weigh_frame(frame, w)
    assert left_out == 1
    assert kept[WEIGHT_COLUMN].tolist() == [2.0, 2.0]  # the blank procedure pools with A×Jan


def seed_codes(app, seed: int) -> None:
    """Single-use codes for the random responses of ``seed_random``: per unit, procedure and
    month, more codes than responses, a varying share of them answered."""
    rng = random.Random(seed)
    with app.app_context():
        from survey_app.database import questionnaire_version

        version_id = questionnaire_version("sipas-2023").id
        units = db.session.scalars(sa.select(Unit.id)).all()
        procedures = [*db.session.scalars(sa.select(Procedure.id)).all(), None]
        rows = []
        for unit in units:
            for procedure in procedures:
                for month in range(24):
                    day = dt.datetime(2024 + month // 12, month % 12 + 1, 10, 3)
                    for _ in range(rng.randint(0, 14)):
                        rows.append({
                            "code_hash": f"h{seed}-{len(rows)}", "unit_id": unit, "procedure_id": procedure,
                            "questionnaire_version_id": version_id, "kind": "single",
                            "status": rng.choice(["answered", "issued", "issued", "voided"]),
                            "issued_at": day, "expires_at": day + dt.timedelta(days=7)})
        db.session.execute(sa.insert(SurveyCode.__table__), rows)
        db.session.commit()


GROUPINGS = [
    {},
    {"by": "unit", "period": "quarter"},
    {"by": ["procedure", "same_day"], "period": "month", "ci_method": "jeffreys"},
    {"period": "par"},
    {"by": "gender", "date_from": "2024-03-10", "date_to": "2025-08-14", "confidence": 0.9},
]


@pytest.mark.parametrize("options", GROUPINGS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "all")
def test_frame_weighted_analysis_in_the_database_equals_the_in_memory_design(backend_app, options):
    url = seed_random(backend_app, 700, seed=11)
    seed_codes(backend_app, seed=11)
    window = {k: options[k] for k in ("date_from", "date_to") if k in options}
    weights = FrameWeights.from_issuance(analysis.load_issuance(url, questionnaire="sipas-2023", **window),
                                         min_answered=3)
    frame, left_out = weigh_frame(analysis.load_database(url, questionnaire="sipas-2023", **window), weights)
    assert left_out > 0 and len(np.unique(frame[WEIGHT_COLUMN])) > 5
    expected = analysis.analyze(frame, Q, weight=WEIGHT_COLUMN, **options).to_json()
    got = analyze_database(url, "sipas-2023", frame_weights=weights, **options).to_json()
    assert got["design"] == {"weight": WEIGHT_COLUMN, "strata": None, "cluster": None, "df": len(frame) - 1}
    assert_same(got, expected)


def test_frame_weights_refuse_poster_answers(app):
    url = seed_random(app, 60, seed=3)
    seed_codes(app, seed=3)
    weights = FrameWeights.from_issuance(analysis.load_issuance(url, questionnaire="sipas-2023"), min_answered=1)
    with pytest.raises(ValueError, match="only single-use answers have a code frame"):
        analyze_database(url, "sipas-2023", frame_weights=weights, equal={"channel": "counter"})


def test_sipas_analyze_frame_weights_in_the_database_and_from_rows(app, runner):
    url = seed_random(app, 300, seed=4)
    seed_codes(app, seed=4)
    weights = FrameWeights.from_issuance(analysis.load_issuance(url, questionnaire="sipas-2023"))
    frame, _ = weigh_frame(analysis.load_database(url, questionnaire="sipas-2023"), weights)
    expected = analysis.analyze(frame, Q, weight=WEIGHT_COLUMN, by=("unit",)).to_json()
    for extra in ([], ["--compare", "units"]):  # in the database; from the rows
        result = runner.invoke(["analyze", "--db", "--frame-weights", "--by", "unit", "--format", "json", *extra])
        assert result.exit_code == 0, result.output
        assert "phiếu qua áp phích hoặc máy tính bảng tại quầy không có khung mã" in result.stderr
        got = json.loads(result.stdout)
        got.pop("comparisons", None)
        assert_same(got, expected)
    refused = runner.invoke(["analyze", "--db", "--frame-weights", "--weight", "w"])
    assert refused.exit_code == 2 and "chỉ dùng một trong hai: --weight hoặc --frame-weights" in refused.output
