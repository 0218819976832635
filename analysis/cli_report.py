"""``sipas report`` (the plan report) and ``sipas sample-size``."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd

from .cli_common import _emit_text, _fail, _questionnaire_for, _read_input


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
