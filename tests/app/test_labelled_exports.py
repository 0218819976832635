"""Exports for people and statistics offices (issue 15): a workbook with Vietnamese headers,
value labels, dates as dates and a codebook sheet, which read_responses still reads back to
the CSV's frame; SPSS and Stata files with variable and value labels."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pyreadstat
import pytest

import analysis
from tests.support import ORG, Auth, store_random_answers


@pytest.fixture
def analyst(app):
    store_random_answers(app, count=6, seed=9, education="tren_dai_hoc", feedback_given="co")
    client = app.test_client()
    Auth(client).login("analyst")
    return client


def test_the_workbook_reads_as_people_read_and_back_as_the_csv(analyst):
    csv = analyst.get("/analyst/download/responses.csv")
    xlsx = analyst.get("/analyst/download/responses.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["Content-Type"].startswith("application/vnd.openxml")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["Phiếu trả lời", "Từ điển dữ liệu"]
    sheet = book["Phiếu trả lời"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Mã phiếu trả lời", "Phiếu khảo sát", "Phiên bản", "Đơn vị"]
    assert "Ngày trả lời" in header and header[-1].startswith("MD9. ")
    day = sheet.cell(row=2, column=header.index("Ngày trả lời") + 1)
    assert isinstance(day.value, dt.datetime) and day.number_format == "DD/MM/YYYY"
    education = header.index("Trình độ học vấn") + 1
    assert sheet.cell(row=2, column=education).value == "Trên đại học"  # not "tren_dai_hoc"
    codebook = pd.DataFrame(book["Từ điển dữ liệu"].values)
    rows = {(r[0], r[3]): r[4] for r in codebook.itertuples(index=False)}
    assert rows[("TC1", 5)] == "Rất hài lòng" and rows[("unit", ORG.section)] == "Phòng Lãnh sự"
    assert rows[("channel", "single")] == "Mã dùng một lần"
    pd.testing.assert_frame_equal(analysis.read_responses(xlsx.data), analysis.read_responses(csv.data),
                                  check_dtype=False)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_files_carry_variable_and_value_labels(analyst, tmp_path, fmt):
    response = analyst.get(f"/analyst/download/responses.{fmt}")
    assert response.status_code == 200
    path = tmp_path / f"r.{fmt}"
    path.write_bytes(response.data)
    frame, meta = (pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta)(str(path))
    assert len(frame) == 6
    labels = meta.column_names_to_labels
    assert labels["unit"] == "Đơn vị" and labels["TC1"].startswith("TC1. ")
    assert labels["feedback_given"] == "Ông/Bà có phản ánh, kiến nghị với cơ quan không?"
    values = {k: {int(v): t for v, t in d.items()} for k, d in meta.variable_value_labels.items()}
    assert values["TC1"][1] == "Rất không hài lòng" and values["feedback_given"] == {1: "Có", 2: "Không"}
    assert set(frame["feedback_given"]) == {1}  # "co", the first option
    assert values["education"][int(frame["education"].iloc[0])] == "Trên đại học"
    assert isinstance(frame["submitted_on"].iloc[0], dt.date)


def test_the_command_line_writes_the_same_formats(app, analyst, runner, tmp_path):
    for fmt in ("xlsx", "sav", "dta"):
        target = tmp_path / f"responses.{fmt}"
        result = runner.invoke(["export", "responses", "--format", fmt, "-o", str(target)])
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 1000
    binary = runner.invoke(["export", "responses", "--format", "sav"])
    assert binary.exit_code == 1 and "-o FILE.sav" in binary.output


def test_the_indices_workbook_speaks_vietnamese(analyst):
    book = openpyxl.load_workbook(io.BytesIO(analyst.get("/analyst/download/indices.xlsx?period=quarter").data))
    sheet = book["Chỉ số"]
    header = [c.value for c in sheet[1]]
    assert {"Kỳ", "Cấp chỉ số", "Chỉ số (%)", "Cận dưới khoảng tin cậy", "Cảnh báo"} <= set(header)
    levels = {sheet.cell(row=r, column=header.index("Cấp chỉ số") + 1).value for r in range(2, sheet.max_row + 1)}
    assert "Chỉ số hài lòng chung (SIPAS)" in levels and "Tiêu chí" in levels
    flags = {sheet.cell(row=r, column=header.index("Cảnh báo") + 1).value for r in range(2, sheet.max_row + 1)}
    assert flags <= {None, "Không đủ dữ liệu"} and "Không đủ dữ liệu" in flags  # six answers
    assert analyst.get("/analyst/download/indices.csv").data.decode("utf-8-sig").startswith("period,group_n,level")
