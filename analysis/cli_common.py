"""What the analysis commands share: reading their input, choosing the format, failing
with one line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
import pandas as pd

FORMATS = ("table", "json", "csv", "xlsx")


# --------------------------------------------------------------------------- helpers
def _fail(exc: BaseException) -> click.ClickException:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, KeyError):
        message = f"not found: {message}"
    return click.ClickException(message)


def _split(values: Iterable[str]) -> tuple[str, ...]:
    """``--by unit,channel --by gender`` → ("unit", "channel", "gender")."""
    out: list[str] = []
    for value in values:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return tuple(out)


def _format_for(fmt: str | None, output: str | None) -> str:
    if fmt is not None:
        return fmt
    if output is not None:
        suffix = Path(output).suffix.lower().lstrip(".")
        if suffix in FORMATS:
            return suffix
    return "table"


def _questionnaire_for(df: pd.DataFrame, key: str | None) -> Any:
    """``--questionnaire ID[@VERSION]``, else the data's ``questionnaire`` column (the newest
    version present when the column ``questionnaire_version`` holds several)."""
    import analysis

    if key:
        return analysis.resolve_questionnaire(key)
    if "questionnaire" not in df.columns:
        raise click.UsageError(
            "the data have no 'questionnaire' column; name it with --questionnaire ID[@VERSION]"
        )
    ids = sorted({str(v) for v in df["questionnaire"].dropna()})
    if not ids:
        raise click.UsageError(
            "the 'questionnaire' column is empty; name it with --questionnaire ID[@VERSION]"
        )
    if len(ids) > 1:
        raise click.UsageError(
            f"the data hold answers to several questionnaires ({', '.join(ids)}); "
            "choose one with --questionnaire"
        )
    key = ids[0]
    if "questionnaire_version" in df.columns:
        versions = pd.to_numeric(df["questionnaire_version"], errors="coerce").dropna()
        if len(versions):
            key = f"{key}@{int(versions.max())}"
    return analysis.resolve_questionnaire(key)


def _read_input(
    input_path: str | None, use_db: bool, database_url: Callable[[], str], *,
    questionnaire: str | None, date_from: str | None = None, date_to: str | None = None,
    unit: str | None = None,
) -> pd.DataFrame:
    import analysis

    if use_db and input_path:
        raise click.UsageError("give either INPUT or --db, not both")
    if not use_db and not input_path:
        raise click.UsageError("give INPUT (a CSV or XLSX export) or --db")
    if unit and not use_db:
        raise click.UsageError("--unit goes with --db (an export holds no unit tree); filter the export instead")
    if use_db:
        try:
            return analysis.load_database(database_url(), questionnaire=questionnaire,
                                          date_from=date_from, date_to=date_to,
                                          units=[unit] if unit else None)
        except (ValueError, LookupError) as exc:
            raise click.ClickException(str(exc)) from None
    path = Path(str(input_path))
    if not path.is_file():
        raise click.ClickException(f"{path}: no such file")
    try:
        return analysis.read_responses(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise click.ClickException(f"{path}: cannot be read as a response export ({exc})") from None
    except Exception as exc:  # pandas/calamine parser errors have many classes
        raise click.ClickException(f"{path}: cannot be read as a response export ({exc})") from None



def _emit_text(text: str, output: str | None, *, bom: bool = False) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    Path(output).write_text(text, encoding="utf-8-sig" if bom else "utf-8")
