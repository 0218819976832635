"""The analysis commands of ``sipas``: ``analyze``, ``report`` and ``sample-size``.

The app's command group adds them with :func:`add_commands`; nothing here imports the app.
Bad input ends with a one-line message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click
import pandas as pd

__all__ = ["add_commands", "analyze_command", "report_command", "sample_size_command"]

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


def _frame_weights(database_url: Callable[[], str], questionnaire: str | None, date_from: str | None,
                   date_to: str | None, unit: str | None) -> Any:
    """The code frame's response rates for the responses the command analyses."""
    from . import load_issuance
    from .code_frame import FrameWeights

    return FrameWeights.from_issuance(load_issuance(database_url(), questionnaire=questionnaire, date_from=date_from,
                                                    date_to=date_to, units=[unit] if unit else None))


def _emit_text(text: str, output: str | None, *, bom: bool = False) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    Path(output).write_text(text, encoding="utf-8-sig" if bom else "utf-8")


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}"


def _ci_text(ci: Any, digits: int = 1) -> str:
    if not ci or ci[0] is None:
        return "–"
    return f"{_fmt(ci[0], digits)}–{_fmt(ci[1], digits)}"


def _table(result: Any, comparisons: Any) -> str:
    """A plain-text table per group for the terminal."""
    q = result.questionnaire
    conf = f"{100 * result.confidence:g}% CI"
    lines = [f"{q.key} · confidence {result.confidence:g} · criteria: {result.ci_method}"]
    if result.is_design:
        lines.append(f"design: weight={result.weight} strata={result.strata} "
                     f"cluster={result.cluster} df={result.df}")
    header = f"  {'indicator':<44} {'index':>6}  {conf:<13} {'n':>7}  flag"
    for g in result.groups:
        keys = " · ".join(f"{k}={v}" for k, v in g.keys.items()) or "all responses"
        lines += ["", f"{keys}   (n = {g.n})", header, "  " + "-" * (len(header) + 8)]
        rows: list[tuple[str, Any]] = []
        if g.general is not None and q.general is not None:
            rows.append((f"{q.general.code}  general (SIPAS)", g.general))
        rows.append(("overall (mean of elements)", g.overall))
        for e in q.elements:
            if e.code in g.elements:
                rows.append((f"{e.code}  {e.title['en']}", g.elements[e.code]))
                for c in e.criteria:
                    if c.code in g.criteria:
                        rows.append((f"  {c.code}", g.criteria[c.code]))
        for name, est in rows:
            name = name if len(name) <= 44 else name[:43] + "…"
            lines.append(f"  {name:<44} {_fmt(est.value):>6}  {_ci_text(est.ci):<13} "
                         f"{est.n:>7}  {est.flag or ''}")
    if comparisons is not None:
        lines += ["", f"comparisons ({comparisons.kind}; p adjusted: {comparisons.adjust})",
                  f"  {'group':<22} {'compared':<22} {'indicator':<10} {'diff':>6}  "
                  f"{'CI':<14} {'p':>7} {'p adj':>7}  flag"]
        for c in comparisons.comparisons:
            d = c.difference
            group = " · ".join(f"{v}" for v in c.keys.values()) or "all"
            pair = f"{c.label} vs {c.reference}"
            p_adj = "–" if c.p_adjusted is None else f"{c.p_adjusted:.3f}"
            lines.append(
                f"  {group[:22]:<22} {pair[:22]:<22} {c.code[:10]:<10} {_fmt(d.estimate):>6}  "
                f"{_ci_text(d.ci):<14} {_fmt(d.p_value, 3):>7} {p_adj:>7}  {c.flag or ''}"
            )
    return "\n".join(lines) + "\n"


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
    def command(input_path: str | None, use_db: bool, unit: str | None, questionnaire_key: str | None,
                by: tuple[str, ...], period: str | None, date_from: str | None,
                date_to: str | None, ci_method: str, confidence: float, frame_weights: bool, weight: str | None,
                strata: str | None, cluster: str | None, bootstrap: int | None,
                seed: int | None, compare: str | None, adjust: str, small_n: int,
                max_width: float, fmt: str | None, output: str | None) -> None:
        """Indices with confidence intervals from INPUT (a CSV/XLSX response export) or --db.

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
            raise click.UsageError("--format xlsx writes a file: add -o FILE.xlsx")
        if fmt == "csv" and compare and output is None:
            raise click.UsageError(
                "--compare with --format csv writes a second file of comparisons: add -o FILE.csv"
            )
        if compare == "previous" and period is None:
            raise click.UsageError("--compare previous needs --period")
        by_cols = _split(by)
        # In the database unless the analysis needs the rows: a design's columns, the
        # bootstrap, or units against the rest.
        needs_rows = bool(weight or strata or cluster or bootstrap or compare == "units")
        if frame_weights and (input_path or not use_db):
            raise click.UsageError("--frame-weights goes with --db: the code frame is in the database")
        if frame_weights and weight:
            raise click.UsageError("give --weight or --frame-weights, not both")
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
                                 date_from=date_from, date_to=date_to, unit=unit)
                if weights is not None:
                    from .code_frame import WEIGHT_COLUMN, weigh_frame

                    df, _ = weigh_frame(df, weights)
                    weight = WEIGHT_COLUMN
            if weights is not None:
                click.echo("frame weights: single-use answers only (poster and kiosk answers have "
                           "no code frame and are left out)", err=True)
            options: dict[str, Any] = dict(
                ci_method=ci_method, confidence=confidence, weight=weight, strata=strata,
                cluster=cluster, bootstrap=bootstrap, seed=seed, small_n=small_n,
                max_width=max_width, date_from=date_from, date_to=date_to,
            )
            if df is not None:
                q = _questionnaire_for(df, questionnaire_key)
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
            raise _fail(exc) from None

        if fmt == "json":
            doc = result.to_json()
            if comparisons is not None:
                doc["comparisons"] = comparisons.to_json()
            text = json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False)
            _emit_text(text + "\n", output)
        elif fmt == "table":
            _emit_text(_table(result, comparisons), output)
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


# --------------------------------------------------------------------------- report
def _read_issuance(path: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype={"unit": str})
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot be read ({exc})") from None
    missing = [c for c in ("unit", "issued") if c not in frame.columns]
    if "day" not in frame.columns and "date" not in frame.columns:
        missing.append("day")
    if missing:
        raise click.ClickException(
            f"{path}: column(s) {', '.join(missing)} missing (need unit, day, issued)"
        )
    return frame


def _print_example_plan() -> None:
    """The plan shipped in the package, as bytes (UTF-8 whatever the terminal's locale), so
    ``> plan.toml`` gives a file :func:`analysis.targets.load_plan` reads."""
    from importlib import resources

    # The file beside the report package, found without importing it (matplotlib).
    data = resources.files("analysis").joinpath("report").joinpath("example_plan.toml").read_bytes()
    stream = click.get_binary_stream("stdout")
    stream.write(data)
    stream.flush()


def report_command(database_url: Callable[[], str], *, issuance: bool = True) -> click.Command:
    @click.command("report")
    @click.argument("input_path", metavar="[INPUT]", required=False)
    @click.option("--plan", "plan_path", type=click.Path(dir_okay=False),
                  help="The plan file (TOML): targets and baseline period (start from --example-plan).")
    @click.option("--period", metavar="LABEL",
                  help="2024, 2024-H1, 2024-Q1, 2024-03 or 2024-PAR-6M (Q1, 6M, Q3, Y).")
    @click.option("--example-plan", "example_plan", is_flag=True,
                  help="Print the example plan (TOML) to standard output and exit: "
                       "sipas report --example-plan > plan.toml")
    @click.option("--db", "use_db", is_flag=True, help="Read the configured database.")
    @click.option("--questionnaire", "-q", "questionnaire_key", metavar="ID[@VERSION]")
    @click.option("--baseline", metavar="LABEL", help="Override the plan's baseline period.")
    @click.option("--issuance", "issuance_path", type=click.Path(dir_okay=False),
                  help="CSV of codes issued (unit, day, issued[, kind, answered]) for the "
                       "response rate; read from the database with --db.")
    @click.option("--ci-method", default="wilson", show_default=True,
                  type=click.Choice(["wilson", "jeffreys", "clopper-pearson", "agresti-coull",
                                     "wald"]))
    @click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                  help="report.html or report.xlsx (default: HTML on standard output).")
    def command(input_path: str | None, plan_path: str | None, period: str | None,
                example_plan: bool, use_db: bool, questionnaire_key: str | None,
                baseline: str | None, issuance_path: str | None, ci_method: str, lang: str,
                output: str | None) -> None:
        """The plan report for one period: indices, targets, change, priorities.

        \b
        Examples:
          sipas report --example-plan > plan.toml
          sipas report --plan plan.toml --period 2024 responses.csv -o report.html
          sipas report --plan plan.toml --period 2024-Q3 --db -o report.xlsx --lang en
        """
        if example_plan:
            given = [name for name, value in (("INPUT", input_path), ("--plan", plan_path),
                                              ("--period", period), ("--db", use_db),
                                              ("-o", output)) if value]
            if given:
                raise click.UsageError(f"--example-plan only prints the example plan; "
                                       f"leave out {', '.join(given)}")
            _print_example_plan()
            return
        if plan_path is None or period is None:
            missing = " and ".join(name for name, value in (("--plan", plan_path), ("--period", period))
                                   if value is None)
            raise click.UsageError(
                f"missing {missing}: the report needs a plan file and a period "
                "(start a plan with: sipas report --example-plan > plan.toml)")
        from . import load_issuance
        from .format import is_period_label
        from .periods import period_bounds
        from .report import build_report, render_html, write_xlsx
        from .targets import PlanError, load_plan

        kind = "html"
        if output is not None:
            suffix = Path(output).suffix.lower()
            if suffix in (".xlsx",):
                kind = "xlsx"
            elif suffix not in (".html", ".htm"):
                raise click.UsageError("-o must end in .html or .xlsx")
        if not is_period_label(period):
            raise click.BadParameter(
                f"{period!r} is not a period; use 2024, 2024-H1, 2024-Q1, 2024-03 or 2024-PAR-6M",
                param_hint="--period",
            )
        if baseline is not None and not is_period_label(baseline):
            raise click.BadParameter(f"{baseline!r} is not a period", param_hint="--baseline")
        try:
            plan = load_plan(plan_path)
        except PlanError as exc:
            raise _fail(exc) from None
        q_key = questionnaire_key or plan.questionnaire
        start, end = period_bounds(period)
        b_label = baseline or plan.baseline
        b_start, b_end = period_bounds(b_label) if b_label else (start, end)
        df = _read_input(input_path, use_db, database_url, questionnaire=q_key,
                         date_from=min(start, b_start).isoformat() if use_db else None,
                         date_to=max(end, b_end).isoformat() if use_db else None)
        codes = None
        if issuance_path is not None:
            codes = _read_issuance(issuance_path)
        elif use_db and issuance:
            try:
                codes = load_issuance(database_url(), questionnaire=q_key,
                                      date_from=start, date_to=end)
            except (ValueError, LookupError) as exc:
                raise _fail(exc) from None
        try:
            q = _questionnaire_for(df, q_key)
            report = build_report(df, plan, period=period, questionnaire=q, issuance=codes,
                                  lang=lang, baseline=baseline, ci_method=ci_method)
        except click.ClickException:
            raise
        except (ValueError, LookupError) as exc:
            raise _fail(exc) from None
        if kind == "xlsx":
            write_xlsx(report, output)
        else:
            _emit_text(render_html(report), output)
        if output is not None:
            click.echo(f"{output}: {len(report.units)} unit(s), "
                       f"{report.department.n} responses, period {period}", err=True)

    return command


# --------------------------------------------------------------------------- sample size
def sample_size_command() -> click.Command:
    @click.command("sample-size")
    @click.option("--margin", type=float, required=True,
                  help="Margin of error as a proportion: 0.05 for ±5 points.")
    @click.option("--confidence", type=float, default=0.95, show_default=True)
    @click.option("--p", "p", type=float, default=0.5, show_default=True,
                  help="Expected proportion satisfied (0.5 is the safe choice).")
    @click.option("--population", type=int, metavar="N",
                  help="People served by the unit in the period (finite population).")
    @click.option("--deff", type=float, default=1.0, show_default=True, help="Design effect.")
    @click.option("--response-rate", type=float, default=1.0, show_default=True,
                  help="Expected share of codes answered, in (0, 1].")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def command(margin: float, confidence: float, p: float, population: int | None,
                deff: float, response_rate: float, as_json: bool) -> None:
        """How many answers each reporting unit needs (methodology §6), and Yamane's n.

        \b
        Example:
          sipas sample-size --margin 0.05 --population 2000 --deff 1.5 --response-rate 0.4
        """
        from .sample_size import sample_size

        try:
            r = sample_size(margin=margin, confidence=confidence, p=p, population=population,
                            deff=deff, response_rate=response_rate)
        except ValueError as exc:
            raise _fail(exc) from None
        if as_json:
            click.echo(json.dumps(r.to_json(), ensure_ascii=False, indent=2))
            return
        out = io.StringIO()
        w = out.write
        w("Sample size per reporting unit (methodology §6)\n")
        w(f"  margin ±{100 * margin:g} points, confidence {100 * confidence:g} %, p = {p:g}, "
          f"deff {deff:g}"
          + (f", population {population}" if population else ", infinite population")
          + f", response rate {100 * response_rate:g} %\n")
        w(f"  n0 = z² p(1−p) / e²              {r.n0:10.2f}   (z = {r.z:.4f})\n")
        w(f"  × deff                           {r.n_design:10.2f}\n")
        if population:
            w(f"  finite population n1/(1+n1/N)    {r.n_finite:10.2f}\n")
        w(f"  completed answers needed         {r.required:10d}\n")
        if response_rate < 1:
            w(f"  codes to issue (÷ {response_rate:g})          {r.invitations:10d}\n")
        if r.yamane is not None:
            w(f"Yamane n = N / (1 + N e²)          {r.yamane:10.2f}   → {math.ceil(round(r.yamane, 9))}\n")
        else:
            w("Yamane n = N / (1 + N e²)          needs --population\n")
        click.echo(out.getvalue(), nl=False)

    return command


def add_commands(group: click.Group, *, database_url: Callable[[], str],
                 issuance: bool = True) -> None:
    """Add ``analyze``, ``report`` and ``sample-size`` to ``group``.

    Parameters
    ----------
    group : click.Group
        The ``sipas`` command group.
    database_url : callable returning str
        Gives the configured database URL; called only when ``--db`` is used.
    issuance : bool
        With ``--db``, read code issuance counts for the report's response rates.
    """
    if not callable(database_url):
        raise ValueError("database_url: must be a function that returns the database URL")
    group.add_command(analyze_command(database_url))
    group.add_command(report_command(database_url, issuance=issuance))
    group.add_command(sample_size_command())


def main() -> None:  # pragma: no cover - for ``python -m analysis.cli`` during development
    group = click.Group("sipas-analysis")

    def no_db() -> str:
        raise click.UsageError("--db needs the app; run this through the sipas command")

    add_commands(group, database_url=no_db)
    group(prog_name="python -m analysis.cli")


if __name__ == "__main__":  # pragma: no cover
    main()
