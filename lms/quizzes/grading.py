"""Question types as a registry of small classes with pure ``normalize`` and ``grade``.

Every type answers three questions: is this question well-formed
(``validate``), what did the learner mean (``normalize``: the raw JSON answer →
canonical form, or None when blank or unreadable) and is it right (``grade``).
Normalisation follows API.md: NFKC (full-width → half-width), spaces, trailing
punctuation and case do not matter.
"""
from __future__ import annotations

import unicodedata

from lms.quizzes.questions import ID_RE, OPTION_KEYS, TEXT_FORMATS, Question, count_blanks

#: Trailing punctuation a learner may add to a fill answer or letter (after NFKC).
_TRAILING = "。．.，,；;！!、"

#: Characters that separate or wrap option letters: "A,C", "A、C", "[A, C]", '["A","C"]'.
_LETTER_NOISE = set(" \t\r\n\u3000,，、;；/|[]【】()（）\"'“”‘’")

_TRUE_WORDS = {"true", "t", "对", "正确", "√", "✓", "✔", "是", "yes", "y"}
_FALSE_WORDS = {"false", "f", "错", "错误", "×", "✗", "✘", "x", "否", "no", "n"}


class Issue(str):
    """A validation message (Chinese) that also names the field it is about.

    It is a plain ``str`` for callers that only print; parsers read ``field`` to
    point the error at the right line (``answer``, ``options``, ``stem`` …).
    """

    field: str

    def __new__(cls, field: str, message: str):
        obj = super().__new__(cls, message)
        obj.field = field
        return obj


def normalize_text(value) -> str:
    """Text as graded: NFKC, no whitespace, no trailing punctuation, case-folded."""
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(text.split())
    text = text.rstrip(_TRAILING)
    return text.casefold()


def _scalar_text(value) -> str | None:
    """A JSON scalar as text; None for containers, None and booleans."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _letters(raw) -> list[str] | None:
    """Option letters in any spelling ("AC", "A、C", ["a","c"], "ａｃ"); None when unreadable."""
    if isinstance(raw, (list, tuple, set, frozenset)):
        parts = []
        for item in raw:
            text = _scalar_text(item)
            if text is None:
                return None
            parts.append(text)
        raw = ",".join(parts)
    elif not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).upper()
    text = text.strip().rstrip(_TRAILING)
    letters = []
    for char in text:
        if char in _LETTER_NOISE:
            continue
        if char not in OPTION_KEYS:
            return None
        letters.append(char)
    return letters


class QuestionType:
    """Base of the registry; subclasses set ``type``/``label`` and implement the hooks."""

    type: str = ""
    label: str = ""
    has_options: bool = False

    def validate(self, question: Question) -> list[Issue]:
        """Problems with a question of this type (Chinese messages), empty when valid."""
        issues = []
        if question.options and not self.has_options:
            issues.append(Issue("options", f"{self.label}题不能有选项"))
        return issues

    def normalize(self, raw):
        """Client answer → canonical form, or None when blank or unreadable."""
        raise NotImplementedError

    def is_correct(self, question: Question, answer) -> bool:
        """Compare a canonical (normalised) answer with the key."""
        return answer == question.answer

    def grade(self, question: Question, raw_answer) -> bool:
        """True when the raw answer is right; a blank or unreadable answer is wrong."""
        answer = self.normalize(raw_answer)
        if answer is None:
            return False
        return self.is_correct(question, answer)


class _ChoiceType(QuestionType):
    has_options = True

    def validate(self, question: Question) -> list[Issue]:
        issues = super().validate(question)
        keys = list(question.options)
        if len(keys) < 2:
            issues.append(Issue("options", f"{self.label}题至少要有 2 个选项"))
        elif len(keys) > len(OPTION_KEYS):
            issues.append(Issue("options", f"{self.label}题最多 6 个选项（A–F）"))
        elif keys != list(OPTION_KEYS[: len(keys)]):
            expected = "、".join(OPTION_KEYS[: len(keys)])
            issues.append(Issue("options", f"选项编号必须从 A 起依次排列（{expected}），实际是 {'、'.join(map(str, keys))}"))
        seen: dict[str, str] = {}
        for key, text in question.options.items():
            if not str(text).strip():
                issues.append(Issue("options", f"选项 {key} 的内容为空"))
                continue
            normalized = normalize_text(text)
            if normalized in seen:
                issues.append(Issue("options", f"选项 {seen[normalized]} 与选项 {key} 内容相同"))
            else:
                seen[normalized] = key
        return issues


class SingleChoice(_ChoiceType):
    type = "single"
    label = "单选"

    def validate(self, question: Question) -> list[Issue]:
        issues = super().validate(question)
        answer = question.answer
        if not isinstance(answer, str) or len(answer) != 1:
            issues.append(Issue("answer", "单选题的答案必须是一个选项字母，如 B"))
        elif answer not in question.options:
            issues.append(Issue("answer", f"答案 {answer} 不在选项中（{'、'.join(question.options)}）"))
        return issues

    def normalize(self, raw):
        letters = _letters(raw)
        if not letters or len(set(letters)) != 1:
            return None
        return letters[0]


class MultipleChoice(_ChoiceType):
    type = "multiple"
    label = "多选"

    def validate(self, question: Question) -> list[Issue]:
        issues = super().validate(question)
        answer = question.answer
        if not isinstance(answer, frozenset) or not answer:
            issues.append(Issue("answer", "多选题的答案必须是选项字母的列表，如 [A, C]"))
        else:
            missing = sorted(key for key in answer if key not in question.options)
            if missing:
                issues.append(Issue("answer", f"答案 {'、'.join(missing)} 不在选项中（{'、'.join(question.options)}）"))
        return issues

    def normalize(self, raw):
        letters = _letters(raw)
        if not letters:
            return None
        return frozenset(letters)


class Judge(QuestionType):
    type = "judge"
    label = "判断"

    def validate(self, question: Question) -> list[Issue]:
        issues = super().validate(question)
        if not isinstance(question.answer, bool):
            issues.append(Issue("answer", "判断题的答案必须是 true（对）或 false（错）"))
        return issues

    def normalize(self, raw):
        if isinstance(raw, bool):
            return raw
        if not isinstance(raw, str):
            return None
        word = normalize_text(raw).strip("[]\"'")
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        return None


class Fill(QuestionType):
    type = "fill"
    label = "填空"

    def validate(self, question: Question) -> list[Issue]:
        issues = super().validate(question)
        blanks = count_blanks(question.stem)
        answer = question.answer
        if blanks == 0:
            issues.append(Issue("stem", "填空题的题干中没有空（用 ____ 或（ ）标出）"))
        if not isinstance(answer, tuple) or not answer:
            issues.append(Issue("answer", "填空题的答案必须是每空一个可接受答案的列表，如 [[养老保险, 养老], [十五]]"))
            return issues
        if blanks and len(answer) != blanks:
            issues.append(Issue("answer", f"题干有 {blanks} 个空，答案却给了 {len(answer)} 个空的答案"))
        for index, alternatives in enumerate(answer, start=1):
            if not alternatives or not all(isinstance(a, str) and normalize_text(a) for a in alternatives):
                issues.append(Issue("answer", f"第 {index} 个空的答案为空"))
        return issues

    def normalize(self, raw):
        if isinstance(raw, (list, tuple)):
            texts = [_scalar_text(item) for item in raw]
            if not texts or any(text is None for text in texts):
                return None
        else:
            text = _scalar_text(raw)
            if text is None:
                return None
            texts = [text]
        normalized = tuple(normalize_text(text) for text in texts)
        if not any(normalized):
            return None
        return normalized

    def is_correct(self, question: Question, answer) -> bool:
        key = question.answer
        if len(answer) != len(key):
            return False
        return all(
            given in {normalize_text(a) for a in alternatives}
            for given, alternatives in zip(answer, key)
        )


#: The registry: type name → instance.
TYPES: dict[str, QuestionType] = {cls.type: cls() for cls in (SingleChoice, MultipleChoice, Judge, Fill)}

#: Chinese label (单选/多选/判断/填空) → type name, for Excel and forms.
TYPE_BY_LABEL = {t.label: name for name, t in TYPES.items()}


def get_type(name: str) -> QuestionType:
    """The registered type called ``name``; KeyError for an unknown one."""
    return TYPES[name]


def validate_question(question: Question) -> list[Issue]:
    """Every problem with a question: the fields common to all types, then its type's rules."""
    issues = []
    if not isinstance(question.id, str) or not ID_RE.match(question.id):
        issues.append(Issue("id", f"题目编号 {question.id!r} 无效：只能用字母、数字、点、下划线和连字符，最长 64 个字符"))
    if not isinstance(question.stem, str) or not question.stem.strip():
        issues.append(Issue("stem", "题干不能为空"))
    if isinstance(question.difficulty, bool) or not isinstance(question.difficulty, int) or not 1 <= question.difficulty <= 5:
        issues.append(Issue("difficulty", f"难度必须是 1–5 的整数，实际是 {question.difficulty!r}"))
    if question.text_format not in TEXT_FORMATS:
        issues.append(Issue("text_format", f"未知的文本格式 {question.text_format!r}"))
    if not all(isinstance(tag, str) and tag.strip() for tag in question.tags):
        issues.append(Issue("tags", "标签必须是非空文字"))
    qtype = TYPES.get(question.type)
    if qtype is None:
        issues.append(Issue("type", f"未知题型 {question.type!r}，应为 single、multiple、judge 或 fill"))
        return issues
    if not isinstance(question.stem, str):
        return issues
    return issues + qtype.validate(question)


def grade(question: Question, raw_answer) -> bool:
    """Grade a raw answer against a question of any registered type."""
    return get_type(question.type).grade(question, raw_answer)


def normalize_answer(qtype: str, raw_answer):
    """Canonical form of a raw answer for a type (None when blank or unreadable)."""
    return get_type(qtype).normalize(raw_answer)
