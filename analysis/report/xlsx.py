"""The plan report as an XLSX workbook: one sheet per table and a methodology sheet.

Numbers are stored as numbers with number formats (percent values in percent units, as
in the JSON, shown with a quoted " %"), dates as dates; text only where the content is text,
and always as string cells (a unit name such as ``=HYPERLINK(...)`` is never a formula).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..format import excel_formats, format_period
from ..safe_text import inert_worksheet
from .html import method_lines
from .labels import flag_why, label
from .model import PlanReport, UnitReport, estimate_rows

_HEADER_FILL = PatternFill("solid", fgColor="EEF4F9")
_BOLD = Font(bold=True)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class _Sheet:
    """Writes a header row and typed rows; column kinds give number formats."""

    def __init__(self, book: Workbook, title: str, columns: Sequence[tuple[str, str]],
                 lang: str, first: bool = False) -> None:
        self.ws = book.active if first else book.create_sheet()
        self.ws.title = title[:31]
        self.kinds = [kind for _, kind in columns]
        self.formats = excel_formats(lang)
        for j, (name, _) in enumerate(columns, 1):
            cell = self.ws.cell(row=1, column=j, value=name)
            cell.font = _BOLD
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        self.widths = [max(8, min(40, len(name) + 2)) for name, _ in columns]
        self.ws.freeze_panes = "A2"

    def add(self, values: Sequence[Any]) -> None:
        row = self.ws.max_row + 1
        for j, (value, kind) in enumerate(zip(values, self.kinds, strict=True), 1):
            if kind == "text":
                v: Any = None if value is None else str(value)
            elif kind == "date":
                v = value
            else:
                v = _num(value)
                if kind == "integer" and v is not None and float(v).is_integer():
                    v = int(v)
            cell = self.ws.cell(row=row, column=j, value=v)
            if kind in self.formats:
                cell.number_format = self.formats[kind]
            if kind == "text" and v is not None:
                self.widths[j - 1] = max(self.widths[j - 1], min(60, len(v) + 2))

    def close(self) -> None:
        # Unit names, plan titles and unit codes of an input file are text, never formulas.
        inert_worksheet(self.ws)
        for j, width in enumerate(self.widths, 1):
            self.ws.column_dimensions[get_column_letter(j)].width = width
        if self.ws.max_row > 1:
            self.ws.auto_filter.ref = self.ws.dimensions


def _unit_cells(report: PlanReport, u: UnitReport) -> list[Any]:
    return [u.unit,
            u.name or (report.plan.organisation or label("department", report.lang))]


def _level(report: PlanReport, level: str) -> str:
    return label(f"level_{level}", report.lang)


def build_workbook(report: PlanReport) -> Workbook:
    """The report as an openpyxl Workbook."""
    lang = report.lang
    book = Workbook()
    L = lambda key: label(key, lang)  # noqa: E731
    unit_cols = [(L("unit_code"), "text"), (L("unit"), "text")]

    # Summary
    cols = unit_cols + [(L("responses"), "integer")]
    if report.has_issuance:
        cols += [(L("issued"), "integer"), (L("response_rate"), "percent")]
    has_general = report.questionnaire.general is not None
    levels = (["general"] if has_general else []) + ["overall"]
    for level in levels:
        name = L(f"{level}_short")
        cols += [(f"{name}: {L('index')}", "percent"), (f"{name}: {L('ci_low')}", "percent"),
                 (f"{name}: {L('ci_high')}", "percent"), (f"{name}: {L('target')}", "percent"),
                 (f"{name}: {L('verdict')}", "text")]
    if report.baseline:
        name = L(f"{levels[0]}_short")
        cols += [(f"{name}: {L('difference')}", "points"),
                 (f"{name}: {L('ci_low')}", "points"), (f"{name}: {L('ci_high')}", "points")]
    sheet = _Sheet(book, L("summary"), cols, lang, first=True)
    for u in report.all_units:
        values: list[Any] = _unit_cells(report, u) + [u.n]
        if report.has_issuance:
            values += [u.response.issued if u.response else None,
                       u.response.rate if u.response else None]
        for level in levels:
            est = getattr(u.group, level) if u.group is not None else None
            check = u.check(level)
            ci = getattr(est, "ci", None) or (None, None)
            values += [getattr(est, "value", None), ci[0], ci[1],
                       check.target if check else None,
                       L(check.verdict) if check and check.verdict else None]
        if report.baseline:
            ch = u.change(levels[0], levels[0])
            d = ch.difference if ch else None
            values += [d.estimate if d else None, d.ci[0] if d else None, d.ci[1] if d else None]
        sheet.add(values)
    sheet.close()

    # Indices
    sheet = _Sheet(book, L("indices_sheet"), unit_cols + [
        (L("level"), "text"), (L("code"), "text"), (L("name"), "text"), (L("index"), "percent"),
        (L("ci_low"), "percent"), (L("ci_high"), "percent"), (L("se"), "number"),
        (L("n"), "integer"), (L("flag"), "text")], lang)
    for u in report.all_units:
        for row in estimate_rows(report, u):
            est = row["est"]
            ci = est.ci or (None, None)
            name = row["name"] or L(row["level"])
            sheet.add(_unit_cells(report, u) + [
                _level(report, row["level"]), row["code"] or row["level"], name, est.value,
                ci[0], ci[1], est.se, est.n, L(est.flag) if est.flag else None])
    sheet.close()

    # Targets
    sheet = _Sheet(book, L("targets_sheet"), unit_cols + [
        (L("level"), "text"), (L("code"), "text"), (L("target"), "percent"),
        (L("index"), "percent"), (L("ci_low"), "percent"), (L("ci_high"), "percent"),
        (L("n"), "integer"), (L("verdict"), "text"), (L("flag"), "text")], lang)
    for u in report.all_units:
        for c in u.checks:
            sheet.add(_unit_cells(report, u) + [
                _level(report, c.level), c.code or c.level, c.target, c.index, c.ci[0], c.ci[1],
                c.n, L(c.verdict) if c.verdict else L("no_data"), L(c.flag) if c.flag else None])
    sheet.close()

    # Change against the baseline
    if report.baseline:
        sheet = _Sheet(book, L("change_sheet"), unit_cols + [
            (L("level"), "text"), (L("code"), "text"),
            (f"{L('index')} {report.baseline}", "percent"),
            (f"{L('index')} {report.period}", "percent"), (L("difference"), "points"),
            (L("ci_low"), "points"), (L("ci_high"), "points"), (L("p_value"), "pvalue"),
            (L("p_adjusted"), "pvalue"), (L("flag"), "text")], lang)
        for u in report.all_units:
            for change in u.changes:
                d = change.difference
                sheet.add(_unit_cells(report, u) + [
                    _level(report, change.level), change.code, d.b, d.a, d.estimate, d.ci[0],
                    d.ci[1], d.p_value, change.p_adjusted,
                    L(change.flag) if change.flag else None])
        sheet.close()

    # Priorities
    q = report.questionnaire
    sheet = _Sheet(book, L("priorities_sheet"), unit_cols + [
        (L("rank"), "integer"), (L("code"), "text"), (L("criterion"), "text"),
        (L("performance"), "percent"), (L("importance_short"), "ratio"),
        (L("quadrant"), "text")], lang)
    for u in report.all_units:
        for i, item in enumerate(u.concentrate(5), 1):
            sheet.add(_unit_cells(report, u) + [
                i, item.code, q.criterion(item.code).text[lang], item.performance,
                item.importance, L(item.quadrant) if item.quadrant else None])
    sheet.close()

    # Response rate
    if report.has_issuance:
        sheet = _Sheet(book, L("response_sheet"), unit_cols + [
            (L("responses"), "integer"), (L("issued"), "integer"), (L("answered"), "integer"),
            (L("response_rate"), "percent"), (L("open_codes"), "integer"), (L("open_answered"), "integer")], lang)
        for u in report.all_units:
            r = u.response
            sheet.add(_unit_cells(report, u) + [
                r.responses if r else None, r.issued if r else None,
                r.answered if r else None, r.rate if r else None,
                r.open if r else None, r.open_answered if r else None])
        sheet.close()

    # Warnings
    sheet = _Sheet(book, L("warnings_sheet"), unit_cols + [
        (L("level"), "text"), (L("code"), "text"), (L("n"), "integer"),
        (L("ci"), "number"), (L("flag_reason"), "text")], lang)
    for u in report.all_units:
        for w in u.warnings:
            why = flag_why(w.reasons, n=w.n, width=w.width, small_n=report.small_n, max_width=report.max_width,
                           lang=lang)
            sheet.add(_unit_cells(report, u) + [_level(report, w.level), w.code, w.n, w.width, why])
    sheet.close()

    # Method
    sheet = _Sheet(book, L("method_sheet"), [(L("key"), "text"), (L("value"), "text")], lang)
    ws = sheet.ws
    meta: list[tuple[str, Any, str | None]] = [
        (L("plan"), report.plan.title or "", None),
        (L("unit"), report.plan.organisation or "", None),
        (L("period"), f"{format_period(report.period, lang=lang)} ({report.period})", None),
        (L("dates"), report.start, "date"),
        ("", report.end, "date"),
    ]
    if report.baseline:
        meta += [(L("baseline"), f"{format_period(report.baseline, lang=lang)} "
                                 f"({report.baseline})", None),
                 ("", report.baseline_start, "date"), ("", report.baseline_end, "date")]
    meta += [
        (L("questionnaire"), report.questionnaire.key, None),
        (L("confidence"), report.confidence, "ratio"),
        (L("ci_method"), report.ci_method, None),
        (L("generated"), report.generated, "date"),
    ]
    formats = excel_formats(lang)
    for key, value, kind in meta:
        row = ws.max_row + 1
        ws.cell(row=row, column=1, value=key)
        cell = ws.cell(row=row, column=2, value=value)
        if kind is not None:
            cell.number_format = formats[kind]
    ws.cell(row=ws.max_row + 2, column=1, value=L("method")).font = _BOLD
    for line in method_lines(report):
        cell = ws.cell(row=ws.max_row + 1, column=2, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.widths = [24, 110]
    sheet.close()
    ws.auto_filter.ref = None
    return book


def write_xlsx(report: PlanReport, path: str | Path | None = None) -> bytes:
    """Write the workbook to ``path`` (if given) and return its bytes."""
    buf = io.BytesIO()
    build_workbook(report).save(buf)
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
