import io

import openpyxl
import pytest

from lms.contentfile import ContentErrors
from lms.quizzes.formats.xlsx import HEADERS, build_template, export_xlsx, parse_xlsx
from lms.quizzes.questions import Question


def sheet_bytes(rows, header=HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row(qid="", label="单选", stem="题干", options=("甲", "乙", "", "", "", ""), answer="A",
        explanation="", source="", difficulty=None, tags=""):
    return (qid, label, stem, *options, answer, explanation, source, difficulty, tags)


def errors_of(data):
    with pytest.raises(ContentErrors) as info:
        parse_xlsx(data, "bank.xlsx", "demo")
    return [(e.line, e.message) for e in info.value.errors]


def test_template_has_header_examples_validation_and_widths():
    workbook = openpyxl.load_workbook(io.BytesIO(build_template()))
    sheet = workbook["题目"]
    assert [c.value for c in sheet[1]] == list(HEADERS)
    assert [sheet.cell(r, 2).value for r in range(2, 6)] == ["单选", "多选", "判断", "填空"]
    validations = sheet.data_validations.dataValidation
    assert any(v.formula1 == '"单选,多选,判断,填空"' and "B2:B5000" in str(v.sqref) for v in validations)
    assert sheet.column_dimensions["C"].width == 48
    assert "说明" in workbook.sheetnames


def test_template_examples_import_as_one_question_per_type():
    questions = parse_xlsx(build_template(), "题库导入模板.xlsx", "demo")
    assert [(q.id, q.type, q.line) for q in questions] == [
        ("demo-1", "single", 2), ("demo-2", "multiple", 3), ("demo-3", "judge", 4), ("demo-4", "fill", 5)]
    assert questions[1].answer == frozenset("ABC")
    assert questions[2].answer is False
    assert questions[3].answer == (("职工", "职工本人"),)
    assert all(q.text_format == "plain" for q in questions)


def test_answers_tags_difficulty_and_ids_are_read():
    data = sheet_bytes([
        row(qid="x-9", label="多选", options=("甲", "乙", "丙", "", "", ""), answer="A、C", difficulty=4, tags="养老，低保"),
        row(label="判断", options=("",) * 6, answer=True),
        row(label="填空", stem="由____和____缴纳", options=("",) * 6, answer="单位|用人单位；职工"),
        row(label="单选", stem="数字", options=(1, 2.5, "", "", "", ""), answer="b"),
    ])
    multiple, judge, fill, single = parse_xlsx(data, "bank.xlsx", "demo", existing_ids={"demo-1"})
    assert multiple.id == "x-9" and multiple.answer == frozenset({"A", "C"})
    assert multiple.difficulty == 4 and multiple.tags == ("养老", "低保")
    assert judge.id == "demo-2" and judge.answer is True and judge.difficulty == 3
    assert fill.answer == (("单位", "用人单位"), ("职工",))
    assert single.options == {"A": "1", "B": "2.5"} and single.answer == "B"


def test_formula_cells_are_read_as_text_never_evaluated():
    data = sheet_bytes([row(stem="=1+1", options=("=SUM(A1:A2)", "@cmd", "", "", "", ""))])
    [question] = parse_xlsx(data, "bank.xlsx", "demo")
    assert question.stem == "=1+1"
    assert question.options == {"A": "=SUM(A1:A2)", "B": "@cmd"}


def test_export_guards_formula_like_cells_and_round_trips():
    questions = [
        Question(id="q-1", type="single", stem="=HYPERLINK(\"http://x\")", options={"A": "-5 度", "B": "+1", "C": "'=已有引号"},
                 answer="A", explanation="@提示", source="《法》第一条", difficulty=2, tags=("甲", "乙"), text_format="plain"),
        Question(id="q-2", type="judge", stem="判断", answer=True, text_format="plain"),
        Question(id="q-3", type="fill", stem="____和（ ）", answer=(("a", "b"), ("c",)), text_format="plain"),
        Question(id="q-4", type="multiple", stem="多选", options={"A": "x", "B": "y", "C": "z"},
                 answer=frozenset({"B", "C"}), text_format="plain"),
    ]
    data = export_xlsx(questions)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["C2"].value == "'=HYPERLINK(\"http://x\")" and sheet["C2"].data_type == "s"
    assert sheet["D2"].value == "'-5 度" and sheet["E2"].value == "'+1" and sheet["F2"].value == "''=已有引号"
    assert sheet["K2"].value == "'@提示"
    assert parse_xlsx(data, "bank.xlsx", "demo") == questions


def test_unknown_type_bad_answer_and_difficulty_are_reported_by_sheet_row():
    data = sheet_bytes([
        row(),
        row(label="问答"),
        row(answer="G"),
        row(difficulty="很难"),
        row(label="填空", stem="没有空", options=("",) * 6, answer="x"),
        row(qid="a"),
        row(qid="a"),
        row(answer=""),
    ])
    assert errors_of(data) == [
        (3, "题型“问答”无效，应为 单选、多选、判断 或 填空"),
        (4, "答案“G”无效：单选题的答案应为一个字母，如 B"),
        (5, "难度“很难”无效：应为 1–5 的整数"),
        (6, "填空题的题干中没有空（用 ____ 或（ ）标出）"),
        (8, "编号 a 重复（第 7 行已使用）"),
        (9, "答案“”无效：单选题的答案应为一个字母，如 B"),
    ]


def test_answer_not_among_options_and_gap_in_options():
    data = sheet_bytes([row(answer="C"), row(options=("甲", "", "丙", "", "", ""))])
    assert errors_of(data) == [
        (2, "答案 C 不在选项中（A、B）"),
        (3, "选项编号必须从 A 起依次排列（A、B），实际是 A、C"),
    ]


def test_header_problems_are_on_row_one():
    data = sheet_bytes([row()], header=("编号", "题目类型", "题干", "答案"))
    assert errors_of(data) == [
        (1, "未知的列“题目类型”（可用：" + "、".join(HEADERS) + "）"),
        (1, "缺少必需的列：题型"),
    ]


def test_blank_rows_are_skipped_and_an_empty_sheet_is_an_error():
    data = sheet_bytes([row(), (None,) * len(HEADERS), row(stem="第二题")])
    assert [q.line for q in parse_xlsx(data, "b.xlsx", "d")] == [2, 4]
    assert errors_of(sheet_bytes([])) == [(2, "表格中没有题目")]


def test_not_an_excel_file():
    assert errors_of(b"PK\x03\x04 not really") == [(1, "不是有效的 Excel（.xlsx）文件")]
    assert errors_of(b"") == [(1, "不是有效的 Excel（.xlsx）文件")]
