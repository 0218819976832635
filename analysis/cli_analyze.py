"""``sipas analyze``: indices with intervals from an export or the database, and comparisons."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import pandas as pd

from .cli_common import FORMATS, _emit_text, _fail, _format_for, _questionnaire_for, _read_input, _split, lang_option
from .cli_words import say


def _frame_weights(database_url: Callable[[], str], questionnaire: str | None, date_from: str | None,
                   date_to: str | None, unit: str | None) -> Any:
    """The code frame's response rates for the responses the command analyses."""
    from . import load_issuance
    from .code_frame import FrameWeights

    return FrameWeights.from_issuance(load_issuance(database_url(), questionnaire=questionnaire, date_from=date_from,
                                                    date_to=date_to, units=[unit] if unit else None))


def _comparison_frame(comparisons: Any) -> pd.DataFrame:
    rows = []
    for item in comparisons.to_json()["items"]:
        row = {f"key_{k}": v for k, v in item.pop("keys").items()}
        ci = item.pop("ci")
        row.update(item)
        row["ci_low"], row["ci_high"] = ci
        rows.append(row)
    return pd.DataFrame(rows)


def _ranking_frame(comparisons: Any) -> pd.DataFrame:
    rows = []
    for ranking in comparisons.rankings:
        if ranking.shrinkage is None:
            continue
        points = {p.label: p for p in (ranking.funnel.points if ranking.funnel else ())}
        for u in ranking.shrinkage.units:
            row = {f"key_{k}": v for k, v in ranking.keys.items()}
            p = points.get(u.label)
            row.update(
                unit=u.label, level=ranking.level, counts=ranking.counts, n=u.n, x=u.x,
                raw=u.raw, shrunk=u.shrunk, interval_low=u.interval[0],
                interval_high=u.interval[1], rank=u.rank, flag=u.flag,
                funnel_signal=None if p is None else p.signal,
                prior_mean=ranking.shrinkage.fit.mean,
                prior_precision=(ranking.shrinkage.fit.precision
                                 if math.isfinite(ranking.shrinkage.fit.precision) else None),
            )
            rows.append(row)
    return pd.DataFrame(rows)


def _write_xlsx(path: str, sheets: Sequence[tuple[str, pd.DataFrame]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from .safe_text import inert_worksheet

    book = Workbook()
    first = True
    for name, frame in sheets:
        ws = book.active if first else book.create_sheet()
        first = False
        ws.title = name[:31]
        ws.append([str(c) for c in frame.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            values: list[Any] = []
            for v in row:
                if v is None or (isinstance(v, float) and not math.isfinite(v)):
                    values.append(None)
                elif hasattr(v, "item"):
                    values.append(v.item())
                else:
                    values.append(v)
            ws.append(values)
        for j, column in enumerate(frame.columns, 1):
            if column in ("index", "se", "ci_low", "ci_high", "difference", "raw", "shrunk",
                          "reference_index", "interval_low", "interval_high", "prior_mean"):
                fmt = '0.0" %"' if column not in ("se", "difference") else "0.00"
            elif column in ("p_value", "p_adjusted"):
                fmt = "0.0000"
            else:
                continue
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        ws.freeze_panes = "A2"
        inert_worksheet(ws)  # group keys come from the input file: text, never formulas
    book.save(path)


# --------------------------------------------------------------------------- analyze
def analyze_command(database_url: Callable[[], str]) -> click.Command:
    from .intervals import CI_METHODS
    from .periods import PERIOD_KINDS

    @click.command("analyze")
    @click.argument("input_path", metavar="INPUT", required=False)
    @click.option("--db", "use_db", is_flag=True, help="Read the configured database instead of INPUT.")
    @click.option("--unit", metavar="CODE", help="With --db: this unit and the units below it.")
    @click.option("--questionnaire", "-q", "questionnaire_key", metavar="ID[@VERSION]",
                  help="Questionnaire (default: the data's questionnaire column).")
    @click.option("--by", "by", multiple=True, metavar="COLS",
                  help="Group by these columns (comma list, or repeat the option).")
    @click.option("--period", type=click.Choice(PERIOD_KINDS), help="Group by period.")
    @click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day (inclusive).")
    @click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day (inclusive).")
    @click.option("--ci-method", type=click.Choice(CI_METHODS), default="wilson",
                  show_default=True, help="Interval for criteria without a design.")
    @click.option("--confidence", type=float, default=0.95, show_default=True)
    @click.option("--frame-weights", is_flag=True,
                  help="With --db: weight single-use answers by the code frame's response rates per "
                       "unit, procedure and month (poster and kiosk answers have no frame: left out).")
    @click.option("--weight", metavar="COL", help="Design weight column.")
    @click.option("--strata", metavar="COL", help="Stratum column.")
    @click.option("--cluster", metavar="COL", help="PSU (cluster) column.")
    @click.option("--bootstrap", type=click.IntRange(min=1), metavar="N",
                  help="BCa bootstrap intervals with N resamples.")
    @click.option("--seed", type=int, help="Seed for the bootstrap.")
    @click.option("--compare", type=click.Choice(["previous", "units"]),
                  help="Compare each period with the previous one, or each unit with the rest.")
    @click.option("--adjust", type=click.Choice(["holm", "bh"]), default="holm",
                  show_default=True, help="Multiple-comparison adjustment of p-values.")
    @click.option("--small-n", type=click.IntRange(min=0), default=30, show_default=True,
                  help="Flag estimates with fewer answers.")
    @click.option("--max-width", type=click.FloatRange(min=0, min_open=True), default=20.0,
                  show_default=True, help="Flag intervals wider than this (points).")
    @click.option("--format", "fmt", type=click.Choice(FORMATS),
                  help="Output format (default: from -o's extension, else table).")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                  help="Write to FILE instead of standard output.")
    @lang_option
    def command(input_path: str | None, use_db: bool, unit: str | None, questionnaire_key: str | None,
                by: tuple[str, ...], period: str | None, date_from: str | None,
                date_to: str | None, ci_method: str, confidence: float, frame_weights: bool, weight: str | None,
                strata: str | None, cluster: str | None, bootstrap: int | None,
                seed: int | None, compare: str | None, adjust: str, small_n: int,
                max_width: float, fmt: str | None, output: str | None, lang: str) -> None:
        """Indices with confidence intervals from INPUT (a CSV/XLSX response export) or --db.

        Chỉ số hài lòng và khoảng tin cậy, từ tệp phiếu trả lời đã xuất hoặc từ cơ sở dữ liệu.

        With --db the database counts (no answer is read into memory); a design (--weight,
        --strata, --cluster), --bootstrap or --compare units read the responses instead.
        --frame-weights weights single-use answers by the response rates of the codes issued
        per unit, procedure and month (docs/methodology.md, nonresponse weights).

        \b
        Examples:
          sipas analyze responses.csv --by unit --period quarter
          sipas analyze --db --period month --compare previous --format json
          sipas analyze responses.xlsx --by unit --compare units -o indices.xlsx
        """
        from . import analyze
        from .compare import compare_periods, compare_units

        fmt = _format_for(fmt, output)
        if fmt == "xlsx" and output is None:
            raise click.UsageError(say("xlsx_needs_file", lang))
        if fmt == "csv" and compare and output is None:
            raise click.UsageError(say("csv_comparisons_need_file", lang))
        if compare == "previous" and period is None:
            raise click.UsageError(say("previous_needs_period", lang))
        by_cols = _split(by)
        # In the database unless the analysis needs the rows: a design's columns, the
        # bootstrap, or units against the rest.
        needs_rows = bool(weight or strata or cluster or bootstrap or compare == "units")
        if frame_weights and (input_path or not use_db):
            raise click.UsageError(say("frame_weights_need_db", lang))
        if frame_weights and weight:
            raise click.UsageError(say("weight_or_frame_weights", lang))
        try:
            weights = _frame_weights(database_url, questionnaire_key, date_from, date_to, unit) \
                if frame_weights else None
            if use_db and not input_path and not needs_rows:
                from .indb import analyze_database

                df = None
                result = analyze_database(
                    database_url(), questionnaire_key, by=by_cols, period=period,
                    date_from=date_from, date_to=date_to, units=[unit] if unit else None,
                    ci_method=ci_method, confidence=confidence, small_n=small_n,
                    max_width=max_width, frame_weights=weights)
            else:
                df = _read_input(input_path, use_db, database_url, questionnaire=questionnaire_key,
                                 date_from=date_from, date_to=date_to, unit=unit, lang=lang)
                if weights is not None:
                    from .code_frame import WEIGHT_COLUMN, weigh_frame

                    df, _ = weigh_frame(df, weights)
                    weight = WEIGHT_COLUMN
            if weights is not None:
                click.echo(say("frame_weights_note", lang), err=True)
            options: dict[str, Any] = dict(
                ci_method=ci_method, confidence=confidence, weight=weight, strata=strata,
                cluster=cluster, bootstrap=bootstrap, seed=seed, small_n=small_n,
                max_width=max_width, date_from=date_from, date_to=date_to,
            )
            if df is not None:
                q = _questionnaire_for(df, questionnaire_key, lang)
                result = analyze(df, q, by=by_cols, period=period, **options)
            comparisons = None
            if compare == "previous":
                comparisons = compare_periods(result, adjust=adjust)
            elif compare == "units":
                unit_by = tuple(c for c in by_cols if c != "unit")
                comparisons = compare_units(df, result.questionnaire, unit="unit", by=unit_by, period=period,
                                            adjust=adjust, **options)
        except click.ClickException:
            raise
        except (ValueError, LookupError) as exc:
            raise _fail(exc, lang) from None

        if fmt == "json":
            doc = result.to_json()
            if comparisons is not None:
                doc["comparisons"] = comparisons.to_json()
            text = json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False)
            _emit_text(text + "\n", output)
        elif fmt == "table":
            from .cli_text import indices_table

            _emit_text(indices_table(result, comparisons, lang), output)
        elif fmt == "csv":
            # Group keys come from the input file: text a spreadsheet would run gets a quote.
            from .safe_text import neutralise_frame

            frame = neutralise_frame(result.to_frame())
            _emit_text(frame.to_csv(index=False, lineterminator="\n"), output, bom=output is not None)
            if comparisons is not None and output is not None:
                path = Path(output)
                extra = path.with_name(f"{path.stem}-comparisons{path.suffix or '.csv'}")
                extra.write_text(neutralise_frame(_comparison_frame(comparisons)).to_csv(index=False),
                                 encoding="utf-8-sig")
                if comparisons.kind == "units":
                    ranks = path.with_name(f"{path.stem}-ranking{path.suffix or '.csv'}")
                    ranks.write_text(neutralise_frame(_ranking_frame(comparisons)).to_csv(index=False),
                                     encoding="utf-8-sig")
        else:
            sheets = [("indices", result.to_frame())]
            if comparisons is not None:
                sheets.append(("comparisons", _comparison_frame(comparisons)))
                if comparisons.kind == "units":
                    sheets.append(("ranking", _ranking_frame(comparisons)))
            assert output is not None
            _write_xlsx(output, sheets)

    return command
