"""What the analysis commands share: reading their input, choosing the format, failing
with one line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
import pandas as pd

from .cli_words import say
from .format import LANGS

FORMATS = ("table", "json", "csv", "xlsx")

#: ``--lang``: the language of what a person reads (JSON, CSV and XLSX keep codes for programs).
lang_option = click.option("--lang", type=click.Choice(LANGS), default="vi", show_default=True,
                           help="Language of the text for people: vi (Tiếng Việt) or en.")


# --------------------------------------------------------------------------- helpers
def _fail(exc: BaseException, lang: str = "vi") -> click.ClickException:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, KeyError):
        message = say("not_found", lang, what=message)
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


def _questionnaire_for(df: pd.DataFrame, key: str | None, lang: str = "vi") -> Any:
    """``--questionnaire ID[@VERSION]``, else the data's ``questionnaire`` column (the newest
    version present when the column ``questionnaire_version`` holds several)."""
    import analysis

    if key:
        return analysis.resolve_questionnaire(key)
    if "questionnaire" not in df.columns:
        raise click.UsageError(say("no_questionnaire_column", lang))
    ids = sorted({str(v) for v in df["questionnaire"].dropna()})
    if not ids:
        raise click.UsageError(say("empty_questionnaire_column", lang))
    if len(ids) > 1:
        raise click.UsageError(say("several_questionnaires", lang, ids=", ".join(ids)))
    key = ids[0]
    if "questionnaire_version" in df.columns:
        versions = pd.to_numeric(df["questionnaire_version"], errors="coerce").dropna()
        if len(versions):
            key = f"{key}@{int(versions.max())}"
    return analysis.resolve_questionnaire(key)


def _read_input(
    input_path: str | None, use_db: bool, database_url: Callable[[], str], *,
    questionnaire: str | None, date_from: str | None = None, date_to: str | None = None,
    unit: str | None = None, lang: str = "vi",
) -> pd.DataFrame:
    import analysis

    if use_db and input_path:
        raise click.UsageError(say("input_and_db", lang))
    if not use_db and not input_path:
        raise click.UsageError(say("input_or_db", lang))
    if unit and not use_db:
        raise click.UsageError(say("unit_needs_db", lang))
    if use_db:
        try:
            return analysis.load_database(database_url(), questionnaire=questionnaire,
                                          date_from=date_from, date_to=date_to,
                                          units=[unit] if unit else None)
        except (ValueError, LookupError) as exc:
            raise click.ClickException(str(exc)) from None
    path = Path(str(input_path))
    if not path.is_file():
        raise click.ClickException(say("no_such_file", lang, path=path))
    try:
        return analysis.read_responses(path)
    except Exception as exc:  # pandas/calamine parser errors have many classes
        raise click.ClickException(say("unreadable", lang, path=path, error=exc)) from None



def _emit_text(text: str, output: str | None, *, bom: bool = False) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    Path(output).write_text(text, encoding="utf-8-sig" if bom else "utf-8")
