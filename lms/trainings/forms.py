"""Form shapes; the rules (levels, scope, hours) live in services so the API and the form agree."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from lms.trainings.models import LEVEL_LABELS


class TrainingForm(FlaskForm):
    level = SelectField("培训层级", choices=[SelectChoice(level.value, label) for level, label in LEVEL_LABELS.items()],
                        validate_choice=False, validators=[DataRequired("请选择培训层级")])
    title = StringField("培训主题", validators=[DataRequired("请填写培训主题"), Length(max=200, message="培训主题不能超过 200 个字")])
    date = StringField("日期", validators=[DataRequired("请选择日期")], render_kw={"type": "date"})
    start = StringField("开始时间（默认 08:00）", validators=[Optional()], render_kw={"type": "time"})
    end = StringField("结束时间（默认 18:00）", validators=[Optional()], render_kw={"type": "time"})
    place = StringField("培训地点", validators=[DataRequired("请填写培训地点"), Length(max=200, message="培训地点不能超过 200 个字")])
    hours = StringField("学时", validators=[DataRequired("请填写学时")],
                        render_kw={"inputmode": "decimal", "placeholder": "例如 2 或 1.5"})
    org = SelectField("参训组织（其下属全部人员）", validate_choice=False, validators=[DataRequired("请选择参训组织")])
    trainer = StringField("授课培训师工号（默认本人）", validators=[Optional(), Length(max=64, message="工号太长")])


class CheckinForm(FlaskForm):
    code = StringField("签到码（6 位数字）", validators=[DataRequired("请输入 6 位签到码"), Length(max=20, message="签到码是 6 位数字")],
                       render_kw={"inputmode": "numeric", "pattern": "[0-9０-９ ]*", "autocomplete": "one-time-code",
                                  "maxlength": "12"})
    #: the page's own retry key: submitting twice records once
    client_id = HiddenField()
    #: when the code was typed (set by the page's script at the first keystroke): a slow or offline submit is
    #: checked against the code shown then
    captured_at = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""
