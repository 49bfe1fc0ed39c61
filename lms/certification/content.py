"""Parser for ``courses/certifications.yaml``: certification programs and point rules.

Pure: text in, frozen dataclasses out, or ``ContentErrors`` listing every
problem as ``path:line: message`` (Simplified Chinese). The database layer
syncs the result by program code.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection

from lms.contentfile import ContentError, ContentErrors, Located, load_yaml

TOP_KEYS = ("programs", "points")
PROGRAM_KEYS = ("code", "title", "valid_months", "star", "requires")
REQUIRES_KEYS = (
    "courses", "quizzes", "drills_accepted", "training_hours", "mentoring_activities", "points", "certificates",
    "within_months",
)
#: The facts ``within_months`` windows: only what happened in the last N months counts for them (quiz
#: scores: the best of the attempts started in the window; drills: distinct drills with a report accepted
#: in it; hours: courses completed and sessions attended in it; mentoring: activities dated in it).
#: Courses, certificates and points (积分 accumulate) are not windowed.
COUNTED_FACTS = ("quizzes", "drills_accepted", "training_hours", "mentoring_activities")
POINT_KEYS = ("lesson_complete", "quiz_pass", "drill_accepted", "consultation_accepted", "training_hour",
              "mentoring_activity",
              # field results (lms.field.points): per 办结 event, deducted per 退回 event, per event rated 4–5
              "field_closed", "field_returned", "field_satisfaction")

# Chinese names used in messages so a trainer recognises the field.
_FIELD_ZH = {
    "code": "编码",
    "title": "名称",
    "valid_months": "有效期（月）",
    "star": "星级",
    "drills_accepted": "模拟上报被采纳次数",
    "training_hours": "培训学时",
    "mentoring_activities": "老带新活动次数",
    "points": "积分",
    "lesson_complete": "完成一节课的积分",
    "quiz_pass": "通过一次测验的积分",
    "drill_accepted": "一次模拟上报被采纳的积分",
    "consultation_accepted": "一道政策答询回答通过的积分",
    "training_hour": "每培训学时的积分",
    "mentoring_activity": "一次已确认老带新活动的积分",
    "field_closed": "现场上报一件事件办结的积分",
    "field_returned": "现场上报一件事件被退回扣的积分",
    "field_satisfaction": "一件事件群众评价满意（4–5 分）的积分",
    "within_months": "计数时间窗（月）",
}


@dataclasses.dataclass(frozen=True)
class Requirements:
    """What a holder must have for a program; zero/empty means "not required"."""

    courses: tuple[str, ...] = ()
    quizzes: dict[str, float] = dataclasses.field(default_factory=dict)  # quiz code -> minimum best score
    drills_accepted: int = 0
    training_hours: float = 0
    mentoring_activities: int = 0
    points: int = 0
    certificates: tuple[str, ...] = ()  # program codes whose certificate must be valid
    #: None: counted facts count for ever; N: only the last N months count (see COUNTED_FACTS)
    within_months: int | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing is required: such a program is issued by HR only."""
        return not (self.courses or self.quizzes or self.drills_accepted or self.training_hours
                    or self.mentoring_activities or self.points or self.certificates)


@dataclasses.dataclass(frozen=True)
class Program:
    """One certification program (认证项目), e.g. 网格员上岗证 or a star level."""

    code: str
    title: str
    valid_months: int
    star: int | None
    requires: Requirements
    line: int = 1  # where the program starts in its file, for later messages


@dataclasses.dataclass(frozen=True)
class PointRules:
    """Points (积分) awarded per event kind."""

    lesson_complete: int = 0
    quiz_pass: int = 0
    drill_accepted: int = 0
    #: a consultation drill (政策答询) answered acceptably, once per consultation and person
    consultation_accepted: int = 0
    training_hour: int = 0
    mentoring_activity: int = 0
    field_closed: int = 0
    #: deducted: a returned event's entry is minus this
    field_returned: int = 0
    field_satisfaction: int = 0

    def award(self, kind: str, quantity: float = 1) -> int:
        """Points for ``quantity`` events of ``kind`` (a POINT_KEYS name); fractions round down."""
        if kind not in POINT_KEYS:
            raise ValueError(f"unknown point kind: {kind!r}")
        # The epsilon keeps 1.1 h x 10 from becoming 10.999… -> 10.
        return math.floor(getattr(self, kind) * quantity + 1e-9)


@dataclasses.dataclass(frozen=True)
class CertificationConfig:
    """The whole file: programs in file order and the point rules."""

    programs: list[Program]
    points: PointRules

    def program(self, code: str) -> Program | None:
        """The program with this code, or None."""
        for program in self.programs:
            if program.code == code:
                return program
        return None


class _Errors:
    def __init__(self, path: str, located: Located):
        self.path = path
        self.located = located
        self.items: list[ContentError] = []

    def add(self, keypath: tuple, message: str) -> None:
        self.items.append(ContentError(self.path, self.located.line(*keypath), message))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (_is_int(value) or isinstance(value, float)) and not (isinstance(value, float) and not math.isfinite(value))


def _check_unknown(data: dict, allowed: tuple, keypath: tuple, where: str, errors: _Errors) -> None:
    for key in data:
        if key not in allowed:
            errors.add(keypath + (key,), f"{where}中有未知的键“{key}”（可用的键：{'、'.join(allowed)}）")


def _count(value, keypath: tuple, name: str, errors: _Errors, *, integer: bool, default=0):
    """A non-negative count (integer) or amount (number); reports and returns the default when bad."""
    label = f"{_FIELD_ZH.get(name, name)} {name}"
    if value is None:
        return default
    if integer and not _is_int(value):
        errors.add(keypath, f"{label} 必须是不小于 0 的整数，而不是“{value}”")
        return default
    if not integer and not _is_number(value):
        errors.add(keypath, f"{label} 必须是不小于 0 的数字，而不是“{value}”")
        return default
    if value < 0:
        errors.add(keypath, f"{label} 不能是负数：{value}")
        return default
    return value


def _code_list(value, keypath: tuple, what: str, errors: _Errors) -> list[tuple[str, tuple]]:
    """A list of codes as (code, keypath) pairs; duplicates and non-strings reported."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(keypath, f"{what}必须是编码列表，例如 [code-a, code-b]")
        return []
    seen: set[str] = set()
    result = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            errors.add(keypath + (i,), f"{what}第 {i + 1} 项必须是非空的编码文本，而不是“{item}”")
            continue
        item = item.strip()
        if item in seen:
            errors.add(keypath + (i,), f"{what}中“{item}”重复")
            continue
        seen.add(item)
        result.append((item, keypath + (i,)))
    return result


def _parse_requires(data, keypath: tuple, errors: _Errors, known_courses, known_quizzes):
    """Requirements plus the keypaths of certificate references (checked once all codes are known)."""
    if data is None:
        return Requirements(), []
    if not isinstance(data, dict):
        errors.add(keypath, "requires 必须是“键: 值”形式的映射")
        return Requirements(), []
    _check_unknown(data, REQUIRES_KEYS, keypath, "requires ", errors)

    courses = _code_list(data.get("courses"), keypath + ("courses",), "courses 课程", errors)
    if known_courses is not None:
        for code, kp in courses:
            if code not in known_courses:
                errors.add(kp, f"课程“{code}”不存在")

    quizzes: dict[str, float] = {}
    raw_quizzes = data.get("quizzes")
    if raw_quizzes is not None and not isinstance(raw_quizzes, dict):
        errors.add(keypath + ("quizzes",), "quizzes 必须是“测验编码: 最低分”形式的映射，例如 quiz-grid-duties: 60")
    elif raw_quizzes:
        for code, score in raw_quizzes.items():
            kp = keypath + ("quizzes", code)
            if not isinstance(code, str) or not code.strip():
                errors.add(kp, f"quizzes 的键必须是测验编码，而不是“{code}”")
                continue
            if not _is_number(score) or not 0 <= score <= 100:
                errors.add(kp, f"测验“{code}”的最低分必须是 0–100 的数字，而不是“{score}”")
                continue
            if known_quizzes is not None and code not in known_quizzes:
                errors.add(kp, f"测验“{code}”不存在")
                continue
            quizzes[code] = score

    certificates = _code_list(data.get("certificates"), keypath + ("certificates",), "certificates 证书", errors)
    within = data.get("within_months")
    if within is not None and (not _is_int(within) or not 1 <= within <= 120):
        errors.add(keypath + ("within_months",),
                   f"计数时间窗（月） within_months 必须是 1–120 的整数（只计最近几个月的成绩、学时、上报、积分），而不是“{within}”")
        within = None
    requirements = Requirements(
        courses=tuple(code for code, _ in courses),
        quizzes=quizzes,
        drills_accepted=_count(data.get("drills_accepted"), keypath + ("drills_accepted",), "drills_accepted",
                               errors, integer=True),
        training_hours=_count(data.get("training_hours"), keypath + ("training_hours",), "training_hours",
                              errors, integer=False),
        mentoring_activities=_count(data.get("mentoring_activities"), keypath + ("mentoring_activities",),
                                    "mentoring_activities", errors, integer=True),
        points=_count(data.get("points"), keypath + ("points",), "points", errors, integer=True),
        certificates=tuple(code for code, _ in certificates),
        within_months=within,
    )
    return requirements, certificates


def _parse_program(index: int, data, errors: _Errors, known_courses, known_quizzes):
    keypath = ("programs", index)
    where = f"第 {index + 1} 个认证项目"
    if not isinstance(data, dict):
        errors.add(keypath, f"{where}必须是映射（包含 code、title、valid_months、requires）")
        return None, []
    ok = True
    code = data.get("code")
    if code is None:
        errors.add(keypath, f"{where}缺少 code（编码）")
        ok = False
    elif not isinstance(code, str) or not code.strip() or any(c.isspace() for c in code.strip()):
        errors.add(keypath + ("code",), f"{where}的 code 必须是不含空格的文本，而不是“{code}”")
        ok = False
    else:
        code = code.strip()
        where = f"认证项目“{code}”"
    _check_unknown(data, PROGRAM_KEYS, keypath, where, errors)

    title = data.get("title")
    if title is None:
        errors.add(keypath, f"{where}缺少 title（名称）")
        ok = False
    elif not isinstance(title, str) or not title.strip():
        errors.add(keypath + ("title",), f"{where}的 title 必须是非空文本")
        ok = False

    months = data.get("valid_months")
    if months is None:
        errors.add(keypath, f"{where}缺少 valid_months（有效期，月数）")
        ok = False
    elif not _is_int(months):
        errors.add(keypath + ("valid_months",), f"{where}的 valid_months 必须是正整数（月数），而不是“{months}”")
        ok = False
    elif months <= 0:
        kind = "负数" if months < 0 else "0"
        errors.add(keypath + ("valid_months",), f"{where}的 valid_months 必须是正整数（月数），不能是{kind}：{months}")
        ok = False

    star = data.get("star")
    if star is not None and (not _is_int(star) or not 1 <= star <= 5):
        errors.add(keypath + ("star",), f"{where}的 star（星级）必须是 1–5 的整数，而不是“{star}”")
        star = None
        ok = False

    requires, certificate_refs = _parse_requires(data.get("requires"), keypath + ("requires",), errors,
                                                 known_courses, known_quizzes)
    if not ok:
        return None, certificate_refs
    program = Program(code=code, title=title.strip(), valid_months=months, star=star, requires=requires,
                      line=errors.located.line(*keypath))
    return program, certificate_refs


def _parse_points(data, errors: _Errors) -> PointRules:
    if data is None:
        return PointRules()
    if not isinstance(data, dict):
        errors.add(("points",), "points 必须是“事件: 积分”形式的映射（" + "、".join(POINT_KEYS) + "）")
        return PointRules()
    _check_unknown(data, POINT_KEYS, ("points",), "points ", errors)
    values = {key: _count(data.get(key), ("points", key), key, errors, integer=True) for key in POINT_KEYS}
    return PointRules(**values)


def _find_cycles(graph: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """Each cycle of certificate requirements once, as a path that returns to its start."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return cycles


def parse_certifications(
    text: str,
    path: str,
    *,
    known_courses: Collection[str] | None = None,
    known_quizzes: Collection[str] | None = None,
) -> CertificationConfig:
    """Parse certifications.yaml; check course/quiz references when the known sets are given."""
    data, located = load_yaml(text, path)
    errors = _Errors(path, located)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ContentErrors([ContentError(path, 1, "文件必须是 YAML 映射，包含 programs（认证项目）和 points（积分规则）")])
    _check_unknown(data, TOP_KEYS, (), "文件顶层", errors)

    raw_programs = data.get("programs")
    programs: list[Program] = []
    refs_by_code: dict[str, list[tuple[str, tuple]]] = {}
    first_line: dict[str, int] = {}
    if raw_programs is None:
        errors.add((), "缺少 programs（认证项目列表）")
    elif not isinstance(raw_programs, list):
        errors.add(("programs",), "programs 必须是认证项目的列表（每项以“- code: …”开始）")
    else:
        for i, raw in enumerate(raw_programs):
            program, refs = _parse_program(i, raw, errors, known_courses, known_quizzes)
            if program is None:
                # Still remember its code so references to it are not reported twice.
                code = raw.get("code") if isinstance(raw, dict) else None
                if isinstance(code, str) and code.strip() and code.strip() not in first_line:
                    first_line[code.strip()] = located.line("programs", i)
                continue
            if program.code in first_line:
                errors.add(("programs", i, "code"),
                           f"认证项目编码“{program.code}”重复（第 {first_line[program.code]} 行已定义）")
                continue
            first_line[program.code] = program.line
            programs.append(program)
            refs_by_code[program.code] = refs

    for program in programs:
        for ref, kp in refs_by_code[program.code]:
            if ref == program.code:
                errors.add(kp, f"认证项目“{program.code}”不能要求持有它自己的证书")
            elif ref not in first_line:
                errors.add(kp, f"认证项目“{program.code}”要求的证书“{ref}”不存在（不是本文件中的认证项目）")

    graph = {p.code: tuple(r for r in p.requires.certificates if r != p.code) for p in programs}
    for cycle in _find_cycles(graph):
        start, nxt = cycle[0], cycle[1]
        keypath = next(kp for ref, kp in refs_by_code[start] if ref == nxt)
        errors.add(keypath, "证书要求形成循环：" + " → ".join(cycle) + "（任何人都无法取得这些证书）")

    points = _parse_points(data.get("points"), errors)
    if errors.items:
        raise ContentErrors(sorted(errors.items, key=lambda e: e.line))
    return CertificationConfig(programs=programs, points=points)


def dependency_order(programs: list[Program]) -> list[Program]:
    """Programs ordered so each comes after the programs whose certificates it requires."""
    by_code = {p.code: p for p in programs}
    ordered: list[Program] = []
    done: set[str] = set()

    def place(program: Program, seen: frozenset) -> None:
        if program.code in done or program.code in seen:
            return
        for ref in program.requires.certificates:
            if ref in by_code:
                place(by_code[ref], seen | {program.code})
        done.add(program.code)
        ordered.append(program)

    for program in programs:
        place(program, frozenset())
    return ordered

