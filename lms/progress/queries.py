"""Who has (not) finished: one course, quiz, certification program or assignment, every person in scope.

Set-based: the people in one statement, then one grouped statement per fact
(enrolments, lessons done, quiz attempts; for a program each requirement
kind), never one query per person. The status of each person is computed
here once, and the page, the JSON, the export, the reminders and the
statistics' figures (course_figures, quiz_figures) all read these functions,
so every figure agrees.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from lms.accounts.models import Role, RoleGrant, User, UserStatus
from lms.accounts.permissions import Permission, scope_clause
from lms.courses.models import Assignment, Course, CourseEnrollment, Lesson, LessonProgress
from lms.db import SHANGHAI
from lms.extensions import db
from lms.org.models import OrgUnit, subtree_clause
from lms.quizzes.models import Attempt, AttemptStatus, Quiz

KINDS = ("course", "quiz", "program", "assignment")
KIND_LABELS = {"course": "课程", "quiz": "测验", "program": "认证项目", "assignment": "指派"}
STATUSES = ("not_started", "in_progress", "done", "overdue")
STATUS_LABELS = {"not_started": "未开始", "in_progress": "学习中", "done": "已完成", "overdue": "已逾期"}
GRADED = (AttemptStatus.submitted, AttemptStatus.closed)
#: roles counted as the people a certification program is for (as the certified share counts them)
PROGRAM_ROLES = (Role.worker, Role.grid_leader)


@dataclasses.dataclass(frozen=True)
class Target:
    """What the progress is of: a course, a quiz, a program, or one assignment (of a course or a quiz)."""

    kind: str
    code: str
    title: str
    course: Course | None = None
    quiz: Quiz | None = None
    program: object | None = None
    assignment: Assignment | None = None

    @property
    def label(self) -> str:
        """'课程《…》', '指派：测验《…》（截止 12月20日）' — the target as people name it."""
        if self.assignment is not None:
            what = f"课程《{self.title}》" if self.course is not None else f"测验《{self.title}》"
            return f"指派：{what}，截止 {self.assignment.due_on.month}月{self.assignment.due_on.day}日"
        return f"{KIND_LABELS[self.kind]}《{self.title}》"


@dataclasses.dataclass
class Row:
    """One person's progress on the target."""

    user_id: int
    username: str
    name: str
    org_id: int
    org_code: str
    org_name: str
    org_path: str
    status: str = "not_started"
    done: int = 0
    total: int | None = None
    best_score: float | None = None
    due: dt.date | None = None
    #: the last activity as the driver returned it (see _raw_time); read it through last_activity
    last_raw: object = None
    #: completion time (courses, programs: issue day) or first pass (quizzes); None while not done
    finished_at: object = None

    @property
    def last_activity(self) -> dt.datetime | None:
        """The person's last activity on the target (aware UTC), or None."""
        return aware(self.last_raw)


def local_today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def resolve_target(kind: str, code: str) -> Target | None:
    """The target of kind with that code (an assignment's code is its id), or None."""
    if kind == "course":
        course = db.session.scalar(sa.select(Course).where(Course.code == code))
        return Target("course", course.code, course.title, course=course) if course else None
    if kind == "quiz":
        quiz = db.session.scalar(sa.select(Quiz).where(Quiz.code == code))
        return Target("quiz", quiz.code, quiz.title, quiz=quiz) if quiz else None
    if kind == "program":
        from lms.certification.models import Program  # after courses and quizzes in the feature order
        program = db.session.scalar(sa.select(Program).where(Program.code == code))
        return Target("program", program.code, program.title, program=program) if program else None
    if kind == "assignment":
        if not code.isdigit() or len(code) > 12:
            return None
        assignment = db.session.get(Assignment, int(code))
        if assignment is None:
            return None
        if assignment.course_id is not None:
            course = assignment.course
            return Target("assignment", code, course.title, course=course, assignment=assignment)
        quiz = db.session.scalar(sa.select(Quiz).where(Quiz.code == assignment.quiz_code))
        return Target("assignment", code, quiz.title if quiz else assignment.quiz_code, quiz=quiz,
                      assignment=assignment)
    return None


def _people_conditions(actor, org: OrgUnit | None, unit):
    conditions = [User.status == UserStatus.active, scope_clause(actor, Permission.VIEW_PROGRESS, unit.path)]
    if org is not None:
        conditions.append(subtree_clause(unit.path, org.path))
    return conditions


def _assignment_filter(target: Target):
    if target.assignment is not None:
        return Assignment.id == target.assignment.id
    if target.course is not None:
        return Assignment.course_id == target.course.id
    return Assignment.quiz_code == target.quiz.code


def _people(actor, target: Target, org: OrgUnit | None) -> dict[int, Row]:
    """Everyone the target reaches in scope: assigned people (their earliest due day) and, for a course or a quiz
    itself, people who started it without an assignment."""
    unit, assigned_unit = aliased(OrgUnit), aliased(OrgUnit)
    base = (sa.select(User.id, User.username, User.name, unit.id, unit.code, unit.name, unit.path)
            .join(unit, unit.id == User.org_id).where(*_people_conditions(actor, org, unit)))
    people: dict[int, Row] = {}
    if target.kind == "program":
        worker_roles = [sa.literal(role, RoleGrant.role.type) for role in PROGRAM_ROLES]
        query = base.where(sa.exists().where(RoleGrant.user_id == User.id, RoleGrant.role.in_(worker_roles)))
        for uid, username, name, org_id, code, org_name, path in _run(query):
            people[uid] = Row(uid, username, name, org_id, code, org_name, path)
        return people
    holds_role = sa.exists().where(RoleGrant.user_id == User.id, RoleGrant.role == Assignment.role)
    assigned = (base.add_columns(sa.func.min(Assignment.due_on))
                .join(Assignment, _assignment_filter(target))
                .join(assigned_unit, assigned_unit.id == Assignment.org_id)
                # the person's unit lies in the assignment's subtree; a role-bound assignment reaches its holders
                .where(unit.path >= assigned_unit.path, unit.path < assigned_unit.path + "~",
                       sa.or_(Assignment.role.is_(None), holds_role))
                # grouped by the two keys (their other columns depend on them): a smaller sort than all seven
                .group_by(User.id, unit.id))
    for uid, username, name, org_id, code, org_name, path, due in _run(assigned):
        people[uid] = Row(uid, username, name, org_id, code, org_name, path, due=_date(due))
    if target.assignment is None:
        if target.course is not None:
            started = sa.exists().where(CourseEnrollment.user_id == User.id,
                                        CourseEnrollment.course_id == target.course.id)
        else:
            started = sa.exists().where(Attempt.user_id == User.id, Attempt.quiz_id == target.quiz.id)
        # Usually all of them were assigned: ids first, names only for those who were not.
        others = [uid for (uid,) in _run(base.with_only_columns(User.id).where(started)) if uid not in people]
        for chunk in range(0, len(others), 500):
            for uid, username, name, org_id, code, org_name, path in _run(
                    base.where(User.id.in_(others[chunk:chunk + 500]))):
                people[uid] = Row(uid, username, name, org_id, code, org_name, path)
    return people


def _run(statement):
    """Rows of a Core statement on the session's connection: plain tuples, no ORM loading per row."""
    if db.session.autoflush:
        db.session.flush()  # the Core connection does not autoflush like session.execute
    return db.session.connection().execute(statement)


def _raw_time(column):
    """A UTC datetime column as the driver returns it (ISO text on SQLite, naive datetime on PostgreSQL): 2,000
    rows' conversions are a third of the page's time; aware() converts the few that are shown."""
    return sa.type_coerce(column, sa.String)


def aware(value) -> dt.datetime | None:
    """A raw UTC time (see _raw_time), or an aware datetime, as an aware UTC datetime."""
    if value is None or isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc)


def _date(value):
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date()


def _later(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _in_people(actor, org, user_column):
    """user_column restricted to active people in scope (and org): a semi-join instead of a long IN list."""
    unit = aliased(OrgUnit)
    return user_column.in_(sa.select(User.id).join(unit, unit.id == User.org_id)
                           .where(*_people_conditions(actor, org, unit)))


def _course_facts(actor, org, course: Course, people: dict[int, Row]) -> None:
    lessons_total = db.session.scalar(sa.select(sa.func.count()).where(Lesson.course_id == course.id,
                                                                       ~Lesson.is_retired)) or 0
    for row in people.values():
        row.total = lessons_total
    # Opening or completing a lesson sets the enrolment's last_opened_at: the last activity in the course.
    enrolments = _run(
        sa.select(CourseEnrollment.user_id,
                  _raw_time(sa.func.coalesce(CourseEnrollment.last_opened_at, CourseEnrollment.started_at)),
                  _raw_time(CourseEnrollment.completed_at))
        .where(CourseEnrollment.course_id == course.id, _in_people(actor, org, CourseEnrollment.user_id)))
    for uid, opened, completed in enrolments:
        row = people.get(uid)
        if row is None:
            continue
        row.last_raw = opened
        row.finished_at = completed
        row.status = "done" if completed is not None else "in_progress"
    lessons = _run(
        sa.select(LessonProgress.user_id, sa.func.count(LessonProgress.completed_at))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.course_id == course.id, ~Lesson.is_retired,
               _in_people(actor, org, LessonProgress.user_id))
        .group_by(LessonProgress.user_id))
    for uid, done in lessons:
        row = people.get(uid)
        if row is not None:
            row.done = int(done or 0)
    if course.quiz_code:
        quiz = db.session.scalar(sa.select(Quiz).where(Quiz.code == course.quiz_code))
        if quiz is not None:
            best = _run(sa.select(Attempt.user_id, sa.func.max(Attempt.score))
                        .where(Attempt.quiz_id == quiz.id, Attempt.status.in_(GRADED),
                               _in_people(actor, org, Attempt.user_id))
                        .group_by(Attempt.user_id))
            for uid, score in best:
                row = people.get(uid)
                if row is not None and score is not None:
                    row.best_score = float(score)


def _quiz_facts(actor, org, quiz: Quiz, people: dict[int, Row]) -> None:
    graded = Attempt.status.in_(GRADED)
    query = (sa.select(Attempt.user_id, sa.func.count(sa.case((graded, 1))),
                       sa.func.max(sa.case((graded, Attempt.score))),
                       sa.func.max(sa.case((sa.and_(graded, Attempt.passed.is_(True)), 1), else_=0)),
                       _raw_time(sa.func.max(sa.func.coalesce(Attempt.graded_at, Attempt.started_at))))
             .where(Attempt.quiz_id == quiz.id, _in_people(actor, org, Attempt.user_id))
             .group_by(Attempt.user_id))
    for uid, attempts, best, passed, last in _run(query):
        row = people.get(uid)
        if row is None:
            continue
        row.best_score = float(best) if best is not None else None
        row.last_raw = last
        row.done = int(attempts or 0)
        row.status = "done" if passed else "in_progress"
    for row in people.values():
        row.total = quiz.max_attempts


def _program_facts(actor, org, program, people: dict[int, Row], today: dt.date) -> None:
    """Each person's requirements met, through the certification rules themselves (facts gathered per kind)."""
    # After the earlier features in the order; certification and points are optional features.
    from lms.certification.models import Certificate, CertificateStatus, Program
    from lms.certification.queries import as_rule_program
    from lms.certification.rules import HolderFacts, evaluate

    rule_program = as_rule_program(program)
    req = rule_program.requires
    ids = lambda column: _in_people(actor, org, column)  # noqa: E731
    completed: dict[int, set] = {}
    hours: Counter = Counter()
    if req.courses or req.training_hours:
        query = (sa.select(CourseEnrollment.user_id, Course.code, Course.hours)
                 .join(Course, Course.id == CourseEnrollment.course_id)
                 .where(CourseEnrollment.completed_at.is_not(None), ids(CourseEnrollment.user_id)))
        if not req.training_hours:
            query = query.where(Course.code.in_(req.courses))
        for uid, code, course_hours in db.session.execute(query):
            completed.setdefault(uid, set()).add(code)
            hours[uid] += float(course_hours or 0)
    scores: dict[int, dict] = {}
    if req.quizzes:
        for uid, code, best in db.session.execute(
                sa.select(Attempt.user_id, Quiz.code, sa.func.max(Attempt.score)).join(Quiz, Quiz.id == Attempt.quiz_id)
                .where(Attempt.status.in_(GRADED), Attempt.score.is_not(None), Quiz.code.in_(list(req.quizzes)),
                       ids(Attempt.user_id))
                .group_by(Attempt.user_id, Quiz.code)):
            scores.setdefault(uid, {})[code] = float(best)
    drills: dict[int, int] = {}
    if req.drills_accepted:
        from lms.drills.models import DrillReport, Verdict
        drills = dict(db.session.execute(
            sa.select(DrillReport.user_id, sa.func.count(sa.distinct(DrillReport.drill_id)))
            .where(DrillReport.verdict == Verdict.accepted, ids(DrillReport.user_id)).group_by(DrillReport.user_id)).all())
    if req.training_hours:
        from lms.trainings.models import Attendance, Training
        for uid, attended in db.session.execute(
                sa.select(Attendance.user_id, sa.func.sum(Training.hours))
                .join(Training, Training.id == Attendance.training_id)
                .where(Training.is_cancelled.is_(False), ids(Attendance.user_id)).group_by(Attendance.user_id)):
            hours[uid] += float(attended or 0)
    mentoring: Counter = Counter()
    if req.mentoring_activities:
        from lms.mentoring.models import Activity, ActivityStatus, Pairing
        for mentee, mentor in db.session.execute(
                sa.select(Activity.mentee_id, Pairing.mentor_id).join(Pairing, Pairing.id == Activity.pairing_id)
                .where(Activity.status == ActivityStatus.confirmed,
                       sa.or_(ids(Activity.mentee_id), ids(Pairing.mentor_id)))):
            mentoring[mentee] += 1
            if mentor != mentee:
                mentoring[mentor] += 1
    points: dict[int, int] = {}
    if req.points:
        from lms.points.models import PointEntry
        points = dict(db.session.execute(
            sa.select(PointEntry.user_id, sa.func.sum(PointEntry.points))
            .where(ids(PointEntry.user_id)).group_by(PointEntry.user_id)).all())
    valid: dict[int, set] = {}
    issued: dict[int, dt.date] = {}
    valid_now = sa.and_(Certificate.status == CertificateStatus.valid, Certificate.issued_on <= today,
                        Certificate.expires_on >= today)
    for uid, code, issued_on in db.session.execute(
            sa.select(Certificate.holder_id, Program.code, Certificate.issued_on)
            .join(Program, Program.id == Certificate.program_id)
            .where(valid_now, ids(Certificate.holder_id))):
        valid.setdefault(uid, set()).add(code)
        if code == program.code:
            issued[uid] = _later(issued.get(uid), _date(issued_on))
    for uid, row in people.items():
        facts = HolderFacts(completed_courses=frozenset(completed.get(uid, ())), quiz_scores=scores.get(uid, {}),
                            drills_accepted=int(drills.get(uid, 0) or 0), training_hours=hours.get(uid, 0.0),
                            mentoring_activities=mentoring.get(uid, 0), points=int(points.get(uid, 0) or 0),
                            valid_certificates=frozenset(valid.get(uid, ())))
        evaluation = evaluate(rule_program, facts)
        row.total = len(evaluation.items)
        row.done = sum(1 for item in evaluation.items if item.met)
        if uid in issued:
            row.status = "done"
            row.finished_at = dt.datetime.combine(issued[uid], dt.time(), SHANGHAI)
            row.last_raw = row.finished_at
        elif row.done:
            row.status = "in_progress"


def progress_rows(actor, target: Target, org: OrgUnit | None = None, *, today: dt.date | None = None) -> list[Row]:
    """Every person in actor's scope (and under org) whom target concerns, with status; by unit, then 工号."""
    today = today or local_today()
    people = _people(actor, target, org)
    if people:
        if target.course is not None:
            _course_facts(actor, org, target.course, people)
        elif target.quiz is not None:
            _quiz_facts(actor, org, target.quiz, people)
        elif target.program is not None:
            _program_facts(actor, org, target.program, people, today)
    for row in people.values():
        if row.status != "done" and row.due is not None and row.due < today:
            row.status = "overdue"
    return sorted(people.values(), key=lambda r: (r.org_path, r.username))


def summarize(rows: list[Row]) -> dict:
    """{not_started, in_progress, done, overdue}: how many rows hold each status."""
    counts = Counter(row.status for row in rows)
    return {status: counts.get(status, 0) for status in STATUSES}


def filter_rows(rows: list[Row], status: str | None) -> list[Row]:
    """The rows of one status (None: all; 'unfinished': all but done)."""
    if not status:
        return rows
    if status == "unfinished":
        return [row for row in rows if row.status != "done"]
    return [row for row in rows if row.status == status]


def targets_in_scope(actor) -> dict[str, list[tuple[str, str]]]:
    """For the picker: {kind: [(code, title)]} — courses and quizzes assigned in or above actor's scope first."""
    courses = [tuple(r) for r in _run(sa.select(Course.code, Course.title)
                                      .where(Course.is_published, ~Course.is_retired).order_by(Course.level, Course.code))]
    quizzes = [tuple(r) for r in _run(sa.select(Quiz.code, Quiz.title).where(~Quiz.is_retired).order_by(Quiz.code))]
    programs = []
    try:
        from lms.certification.models import Program  # optional feature, later in the order
        programs = [tuple(r) for r in _run(sa.select(Program.code, Program.title)
                                           .where(~Program.is_retired).order_by(Program.position, Program.code))]
    except ImportError:  # pragma: no cover - certification always installed in this build
        pass
    return {"course": courses, "quiz": quizzes, "program": programs}


# --- the statistics' figures ---------------------------------------------------------------------------------

def course_figures(org: OrgUnit, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """Course completion of org's subtree: assigned learner-course pairs whose assignment is due in [start, end],
    those completed before the period's end, the rate (0.0 with nothing assigned: pages show 无数据).

    The same pairing as the progress page: today's active members under the assignment's unit, a role-bound
    assignment only for the role's holders. /stats, the dashboard and the statistics export read this.
    """
    from lms.courses.queries import course_stats  # the one statement; built once there with bind parameters

    return course_stats(org, start, end)


def course_detail(org: OrgUnit, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """{"due_later": pairs due after the period} for the requested unit: they count in the period they are due in."""
    from lms.courses.queries import course_stats

    if end is None:
        return {"due_later": 0}
    return {"due_later": int(course_stats(org, end + dt.timedelta(days=1), None)["assigned"] or 0)}


def quiz_figures(org: OrgUnit, start=None, end=None) -> dict:
    """Graded attempts in [start, end] by people whose unit (at the time) lay in org's subtree, passed, rate."""
    from lms.quizzes.queries import quiz_stats  # the quizzes feature's statement

    return quiz_stats(org, start, end)


def assigned_targets(org: OrgUnit, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
    """Courses and quizzes assigned to org, a unit above it or one inside it (due in [start, end] when given):
    [{kind, code, title}], for links from the statistics to each one's progress."""
    ancestors = [int(part) for part in org.path.strip("/").split("/") if part]
    unit = aliased(OrgUnit)
    query = (sa.select(Assignment.course_id, Assignment.quiz_code).join(unit, unit.id == Assignment.org_id)
             .where(sa.or_(unit.id.in_(ancestors), subtree_clause(unit.path, org.path))).distinct())
    if start is not None:
        query = query.where(Assignment.due_on >= start)
    if end is not None:
        query = query.where(Assignment.due_on <= end)
    pairs = db.session.execute(query).all()
    course_ids = {c for c, _ in pairs if c is not None}
    quiz_codes = {q for _, q in pairs if q is not None}
    out = [{"kind": "course", "code": c.code, "title": c.title} for c in db.session.scalars(
        sa.select(Course).where(Course.id.in_(course_ids)).order_by(Course.code))] if course_ids else []
    if quiz_codes:
        out += [{"kind": "quiz", "code": q.code, "title": q.title} for q in db.session.scalars(
            sa.select(Quiz).where(Quiz.code.in_(quiz_codes)).order_by(Quiz.code))]
    return out
