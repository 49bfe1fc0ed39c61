"""Moodle GIFT import and export (mapping in API.md).

Import: multiple choice → single; weighted answers (``~%50%…``) → multiple
(options with a positive weight are correct); true/false → judge; short
answer → fill with its 100 % answers; missing word (answers inside the
sentence) → single or fill with ``____`` where the braces were. Matching,
numerical, essay and description-only questions are skipped with a warning.
Text is plain unless the question says ``[markdown]`` or ``[html]``.

Our metadata travels in a comment line before each question::

    // lms: id=ss-0001; source=《社会保险法》第二十条; difficulty=2; tags=养老保险,低保

Values escape ``\\``, ``;``, ``=``, ``,`` and newlines with a backslash.

Fill questions with several blanks: GIFT's short answer has one blank, so the
export lists every blank's accepted answers in one answer block and adds
``blanks=1,1,2`` to the comment — the blank each ``=`` answer belongs to, in
order. Moodle then reads a one-blank question accepting any of them; our
import splits them back. A fill stem keeps its own ``____`` markers and the
answer block goes at the end, so the markers survive the round trip.
"""
from __future__ import annotations

import re

from lms.contentfile import ContentError, ContentErrors
from lms.quizzes.grading import validate_question
from lms.quizzes.questions import BLANK, OPTION_KEYS, IdAllocator, Question, count_blanks

_GIFT_SPECIAL = "~=#{}:"
_FORMATS = {"[html]": "markdown", "[markdown]": "markdown", "[plain]": "plain", "[moodle]": "plain"}
_FORMAT_RE = re.compile(r"^\s*\[(html|markdown|plain|moodle)\]", re.I)
_WEIGHT_RE = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


class _Skip(Exception):
    """A valid GIFT question of a kind we do not import: becomes a warning."""


class _Bad(Exception):
    """A malformed question: becomes an error at ``offset`` of the block."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset


# --- escapes ---------------------------------------------------------------

def _find(text: str, targets: str, start: int = 0) -> int:
    """Offset of the first unescaped character of ``targets`` at or after ``start``; -1 if none."""
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char in targets:
            return i
        i += 1
    return -1


def _find_seq(text: str, seq: str, start: int = 0) -> int:
    """Offset of the first unescaped occurrence of a multi-character sequence."""
    i = start
    while i <= len(text) - len(seq):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(seq, i):
            return i
        i += 1
    return -1


def _unescape(text: str, extra: str = "") -> tuple[str, bool]:
    """GIFT escapes → text; also reports whether an unescaped ``*`` occurred (a wildcard)."""
    out = []
    star = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "n":
                out.append("\n")
            elif nxt in _GIFT_SPECIAL or nxt == "\\" or nxt in extra:
                out.append(nxt)
            else:
                out.append(char + nxt)
            i += 2
            continue
        if char == "*":
            star = True
        out.append(char)
        i += 1
    return "".join(out), star


def _plain(text: str) -> str:
    return _unescape(text)[0].strip()


def escape(text: str, extra: str = "") -> str:
    """Text → GIFT: backslash before ``\\ ~ = # { } :`` (and ``extra``), newlines as ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for char in text:
        if char == "\\" or char in _GIFT_SPECIAL or char in extra:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        else:
            out.append(char)
    return "".join(out)


def _strip_format(text: str) -> tuple[str, str | None]:
    match = _FORMAT_RE.match(text)
    if not match:
        return text, None
    return text[match.end():], _FORMATS["[" + match.group(1).lower() + "]"]


# --- the metadata comment ---------------------------------------------------

def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, start = [], 0
    while True:
        index = _find(text, sep, start)
        if index < 0:
            parts.append(text[start:])
            return parts
        parts.append(text[start:index])
        start = index + 1


def _meta_unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out).strip()


def _meta_escape(text: str) -> str:
    text = str(text).replace("\r\n", "\n")
    return "".join("\\" + c if c in "\\;=," else "\\n" if c == "\n" else c for c in text)


def _parse_meta(body: str) -> dict[str, str]:
    """``id=…; tags=a,b`` → raw (still escaped) values by key."""
    meta = {}
    for part in _split_unescaped(body, ";"):
        if not part.strip():
            continue
        eq = _find(part, "=")
        if eq < 0:
            continue
        meta[part[:eq].strip().lower()] = part[eq + 1:].strip()
    return meta


# --- parsing ----------------------------------------------------------------

class _Block:
    """One question's lines: text without comment lines, and a map from offsets to file lines."""

    def __init__(self, rows: list[tuple[int, str]]):
        self.meta_line = 0
        self.meta: dict[str, str] = {}
        kept = []
        for number, line in rows:
            stripped = line.strip()
            if stripped.startswith("//"):
                comment = stripped[2:].strip()
                if comment.lower().startswith("lms:"):
                    self.meta = _parse_meta(comment[4:])
                    self.meta_line = number
                continue
            kept.append((number, line))
        self.starts = []
        offset = 0
        for number, line in kept:
            self.starts.append((offset, number))
            offset += len(line) + 1
        self.text = "\n".join(line for _, line in kept)

    def line_at(self, offset: int) -> int:
        line = self.starts[0][1]
        for start, number in self.starts:
            if start > offset:
                break
            line = number
        return line

    @property
    def first_line(self) -> int:
        # The first line holding text, not the leading whitespace of the block.
        return self.line_at(len(self.text) - len(self.text.lstrip()))


def _blocks(text: str):
    rows: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            rows.append((number, line))
        elif rows:
            yield rows
            rows = []
    if rows:
        yield rows


def _items(inner: str, base: int) -> tuple[str, list[tuple[str, str, int]]]:
    """Split an answer block at unescaped ``=``/``~``: (text before the first, [(marker, raw, offset)])."""
    items = []
    index = _find(inner, "=~")
    prefix = inner if index < 0 else inner[:index]
    while index >= 0:
        nxt = _find(inner, "=~", index + 1)
        end = len(inner) if nxt < 0 else nxt
        items.append((inner[index], inner[index + 1:end], base + index))
        index = nxt
    return prefix, items


def _answer_text(raw: str) -> tuple[float | None, str, bool]:
    """An item's raw text → (explicit weight or None, unescaped text without feedback, wildcard?)."""
    hash_at = _find(raw, "#")
    if hash_at >= 0:
        raw = raw[:hash_at]
    weight = None
    match = _WEIGHT_RE.match(raw)
    if match:
        weight = float(match.group(1))
        raw = raw[match.end():]
    raw, _ = _strip_format(raw.strip())
    text, star = _unescape(raw.strip(), extra="*")
    return weight, text.strip(), star


def _parse_block(block: _Block, warn) -> dict:
    """One block → the fields of a Question (no id yet); raises _Skip or _Bad."""
    text = block.text
    start = len(text) - len(text.lstrip())
    rest_at = start
    if text.startswith("::", start):
        close = _find_seq(text, "::", start + 2)
        if close < 0:
            raise _Bad("题目名称缺少结尾的 ::", start)
        rest_at = close + 2
    open_at = _find(text, "{", rest_at)
    stray = _find(text, "}", rest_at)
    if stray >= 0 and (open_at < 0 or stray < open_at):
        raise _Bad("多余的 }：答案块必须以 { 开始（文字中的花括号写作 \\{ 和 \\}）", stray)
    if open_at < 0:
        raise _Skip("说明文字（没有答案块的题）")
    close_at = _find(text, "}", open_at + 1)
    if close_at < 0:
        raise _Bad("答案块缺少结尾的 }", open_at)
    again = _find(text, "{}", close_at + 1)
    if again >= 0:
        raise _Bad("一道题只能有一个答案块；文字中的花括号写作 \\{ 和 \\}", again)

    before, text_format = _strip_format(text[rest_at:open_at])
    text_format = text_format or "plain"
    after = text[close_at + 1:]
    inner_at = open_at + 1
    inner = text[inner_at:close_at]

    explanation = ""
    general = _find_seq(inner, "####")
    if general >= 0:
        explanation = _plain(_strip_format(inner[general + 4:])[0])
        inner = inner[:general]

    if not inner.strip():
        raise _Skip("问答题（essay）")
    if inner.lstrip().startswith("#"):
        raise _Skip("数值题（numerical）")

    prefix, items = _items(inner, inner_at)
    prefix_at = inner_at + len(prefix) - len(prefix.lstrip())
    fields = {"text_format": text_format, "explanation": explanation, "options": {}}
    after_text = _plain(after)

    if not items:
        word = _plain(prefix[: _find(prefix, "#")] if _find(prefix, "#") >= 0 else prefix)
        if word.upper() not in _TRUE_FALSE:
            raise _Bad(f"无法识别的答案“{word}”：选项须以 = 或 ~ 开头，判断题写 T 或 F", prefix_at)
        if after_text:
            warn(block.line_at(close_at), f"答案块后的文字“{after_text}”已忽略")
        fields.update(type="judge", stem=_plain(before), answer=_TRUE_FALSE[word.upper()])
        return fields
    if prefix.strip():
        raise _Bad(f"答案块中“{_plain(prefix)}”前缺少 = 或 ~", prefix_at)

    markers = [marker for marker, _, _ in items]
    if "~" not in markers and all(_find_seq(raw, "->") >= 0 for _, raw, _ in items):
        raise _Skip("配对题（matching）")

    stem = _plain(before)
    if after_text:
        # Missing word: the blank goes where the braces were (as Moodle does).
        stem = (_unescape(before)[0] + BLANK + _unescape(after)[0]).strip()

    if "~" in markers:
        return _choice(fields, stem, items, block, warn)
    return _fill(fields, stem, items, block, warn, after_text)


def _choice(fields: dict, stem: str, items, block: _Block, warn) -> dict:
    answers = []
    for marker, raw, offset in items:
        weight, text, _ = _answer_text(raw)
        if not text:
            raise _Bad("选项内容为空", offset)
        explicit = weight is not None
        if weight is None:
            weight = 100.0 if marker == "=" else 0.0
        answers.append((text, weight, explicit))
    if len(answers) > len(OPTION_KEYS):
        raise _Skip(f"有 {len(answers)} 个选项的选择题（最多 6 个）")
    options = {OPTION_KEYS[i]: text for i, (text, _, _) in enumerate(answers)}
    if any(explicit for _, _, explicit in answers):
        correct = frozenset(OPTION_KEYS[i] for i, (_, w, _) in enumerate(answers) if w > 0)
        if not correct:
            raise _Bad("没有正确答案：至少一个选项的分值要大于 0", items[0][2])
        fields.update(type="multiple", stem=stem, options=options, answer=correct)
        return fields
    correct = [OPTION_KEYS[i] for i, (_, w, _) in enumerate(answers) if w > 0]
    if not correct:
        raise _Bad("没有正确答案：单选题要用 = 标出一个正确选项", items[0][2])
    if len(correct) > 1:
        raise _Skip("有多个完全正确（=）选项的选择题，既不是单选也不是多选")
    fields.update(type="single", stem=stem, options=options, answer=correct[0])
    return fields


def _fill(fields: dict, stem: str, items, block: _Block, warn, after_text: str) -> dict:
    kept = []  # (position in block, text)
    for position, (marker, raw, offset) in enumerate(items):
        weight, text, star = _answer_text(raw)
        line = block.line_at(offset)
        if star:
            warn(line, f"通配符答案“{text}”不支持，已舍弃")
        elif weight is not None and weight < 100:
            warn(line, f"部分得分答案“{text}”（{weight:g}%）不支持，已舍弃")
        elif not text:
            raise _Bad("答案内容为空", offset)
        else:
            kept.append((position, text))
    if not kept:
        raise _Skip("没有满分答案的填空题")

    raw_blanks = block.meta.get("blanks")
    if raw_blanks:
        try:
            numbers = [int(n) for n in _meta_unescape(raw_blanks).split(",")]
        except ValueError:
            raise _Bad(f"blanks 必须是逗号分隔的空号，如 1,1,2：{raw_blanks}", None) from None
        if len(numbers) != len(items):
            raise _Bad(f"blanks 列出了 {len(numbers)} 个答案的空号，答案块却有 {len(items)} 个答案", None)
        groups: dict[int, list[str]] = {}
        for position, text in kept:
            groups.setdefault(numbers[position], []).append(text)
        if sorted(groups) != list(range(1, len(groups) + 1)):
            raise _Bad(f"blanks 的空号必须从 1 起连续，实际是 {raw_blanks}", None)
        answer = tuple(tuple(groups[n]) for n in sorted(groups))
    else:
        answer = (tuple(text for _, text in kept),)
    if not after_text and count_blanks(stem) == 0:
        stem = f"{stem} {BLANK}"
    fields.update(type="fill", stem=stem, answer=answer)
    return fields


def parse_gift(text: str, path: str, bank: str, existing_ids=frozenset()) -> tuple[list[Question], list[ContentError]]:
    """Parse GIFT text into questions for ``bank``; returns (questions, warnings about skipped parts).

    Raises ContentErrors (every malformed question, with its line) and imports
    nothing then. Ids come from ``// lms: id=…``; the rest get ``<bank>-<n>``,
    skipping ``existing_ids`` and ids used in the file.
    """
    text = text.lstrip("\ufeff")
    errors: list[ContentError] = []
    warnings: list[ContentError] = []
    parsed: list[tuple[_Block, dict]] = []

    for rows in _blocks(text):
        block = _Block(rows)
        if not block.text.strip():
            continue
        if block.text.lstrip().startswith("$CATEGORY:"):
            continue
        line = block.first_line
        try:
            fields = _parse_block(block, lambda ln, msg: warnings.append(ContentError(path, ln, msg)))
        except _Skip as skip:
            warnings.append(ContentError(path, line, f"{skip}不支持，已跳过"))
            continue
        except _Bad as bad:
            at = block.line_at(bad.offset) if bad.offset is not None else (block.meta_line or line)
            errors.append(ContentError(path, at, bad.message))
            continue
        fields["line"] = line
        parsed.append((block, fields))

    ids = IdAllocator(bank, existing_ids)
    seen: dict[str, int] = {}
    for block, fields in parsed:
        qid = _meta_unescape(block.meta["id"]) if block.meta.get("id") else None
        if qid:
            if qid in seen:
                errors.append(ContentError(path, block.meta_line, f"题目编号 {qid} 重复（第 {seen[qid]} 行已使用）"))
            seen[qid] = block.meta_line
            ids.reserve(qid)

    questions = []
    for block, fields in parsed:
        meta = block.meta
        qid = _meta_unescape(meta["id"]) if meta.get("id") else ids.next()
        difficulty = 3
        if meta.get("difficulty"):
            try:
                difficulty = int(_meta_unescape(meta["difficulty"]))
            except ValueError:
                errors.append(ContentError(path, block.meta_line, f"难度必须是 1–5 的整数：{meta['difficulty']}"))
                continue
        tags = ()
        if meta.get("tags"):
            tags = tuple(t for t in (_meta_unescape(p) for p in _split_unescaped(meta["tags"], ",")) if t)
        question = Question(
            id=qid,
            source=_meta_unescape(meta.get("source", "")),
            difficulty=difficulty,
            tags=tags,
            **fields,
        )
        issues = validate_question(question)
        for issue in issues:
            at = block.meta_line if issue.field in ("id", "difficulty", "tags") and block.meta_line else question.line
            errors.append(ContentError(path, at, str(issue)))
        if not issues:
            questions.append(question)

    if not questions and not warnings and not errors:
        errors.append(ContentError(path, 1, "文件中没有题目"))
    if errors:
        raise ContentErrors(sorted(errors, key=lambda e: e.line))
    return questions, warnings


# --- export -----------------------------------------------------------------

def _guard(text: str, text_format: str) -> str:
    """Prefix a format tag when the text itself would read as a weight or a format tag."""
    if _WEIGHT_RE.match(text) or _FORMAT_RE.match(text):
        return f"[{text_format}]{text}"
    return text


def _weight(count: int) -> str:
    return f"{100 / count:.5f}".rstrip("0").rstrip(".")


def export_gift(questions) -> str:
    """Write questions as GIFT, each preceded by its ``// lms:`` metadata comment."""
    chunks = []
    for q in questions:
        meta = [
            f"id={_meta_escape(q.id)}",
            f"source={_meta_escape(q.source)}",
            f"difficulty={q.difficulty}",
            "tags=" + ",".join(_meta_escape(t) for t in q.tags),
        ]
        lines = []
        fmt = q.text_format
        if q.type == "judge":
            lines.append("\t" + ("TRUE" if q.answer else "FALSE"))
        elif q.type == "single":
            for key, text in q.options.items():
                lines.append("\t" + ("=" if key == q.answer else "~") + _guard(escape(text), fmt))
        elif q.type == "multiple":
            right = _weight(len(q.answer))
            for key, text in q.options.items():
                weight = right if key in q.answer else "-100"
                lines.append(f"\t~%{weight}%" + _guard(escape(text), fmt))
        elif q.type == "fill":
            numbers = []
            for number, alternatives in enumerate(q.answer, start=1):
                for text in alternatives:
                    numbers.append(str(number))
                    lines.append("\t=" + _guard(escape(text, extra="*"), fmt))
            if len(q.answer) > 1:
                meta.append("blanks=" + ",".join(numbers))
        else:
            raise ValueError(f"unknown question type {q.type!r}")
        if q.explanation:
            lines.append(f"\t####[{fmt}]" + escape(q.explanation))
        chunks.append(
            "// lms: " + "; ".join(meta) + "\n"
            + f"::{q.id}::[{fmt}]{escape(q.stem)}{{\n" + "\n".join(lines) + "\n}\n"
        )
    return "\n".join(chunks)
