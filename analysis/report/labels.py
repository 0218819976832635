"""Words of the plan report in Vietnamese (default) and English."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "report": "Báo cáo kết quả khảo sát sự hài lòng",
        "period": "Kỳ báo cáo",
        "dates": "Thời gian",
        "baseline": "Kỳ gốc",
        "questionnaire": "Phiếu khảo sát",
        "generated": "Ngày lập",
        "plan": "Kế hoạch",
        "summary": "Tổng hợp",
        "unit": "Đơn vị",
        "unit_code": "Mã đơn vị",
        "department": "Toàn đơn vị",
        "responses": "Số phiếu",
        "issued": "Số mã phát ra",
        "answered": "Số mã đã trả lời",
        "response_rate": "Tỷ lệ phản hồi (trên mã đã hết hạn trả lời)",
        "open_codes": "Mã còn hạn trả lời",
        "open_answered": "Mã còn hạn đã trả lời",
        "general": "Chỉ số hài lòng chung (SIPAS)",
        "general_short": "Hài lòng chung",
        "overall": "Chỉ số tổng hợp (trung bình 5 yếu tố)",
        "overall_short": "Chỉ số tổng hợp",
        "element": "Yếu tố",
        "elements": "Chỉ số các yếu tố",
        "criterion": "Tiêu chí",
        "criteria": "Chỉ số các tiêu chí",
        "unit_indices": "Chỉ số, mục tiêu và thay đổi",
        "index": "Chỉ số",
        "ci": "Khoảng tin cậy",
        "ci_low": "Cận dưới",
        "ci_high": "Cận trên",
        "se": "Sai số chuẩn",
        "n": "n",
        "target": "Mục tiêu",
        "targets": "Đánh giá so với mục tiêu",
        "verdict": "Kết quả",
        "met": "Đạt",
        "not_met": "Không đạt",
        "inconclusive": "Chưa đủ căn cứ",
        "no_data": "Không có dữ liệu",
        "change": "Thay đổi so với kỳ gốc",
        "change_short": "Thay đổi",
        "difference": "Chênh lệch (điểm %)",
        "p_value": "Giá trị p",
        "p_adjusted": "p hiệu chỉnh (Holm)",
        "significant": "Có ý nghĩa thống kê",
        "yes": "Có",
        "no": "Không",
        "priorities": "Năm tiêu chí cần tập trung cải thiện",
        "priorities_sheet": "Ưu tiên cải thiện",
        "rank": "Thứ tự",
        "importance": "Mức quan trọng (tương quan với câu hỏi chung)",
        "importance_short": "Mức quan trọng",
        "performance": "Mức hài lòng",
        "quadrant": "Nhóm",
        "concentrate": "Tập trung cải thiện",
        "keep_up": "Duy trì",
        "low_priority": "Ưu tiên thấp",
        "overkill": "Có thể đang đầu tư quá mức",
        "warnings": "Cảnh báo cỡ mẫu nhỏ",
        "warning_line": "{what}: không đủ dữ liệu ({why})",
        "flag_reason": "Lý do",
        "no estimate": "chưa có ước lượng: không ai trả lời",
        "small n": "n = {n}, dưới {small_n} người trả lời",
        "wide interval": "khoảng tin cậy rộng {width} điểm, quá {max_width} điểm",
        "no_warnings": "Không có chỉ số nào thiếu dữ liệu.",
        "flag": "Ghi chú",
        "insufficient data": "Không đủ dữ liệu",
        "method": "Ghi chú phương pháp",
        "method_sheet": "Phương pháp",
        "indices_sheet": "Chỉ số",
        "targets_sheet": "Mục tiêu",
        "change_sheet": "So sánh kỳ gốc",
        "response_sheet": "Tỷ lệ phản hồi",
        "warnings_sheet": "Cảnh báo",
        "level": "Cấp",
        "code": "Mã",
        "name": "Tên",
        "level_general": "Chung",
        "level_overall": "Tổng hợp",
        "level_element": "Yếu tố",
        "level_criterion": "Tiêu chí",
        "chart_units": "Chỉ số theo đơn vị (khoảng tin cậy {conf}) và mục tiêu",
        "chart_elements": "Chỉ số các yếu tố — {unit}",
        "chart_ipa": "Mức quan trọng và mức hài lòng của các tiêu chí — {unit}",
        "chart_funnel": "Biểu đồ phễu: hài lòng chung theo cỡ mẫu",
        "chart_change": "Thay đổi chỉ số hài lòng chung so với kỳ gốc (điểm %)",
        "funnel_centre": "Trung bình chung",
        "funnel_named": "Biểu đồ ghi tên {named} trong {units} đơn vị (nhiều nhất {most}): các đơn vị nằm ngoài "
                        "giới hạn 95 % ({outside} đơn vị; xa giới hạn nhất trước), đơn vị có chỉ số cao nhất và "
                        "thấp nhất; mọi đơn vị có trong bảng số liệu. Được ghi tên:",
        "limit95": "Giới hạn 95 %",
        "limit998": "Giới hạn 99,8 %",
        "signal_none": "trong giới hạn 95 %",
        "signal_above 95": "trên giới hạn 95 % (cần xem xét)",
        "signal_below 95": "dưới giới hạn 95 % (cần xem xét)",
        "signal_above 99.8": "trên giới hạn 99,8 % (khác biệt rõ)",
        "signal_below 99.8": "dưới giới hạn 99,8 % (khác biệt rõ)",
        "no_baseline": "Kế hoạch không nêu kỳ gốc, hoặc kỳ gốc không có dữ liệu.",
        "no_issuance": "Không có số liệu mã phát ra (chỉ có khi đọc từ cơ sở dữ liệu hoặc khi "
                       "cung cấp tệp số mã phát ra).",
        "none": "Không có",
        "chart_note": "Số liệu của biểu đồ có trong các bảng.",
        "value": "Giá trị",
        "key": "Mục",
        "confidence": "Độ tin cậy",
        "ci_method": "Phương pháp khoảng tin cậy cho tiêu chí",
    },
    "en": {
        "report": "Satisfaction survey report",
        "period": "Reporting period",
        "dates": "Dates",
        "baseline": "Baseline",
        "questionnaire": "Questionnaire",
        "generated": "Prepared on",
        "plan": "Plan",
        "summary": "Summary",
        "unit": "Unit",
        "unit_code": "Unit code",
        "department": "Whole organisation",
        "responses": "Responses",
        "issued": "Codes issued",
        "answered": "Codes answered",
        "response_rate": "Response rate (over codes whose window has closed)",
        "open_codes": "Codes still open",
        "open_answered": "Open codes answered so far",
        "general": "General satisfaction index (SIPAS)",
        "general_short": "General",
        "overall": "Composite index (mean of the elements)",
        "overall_short": "Composite",
        "element": "Element",
        "elements": "Element indices",
        "criterion": "Criterion",
        "criteria": "Criterion indices",
        "unit_indices": "Indices, targets and change",
        "index": "Index",
        "ci": "Confidence interval",
        "ci_low": "CI low",
        "ci_high": "CI high",
        "se": "Standard error",
        "n": "n",
        "target": "Target",
        "targets": "Targets",
        "verdict": "Verdict",
        "met": "Met",
        "not_met": "Not met",
        "inconclusive": "Inconclusive",
        "no_data": "No data",
        "change": "Change against the baseline",
        "change_short": "Change",
        "difference": "Difference (points)",
        "p_value": "p-value",
        "p_adjusted": "Adjusted p (Holm)",
        "significant": "Significant",
        "yes": "Yes",
        "no": "No",
        "priorities": "Five criteria to concentrate on",
        "priorities_sheet": "Priorities",
        "rank": "Rank",
        "importance": "Importance (correlation with the general question)",
        "importance_short": "Importance",
        "performance": "Performance",
        "quadrant": "Quadrant",
        "concentrate": "Concentrate here",
        "keep_up": "Keep up the good work",
        "low_priority": "Low priority",
        "overkill": "Possible overkill",
        "warnings": "Small-sample warnings",
        "warning_line": "{what}: insufficient data ({why})",
        "flag_reason": "Reason",
        "no estimate": "no estimate: nobody answered",
        "small n": "n = {n}, fewer than {small_n} answers",
        "wide interval": "confidence interval {width} points wide, more than {max_width}",
        "no_warnings": "No estimate lacks data.",
        "flag": "Note",
        "insufficient data": "Insufficient data",
        "method": "Method note",
        "method_sheet": "Method",
        "indices_sheet": "Indices",
        "targets_sheet": "Targets",
        "change_sheet": "Change",
        "response_sheet": "Response rate",
        "warnings_sheet": "Warnings",
        "level": "Level",
        "code": "Code",
        "name": "Name",
        "level_general": "General",
        "level_overall": "Composite",
        "level_element": "Element",
        "level_criterion": "Criterion",
        "chart_units": "Indices by unit ({conf} confidence intervals) and targets",
        "chart_elements": "Element indices — {unit}",
        "chart_ipa": "Importance and performance of the criteria — {unit}",
        "chart_funnel": "Funnel plot: general satisfaction by sample size",
        "chart_change": "Change in general satisfaction against the baseline (points)",
        "funnel_centre": "Overall mean",
        "funnel_named": "The chart names {named} of the {units} units (at most {most}): those outside the 95 % "
                        "limits ({outside} units; the farthest first), the highest and the lowest index; every "
                        "unit is in the table. Named:",
        "limit95": "95 % limits",
        "limit998": "99.8 % limits",
        "signal_none": "within the 95 % limits",
        "signal_above 95": "above the 95 % limits (a warning)",
        "signal_below 95": "below the 95 % limits (a warning)",
        "signal_above 99.8": "above the 99.8 % limits (an alarm)",
        "signal_below 99.8": "below the 99.8 % limits (an alarm)",
        "no_baseline": "The plan names no baseline, or the baseline period has no data.",
        "no_issuance": "No code issuance counts (available from the database, or from an "
                       "issuance file).",
        "none": "None",
        "chart_note": "The charts' numbers are in the tables.",
        "value": "Value",
        "key": "Item",
        "confidence": "Confidence level",
        "ci_method": "Interval method for criteria",
    },
}

CI_METHOD_NAMES = {
    "vi": {"wilson": "Wilson", "jeffreys": "Jeffreys", "clopper-pearson": "Clopper–Pearson",
           "agresti-coull": "Agresti–Coull", "wald": "Wald"},
    "en": {"wilson": "Wilson", "jeffreys": "Jeffreys", "clopper-pearson": "Clopper–Pearson",
           "agresti-coull": "Agresti–Coull", "wald": "Wald"},
}


def label(key: str, lang: str, **values: Any) -> str:
    """The text for ``key`` in ``lang``, formatted with ``values``."""
    text = LABELS[lang].get(key, key)
    return text.format(**values) if values else text


def flag_why(reasons: Sequence[str], *, n: int, width: float | None, small_n: int, max_width: float,
             lang: str) -> str:
    """Which small-cell rules flagged an estimate, in words (``analysis.results.flag_reasons``)."""
    from ..format import format_number

    def points(value: float | None) -> str:
        return "–" if value is None else format_number(value, lang=lang, digits=1)

    return "; ".join(label(reason, lang, n=n, small_n=small_n, width=points(width),
                           max_width=format_number(max_width, lang=lang, digits=0)) for reason in reasons)


METHOD_NOTE = {
    "vi": [
        "Chỉ số tiêu chí là tỷ lệ người trả lời “hài lòng” hoặc “rất hài lòng” trong số người "
        "đã trả lời tiêu chí đó (câu bỏ trống không tính). Chỉ số yếu tố là trung bình cộng "
        "các chỉ số tiêu chí của yếu tố; chỉ số tổng hợp là trung bình cộng năm chỉ số yếu tố. "
        "Chỉ số hài lòng chung (SIPAS) là tỷ lệ “hài lòng” hoặc “rất hài lòng” ở câu hỏi chung.",
        "Khoảng tin cậy {conf}: tiêu chí và chỉ số chung theo phương pháp {method}; chỉ số yếu tố "
        "và tổng hợp theo phương pháp tuyến tính hóa (delta) trên thang logit.",
        "Đánh giá mục tiêu: “Đạt” khi cận dưới của khoảng tin cậy không thấp hơn mục tiêu; "
        "“Không đạt” khi cận trên thấp hơn mục tiêu; còn lại là “Chưa đủ căn cứ” (mẫu chưa đủ "
        "để kết luận).",
        "Thay đổi so với kỳ gốc: chênh lệch hai kỳ (hai mẫu độc lập); khoảng tin cậy Newcombe "
        "cho chỉ số chung, tuyến tính hóa (phương sai cộng) cho chỉ số yếu tố và tổng hợp; "
        "giá trị p hiệu chỉnh Holm giữa các đơn vị cho cùng một chỉ số.",
        "Tiêu chí cần tập trung: mức quan trọng là hệ số tương quan giữa điểm tiêu chí và câu "
        "hỏi chung; nhóm “tập trung cải thiện” gồm các tiêu chí có mức quan trọng không thấp "
        "hơn trung bình và mức hài lòng thấp hơn trung bình của các tiêu chí.",
        "Chỉ số có dưới {small_n} người trả lời hoặc khoảng tin cậy rộng hơn {max_width} điểm "
        "được đánh dấu “không đủ dữ liệu” và không được xếp hạng.",
        "Tỷ lệ phản hồi = số phiếu trả lời bằng mã dùng một lần / số mã dùng một lần đã phát "
        "ra trong kỳ.",
    ],
    "en": [
        "A criterion's index is the share answering “satisfied” or “very satisfied” among "
        "those who answered it (blanks are left out). An element's index is the mean of its "
        "criteria's indices; the composite index is the mean of the five element indices. The "
        "general index (SIPAS headline) is the share “satisfied” or “very satisfied” with the "
        "general question.",
        "{conf} confidence intervals: {method} for criteria and the general index; "
        "linearisation (delta method) on the logit scale for elements and the composite.",
        "Targets: “met” when the interval's lower bound is at or above the target; “not met” "
        "when its upper bound is below it; otherwise “inconclusive” (the sample cannot tell).",
        "Change against the baseline: the difference between two independent samples, with "
        "Newcombe's interval for the general index and linearisation (variances added) for "
        "elements and the composite; p-values Holm-adjusted across units for each index.",
        "Criteria to concentrate on: importance is the correlation of the criterion's score with "
        "the general question; “concentrate here” holds criteria with importance at or above "
        "the criteria's mean and performance below their mean.",
        "Estimates with fewer than {small_n} answers or an interval wider than {max_width} "
        "points are marked “insufficient data” and never ranked.",
        "Response rate = responses given with single-use codes / single-use codes issued in "
        "the period.",
    ],
}
