"""The Excel question template (题库导入模板.xlsx): build it, import it, export a bank to it.

Columns: 编号 (optional), 题型 (单选/多选/判断/填空), 题干, 选项A … 选项F, 答案,
解析, 出处, 难度, 标签. Answers: 单选 ``B``; 多选 ``AC`` (or ``A,C``/``A、C``);
判断 ``对``/``错``; 填空 one entry per blank separated by ``；``, accepted
alternatives of one blank by ``|`` (``养老保险|养老；十五``). Text is plain.

Security: a cell starting with ``= + - @``, tab or CR is written with a
leading ``'`` so Excel never runs it as a formula; the import removes that
one ``'`` again, and reads a formula cell as its text, never its value.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import warnings

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from lms.contentfile import ContentError, ContentErrors
from lms.quizzes.grading import TYPE_BY_LABEL, TYPES, validate_question
from lms.quizzes.questions import OPTION_KEYS, IdAllocator, Question
from lms.tabular import TabularError, bounded_sheet_rows

OPTION_HEADERS = tuple(f"选项{key}" for key in OPTION_KEYS)
HEADERS = ("编号", "题型", "题干", *OPTION_HEADERS, "答案", "解析", "出处", "难度", "标签")
_REQUIRED = ("题型", "题干", "答案")
_WIDTHS = {"编号": 14, "题型": 8, "题干": 48, "答案": 16, "解析": 40, "出处": 32, "难度": 6, "标签": 18}
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_BLANK_SEP = re.compile(r"[；;]")
_ALT_SEP = re.compile(r"[|｜]")
_TAG_SEP = re.compile(r"[,，、;；]")

EXAMPLES = (
    ("", "单选", "依照社会保险法，新型农村社会养老保险实行哪种筹资方式？",
     ("个人缴费、集体补助和政府补贴相结合", "完全由个人缴费", "完全由政府补贴", "由村集体全额承担", "", ""), "A",
     "新型农村社会养老保险实行个人缴费、集体补助和政府补贴相结合。", "《中华人民共和国社会保险法》第二十条", 2, "养老保险"),
    ("", "多选", "网格员上报事件时，下列哪些要素必须写清楚？",
     ("时间", "地点", "当事人", "网格员的个人看法", "", ""), "ABC",
     "事件上报要素齐全：时间、地点、人物、事由。", "", 2, "事件上报"),
    ("", "判断", "网格员可以把居民的身份证号发到微信群里核对。",
     ("", "", "", "", "", ""), "错",
     "任何组织、个人不得非法提供或者公开他人个人信息。", "《中华人民共和国个人信息保护法》第十条", 1, "个人信息保护"),
    ("", "填空", "职工应当参加基本养老保险，由用人单位和____共同缴纳基本养老保险费。",
     ("", "", "", "", "", ""), "职工|职工本人",
     "", "《中华人民共和国社会保险法》第十条", 2, "养老保险"),
)

INSTRUCTIONS = (
    "题库导入模板说明",
    "1. 第一行是表头，不要修改；从第二行起每行一道题，示例行可以删除。",
    "2. 编号可不填，导入时自动生成为“题库编码-序号”；填写时只能用字母、数字、点、下划线和连字符。",
    "3. 题型填 单选、多选、判断 或 填空。单选、多选至少填选项A和选项B，最多到选项F，选项从 A 起连续填写。",
    "4. 答案：单选填一个字母，如 B；多选填多个字母，如 AC；判断填 对 或 错；",
    "   填空题在题干中用 ____（四个以上下划线）或（ ）标出每个空，答案每空之间用“；”分隔，同一空的多个可接受答案用“|”分隔，如 养老保险|养老；十五。",
    "5. 难度填 1–5 的整数，不填按 3；标签可填多个，用“、”或逗号分隔。",
    "6. 单元格内容按纯文本导入，不会执行公式。",
)


def _safe(value) -> object:
    """Text → a cell value Excel will never treat as a formula (prefix one ``'``)."""
    if not isinstance(value, str):
        return value
    if value.startswith(_DANGEROUS) or (value.startswith("'") and value.lstrip("'").startswith(_DANGEROUS)):
        return "'" + value
    return value


def _cell_text(value) -> str:
    """A cell as text: formulas stay text, integral numbers lose ``.0``, the export's ``'`` guard goes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "对" if value else "错"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith("'") and text.lstrip("'").startswith(_DANGEROUS):
        text = text[1:]
    return text


def _write_sheet(sheet, rows) -> None:
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append([_safe(v) for v in row])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    for index, header in enumerate(HEADERS, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        sheet.column_dimensions[letter].width = _WIDTHS.get(header, 18)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def _to_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build_template() -> bytes:
    """The downloadable 题库导入模板.xlsx: header, one example per type, a 题型 drop-down, a 说明 sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "题目"
    _write_sheet(sheet, [(qid, label, stem, *options, answer, expl, source, diff, tags)
                         for qid, label, stem, options, answer, expl, source, diff, tags in EXAMPLES])
    type_list = DataValidation(type="list", formula1='"单选,多选,判断,填空"', allow_blank=True,
                               showErrorMessage=True, errorTitle="题型", error="题型只能是 单选、多选、判断 或 填空")
    type_list.add("B2:B5000")
    difficulty = DataValidation(type="whole", operator="between", formula1="1", formula2="5", allow_blank=True,
                                showErrorMessage=True, errorTitle="难度", error="难度是 1–5 的整数")
    difficulty.add(f"{openpyxl.utils.get_column_letter(HEADERS.index('难度') + 1)}2:"
                   f"{openpyxl.utils.get_column_letter(HEADERS.index('难度') + 1)}5000")
    sheet.add_data_validation(type_list)
    sheet.add_data_validation(difficulty)
    notes = workbook.create_sheet("说明")
    for line in INSTRUCTIONS:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    notes["A1"].font = Font(bold=True)
    return _to_bytes(workbook)


def _answer_cell(question: Question) -> str:
    if question.type == "single":
        return question.answer
    if question.type == "multiple":
        return "".join(sorted(question.answer))
    if question.type == "judge":
        return "对" if question.answer else "错"
    return "；".join("|".join(alternatives) for alternatives in question.answer)


def export_xlsx(questions) -> bytes:
    """A bank as the template's sheet, re-importable with ``parse_xlsx`` (text as plain)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "题目"
    rows = []
    for q in questions:
        options = [q.options.get(key, "") for key in OPTION_KEYS]
        rows.append((q.id, TYPES[q.type].label, q.stem, *options, _answer_cell(q),
                     q.explanation, q.source, q.difficulty, "、".join(q.tags)))
    _write_sheet(sheet, rows)
    return _to_bytes(workbook)


def _header_key(value) -> str:
    return "".join(unicodedata.normalize("NFKC", _cell_text(value)).split()).upper()


def _parse_answer(qtype: str, text: str):
    if qtype == "fill":
        blanks = []
        for blank in _BLANK_SEP.split(text):
            alternatives = tuple(a.strip() for a in _ALT_SEP.split(blank) if a.strip())
            if not alternatives:
                return None
            blanks.append(alternatives)
        return tuple(blanks) or None
    return TYPES[qtype].normalize(text)


def parse_xlsx(data: bytes, path: str, bank: str, existing_ids=frozenset()) -> list[Question]:
    """Import the template's first sheet; ContentErrors with line = sheet row (header is row 1)."""
    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel extensions it drops (e.g. data validation); harmless here.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - any unreadable upload is the same error for the trainer
        raise ContentErrors([ContentError(path, 1, "不是有效的 Excel（.xlsx）文件")]) from None
    try:
        sheet = workbook.worksheets[0]
        # Bounded before anything is padded: a stray cell in column XFD must not widen every row to 16,384
        # cells (the declared used range is ignored, as other tools often write a wrong one).
        rows = list(bounded_sheet_rows(sheet))
    except TabularError as exc:
        raise ContentErrors([ContentError(path, 1, exc.message)]) from None
    finally:
        workbook.close()
    if not rows or not any(_cell_text(v) for v in rows[0]):
        raise ContentErrors([ContentError(path, 1, "第 1 行应为表头：" + "、".join(HEADERS))])

    errors: list[ContentError] = []
    columns: dict[str, int] = {}
    known = {_header_key(h): h for h in HEADERS}
    for index, value in enumerate(rows[0]):
        key = _header_key(value)
        if not key:
            continue
        if key not in known:
            errors.append(ContentError(path, 1, f"未知的列“{_cell_text(value)}”（可用：{'、'.join(HEADERS)}）"))
        elif known[key] in columns:
            errors.append(ContentError(path, 1, f"列“{known[key]}”重复"))
        else:
            columns[known[key]] = index
    missing = [h for h in _REQUIRED if h not in columns]
    if missing:
        errors.append(ContentError(path, 1, f"缺少必需的列：{'、'.join(missing)}"))
    if errors:
        raise ContentErrors(errors)

    def cell(row, header):
        index = columns.get(header)
        return _cell_text(row[index]) if index is not None and index < len(row) else ""

    pending = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(_cell_text(v) for v in row):
            continue
        label = cell(row, "题型")
        qtype = TYPE_BY_LABEL.get(label) or (label if label in TYPES else None)
        if qtype is None:
            errors.append(ContentError(path, number, f"题型“{label}”无效，应为 单选、多选、判断 或 填空"))
            continue
        options = {}
        for key, header in zip(OPTION_KEYS, OPTION_HEADERS):
            text = cell(row, header)
            if text:
                options[key] = text
        answer_text = cell(row, "答案")
        answer = _parse_answer(qtype, answer_text) if answer_text else None
        if answer is None:
            hint = {"single": "一个字母，如 B", "multiple": "多个字母，如 AC", "judge": "对 或 错",
                    "fill": "每空用“；”分隔，同一空的可接受答案用“|”分隔"}[qtype]
            errors.append(ContentError(path, number, f"答案“{answer_text}”无效：{TYPES[qtype].label}题的答案应为{hint}"))
            continue
        raw_difficulty = cell(row, "难度")
        try:
            difficulty = int(raw_difficulty) if raw_difficulty else 3
        except ValueError:
            errors.append(ContentError(path, number, f"难度“{raw_difficulty}”无效：应为 1–5 的整数"))
            continue
        qid = cell(row, "编号")
        if qid:
            if qid in seen:
                errors.append(ContentError(path, number, f"编号 {qid} 重复（第 {seen[qid]} 行已使用）"))
                continue
            seen[qid] = number
        tags = tuple(t.strip() for t in _TAG_SEP.split(cell(row, "标签")) if t.strip())
        pending.append((number, qid, dict(
            type=qtype, stem=cell(row, "题干"), options=options, answer=answer,
            explanation=cell(row, "解析"), source=cell(row, "出处"), difficulty=difficulty,
            tags=tags, text_format="plain", line=number,
        )))

    ids = IdAllocator(bank, existing_ids)
    for qid in seen:
        ids.reserve(qid)
    questions = []
    for number, qid, fields in pending:
        question = Question(id=qid or ids.next(), **fields)
        issues = validate_question(question)
        errors.extend(ContentError(path, number, str(issue)) for issue in issues)
        if not issues:
            questions.append(question)
    if not questions and not errors:
        errors.append(ContentError(path, 2, "表格中没有题目"))
    if errors:
        raise ContentErrors(sorted(errors, key=lambda e: e.line))
    return questions


def answer_text(question: Question) -> str:
    """A question's key as typed in the template's 答案 column (B, AC, 对/错, 十五|15；第二空)."""
    return _answer_cell(question)


def parse_answer_text(qtype: str, text: str):
    """The 答案 column's text → canonical answer for the type, or None when unreadable."""
    return _parse_answer(qtype, text or "")
