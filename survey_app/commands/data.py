"""sipas export: responses and comments in the analysis input format."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..services.audit import record
from . import fail


def _date(_ctx, _param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD") from None


#: services.exports.RESPONSE_FORMATS, named here so the command line starts without pandas.
RESPONSE_FORMATS = ("csv", "xlsx", "sav", "dta")


@click.group("export")
def export_group() -> None:
    """Export responses or comments."""


def _export_options(func, formats=("csv", "xlsx")):
    for option in reversed([
        click.option("--format", "fmt", type=click.Choice(list(formats)), default="csv", show_default=True,
                     help="csv: the analysis input; xlsx: labelled, with a codebook sheet; sav/dta: SPSS/Stata "
                          "with variable and value labels."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="File to write (standard output when omitted; XLSX needs a file)."),
        click.option("--from", "date_from", callback=_date, help="First day, YYYY-MM-DD."),
        click.option("--to", "date_to", callback=_date, help="Last day, YYYY-MM-DD."),
        click.option("--unit", "unit_code", help="Only this unit and the units below it."),
    ]):
        func = option(func)
    return func


def _write(frame, fmt: str, output: Path | None, what: str) -> None:
    from ..services import exports

    if fmt != "csv" and output is None:
        raise fail(f"{fmt.upper()} is binary: give a file with -o FILE.{fmt}")
    data = exports.responses_file(frame, fmt) if what == "responses" else exports.to_bytes(frame, fmt, sheet=what)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        click.echo(f"Wrote {len(frame)} {what} to {output}", err=True)


@export_group.command("responses")
@functools.partial(_export_options, formats=RESPONSE_FORMATS)
@click.option("--questionnaire", help="ID or ID@VERSION; needed when the database holds several questionnaires.")
@with_appcontext
def export_responses(fmt, output, date_from, date_to, unit_code, questionnaire) -> None:
    """One row per response, in the analysis input format (UTF-8; CSV with BOM for Excel)."""
    from ..services import exports  # pandas and the analysis package: loaded when exporting

    try:
        frame = exports.responses_frame(date_from=date_from, date_to=date_to, unit=unit_code,
                                        questionnaire=questionnaire)
    except (ValueError, LookupError) as exc:
        raise fail(str(exc)) from None
    record("cli", "export.responses", unit_code, rows=len(frame), date_from=date_from, date_to=date_to)
    db.session.commit()
    _write(frame, fmt, output, "responses")


@export_group.command("comments")
@_export_options
@with_appcontext
def export_comments(fmt, output, date_from, date_to, unit_code) -> None:
    """Scrubbed comments with unit, procedure and date."""
    from ..services import exports

    try:
        frame = exports.comments_frame(date_from=date_from, date_to=date_to, unit=unit_code)
    except (ValueError, LookupError) as exc:
        raise fail(str(exc)) from None
    record("cli", "export.comments", unit_code, rows=len(frame))
    db.session.commit()
    _write(frame, fmt, output, "comments")


COMMANDS = [export_group]
