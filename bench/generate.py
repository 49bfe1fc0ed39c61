"""County-scale data for the benchmarks: org tree and workers with ONE reused password hash.

Hashing 2,000 (or 200,000) passwords at argon2id's production cost would take
minutes to hours; every generated worker gets the same hash of BENCH_PASSWORD.
Feature data (progress, attempts) is added by the generators in FEATURE_GENERATORS.
"""
from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from lms.accounts.models import OrgMembership, Role, RoleGrant, User
from lms.accounts.passwords import hash_password
from lms.db import utcnow
from lms.extensions import db
from lms.org.models import GridType, OrgKind, OrgUnit
from lms.org.queries import get_org
from lms.org.services import create_org

BENCH_PASSWORD = "Bench-Pass-2026"


def ensure_orgs(townships: int, villages: int, grids: int) -> list[OrgUnit]:
    """Extra townships/villages/grids under the demo county HX; returns every grid."""
    county = get_org("HX")
    grids_out = []
    for t in range(1, townships + 1):
        town = get_org(f"B{t:02d}") or create_org(f"B{t:02d}", f"测试镇{t}", OrgKind.township, county)
        for v in range(1, villages + 1):
            code = f"B{t:02d}{v:02d}"
            village = get_org(code) or create_org(code, f"测试镇{t}第{v}村", OrgKind.village, town)
            for g in range(1, grids + 1):
                gcode = f"{code}{g:02d}"
                grid = get_org(gcode) or create_org(gcode, f"{village.name}网格{g}", OrgKind.grid, village, 300,
                                                    GridType.rural)
                grids_out.append(grid)
    db.session.flush()
    return grids_out


def generate_workers(count: int, grids: list[OrgUnit], rng: random.Random, batch: int = 5000) -> list[str]:
    """count workers spread over grids, bulk-inserted; returns their usernames."""
    password_hash = hash_password(BENCH_PASSWORD)
    now = utcnow()
    usernames = []
    for start in range(0, count, batch):
        rows = []
        for i in range(start, min(count, start + batch)):
            grid = grids[i % len(grids)]
            username = f"bw{i:06d}"
            usernames.append(username)
            rows.append({"username": username, "name": f"测试员{i}", "org_id": grid.id,
                         "birth_date": dt.date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                         "education": rng.choice(["高中", "中专", "大专", "本科"]),
                         "hired_on": dt.date(2010 + rng.randrange(16), 3, 1), "status": "active",
                         "password_hash": password_hash, "must_change_password": False, "is_demo": True,
                         "created_at": now})
        db.session.execute(sa.insert(User), rows)
        ids = dict(db.session.execute(sa.select(User.username, User.id)
                                      .where(User.username.in_([r["username"] for r in rows]))).all())
        org_of = {r["username"]: r["org_id"] for r in rows}
        db.session.execute(sa.insert(RoleGrant), [{"user_id": ids[u], "role": Role.worker, "org_id": org_of[u]}
                                                  for u in ids])
        db.session.execute(sa.insert(OrgMembership), [{"user_id": ids[u], "org_id": org_of[u], "started_at": now}
                                                      for u in ids])
    return usernames


#: name -> fn(usernames, rng) adding feature data; features append theirs as they land
FEATURE_GENERATORS: dict = {}


def generate(workers: int, seed: int = 7) -> list[str]:
    """The whole county: orgs, workers, then every feature generator; commits."""
    rng = random.Random(seed)
    townships = max(1, min(20, workers // 400))
    grids = ensure_orgs(townships, 5, 4)
    usernames = generate_workers(workers, grids, rng)
    db.session.commit()
    for name, fn in FEATURE_GENERATORS.items():
        fn(usernames, rng)
        db.session.commit()
    return usernames


# County content (issue #8): 30 courses with lessons, 2,000 questions, 20,000 graded attempts. Courses and
# questions are written as files and go through `content import` like shipped content (lesson HTML, versions,
# hashes made by the real importer); attempts are bulk-inserted.

LESSON_BODY = "\n\n".join(f"## 第 {k} 节\n\n网格员每天走访辖区，发现问题及时上报。" * 3 for k in range(4))
QUESTION_KINDS = (
    ("single", "options: {A: 劝导清理并上报, B: 视而不见, C: 自行处罚, D: 拍照发朋友圈}", "A"),
    ("multiple", "options: {A: 核实情况, B: 及时上报, C: 隐瞒不报, D: 做好记录}", "[A, B, D]"),
    ("judge", None, "true"),
)


def write_courses(folder, count: int, lessons: int, prefix: str = "gen", level: str = "county",
                  org: str = "HX") -> int:
    """count courses of `lessons` Markdown lessons each under folder/<prefix>-NNN; returns the lessons written."""
    from pathlib import Path

    for c in range(count):
        course = Path(folder) / f"{prefix}-{c:03d}"
        course.mkdir(parents=True)
        (course / "course.md").write_text(f"---\ncode: {prefix}-{c:03d}\ntitle: 生成课程 {c}\nlevel: {level}\n"
                                          f"org: {org}\nhours: 2\ntags: [生成]\n---\n这是基准测试生成的课程 {c}。\n",
                                          encoding="utf-8")
        for n in range(1, lessons + 1):
            (course / f"{n:02d}-part-{n}.md").write_text(f"---\ntitle: 第 {n} 课\nminutes: 8\n---\n{LESSON_BODY}\n",
                                                       encoding="utf-8")
    return count * lessons


def write_bank(path, code: str, count: int, org: str = "HX", kinds=QUESTION_KINDS[:1]) -> None:
    """One YAML bank of count questions, the kinds taken in turn (single only unless told)."""
    from pathlib import Path

    lines = [f"bank: {code}", f"title: 生成题库 {code}", f"org: {org}", "questions:"]
    for q in range(count):
        kind, options, answer = kinds[q % len(kinds)]
        lines += [f"  - id: {code}-{q:05d}", f"    type: {kind}",
                  f"    stem: 第 {q} 题：网格员发现消防通道被占用，应当怎么做？"]
        lines += [f"    {options}"] if options else []
        lines += [f"    answer: {answer}", "    explanation: 先劝导，劝导无效及时上报。",
                  "    source: 《中华人民共和国消防法》第二十八条", "    difficulty: 2", "    tags: [消防]"]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def shipped_counts(courses_dir, questions_dir) -> tuple[int, int]:
    """(courses, questions) in content folders as shipped: what the county generator tops up."""
    from pathlib import Path

    import yaml

    courses = sum(1 for p in Path(courses_dir).glob("*/course.md"))
    questions = 0
    for bank in Path(questions_dir).glob("*.yaml"):
        data = yaml.safe_load(bank.read_text(encoding="utf-8")) or {}
        questions += len(data.get("questions") or [])
    return courses, questions


def write_county_content(courses_dir, questions_dir, courses: int = 30, questions: int = 2000,
                         lessons_per_course: int = 8) -> dict:
    """Top up content folders (copies of the shipped ones) to `courses` county courses and `questions` questions."""
    from pathlib import Path

    have_courses, have_questions = shipped_counts(courses_dir, questions_dir)
    new_courses, new_questions = max(0, courses - have_courses), max(0, questions - have_questions)
    lessons = write_courses(courses_dir, new_courses, lessons_per_course, prefix="county-gen")
    if new_questions:
        write_bank(Path(questions_dir) / "county-gen.yaml", "county-gen", new_questions, kinds=QUESTION_KINDS)
    return {"courses": have_courses + new_courses, "generated_courses": new_courses, "generated_lessons": lessons,
            "questions": have_questions + new_questions, "generated_questions": new_questions}


def generate_attempts(total: int, rng: random.Random, exclude: tuple[str, ...] = ("bench-",)) -> int:
    """total graded attempts spread evenly over the generated workers (bw…) and the published quizzes; commits.

    Attempt numbers run 1.. per worker and quiz, never past a quiz's limit (3 when unlimited). The bench's own
    quizzes (codes starting with `exclude`) stay untouched for the live rows. Returns the rows inserted.
    """
    from bench.province import Loader
    from lms.quizzes.models import Attempt, AttemptStatus, Quiz

    people = db.session.execute(sa.select(User.id, User.org_id).where(User.username.like("bw%"))
                                .order_by(User.id)).all()
    quizzes = [q for q in db.session.execute(
        sa.select(Quiz.id, Quiz.code, Quiz.pass_score, Quiz.time_limit_minutes, Quiz.max_attempts)
        .where(Quiz.is_retired.is_(False)).order_by(Quiz.code)).all() if not q.code.startswith(exclude)]
    if not total or not people or not quizzes:
        return 0
    slots = [(q, n) for n in range(1, 4) for q in quizzes if n <= (q.max_attempts or 3)]
    if total > len(people) * len(slots):
        raise SystemExit(f"{total} attempts do not fit {len(people)} workers × {len(slots)} quiz slots")
    now = utcnow()
    loader = Loader(db.session)
    ids = iter(loader.ids(Attempt.__table__, total))

    def rows():
        for i in range(total):
            uid, org_id = people[i % len(people)]
            # A worker's k-th attempt takes the k-th slot: first attempts at every quiz, then second ones.
            quiz, number = slots[i // len(people)]
            graded = now - dt.timedelta(days=rng.randrange(365), minutes=rng.randrange(24 * 60))
            score = float(rng.randrange(20, 101, 5))
            yield (next(ids), quiz.id, uid, org_id, number, AttemptStatus.submitted,
                   graded - dt.timedelta(minutes=20), graded + dt.timedelta(minutes=quiz.time_limit_minutes - 20),
                   graded, graded, score, score >= quiz.pass_score, [], {})

    count = loader.load(Attempt.__table__, ["id", "quiz_id", "user_id", "org_id", "number", "status", "started_at",
                                            "deadline", "submitted_at", "graded_at", "score", "passed", "paper",
                                            "marks"], rows())
    loader.sync_sequences()
    db.session.commit()
    return count
