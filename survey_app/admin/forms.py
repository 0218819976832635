"""Admin forms (Flask-WTF: every form that changes something carries a CSRF token).

Choices that come from the database (units) are filled in by the views."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import Role, UnitKind
from ..params import day_in_range
from ..services.apikeys import SCOPES
from ..services.users import MIN_PASSWORD

ROLE_LABELS = {
    Role.ADMIN.value: "Quản trị viên",
    Role.STAFF.value: "Nhân viên (phát và in mã)",
    Role.ANALYST.value: "Chuyên viên phân tích (chỉ xem)",
}
KIND_LABELS = {
    UnitKind.PROVINCE.value: "UBND tỉnh",
    UnitKind.DEPARTMENT.value: "Sở / ban / ngành",
    UnitKind.CENTRE.value: "Trung tâm Phục vụ hành chính công / chi nhánh",
    UnitKind.COMMUNE.value: "Xã / phường / đặc khu",
    UnitKind.SECTION.value: "Phòng / bộ phận",
    UnitKind.COUNTER.value: "Quầy",
}
_PICK = "Chọn một mục trong danh sách."


class ChoiceField(SelectField):
    """A select whose wrong choice is explained in Vietnamese."""

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_PICK) from None


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_PICK) from None


class DayField(DateField):
    def process_formdata(self, valuelist: list) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Ngày không hợp lệ: chọn ngày hoặc gõ theo dạng YYYY-MM-DD.") from None
        if self.data is not None:
            day_in_range(self.data)  # the message of params.py: a filter date the queries can use


def _name(label: str, max_length: int) -> StringField:
    return StringField(label, validators=[
        DataRequired(f"Nhập {label.lower()}."),
        Length(max=max_length, message=f"{label} dài tối đa {max_length} ký tự: rút gọn lại."),
    ])


class ConfirmForm(FlaskForm):
    """A bare POST with CSRF (revoke a key, unlock an account)."""


class UnitAddForm(FlaskForm):
    code = StringField("Mã đơn vị", description="Chữ, số và - _ . ; tối đa 32 ký tự; không đổi được sau này.",
                       validators=[DataRequired("Nhập mã đơn vị."),
                                   Length(max=32, message="Mã đơn vị dài tối đa 32 ký tự: rút gọn lại.")])
    name = _name("Tên đơn vị", 200)
    parent = ChoiceField("Thuộc đơn vị")
    kind = ChoiceField("Loại đơn vị", choices=[("", "Tự chọn theo cấp (sở → phòng → quầy)")]
                       + list(KIND_LABELS.items()))


class UnitEditForm(FlaskForm):
    name = _name("Tên đơn vị", 200)
    parent = ChoiceField("Thuộc đơn vị")
    active = BooleanField("Đang hoạt động (bỏ chọn để ngừng phát mã cho đơn vị này)")


class ProcedureAddForm(FlaskForm):
    code = StringField("Mã thủ tục", description="Mã trong Cơ sở dữ liệu quốc gia về thủ tục hành chính, "
                                                   "ví dụ 1.000001.",
                       validators=[DataRequired("Nhập mã thủ tục."),
                                   Length(max=64, message="Mã thủ tục dài tối đa 64 ký tự: rút gọn lại.")])
    name = _name("Tên thủ tục", 500)
    field = StringField("Lĩnh vực", validators=[
        Optional(), Length(max=200, message="Lĩnh vực dài tối đa 200 ký tự: rút gọn lại.")])


class ProcedureEditForm(FlaskForm):
    name = _name("Tên thủ tục", 500)
    field = StringField("Lĩnh vực", validators=[
        Optional(), Length(max=200, message="Lĩnh vực dài tối đa 200 ký tự: rút gọn lại.")])
    active = BooleanField("Đang sử dụng (bỏ chọn để ẩn thủ tục khỏi danh sách khi in mã)")


class CsvFileForm(FlaskForm):
    """An import's file (its label and hint are the import's: admin.views.CsvImport)."""

    file = FileField("Tệp CSV", validators=[FileRequired("Chọn tệp CSV cần nhập.")])


class UnitMergeForm(FlaskForm):
    predecessors = StringField("Mã các đơn vị thôi hoạt động (cách nhau bởi dấu phẩy)", validators=[
        DataRequired("Nêu ít nhất một mã đơn vị, ví dụ BP-SNGV."), Length(max=2000)])
    successor = StringField("Mã đơn vị tiếp nhận công việc", validators=[
        DataRequired("Nêu mã đơn vị tiếp nhận."), Length(max=32)])
    effective_on = DateField("Từ ngày", validators=[
        DataRequired("Chọn ngày đơn vị tiếp nhận bắt đầu, ví dụ 01/07/2025.")])
    note = StringField("Căn cứ (quyết định sáp nhập, không bắt buộc)", validators=[Optional(), Length(max=500)])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField("Tìm theo mã, tên hoặc lĩnh vực", validators=[Optional(), Length(max=100)])


def _password_fields(label: str) -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(label, description=f"Ít nhất {MIN_PASSWORD} ký tự. Báo cho người dùng qua kênh riêng và "
                                         "đề nghị họ đổi mật khẩu khi đăng nhập.",
                      validators=[DataRequired("Nhập mật khẩu."), Length(
                          min=MIN_PASSWORD, max=256,
                          message=f"Mật khẩu cần từ {MIN_PASSWORD} đến 256 ký tự: chọn mật khẩu dài hơn.")]),
        PasswordField("Nhập lại mật khẩu", validators=[
            EqualTo("password", "Hai lần nhập mật khẩu không khớp: nhập lại cả hai.")]),
    )


class _StaffNeedsUnit:
    role: ChoiceField
    unit: ChoiceField

    def validate_unit(self, field: ChoiceField) -> None:
        if self.role.data == Role.STAFF and not field.data:
            raise ValidationError("Nhân viên cần một đơn vị: chọn đơn vị mà người này phát mã cho.")


class UserAddForm(_StaffNeedsUnit, FlaskForm):
    username = StringField("Tên đăng nhập", description="Chữ thường, số và . _ - ; từ 2 đến 64 ký tự.",
                           validators=[DataRequired("Nhập tên đăng nhập."),
                                       Length(max=64, message="Tên đăng nhập dài tối đa 64 ký tự.")])
    role = ChoiceField("Vai trò", choices=list(ROLE_LABELS.items()), default=Role.STAFF.value)
    unit = ChoiceField("Đơn vị (bắt buộc với nhân viên)")
    password, confirm = _password_fields("Mật khẩu ban đầu")


class UserEditForm(_StaffNeedsUnit, FlaskForm):
    role = ChoiceField("Vai trò", choices=list(ROLE_LABELS.items()))
    unit = ChoiceField("Đơn vị (bắt buộc với nhân viên)")
    active = BooleanField("Đang hoạt động (bỏ chọn để khóa tài khoản ngay)")


class PasswordResetForm(FlaskForm):
    password, confirm = _password_fields("Mật khẩu mới")


class ApiKeyForm(FlaskForm):
    name = _name("Tên khóa", 100)
    scopes = CheckboxesField("Quyền", choices=list(SCOPES.items()), validators=[
        DataRequired("Chọn ít nhất một quyền.")])
    unit = ChoiceField("Đơn vị", description="Khóa dùng cho đơn vị này và các đơn vị cấp dưới. "
                                             "Bắt buộc khi có quyền phát mã.")

    def validate_unit(self, field: ChoiceField) -> None:
        if "codes:issue" in (self.scopes.data or []) and not field.data:
            raise ValidationError("Khóa có quyền phát mã cần một đơn vị: chọn đơn vị.")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    actor = StringField("Người thực hiện", validators=[Optional(), Length(max=64)])
    action = ChoiceField("Hành động", default="")
    date_from = DayField("Từ ngày", validators=[Optional()])
    date_to = DayField("Đến ngày", validators=[Optional()])

    def validate_date_to(self, field: DayField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("Ngày kết thúc trước ngày bắt đầu: đổi lại khoảng ngày.")
