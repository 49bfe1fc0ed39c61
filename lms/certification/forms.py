"""Form shapes for HR's certificate actions; rules needing the database live in services."""
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class IssueForm(FlaskForm):
    username = StringField("工号", validators=[DataRequired("请输入持证人工号"), Length(max=64, message="工号太长")])
    program = SelectField("认证项目", validators=[DataRequired("请选择认证项目")], validate_choice=True)
    reason = TextAreaField("发证理由", validators=[DataRequired("请填写发证理由"),
                                                  Length(max=500, message="理由不能超过 500 个字")])


class ReasonForm(FlaskForm):
    reason = StringField("理由", validators=[DataRequired("请填写理由"), Length(max=500, message="理由不能超过 500 个字")])
