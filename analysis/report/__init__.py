"""The plan report: ``sipas report --plan plan.toml --period 2024 [-o report.html|.xlsx]``.

Per unit and for the whole organisation, for one period: the general (SIPAS) and
composite indices, the elements and criteria with confidence intervals and n, the response
rate (when code issuance counts are given), the verdict against each plan target (§4),
the change against the plan's baseline period with its interval, the five criteria to
concentrate on (importance–performance analysis), small-cell warnings and a method note.
HTML (self-contained, charts as inline SVG) or XLSX (a sheet per table and a methodology
sheet). Vietnamese by default, English with ``lang="en"``.

>>> import pandas as pd, questionnaires
>>> from analysis.targets import parse_plan
>>> q = questionnaires.load("sipas-2023")
>>> df = pd.DataFrame({c.code: [5, 4, 3, 4] * 10 for c in q.criteria})
>>> df["HL"] = [5, 4, 2, 4] * 10
>>> df["unit"] = ["A", "B"] * 20
>>> df["submitted_on"] = "2024-05-02"
>>> plan = parse_plan("[targets]\\ngeneral = 70\\noverall = 80\\n")
>>> report = build_report(df, plan, period="2024-Q2", questionnaire=q)
>>> [(u.unit, u.n, u.check("general").verdict) for u in report.all_units]
[(None, 40, 'inconclusive'), ('A', 20, 'inconclusive'), ('B', 20, 'met')]
>>> render_html(report).startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

from .html import render_html
from .model import PlanReport, ResponseRate, UnitReport, build_report
from .xlsx import build_workbook, write_xlsx

__all__ = [
    "PlanReport",
    "ResponseRate",
    "UnitReport",
    "build_report",
    "build_workbook",
    "render_html",
    "write_xlsx",
]
