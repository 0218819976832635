"""Inputs: the export CSV/XLSX and the database loaders (schema of docs/CONTRACTS.md)."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import questionnaires
from analysis import EXPORT_COLUMNS, analyze, answer_codes, load_database, load_issuance, read_responses

CSV = (
    "response_id,questionnaire,questionnaire_version,unit,procedure,channel,submitted_on,"
    "same_day,respondent_type,feedback_given,gender,age_group,ethnicity,education,occupation,"
    "residence,TC1,TC2,HL,MD1,extra\n"
    "a1,sipas-2023,1,01,P1,single,2024-03-01,1,ca_nhan,co,nu,18-25,kinh,,,,5,,4,3,x\n"
    "a2,sipas-2023,1,VP,,counter,2024-03-02,,to_chuc,khong,,,,,,,2,3,,1,y\n"
)


def _check(df: pd.DataFrame) -> None:
    # An export from before the `flagged` and `competent_unit` columns: read as it is, both absent.
    assert list(df.columns[:16]) == [c for c in EXPORT_COLUMNS if c not in ("flagged", "competent_unit")]
    assert df["unit"].tolist() == ["01", "VP"]  # codes stay text
    assert df["procedure"].iloc[0] == "P1" and pd.isna(df["procedure"].iloc[1])
    assert df["TC1"].tolist() == [5, 2]
    assert df["TC2"].isna().tolist() == [True, False] and df["TC2"].iloc[1] == 3
    assert df["same_day"].iloc[0] == 1 and np.isnan(df["same_day"].iloc[1])
    assert df["submitted_on"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-01", "2024-03-02"]
    assert df["extra"].tolist() == ["x", "y"]


def test_csv_with_and_without_bom(tmp_path: Path) -> None:
    for encoding in ("utf-8-sig", "utf-8"):
        path = tmp_path / f"{encoding}.csv"
        path.write_text(CSV, encoding=encoding)
        _check(read_responses(path))
        _check(read_responses(str(path)))
        _check(read_responses(io.BytesIO(path.read_bytes())))
    _check(read_responses(io.StringIO(CSV)))


def test_xlsx(tmp_path: Path) -> None:
    frame = pd.read_csv(io.StringIO(CSV), dtype=str, keep_default_na=False)
    for column in ("TC1", "TC2", "HL", "MD1", "questionnaire_version"):
        frame[column] = pd.to_numeric(frame[column])  # Excel cells hold numbers
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["cover"]}).to_excel(writer, sheet_name="about", index=False)
        frame.to_excel(writer, sheet_name="responses", index=False)
    _check(read_responses(path))


def test_fixture_reads_and_analyses(fixture_frame: pd.DataFrame, fixture_csv: Path) -> None:
    assert len(fixture_frame) == 360
    assert fixture_frame["weight"].dtype == np.float64
    assert fixture_frame["stratum"].tolist()[:2] == ["S1", "S4"]
    result = analyze(fixture_frame, "sipas-2023", by="unit")
    assert [g.keys["unit"] for g in result.groups] == ["TP", "VP", "XA"]
    assert result.groups[0].criteria["PA1"].n == 47


SCHEMA = """
CREATE TABLE units (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT,
  parent_id INTEGER REFERENCES units(id), kind TEXT, active BOOLEAN);
CREATE TABLE procedures (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT, field TEXT,
  active BOOLEAN);
CREATE TABLE questionnaire_versions (id INTEGER PRIMARY KEY, questionnaire_id TEXT,
  version INTEGER, sha256 TEXT, content TEXT, loaded_at TIMESTAMP);
CREATE TABLE responses (id TEXT PRIMARY KEY, questionnaire_version_id INTEGER, unit_id INTEGER,
  procedure_id INTEGER, channel TEXT, submitted_on DATE, same_day BOOLEAN, burst BOOLEAN,
  respondent_type TEXT, feedback_given TEXT, gender TEXT, age_group TEXT, ethnicity TEXT,
  education TEXT, occupation TEXT, residence TEXT, competent_unit_id INTEGER);
CREATE TABLE answers (response_id TEXT REFERENCES responses(id), item TEXT, value SMALLINT,
  PRIMARY KEY (response_id, item));
CREATE TABLE code_batches (id INTEGER PRIMARY KEY, unit_id INTEGER, kind TEXT, count INTEGER, source TEXT);
CREATE TABLE survey_codes (id INTEGER PRIMARY KEY, code_hash TEXT UNIQUE, batch_id INTEGER,
  unit_id INTEGER, procedure_id INTEGER, questionnaire_version_id INTEGER, kind TEXT,
  issued_at TIMESTAMP, expires_at TIMESTAMP, status TEXT);
"""


@pytest.fixture
def database(tmp_path: Path) -> str:
    q = questionnaires.load("sipas-2023")
    c = questionnaires.load("tt01-counter")
    url = f"sqlite:///{tmp_path / 'sipas.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        conn.exec_driver_sql(
            "INSERT INTO units VALUES (1,'SO','Sở',NULL,'department',1),"
            "(2,'MC','Một cửa',1,'section',1),(3,'Q1','Quầy 1',2,'counter',1),"
            "(4,'XA','Xã',NULL,'department',1)")
        conn.exec_driver_sql("INSERT INTO procedures VALUES (1,'P01','Thủ tục',NULL,1)")
        conn.execute(sa.text("INSERT INTO questionnaire_versions VALUES "
                             "(1,'sipas-2023',1,'x',:content,'2024-01-01'),"
                             "(2,'tt01-counter',1,'y',:counter,'2024-01-01')"),
                     {"content": q.content, "counter": c.content})
        rows = [
            ("r1", 1, 3, 1, "single", "2024-03-01", 1, "co"),
            ("r2", 1, 2, None, "counter", "2024-03-05", None, "khong"),
            ("r3", 1, 4, 1, "single", "2024-04-01", 0, "khong"),
            ("r4", 2, 1, 1, "counter", "2024-03-02", None, None),
        ]
        for rid, qv, unit, proc, channel, day, same_day, feedback in rows:
            conn.execute(sa.text(
                "INSERT INTO responses (id, questionnaire_version_id, unit_id, procedure_id,"
                " channel, submitted_on, same_day, burst, feedback_given)"
                " VALUES (:id,:qv,:unit,:proc,:channel,:day,:same_day,0,:feedback)"),
                {"id": rid, "qv": qv, "unit": unit, "proc": proc, "channel": channel,
                 "day": day, "same_day": same_day, "feedback": feedback})
        answers = [("r1", "TC1", 5), ("r1", "PA1", 4), ("r1", "HL", 5), ("r1", "MD2", 3),
                   ("r2", "TC1", 2), ("r2", "TC2", 4), ("r3", "TC1", 4), ("r4", "DG1", 1)]
        conn.execute(sa.text("INSERT INTO answers VALUES (:r, :i, :v)"),
                     [{"r": r, "i": i, "v": v} for r, i, v in answers])
        codes = [
            (1, 3, 1, "single", "2024-03-01 03:00:00", "2024-04-01 00:00:00", "answered"),
            (2, 3, 1, "single", "2024-03-01 20:00:00", "2024-03-05 00:00:00", "issued"),
            (3, 3, 1, "single", "2024-03-01 05:00:00", None, "voided"),
            (4, 2, None, "counter", "2024-03-05 02:00:00", None, "answered"),
            (5, 4, 1, "single", "2024-04-01 02:00:00", "2030-01-01 00:00:00", "issued"),
        ]
        conn.execute(sa.text(
            "INSERT INTO survey_codes (id, code_hash, unit_id, procedure_id,"
            " questionnaire_version_id, kind, issued_at, expires_at, status)"
            " VALUES (:id, :hash, :unit, :proc, 1, :kind, :issued, :expires, :status)"),
            [{"id": i, "hash": f"h{i}", "unit": u, "proc": p, "kind": k, "issued": t,
              "expires": e, "status": s} for i, u, p, k, t, e, s in codes])
    engine.dispose()
    return url


def test_load_database(database: str) -> None:
    df = load_database(database, questionnaire="sipas-2023")
    q = questionnaires.load("sipas-2023")
    assert list(df.columns) == [*EXPORT_COLUMNS, *q.answer_columns]
    assert df["response_id"].tolist() == ["r1", "r2", "r3"]
    assert df["unit"].tolist() == ["Q1", "MC", "XA"]
    assert df["procedure"].fillna("-").tolist() == ["P01", "-", "P01"]
    assert df["same_day"].iloc[0] == 1 and np.isnan(df["same_day"].iloc[1])
    assert df["TC1"].tolist() == [5, 2, 4] and np.isnan(df.loc[0, "TC2"])
    assert df.loc[0, "MD2"] == 3 and df["submitted_on"].dtype.kind == "M"
    g = analyze(df, q).groups[0]
    assert g.criteria["TC1"].index == pytest.approx(200 / 3) and g.criteria["PA1"].n == 1


def test_load_database_filters(database: str) -> None:
    assert load_database(database, questionnaire="sipas-2023", units="SO")[
        "response_id"].tolist() == ["r1", "r2"]  # the department and the units below it
    assert load_database(database, questionnaire="sipas-2023", units=["SO"],
                         descendants=False).empty
    dated = load_database(database, questionnaire="sipas-2023", date_from="2024-03-02",
                          date_to=dt.date(2024, 3, 31))
    assert dated["response_id"].tolist() == ["r2"]
    counter = load_database(database, questionnaire="tt01-counter@1")
    assert counter["DG1"].tolist() == [1] and "TC1" not in counter.columns
    with pytest.raises(ValueError, match="questionnaire: the database holds responses to several"):
        load_database(database)
    with pytest.raises(ValueError, match="units: unknown unit code"):
        load_database(database, questionnaire="sipas-2023", units=["NOPE"])


def test_load_issuance(database: str) -> None:
    now = dt.datetime(2024, 3, 10, tzinfo=dt.UTC)
    out = load_issuance(database, questionnaire="sipas-2023", now=now)
    assert list(out.columns) == ["unit", "procedure", "kind", "day", "issued", "answered",
                                 "voided", "expired", "open", "open_answered"]
    records = out.assign(day=out["day"].dt.strftime("%Y-%m-%d")).to_dict("records")
    assert records == [
        {"unit": "MC", "procedure": None, "kind": "counter", "day": "2024-03-05", "issued": 1,
         "answered": 1, "voided": 0, "expired": 0, "open": 0, "open_answered": 0},
        # 20:00 UTC on 1 March is 03:00 on 2 March in Vietnam.
        {"unit": "Q1", "procedure": "P01", "kind": "single", "day": "2024-03-01", "issued": 1,
         "answered": 1, "voided": 1, "expired": 0, "open": 1, "open_answered": 1},
        {"unit": "Q1", "procedure": "P01", "kind": "single", "day": "2024-03-02", "issued": 1,
         "answered": 0, "voided": 0, "expired": 1, "open": 0, "open_answered": 0},
        {"unit": "XA", "procedure": "P01", "kind": "single", "day": "2024-04-01", "issued": 1,
         "answered": 0, "voided": 0, "expired": 0, "open": 1, "open_answered": 0},
    ]
    limited = load_issuance(database, date_from="2024-03-02", date_to="2024-03-31", units="Q1")
    assert limited["day"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-02"]
    empty = load_issuance(database, date_from="2030-01-01")
    assert empty.empty and list(empty.columns) == list(out.columns)


@pytest.mark.parametrize("values, expected, dtype", [
    (["1", "2", "3"], [1, 2, 3], "int64"),
    (["1", "", "3", None], [1.0, np.nan, 3.0, np.nan], "float64"),
    ([" 2 ", "  ", "4"], [2.0, np.nan, 4.0], "float64"),
    (["1.5", "2"], [1.5, 2.0], "float64"),
    (["1", "x", " "], ["1", "x", None], "object"),
])
def test_columns_are_numbers_when_every_value_is_one(values, expected, dtype):
    """Parsed once per distinct value (a million-row column holds a handful)."""
    from analysis.io import _maybe_numeric

    out = _maybe_numeric(pd.Series(values, dtype=object))
    assert str(out.dtype) == dtype
    if dtype == "object":
        assert out.tolist() == expected
    else:
        np.testing.assert_array_equal(out.to_numpy(dtype=np.float64), np.asarray(expected, dtype=np.float64))


def test_answer_columns_read_by_the_c_parser_equal_the_text_path():
    """Answer columns are parsed as numbers by pandas' C parser; the frame is the one the
    all-text path gives, and a value that is not a number falls back to it (and its message)."""
    import io as _io

    from analysis.io import _normalise

    text = ("\ufeffresponse_id,unit,submitted_on,TC1,TC2,HL,weight,cluster\n"
            "a1,VP,2024-03-01,5,,4,1.5,007\n"
            "a2,LS,2024-03-02,3,2,,2,008\n")
    fast = read_responses(text.encode("utf-8"))
    slow = _normalise(pd.read_csv(_io.BytesIO(text.encode("utf-8")), encoding="utf-8-sig", dtype=str,
                                  keep_default_na=False, na_values=[""]))
    pd.testing.assert_frame_equal(fast, slow.set_axis(pd.RangeIndex(2, 4)))  # rows as a spreadsheet numbers them
    assert fast["TC1"].dtype == "int64" and fast["TC2"].dtype == "float64"
    bad = read_responses(text.replace("a2,LS,2024-03-02,3", "a2,LS,2024-03-02,5a").encode("utf-8"))
    assert bad["TC1"].tolist() == ["5", "5a"]  # text: analyze then names the cell (test_indices.py)
    with pytest.raises(ValueError, match="TC1: value .5a. is not on the answer scale"):
        answer_codes(bad["TC1"], 5, "TC1")


EXPORT = ("response_id,questionnaire,questionnaire_version,unit,submitted_on,TC1,TC2,HL,weight\n"
          "a1,sipas-2023,1,Phòng Lãnh sự,2024-03-01,5,,4,1.5\n"
          "a2,sipas-2023,1,Văn phòng,2024-03-02,3,2,,2.25\n")


@pytest.mark.parametrize("data", [
    EXPORT.encode("utf-8-sig"),
    EXPORT.replace(",", "\t").encode("utf-16"),  # Excel "Unicode Text"
    ("response_id;questionnaire;questionnaire_version;unit;submitted_on;TC1;TC2;HL;weight\n"  # decimal comma
     "a1;sipas-2023;1;Phòng Lãnh sự;2024-03-01;5;;4;1,5\n"
     "a2;sipas-2023;1;Văn phòng;2024-03-02;3;2;;2,25\n").encode(),
], ids=["export", "excel-unicode-text", "semicolons-decimal-comma"])
def test_spreadsheet_csv_variants_read_as_the_export(data):
    frame = read_responses(data)
    expected = read_responses(EXPORT.encode("utf-8"))
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["unit"].tolist() == ["Phòng Lãnh sự", "Văn phòng"] and frame["weight"].tolist() == [1.5, 2.25]


def _windows_1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: precomposed base letters (ă, ơ, ư...) and
    combining tone marks."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in tones))
        out += (base + "".join(m for m in parts if m in tones)).encode("cp1258")
    return bytes(out)


@pytest.mark.parametrize("codec", ["cp1258", "cp1252"])
def test_a_csv_that_is_not_utf8_is_named_with_what_to_do(codec):
    data = _windows_1258(EXPORT) if codec == "cp1258" else \
        EXPORT.replace("Phòng Lãnh sự", "Café").replace("Văn phòng", "Señor").encode("cp1252")
    with pytest.raises(ValueError, match=r"không ở mã UTF-8 \(byte 0x[0-9a-f]{2} ở dòng 2\).*CSV UTF-8"):
        read_responses(data)


def test_rows_are_numbered_as_a_spreadsheet_shows_them(sipas):
    """The header is row 1: the first answer is row 2, in every message that names a row."""
    columns = list(sipas.answer_columns)
    rows = [",".join("4" for _ in columns)] * 3
    rows[1] = ",".join("9" if c == "TC3" else "4" for c in columns)
    data = "\n".join([",".join(columns), *rows]) + "\n"
    with pytest.raises(ValueError, match=r"TC3: value 9 is not on the answer scale 1–5 \(row 3\)"):
        analyze(read_responses(data.encode("utf-8")), sipas)
