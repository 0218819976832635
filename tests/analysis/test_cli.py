"""analysis.cli through click's CliRunner on a group built here with add_commands."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path

import click
import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import analysis
import questionnaires
from analysis.cli import add_commands
from analysis.compare import compare_periods, compare_units
from analysis.format import format_number
from analysis.report.labels import label

SIPAS = questionnaires.load("sipas-2023")
EXAMPLE_PLAN = Path(__file__).resolve().parents[2] / "analysis" / "report" / "example_plan.toml"


class _Url:
    """A database_url callable that remembers whether it was called."""

    def __init__(self, url: str = "sqlite:///nowhere.db") -> None:
        self.url = url
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.url


def _group(url: _Url | None = None, issuance: bool = True) -> tuple[click.Group, _Url]:
    url = url or _Url()
    group = click.Group("sipas")
    add_commands(group, database_url=url, issuance=issuance)
    return group, url


def _responses(n=900, seed=8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units = rng.choice(["VP", "LS", "BG"], size=n, p=[0.4, 0.35, 0.25])
    day = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    shift = pd.Series(units).map({"VP": 0.3, "LS": 0.0, "BG": -0.3}).to_numpy()
    data = {"response_id": [f"{i:032x}" for i in range(n)], "questionnaire": "sipas-2023",
            "questionnaire_version": 1, "unit": units, "procedure": "1.000301",
            "channel": np.where(rng.random(n) < 0.8, "single", "counter"),
            "submitted_on": day.strftime("%Y-%m-%d"),
            "feedback_given": np.where(rng.random(n) < 0.3, "co", "khong")}
    for c in SIPAS.criteria:
        data[c.code] = np.clip(np.rint(3.9 + shift + rng.normal(0, 1, n)), 1, 5)
    for code in ("PA1", "PA2", "PA3"):
        data[code] = np.where(data["feedback_given"] == "co", data[code], np.nan)
    data["HL"] = np.clip(np.rint(3.9 + shift + rng.normal(0, 1, n)), 1, 5)
    data["stratum"] = units
    data["psu"] = [f"{u}{i}" for u, i in zip(units, rng.integers(0, 6, n), strict=True)]
    data["w"] = rng.uniform(1, 2, n)
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def frame():
    return _responses()


@pytest.fixture(scope="module")
def csv_path(frame, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "responses.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture(scope="module")
def data(csv_path):
    return analysis.read_responses(csv_path)


def _run(args, url=None, issuance=True):
    group, url = _group(url, issuance)
    result = CliRunner().invoke(group, [str(a) for a in args], catch_exceptions=False)
    return result, url


# ----------------------------------------------------------------------------- analyze
def test_json_is_exactly_to_json(csv_path, data):
    result, url = _run(["analyze", csv_path, "--by", "unit", "--period", "quarter",
                        "--format", "json"])
    assert result.exit_code == 0, result.output
    assert url.calls == 0  # the database is only touched with --db
    expected = analysis.analyze(data, SIPAS, by="unit", period="quarter").to_json()
    assert json.loads(result.output) == json.loads(json.dumps(expected))
    assert "comparisons" not in json.loads(result.output)


def test_json_with_comparisons(csv_path, data):
    result, _ = _run(["analyze", csv_path, "--by", "unit", "--period", "quarter",
                      "--compare", "previous", "--adjust", "bh", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    res = analysis.analyze(data, SIPAS, by="unit", period="quarter")
    assert doc["comparisons"] == json.loads(json.dumps(compare_periods(res, adjust="bh").to_json()))
    assert {k: v for k, v in doc.items() if k != "comparisons"} == json.loads(
        json.dumps(res.to_json()))


def test_compare_units_json(csv_path, data):
    result, _ = _run(["analyze", csv_path, "--period", "half", "--compare", "units",
                      "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)["comparisons"]
    expected = compare_units(data, SIPAS, period="half")
    assert doc == json.loads(json.dumps(expected.to_json()))
    assert doc["kind"] == "units" and doc["rankings"]


def test_by_accepts_comma_lists_and_repeats(csv_path, data):
    a, _ = _run(["analyze", csv_path, "--by", "unit,channel", "--format", "json"])
    b, _ = _run(["analyze", csv_path, "--by", "unit", "--by", "channel", "--format", "json"])
    assert a.exit_code == b.exit_code == 0
    assert a.output == b.output
    assert json.loads(a.output)["by"] == ["unit", "channel"]


def test_options_reach_analyze(csv_path, data):
    args = ["analyze", csv_path, "--from", "2026-03-01", "--to", "2026-06-30", "--ci-method",
            "jeffreys", "--confidence", "0.9", "--small-n", "10", "--max-width", "30",
            "--format", "json"]
    result, _ = _run(args)
    assert result.exit_code == 0, result.output
    expected = analysis.analyze(data, SIPAS, date_from="2026-03-01", date_to="2026-06-30",
                                ci_method="jeffreys", confidence=0.9, small_n=10,
                                max_width=30.0)
    assert json.loads(result.output) == json.loads(json.dumps(expected.to_json()))


def test_design_options(csv_path, data):
    result, _ = _run(["analyze", csv_path, "--weight", "w", "--strata", "stratum", "--cluster",
                      "psu", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["design"]["weight"] == "w" and doc["design"]["df"] is not None


def test_bootstrap_option(csv_path, data):
    result, _ = _run(["analyze", csv_path, "--from", "2026-01-01", "--to", "2026-01-31",
                      "--bootstrap", "200", "--seed", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["bootstrap"] == 200


def test_questionnaire_option(csv_path):
    result, _ = _run(["analyze", csv_path, "--questionnaire", "sipas-2023@1", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output)["questionnaire_version"] == 1


def test_csv_output(csv_path, data, tmp_path):
    result, _ = _run(["analyze", csv_path, "--by", "unit", "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.output))
    expected = analysis.analyze(data, SIPAS, by="unit").to_frame()
    assert len(table) == len(expected)  # one row per group × indicator
    assert list(table.columns) == list(expected.columns)
    assert table["index"].to_numpy() == pytest.approx(expected["index"].to_numpy(float),
                                                      nan_ok=True)
    out = tmp_path / "indices.csv"
    result, _ = _run(["analyze", csv_path, "--period", "quarter", "--compare", "previous",
                      "-o", out])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the diacritics
    comparisons = pd.read_csv(tmp_path / "indices-comparisons.csv", encoding="utf-8-sig")
    assert {"label", "reference", "difference", "ci_low", "ci_high", "p_adjusted"} <= set(
        comparisons.columns)


def test_xlsx_output(csv_path, data, tmp_path):
    out = tmp_path / "indices.xlsx"
    result, _ = _run(["analyze", csv_path, "--by", "unit", "--compare", "units", "-o", out])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["indices", "comparisons", "ranking"]
    ws = book["indices"]
    header = [c.value for c in ws[1]]
    index_col = header.index("index") + 1
    values = [ws.cell(row=r, column=index_col) for r in range(2, ws.max_row + 1)]
    assert all(isinstance(c.value, int | float) for c in values if c.value is not None)  # 50.0 reads back as 50
    assert values[0].number_format == '0.0" %"'
    n_col = header.index("n") + 1
    assert isinstance(ws.cell(row=2, column=n_col).value, int)


@pytest.mark.parametrize(
    "args,code,words",
    [
        (["analyze"], 2, "cần INPUT"),
        (["analyze", "--lang", "en"], 2, "give INPUT"),
        (["analyze", "{csv}", "--db"], 2, "chỉ dùng một trong hai: INPUT hoặc --db"),
        (["analyze", "missing.csv"], 1, "missing.csv: không có tệp này"),
        (["analyze", "missing.csv", "--lang", "en"], 1, "no such file"),
        (["analyze", "{csv}", "--by", "nope"], 1, "by: column 'nope' is missing"),
        (["analyze", "{csv}", "--questionnaire", "nope"], 1, "unknown questionnaire"),
        (["analyze", "{csv}", "--questionnaire", "tt01-counter"], 1, "DG1"),
        (["analyze", "{csv}", "--from", "2026-02-30"], 1, "date_from"),
        (["analyze", "{csv}", "--confidence", "95"], 1, "confidence"),
        (["analyze", "{csv}", "--period", "week"], 2, "week"),
        (["analyze", "{csv}", "--compare", "previous"], 2, "--compare previous cần --period"),
        (["analyze", "{csv}", "--format", "xlsx"], 2, "thêm -o TỆP.xlsx"),
        (["analyze", "{csv}", "--frame-weights"], 2, "--frame-weights chỉ dùng với --db"),
        (["analyze", "{csv}", "--weight", "nope"], 1, "weight"),
        (["analyze", "{bad}"], 2, "dữ liệu không có cột 'questionnaire'"),
        (["report", "--plan", "{plan}", "--period", "2026-Q5", "{csv}"], 2, "not a period"),
        (["report", "--plan", "missing.toml", "--period", "2026", "{csv}"], 1, "cannot be read"),
        (["report", "--plan", "{plan}", "--period", "2030", "{csv}"], 1, "no responses"),
        (["report", "--plan", "{plan}", "--period", "2026", "{csv}", "-o", "r.pdf"], 2, ".html"),
        (["sample-size", "--margin", "5"], 1, "--margin: phải là số lớn hơn 0 và nhỏ hơn 1 (0.05 cho ±5 điểm %)"),
        (["sample-size", "--margin", "5", "--lang", "en"], 1, "0.05 for ±5 points"),
        (["sample-size", "--margin", "0.05", "--population", "0"], 1, "--population: phải là số nguyên"),
        (["sample-size", "--margin", "0.05", "--response-rate", "1.5"], 1, "--response-rate: phải lớn hơn 0"),
    ],
)
def test_bad_input_is_one_clear_line(args, code, words, csv_path, tmp_path, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    args = [str(a).format(csv=csv_path, plan=EXAMPLE_PLAN, bad=bad) for a in args]
    group, _ = _group()
    monkeypatch.chdir(tmp_path)  # what an output file without a folder would be written to
    result = CliRunner().invoke(group, args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert words in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1


# ----------------------------------------------------------------------------- report
def test_report_html_and_xlsx(csv_path, tmp_path):
    html_out = tmp_path / "report.html"
    result, _ = _run(["report", "--plan", EXAMPLE_PLAN, "--period", "2026-Q3", csv_path,
                      "-o", html_out])
    assert result.exit_code == 0, result.output
    text = html_out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'lang="vi"' in text
    assert "Quý III/2026" in text and "<svg" in text
    xlsx_out = tmp_path / "report.xlsx"
    result, _ = _run(["report", "--plan", EXAMPLE_PLAN, "--period", "2026-H1", "--lang", "en",
                      "--baseline", "2026-01", csv_path, "-o", xlsx_out])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(xlsx_out)
    assert book.sheetnames[0] == "Summary" and "Method" in book.sheetnames
    assert isinstance(book["Summary"]["C2"].value, int)


def test_report_to_stdout_with_issuance_file(csv_path, frame, tmp_path):
    codes = tmp_path / "codes.csv"
    pd.DataFrame({"unit": ["VP", "LS"], "day": ["2026-07-02", "2026-08-03"],
                  "issued": [400, 300]}).to_csv(codes, index=False)
    result, _ = _run(["report", "--plan", EXAMPLE_PLAN, "--period", "2026-PAR-Y", csv_path,
                      "--issuance", codes])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<!DOCTYPE html>") and "Tỷ lệ phản hồi" in result.output


# ----------------------------------------------------------------------------- --db
SCHEMA = """
CREATE TABLE units (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT, parent_id INTEGER,
                    kind TEXT, active BOOLEAN);
CREATE TABLE procedures (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT, field TEXT,
                         active BOOLEAN);
CREATE TABLE questionnaire_versions (id INTEGER PRIMARY KEY, questionnaire_id TEXT,
                                     version INTEGER, sha256 TEXT, content TEXT,
                                     loaded_at TIMESTAMP);
CREATE TABLE responses (id TEXT PRIMARY KEY, questionnaire_version_id INTEGER, unit_id INTEGER,
    procedure_id INTEGER, channel TEXT, submitted_on DATE, same_day BOOLEAN, burst BOOLEAN,
    respondent_type TEXT, feedback_given TEXT, gender TEXT, age_group TEXT, ethnicity TEXT,
    education TEXT, occupation TEXT, residence TEXT, competent_unit_id INTEGER);
CREATE TABLE answers (response_id TEXT, item TEXT, value SMALLINT,
                      PRIMARY KEY (response_id, item));
CREATE TABLE code_batches (id INTEGER PRIMARY KEY, unit_id INTEGER, kind TEXT, count INTEGER, source TEXT);
CREATE TABLE survey_codes (id INTEGER PRIMARY KEY, code_hash TEXT UNIQUE, batch_id INTEGER,
    unit_id INTEGER, procedure_id INTEGER, questionnaire_version_id INTEGER, kind TEXT,
    issued_at TIMESTAMP, expires_at TIMESTAMP, status TEXT);
"""


@pytest.fixture(scope="module")
def database(frame, tmp_path_factory):
    """A SQLite file with the tables of docs/CONTRACTS.md, filled from the frame."""
    path = tmp_path_factory.mktemp("db") / "sipas.db"
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    units = {u: i for i, u in enumerate(sorted(frame["unit"].unique()), 1)}
    con.executemany("INSERT INTO units VALUES (?, ?, ?, NULL, 'section', 1)",
                    [(i, u, u) for u, i in units.items()])
    con.execute("INSERT INTO procedures VALUES (1, '1.000301', 'x', NULL, 1)")
    con.execute("INSERT INTO questionnaire_versions VALUES (1, 'sipas-2023', 1, ?, ?, "
                "'2026-01-01')", (SIPAS.sha256, SIPAS.content))
    answers, codes = [], []
    for row in frame.itertuples(index=False):
        con.execute(
            "INSERT INTO responses (id, questionnaire_version_id, unit_id, procedure_id, "
            "channel, submitted_on, feedback_given) VALUES (?, 1, ?, 1, ?, ?, ?)",
            (row.response_id, units[row.unit], row.channel, row.submitted_on,
             row.feedback_given))
        for code in [*SIPAS.answer_columns]:
            value = getattr(row, code, None)
            if value is not None and value == value:
                answers.append((row.response_id, code, int(value)))
        for j in range(2):  # two codes per response: half answered
            codes.append((len(codes) + 1, f"h{len(codes)}", units[row.unit], "single",
                          f"{row.submitted_on} 03:00:00", "answered" if j == 0 else "issued"))
    con.executemany("INSERT INTO answers VALUES (?, ?, ?)", answers)
    con.executemany(
        "INSERT INTO survey_codes (id, code_hash, unit_id, procedure_id, "
        "questionnaire_version_id, kind, issued_at, expires_at, status) "
        "VALUES (?, ?, ?, 1, 1, ?, ?, NULL, ?)", codes)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_analyze_db(database, data):
    url = _Url(database)
    result, url = _run(["analyze", "--db", "--by", "unit", "--format", "json"], url=url)
    assert result.exit_code == 0, result.output
    assert url.calls == 1
    expected = analysis.analyze(data, SIPAS, by="unit").to_json()
    got = json.loads(result.output)
    assert [g["general"]["index"] for g in got["groups"]] == pytest.approx(
        [g["general"]["index"] for g in expected["groups"]])
    assert [g["n"] for g in got["groups"]] == [g["n"] for g in expected["groups"]]


def test_analyze_db_table_in_words(database, data):
    """The database's counts print the same table as an export (tests/analysis/test_cli_text.py)."""
    result, _ = _run(["analyze", "--db", "--by", "unit", "--period", "quarter"], url=_Url(database))
    assert result.exit_code == 0, result.output
    ls = analysis.analyze(data, SIPAS, by="unit", period="quarter").group(unit="LS", period="2026-Q3")
    heading = f"\nĐơn vị: LS · Kỳ báo cáo: Quý III/2026   (Số phiếu: {ls.n})\n  Mục "
    assert heading in result.output, result.output
    assert re.search(rf"\n  HL  Chỉ số hài lòng chung \(SIPAS\) +{format_number(ls.general.value)}  ",
                     result.output.split(heading)[1])


def test_report_db_reads_issuance(database, tmp_path):
    out = tmp_path / "r.xlsx"
    result, url = _run(["report", "--plan", EXAMPLE_PLAN, "--period", "2026-Q2", "--db",
                        "-o", out], url=_Url(database))
    assert result.exit_code == 0, result.output
    assert url.calls >= 1
    book = openpyxl.load_workbook(out)
    assert "Tỷ lệ phản hồi" in book.sheetnames
    ws = book["Tỷ lệ phản hồi"]
    header = [c.value for c in ws[1]]
    rates = [row[header.index(label("response_rate", "vi"))].value for row in ws.iter_rows(min_row=2)]
    # Half the codes of each unit were answered, and every code's window has closed.
    assert rates and all(r == pytest.approx(50.0) for r in rates)


def test_report_db_without_issuance(database, tmp_path):
    out = tmp_path / "r.xlsx"
    result, _ = _run(["report", "--plan", EXAMPLE_PLAN, "--period", "2026-Q2", "--db",
                      "-o", out], url=_Url(database), issuance=False)
    assert result.exit_code == 0, result.output
    assert "Tỷ lệ phản hồi" not in openpyxl.load_workbook(out).sheetnames


def test_add_commands_checks_its_argument():
    with pytest.raises(ValueError, match="^database_url"):
        add_commands(click.Group("g"), database_url="sqlite://")
    group, _ = _group()
    assert {"analyze", "report", "sample-size"} <= set(group.commands)
