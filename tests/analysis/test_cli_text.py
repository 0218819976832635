"""What `sipas analyze --format table` and `sipas sample-size` print for people: Vietnamese by
default (docs/glossary.md's words, "Quý II/2026", decimal commas, each flag's rule in words),
English with --lang en, the columns aligned; the machine formats stay as they were."""

from __future__ import annotations

import json
import re

import pytest

import analysis
from analysis.format import format_number
from tests.analysis.test_cli import SIPAS, _responses, _run


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-text") / "responses.csv"
    _responses().to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture(scope="module")
def data(csv_path):
    return analysis.read_responses(csv_path)


# ----------------------------------------------------------------------------- analyze
def _tables(output: str) -> dict[str, list[str]]:
    """Each group's heading → its header line and rows (the lines after the rule)."""
    out: dict[str, list[str]] = {}
    for block in output.split("\n\n")[1:]:
        heading, header, rule, *rows = block.splitlines()
        assert set(rule.strip()) == {"-"}, block
        out[heading] = [header, *rows]
    return out


def test_table_is_vietnamese_by_default(csv_path, data):
    result, _ = _run(["analyze", csv_path, "--by", "unit", "--period", "quarter", "--small-n", "500"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("Phiếu khảo sát: sipas-2023@1 · Độ tin cậy: 95 % · "
                           "Phương pháp khoảng tin cậy cho tiêu chí: Wilson\n")
    expected = analysis.analyze(data, SIPAS, by="unit", period="quarter", small_n=500)
    vp = expected.group(unit="VP", period="2026-Q2")
    header, *rows = _tables(text)[f"Đơn vị: VP · Kỳ báo cáo: Quý II/2026   (Số phiếu: {vp.n})"]
    assert header.split() == ["Mục", "Chỉ", "số", "Khoảng", "tin", "cậy", "95", "%", "n", "Ghi", "chú"]
    general = format_number(vp.general.value)
    assert "," in general and re.match(rf"  HL  Chỉ số hài lòng chung \(SIPAS\) +{general}  ", rows[0]), rows[0]
    # Every estimate is flagged (fewer than 500 answers), with the rule in words.
    assert rows[0].endswith(f"Không đủ dữ liệu (n = {vp.general.n}, dưới 500 người trả lời)"), rows[0]
    assert rows[1].startswith("  Chỉ số tổng hợp (trung bình 5 yếu tố) ")
    assert any(row.startswith("  CC  Công chức trực tiếp giải quyết công việc ") for row in rows)
    # Aligned: diacritics are one column each, so the numbers end where the headers do.
    index_end = header.index("Chỉ số") + len("Chỉ số")
    ci_start = header.index("Khoảng tin cậy")
    for row in rows:
        assert re.fullmatch(r" *\d{1,3},\d", row[index_end - 6:index_end]), row
        assert re.match(r"\d{1,3},\d–\d{1,3},\d ", row[ci_start:]), row
    for english in ("insufficient data", "general (SIPAS)", "2026-Q2", "unit=", "Access to"):
        assert english not in text


def test_table_in_english(csv_path, data):
    result, _ = _run(["analyze", csv_path, "--by", "unit", "--period", "quarter", "--lang", "en"])
    assert result.exit_code == 0, result.output
    vp = analysis.analyze(data, SIPAS, by="unit", period="quarter").group(unit="VP", period="2026-Q2")
    header, *rows = _tables(result.output)[f"Unit: VP · Reporting period: 2026 Q2   (Responses: {vp.n})"]
    assert header.split()[:2] == ["Item", "Index"] and "Confidence interval 95 %" in header
    general = format_number(vp.general.value, lang="en")
    assert re.match(rf"  HL  General satisfaction index \(SIPAS\) +{general}  ", rows[0]), rows[0]
    assert any(row.startswith("  TC  Access to the service ") for row in rows)
    assert re.search(r"\d\.\d–\d+\.\d", rows[0]) and "Insufficient data (" in result.output
    assert "Quý" not in result.output and "Không đủ" not in result.output


def test_table_comparisons_in_words(csv_path):
    result, _ = _run(["analyze", csv_path, "--by", "unit", "--compare", "units"])
    assert result.exit_code == 0, result.output
    assert "Đơn vị: VP   (Số phiếu: " in result.output
    assert "\nSo sánh mỗi đơn vị với các đơn vị còn lại\n" in result.output
    assert re.search(r"\n  tất cả +VP so với các đơn vị còn lại +Hài lòng chung +−?\d+,\d ", result.output)
    assert "p hiệu chỉnh (Holm)" in result.output
    result, _ = _run(["analyze", csv_path, "--period", "quarter", "--compare", "previous", "--adjust", "bh"])
    assert result.exit_code == 0, result.output
    assert "\nSo sánh với kỳ trước\n" in result.output and "p hiệu chỉnh (Benjamini–Hochberg)" in result.output
    assert re.search(r"\n  tất cả +Quý III/2026 so với Quý II/2026 +Chỉ số tổng hợp ", result.output)


def test_lang_leaves_machine_output_alone(csv_path):
    for fmt in ("json", "csv"):
        vi, _ = _run(["analyze", csv_path, "--by", "unit", "--format", fmt])
        en, _ = _run(["analyze", csv_path, "--by", "unit", "--format", fmt, "--lang", "en"])
        assert vi.exit_code == en.exit_code == 0
        assert vi.output == en.output and "insufficient data" in vi.output


# ----------------------------------------------------------------------------- sample size
def test_sample_size_prints_both():
    result, _ = _run(["sample-size", "--margin", "0.05", "--population", "2000", "--deff",
                      "1.5", "--response-rate", "0.45"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == [
        "Cỡ mẫu cho mỗi đơn vị báo cáo (phương pháp §6)",
        "  sai số cho phép ±5 điểm %, độ tin cậy 95 %, p = 0,5, hệ số thiết kế (deff) 1,5, "
        "tổng thể 2.000 người, tỷ lệ phản hồi dự kiến 45 %"]
    assert re.fullmatch(r"  × hệ số thiết kế \(deff\) +576,22", lines[3])
    assert re.fullmatch(r"  Hiệu chỉnh tổng thể hữu hạn n1/\(1\+n1/N\) +447,34", lines[4])
    assert re.fullmatch(r"  Số phiếu trả lời cần có +448", lines[5])
    assert re.fullmatch(r"  Số mã cần phát ra \(÷ 0,45\) +995", lines[6])
    assert re.fullmatch(r"  Yamane n = N / \(1 \+ N e²\) +333,33  → 334", lines[7])
    assert len({len(line) for line in lines[3:7]}) == 1  # the numbers line up
    english, _ = _run(["sample-size", "--margin", "0.05", "--population", "2000", "--deff", "1.5",
                       "--lang", "en"])
    assert "Completed answers needed" in english.output and "576.22" in english.output
    assert "population 2,000" in english.output
    infinite, _ = _run(["sample-size", "--margin", "0.05"])
    assert "tổng thể vô hạn" in infinite.output and "cần --population" in infinite.output
    result, _ = _run(["sample-size", "--margin", "0.05", "--json"])
    doc = json.loads(result.output)
    assert doc["n0"] == pytest.approx(384.146, abs=1e-3) and doc["yamane"] is None
