"""The response export described for people: each column's label, its question and the
labels of its values (a codebook), and the files built from it — a labelled workbook
(Vietnamese headers, value labels, typed dates, a codebook sheet) that
:func:`analysis.read_responses` still reads, and SPSS ``.sav`` / Stata ``.dta`` files with
variable and value labels, which a statistics office opens directly.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from questionnaires import Questionnaire

from .io import EXPORT_COLUMNS

#: The export's own columns, named for people (the glossary's words, docs/glossary.md).
META_LABELS = {
    "vi": {"response_id": "Mã phiếu trả lời", "questionnaire": "Phiếu khảo sát", "questionnaire_version": "Phiên bản",
           "unit": "Đơn vị", "procedure": "Thủ tục hành chính", "channel": "Kênh trả lời",
           "submitted_on": "Ngày trả lời", "same_day": "Trả lời ngay trong ngày in mã",
           "flagged": "Phiếu gắn cờ (áp phích: dồn dập hoặc vượt giới hạn)",
           "competent_unit": "Cơ quan có thẩm quyền giải quyết"},
    "en": {"response_id": "Response id", "questionnaire": "Questionnaire", "questionnaire_version": "Version",
           "unit": "Unit", "procedure": "Administrative procedure", "channel": "Channel",
           "submitted_on": "Date answered", "same_day": "Answered on the day the code was printed",
           "flagged": "Flagged (poster: burst or over the per-device limit)",
           "competent_unit": "Competent agency"},
}
CHANNELS = {"vi": {"single": "Mã dùng một lần", "counter": "Áp phích tại quầy", "kiosk": "Máy tính bảng tại quầy"},
            "en": {"single": "Single-use code", "counter": "Counter poster", "kiosk": "Counter kiosk"}}
YES_NO = {"vi": {1: "Có", 0: "Không"}, "en": {1: "Yes", 0: "No"}}
#: The codebook sheet's name and columns: how read_responses recognises a labelled workbook.
SHEET = {"vi": "Từ điển dữ liệu", "en": "Codebook"}
DATA_SHEET = {"vi": "Phiếu trả lời", "en": "Responses"}
COLUMNS = {"vi": ("Cột", "Tiêu đề", "Câu hỏi", "Giá trị", "Nhãn giá trị"),
           "en": ("Column", "Header", "Question", "Value", "Value label")}


@dataclass(frozen=True)
class Variable:
    """One column: its code in the export, its label, its question's text, and labels of
    its values (code → label; empty for free values)."""

    code: str
    label: str
    question: str = ""
    values: Mapping[Any, str] = field(default_factory=dict)
    coded: bool = False  # text codes (feedback_given = "co") that statistical files number 1..k


def codebook(q: Questionnaire, lang: str = "vi", names: Mapping[str, Mapping[str, str]] | None = None
             ) -> list[Variable]:
    """Every column of the export of ``q``, in export order. ``names`` may give unit and
    procedure names by code (``{"unit": {"LS": "Phòng Lãnh sự"}}``)."""
    names = names or {}
    choices = {c.code: c for c in q.choice_questions}
    out: list[Variable] = []
    for code in EXPORT_COLUMNS:
        if code in choices:
            c = choices[code]
            out.append(Variable(code, c.text[lang], c.text[lang], {o.value: o.label[lang] for o in c.options},
                                coded=True))
        elif code == "channel":
            out.append(Variable(code, META_LABELS[lang][code], values=CHANNELS[lang], coded=True))
        elif code in ("same_day", "flagged"):
            out.append(Variable(code, META_LABELS[lang][code], values=YES_NO[lang]))
        else:
            out.append(Variable(code, META_LABELS[lang].get(code, code), values=dict(names.get(code, {}))))
    for item in q.rated_questions:
        out.append(Variable(item.code, f"{item.code}. {item.text[lang]}", item.text[lang],
                            {level.value: level.label[lang] for level in item.scale.levels}))
    return out


def codebook_frame(variables: list[Variable], lang: str = "vi") -> pd.DataFrame:
    """The codebook as a table: a row per value label (a row per column without any)."""
    rows = []
    for v in variables:
        for value, text in (v.values.items() or [("", "")]):
            rows.append((v.code, v.label, v.question, value, text))
    return pd.DataFrame(rows, columns=list(COLUMNS[lang]))


def labelled_frame(frame: pd.DataFrame, variables: list[Variable]) -> pd.DataFrame:
    """The export as people read it: headers are labels, coded answers their labels, dates
    dates; scores stay numbers (their labels are in the codebook)."""
    out = {}
    for v in variables:
        if v.code not in frame.columns:
            continue
        column = frame[v.code]
        if v.code == "submitted_on":
            column = pd.to_datetime(column)
        elif v.coded:
            column = column.map(lambda x, labels=v.values: labels.get(x, x), na_action="ignore")
        out[v.label] = column
    return pd.DataFrame(out)


def from_labelled(frame: pd.DataFrame, book: pd.DataFrame) -> pd.DataFrame:
    """The export's columns and codes back from a labelled sheet and its codebook sheet."""
    column, header, _question, value, text = book.columns[:5]
    headers = dict(zip(book[header].astype(str), book[column].astype(str), strict=True))
    frame = frame.rename(columns={h: headers.get(str(h).strip(), h) for h in frame.columns})
    for code, rows in book.groupby(column, sort=False):
        if code in frame.columns and code in _CODED:
            back = {str(t): v for v, t in zip(rows[value], rows[text], strict=True) if str(t)}
            frame[code] = frame[code].map(lambda x, back=back: back.get(str(x), x), na_action="ignore")
    return frame


_CODED = frozenset({"channel", "respondent_type", "feedback_given", "gender", "age_group", "ethnicity", "education",
                    "occupation", "residence"})


def statistical_file(frame: pd.DataFrame, variables: list[Variable], fmt: str) -> bytes:
    """The export as SPSS (``sav``) or Stata (``dta``, version 15: UTF-8) with variable and
    value labels. Coded text answers become numbers 1..k in the questionnaire's option order
    (the statistical packages label numbers), dates are dates, codes and ids stay text."""
    import pyreadstat

    data: dict[str, Any] = {}
    value_labels: dict[str, dict[Any, str]] = {}
    for v in variables:
        if v.code not in frame.columns:
            continue
        column = frame[v.code]
        if v.code == "submitted_on":
            data[v.code] = pd.to_datetime(column).dt.date
        elif v.coded:
            numbers = {code: i for i, code in enumerate(v.values, start=1)}
            data[v.code] = column.map(numbers).astype("float64")
            value_labels[v.code] = {float(i): v.values[code] for code, i in numbers.items()}
        elif v.values and v.code not in ("unit", "procedure"):
            data[v.code] = pd.to_numeric(column).astype("float64")
            value_labels[v.code] = {float(k): text for k, text in v.values.items()}
        elif pd.api.types.is_numeric_dtype(column):
            data[v.code] = column.astype("float64")
        else:
            data[v.code] = column.astype(object).where(column.notna(), "").astype(str)
    table = pd.DataFrame(data)
    limit = 80 if fmt == "dta" else 256  # Stata's variable labels hold 80 characters
    labels = [_shorten(v.label, limit) for v in variables if v.code in table.columns]
    handle, path = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(handle)
    try:
        if fmt == "sav":
            pyreadstat.write_sav(table, path, column_labels=labels, variable_value_labels=value_labels)
        elif fmt == "dta":
            pyreadstat.write_dta(table, path, column_labels=labels, variable_value_labels=value_labels,
                                 version=15)
        else:
            raise ValueError(f"format: '{fmt}' is not sav or dta")
        with open(path, "rb") as handle_file:
            return handle_file.read()
    finally:
        os.unlink(path)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def labelled_workbook(frame: pd.DataFrame, variables: list[Variable], lang: str = "vi") -> bytes:
    """An XLSX of the labelled export and its codebook (text that a spreadsheet would run
    as a formula stays text: analysis/safe_text.py)."""
    from .safe_text import inert_worksheet, text_columns

    buffer = io.BytesIO()
    data, book = labelled_frame(frame, variables), codebook_frame(variables, lang)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, table in ((DATA_SHEET[lang], data), (SHEET[lang], book)):
            table.to_excel(writer, sheet_name=sheet, index=False)
            inert_worksheet(writer.sheets[sheet], columns=text_columns(table))
        day = next((v.label for v in variables if v.code == "submitted_on"), None)
        if day in data.columns:  # dates as dates, shown as Vietnamese write them
            at = data.columns.get_loc(day) + 1
            for (cell,) in writer.sheets[DATA_SHEET[lang]].iter_rows(min_row=2, min_col=at, max_col=at):
                cell.number_format = "DD/MM/YYYY"
    return buffer.getvalue()


#: The indices table's columns (AnalysisResult.to_frame) and words, for a workbook people read.
INDEX_HEADERS = {
    "vi": {"unit": "Đơn vị", "procedure": "Thủ tục hành chính", "channel": "Kênh trả lời", "period": "Kỳ",
           "same_day": "Trả lời trong ngày in mã", "group_n": "Số phiếu của nhóm", "level": "Cấp chỉ số",
           "code": "Mã", "index": "Chỉ số (%)", "se": "Sai số chuẩn (điểm %)", "ci_low": "Cận dưới khoảng tin cậy",
           "ci_high": "Cận trên khoảng tin cậy", "n": "Số người trả lời", "flag": "Cảnh báo",
           "satisfied": "Số người hài lòng", "mean": "Điểm trung bình", "mean_ci_low": "Cận dưới điểm trung bình",
           "mean_ci_high": "Cận trên điểm trung bình", "deff": "Hệ số thiết kế (deff)",
           "n_eff": "Cỡ mẫu hiệu dụng", "df": "Bậc tự do", "note": "Ghi chú"},
}
INDEX_LEVELS = {"vi": {"general": "Chỉ số hài lòng chung (SIPAS)", "overall": "Chỉ số tổng hợp", "element": "Yếu tố",
                       "criterion": "Tiêu chí", "expectation_top": "Mong đợi: mức cao nhất",
                       "expectation_top_two": "Mong đợi: hai mức cao nhất"}}


def labelled_indices(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """The indices table with the glossary's headers and words (the CSV keeps the codes)."""
    from .report.labels import label

    out = frame.copy()
    if "level" in out:
        out["level"] = out["level"].map(lambda x: INDEX_LEVELS[lang].get(x, x))
    if "flag" in out:
        out["flag"] = out["flag"].map(lambda x: label(x, lang) if isinstance(x, str) else x)
    return out.rename(columns=INDEX_HEADERS[lang])


__all__ = ["Variable", "codebook", "codebook_frame", "from_labelled", "labelled_frame", "labelled_indices",
           "labelled_workbook", "statistical_file"]
