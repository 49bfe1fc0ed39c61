"""Parser for ``question_bank/quizzes/<code>.yaml``: what a quiz draws and its rules."""
from __future__ import annotations

import dataclasses
import datetime as dt

from lms.contentfile import ContentError, ContentErrors, load_yaml
from lms.quizzes.formats.yaml_bank import CODE_RE, ErrorCollector, text_value

QUIZ_KEYS = (
    "code", "title", "org", "draw", "questions", "time_limit_minutes", "pass_score",
    "max_attempts", "shuffle_options", "opens_at", "closes_at", "retake_after_days", "annual_window",
)
#: retake_after_days: once max_attempts (plus 补考 grants) are used, a new round of attempts opens this many
#: days after the last attempt started. annual_window: {opens: "MM-DD", closes: "MM-DD"}, the days (local
#: time, both inclusive; may wrap the new year) the quiz is open every year, e.g. an annual exam.
MAX_RETAKE_DAYS = 3650
DRAW_KEYS = ("bank", "count", "tags", "difficulty")
#: questions: a fixed exam paper instead of draw, [{id, marks}] in order; marks default 1
PAPER_KEYS = ("id", "marks")
MAX_MARKS = 100
MAX_PAPER_QUESTIONS = 200


@dataclasses.dataclass(frozen=True)
class PaperSpec:
    """One hand-picked question of a fixed paper: its id, its marks, the file's line."""

    id: str
    marks: int = 1
    line: int = 0


@dataclasses.dataclass(frozen=True)
class DrawSpec:
    """Draw ``count`` questions from ``bank`` having any of ``tags`` and a difficulty in ``difficulty``.

    Empty ``tags`` / ``difficulty`` mean no filter.
    """

    bank: str
    count: int
    tags: tuple = ()
    difficulty: tuple = ()
    line: int = 0


@dataclasses.dataclass(frozen=True)
class QuizSpec:
    """A parsed quiz file; times are timezone-aware, ``max_attempts`` None means unlimited."""

    code: str
    title: str
    org: str | None
    draws: tuple
    time_limit_minutes: int
    pass_score: int
    max_attempts: int | None = None
    shuffle_options: bool = True
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    path: str = ""
    retake_after_days: int | None = None
    #: ((month, day), (month, day)) open every year, or None
    annual_window: tuple | None = None
    #: a fixed paper (PaperSpec, in order); empty when the quiz draws
    questions: tuple = ()

    @property
    def question_count(self) -> int:
        """Questions on every paper of this quiz."""
        return len(self.questions) if self.questions else sum(draw.count for draw in self.draws)


def _paper_item(item, index: int, seen: dict, errors: ErrorCollector) -> PaperSpec | None:
    base = ("questions", index)
    if isinstance(item, str):
        item = {"id": item}
    if not isinstance(item, dict):
        errors.add(base, "questions 的每一项必须是 {id: 题目编号, marks: 分值}")
        return None
    ok = True
    for key in item:
        if key not in PAPER_KEYS:
            errors.add(base + (key,), f"未知字段 {key}（可用：{', '.join(PAPER_KEYS)}）")
            ok = False
    qid = text_value(item.get("id"))
    if not qid:
        errors.add(base + ("id",) if "id" in item else base, "试卷中的题目缺少题目编号 id")
        ok = False
    elif qid in seen:
        errors.add(base + ("id",), f"题目 {qid} 在试卷中重复出现（第 {seen[qid] + 1} 题已有）")
        ok = False
    marks = item.get("marks", 1)
    if not _positive_int(marks) or marks > MAX_MARKS:
        errors.add(base + ("marks",), f"分值 marks 必须是 1–{MAX_MARKS} 的整数，实际是 {marks!r}")
        ok = False
    if not ok:
        return None
    seen[qid] = index
    return PaperSpec(id=qid, marks=marks, line=errors.located.line(*base))


def paper_errors(spec: QuizSpec, known_ids, path: str | None = None) -> list[ContentError]:
    """Questions of a fixed paper that no bank holds, as path:line (``known_ids``: every question id)."""
    return [ContentError(path or spec.path, item.line or 1, f"试卷中的题目 {item.id} 不在任何题库中")
            for item in spec.questions if item.id not in known_ids]


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _aware(value, key: str, errors: ErrorCollector):
    """YAML timestamp or ISO string with an offset → aware datetime; records an error otherwise."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            errors.add((key,), f"{key} 不是 ISO 8601 时间（如 2026-12-01T09:00:00+08:00）：{value!r}")
            return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            errors.add((key,), f"{key} 必须带时区偏移，如 2026-12-01T09:00:00+08:00")
            return None
        return value
    errors.add((key,), f"{key} 必须是带时区的日期时间，如 2026-12-01T09:00:00+08:00")
    return None


def _draw(item, index: int, errors: ErrorCollector) -> DrawSpec | None:
    base = ("draw", index)
    if not isinstance(item, dict):
        errors.add(base, "每条抽题规则必须是映射，如 {bank: social-security, count: 10}")
        return None
    ok = True
    for key in item:
        if key not in DRAW_KEYS:
            errors.add(base + (key,), f"未知字段 {key}（可用：{', '.join(DRAW_KEYS)}）")
            ok = False
    bank = item.get("bank")
    if not isinstance(bank, str) or not CODE_RE.match(bank):
        errors.add(base + ("bank",), f"抽题规则缺少有效的题库编码 bank：{bank!r}")
        ok = False
    count = item.get("count")
    if not _positive_int(count):
        errors.add(base + ("count",), f"抽题数量 count 必须是正整数，实际是 {count!r}")
        ok = False
    raw_tags = item.get("tags")
    tags = ()
    if raw_tags is not None:
        items = raw_tags if isinstance(raw_tags, list) else [raw_tags]
        tags = tuple(text_value(t) for t in items)
        if not tags or any(not t for t in tags):
            errors.add(base + ("tags",), "tags 必须是非空文字的列表")
            ok = False
    raw_difficulty = item.get("difficulty")
    difficulty = ()
    if raw_difficulty is not None:
        items = raw_difficulty if isinstance(raw_difficulty, list) else [raw_difficulty]
        if not items or not all(_positive_int(d) and d <= 5 for d in items):
            errors.add(base + ("difficulty",), f"difficulty 必须是 1–5 的整数或其列表，实际是 {raw_difficulty!r}")
            ok = False
        else:
            difficulty = tuple(sorted(set(items)))
    if not ok:
        return None
    return DrawSpec(bank=bank, count=count, tags=tags, difficulty=difficulty, line=errors.located.line(*base))


def parse_quiz(text: str, path: str, *, expected_code: str | None = None, known_ids=None) -> QuizSpec:
    """Parse a quiz file; raise ContentErrors listing every problem as path:line.

    ``known_ids``: every question id of the banks; a fixed paper naming another one is an error at its line.
    """
    data, located = load_yaml(text, path)
    errors = ErrorCollector(path, located)
    if data is None:
        raise ContentErrors([ContentError(path, 1, "文件为空：需要 code、title、draw 等字段")])
    if not isinstance(data, dict):
        raise ContentErrors([ContentError(path, 1, "测验文件必须是“键: 值”形式的 YAML 映射")])
    for key in data:
        if key not in QUIZ_KEYS:
            errors.add((key,), f"未知字段 {key}（可用：{', '.join(QUIZ_KEYS)}）")

    code = data.get("code")
    if code is None:
        errors.add((), "缺少测验编码 code")
    elif not isinstance(code, str) or not CODE_RE.match(code):
        errors.add(("code",), f"测验编码 {code!r} 无效：只能用小写字母、数字、连字符和下划线")
    elif expected_code is not None and code != expected_code:
        errors.add(("code",), f"测验编码 {code} 与文件名 {expected_code}.yaml 不一致")
    title = text_value(data.get("title"))
    if not title:
        errors.add(("title",) if "title" in data else (), "缺少测验名称 title")
    org = data.get("org")
    if org is not None and not text_value(org):
        errors.add(("org",), "org 必须是组织编码")

    draws = []
    raw_draws = data.get("draw")
    raw_paper = data.get("questions")
    paper = []
    if raw_paper is not None:
        if raw_draws is not None:
            errors.add(("questions",), "draw（随机抽题）和 questions（固定试卷）只能写一个")
        if not isinstance(raw_paper, list) or not raw_paper:
            errors.add(("questions",), "questions 必须是非空列表，如 - {id: ss-0001, marks: 5}")
        elif len(raw_paper) > MAX_PAPER_QUESTIONS:
            errors.add(("questions",), f"一份试卷最多 {MAX_PAPER_QUESTIONS} 题，实际 {len(raw_paper)} 题")
        else:
            seen: dict = {}
            for index, item in enumerate(raw_paper):
                found = _paper_item(item, index, seen, errors)
                if found is not None:
                    paper.append(found)
    elif raw_draws is None:
        errors.add((), "缺少抽题规则 draw（或固定试卷 questions）")
    elif not isinstance(raw_draws, list) or not raw_draws:
        errors.add(("draw",), "draw 必须是非空列表，如 - {bank: social-security, count: 10}")
    else:
        for index, item in enumerate(raw_draws):
            draw = _draw(item, index, errors)
            if draw is not None:
                draws.append(draw)

    limit = data.get("time_limit_minutes")
    if limit is None:
        errors.add((), "缺少答题时限 time_limit_minutes（分钟）")
    elif not _positive_int(limit) or limit > 24 * 60:
        errors.add(("time_limit_minutes",), f"time_limit_minutes 必须是 1–1440 的整数，实际是 {limit!r}")
    pass_score = data.get("pass_score")
    if pass_score is None:
        errors.add((), "缺少及格分 pass_score（0–100）")
    elif isinstance(pass_score, bool) or not isinstance(pass_score, int) or not 0 <= pass_score <= 100:
        errors.add(("pass_score",), f"pass_score 必须是 0–100 的整数，实际是 {pass_score!r}")
    max_attempts = data.get("max_attempts")
    if max_attempts is not None and not _positive_int(max_attempts):
        errors.add(("max_attempts",), f"max_attempts 必须是正整数（不限次数则省略），实际是 {max_attempts!r}")
    shuffle = data.get("shuffle_options", True)
    if not isinstance(shuffle, bool):
        errors.add(("shuffle_options",), f"shuffle_options 必须是 true 或 false，实际是 {shuffle!r}")

    opens_at = _aware(data["opens_at"], "opens_at", errors) if data.get("opens_at") is not None else None
    closes_at = _aware(data["closes_at"], "closes_at", errors) if data.get("closes_at") is not None else None
    if opens_at and closes_at and opens_at >= closes_at:
        errors.add(("closes_at",), "closes_at 必须晚于 opens_at")

    retake = data.get("retake_after_days")
    if retake is not None and (not _positive_int(retake) or retake > MAX_RETAKE_DAYS):
        errors.add(("retake_after_days",),
                   f"retake_after_days（补考等待天数）必须是 1–{MAX_RETAKE_DAYS} 的整数，实际是 {retake!r}")
        retake = None
    if retake is not None and max_attempts is None:
        errors.add(("retake_after_days",), "retake_after_days 只在限定了 max_attempts（最多作答次数）时有意义")
    annual = _annual_window(data["annual_window"], errors) if data.get("annual_window") is not None else None

    if known_ids is not None:
        errors.errors.extend(ContentError(path, item.line or 1, f"试卷中的题目 {item.id} 不在任何题库中")
                             for item in paper if item.id not in known_ids)
    errors.raise_if_any()
    return QuizSpec(
        code=code,
        title=title,
        org=text_value(org),
        draws=tuple(draws),
        time_limit_minutes=limit,
        pass_score=pass_score,
        max_attempts=max_attempts,
        shuffle_options=shuffle,
        opens_at=opens_at,
        closes_at=closes_at,
        path=path,
        retake_after_days=retake,
        annual_window=annual,
        questions=tuple(paper),
    )


def _month_day(value, key: str, errors: ErrorCollector):
    text = value if isinstance(value, str) else None
    try:
        month, day = (int(part) for part in (text or "").strip().split("-"))
        dt.date(2024, month, day)  # a leap year: 02-29 is a valid day of the window
        return month, day
    except (TypeError, ValueError):
        errors.add(("annual_window", key), f"annual_window 的 {key} 必须是“月-日”，如 \"12-01\"（加引号），实际是 {value!r}")
        return None


def _annual_window(value, errors: ErrorCollector):
    """{opens: "MM-DD", closes: "MM-DD"} -> ((m, d), (m, d)); records an error otherwise."""
    if not isinstance(value, dict) or set(value) != {"opens", "closes"}:
        errors.add(("annual_window",), "annual_window 必须写成 {opens: \"12-01\", closes: \"12-31\"}（每年开放的起止日）")
        return None
    opens = _month_day(value["opens"], "opens", errors)
    closes = _month_day(value["closes"], "closes", errors)
    return (opens, closes) if opens and closes else None


def in_annual_window(window, day: dt.date) -> bool:
    """Whether local ``day`` lies in the yearly window (both ends inclusive; a window may wrap the new year)."""
    (om, od), (cm, cd) = window
    key, start, end = (day.month, day.day), (om, od), (cm, cd)
    if start <= end:
        return start <= key <= end
    return key >= start or key <= end
