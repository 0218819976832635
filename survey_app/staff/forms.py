"""Staff forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange

from ..services.codes import MAX_BATCH


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired("Nhập tên đăng nhập."), Length(max=64)])
    password = PasswordField("Mật khẩu", validators=[DataRequired("Nhập mật khẩu."), Length(max=256)])


class PasswordForm(FlaskForm):
    current = PasswordField("Mật khẩu hiện tại", validators=[DataRequired("Nhập mật khẩu hiện tại.")])
    new = PasswordField("Mật khẩu mới (ít nhất 10 ký tự)", validators=[
        DataRequired("Nhập mật khẩu mới."), Length(min=10, max=256, message="Mật khẩu mới cần 10 đến 256 ký tự.")])
    confirm = PasswordField("Nhập lại mật khẩu mới", validators=[EqualTo("new", "Hai lần nhập không khớp.")])


class CodeTargetForm(FlaskForm):
    """Where a code is for: unit, procedure, questionnaire (choices filled per user)."""

    unit = SelectField("Đơn vị", validate_choice=True)
    procedure = SelectField("Thủ tục (không bắt buộc)", validate_choice=True)
    questionnaire = SelectField("Phiếu khảo sát", validate_choice=True)


class BatchForm(CodeTargetForm):
    """Single-use codes for a shift, as A4 label sheets (posters have their own button)."""

    count = IntegerField("Số lượng mã", default=24, validators=[
        NumberRange(1, MAX_BATCH, f"Số lượng từ 1 đến {MAX_BATCH}.")])


class VoidCodeForm(FlaskForm):
    code = StringField("Mã cần hủy", validators=[DataRequired("Nhập mã."), Length(max=64)])


class ConfirmForm(FlaskForm):
    """A bare POST with CSRF (void a batch, log out)."""
