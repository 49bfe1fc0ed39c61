"""Form shapes for authoring and assignments; rules needing the database live in services."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class _Chinese:
    """Replace WTForms' English parse errors with a Chinese one."""

    parse_message = "格式不正确"

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(self.parse_message) from None


class NumberField(_Chinese, DecimalField):
    parse_message = "请填写数字，例如 1.5"


class WholeNumberField(_Chinese, IntegerField):
    parse_message = "请填写整数，例如 10"


class DayField(_Chinese, DateField):
    parse_message = "日期格式应为 年-月-日，例如 2026-12-31"



class CourseForm(FlaskForm):
    # Never required: a blank (or Chinese) code is generated from the title (lms.codes: 矛盾纠纷调解 → mdjftj-1).
    code = StringField("课程编码（可不填）", validators=[Optional(), Length(max=64, message="不超过 64 个字符")])
    title = StringField("课程标题", validators=[DataRequired("请填写课程标题"), Length(max=200, message="不超过 200 个字")])
    level = SelectField("级别", choices=[], validate_choice=False)
    org = SelectField("所属组织", choices=[], validate_choice=False)
    hours = NumberField("学时", places=1, validators=[InputRequired("请填写学时"),
                                                      NumberRange(0, 200, message="学时在 0 到 200 之间")])
    quiz_code = SelectField("结业测验（可不选）", choices=[], validators=[Optional()], validate_choice=False)
    tags = StringField("标签（用逗号或顿号分隔）", validators=[Optional(), Length(max=300)])
    summary = TextAreaField("课程简介（Markdown）", validators=[Optional(), Length(max=20000, message="简介太长")])


class CourseEditForm(CourseForm):
    """Code, level and org of an existing course are fixed (URLs and scope hang on them)."""

    code = HiddenField()
    level = HiddenField()
    org = HiddenField()


class LessonForm(FlaskForm):
    slug = StringField("课时短名（可不填，用于网址）", validators=[Optional(), Length(max=100, message="不超过 100 个字符")])
    title = StringField("课时标题", validators=[DataRequired("请填写课时标题"), Length(max=200, message="不超过 200 个字")])
    minutes = WholeNumberField("预计学习分钟数", validators=[InputRequired("请填写分钟数"),
                                                  NumberRange(1, 600, message="分钟数在 1 到 600 之间")])
    markdown = TextAreaField("正文（Markdown）", validators=[DataRequired("请填写正文"),
                                                       Length(max=200000, message="正文太长")])


class UploadForm(FlaskForm):
    file = FileField("图片或 PDF（PNG、JPEG、GIF、WebP、PDF，最大 5 MB）")


class AssignmentForm(FlaskForm):
    target = SelectField("指派课程", choices=[], validators=[Optional()], validate_choice=False)
    quiz_code = SelectField("或指派测验", choices=[], validators=[Optional()], validate_choice=False)
    org = SelectField("组织（含下级）", choices=[], validators=[DataRequired("请选择组织")], validate_choice=False)
    role = SelectField("角色（可不选）", choices=[], validate_choice=False)
    due = DayField("截止日期", validators=[InputRequired("请填写截止日期")])
