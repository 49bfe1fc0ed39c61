"""Reachability: can a worker at each grid of the org tree meet each certification program?

See the ``program`` kind in lms/contentcheck/__init__.py for what is proved. Findings point at the
requirement's line in certifications.yaml and name the grids that cannot meet it.
"""
from __future__ import annotations

import collections

import lms.contentcheck as cfg
from lms.certification.content import COUNTED_FACTS, dependency_order
from lms.contentcheck.load import Content
from lms.contentcheck.model import Finding, OrgNode
from lms.quizzes import draw as drawing


class Tree:
    """Ancestors of each unit (itself included) and the grids."""

    def __init__(self, nodes: list[OrgNode]):
        self.parent = {n.code: n.parent for n in nodes}
        self.kind = {n.code: n.kind for n in nodes}
        self.root = next((n.code for n in nodes if n.parent is None), None)
        self.grids = [n.code for n in nodes if n.kind == "grid"]

    def ancestors(self, code: str) -> set[str]:
        result = set()
        while code is not None and code not in result:
            result.add(code)
            code = self.parent.get(code)
        return result

    def home_county(self, codes) -> str | None:
        """The county (or higher unit) holding every known code: whose workers the programs are for.

        A township's course required by a program still has to be seen by every grid of its county; only
        the grids of other counties (a provincial tree) are not the content's audience. None when no code is
        in the tree.
        """
        chains = [self.ancestors(c) for c in codes if c in self.parent]
        if not chains:
            return None
        unit = max(set.intersection(*chains), key=lambda c: len(self.ancestors(c)), default=None)
        while unit is not None and self.kind.get(unit) not in ("county", "city", "province") \
                and self.parent.get(unit) is not None:
            unit = self.parent[unit]
        return unit

    def sees(self, grid: str, org: str | None) -> bool:
        """Content of ``org`` (None = the root) is visible at ``grid``."""
        return (org or self.root) in self.ancestors(grid)


def _grid_list(grids: list[str], limit: int = 10) -> str:
    shown = "、".join(grids[:limit])
    return shown + (f" 等 {len(grids)} 个" if len(grids) > limit else "")


def _years(within_months: int | None) -> float:
    """How much of the year of normal work a window leaves (no window: the year)."""
    return min(within_months, 12) / 12 if within_months else 1.0


def quiz_problems(content: Content, code: str, minimum: float, grid: str, tree: Tree,
                  within_months: int | None) -> list[str]:
    """Why a worker at ``grid`` cannot reach ``minimum`` on quiz ``code`` (empty when they can)."""
    quiz = content.quizzes.get(code)
    if quiz is None:
        return [f"测验 {code} 不存在或无法导入"]
    problems = []
    if not tree.sees(grid, quiz.org):
        problems.append(f"测验 {code} 属于 {quiz.org}，该网格看不到")
    return problems + _quiz_rules(content, code, minimum, within_months)


def _draw_problems(content: Content, code: str) -> tuple[str, ...]:
    """check_draws of the quiz, once per content (kept on it)."""
    cache = content.__dict__.setdefault("_draw_problems", {})
    if code not in cache:
        quiz = content.quizzes[code]
        cache[code] = tuple(drawing.check_draws(list(quiz.draws),
                                                {b.code: b.questions for b in content.banks.values()}))
    return cache[code]


def _quiz_rules(content: Content, code: str, minimum: float, within_months: int | None) -> list[str]:
    """The problems of a quiz whatever the grid (draw, score, window, attempts)."""
    quiz = content.quizzes[code]
    problems = []
    draw_problems = _draw_problems(content, code)
    if draw_problems:
        problems.append(f"测验 {code} 无法组卷（{draw_problems[0]}）")
    if minimum > 100:
        problems.append(f"测验 {code} 要求 {minimum:g} 分，超过满分")
    if quiz.closes_at is not None and quiz.annual_window is None:
        problems.append(f"测验 {code} 只在 {quiz.closes_at:%Y-%m-%d} 前开放（固定考期，不是每年开放）：之后无人能达到"
                        f"；改用 annual_window 每年开放")
    if quiz.max_attempts is not None and quiz.retake_after_days is None:
        problems.append(f"测验 {code} 最多作答 {quiz.max_attempts} 次且不能补考：次数用完仍未达到 {minimum:g} 分的人"
                        f"永远无法达到；加 retake_after_days（补考等待天数）")
    if within_months and quiz.max_attempts is not None and quiz.retake_after_days is not None \
            and quiz.retake_after_days > within_months * 30:
        problems.append(f"测验 {code} 补考要等 {quiz.retake_after_days} 天，超过计数时间窗 {within_months} 个月")
    return problems


def course_problems(content: Content, code: str, grid: str, tree: Tree) -> list[str]:
    course = content.courses.get(code)
    if course is None:
        return [f"课程 {code} 不存在或无法导入"]
    problems = []
    if not tree.sees(grid, course.org_code):
        problems.append(f"课程 {code} 属于 {course.org_code}，该网格看不到")
    if course.quiz_code:
        quiz = content.quizzes.get(course.quiz_code)
        minimum = quiz.pass_score if quiz else 0
        problems += [f"课程 {code} 的测验：{p}"
                     for p in quiz_problems(content, course.quiz_code, minimum, grid, tree, None)]
    return problems


def year_of_work(content: Content, grid: str, tree: Tree, within_months: int | None) -> dict[str, float]:
    """What a worker at ``grid`` can gather in a year of normal work (or the window, when shorter)."""
    years = _years(within_months)
    courses = [c for c in content.courses.values() if tree.sees(grid, c.org_code)]
    quizzes = [q for q in content.quizzes.values() if tree.sees(grid, q.org)]
    drills = [d for d in content.drills.values() if tree.sees(grid, d.org)]
    training = cfg.TRAINING_HOURS_PER_YEAR * years
    mentoring = int(cfg.MENTORING_ACTIVITIES_PER_YEAR * years)
    rules = content.certifications.points
    # Points are not windowed: a year of work; drills pay once per drill, a quiz pass once per quiz counted.
    points = (sum(len(c.lessons) for c in courses) * rules.lesson_complete + len(quizzes) * rules.quiz_pass
              + len(drills) * rules.drill_accepted + cfg.TRAINING_HOURS_PER_YEAR * rules.training_hour
              + cfg.MENTORING_ACTIVITIES_PER_YEAR * rules.mentoring_activity)
    return {"drills": len(drills), "hours": sum(c.hours for c in courses) + training, "mentoring": mentoring,
            "points": points, "course_hours": sum(c.hours for c in courses), "training": training}


def check_programs(content: Content, nodes: list[OrgNode], figures: dict) -> list[Finding]:
    """Findings of kind ``program`` (see the module docstring of lms.contentcheck)."""
    config = content.certifications
    if config is None:
        return []
    tree = Tree(nodes)
    path, lines = content.certifications_path, content.certifications_lines
    index = {p.code: i for i, p in enumerate(config.programs)}

    def line(code: str, *keys) -> int:
        return lines.line("programs", index[code], *keys) if lines else 1

    # (line, reason) -> grids that fail it
    failures: dict[tuple[int, str], list[str]] = collections.defaultdict(list)
    ordered = dependency_order(config.programs)
    content_orgs = {c.org_code or tree.root for c in content.courses.values()} | \
        {q.org or tree.root for q in content.quizzes.values()} | {d.org or tree.root for d in content.drills.values()}
    # The programs are for the workers of the unit the content belongs to (the county): in a province, the
    # grids of other counties never see this county's courses and are not its programs' audience.
    home = tree.home_county(content_orgs)
    grids = [g for g in tree.grids if home is None or home in tree.ancestors(g)]
    reachable: dict[str, set[str]] = {grid: set() for grid in grids}
    # Grids that see the same content units give the same answers: check one of each kind.
    groups: dict[frozenset, list[str]] = collections.defaultdict(list)
    for grid in grids:
        groups[frozenset(tree.ancestors(grid) & content_orgs)].append(grid)
    for members in groups.values():
        grid = members[0]
        for program in ordered:
            req, code = program.requires, program.code
            problems: list[tuple[int, str]] = []
            for i, course in enumerate(req.courses):
                problems += [(line(code, "requires", "courses", i), p)
                             for p in course_problems(content, course, grid, tree)]
            for quiz, minimum in req.quizzes.items():
                problems += [(line(code, "requires", "quizzes", quiz), p)
                             for p in quiz_problems(content, quiz, minimum, grid, tree, req.within_months)]
            for i, cert in enumerate(req.certificates):
                if cert not in reachable[grid]:
                    problems.append((line(code, "requires", "certificates", i), f"要求的证书 {cert} 在该网格本身无法取得"))
            year = year_of_work(content, grid, tree, req.within_months)
            window = f"{req.within_months} 个月内" if req.within_months else "一年内"
            if req.drills_accepted > year["drills"]:
                problems.append((line(code, "requires", "drills_accepted"),
                                 f"要求 {req.drills_accepted} 个不同的模拟上报演练被采纳，该网格只看得到 {year['drills']} 个演练"))
            if req.training_hours > year["hours"] + 1e-9:
                problems.append((line(code, "requires", "training_hours"),
                                 f"要求 {req.training_hours:g} 学时，{window}最多 {year['hours']:g} 学时"
                                 f"（可见课程 {year['course_hours']:g} + 线下培训 {year['training']:g}）"))
            if req.mentoring_activities > year["mentoring"]:
                problems.append((line(code, "requires", "mentoring_activities"),
                                 f"要求 {req.mentoring_activities} 次老带新活动，{window}按正常工作最多 {year['mentoring']} 次"))
            if req.points > year["points"]:
                problems.append((line(code, "requires", "points"),
                                 f"要求 {req.points} 积分，一年正常工作最多约 {year['points']:g} 分"))
            for key, reason in problems:
                failures[(key, f"认证项目 {code}：{reason}")].extend(members)
            if not problems:
                for member in members:
                    reachable[member].add(code)

    findings = [Finding(path, key, "program", f"{reason}（无法达成的网格：{_grid_list(sorted(grids))}）",
                        blocking=True)
                for (key, reason), grids in failures.items()]
    for program in config.programs:
        req = program.requires
        counted = any(getattr(req, name) for name in COUNTED_FACTS)
        if program.star and counted and req.within_months is None:
            findings.append(Finding(path, line(program.code), "program",
                                    f"认证项目 {program.code} 有效期 {program.valid_months} 个月，但计数条件不限时间："
                                    f"到期续发时仍按多年前的成绩和次数，等于永久有效；加 within_months", blocking=True))
    total = len(grids) * len(config.programs)
    met = sum(len(codes) for codes in reachable.values())
    figures["认证项目 × 网格 可达成"] = f"{met}/{total}"
    return findings
