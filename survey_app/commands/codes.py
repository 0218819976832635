"""sipas codes: issue, list batches, void."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..models import CodeKind
from ..services import catalog, codes
from . import fail


@click.group("codes")
def codes_group() -> None:
    """Questionnaire codes (QR codes) for dossiers and counters."""


@codes_group.command("issue")
@click.option("--unit", "unit_code", required=True, help="Unit code.")
@click.option("--procedure", "procedure_code", help="Procedure code (optional).")
@click.option("--questionnaire", default="sipas-2023", show_default=True, help="ID or ID@VERSION.")
@click.option("--competent", "competent_code",
              help="The agency competent to decide the dossiers, when not --unit (default: the procedure's).")
@click.option("--kind", type=click.Choice([k.value for k in CodeKind]), default="single", show_default=True)
@click.option("--count", type=click.IntRange(1, codes.MAX_BATCH), default=1, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True)
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a PDF: A4 label sheets, or a poster for --kind counter.")
@with_appcontext
def codes_issue(unit_code: str, procedure_code: str | None, questionnaire: str, competent_code: str | None,
                kind: str, count: int, fmt: str, pdf_path: Path | None) -> None:
    """Issue codes and print each with its URL."""
    try:
        unit = catalog.unit_by_code(unit_code)
        procedure = catalog.procedure_by_code(procedure_code) if procedure_code else None
        competent = catalog.unit_by_code(competent_code) if competent_code else None
        batch, issued = codes.issue(unit=unit, procedure=procedure, questionnaire=questionnaire,
                                    kind=kind, count=count, actor="cli", source="cli", competent=competent)
    except (catalog.CatalogError, LookupError, ValueError, codes.PublicUrlError) as exc:
        raise fail(str(exc)) from None
    if pdf_path is not None:
        from ..services.printing import batch_document

        pdf_path.write_bytes(batch_document(issued, kind=kind))
        click.echo(f"Wrote {pdf_path}", err=True)
    rows = [item.as_dict() for item in issued]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        for item in issued:
            click.echo(f"{item.code}\t{item.url}")
    click.echo(f"Batch {batch.id if batch else '-'}: {len(issued)} {kind} code(s) for {unit.code}.", err=True)


COMMANDS = [codes_group]
