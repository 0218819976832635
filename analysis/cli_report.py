"""``sipas report`` (the plan report) and ``sipas sample-size``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd

from .cli_common import _emit_text, _fail, _questionnaire_for, _read_input, lang_option
from .cli_words import WORDS, say


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
    click.echo(data, nl=False)  # bytes go to stdout's binary buffer as they are


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
    @lang_option
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
                         date_to=max(end, b_end).isoformat() if use_db else None, lang=lang)
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
            q = _questionnaire_for(df, q_key, lang)
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
    @lang_option
    def command(margin: float, confidence: float, p: float, population: int | None,
                deff: float, response_rate: float, as_json: bool, lang: str) -> None:
        """How many answers each reporting unit needs (methodology §6), and Yamane's n.

        Cỡ mẫu cần có cho mỗi đơn vị báo cáo (phương pháp §6), và cỡ mẫu theo công thức Yamane.

        \b
        Example:
          sipas sample-size --margin 0.05 --population 2000 --deff 1.5 --response-rate 0.4
        """
        from .sample_size import sample_size

        try:
            r = sample_size(margin=margin, confidence=confidence, p=p, population=population,
                            deff=deff, response_rate=response_rate)
        except ValueError as exc:
            # The library names the argument first ("margin: ..."): say it as the option.
            key = "bad_" + str(exc).split(":", 1)[0]
            raise (click.ClickException(say(key, lang)) if key in WORDS[lang] else _fail(exc, lang)) from None
        if as_json:
            click.echo(json.dumps(r.to_json(), ensure_ascii=False, indent=2))
            return
        from .cli_text import sample_size_text

        click.echo(sample_size_text(r, lang), nl=False)

    return command
