"""The words of ``sipas analyze`` and ``sipas sample-size`` that the report's labels
(``analysis/report/labels.py``) do not have: headings, the sample-size steps and the
commands' own error messages, in Vietnamese (default) and English.

Kept apart from the tables that use them so that an error message is written without
importing the report package; the terms are those of docs/glossary.md.
"""

from __future__ import annotations

from typing import Any

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        # analyze: the table
        "all_responses": "Tất cả phiếu trả lời",
        "design": "Thiết kế mẫu",
        "weight": "trọng số",
        "strata": "tầng",
        "cluster": "cụm (PSU)",
        "df": "bậc tự do",
        "group": "Nhóm",
        "compared": "So sánh",
        "versus": "{label} so với {reference}",
        "rest": "các đơn vị còn lại",
        "all": "tất cả",
        "comparisons_previous": "So sánh với kỳ trước",
        "comparisons_units": "So sánh mỗi đơn vị với các đơn vị còn lại",
        "p_adjusted_by": "p hiệu chỉnh ({method})",
        "frame_weights_note": "Trọng số theo khung mã: chỉ tính phiếu trả lời bằng mã dùng một lần "
                              "(phiếu qua áp phích hoặc máy tính bảng tại quầy không có khung mã nên không được tính)",
        # sample-size
        "sample_size": "Cỡ mẫu cho mỗi đơn vị báo cáo (phương pháp §6)",
        "margin": "sai số cho phép ±{points} điểm %",
        "confidence_level": "độ tin cậy {level}",
        "deff": "hệ số thiết kế (deff) {deff}",
        "population": "tổng thể {population} người",
        "infinite_population": "tổng thể vô hạn",
        "expected_rate": "tỷ lệ phản hồi dự kiến {rate}",
        "times_deff": "× hệ số thiết kế (deff)",
        "finite_population": "Hiệu chỉnh tổng thể hữu hạn n1/(1+n1/N)",
        "required": "Số phiếu trả lời cần có",
        "codes_to_issue": "Số mã cần phát ra (÷ {rate})",
        "needs_population": "cần --population",
        # errors
        "input_or_db": "cần INPUT (tệp CSV hoặc XLSX phiếu trả lời đã xuất) hoặc --db",
        "input_and_db": "chỉ dùng một trong hai: INPUT hoặc --db",
        "unit_needs_db": "--unit chỉ dùng với --db (tệp xuất không có cây đơn vị); hãy lọc tệp xuất",
        "no_such_file": "{path}: không có tệp này",
        "unreadable": "{path}: không đọc được như tệp phiếu trả lời đã xuất ({error})",
        "no_questionnaire_column": "dữ liệu không có cột 'questionnaire'; chỉ rõ phiếu khảo sát bằng "
                                   "--questionnaire ID[@VERSION]",
        "empty_questionnaire_column": "cột 'questionnaire' để trống; chỉ rõ phiếu khảo sát bằng "
                                      "--questionnaire ID[@VERSION]",
        "several_questionnaires": "dữ liệu có câu trả lời của nhiều phiếu khảo sát ({ids}); chọn một phiếu "
                                  "bằng --questionnaire",
        "not_found": "không tìm thấy: {what}",
        "xlsx_needs_file": "--format xlsx ghi ra tệp: thêm -o TỆP.xlsx",
        "csv_comparisons_need_file": "--compare với --format csv ghi thêm một tệp so sánh: thêm -o TỆP.csv",
        "previous_needs_period": "--compare previous cần --period",
        "frame_weights_need_db": "--frame-weights chỉ dùng với --db: khung mã nằm trong cơ sở dữ liệu",
        "weight_or_frame_weights": "chỉ dùng một trong hai: --weight hoặc --frame-weights",
        "bad_margin": "--margin: phải là số lớn hơn 0 và nhỏ hơn 1 (0.05 cho ±5 điểm %)",
        "bad_confidence": "--confidence: phải là số lớn hơn 0 và nhỏ hơn 1 (0.95 cho 95 %)",
        "bad_p": "--p: phải là số lớn hơn 0 và nhỏ hơn 1 (0.5 là lựa chọn an toàn)",
        "bad_deff": "--deff: phải là số dương",
        "bad_response_rate": "--response-rate: phải lớn hơn 0 và không quá 1",
        "bad_population": "--population: phải là số nguyên từ 1 trở lên",
    },
    "en": {
        "all_responses": "All responses",
        "design": "Design",
        "weight": "weight",
        "strata": "strata",
        "cluster": "cluster (PSU)",
        "df": "degrees of freedom",
        "group": "Group",
        "compared": "Compared",
        "versus": "{label} vs {reference}",
        "rest": "the other units",
        "all": "all",
        "comparisons_previous": "Compared with the previous period",
        "comparisons_units": "Each unit compared with the other units",
        "p_adjusted_by": "Adjusted p ({method})",
        "frame_weights_note": "Frame weights: single-use answers only (poster and kiosk answers have no "
                              "code frame and are left out)",
        "sample_size": "Sample size per reporting unit (methodology §6)",
        "margin": "margin ±{points} points",
        "confidence_level": "confidence {level}",
        "deff": "deff {deff}",
        "population": "population {population}",
        "infinite_population": "infinite population",
        "expected_rate": "response rate {rate}",
        "times_deff": "× deff",
        "finite_population": "Finite population n1/(1+n1/N)",
        "required": "Completed answers needed",
        "codes_to_issue": "Codes to issue (÷ {rate})",
        "needs_population": "needs --population",
        "input_or_db": "give INPUT (a CSV or XLSX export) or --db",
        "input_and_db": "give either INPUT or --db, not both",
        "unit_needs_db": "--unit goes with --db (an export holds no unit tree); filter the export instead",
        "no_such_file": "{path}: no such file",
        "unreadable": "{path}: cannot be read as a response export ({error})",
        "no_questionnaire_column": "the data have no 'questionnaire' column; name it with "
                                   "--questionnaire ID[@VERSION]",
        "empty_questionnaire_column": "the 'questionnaire' column is empty; name it with "
                                      "--questionnaire ID[@VERSION]",
        "several_questionnaires": "the data hold answers to several questionnaires ({ids}); choose one "
                                  "with --questionnaire",
        "not_found": "not found: {what}",
        "xlsx_needs_file": "--format xlsx writes a file: add -o FILE.xlsx",
        "csv_comparisons_need_file": "--compare with --format csv writes a second file of comparisons: "
                                     "add -o FILE.csv",
        "previous_needs_period": "--compare previous needs --period",
        "frame_weights_need_db": "--frame-weights goes with --db: the code frame is in the database",
        "weight_or_frame_weights": "give --weight or --frame-weights, not both",
        "bad_margin": "--margin: must be a number between 0 and 1 (0.05 for ±5 points)",
        "bad_confidence": "--confidence: must be a number between 0 and 1 (0.95 for 95 %)",
        "bad_p": "--p: must be a number between 0 and 1 (0.5 is the safe choice)",
        "bad_deff": "--deff: must be a positive number",
        "bad_response_rate": "--response-rate: must be more than 0 and at most 1",
        "bad_population": "--population: must be a whole number of at least 1",
    },
}

#: Multiple-comparison adjustments (``--adjust``) by name.
ADJUST_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg"}


def say(key: str, lang: str, **values: Any) -> str:
    """The command's text for ``key`` in ``lang``, formatted with ``values``."""
    text = WORDS[lang][key]
    return text.format(**values) if values else text
