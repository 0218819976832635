"""The plan report as one self-contained HTML document (inline CSS and SVG; no scripts,
no fonts, images or styles from elsewhere), printable on A4."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from .. import charts
from ..format import (
    MISSING,
    format_ci,
    format_date,
    format_integer,
    format_percent,
    format_period,
    format_points,
    format_pvalue,
)
from .labels import CI_METHOD_NAMES, METHOD_NOTE, flag_why, label
from .model import PlanReport, UnitReport, estimate_rows

CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, Helvetica, sans-serif; color: #1a1a1a;
       max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.45;
       font-size: 10.5pt; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 2px solid #0072B2;
     padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .8rem 0; }
.meta dt { font-weight: bold; }
.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: 9.5pt; }
th, td { border: 1px solid #c8c8c8; padding: .25rem .4rem; vertical-align: top; }
th { background: #eef4f9; text-align: left; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.level-general td, tr.level-overall td { font-weight: bold; }
tr.level-element td { background: #f7f7f7; font-weight: bold; }
.met { color: #00603f; font-weight: bold; }
.not_met { color: #a33c00; font-weight: bold; }
.inconclusive { color: #555; }
.flag { color: #a33c00; }
figure { margin: 1rem 0; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; }
svg text { font-family: "DejaVu Sans", "Segoe UI", Arial, Helvetica, sans-serif !important; }
figcaption { font-size: 9pt; color: #444; }
section.unit { page-break-before: always; }
.note { font-size: 9pt; color: #444; }
"""


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _verdict(report: PlanReport, verdict: str | None) -> str:
    if verdict is None:
        return f'<span class="inconclusive">{_e(label("no_data", report.lang))}</span>'
    return f'<span class="{verdict}">{_e(label(verdict, report.lang))}</span>'


def _unit_title(report: PlanReport, u: UnitReport) -> str:
    if u.unit is None:
        return report.plan.organisation or label("department", report.lang)
    return u.unit if u.name == u.unit else f"{u.name} ({u.unit})"


def _short_name(report: PlanReport, u: UnitReport) -> str:
    """The unit by its name (its code when it has none): names belong where people read."""
    return label("department", report.lang) if u.unit is None else u.name


def _level_name(report: PlanReport, row: Mapping[str, Any]) -> str:
    lang = report.lang
    if row["level"] == "general":
        return label("general", lang)
    if row["level"] == "overall":
        return label("overall", lang)
    return f'{row["code"]} — {row["name"]}'


def _summary_table(report: PlanReport) -> str:
    lang = report.lang
    has_general = report.questionnaire.general is not None
    head = [label("unit", lang), label("responses", lang)]
    if report.has_issuance:
        head.append(label("response_rate", lang))
    if has_general:
        head += [label("general_short", lang), label("ci", lang), label("target", lang),
                 label("verdict", lang)]
    head += [label("overall_short", lang), label("ci", lang), label("target", lang),
             label("verdict", lang)]
    if report.baseline:
        which = label("general_short" if has_general else "overall_short", lang)
        head.append(f'{label("change_short", lang)} ({which})')
    rows = []
    for u in report.all_units:
        g = u.group
        cells = [f"<td>{_e(_short_name(report, u))}</td>",
                 f'<td class="num">{format_integer(u.n, lang=lang)}</td>']
        if report.has_issuance:
            rate = u.response.rate if u.response else None
            cells.append(f'<td class="num">{format_percent(rate, lang=lang)}</td>')
        levels = (["general"] if has_general else []) + ["overall"]
        for level in levels:
            est = getattr(g, level) if g is not None else None
            check = u.check(level)
            cells += [
                f'<td class="num">{format_percent(getattr(est, "value", None), lang=lang)}</td>',
                f'<td class="num">{format_ci(getattr(est, "ci", None), lang=lang)}</td>',
                f'<td class="num">{_target(check.target, lang) if check else MISSING}</td>',
                f"<td>{_verdict(report, check.verdict) if check else MISSING}</td>",
            ]
        if report.baseline:
            ch = u.change("general" if has_general else "overall",
                          "general" if has_general else "overall")
            cells.append(
                f'<td class="num">{_change_text(report, ch)}</td>'
            )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _target(value: float, lang: str) -> str:
    return format_percent(value, lang=lang, digits=0 if float(value).is_integer() else 1)


def _change_text(report: PlanReport, ch: Any) -> str:
    if ch is None:
        return MISSING
    d = ch.difference
    text = format_points(d.estimate, lang=report.lang)
    if text == MISSING:
        return text
    ci = format_ci(d.ci, lang=report.lang, percent=False)
    return f"{_e(text)} ({_e(ci)})"


def _unit_table(report: PlanReport, u: UnitReport) -> str:
    lang = report.lang
    head = [label("key", lang), label("index", lang), label("ci", lang), label("n", lang),
            label("target", lang), label("verdict", lang)]
    if report.baseline:
        head += [label("change", lang), label("p_adjusted", lang)]
    head.append(label("flag", lang))
    rows = []
    for row in estimate_rows(report, u):
        est = row["est"]
        level = row["level"]
        check = u.check(level, None if level in ("general", "overall") else row["code"])
        cells = [
            f"<td>{_e(_level_name(report, row))}</td>",
            f'<td class="num">{format_percent(est.value, lang=lang)}</td>',
            f'<td class="num">{format_ci(est.ci, lang=lang)}</td>',
            f'<td class="num">{format_integer(est.n, lang=lang)}</td>',
            f'<td class="num">{_target(check.target, lang) if check else ""}</td>',
            f"<td>{_verdict(report, check.verdict) if check else ''}</td>",
        ]
        if report.baseline:
            ch = u.change(level, "general" if level == "general" else row["key"])
            cells += [
                f'<td class="num">{_change_text(report, ch) if ch else ""}</td>',
                f'<td class="num">{format_pvalue(ch.p_adjusted, lang=lang) if ch else ""}</td>',
            ]
        flag = label(est.flag, lang) if est.flag else ""
        cells.append(f'<td class="flag">{_e(flag)}</td>')
        rows.append(f'<tr class="level-{level}">{"".join(cells)}</tr>')
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _priorities(report: PlanReport, u: UnitReport) -> str:
    lang = report.lang
    items = u.concentrate(5)
    if not items:
        return f"<p>{_e(label('none', lang))}</p>"
    q = report.questionnaire
    head = [label("rank", lang), label("criterion", lang), label("performance", lang),
            label("importance_short", lang), label("quadrant", lang)]
    rows = []
    for i, c in enumerate(items, 1):
        text = q.criterion(c.code).text[lang]
        rows.append(
            "<tr>"
            f'<td class="num">{i}</td><td>{_e(c.code)} — {_e(text)}</td>'
            f'<td class="num">{format_percent(c.performance, lang=lang)}</td>'
            f'<td class="num">{_e(_fmt_r(c.importance, lang))}</td>'
            f"<td>{_e(label(c.quadrant, lang) if c.quadrant else '')}</td>"
            "</tr>"
        )
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _fmt_r(value: float, lang: str) -> str:
    from ..format import format_number

    return format_number(value, lang=lang, digits=2)


def _warnings(report: PlanReport, u: UnitReport) -> str:
    lang = report.lang
    if not u.warnings:
        return f"<p>{_e(label('no_warnings', lang))}</p>"
    items = []
    for w in u.warnings:
        what = (label("general", lang) if w.level == "general" else
                label("overall", lang) if w.level == "overall" else w.code)
        why = flag_why(w.reasons, n=w.n, width=w.width, small_n=report.small_n, max_width=report.max_width, lang=lang)
        items.append(f"<li>{_e(label('warning_line', lang, what=what, why=why))}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _figure(svg: str, caption: str, lang: str) -> str:
    return (f"<figure>{svg}<figcaption>{_e(caption)} {_e(label('chart_note', lang))}"
            "</figcaption></figure>")


def _charts(report: PlanReport) -> str:
    lang = report.lang
    out = []
    has_general = report.questionnaire.general is not None
    units = report.all_units
    names = [_short_name(report, u) for u in units]
    series = []
    if has_general:
        series.append((label("general_short", lang),
                       [u.group.general if u.group is not None else None for u in units]))
    series.append((label("overall_short", lang),
                   [u.group.overall if u.group is not None else None for u in units]))
    targets = []
    if has_general and report.plan.targets.general is not None:
        targets.append((label("general_short", lang), report.plan.targets.general))
    if report.plan.targets.overall is not None:
        targets.append((label("overall_short", lang), report.plan.targets.overall))
    conf = format_percent(100 * report.confidence, lang=lang, digits=0)
    title = label("chart_units", lang, conf=conf)
    out.append(_figure(charts.units_chart(names=names, series=series, targets=targets,
                                          lang=lang, title=title), title, lang))
    dept = report.department
    if dept.group is not None:
        q = report.questionnaire
        titles = {e.code: e.title[lang] for e in q.elements}
        codes = [c for c in titles if c in dept.group.elements]
        title = label("chart_elements", lang, unit=_unit_title(report, dept))
        out.append(_figure(charts.elements_chart(
            names=[f"{c} · {titles[c]}" for c in codes],
            estimates=[dept.group.elements[c] for c in codes],
            targets=[report.plan.targets.elements.get(c) for c in codes],
            lang=lang, title=title), title, lang))
    if dept.priorities is not None and any(c.quadrant for c in dept.priorities.criteria):
        title = label("chart_ipa", lang, unit=_unit_title(report, dept))
        out.append(_figure(charts.ipa_chart(priorities=dept.priorities, lang=lang, title=title),
                           title, lang))
    if report.funnel is not None:
        title = label("chart_funnel", lang)
        out.append(_figure(charts.funnel_chart(
            fun=report.funnel, lang=lang, title=title, names={u.unit: u.name for u in units if u.unit}),
                           title, lang))
    if report.baseline and has_general:
        diffs = [u.change("general", "general") for u in units]
        if any(d is not None for d in diffs):
            title = label("chart_change", lang)
            out.append(_figure(charts.change_chart(
                names=names, differences=[d.difference if d else None for d in diffs],
                lang=lang, title=title), title, lang))
    return "".join(out)


def method_lines(report: PlanReport) -> list[str]:
    lang = report.lang
    conf = format_percent(100 * report.confidence, lang=lang, digits=0)
    method = CI_METHOD_NAMES[lang].get(report.ci_method, report.ci_method)
    return [
        line.format(conf=conf, method=method, small_n=report.small_n,
                    max_width=format_percent(report.max_width, lang=lang, digits=0).replace(" %", ""))
        for line in METHOD_NOTE[lang]
    ]


def render_html(report: PlanReport) -> str:
    """The report as a complete HTML document (a str)."""
    lang = report.lang
    plan = report.plan
    title = plan.title or label("report", lang)
    q = report.questionnaire
    meta = [
        (label("period", lang), f"{format_period(report.period, lang=lang)}"),
        (label("dates", lang),
         f"{format_date(report.start, lang=lang)} – {format_date(report.end, lang=lang)}"),
    ]
    if report.baseline:
        meta.append((label("baseline", lang),
                     f"{format_period(report.baseline, lang=lang)} "
                     f"({format_date(report.baseline_start, lang=lang)} – "
                     f"{format_date(report.baseline_end, lang=lang)})"))
    meta += [
        (label("questionnaire", lang), f"{q.title[lang]} ({q.key})"),
        (label("generated", lang), format_date(report.generated, lang=lang)),
    ]
    meta_html = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} — {_e(format_period(report.period, lang=lang))}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(plan.organisation)}</p>" if plan.organisation else "",
        f'<dl class="meta">{meta_html}</dl>',
        "</header>",
        '<section id="summary">',
        f"<h2>{_e(label('summary', lang))}</h2>",
        _summary_table(report),
        "" if report.has_issuance else f'<p class="note">{_e(label("no_issuance", lang))}</p>',
        "" if report.baseline else f'<p class="note">{_e(label("no_baseline", lang))}</p>',
        _charts(report),
        "</section>",
    ]
    for u in report.all_units:
        anchor = "department" if u.unit is None else f"unit-{u.unit}"
        facts = [f"{label('responses', lang)}: {format_integer(u.n, lang=lang)}"]
        if u.response is not None:
            facts.append(f"{label('issued', lang)}: {format_integer(u.response.issued, lang=lang)}")
            facts.append(f"{label('response_rate', lang)}: "
                         f"{format_percent(u.response.rate, lang=lang)}")
            if u.response.open:
                facts.append(f"{label('open_codes', lang)}: {format_integer(u.response.open, lang=lang)} "
                             f"({label('open_answered', lang)}: {format_integer(u.response.open_answered, lang=lang)})")
        parts += [
            f'<section class="unit" id="{_e(anchor)}">',
            f"<h2>{_e(_unit_title(report, u))}</h2>",
            f"<p>{_e(' · '.join(facts))}</p>",
            f"<h3>{_e(label('unit_indices', lang))}</h3>",
            _unit_table(report, u),
            f"<h3>{_e(label('priorities', lang))}</h3>",
            _priorities(report, u),
            f"<h3>{_e(label('warnings', lang))}</h3>",
            _warnings(report, u),
            "</section>",
        ]
    parts += [
        '<section id="method">',
        f"<h2>{_e(label('method', lang))}</h2>",
        "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in method_lines(report)) + "</ul>",
        "</section>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p)
