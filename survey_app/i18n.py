"""Interface texts in Vietnamese (default) and English. Questionnaire texts come from the
questionnaire files, not from here."""

from __future__ import annotations

from flask import g, request
from werkzeug.exceptions import HTTPException

LANGS = ("vi", "en")

TEXTS: dict[str, tuple[str, str]] = {
    "app_name": ("Khảo sát sự hài lòng", "Satisfaction survey"),
    "switch_to": ("English", "Tiếng Việt"),
    "unit": ("Đơn vị", "Unit"),
    "procedure": ("Thủ tục", "Procedure"),
    "anonymous_note": (
        "Phiếu ẩn danh: không ai biết Ông/Bà đã trả lời thế nào.",
        "Anonymous: nobody can tell how you answered.",
    ),
    "scale_hint": ("Chọn một mức cho mỗi nội dung; có thể bỏ qua nội dung không muốn trả lời.",
                   "Choose one level for each item; you may skip any item."),
    "optional_about_you": ("Thông tin thêm về Ông/Bà (không bắt buộc)", "About you (optional)"),
    "overall": ("Đánh giá chung", "Overall"),
    "no_answer": ("Không trả lời", "No answer"),
    "submit": ("Gửi đánh giá", "Send my answers"),
    "next": ("Tiếp tục", "Next"),
    "offline_kept": ("Chưa gửi được: mất kết nối mạng. Câu trả lời vẫn được giữ trên máy này và sẽ tự gửi "
                     "khi có mạng trở lại; Ông/Bà không cần điền lại.",
                     "Not sent yet: the network is down. Your answers are kept on this device and will be sent "
                     "when the network is back; there is no need to fill them in again."),
    "send_again": ("Gửi lại", "Send again"),
    "kiosk_welcome": ("Mời Ông/Bà đánh giá sự phục vụ", "Please rate the service"),
    "kiosk_queued": ("Câu trả lời đã được lưu trên máy này và sẽ tự gửi khi có mạng trở lại.",
                     "Your answers are kept on this tablet and will be sent when the network is back."),
    "kiosk_waiting": ("Phiếu khảo sát sẽ hiện ở đây khi cán bộ trả hồ sơ. Ẩn danh, khoảng 1 phút.",
                      "The questionnaire appears here when your dossier is handed back. Anonymous, about a minute."),
    "back": ("Quay lại", "Back"),
    "step_of": ("Bước {n}/{total}", "Step {n} of {total}"),
    "required": ("bắt buộc", "required"),
    "errors_intro": ("Vui lòng xem lại các câu được đánh dấu bên dưới.",
                     "Please check the questions marked below."),
    "comment_limit": ("Tối đa {n} ký tự.", "At most {n} characters."),
    "thanks_title": ("Cảm ơn Ông/Bà!", "Thank you!"),
    "thanks_body": (
        "Cảm ơn Ông/Bà đã dành thời gian đánh giá. Ý kiến của Ông/Bà đã được ghi nhận và giúp cơ quan phục vụ tốt hơn.",
        "Cảm ơn — thank you for your time. Your answers have been received and will help the agency serve people better.",
    ),
    "case_question": ("Ông/Bà có muốn cơ quan trả lời góp ý này không?", "Do you want the agency to answer this comment?"),
    "case_hint": ("Phản ánh, kiến nghị được chuyển cho đơn vị xử lý và trả lời trong thời hạn quy định; "
                  "Ông/Bà tra cứu kết quả bằng số phản ánh hoặc mã trên phiếu hẹn, vẫn ẩn danh. "
                  "Không ghi họ tên, số điện thoại hay số giấy tờ.",
                  "A complaint or request goes to the unit, which answers it within the legal time; you follow it "
                  "with its number or the code on your receipt, still anonymously. Do not write your name, phone "
                  "or ID number."),
    "case_none": ("Không, chỉ góp ý", "No, just a comment"),
    "case_complaint": ("Có, đây là phản ánh (về việc đã xảy ra)", "Yes, a complaint (about what happened)"),
    "case_request": ("Có, đây là kiến nghị (đề nghị thay đổi)", "Yes, a request (asking for a change)"),
    "kind_complaint": ("phản ánh", "complaint"),
    "kind_request": ("kiến nghị", "request"),
    "thanks_case": ("Góp ý của Ông/Bà đã được ghi nhận là {kind} số {number}. Cơ quan sẽ trả lời chậm nhất "
                    "ngày {due}. Ghi lại số này (hoặc giữ phiếu hẹn có mã đánh giá) để tra cứu kết quả.",
                    "Your comment was recorded as {kind} number {number}. The agency will answer by {due}. "
                    "Note this number (or keep the receipt with the survey code) to follow it."),
    "follow_title": ("Tra cứu phản ánh, kiến nghị", "Follow a complaint or request"),
    "follow_help": ("Nhập số phản ánh, kiến nghị (ví dụ PA-7K3F-9Q2M) hoặc mã đánh giá in trên phiếu hẹn.",
                    "Type the complaint or request number (e.g. PA-7K3F-9Q2M) or the survey code on your receipt."),
    "follow_label": ("Số phản ánh hoặc mã đánh giá", "Case number or survey code"),
    "follow_find": ("Tra cứu", "Look up"),
    "follow_link": ("Tra cứu phản ánh, kiến nghị đã gửi", "Follow a complaint or request you sent"),
    "follow_not_found": ("Không tìm thấy phản ánh, kiến nghị với số hoặc mã này. Vui lòng kiểm tra lại và nhập lại.",
                         "No complaint or request has this number or code. Please check it and type it again."),
    "case_title": ("{Kind} số {number}", "{Kind} {number}"),
    "case_received": ("Đã nhận ngày", "Received on"),
    "case_due": ("Hạn trả lời", "To be answered by"),
    "case_status": ("Tình trạng", "Status"),
    "case_open": ("Đang xử lý", "Being handled"),
    "case_closed": ("Đã trả lời ngày {date}", "Answered on {date}"),
    "case_text": ("Nội dung Ông/Bà đã gửi", "What you wrote"),
    "case_outcome": ("Kết quả xử lý", "The agency's answer"),
    "case_rate_q": ("Ông/Bà có hài lòng với việc xử lý phản ánh, kiến nghị này không?",
                    "Are you satisfied with how this was handled?"),
    "rating_satisfied": ("Hài lòng", "Satisfied"),
    "rating_dissatisfied": ("Không hài lòng", "Dissatisfied"),
    "case_purged": ("(đã xóa khi hết thời hạn lưu trữ)", "(deleted when its retention period ended)"),
    "rate_choose": ("Vui lòng chọn Hài lòng hoặc Không hài lòng.", "Please choose Satisfied or Dissatisfied."),
    "rate_not_closed": ("Chỉ đánh giá được sau khi cơ quan trả lời.", "You can rate it once the agency has answered."),
    "rate_twice": ("Việc xử lý này đã được đánh giá rồi.", "The handling has already been rated."),
    "case_rated": ("Ông/Bà đã đánh giá việc xử lý: {rating}. Cảm ơn Ông/Bà.",
                   "You rated the handling: {rating}. Thank you."),
    "enter_code_title": ("Nhập mã đánh giá", "Enter your survey code"),
    "enter_code_help": (
        "Mã gồm 13 ký tự in trên phiếu hẹn, ví dụ ABCD-EFGH-JKMN-P. Không phân biệt chữ hoa, chữ thường.",
        "The code has 13 characters and is printed on your receipt, e.g. ABCD-EFGH-JKMN-P. Upper or lower case both work.",
    ),
    "code_label": ("Mã đánh giá", "Survey code"),
    "open": ("Mở phiếu", "Open the survey"),
    "err_unknown_title": ("Không tìm thấy mã", "Code not found"),
    "err_unknown_body": ("Không tìm thấy mã này. Vui lòng kiểm tra lại mã trên phiếu hẹn và nhập lại.",
                         "This code was not found. Please check the code on your receipt and type it again."),
    "err_check_title": ("Mã có vẻ bị gõ nhầm", "The code looks mistyped"),
    "err_check_body": ("Mã không hợp lệ: có lẽ một ký tự bị gõ nhầm. Vui lòng kiểm tra lại mã và nhập lại.",
                       "This code is not valid: a character was probably mistyped. Please check the code and type it again."),
    "err_expired_title": ("Mã đã hết hạn", "This code has expired"),
    "err_expired_body": ("Mã này đã hết thời hạn đánh giá. Nếu cần, Ông/Bà có thể xin mã mới tại bộ phận một cửa.",
                         "The time to answer with this code has passed. You can ask for a new code at the counter."),
    "err_voided_title": ("Mã đã bị hủy", "This code was cancelled"),
    "err_voided_body": ("Mã này đã bị hủy và không dùng được nữa. Ông/Bà có thể xin mã mới tại bộ phận một cửa.",
                        "This code was cancelled and can no longer be used. You can ask for a new code at the counter."),
    "err_answered_title": ("Đã nhận đánh giá", "Already received"),
    "err_answered_body": ("Đánh giá cho mã này đã được nhận rồi — cảm ơn Ông/Bà. Không cần gửi lại.",
                          "We have already received the answers for this code — thank you. There is no need to send them again."),
    "err_csrf_title": ("Phiên làm việc đã hết hạn", "The page has expired"),
    "err_csrf_body": ("Vui lòng tải lại trang và thử lại.", "Please reload the page and try again."),
    "err_too_large_title": ("Nội dung gửi quá lớn", "Too much data sent"),
    "err_too_large_body": ("Nội dung gửi đi quá lớn. Vui lòng rút ngắn góp ý và gửi lại.",
                           "What was sent is too large. Please shorten your comment and send it again."),
    "err_poster_rate_title": ("Mời Ông/Bà quay lại sau ít phút", "Please come back in a few minutes"),
    "err_poster_rate_body": (
        "Từ thiết bị hoặc mạng này, mã tại quầy vừa nhận nhiều đánh giá trong ít phút. Để mỗi ý kiến chỉ được "
        "tính một lần, Ông/Bà vui lòng thử lại sau ít phút, hoặc xin cán bộ tại quầy một mã dùng một lần cho hồ sơ "
        "của mình.",
        "This device or network has just sent several answers to the counter's code. So that each opinion counts "
        "once, please try again in a few minutes, or ask the counter for a single-use code for your dossier."),
    "err_rate_title": ("Quá nhiều lượt thử", "Too many attempts"),
    "err_rate_body": ("Có quá nhiều lượt thử từ thiết bị này. Vui lòng chờ vài phút rồi thử lại.",
                      "There were too many attempts from this device. Please wait a few minutes and try again."),
    "err_not_found_title": ("Không tìm thấy trang", "Page not found"),
    "err_not_found_body": ("Trang này không tồn tại. Vui lòng kiểm tra lại địa chỉ.", "This page does not exist. Please check the address."),
    "err_bad_request_title": ("Yêu cầu không hợp lệ", "Bad request"),
    "err_bad_request_body": ("Yêu cầu không hợp lệ. Vui lòng tải lại trang và thử lại.", "The request was not valid. Please reload the page and try again."),
    "err_forbidden_title": ("Không có quyền truy cập", "Access denied"),
    "err_forbidden_body": ("Tài khoản của Ông/Bà không có quyền xem trang này.", "Your account may not open this page."),
    "err_method_title": ("Thao tác không được hỗ trợ", "Not allowed"),
    "err_method_body": ("Thao tác này không được hỗ trợ trên trang này.", "This action is not supported on this page."),
    "err_server_title": ("Đã có lỗi xảy ra", "Something went wrong"),
    "err_server_body": ("Hệ thống đang gặp sự cố. Câu trả lời chưa được lưu; vui lòng thử lại sau ít phút.",
                        "The system had a problem. Your answers were not saved; please try again in a few minutes."),
    "err_busy_title": ("Hệ thống đang bận", "The system is busy"),
    "err_busy_body": ("Hệ thống đang bận. Câu trả lời chưa được lưu; vui lòng gửi lại sau ít phút.",
                      "The system is busy. Your answers were not saved; please send them again in a few minutes."),
    "home": ("Trang chủ", "Home"),
}


def current_lang() -> str:
    """``?lang=`` (or the form's ``lang``) when valid, else Vietnamese."""
    cached = g.get("lang")
    if cached:
        return cached
    lang = request.args.get("lang")
    if not lang and request.method == "POST":
        try:
            lang = request.form.get("lang")
        except HTTPException:  # an oversized or malformed body: its error page is in Vietnamese
            lang = None
    g.lang = lang if lang in LANGS else "vi"
    return g.lang


def t(key: str, **values: object) -> str:
    vi, en = TEXTS[key]
    text = en if current_lang() == "en" else vi
    return text.format(**values) if values else text


def pick(texts: object) -> str:
    """A questionnaire text in the current language (Vietnamese when missing)."""
    lang = current_lang()
    return texts.get(lang) or texts["vi"]  # type: ignore[attr-defined]

