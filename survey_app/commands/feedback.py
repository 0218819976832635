"""``sipas dossiers import`` (the one-stop system's counts) and ``sipas index766`` (the
Quyết định 766 satisfaction items per unit and period)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..feedback import dossiers
from ..models import Unit
from ..services import catalog
from . import fail


@click.group("dossiers")
def dossier_group() -> None:
    """Số hồ sơ từ hệ thống một cửa (the one-stop system's dossier counts)."""


@dossier_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def dossier_import(file: Path) -> None:
    """Nhập số hồ sơ đã giải quyết và quá hạn: cột unit, month (NNNN-TT), decided, overdue.

    One row per unit and month, from the one-stop system's monthly report. All or nothing;
    a unit and month imported before is replaced."""
    try:
        result = dossiers.import_tallies(file.read_bytes(), actor="cli")
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    click.echo(f"Đã nhập {file.name}: thêm {result.added}, thay {result.updated} dòng tháng × đơn vị.")


def _number(value: float, lang: str) -> str:
    """A count as a whole number, a share with one decimal, in the language's separators."""
    from analysis.format import format_number  # here: the command line starts without pandas

    return format_number(value, lang=lang, digits=0 if float(value).is_integer() else 1)


@click.command("index766")
@click.option("--period", required=True, help="Kỳ báo cáo, ví dụ 2026-Q2, 2026-H1, 2026-05, 2026.")
@click.option("--unit", "units", multiple=True, help="Mã đơn vị (cùng các đơn vị cấp dưới); lặp lại được.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Ngày xét hạn xử lý phản ánh (mặc định hôm nay).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@with_appcontext
def index766(period: str, units: tuple[str, ...], as_of, fmt: str, lang: str) -> None:
    """Các chỉ tiêu hài lòng theo Quyết định 766/QĐ-TTg mà số liệu sipas đo được, kèm khoảng tin cậy 95 %.

    One block per unit and the total ("*"). These are the agency's own counter measures of
    the 766 satisfaction group, not the portal's published score (docs/analysis.md)."""
    from analysis import decision766

    try:
        counts = decision766.load_counts(db.engine, period, units=list(units) or None,
                                         as_of=as_of.date() if as_of else None,
                                         timezone=current_app.config["SIPAS_TIMEZONE"])
    except ValueError as exc:
        raise fail(str(exc)) from None
    table = decision766.table(counts, lang=lang)
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        click.echo(json.dumps(json.loads(table.to_json(orient="records", force_ascii=False)), ensure_ascii=False,
                              indent=1))
        return
    total = "Tổng" if lang == "vi" else "Total"
    head = f"Kỳ {period} — số liệu tại quầy của cơ quan, không phải điểm công bố trên Cổng" if lang == "vi" else (
        f"Period {period} — the agency's own counter data, not the portal's published score")
    click.echo(head)
    names = dict(db.session.execute(select(Unit.code, Unit.name)).all())
    for unit, rows in table.groupby("unit", sort=False):
        click.echo(f"\n{total if unit == '*' else f'{names.get(unit, unit)} ({unit})'}")
        for row in rows.itertuples():
            if math.isnan(row.estimate):
                click.echo(f"  {row.name}: — ({row.note})")
                continue
            counts_text = "" if math.isnan(row.n) else f" ({_number(row.x, lang)}/{_number(row.n, lang)})"
            interval = f" [{_number(row.ci_low, lang)}; {_number(row.ci_high, lang)}]"
            note = f" — {row.note}" if row.note else ""
            click.echo(f"  {row.name}: {_number(row.estimate, lang)} %{interval}{counts_text}{note}")


COMMANDS = [dossier_group, index766]
