"""Form shapes; rules needing the database live in services."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


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
