"""Moodle Aiken import: single-choice questions as plain text.

::

    城乡居民基本养老保险的个人缴费标准由谁确定？
    A) 个人自定
    B. 国家规定档次，个人选择
    ANSWER: B

The stem may span several lines; options are ``A)`` or ``A.`` (also ``A、``
and full-width forms); ``ANSWER:`` ends the question. Blank lines between
questions are optional.
"""
from __future__ import annotations

import re
import unicodedata

from lms.contentfile import ContentError, ContentErrors
from lms.quizzes.grading import validate_question
from lms.quizzes.questions import OPTION_KEYS, IdAllocator, Question

_OPTION_RE = re.compile(r"^([A-ZＡ-Ｚ])[ \t\u3000]*[.)、．）][ \t\u3000]*(.*)$")
_ANSWER_RE = re.compile(r"^(?:ANSWER|答案)\s*:\s*(.*)$", re.I)


def parse_aiken(text: str, path: str, bank: str, existing_ids=frozenset()) -> list[Question]:
    """Parse Aiken text into single-choice questions with ids ``<bank>-<n>``; ContentErrors with lines."""
    errors: list[ContentError] = []
    questions: list[Question] = []
    ids = IdAllocator(bank, existing_ids)
    stem_lines: list[str] = []
    options: dict[str, str] = {}
    start = 0
    broken = False  # an option line of this question was already reported

    def reset():
        nonlocal stem_lines, options, start, broken
        stem_lines, options, start, broken = [], {}, 0, False

    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        # NFKC only to recognise markers (Ａ．, ＡＮＳＷＥＲ：); the text keeps its own characters.
        probe = unicodedata.normalize("NFKC", line)
        answer = _ANSWER_RE.match(probe)
        option = _OPTION_RE.match(line)
        if answer:
            key = answer.group(1).strip().upper()
            if not stem_lines:
                errors.append(ContentError(path, number, "ANSWER 行前缺少题干和选项"))
            elif not options:
                errors.append(ContentError(path, number, "ANSWER 行前缺少选项（A) … B) …）"))
            elif broken:
                pass
            elif key not in options:
                errors.append(ContentError(path, number, f"答案 {key or '（空）'} 不在选项中（{'、'.join(options)}）"))
            else:
                question = Question(
                    id=ids.next(), type="single", stem="\n".join(stem_lines), options=dict(options),
                    answer=key, text_format="plain", line=start,
                )
                issues = validate_question(question)
                errors.extend(ContentError(path, start, str(issue)) for issue in issues)
                if not issues:
                    questions.append(question)
            reset()
        elif option and stem_lines:
            key = unicodedata.normalize("NFKC", option.group(1))
            expected = OPTION_KEYS[len(options)] if len(options) < len(OPTION_KEYS) else None
            if key != expected:
                broken = True
                errors.append(ContentError(
                    path, number,
                    f"选项 {key} 的位置不对：应为 {expected}" if expected else "选项最多 6 个（A–F）",
                ))
            options[key] = option.group(2).strip()
            if not options[key]:
                broken = True
                errors.append(ContentError(path, number, f"选项 {key} 的内容为空"))
        elif options:
            errors.append(ContentError(path, number, f"选项后应为 ANSWER: 行，却是“{line}”"))
            reset()
        else:
            if not stem_lines:
                start = number
            stem_lines.append(line)
    if stem_lines:
        errors.append(ContentError(path, start, "题目缺少 ANSWER: 行"))
    if not questions and not errors:
        errors.append(ContentError(path, 1, "文件中没有题目"))
    if errors:
        raise ContentErrors(sorted(errors, key=lambda e: e.line))
    return questions
