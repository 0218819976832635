"""What ``sipas analyze --format table`` and ``sipas sample-size`` print for a person to read:
the glossary's words, numbers and periods written the Vietnamese (default) or English way.

Columns are padded by ``len`` of the text: the words are precomposed (NFC), one character
per terminal column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .cli_words import ADJUST_NAMES, say
from .format import format_ci, format_integer, format_number, format_percent, format_period, format_pvalue

NAME_WIDTH = 48  # longer indicator names are cut: the numbers stay on the screen


def aligned(rows: Sequence[Sequence[str]], right: frozenset[int], indent: str = "  ") -> list[str]:
    """Rows of cells as lines, each column as wide as its widest cell; the columns in
    ``right`` (numbers) flush right."""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    return [(indent + "  ".join(cell.rjust(w) if j in right else cell.ljust(w)
                                for j, (cell, w) in enumerate(zip(row, widths, strict=True)))).rstrip()
            for row in rows]


def _as_percent(fraction: float, lang: str) -> str:
    """0.95 → "95 %", 0.995 → "99,5 %": a decimal only where the level has one."""
    percent = round(100 * fraction, 6)
    return format_percent(percent, lang=lang, digits=0 if float(percent).is_integer() else 1)


def _rule(header: str) -> str:
    """A line under a table's header, as wide as the header: the flags' reasons run on."""
    return "  " + "-" * (len(header) - 2)


def _cut(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[:NAME_WIDTH - 1] + "…"


# --------------------------------------------------------------------------- analyze
def _key_text(column: str, value: Any, lang: str) -> str:
    """A group key's value in words: periods, channels and yes/no as the codebook says them."""
    from .codebook import CHANNELS, YES_NO

    if column == "period":
        return format_period(value, lang=lang)
    if column == "channel":
        return CHANNELS[lang].get(value, str(value))
    if column == "same_day" and value in YES_NO[lang]:
        return YES_NO[lang][value]
    return str(value)


def _group_heading(keys: Mapping[str, Any], n: int, lang: str) -> str:
    from .codebook import META_LABELS
    from .report.labels import label

    names = {**META_LABELS[lang], "period": label("period", lang)}
    group = " · ".join(f"{names.get(k, k)}: {_key_text(k, v, lang)}" for k, v in keys.items())
    return f"{group or say('all_responses', lang)}   ({label('responses', lang)}: {format_integer(n, lang=lang)})"


def _flag_text(est: Any, small_n: int, max_width: float, lang: str) -> str:
    """The flag in words, with the rule that raised it (methodology §3.5)."""
    from .report.labels import flag_why, label
    from .results import flag_reasons

    if not est.flag:
        return ""
    reasons = flag_reasons(est.value, est.ci, int(est.n), small_n, max_width)
    if not reasons:
        return label(est.flag, lang)
    width = None if est.ci is None else est.ci[1] - est.ci[0]
    why = flag_why(reasons, n=int(est.n), width=width, small_n=small_n, max_width=max_width, lang=lang)
    return f"{label(est.flag, lang)} ({why})"


def _estimate_rows(result: Any, group: Any, lang: str) -> list[tuple[str, Any]]:
    """(name, estimate) in the report's order: general, composite, each element then its criteria."""
    from .report.labels import label

    q = result.questionnaire
    rows: list[tuple[str, Any]] = []
    if group.general is not None and q.general is not None:
        rows.append((f"{q.general.code}  {label('general', lang)}", group.general))
    rows.append((label("overall", lang), group.overall))
    for e in q.elements:
        if e.code in group.elements:
            rows.append((f"{e.code}  {e.title[lang]}", group.elements[e.code]))
            rows += [(f"  {c.code}", group.criteria[c.code]) for c in e.criteria if c.code in group.criteria]
    return rows


def _design_line(result: Any, lang: str) -> str:
    parts = [f"{say(name, lang)} = {value}" for name, value in
             (("weight", result.weight), ("strata", result.strata), ("cluster", result.cluster),
              ("df", result.df)) if value is not None]
    return f"{say('design', lang)}: {' · '.join(parts)}"


def _comparison_lines(comparisons: Any, lang: str) -> list[str]:
    from .report.labels import label

    def side(value: str, dimension: str) -> str:
        return format_period(value, lang=lang) if dimension == "period" else value

    def indicator(c: Any) -> str:
        return label(f"{c.level}_short", lang) if c.level in ("general", "overall") else c.code

    adjust = ADJUST_NAMES.get(comparisons.adjust, comparisons.adjust)
    rows = [[say("group", lang), say("compared", lang), label("key", lang), label("difference", lang),
             f"{label('ci', lang)} {_as_percent(comparisons.confidence, lang)}", label("p_value", lang),
             say("p_adjusted_by", lang, method=adjust), label("flag", lang)]]
    for c in comparisons.comparisons:
        d = c.difference
        group = " · ".join(_key_text(k, v, lang) for k, v in c.keys.items()) or say("all", lang)
        reference = say("rest", lang) if comparisons.reference == "rest" else side(c.reference, c.dimension)
        pair = say("versus", lang, label=side(c.label, c.dimension), reference=reference)
        rows.append([group, pair, indicator(c), format_number(d.estimate, lang=lang).replace("-", "−"),
                     format_ci(d.ci, lang=lang, percent=False), format_pvalue(d.p_value, lang=lang),
                     format_pvalue(c.p_adjusted, lang=lang), label(c.flag, lang) if c.flag else ""])
    heading = say("comparisons_previous" if comparisons.kind == "previous" else "comparisons_units", lang)
    head, *body = aligned(rows, right=frozenset({3, 5, 6}))
    return ["", heading, head, _rule(head), *body]


def indices_table(result: Any, comparisons: Any = None, lang: str = "vi") -> str:
    """The indices of each group (and the comparisons), one table per group, for the terminal."""
    from .report.labels import CI_METHOD_NAMES, label

    q = result.questionnaire
    method = CI_METHOD_NAMES[lang].get(result.ci_method, result.ci_method)
    lines = [f"{label('questionnaire', lang)}: {q.key} · {label('confidence', lang)}: "
             f"{_as_percent(result.confidence, lang)} · {label('ci_method', lang)}: {method}"]
    if result.is_design:
        lines.append(_design_line(result, lang))
    header = [label("key", lang), label("index", lang), f"{label('ci', lang)} {_as_percent(result.confidence, lang)}",
              label("n", lang), label("flag", lang)]
    tables = [[[_cut(name), format_number(est.value, lang=lang), format_ci(est.ci, lang=lang, percent=False),
                format_integer(est.n, lang=lang), _flag_text(est, result.small_n, result.max_width, lang)]
               for name, est in _estimate_rows(result, g, lang)] for g in result.groups]
    # One set of column widths for every group, so that the groups line up with each other.
    every = aligned([header] + [row for rows in tables for row in rows], right=frozenset({1, 3}))
    head, body = every[0], iter(every[1:])
    rule = _rule(head)
    for g, rows in zip(result.groups, tables, strict=True):
        lines += ["", _group_heading(g.keys, g.n, lang), head, rule, *(next(body) for _ in rows)]
    if comparisons is not None:
        lines += _comparison_lines(comparisons, lang)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- sample size
def sample_size_text(r: Any, lang: str = "vi") -> str:
    """The §6 steps of :func:`analysis.sample_size.sample_size`, and Yamane's n beside them."""
    def number(value: float, digits: int = 2) -> str:
        return format_number(value, lang=lang, digits=digits)

    def given(value: float) -> str:  # an input as typed, without trailing zeros
        return format_number(value, lang=lang, digits=6).rstrip("0").rstrip(",.")

    settings = [say("margin", lang, points=given(100 * r.margin)),
                say("confidence_level", lang, level=_as_percent(r.confidence, lang)),
                f"p = {given(r.p)}", say("deff", lang, deff=given(r.deff)),
                say("population", lang, population=format_integer(r.population, lang=lang)) if r.population
                else say("infinite_population", lang),
                say("expected_rate", lang, rate=_as_percent(r.response_rate, lang))]
    rows = [["n0 = z² p(1−p) / e²", number(r.n0), f"(z = {number(r.z, 4)})"],
            [say("times_deff", lang), number(r.n_design), ""]]
    if r.population:
        rows.append([say("finite_population", lang), number(r.n_finite), ""])
    rows.append([say("required", lang), format_integer(r.required, lang=lang), ""])
    if r.response_rate < 1:
        rows.append([say("codes_to_issue", lang, rate=given(r.response_rate)),
                     format_integer(r.invitations, lang=lang), ""])
    if r.yamane is not None:
        yamane = [number(r.yamane), f"→ {format_integer(math.ceil(round(r.yamane, 9)), lang=lang)}"]
    else:
        yamane = ["", say("needs_population", lang)]
    rows.append(["Yamane n = N / (1 + N e²)", *yamane])
    lines = aligned(rows, right=frozenset({1}))
    return "\n".join([say("sample_size", lang), "  " + ", ".join(settings), *lines]) + "\n"
