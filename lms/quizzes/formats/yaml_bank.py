"""Parser for ``question_bank/<bank>.yaml`` (format in API.md); pure, Markdown text."""
from __future__ import annotations

import dataclasses
import re

import yaml

from lms.contentfile import ContentError, ContentErrors, Located, _LineLoader, load_yaml
from lms.quizzes.grading import TYPES, get_type, validate_question
from lms.quizzes.questions import Question

#: Bank and quiz codes: lower-case, URL- and file-name-safe.
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

BANK_KEYS = ("bank", "title", "org", "questions")
QUESTION_KEYS = ("id", "type", "stem", "options", "answer", "explanation", "source", "difficulty", "tags")
_REQUIRED_QUESTION_KEYS = ("id", "type", "stem", "answer")


@dataclasses.dataclass(frozen=True)
class Bank:
    """A parsed bank file; ``org`` is None when the file leaves it to the tree's root."""

    code: str
    title: str
    org: str | None
    questions: list = dataclasses.field(hash=False)
    path: str = ""


class ErrorCollector:
    """Gathers errors of one file so a trainer sees them all at once."""

    def __init__(self, path: str, located: Located):
        self.path = path
        self.located = located
        self.errors: list[ContentError] = []

    def add(self, keypath: tuple, message: str) -> None:
        self.errors.append(ContentError(self.path, self.located.line(*keypath), message))

    def raise_if_any(self) -> None:
        if self.errors:
            self.errors.sort(key=lambda e: e.line)
            raise ContentErrors(self.errors)


def text_value(value) -> str | None:
    """A YAML scalar as text (numbers allowed: 十五 may be written 15); None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return None


def parse_answer(qtype: str, raw):
    """A bank file's ``answer`` value → canonical answer, or None when it has the wrong shape."""
    if qtype in ("single", "multiple", "judge"):
        if qtype == "judge" and not isinstance(raw, (bool, str)):
            return None
        return TYPES[qtype].normalize(raw)
    if qtype == "fill":
        # A bare value is one blank; a list holds one entry per blank, each a
        # value or a list of accepted alternatives.
        blanks = raw if isinstance(raw, list) else [raw]
        answer = []
        for blank in blanks:
            alternatives = blank if isinstance(blank, list) else [blank]
            texts = tuple(text_value(a) for a in alternatives)
            if not texts or any(t is None or t == "" for t in texts):
                return None
            answer.append(texts)
        return tuple(answer) or None
    return None


def _tags(raw) -> tuple | None:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    tags = tuple(text_value(item) for item in items)
    if any(not tag for tag in tags):
        return None
    return tags


def _question(item: dict, index: int, errors: ErrorCollector) -> Question | None:
    base = ("questions", index)
    ok = True
    for key in item:
        if key not in QUESTION_KEYS:
            errors.add(base + (key,), f"未知字段 {key}（可用：{', '.join(QUESTION_KEYS)}）")
            ok = False
    for key in _REQUIRED_QUESTION_KEYS:
        if item.get(key) is None or item.get(key) == "":
            label = {"id": "编号 id", "type": "题型 type", "stem": "题干 stem", "answer": "答案 answer"}[key]
            errors.add(base, f"题目缺少{label}")
            ok = False
    if not ok:
        return None
    qid = text_value(item["id"])
    qtype = item["type"]
    if qtype not in TYPES:
        errors.add(base + ("type",), f"未知题型 {qtype!r}，应为 single、multiple、judge 或 fill")
        return None
    stem = text_value(item["stem"])
    if stem is None:
        errors.add(base + ("stem",), "题干必须是文字")
        return None

    options = {}
    raw_options = item.get("options")
    if raw_options is not None:
        if not isinstance(raw_options, dict):
            errors.add(base + ("options",), "选项必须写成映射，如 {A: …, B: …}")
            return None
        for key, value in raw_options.items():
            text = text_value(value)
            if text is None:
                errors.add(base + ("options", key), f"选项 {key} 必须是文字")
                return None
            options[str(key).strip()] = text
    elif get_type(qtype).has_options:
        errors.add(base, f"{get_type(qtype).label}题缺少选项 options")
        return None

    answer = parse_answer(qtype, item["answer"])
    if answer is None:
        hint = {
            "single": "一个选项字母，如 B",
            "multiple": "选项字母的列表，如 [A, C]",
            "judge": "true 或 false",
            "fill": "每空一个可接受答案的列表，如 [[养老保险, 养老], [十五]]",
        }[qtype]
        errors.add(base + ("answer",), f"{get_type(qtype).label}题的答案应为{hint}，实际是 {item['answer']!r}")
        return None

    difficulty = item.get("difficulty", 3)
    if isinstance(difficulty, bool) or not isinstance(difficulty, int):
        errors.add(base + ("difficulty",), f"难度必须是 1–5 的整数，实际是 {difficulty!r}")
        return None
    tags = _tags(item.get("tags"))
    if tags is None:
        errors.add(base + ("tags",), "标签必须是非空文字的列表，如 [养老保险]")
        return None
    explanation = item.get("explanation")
    source = item.get("source")
    for key, value in (("explanation", explanation), ("source", source)):
        if value is not None and text_value(value) is None:
            errors.add(base + (key,), f"{key} 必须是文字")
            return None

    question = Question(
        id=qid,
        type=qtype,
        stem=stem,
        options=options,
        answer=answer,
        explanation=text_value(explanation) or "",
        source=text_value(source) or "",
        difficulty=difficulty,
        tags=tags,
        text_format="markdown",
        line=errors.located.line(*base),
    )
    issues = validate_question(question)
    for issue in issues:
        field = issue.field if issue.field in QUESTION_KEYS else None
        errors.add(base + ((field,) if field else ()), issue)
    return None if issues else question


class _Unusual(Exception):
    """Something the event reader leaves to the full loader (aliases, complex keys, odd tags)."""


_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def fast_load_yaml(text: str, path: str) -> tuple[object, Located]:
    """``load_yaml`` from the parser's events instead of a node graph: same data and lines, several times faster.

    Composing libyaml's nodes (with their marks) is what makes a 10,000-question
    bank slow; the events carry the same lines. Anything unusual (anchors,
    aliases, tagged collections, non-scalar keys, any YAML error) falls back to
    ``load_yaml``, whose errors name the line.
    """
    loader = _LineLoader(text)
    lines: dict[tuple, int] = {}

    def scalar(event):
        tag = event.tag
        if tag is None or tag == "!":
            tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR_TAG:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        return loader.construct_object(node, deep=True)

    def build(keypath: tuple):
        event = loader.get_event()
        if getattr(event, "anchor", None) is not None or isinstance(event, yaml.AliasEvent):
            raise _Unusual
        lines[keypath] = event.start_mark.line + 1
        if isinstance(event, yaml.ScalarEvent):
            return scalar(event)
        if event.tag not in _PLAIN_COLLECTION_TAGS:
            raise _Unusual
        if isinstance(event, yaml.SequenceStartEvent):
            items = []
            while not loader.check_event(yaml.SequenceEndEvent):
                items.append(build(keypath + (len(items),)))
            loader.get_event()
            return items
        if isinstance(event, yaml.MappingStartEvent):
            result = {}
            while not loader.check_event(yaml.MappingEndEvent):
                key_event = loader.get_event()
                if not isinstance(key_event, yaml.ScalarEvent) or key_event.anchor is not None:
                    raise _Unusual
                key = scalar(key_event)
                result[key] = build(keypath + (key,))
                lines[keypath + (key,)] = key_event.start_mark.line + 1
            loader.get_event()
            return result
        raise _Unusual

    try:
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None, Located({(): 1})
        loader.get_event()  # document start
        data = build(())
        loader.get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise _Unusual
    except (_Unusual, yaml.YAMLError, TypeError, ValueError):
        return load_yaml(text, path)
    finally:
        loader.dispose()
    return data, Located(lines)


def parse_bank(text: str, path: str, *, expected_code: str | None = None) -> Bank:
    """Parse a bank file; raise ContentErrors listing every problem as path:line.

    ``expected_code`` (the importer passes the file name's stem) must equal the
    file's ``bank`` key, since ``question_bank/<bank>.yaml`` names the bank.
    """
    data, located = fast_load_yaml(text, path)
    errors = ErrorCollector(path, located)
    if data is None:
        raise ContentErrors([ContentError(path, 1, "文件为空：需要 bank、title 和 questions")])
    if not isinstance(data, dict):
        raise ContentErrors([ContentError(path, 1, "题库文件必须是“键: 值”形式的 YAML 映射")])
    for key in data:
        if key not in BANK_KEYS:
            errors.add((key,), f"未知字段 {key}（可用：{', '.join(BANK_KEYS)}）")

    code = data.get("bank")
    if code is None:
        errors.add((), "缺少题库编码 bank")
    elif not isinstance(code, str) or not CODE_RE.match(code):
        errors.add(("bank",), f"题库编码 {code!r} 无效：只能用小写字母、数字、连字符和下划线")
    elif expected_code is not None and code != expected_code:
        errors.add(("bank",), f"题库编码 {code} 与文件名 {expected_code}.yaml 不一致")
    title = text_value(data.get("title"))
    if not title:
        errors.add(("title",) if "title" in data else (), "缺少题库名称 title")
    org = data.get("org")
    if org is not None and not text_value(org):
        errors.add(("org",), "org 必须是组织编码")

    raw_questions = data.get("questions")
    questions: list[Question] = []
    if raw_questions is None:
        errors.add((), "缺少题目列表 questions")
    elif not isinstance(raw_questions, list):
        errors.add(("questions",), "questions 必须是列表（每题以 - 开头）")
    elif not raw_questions:
        errors.add(("questions",), "questions 为空：题库至少要有一道题")
    else:
        first_line: dict[str, int] = {}
        for index, item in enumerate(raw_questions):
            if not isinstance(item, dict):
                errors.add(("questions", index), "每道题必须是“键: 值”形式的映射")
                continue
            qid = text_value(item.get("id"))
            if qid:
                line = located.line("questions", index, "id")
                if qid in first_line:
                    errors.add(("questions", index, "id"), f"题目编号 {qid} 重复（第 {first_line[qid]} 行已使用）")
                    continue
                first_line[qid] = line
            question = _question(item, index, errors)
            if question is not None:
                questions.append(question)
    errors.raise_if_any()
    return Bank(code=code, title=title, org=text_value(org), questions=questions, path=path)


def check_unique_ids(banks) -> list[ContentError]:
    """Ids must be unique across all banks: one error per repeat, at the later file's line."""
    seen: dict[str, tuple[str, int]] = {}
    errors = []
    for bank in banks:
        for question in bank.questions:
            if question.id in seen:
                other_path, other_line = seen[question.id]
                errors.append(ContentError(
                    bank.path, question.line,
                    f"题目编号 {question.id} 已在 {other_path}:{other_line} 使用，编号必须在所有题库中唯一",
                ))
            else:
                seen[question.id] = (bank.path, question.line)
    return errors
