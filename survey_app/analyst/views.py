"""The analysts' dashboard: overview, criteria, trend, units, priorities, expectations,
comments and downloads. Every number comes from the analysis package (analyst/data.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import NamedTuple

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

import analysis
from analysis.charts import funnel_named
from analysis.codebook import labelled_indices
from analysis.format import format_number, format_percent, format_period
from analysis.report.labels import flag_why
from analysis.report.labels import label as term
from analysis.results import MAX_WIDTH, SMALL_N, flag_reasons

from ..access import roles_required
from ..extensions import db
from ..models import Comment, Procedure, Role, Unit
from ..params import page_number
from ..services import audit, catalog, successions
from ..services.exports import MIMETYPES, RESPONSE_FORMATS, responses_file, to_bytes
from . import charts
from . import data as D
from . import filters as F

MOST_CHARTED_UNITS = 40  # beyond, the units chart draws the units the funnel names

bp = Blueprint("analyst", __name__, url_prefix="/analyst")


class Chart(NamedTuple):
    """A chart's caption (shown above it, and its accessible name) and its SVG."""

    title: str
    svg: str


READERS = (Role.ANALYST, Role.ADMIN)
PAGE_SIZE = 25


@bp.context_processor
def _glossary() -> dict:
    """The report's words (verdicts, quadrants, ...) on the dashboard too: one vocabulary."""
    return {"term": lambda key: term(key, "vi"), "flag_why": _flag_why}


def _flag_why(estimate) -> str:
    """Which small-cell rule flagged an estimate (the dashboard analyses with the defaults)."""
    ci = estimate.ci
    reasons = flag_reasons(estimate.value, ci, int(estimate.n), SMALL_N, MAX_WIDTH)
    return flag_why(reasons, n=int(estimate.n), width=None if ci is None else ci[1] - ci[0], small_n=SMALL_N,
                    max_width=MAX_WIDTH, lang="vi")


@bp.app_template_filter("pct")
def pct(value) -> str:
    return format_percent(value, lang="vi")


@bp.app_template_filter("num")
def num(value, digits: int = 1) -> str:
    return format_number(value, lang="vi", digits=digits)


@bp.app_template_filter("period")
def period(label) -> str:
    """A period label in the report's words ("Quý II/2026", not "2026-Q2")."""
    return format_period(label, lang="vi")


@bp.app_template_filter("vndate")
def vndate(value) -> str:
    return value.strftime("%d/%m/%Y") if value else "–"


def _page(template: str, v: D.View, *, http_status: int | None = None, **context):
    """The page, 400 when the query string had a filter it had to drop (the page says which)."""
    # Listed when there are few (code and name rows, not ORM objects); else a field to type in.
    units = catalog.units_in_order() if F.listed(Unit) else None
    procedures = db.session.execute(select(Procedure.code, Procedure.name).order_by(Procedure.code)).all() \
        if F.listed(Procedure) else None
    chosen = {"unit": _name_of(Unit, v.filters.unit), "procedure": _name_of(Procedure, v.filters.procedure)}
    return render_template(
        f"analyst/{template}", v=v, f=v.filters, q=v.questionnaire, units=units, procedures=procedures, chosen=chosen,
        periods=F.PERIODS, channels=F.CHANNELS, flagged=F.FLAGGED, questionnaire_ids=F.questionnaire_ids(),
        questionnaire_titles=F.questionnaire_titles(),
        unit_merged=successions.merged_into().get(v.filters.unit) if v.filters.unit else None,
        links=filter_links(v),
        **context), http_status or (400 if v.filters.errors else 200)


def _name_of(model, code: str) -> str | None:
    return db.session.scalar(select(model.name).filter_by(code=code)) if code else None


def _group(result: analysis.AnalysisResult):
    return result.groups[0] if result.groups else None


@bp.get("/")
@roles_required(*READERS)
def overview():
    v = D.view()
    group = _group(D.analyze(v))
    plan, plan_source = D.plan()
    targets = D.unit_targets(plan, v.filters.unit)
    status = []
    if group is not None and targets is not None:
        rows = [("general", "Chỉ số SIPAS (câu hỏi chung)", group.general, targets.general),
                ("overall", "Chỉ số tổng hợp (trung bình 5 yếu tố)", group.overall, targets.overall)]
        rows += [("element", e.title["vi"], group.elements.get(e.code), targets.elements.get(e.code))
                 for e in v.questionnaire.elements]
        status = [(level, name, est, target, D.verdict_of(est, target)) for level, name, est, target in rows]
    chart = None
    if group is not None:
        title = "Chỉ số các yếu tố (khoảng tin cậy 95 %)"
        chart = Chart(title, D.derived(v, "chart:elements", lambda: charts.elements_chart(
            names=[e.title["vi"] for e in v.questionnaire.elements],
            estimates=[group.elements.get(e.code) for e in v.questionnaire.elements],
            targets=[targets.elements.get(e.code) if targets else None for e in v.questionnaire.elements],
            lang="vi", title=title)))
    return _page("overview.html", v, group=group, status=status, plan_source=plan_source,
                 rate=D.response_rate(v), covered=D.coverage(v), same_day=D.split(v, "same_day", 1, 0), chart=chart,
                 kiosk=D.split(v, "channel", "kiosk", "single"))


@bp.get("/criteria")
@roles_required(*READERS)
def criteria():
    v = D.view()
    group = _group(D.analyze(v))
    rows, chart = [], None
    if group is not None:
        rows = sorted(((c, group.criteria.get(c.code)) for c in v.questionnaire.criteria),
                      key=lambda item: (item[1] is None or item[1].value is None,
                                        item[1].value if item[1] is not None and item[1].value is not None else 0))
        title = "Các tiêu chí, từ thấp đến cao (khoảng tin cậy 95 %; chấm rỗng: không đủ dữ liệu)"
        chart = Chart(title, D.derived(v, "chart:criteria", lambda: charts.criteria_chart(
            codes=[c.code for c, _ in rows], texts=[c.text["vi"] for c, _ in rows], estimates=[e for _, e in rows],
            lang="vi", title=title)))
    return _page("criteria.html", v, group=group, rows=rows, chart=chart)


@bp.get("/trend")
@roles_required(*READERS)
def trend():
    v = D.view()
    info = D.trend(v)
    groups = info["groups"]
    plan, _ = D.plan()
    targets = D.unit_targets(plan, v.filters.unit)
    target = (targets.general if v.questionnaire.general else targets.overall) if targets else None
    chart = None
    if groups:
        series = [("Chỉ số SIPAS", [g.general for g in groups])] if v.questionnaire.general else []
        series.append(("Chỉ số tổng hợp", [g.overall for g in groups]))
        title = "Diễn biến theo kỳ (dải: khoảng tin cậy 95 %)"
        chart = Chart(title, D.derived(v, "chart:trend", lambda: charts.trend_chart(
            periods=[format_period(g.keys["period"], lang="vi") for g in groups], series=series, target=target,
            lang="vi", title=title)))
    return _page("trend.html", v, groups=groups, latest=info["latest"], chart=chart, target=target)


@bp.get("/units")
@roles_required(*READERS)
def units():
    v = D.view()
    info = D.units(v)
    result, ranking, names = info["result"], info["ranking"], info["names"]
    groups = sorted(result.groups, key=lambda g: str(g.keys.get("unit")))
    chart = funnel = None
    if groups:
        charted, title = groups, "Các đơn vị (khoảng tin cậy 95 %; chấm rỗng: không đủ dữ liệu)"
        if len(groups) > MOST_CHARTED_UNITS and ranking is not None and ranking.funnel is not None:
            # A row of 800 units was 7 s to draw after each response, 30,000 px tall: the units
            # the funnel names; the table below has every unit.
            shown = {p.label for p in funnel_named(ranking.funnel.points)}
            charted = [g for g in groups if str(g.keys["unit"]) in shown]
            title += (f"; {len(charted)} trong {len(groups)} đơn vị: nằm ngoài giới hạn 95 % của biểu đồ phễu "
                      "(xa nhất trước), cao nhất và thấp nhất; mọi đơn vị có trong bảng")
        series = [("Chỉ số SIPAS", [g.general for g in charted])] if v.questionnaire.general else []
        series.append(("Chỉ số tổng hợp", [g.overall for g in charted]))
        chart = Chart(title, D.derived(v, "chart:units", lambda: charts.units_chart(
            names=[names.get(g.keys["unit"], g.keys["unit"]) for g in charted], series=series, targets=[],
            lang="vi", title=title)))
    if ranking is not None and ranking.funnel is not None:
        title = ("Biểu đồ phễu: chỉ số theo số phiếu; đơn vị nằm ngoài giới hạn khác mức chung "
                 "nhiều hơn mức ngẫu nhiên cho phép")
        funnel = Chart(title, D.derived(v, "chart:funnel", lambda: charts.funnel_chart(
            fun=ranking.funnel, lang="vi", title=title, names=names)))
    shrunk = {s.label: s for s in ranking.shrinkage.units} if ranking and ranking.shrinkage else {}
    return _page("units.html", v, groups=groups, names=names, chart=chart, funnel=funnel, shrunk=shrunk,
                 ranking=ranking, merged=info["merged"])


@bp.get("/priorities")
@roles_required(*READERS)
def priorities():
    v = D.view()
    info = D.importance(v)
    chart = None
    if info is not None and info.n:
        title = "Tầm quan trọng và kết quả của các tiêu chí"
        chart = Chart(title, D.derived(v, "chart:ipa", lambda: charts.ipa_chart(priorities=info, lang="vi",
                                                                                title=title)))
    texts = {c.code: c.text["vi"] for c in v.questionnaire.criteria}
    return _page("priorities.html", v, info=info, chart=chart, texts=texts)


@bp.get("/expectations")
@roles_required(*READERS)
def expectations():
    v = D.view()
    group = _group(D.analyze(v))
    items = []
    if group is not None and group.expectations:
        texts = {e.code: e.text["vi"] for e in v.questionnaire.expectations}
        items = sorted(((texts.get(code, code), code, est) for code, est in group.expectations.items()),
                       key=lambda item: -(item[2].top.value if item[2].top.value is not None else -1))
    return _page("expectations.html", v, items=items)


@bp.get("/comments")
@roles_required(*READERS)
def comments():
    v = D.view()
    f = v.filters
    search = (request.args.get("search") or "").strip()[:100]
    page = page_number()
    query = (select(Comment, Unit, Procedure).join(Unit, Unit.id == Comment.unit_id)
             .outerjoin(Procedure, Procedure.id == Comment.procedure_id))
    query = F.narrow(query, Comment, f, v.unit_codes)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(Comment.text.ilike(f"%{escaped}%", escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(Comment.submitted_on.desc(), Comment.id)
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    pages = max(1, -(-total // PAGE_SIZE))
    return _page("comments.html", v, rows=rows, total=total, page=page, pages=pages, search=search)


@bp.get("/downloads")
@roles_required(*READERS)
def downloads():
    return _page("downloads.html", D.view())


def _attachment(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/download/responses.<fmt>")
@roles_required(*READERS)
def download_responses(fmt: str):
    if fmt not in RESPONSE_FORMATS:
        abort(404)
    v = D.view()
    if v.filters.errors:  # a file without the filter asked for would mislead: say why instead
        return _page("downloads.html", v)
    frame = D.selected(v).copy()
    frame["submitted_on"] = frame["submitted_on"].dt.strftime("%Y-%m-%d")
    for column in frame.columns:
        if frame[column].dtype.kind == "f":
            frame[column] = frame[column].astype("Int64")
    audit.record(current_user.username, "export.responses", v.filters.unit or None, rows=len(frame),
                 filters=v.filters.query())
    db.session.commit()
    return _attachment(responses_file(frame, fmt), MIMETYPES[fmt], f"sipas-responses.{fmt}")


@bp.get("/download/indices.<fmt>")
@roles_required(*READERS)
def download_indices(fmt: str):
    if fmt not in ("csv", "xlsx", "json"):
        abort(404)
    v = D.view()
    if v.filters.errors:
        return _page("downloads.html", v)
    result = D.analyze(v, period=v.filters.period)
    audit.record(current_user.username, "export.indices", v.filters.unit or None, format=fmt)
    db.session.commit()
    if fmt == "json":
        body = json.dumps(result.to_json(), ensure_ascii=False, allow_nan=False, indent=1)
        return _attachment(body.encode(), "application/json", "sipas-indices.json")
    table = result.to_frame() if fmt == "csv" else labelled_indices(result.to_frame())
    return _attachment(to_bytes(table, fmt, sheet="Chỉ số" if fmt == "xlsx" else "indices"), MIMETYPES[fmt],
                       f"sipas-indices.{fmt}")


@bp.get("/download/report.<fmt>")
@roles_required(*READERS)
def download_report(fmt: str):
    if fmt not in ("html", "xlsx"):
        abort(404)
    from analysis.report import build_report, render_html, write_xlsx

    v = D.view()
    if v.filters.errors:
        return _page("downloads.html", v)
    plan, _ = D.plan()
    if plan is None:
        abort(404)
    period = request.args.get("report_period") or _latest_period(v)
    rows = D.selected(v)
    try:
        report = build_report(rows, plan, period=period, questionnaire=v.questionnaire,
                              issuance=D.issuance(v, period))
    except ValueError as exc:
        return _page("downloads.html", v, report_error=str(exc), http_status=400)
    audit.record(current_user.username, "export.report", v.filters.unit or None, period=period, format=fmt)
    db.session.commit()
    if fmt == "html":
        # A document to keep and send on, with its own styles: a download, opened from disk
        # (in the browser it would fall under the site's policy, which allows no inline style).
        return _attachment(render_html(report).encode("utf-8"), "text/html; charset=utf-8",
                           f"sipas-bao-cao-{period}.html")
    return _attachment(write_xlsx(report), XLSX, f"sipas-bao-cao-{period}.xlsx")


def _latest_period(v: D.View) -> str:
    groups = D.trend(v)["groups"]
    return groups[-1].keys["period"] if groups else str(dt.date.today().year)


def filter_links(v: D.View) -> dict[str, str]:
    return {name: url_for(f"analyst.{name}", **v.filters.query())
            for name in ("overview", "criteria", "trend", "units", "priorities", "expectations", "comments",
                         "decision766", "downloads")}


from . import handling  # noqa: E402, F401  (registers /analyst/766 on this blueprint)
