"""Exports in the analysis input format (docs/CONTRACTS.md). The frame itself is built by
analysis.load_database, so the export and the analysis read the database the same way."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from sqlalchemy import select

import analysis
from analysis.safe_text import inert_worksheet, neutralise_frame, text_columns

from ..extensions import db
from ..models import Comment, Procedure, Unit
from .catalog import descendant_ids, unit_by_code


def _unit_codes(unit: str | None) -> list[str] | None:
    """The unit and the units below it (None for every unit)."""
    if not unit:
        return None
    ids = descendant_ids(unit_by_code(unit).id)
    return list(db.session.scalars(select(Unit.code).where(Unit.id.in_(ids))))


def responses_frame(*, date_from: dt.date | None = None, date_to: dt.date | None = None,
                    unit: str | None = None, questionnaire: str | None = None) -> pd.DataFrame:
    """One row per response; ``unit`` includes the units below it. Scores are whole
    numbers (blank when not answered), as people reading the file expect."""
    frame = analysis.load_database(
        db.engine, questionnaire=questionnaire, date_from=date_from, date_to=date_to,
        units=[unit_by_code(unit).code] if unit else None,
    )
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            frame[column] = frame[column].astype("Int64")
    return frame


#: The response export's formats: the analysis input (CSV), a labelled workbook with its
#: codebook, SPSS and Stata files with variable and value labels.
RESPONSE_FORMATS = ("csv", "xlsx", "sav", "dta")
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "sav": "application/x-spss-sav", "dta": "application/x-stata-dta", "json": "application/json"}


def responses_file(frame: pd.DataFrame, fmt: str) -> bytes:
    """The responses in ``fmt``: CSV as the analysis reads it; the others labelled for people
    with the questionnaire's words and the units' and procedures' names."""
    if fmt == "csv":
        return to_bytes(frame, "csv")
    from analysis.codebook import codebook, labelled_workbook, statistical_file

    variables = codebook(analysis.resolve_questionnaire(newest_key(frame)), names={
        "unit": {code: name for code, name in db.session.execute(select(Unit.code, Unit.name))},
        "procedure": {code: name for code, name in db.session.execute(select(Procedure.code, Procedure.name))}})
    if fmt == "xlsx":
        return labelled_workbook(frame, variables)
    if fmt in ("sav", "dta"):
        return statistical_file(frame, variables, fmt)
    raise ValueError(f"format: '{fmt}' is not one of {', '.join(RESPONSE_FORMATS)}")


def newest_key(frame: pd.DataFrame) -> str:
    """``id@version`` of the newest version the frame's responses answer (sipas-2023 for
    none): what the API and the labelled files analyse or describe them as."""
    answered = frame.dropna(subset=["questionnaire"]) if "questionnaire" in frame else frame.iloc[:0]
    if answered.empty:
        return "sipas-2023"
    qid = str(answered["questionnaire"].iloc[0])
    return f"{qid}@{int(pd.to_numeric(answered['questionnaire_version']).max())}"


def comments_frame(*, date_from: dt.date | None = None, date_to: dt.date | None = None,
                   unit: str | None = None) -> pd.DataFrame:
    query = (
        select(Comment.id.label("comment_id"), Unit.code.label("unit"), Procedure.code.label("procedure"),
               Comment.submitted_on, Comment.text)
        .join(Unit, Comment.unit_id == Unit.id)
        .outerjoin(Procedure, Comment.procedure_id == Procedure.id)
        .order_by(Comment.submitted_on, Comment.id)
    )
    if date_from:
        query = query.where(Comment.submitted_on >= date_from)
    if date_to:
        query = query.where(Comment.submitted_on <= date_to)
    codes = _unit_codes(unit)
    if codes is not None:
        query = query.where(Unit.code.in_(codes))
    rows = db.session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["comment_id", "unit", "procedure", "submitted_on", "text"])
    frame["submitted_on"] = frame["submitted_on"].astype(str)
    return frame


def to_bytes(frame: pd.DataFrame, fmt: str, *, sheet: str = "data") -> bytes:
    """CSV as UTF-8 with a BOM (Excel then opens Vietnamese text correctly), or XLSX.

    Text that a spreadsheet would run as a formula (a comment such as ``=HYPERLINK(...)``)
    stays text: in CSV it gets a leading ``'``, which ``analysis.read_responses`` removes
    again; in XLSX it is a string cell. Numbers are written as they are
    (analysis/safe_text.py has the rule)."""
    if fmt == "csv":
        return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
    if fmt == "xlsx":
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name=sheet[:31], index=False)
            inert_worksheet(writer.sheets[sheet[:31]], columns=text_columns(frame))
        return buffer.getvalue()
    raise ValueError(f"format: '{fmt}' is not csv or xlsx")
