"""scrub(): personal data in citizens' comments goes, ordinary numbers stay."""

from __future__ import annotations

import re

import pytest

from survey_app.services.scrub import scrub

EMAIL, ID, PHONE = "[email]", "[số định danh]", "[số điện thoại]"

# (written in the comment, placeholder, fragments that must not survive). Digit fragments are
# looked for in the output's digits alone, so a leak split by separators still shows.
SCRUBBED = [
    # Citizen ID (CCCD), 12 digits in any grouping.
    ("001203004567", ID, "203004567"),
    ("001 203 004 567", ID, "203004567"),
    ("0012 0300 4567", ID, "203004567"),
    ("001-203-004-567", ID, "203004567"),
    ("001.203.004.567", ID, "203004567"),
    ("001/203/004/567", ID, "203004567"),
    ("001_203_004_567", ID, "203004567"),
    ("001203 004567", ID, "203004567"),
    ("001 2 03 004567", ID, "203004567"),
    ("001 – 203 – 004 – 567", ID, "203004567"),
    ("001\u00a0203\u00a0004\u00a0567", ID, "203004567"),
    ("001\t203\t004\t567", ID, "203004567"),
    ("0012\u200b0300\u200b4567", ID, "203004567"),
    ("001-203-\u00ad004-567", ID, "203004567"),
    ("００１２０３００４５６７", ID, "203004567"),
    ("038 123 456 789", ID, "123456789"),
    # Mobile numbers: 0 + 9 digits.
    ("0912345678", PHONE, "912345678"),
    ("0912 345 678", PHONE, "912345678"),
    ("091 234 5678", PHONE, "912345678"),
    ("0912.345.678", PHONE, "912345678"),
    ("0912-345-678", PHONE, "912345678"),
    ("0912/345/678", PHONE, "912345678"),
    ("0912_345_678", PHONE, "912345678"),
    ("0912\u00a0345\u00a0678", PHONE, "912345678"),
    ("0912\t345\t678", PHONE, "912345678"),
    ("0912\n345\n678", PHONE, "912345678"),
    ("0912\r\n345678", PHONE, "912345678"),
    ("0912\u2013345\u2013678", PHONE, "912345678"),
    ("0912 \u2013 345 \u2013 678", PHONE, "912345678"),
    ("0912\u200b345\u200b678", PHONE, "912345678"),
    ("0912\u2060345\ufeff678", PHONE, "912345678"),
    ("0912\u00ad345678", PHONE, "912345678"),
    ("０９１２３４５６７８", PHONE, "912345678"),
    ("０９１２\u3000３４５\u3000６７８", PHONE, "912345678"),
    ("0386 123 456", PHONE, "386123456"),
    ("0706.123.456", PHONE, "706123456"),
    ("0523 456 789", PHONE, "523456789"),
    ("0868-123-456", PHONE, "868123456"),
    ("0168 123 4567", PHONE, "1681234567"),
    # Country code 84 / +84 / 0084.
    ("0084912345678", PHONE, "912345678"),
    ("0084 912 345 678", PHONE, "912345678"),
    ("+84912345678", PHONE, "912345678"),
    ("+84 912 345 678", PHONE, "912345678"),
    ("+84-912-345-678", PHONE, "912345678"),
    ("+84 912.345.678", PHONE, "912345678"),
    ("84912345678", PHONE, "912345678"),
    ("84 912 345 678", PHONE, "912345678"),
    ("(+84) 912 345 678", PHONE, "912345678"),
    ("+84 (0) 912 345 678", PHONE, "912345678"),
    ("+84 0912 345 678", PHONE, "912345678"),
    ("＋８４９１２３４５６７８", PHONE, "912345678"),
    # Landlines: 0 + 10 digits.
    ("024 3825 1234", PHONE, "38251234"),
    ("(024) 3825 1234", PHONE, "38251234"),
    ("028.3823.1234", PHONE, "38231234"),
    ("0236 382 1234", PHONE, "3821234"),
    ("(0236) 382 1234", PHONE, "3821234"),
    ("+84 24 3825 1234", PHONE, "38251234"),
    # E-mail, plain and spelled out.
    ("nguyenvanan@gmail.com", EMAIL, "nguyenvanan"),
    ("nguyen.van.an+gopy@sub.gov.vn", EMAIL, "nguyen"),
    ("NguyenVanAn@Gmail.COM", EMAIL, "nguyenvanan"),
    ("nguyenvanan @ gmail.com", EMAIL, "nguyenvanan"),
    ("nguyenvanan＠gmail．com", EMAIL, "nguyenvanan"),
    ("nguyenvanan＠ｇｍａｉｌ．ｃｏｍ", EMAIL, "nguyenvanan"),
    ("nguyen\u200bvanan@gmail.com", EMAIL, "nguyenvanan"),
    ("nguyenvanan(at)gmail.com", EMAIL, "nguyenvanan"),
    ("nguyenvanan [at] gmail.com", EMAIL, "nguyenvanan"),
    ("nguyenvanan[@]gmail.com", EMAIL, "nguyenvanan"),
    ("nguyenvanan{at}gmail{dot}com", EMAIL, "nguyenvanan"),
    ("nguyenvanan [at] gmail dot com", EMAIL, "nguyenvanan"),
    ("nguyenvanan (at) gmail (dot) com", EMAIL, "nguyenvanan"),
    ("nguyenvanan at gmail dot com", EMAIL, "nguyenvanan"),
    ("nguyenvanan a còng gmail chấm com", EMAIL, "nguyenvanan"),
    ("an0912345678@gmail.com", EMAIL, "912345678"),
]


@pytest.mark.parametrize(("written", "placeholder", "secret"), SCRUBBED)
def test_personal_data_is_replaced(written, placeholder, secret):
    out = scrub(f"Góp ý: {written}, cảm ơn.")
    assert out == f"Góp ý: {placeholder}, cảm ơn."
    assert secret not in re.sub(r"\D", "", out) and secret not in out.lower()
    assert placeholder in out


# Where the neighbours matter: the exact result.
IN_CONTEXT = [
    ("Gọi 0912345678-0987654321 giờ hành chính", f"Gọi {PHONE}-{PHONE} giờ hành chính"),
    ("SĐT 0912345678,0987654321", f"SĐT {PHONE},{PHONE}"),
    ("0912 345 678 0987 654 321", f"{PHONE} {PHONE}"),
    ("SĐT0912345678, CCCD001203004567", f"SĐT{PHONE}, CCCD{ID}"),
    ("Quầy 03 0912 345 678", f"Quầy 03 {PHONE}"),
    ("Gọi 0912 345 678 12 lần không ai nghe", f"Gọi {PHONE} 12 lần không ai nghe"),
    ("Ngày 12/03/2026 0912 345 678", f"Ngày 12/03/2026 {PHONE}"),
    ("CCCD 001 203 004 567, SĐT 0912 345 678, email an@vd.vn", f"CCCD {ID}, SĐT {PHONE}, email {EMAIL}"),
    ("Email: an@vd.vn. Cảm ơn", f"Email: {EMAIL}. Cảm ơn"),
    ("  \u200b0912345678\u00a0 ", PHONE),
]


@pytest.mark.parametrize(("written", "expected"), IN_CONTEXT)
def test_neighbours_are_kept(written, expected):
    assert scrub(written) == expected


KEPT = [
    "Tôi đến ngày 12/03/2026 lúc 8:30, chờ khoảng 45 phút.",
    "Hẹn trả kết quả ngày 2026-03-12.",
    "Nộp hồ sơ ngày 5 tháng 3 năm 2026, nhận kết quả sau 15 ngày.",
    "Ngày 08/03/2026 08:30 tôi đã có mặt.",
    "Nhận hồ sơ lúc 14h15, trả lúc 16h30 ngày 20.03.2026.",
    "Làm việc từ 07:30 đến 11:30 và 13:30 đến 17:00.",
    "Lệ phí 1.500.000 đồng, cao quá.",
    "Phí công chứng 200,000đ cho mỗi bản.",
    "Tôi phải nộp thêm 50.000 VNĐ tiền in ấn.",
    "Dự án có tổng vốn 1.500.000.000 đồng.",
    "Ngân sách 120.000.000.000 đồng cho cải cách hành chính.",
    "Thu ngân sách năm nay đạt 84.500.000.000 đồng.",
    "Thủ tục 1.000301 cấp lại giấy khai sinh làm nhanh.",
    "Mã thủ tục 2.001234 trên Cổng Dịch vụ công.",
    "Số hồ sơ 000.00.12.H12-260301-0001 đã được tiếp nhận.",
    "Số tiền 1.500.000.000 đồng, mã 2.001234, hồ sơ 000.00.12.H12-260301-0001.",
    "Tôi được gọi ở quầy số 12, sau đó sang quầy 3.",
    "Số thứ tự 0012 đến 0015 được gọi trước.",
    "Năm 2025 tôi cũng làm thủ tục này.",
    "Khoảng 95% người dân hài lòng, còn 4,5% chưa hài lòng.",
    "Lãi suất 0,5% mỗi tháng.",
    "Phòng 203 tầng 2 rất nóng.",
    "Theo Quyết định 1001/QĐ-BNV thì phải trả kết quả đúng hẹn.",
    "Nghị định 61/2018/NĐ-CP quy định cơ chế một cửa liên thông.",
    "Thông tư 01/2023/TT-VPCP có hiệu lực từ 01/07/2023.",
    "Hẹn 3 ngày, thực tế 10 ngày; 2/3 số giấy tờ phải photo lại.",
    "Tổng đài 1900 1234 không ai nghe máy.",
    "Đường dây nóng 1800 599 920 miễn phí.",
    "Biển số xe 30A-123.45 bị ghi sai.",
    "Mã bưu chính 100000, Hà Nội.",
    "Tôi 84 tuổi, đi lại khó khăn.",
    "Cán bộ làm việc tốt @ bộ phận một cửa.",
]


@pytest.mark.parametrize("sentence", KEPT)
def test_ordinary_numbers_are_kept(sentence):
    assert scrub(sentence) == sentence


@pytest.mark.parametrize("written", [row[0] for row in SCRUBBED] + [row[0] for row in IN_CONTEXT] + KEPT)
def test_scrubbing_twice_changes_nothing(written):
    once = scrub(written)
    assert scrub(once) == once
