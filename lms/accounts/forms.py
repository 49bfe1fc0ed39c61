"""Form shapes; rules needing the database live in services."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.accounts.models import EDUCATION_LEVELS

_EDUCATION_CHOICES = [SelectChoice("", "（不填）")] + [SelectChoice(level, level) for level in EDUCATION_LEVELS]


class LoginForm(FlaskForm):
    username = StringField("工号", validators=[DataRequired("请输入工号"), Length(max=64, message="工号太长")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128, message="密码太长")])


class ChangePasswordForm(FlaskForm):
    old = PasswordField("原密码（或初始密码）", validators=[DataRequired("请输入原密码")])
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(min=8, max=128,
                                                                               message="新密码需 8–128 位")])
    confirm = PasswordField("再输一次新密码", validators=[DataRequired("请再输一次新密码"),
                                                          EqualTo("new", message="两次输入的新密码不一致")])


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF only."""


class AccountFieldsForm(FlaskForm):
    """Personal fields of an account; the service validates their content (validation.py)."""

    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=50, message="姓名不能超过 50 个字")])
    org = SelectField("所在单位", choices=[], validators=[DataRequired("请选择所在单位")], validate_choice=False)
    id_card = StringField("身份证号（可不填）", validators=[Optional(), Length(max=30, message="身份证号太长")])
    phone = StringField("手机号（可不填）", validators=[Optional(), Length(max=20, message="手机号太长")])
    birth = StringField("出生日期（可不填，如 1985-09-03）", validators=[Optional(), Length(max=20, message="日期太长")],
                        render_kw={"type": "date"})
    education = SelectField("学历（可不填）", choices=_EDUCATION_CHOICES, validate_choice=False)
    hired = StringField("入职日期（可不填）", validators=[Optional(), Length(max=20, message="日期太长")],
                        render_kw={"type": "date"})


class CreateAccountForm(AccountFieldsForm):
    username = StringField("工号（可不填，按单位自动生成）",
                           validators=[Optional(), Length(max=64, message="工号不能超过 64 个字符")])
    role = SelectField("角色", choices=[], validators=[DataRequired("请选择角色")], validate_choice=False)


class RolesForm(FlaskForm):
    """Keep the ticked grants, and optionally add one (role over a unit of the actor's scope)."""

    keep = SelectMultipleField("现有角色（取消勾选即撤销）", choices=[], validate_choice=False,
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    add_role = SelectField("新增角色", choices=[], validate_choice=False)
    add_org = SelectField("管辖范围（该单位及其下级）", choices=[], validate_choice=False)


class UploadFileForm(FlaskForm):
    file = FileField("名单文件（XLSX 或 CSV）")
