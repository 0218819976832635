"""Inputs: the response export (CSV or XLSX), the app's database, code issuance counts.

All three return frames in the export format of docs/CONTRACTS.md: the metadata columns
``response_id, questionnaire, questionnaire_version, unit, procedure, channel,
submitted_on, same_day, flagged, respondent_type, feedback_given, gender, age_group, ethnicity,
education, occupation, residence`` followed by the questionnaire's answer columns.
Coded text columns stay text; every other column whose values are all numbers (answers,
design weights, ...) becomes numeric (float64, NaN for blank); ``submitted_on`` becomes
``datetime64``. Columns are always read by name, so extra columns do no harm.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

import questionnaires
from questionnaires import Questionnaire

from .periods import to_date, to_dates
from .safe_text import restore_frame

#: Metadata columns of the response export, in order.
EXPORT_COLUMNS = (
    "response_id", "questionnaire", "questionnaire_version", "unit", "procedure", "channel",
    "submitted_on", "same_day", "flagged", "respondent_type", "feedback_given", "gender", "age_group",
    "ethnicity", "education", "occupation", "residence", "competent_unit",
)
#: Export columns that hold codes or identifiers: always text, never converted to numbers.
TEXT_COLUMNS = frozenset(EXPORT_COLUMNS) - {"questionnaire_version", "same_day", "flagged", "submitted_on"}

_ZIP_MAGIC = b"PK\x03\x04"
#: The codebook sheet of a labelled export (analysis.codebook.SHEET).
_CODEBOOK_SHEETS = ("Từ điển dữ liệu", "Codebook")


# -- questionnaire resolution ---------------------------------------------------------------
def resolve_questionnaire(questionnaire: Questionnaire | str) -> Questionnaire:
    """A Questionnaire object, or one loaded from ``"id"`` / ``"id@version"``."""
    if isinstance(questionnaire, Questionnaire):
        return questionnaire
    if isinstance(questionnaire, str):
        try:
            return questionnaires.load(questionnaire)
        except LookupError as exc:
            raise ValueError(f"questionnaire: {exc}") from None
    raise ValueError(
        f"questionnaire: expected a Questionnaire or an id such as 'sipas-2023', "
        f"got {type(questionnaire).__name__}"
    )


# -- answers --------------------------------------------------------------------------------
def answer_codes(values: Any, scale_max: int, column: str) -> np.ndarray:
    """Answers as ``int8`` codes: 1..``scale_max``, 0 for blank.

    Accepts numbers (float with NaN, integers, pandas nullable types) or numeric text.
    A value outside the scale raises ValueError naming the column and the value.

    >>> answer_codes(pd.Series([5, None, 3.0]), 5, "TC1").tolist()
    [5, 0, 3]
    >>> answer_codes(pd.Series([6]), 5, "TC1")
    Traceback (most recent call last):
    ...
    ValueError: TC1: value 6 is not on the answer scale 1–5 (row 0)
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise ValueError(f"{column}: holds true/false values, expected answers 1–{scale_max}")
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        raw = series.to_numpy()
        if len(raw) and (raw.min() < 1 or raw.max() > scale_max):
            _raise_bad(series, (raw < 1) | (raw > scale_max), column, scale_max)
        return raw.astype(np.int8)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        floats = series.to_numpy()
    elif pd.api.types.is_numeric_dtype(dtype):
        floats = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        obj = series.astype(object)
        blank = obj.isna() | obj.map(lambda v: isinstance(v, str) and not v.strip())
        numbers = pd.to_numeric(obj.where(~blank, None), errors="coerce")
        unparsed = numbers.isna() & ~blank
        if unparsed.any():
            _raise_bad(series, unparsed.to_numpy(), column, scale_max)
        floats = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    # fmax maps NaN (blank) to 0 in one pass; zero or negative answers are caught below.
    filled = np.fmax(floats, 0.0)
    codes = filled.astype(np.int8)
    if len(codes) and (
        codes.max() > scale_max or bool((floats <= 0).any()) or not np.array_equal(codes, filled)
    ):
        bad = ~np.isnan(floats) & (
            (floats < 1) | (floats > scale_max) | (floats != np.floor(floats)))
        _raise_bad(series, bad, column, scale_max)
    return codes


def _raise_bad(series: pd.Series, bad: np.ndarray, column: str, scale_max: int) -> None:
    i = int(np.flatnonzero(bad)[0])
    value = series.iloc[i]
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    shown = value if isinstance(value, int | np.integer) else repr(value)
    raise ValueError(
        f"{column}: value {shown} is not on the answer scale 1–{scale_max} "
        f"(row {series.index[i]!r})"
    )


# -- files ------------------------------------------------------------------------------------
def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Types of the export format; see the module docstring."""
    out = {}
    for name in df.columns:
        col = df[name]
        key = str(name)
        if key in TEXT_COLUMNS:
            out[key] = _as_text(col)
        elif key == "submitted_on":
            out[key] = pd.Series(to_dates(col), index=df.index).astype("datetime64[s]")
        else:
            out[key] = _maybe_numeric(col)
    return pd.DataFrame(out, index=df.index)


def _as_text(col: pd.Series) -> pd.Series:
    def text(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        value = str(v).strip()
        return value if value else None

    # Convert each distinct value once: at a million rows this is much faster than a map
    # over the rows, and equal values then share one string object (a tenth of the memory).
    codes, uniques = pd.factorize(col.astype(object), use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype=object)
    if pd.api.types.infer_dtype(distinct, skipna=False) == "string":  # a CSV's text: strip in C
        stripped = distinct.str.strip()
        converted = np.append(stripped.where(stripped != "", None).to_numpy(dtype=object), None)
    else:
        converted = np.array([text(v) for v in uniques] + [None], dtype=object)
    return pd.Series(converted[codes], index=col.index, dtype=object)  # code -1 picks the None


def _maybe_numeric(col: pd.Series) -> pd.Series:
    """Numbers (int64 when whole and complete, else float64 with NaN for blanks), or the
    column as text when any value is not a number. Each distinct value is parsed once (an
    answer column of a million rows holds five): a parse per cell took 30 s of a 35 s read."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.astype(np.float64) if col.isna().any() else col
    obj = col.astype(object)
    codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype=object)
    blank_u = np.append(distinct.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool), True)
    number_u = np.append(pd.to_numeric(distinct.where(~blank_u[:-1], None), errors="coerce")
                         .to_numpy(dtype=np.float64, na_value=np.nan), np.nan)
    blank = blank_u[codes]  # code -1 (missing) picks the appended True / NaN
    if bool((np.isnan(number_u) & ~blank_u).any()):
        return obj.where(~blank, None)  # text column: keep it as it is
    numbers = pd.Series(number_u[codes], index=col.index)
    if not blank.any() and (numbers == np.floor(numbers)).all():
        return numbers.astype(np.int64)
    return numbers


def read_responses(source: str | os.PathLike[str] | IO[bytes] | IO[str] | bytes) -> pd.DataFrame:
    """Read a response export: CSV (UTF-8, with or without BOM) or XLSX.

    The format is detected from the content (an XLSX file is a ZIP archive). For a
    workbook the sheet named ``responses`` is read, else the first sheet.

    In a CSV, the exports put a single quote before text that a spreadsheet would run as a
    formula (``'=1+1``, ``'-2+3``; see :mod:`analysis.safe_text`); that quote is removed
    here, so text reads back exactly as it was exported. Answer columns are numbers and are
    never quoted. An XLSX export stores such text as string cells, with no added quote.

    Parameters
    ----------
    source : path, bytes, or binary/text file object

    Returns
    -------
    DataFrame in the export format (see the module docstring).

    Examples
    --------
    >>> text = "\\ufeffresponse_id,unit,submitted_on,TC1,TC2\\nab,VP,2024-03-01,5,\\n"
    >>> df = read_responses(text.encode("utf-8"))
    >>> df["unit"].tolist(), df["TC1"].tolist(), df["TC2"].isna().tolist()
    (['VP'], [5], [True])
    >>> read_responses(b"unit,occupation,TC1\\n'=VP,'-2+3,-1\\n")[["unit", "occupation", "TC1"]].values.tolist()
    [['=VP', '-2+3', -1]]
    """
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | os.PathLike):
        data = Path(source).read_bytes()
    else:
        raw = source.read()
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if data[:4] == _ZIP_MAGIC:
        # calamine (Rust) reads a workbook about six times faster than openpyxl (pure
        # Python), with the same values once normalised (tests/analysis/test_io.py).
        with pd.ExcelFile(io.BytesIO(data), engine="calamine") as book:
            sheets = [str(s) for s in book.sheet_names]
            labelled = [s for s in sheets if s in _CODEBOOK_SHEETS]
            data_sheets = [s for s in sheets if s not in _CODEBOOK_SHEETS]
            sheet = "responses" if "responses" in sheets else data_sheets[0]
            frame = pd.read_excel(book, sheet_name=sheet, dtype=object)
            if labelled:  # a labelled export (analysis/codebook.py): headers and codes back
                from .codebook import from_labelled

                frame = from_labelled(frame, pd.read_excel(book, sheet_name=labelled[0], dtype=object,
                                                           keep_default_na=False))
    else:
        frame = _read_csv(data)
        if b"'" in data:  # undo the export's quote before text such as "=1" (safe_text.py)
            frame = restore_frame(frame)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # rows numbered as a spreadsheet shows them
    return _normalise(frame)


#: Separators a CSV may use: the export's comma, the semicolon of spreadsheets set to a
#: decimal comma, the tab of Excel's "Unicode Text".
_SEPARATORS = (",", ";", "\t")


def csv_as_utf8(data: bytes) -> bytes:
    """UTF-8 bytes of a CSV: UTF-16 (Excel's "Unicode Text", with its byte-order mark) is
    decoded; anything else must be UTF-8, or the error says where it is not and what to do."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ValueError(
            f"Tệp CSV không ở mã UTF-8 (byte {data[exc.start]:#04x} ở dòng {line}); có lẽ Excel đã lưu theo "
            "Windows-1258 hoặc 1252. Trong Excel chọn Lưu thành → \"CSV UTF-8 (Comma delimited)\", hoặc tải lại "
            "tệp xuất từ sipas. (The CSV is not UTF-8 — byte "
            f"{data[exc.start]:#04x} on line {line}; save it as \"CSV UTF-8\".)") from None
    return data


def _separator(data: bytes) -> str:
    """The separator of the header line: the one it holds most of (a comma when none)."""
    header = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(data: bytes) -> pd.DataFrame:
    """The CSV with the answer columns of every known questionnaire parsed as numbers by
    pandas' C parser (the bulk of an export), every other column as text. A value an answer
    column cannot hold ("5a", " ") sends the whole file through the text path, whose checks
    name the cell."""
    data = csv_as_utf8(data)
    sep = _separator(data)
    options: dict[str, Any] = dict(encoding="utf-8-sig", keep_default_na=False, na_values=[""], sep=sep,
                                   # a semicolon file comes from a spreadsheet with a decimal comma
                                   decimal="," if sep == ";" else ".")
    header = pd.read_csv(io.BytesIO(data), nrows=0, **options).columns
    answers = _known_answer_columns()
    dtypes = {name: ("float64" if str(name).strip() in answers else str) for name in header}
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=dtypes, **options)
    except (ValueError, TypeError):
        return pd.read_csv(io.BytesIO(data), dtype=str, **options)
    if sep == ";":
        frame = _decimal_commas(frame)
    for name, kind in dtypes.items():  # whole and complete: int64, as the text path gives
        values = frame[name].to_numpy() if kind == "float64" else None
        if values is not None and not np.isnan(values).any() and (values == np.floor(values)).all():
            frame[name] = values.astype(np.int64)
    return frame


def _decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers written with a decimal comma ("1,5": a spreadsheet that separates with ";")
    as the export writes them ("1.5"), in columns that hold nothing else; codes stay text."""
    for name in frame.columns:
        column = frame[name]
        if str(name).strip() in TEXT_COLUMNS or pd.api.types.is_numeric_dtype(column):
            continue
        values = column.dropna().astype(str)
        if len(values) and values.str.contains(",", regex=False).any() and values.str.fullmatch(
                r"-?\d+(,\d+)?").all():
            frame[name] = column.str.replace(",", ".", regex=False)
    return frame


@functools.lru_cache(maxsize=1)
def _known_answer_columns() -> frozenset[str]:
    columns: set[str] = set()
    for key in questionnaires.available():
        with contextlib.suppress(ValueError, LookupError):
            columns.update(questionnaires.load(*key).answer_columns)
    return frozenset(columns)


# -- database -------------------------------------------------------------------------------
def _engine(url: Any) -> Any:
    import sqlalchemy as sa

    if isinstance(url, sa.engine.Engine):
        return url
    return sa.create_engine(url)


def _unit_ids(conn: Any, units: Iterable[str] | None, descendants: bool) -> list[int] | None:
    import sqlalchemy as sa

    if units is None:
        return None
    wanted = {units} if isinstance(units, str) else set(units)
    rows = conn.execute(sa.text("SELECT id, code, parent_id FROM units")).all()
    unknown = wanted - {r.code for r in rows}
    if unknown:
        raise ValueError(f"units: unknown unit code(s) {', '.join(sorted(unknown))}")
    from .successions import successor_ids

    selected = {r.id for r in rows if r.code in wanted}
    children: dict[int, list[int]] = {}
    for r in rows:
        if r.parent_id is not None:
            children.setdefault(r.parent_id, []).append(r.id)
    successors = successor_ids(conn)
    while True:  # the units below, and the units merged into any of them (with theirs), to a fixed point
        stack = list(selected) if descendants else []
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in selected:
                    selected.add(child)
                    stack.append(child)
        merged = {p for p, s in successors.items() if s in selected} - selected
        if not merged:
            return sorted(selected)
        selected |= merged


def _where(
    alias: str, date_column: str, qid: str | None, version: int | None, date_from: Any,
    date_to: Any, unit_ids: list[int] | None, params: dict[str, Any], bind: list[Any],
) -> str:
    import sqlalchemy as sa

    clauses = []
    if qid is not None:
        clauses.append("qv.questionnaire_id = :qid")
        params["qid"] = qid
    if version is not None:
        clauses.append("qv.version = :version")
        params["version"] = version
    if date_from is not None:
        clauses.append(f"{alias}.{date_column} >= :date_from")
        params["date_from"] = date_from
    if date_to is not None:
        clauses.append(f"{alias}.{date_column} <= :date_to")
        params["date_to"] = date_to
    if unit_ids is not None:
        clauses.append(f"{alias}.unit_id IN :unit_ids")
        params["unit_ids"] = unit_ids
        bind.append(sa.bindparam("unit_ids", expanding=True))
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def _split_questionnaire(
    questionnaire: Questionnaire | str | None,
) -> tuple[str | None, int | None, Questionnaire | None]:
    if questionnaire is None:
        return None, None, None
    if isinstance(questionnaire, Questionnaire):
        return questionnaire.id, questionnaire.version, questionnaire
    qid, version = questionnaires.parse_key(questionnaire)
    return qid, version, None


def load_database(
    url: Any,
    *,
    questionnaire: Questionnaire | str | None = None,
    date_from: Any = None,
    date_to: Any = None,
    units: Iterable[str] | str | None = None,
    descendants: bool = True,
) -> pd.DataFrame:
    """Responses from the app's database, as the export-format frame.

    Plain SQLAlchemy over the tables of docs/CONTRACTS.md (no Flask). The answers come from
    each response's packed ``answer_codes`` (one row per response) where the database keeps
    them (the app's, migration 0005), else from the ``answers`` table (a row per answer).

    Parameters
    ----------
    url : str or sqlalchemy Engine
        e.g. ``"sqlite:///instance/sipas.db"`` or ``"postgresql+psycopg://..."``.
    questionnaire : Questionnaire, ``"id"`` or ``"id@version"``, optional
        Only responses to this questionnaire (all its versions unless one is named).
        Without it the database must hold responses to a single questionnaire id.
    date_from, date_to : date or ``YYYY-MM-DD``, optional
        Inclusive bounds on ``submitted_on``.
    units : unit code or codes, optional
        Only these units — and, with ``descendants`` (default), the sections and counters
        below them in the unit tree.

    Returns
    -------
    DataFrame with the export columns and the answer columns of the newest version
    present (columns of older versions that it lacks are appended), sorted by
    ``submitted_on`` then ``response_id``.
    """
    import sqlalchemy as sa

    qid, version, qobj = _split_questionnaire(questionnaire)
    date_from = to_date(date_from, "date_from")
    date_to = to_date(date_to, "date_to")
    engine = _engine(url)
    with engine.connect() as conn:
        unit_ids = _unit_ids(conn, units, descendants)
        params: dict[str, Any] = {}
        bind: list[Any] = []
        where = _where("r", "submitted_on", qid, version, date_from, date_to, unit_ids,
                       params, bind)
        base = (
            " FROM responses r JOIN questionnaire_versions qv"
            " ON qv.id = r.questionnaire_version_id"
            " JOIN units u ON u.id = r.unit_id"
            " LEFT JOIN units cu ON cu.id = r.competent_unit_id"
            " LEFT JOIN procedures p ON p.id = r.procedure_id" + where
        )
        packed = _packed_answers(conn)
        meta_sql = sa.text(
            "SELECT r.id AS response_id, qv.questionnaire_id AS questionnaire,"
            " qv.version AS questionnaire_version, u.code AS unit, p.code AS procedure,"
            " r.channel, r.submitted_on, r.same_day, r.burst AS flagged, r.respondent_type, r.feedback_given,"
            " r.gender, r.age_group, r.ethnicity, r.education, r.occupation, r.residence,"
            " COALESCE(cu.code, u.code) AS competent_unit"
            + (", r.questionnaire_version_id, r.answer_codes" if packed else "") + base
        ).bindparams(*bind)
        meta = _frame(conn.execute(meta_sql, params).fetchall(),
                      [*EXPORT_COLUMNS, *(["_version_id", "_codes"] if packed else [])])
        answer_sql = sa.text(
            "SELECT a.response_id, a.item, a.value FROM answers a"
            " JOIN responses r ON r.id = a.response_id"
            " JOIN questionnaire_versions qv ON qv.id = r.questionnaire_version_id" + where
        ).bindparams(*bind)
        ids = sorted(set(meta["questionnaire"].dropna()))
        if len(ids) > 1:
            raise ValueError(
                "questionnaire: the database holds responses to several questionnaires "
                f"({', '.join(ids)}); name one"
            )
        columns = _answer_columns(conn, qobj, ids[0] if ids else qid, meta)
        if len(meta) == 0 and qobj is None and qid is not None:
            with contextlib.suppress(LookupError):
                columns = list(questionnaires.load(qid, version).answer_columns)
        if packed:
            wide = _unpack(conn, meta.pop("_version_id").to_numpy(), meta.pop("_codes").to_numpy(), columns)
        else:
            wide = _answer_matrix(conn.execution_options(stream_results=True).execute(answer_sql, params),
                                  meta["response_id"], columns)
    wide.index = meta.index
    for flag in ("same_day", "flagged"):
        meta[flag] = _same_day(meta[flag])
    frame = pd.concat([meta, wide.astype(np.float64)], axis=1)
    frame = _normalise(frame)
    frame = frame.sort_values(["submitted_on", "response_id"], kind="stable")
    return frame.reset_index(drop=True)


# Rows are read in chunks and placed straight into a matrix: at a million responses the
# answers table holds ~25 million rows, too many for one DataFrame of Python objects.
_CHUNK = 250_000


def _same_day(column: pd.Series) -> pd.Series:
    """A stored flag (boolean on PostgreSQL, 0/1 on SQLite) as the export's 0/1/blank."""
    return column.map(lambda v: np.nan if v is None or pd.isna(v) else int(bool(v))).astype(np.float64)


def export_frame(rows: list[Any], columns: list[str]) -> pd.DataFrame:
    """Database rows of export columns in the export's types (what load_database gives)."""
    frame = _frame(rows, columns)
    for flag in ("same_day", "flagged"):
        if flag in frame.columns:
            frame[flag] = _same_day(frame[flag])
    return _normalise(frame)


def _frame(rows: list[Any], columns: list[str]) -> pd.DataFrame:
    """A frame from DB-API rows, column by column (pandas' row-wise path is slow on
    SQLAlchemy rows)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame({c: np.asarray(v, dtype=object) for c, v in zip(columns, zip(*rows, strict=True), strict=True)})


def _answer_matrix(result: Any, response_ids: pd.Series, columns: list[str]) -> pd.DataFrame:
    """Answers (response_id, item, value) pivoted to one row per response, NaN = blank."""
    position = pd.Index(response_ids)
    columns = list(columns)
    matrix = np.full((len(position), len(columns)), np.nan)
    # Through the Result API: its buffered strategy (psycopg's server-side cursor) may already
    # hold rows that the DB-API cursor under it no longer returns.
    for part in result.partitions(_CHUNK):
        ids, items, values = zip(*part, strict=True)
        item_index = pd.Index(columns).get_indexer(items)
        unknown = sorted({i for i, k in zip(items, item_index, strict=True) if k < 0}) if (item_index < 0).any() else []
        if unknown:  # items of an older version: extra columns, kept at the end
            columns += unknown
            matrix = np.hstack([matrix, np.full((len(position), len(unknown)), np.nan)])
            item_index = pd.Index(columns).get_indexer(items)
        rows = position.get_indexer(ids)
        keep = rows >= 0
        matrix[rows[keep], item_index[keep]] = np.asarray(values, dtype=np.float64)[keep]
    return pd.DataFrame(matrix, columns=columns)


def _packed_answers(conn: Any) -> bool:
    """Whether the database keeps each response's answers packed (the app's, from migration
    0005); a database built to docs/CONTRACTS.md without them is read from its answers."""
    import sqlalchemy as sa

    inspector = sa.inspect(conn)
    return inspector.has_table("answer_positions") and any(
        c["name"] == "answer_codes" for c in inspector.get_columns("responses"))


def _unpack(conn: Any, version_ids: np.ndarray, codes: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """Answers from the packed strings (one character per item, ``chr(48 + value)``, '.'
    blank; see migration 0005), placed by item into ``columns`` (items of older versions
    that the newest lacks are appended, as in the answers table's path)."""
    import sqlalchemy as sa

    columns = list(columns)
    matrix = np.full((len(codes), len(columns)), np.nan)
    if not len(codes):
        return pd.DataFrame(matrix, columns=columns)
    versions = [int(v) for v in pd.unique(version_ids)]
    layout: dict[int, list[str]] = {}
    for version, item in conn.execute(sa.text(
            "SELECT questionnaire_version_id, item FROM answer_positions WHERE questionnaire_version_id IN :v"
            " ORDER BY questionnaire_version_id, position").bindparams(sa.bindparam("v", expanding=True)),
            {"v": versions}):
        layout.setdefault(int(version), []).append(item)
    for version in versions:
        rows = np.flatnonzero(version_ids == version)
        items = layout.get(version)
        if items is None:
            raise ValueError(f"questionnaire version {version}: the database has no answer positions for it "
                             "(a version stored without `sipas init`), so its packed answers cannot be read; "
                             "the answers table is intact: report this to the administrator")
        width = len(items)
        strings = ["." * width if c is None else c for c in codes[rows]]
        if any(len(c) != width for c in strings):
            raise ValueError(f"questionnaire version {version}: a response's packed answers do not have "
                             f"{width} places; the answers table is intact: report this to the administrator")
        raw = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8).reshape(len(rows), width)
        if (raw == ord("~")).any():
            raise ValueError(f"questionnaire version {version}: an answer value outside 0–74 is stored")
        values = np.where(raw == ord("."), np.nan, raw.astype(np.float64) - 48)
        extra = [item for item in items if item not in columns]
        if extra:
            columns += extra
            matrix = np.hstack([matrix, np.full((len(codes), len(extra)), np.nan)])
        where = pd.Index(columns).get_indexer(items)
        matrix[rows[:, None], where[None, :]] = values
    return pd.DataFrame(matrix, columns=columns)


def _answer_columns(
    conn: Any, qobj: Questionnaire | None, qid: str | None, meta: pd.DataFrame
) -> list[str]:
    import sqlalchemy as sa

    if qobj is not None:
        return list(qobj.answer_columns)
    if qid is None:
        return []
    versions = sorted(set(int(v) for v in meta["questionnaire_version"].dropna()), reverse=True)
    columns: list[str] = []
    for version in versions:
        row = conn.execute(
            sa.text("SELECT content FROM questionnaire_versions"
                    " WHERE questionnaire_id = :qid AND version = :version"),
            {"qid": qid, "version": version},
        ).first()
        try:
            q = questionnaires.load_text(row.content) if row is not None else (
                questionnaires.load(qid, version)
            )
        except (ValueError, LookupError):
            continue
        columns += [c for c in q.answer_columns if c not in columns]
    return columns


def load_issuance(
    url: Any,
    *,
    questionnaire: Questionnaire | str | None = None,
    date_from: Any = None,
    date_to: Any = None,
    units: Iterable[str] | str | None = None,
    descendants: bool = True,
    timezone: str = "Asia/Ho_Chi_Minh",
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """Single-use codes issued and answered per unit, procedure, kind and day.

    ``survey_codes.issued_at`` is stored in UTC; ``day`` is the local date in
    ``timezone`` (Vietnam by default), and ``date_from``/``date_to`` (inclusive) apply to
    that local date.

    Returns
    -------
    DataFrame with columns ``unit, procedure, kind, day, issued, answered, voided,
    expired, open, open_answered``: ``issued`` counts the codes handed out (voided codes
    excluded, they are counted in ``voided``), ``answered`` those used to answer, ``expired``
    those still unused after ``expires_at`` (as of ``now``, default the current time),
    ``open`` those whose window has not closed yet and ``open_answered`` those of them
    answered already. The response rate (§2.6, :class:`analysis.response_rate.CodeCounts`)
    is taken over the codes whose window has closed; the Quyết định 766 rate (§2.5) uses
    ``issued`` as the number of dossiers. ``kind`` is ``single``, ``counter``, or ``kiosk``
    for a single-use code a clerk sent to a counter kiosk (answered there, at once: not part
    of the frame of codes handed out to answer later, so frame weights leave it out).
    """
    import sqlalchemy as sa

    qid, version, _ = _split_questionnaire(questionnaire)
    date_from = to_date(date_from, "date_from")
    date_to = to_date(date_to, "date_to")
    engine = _engine(url)
    # Coarse SQL filter on the UTC timestamp (a day of margin), exact filter on local date.
    lo = None if date_from is None else dt.datetime.combine(date_from, dt.time()) - dt.timedelta(
        days=1)
    hi = None if date_to is None else dt.datetime.combine(date_to, dt.time()) + dt.timedelta(
        days=2)
    with engine.connect() as conn:
        unit_ids = _unit_ids(conn, units, descendants)
        params: dict[str, Any] = {}
        bind: list[Any] = []
        where = _where("c", "issued_at", qid, version, lo, hi, unit_ids, params, bind)
        sql = sa.text(
            "SELECT u.code AS unit, p.code AS procedure,"
            " CASE WHEN b.source = 'kiosk' THEN 'kiosk' ELSE c.kind END AS kind, c.status, c.issued_at,"
            " c.expires_at FROM survey_codes c"
            " JOIN questionnaire_versions qv ON qv.id = c.questionnaire_version_id"
            " LEFT JOIN code_batches b ON b.id = c.batch_id"
            " JOIN units u ON u.id = c.unit_id"
            " LEFT JOIN procedures p ON p.id = c.procedure_id" + where
        ).bindparams(*bind)
        codes = pd.DataFrame(conn.execute(sql, params).all(),
                             columns=["unit", "procedure", "kind", "status", "issued_at",
                                      "expires_at"])
    columns = ["unit", "procedure", "kind", "day", "issued", "answered", "voided", "expired", "open",
               "open_answered"]
    if codes.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c in columns[:3] else "int64")
                             for c in columns}).astype({"day": "datetime64[s]"})
    issued = pd.to_datetime(codes["issued_at"], utc=True, format="mixed")
    codes["day"] = issued.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    if date_from is not None:
        codes = codes[codes["day"] >= pd.Timestamp(date_from)]
    if date_to is not None:
        codes = codes[codes["day"] <= pd.Timestamp(date_to)]
    now_ts = pd.Timestamp(now if now is not None else dt.datetime.now(dt.UTC))
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    expires = pd.to_datetime(codes["expires_at"], utc=True, format="mixed")
    status = codes["status"]
    codes = codes.assign(
        issued=(status != "voided").astype(np.int64),
        answered=(status == "answered").astype(np.int64),
        voided=(status == "voided").astype(np.int64),
        expired=((status == "issued") & (expires < now_ts)).astype(np.int64),
        open=((status != "voided") & (expires >= now_ts)).astype(np.int64),
        open_answered=((status == "answered") & (expires >= now_ts)).astype(np.int64),
    )
    codes["procedure"] = codes["procedure"].astype(object)
    out = (
        codes.groupby(["unit", "procedure", "kind", "day"], dropna=False, sort=True)[
            columns[4:]
        ].sum().reset_index()
    )
    out["day"] = out["day"].astype("datetime64[s]")
    out["procedure"] = out["procedure"].astype(object).where(out["procedure"].notna(), None)
    return out[columns]
