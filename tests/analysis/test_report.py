"""analysis.report (the plan report) and analysis.format (number and date formatting).

The HTML is parsed (html.parser) and checked for self-containment; the XLSX is opened with
openpyxl and its cells checked to be numbers with number formats.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from html.parser import HTMLParser

import numpy as np
import openpyxl
import pandas as pd
import pytest

import analysis
import questionnaires
from analysis.compare import diff_estimates, diff_proportions
from analysis.format import (
    excel_formats,
    format_ci,
    format_date,
    format_integer,
    format_number,
    format_percent,
    format_period,
    format_points,
    format_pvalue,
)
from analysis.priorities import priorities
from analysis.report import build_report, build_workbook, render_html, write_xlsx
from analysis.targets import parse_plan, verdict

SIPAS = questionnaires.load("sipas-2023")

PLAN = """
title = "Kế hoạch 2026"
organisation = "Sở Thử nghiệm"
questionnaire = "sipas-2023"
baseline = "2025"

[targets]
general = 85
overall = 80
elements = { TC = 80, TT = 80, CC = 85, KQ = 85, PA = 75 }
criteria = { CC1 = 90 }

[units.VP]
name = "Văn phòng Sở"
general = 88

[units.BG]
name = "Phòng Quản lý biên giới"
overall = 75
"""


def _responses(n=2400, seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units = rng.choice(["VP", "LS", "HTQT", "BG", "TINY"], size=n,
                       p=[0.3, 0.3, 0.2, 0.19, 0.01])
    day = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    shift = pd.Series(units).map({"VP": 0.3, "LS": 0.0, "HTQT": 0.45, "BG": -0.35,
                                  "TINY": 0.0}).to_numpy()
    trend = (day.year.to_numpy() - 2025) * 0.3
    latent = rng.normal(size=n)
    data = {}
    for c in SIPAS.criteria:
        weak = -0.5 if c.code in ("TT1", "CC3") else 0.0
        data[c.code] = np.clip(np.rint(3.9 + shift + trend + weak + 0.6 * latent
                                       + rng.normal(0, 0.7, n)), 1, 5)
    feedback = rng.random(n) < 0.25
    for code in ("PA1", "PA2", "PA3"):
        data[code] = np.where(feedback, data[code], np.nan)
    data["HL"] = np.clip(np.rint(3.9 + shift + trend + 0.8 * latent + rng.normal(0, 0.6, n)), 1, 5)
    df = pd.DataFrame(data)
    df.insert(0, "questionnaire", "sipas-2023")
    df.insert(1, "unit", units)
    df.insert(2, "channel", np.where(rng.random(n) < 0.8, "single", "counter"))
    df.insert(3, "submitted_on", day.strftime("%Y-%m-%d"))
    return df


def _issuance(df: pd.DataFrame) -> pd.DataFrame:
    single = df[df["channel"] == "single"]
    rows = [{"unit": u, "procedure": None, "kind": "single", "day": d, "issued": 3 * len(g),
             "answered": len(g)} for (u, d), g in single.groupby(["unit", "submitted_on"])]
    rows.append({"unit": "VP", "procedure": None, "kind": "counter", "day": "2026-02-01",
                 "issued": 1000, "answered": 0})  # counter codes are not the denominator
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def data():
    return _responses()


@pytest.fixture(scope="module")
def report(data):
    return build_report(data, parse_plan(PLAN), period="2026", issuance=_issuance(data),
                        today=dt.date(2027, 1, 15))


@pytest.fixture(scope="module")
def html_text(report):
    return render_html(report)


# ----------------------------------------------------------------------------- content
def test_units_in_plan_order_then_the_rest(report):
    assert [u.unit for u in report.units] == ["VP", "BG", "HTQT", "LS", "TINY"]
    assert report.department.unit is None
    assert report.units[0].name == "Văn phòng Sở"


def test_indices_equal_analyze(data, report):
    window = data[data["submitted_on"].str.startswith("2026")]
    expected = analysis.analyze(window, SIPAS, by="unit")
    for u in report.units:
        g = expected.group(unit=u.unit)
        assert u.group.general == g.general and u.group.overall == g.overall
    assert report.department.n == len(window)


def test_verdicts_follow_the_rule(report):
    vp = report.units[0]
    check = vp.check("general")
    assert check.target == 88  # unit override
    assert check.verdict == verdict(ci=vp.group.general.ci, target=88)
    bg = next(u for u in report.units if u.unit == "BG")
    assert bg.check("overall").target == 75 and bg.check("general").target == 85
    cc1 = bg.check("criterion", "CC1")
    assert cc1.verdict == verdict(ci=bg.group.criteria["CC1"].ci, target=90)
    for u in report.all_units:
        for c in u.checks:
            assert c.verdict in ("met", "not_met", "inconclusive", None)


def test_change_against_baseline(data, report):
    base = data[data["submitted_on"].str.startswith("2025")]
    base_vp = analysis.analyze(base, SIPAS, by="unit").group(unit="VP")
    vp = report.units[0]
    change = vp.change("general", "general")
    expected = diff_proportions(x1=vp.group.general.satisfied, n1=vp.group.general.n,
                                x2=base_vp.general.satisfied, n2=base_vp.general.n)
    assert change.difference == expected
    assert change.label == "2026" and change.reference == "2025"
    overall = vp.change("overall", "overall")
    assert overall.difference == diff_estimates(
        a=vp.group.overall.index, se_a=vp.group.overall.se, b=base_vp.overall.index,
        se_b=base_vp.overall.se, n_a=vp.group.overall.n, n_b=base_vp.overall.n)
    # Holm across units for one indicator
    ps = [u.change("general", "general").difference.p_value for u in report.units]
    adjusted = analysis.compare.adjust_pvalues(ps, method="holm")
    assert [u.change("general", "general").p_adjusted for u in report.units] == pytest.approx(
        list(adjusted))


def test_response_rate_uses_single_codes(data, report):
    window = data[data["submitted_on"].str.startswith("2026")]
    vp = report.units[0]
    responses = int(((window["unit"] == "VP") & (window["channel"] == "single")).sum())
    assert vp.response.responses == responses
    assert vp.response.issued == 3 * responses
    assert vp.response.rate == pytest.approx(100 / 3)
    assert report.department.response.issued == 3 * int((window["channel"] == "single").sum())


def test_five_criteria_to_concentrate_on(data, report):
    window = data[data["submitted_on"].str.startswith("2026")]
    expected = priorities(window[window["unit"] == "LS"], SIPAS).concentrate(5)
    ls = next(u for u in report.units if u.unit == "LS")
    assert [c.code for c in ls.concentrate(5)] == [c.code for c in expected]
    assert len(report.department.concentrate(5)) == 5
    assert {"TT1", "CC3"} & {c.code for c in report.department.concentrate(5)}


def test_small_cells_are_warned(report):
    tiny = next(u for u in report.units if u.unit == "TINY")
    assert tiny.n < 30
    assert {w.level for w in tiny.warnings} >= {"general", "overall", "criterion"}
    point = next(p for p in report.funnel.points if p.label == "TINY")
    assert point.flag == "insufficient data"


@pytest.mark.parametrize("period,start,end", [
    ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    ("2026-H2", dt.date(2026, 7, 1), dt.date(2026, 12, 31)),
    ("2026-03", dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
    ("2026-PAR-6M", dt.date(2025, 12, 15), dt.date(2026, 6, 14)),
])
def test_period_labels(data, period, start, end):
    rep = build_report(data, parse_plan(PLAN), period=period)
    assert (rep.start, rep.end) == (start, end)
    days = pd.to_datetime(data["submitted_on"]).dt.date
    assert rep.department.n == int(((days >= start) & (days <= end)).sum())


def test_errors(data):
    plan = parse_plan(PLAN)
    with pytest.raises(ValueError, match="^period"):
        build_report(data, plan, period="2026-Q5")
    with pytest.raises(ValueError, match="^period: no responses"):
        build_report(data, plan, period="2030")
    with pytest.raises(ValueError, match="^unit"):
        build_report(data.drop(columns=["unit"]), plan, period="2026")
    with pytest.raises(ValueError, match="^lang"):
        build_report(data, plan, period="2026", lang="fr")
    bad = parse_plan("[targets]\ncriteria = { XX1 = 80 }\n", source="p.toml")
    with pytest.raises(ValueError, match="p.toml: targets.criteria.XX1"):
        build_report(data, bad, period="2026")


def test_baseline_without_data(data):
    plan = dataclasses.replace(parse_plan(PLAN), baseline="2019")
    rep = build_report(data, plan, period="2026")
    assert rep.baseline is None and all(not u.changes for u in rep.all_units)
    assert "kỳ gốc không có dữ liệu" in render_html(rep)


# ----------------------------------------------------------------------------- HTML
class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    parser.close()
    return parser


def test_html_is_self_contained(html_text):
    doc = _parse(html_text)
    assert html_text.startswith("<!DOCTYPE html>")
    assert "script" not in doc.tags and "link" not in doc.tags and "img" not in doc.tags
    assert "iframe" not in doc.tags and "object" not in doc.tags
    for tag, name, value in doc.attrs:
        if name in ("src", "href", "xlink:href", "action"):
            assert value is not None and value.startswith("#"), (tag, name, value)
    lowered = html_text.lower()
    assert "@import" not in lowered and "url(http" not in lowered and "url(//" not in lowered
    assert doc.tags.count("svg") >= 5
    assert ("html", "lang", "vi") in doc.attrs


def test_html_svg_ids_are_unique(html_text):
    doc = _parse(html_text)
    ids = [v for _, k, v in doc.attrs if k == "id"]
    assert len(ids) == len(set(ids))


def test_html_numbers_and_dates_in_vietnamese(report, html_text):
    text = " ".join(_parse(html_text).text)
    general = report.department.group.general
    assert format_percent(general.index, lang="vi") in text
    assert format_ci(general.ci, lang="vi") in text
    assert "01/01/2026 – 31/12/2026" in text
    assert "15/01/2027" in text
    assert "Năm 2026" in text and "Đạt" in text or "Không đạt" in text
    assert "Văn phòng Sở (VP)" in text
    assert "Ghi chú phương pháp" in text
    assert "Không đủ dữ liệu" in text


def test_html_in_english(data):
    rep = build_report(data, parse_plan(PLAN), period="2026-Q1", lang="en",
                       today=dt.date(2026, 4, 2))
    text = render_html(rep)
    doc = _parse(text)
    body = " ".join(doc.text)
    assert ("html", "lang", "en") in doc.attrs
    assert format_percent(rep.department.group.general.index, lang="en") in body
    assert "2026-01-01 – 2026-03-31" in body and "Method note" in body
    assert "Five criteria to concentrate on" in body


# ----------------------------------------------------------------------------- XLSX
@pytest.fixture(scope="module")
def workbook(report):
    return openpyxl.load_workbook(io.BytesIO(write_xlsx(report)))


def test_xlsx_sheets(workbook):
    assert workbook.sheetnames == ["Tổng hợp", "Chỉ số", "Mục tiêu", "So sánh kỳ gốc",
                                   "Ưu tiên cải thiện", "Tỷ lệ phản hồi", "Cảnh báo",
                                   "Phương pháp"]


def _rows(ws):
    header = [c.value for c in ws[1]]
    return header, [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2)]


def test_xlsx_cells_are_numbers(report, workbook):
    header, rows = _rows(workbook["Tổng hợp"])
    dept = rows[0]
    assert dept["Mã đơn vị"].value is None
    assert isinstance(dept["Số phiếu"].value, int) and dept["Số phiếu"].number_format == "#,##0"
    cell = dept["Hài lòng chung: Chỉ số"]
    assert isinstance(cell.value, float) and cell.data_type == "n"
    assert cell.value == pytest.approx(report.department.group.general.index)
    assert cell.number_format == excel_formats("vi")["percent"]
    assert dept["Hài lòng chung: Mục tiêu"].value == 85
    assert dept["Hài lòng chung: Kết quả"].value in ("Đạt", "Không đạt", "Chưa đủ căn cứ")
    numeric = [h for h in header if h not in ("Mã đơn vị", "Đơn vị") and "Kết quả" not in h]
    for row in rows:
        for h in numeric:
            value = row[h].value
            assert value is None or isinstance(value, int | float), (h, value)
            assert row[h].data_type == "n"


def test_xlsx_every_sheet_has_numbers_not_numeric_text(workbook):
    for ws in workbook.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    stripped = cell.value.replace(",", ".").replace(" %", "").strip()
                    try:
                        float(stripped)
                    except ValueError:
                        continue
                    pytest.fail(f"{ws.title}!{cell.coordinate} holds a number as text: "
                                f"{cell.value!r}")


def test_xlsx_indices_and_change(report, workbook):
    _, rows = _rows(workbook["Chỉ số"])
    assert len(set(_rows(workbook["Chỉ số"])[0])) == len(_rows(workbook["Chỉ số"])[0])
    vp_tc1 = next(r for r in rows if r["Mã đơn vị"].value == "VP" and r["Mã"].value == "TC1")
    assert r"Cơ quan cung cấp" in vp_tc1["Tên"].value
    assert vp_tc1["Chỉ số"].value == pytest.approx(report.units[0].group.criteria["TC1"].index)
    _, changes = _rows(workbook["So sánh kỳ gốc"])
    assert changes and all(isinstance(r["Chênh lệch (điểm %)"].value, float) for r in changes)
    _, prio = _rows(workbook["Ưu tiên cải thiện"])
    assert [r["Thứ tự"].value for r in prio[:5]] == [1, 2, 3, 4, 5]


def test_xlsx_method_sheet_has_dates_and_notes(report, workbook):
    ws = workbook["Phương pháp"]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert dt.datetime(2026, 1, 1) in values and dt.datetime(2027, 1, 15) in values
    date_cell = next(c for row in ws.iter_rows() for c in row
                     if c.value == dt.datetime(2026, 1, 1))
    assert date_cell.number_format == "dd/mm/yyyy"
    assert any(isinstance(v, str) and "Wilson" in v for v in values)


def test_xlsx_english_and_without_issuance(data, tmp_path):
    rep = build_report(data, parse_plan(PLAN), period="2026-H1", lang="en")
    path = tmp_path / "r.xlsx"
    write_xlsx(rep, path)
    book = openpyxl.load_workbook(path)
    assert "Response rate" not in book.sheetnames and "Method" in book.sheetnames
    assert book["Summary"]["A1"].value == "Unit code"
    assert build_workbook(rep).sheetnames == book.sheetnames


# ----------------------------------------------------------------------------- format
def test_format_numbers():
    assert format_percent(83.24, lang="vi") == "83,2 %"
    assert format_percent(83.24, lang="en") == "83.2 %"
    assert format_number(1234567.891, lang="vi", digits=2) == "1.234.567,89"
    assert format_number(1234567.891, lang="en", digits=2) == "1,234,567.89"
    assert format_integer(1480, lang="vi") == "1.480"
    assert format_number(-0.04, lang="vi") == "0,0"
    assert format_percent(float("nan")) == "–"
    assert format_points(9.5, lang="vi") == "+9,5 điểm %"
    assert format_ci((75.58, 79.82), lang="vi") == "75,6–79,8 %"
    assert format_ci((-9.5, 58.9), lang="vi", percent=False) == "−9,5 đến 58,9"
    assert format_pvalue(0.0312, lang="vi") == "0,031"
    with pytest.raises(ValueError, match="^lang"):
        format_number(1.0, lang="fr")


def test_format_dates_and_periods():
    d = dt.date(2024, 3, 14)
    assert format_date(d, lang="vi") == "14/03/2024"
    assert format_date(d, lang="en") == "2024-03-14"
    assert format_date(d, lang="en", style="long") == "14 Mar 2024"
    assert format_date(dt.datetime(2024, 3, 14, 23, 0), lang="vi") == "14/03/2024"
    with pytest.raises(ValueError, match="^value"):
        format_date("14/03/2024")
    assert format_period("2024-Q3", lang="vi") == "Quý III/2024"
    assert format_period("2024-PAR-Y", lang="en") == "2024 PAR year"
    assert format_period("whatever") == "whatever"
