"""The audit log in words: each action's Vietnamese name and its details as "name: value"
pairs, for the admin's page (the stored entries and the CSV keep the machine names)."""

from __future__ import annotations

import json

ACTIONS = {
    "apikey.add": "Tạo khóa API", "apikey.revoke": "Thu hồi khóa API", "backup": "Sao lưu dữ liệu",
    "codes.issue": "Phát mã", "codes.issue.repeat": "Phát lại mã của hồ sơ", "codes.reprint": "In lại mã",
    "codes.void": "Hủy mã", "comments.purge": "Xóa góp ý quá hạn lưu", "database.seal": "Niêm phong dữ liệu ban đêm",
    "export.audit": "Tải nhật ký", "export.comments": "Tải góp ý", "export.indices": "Tải chỉ số",
    "export.rates": "Tải tỷ lệ phản hồi", "kiosk.create": "Thêm máy tính bảng tại quầy",
    "kiosk.pair": "Ghép máy tính bảng", "kiosk.repair": "Tạo mã ghép mới cho máy tính bảng",
    "kiosk.revoke": "Thu hồi máy tính bảng", "export.report": "Tải báo cáo kế hoạch",
    "export.responses": "Tải câu trả lời", "login": "Đăng nhập", "login.failed": "Đăng nhập sai mật khẩu",
    "login.refused": "Đăng nhập bị từ chối", "logout": "Đăng xuất", "password.failed": "Nhập sai mật khẩu hiện tại",
    "procedure.add": "Thêm thủ tục", "procedure.import": "Nhập danh mục thủ tục", "procedure.update": "Sửa thủ tục",
    "restore": "Khôi phục dữ liệu", "unit.add": "Thêm đơn vị", "unit.update": "Sửa đơn vị",
    "user.add": "Tạo tài khoản", "user.password": "Đặt mật khẩu", "user.unlock": "Mở khóa đăng nhập",
    "user.update": "Sửa tài khoản",
}
DETAILS = {
    "count": "số lượng", "kind": "loại", "source": "nguồn", "procedure": "thủ tục", "questionnaire": "phiếu",
    "unit": "đơn vị", "role": "vai trò", "active": "đang hoạt động", "rows": "số dòng", "format": "định dạng",
    "period": "kỳ", "filters": "bộ lọc", "backend": "cơ sở dữ liệu", "tally_halves": "số nửa tháng đã tính lại",
    "added": "thêm mới", "updated": "cập nhật", "locked": "bị khóa", "date_from": "từ ngày", "date_to": "đến ngày",
    "scopes": "quyền", "name": "tên", "parent": "đơn vị cấp trên", "field": "lĩnh vực", "reason": "lý do",
    "deleted": "đã xóa", "older_than": "cũ hơn (ngày)",
}
_VALUES = {True: "có", False: "không", None: "—", "single": "mã dùng một lần", "counter": "áp phích tại quầy",
           "web": "trang web", "cli": "dòng lệnh", "api": "API", "slip": "phiếu lẻ",
           "kiosk": "máy tính bảng tại quầy"}


def action_name(action: str) -> str:
    return ACTIONS.get(action, action)


def details_text(details: str | None) -> str:
    """``{"count": 3, "kind": "single"}`` as "số lượng: 3 · loại: mã dùng một lần"."""
    if not details:
        return ""
    try:
        data = json.loads(details)
    except ValueError:
        return details
    if not isinstance(data, dict):
        return str(data)
    return " · ".join(f"{DETAILS.get(k, k)}: {_value(v)}" for k, v in data.items())


def _value(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{DETAILS.get(k, k)} {_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    try:
        return _VALUES[value]  # type: ignore[index]
    except (KeyError, TypeError):
        return str(value)
