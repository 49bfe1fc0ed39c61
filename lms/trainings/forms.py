"""Form shapes; the rules (levels, scope, hours) live in services so the API and the form agree."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.trainings.models import LEVEL_LABELS

#: 1 (很不满意) … 5 (很满意)
_RATINGS = [SelectChoice(str(n), f"{n} 分") for n in range(1, 6)]


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


class MaterialFileForm(FlaskForm):
    """A file handed out at the session (type and size are checked by lms.trainings.paperwork)."""

    file = FileField("材料文件（PDF、Word、Excel、PowerPoint、PNG、JPEG，最大 10 MB）")
    title = StringField("材料名称（默认用文件名）", validators=[Optional(), Length(max=200, message="材料名称不能超过 200 个字")])


class MaterialLessonForm(FlaskForm):
    """A link to a lesson, picked by course and lesson title."""

    lesson = SelectField("关联课程章节", validate_choice=False, validators=[DataRequired("请选择要关联的课程章节")])
    title = StringField("显示名称（默认“课程 · 章节”）", validators=[Optional(), Length(max=200, message="显示名称不能超过 200 个字")])


class EvaluationForm(FlaskForm):
    """The five ratings and a comment; the rules (1–5, ≤ 500 characters, once) live in paperwork."""

    content = RadioField("内容实用", choices=_RATINGS, validate_choice=False)
    clarity = RadioField("讲解清楚", choices=_RATINGS, validate_choice=False)
    schedule = RadioField("时间安排", choices=_RATINGS, validate_choice=False)
    materials = RadioField("材料有用", choices=_RATINGS, validate_choice=False)
    overall = RadioField("总体满意", choices=_RATINGS, validate_choice=False)
    comment = TextAreaField("意见建议（选填，最多 500 字；培训师看不到是谁写的）",
                            render_kw={"rows": 4, "maxlength": "500"})
