"""analysis.targets: verdicts, the plan file and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import questionnaires
from analysis.targets import (
    INCONCLUSIVE,
    MET,
    NOT_MET,
    PlanError,
    Targets,
    check_targets,
    load_plan,
    parse_plan,
    verdict,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "analysis" / "report" / "example_plan.toml"
SIPAS = questionnaires.load("sipas-2023")


@pytest.mark.parametrize(
    "ci,target,expected",
    [((80, 90), 80, MET), ((80.1, 90), 80, MET), ((70, 79.9), 80, NOT_MET),
     ((70, 80), 80, INCONCLUSIVE), ((79.9, 85), 80, INCONCLUSIVE), ((0, 100), 50, INCONCLUSIVE)],
)
def test_verdict(ci, target, expected):
    assert verdict(ci=ci, target=target) == expected


def test_verdict_missing_and_bad():
    assert verdict(ci=(float("nan"), float("nan")), target=80) is None
    assert verdict(ci=None, target=80) is None
    with pytest.raises(ValueError, match="^ci"):
        verdict(ci=(90, 80), target=80)
    with pytest.raises(ValueError, match="^target"):
        verdict(ci=(80, 90), target=float("nan"))


PLAN = """
title = "Kế hoạch 2024"
organisation = "Sở Demo"
questionnaire = "sipas-2023@1"
baseline = "2023"

[targets]
general = 85
overall = 80
elements = { TC = 80, CC = 85 }
criteria = { CC1 = 90 }

[units.MC]
name = "Bộ phận Một cửa"
general = 88
elements = { CC = 90 }
"""


def test_parse_plan_and_unit_override():
    plan = parse_plan(PLAN, source="plan.toml").validate(SIPAS)
    assert plan.baseline == "2023" and plan.title == "Kế hoạch 2024"
    mc = plan.targets_for("MC")
    assert mc.general == 88 and mc.overall == 80
    assert dict(mc.elements) == {"TC": 80, "CC": 90}
    assert plan.targets_for("OTHER").general == 85
    assert plan.targets_for(None) is plan.targets
    assert plan.unit_name("MC") == "Bộ phận Một cửa" and plan.unit_name("X") == "X"
    assert plan.to_json()["units"]["MC"]["general"] == 88


def test_baseline_written_as_a_number():
    assert parse_plan("baseline = 2023\n[targets]\noverall = 80\n").baseline == "2023"


@pytest.mark.parametrize(
    "text,key,words",
    [
        ("[targets]\noveral = 80\n", "targets.overal", "unknown key"),
        ("titel = 'x'\n[targets]\noverall = 80\n", "titel", "unknown key"),
        ("[targets]\noverall = 0.8\n", "targets.overall", "write 80 for 80 %"),
        ("[targets]\noverall = 180\n", "targets.overall", "at most 100"),
        ("[targets]\noverall = 'high'\n", "targets.overall", "must be a number"),
        ("[targets]\nelements = { TC = 101 }\n", "targets.elements.TC", "at most 100"),
        ("baseline = '2023-Q5'\n[targets]\noverall = 80\n", "baseline", "not a period"),
        ("title = 'x'\n", "[targets]", "is missing"),
        ("[targets]\noverall = 80\n[units.A]\nfoo = 1\n", "units.A.foo", "unknown key"),
        ("[targets\n", "", "not valid TOML"),
        ("confidence = 95\n[targets]\noverall = 80\n", "confidence", "between 0 and 1"),
    ],
)
def test_plan_errors_name_file_and_key(text, key, words):
    with pytest.raises(PlanError) as info:
        parse_plan(text, source="plan.toml")
    message = str(info.value)
    assert message.startswith(f"plan.toml: {key}" if key else "plan.toml")
    assert words in message


@pytest.mark.parametrize(
    "text,key",
    [("[targets]\nelements = { XX = 80 }\n", "targets.elements.XX"),
     ("[targets]\ncriteria = { TC9 = 80 }\n", "targets.criteria.TC9"),
     ("[targets]\noverall = 80\n[units.A]\ncriteria = { ZZ1 = 80 }\n", "units.A.criteria.ZZ1"),
     ("questionnaire = 'tt01-counter'\n[targets]\noverall = 80\n", "questionnaire")],
)
def test_plan_codes_checked_against_questionnaire(text, key):
    with pytest.raises(PlanError, match=f"^plan.toml: {key}"):
        parse_plan(text, source="plan.toml").validate(SIPAS)


def test_general_target_needs_general_question():
    class NoHL:
        id, version, elements, criteria, general = "x", 1, (), (), None

    with pytest.raises(PlanError, match="no general question"):
        parse_plan("[targets]\ngeneral = 80\n").validate(NoHL())


def test_load_plan_file_errors(tmp_path):
    with pytest.raises(PlanError, match="cannot be read"):
        load_plan(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[targets]")
    with pytest.raises(PlanError, match="not UTF-8"):
        load_plan(bad)
    good = tmp_path / "plan.toml"
    good.write_text("\ufeff" + PLAN, encoding="utf-8")  # a BOM from Notepad is fine
    assert load_plan(good, questionnaire=SIPAS).targets.overall == 80


def test_example_plan_is_valid():
    plan = load_plan(EXAMPLE, questionnaire=SIPAS)
    assert plan.targets.overall == 80 and plan.targets.general == 85
    assert plan.baseline is not None


def test_check_targets_on_a_json_group():
    group = {
        "general": {"index": 86.0, "ci": [81.0, 90.0], "n": 200, "flag": None},
        "overall": {"index": 79.0, "ci": [76.0, 82.0], "n": 210, "flag": None},
        "elements": {"TC": {"index": 70.0, "ci": [65.0, 75.0], "n": 210, "flag": None}},
        "criteria": {"CC1": {"index": None, "ci": [None, None], "n": 0,
                             "flag": "insufficient data"}},
    }
    checks = check_targets(group, Targets(general=80, overall=80, elements={"TC": 80},
                                          criteria={"CC1": 90}))
    assert [(c.level, c.code, c.verdict) for c in checks] == [
        ("general", None, MET), ("overall", None, INCONCLUSIVE), ("element", "TC", NOT_MET),
        ("criterion", "CC1", None),
    ]
    assert checks[3].to_json()["flag"] == "insufficient data"
