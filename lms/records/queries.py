"""Reads of the 学时档案 (training record): one person's record, and per-person totals for a filtered set.

Set-based throughout: each section of a record is one statement; the totals of
a county are one statement of grouped subqueries joined to the people, so an
export of 2,000 people costs the same handful of statements as one of twenty.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from lms.accounts.models import Role, RoleGrant, User, UserStatus
from lms.accounts.permissions import ROLE_PERMISSIONS, Permission, can, scope_clause
from lms.certification.models import STATUS_LABELS as CERTIFICATE_STATUS_LABELS
from lms.certification.models import Certificate, CertificateStatus, Program
from lms.courses.models import LEVEL_LABELS, Course, CourseEnrollment, CourseLevel, Lesson, LessonProgress
from lms.db import SHANGHAI, utcnow
from lms.drills.models import Drill, DrillReport, Verdict
from lms.extensions import db
from lms.mentoring.models import Activity, ActivityStatus, Pairing, PairingMentee
from lms.org.models import OrgUnit, subtree_clause
from lms.points.models import PointEntry
from lms.quizzes.models import Attempt, AttemptGrant, AttemptStatus, Quiz
from lms.trainings.models import Attendance, Training

P = Permission
#: who reads someone else's record: those who see the people (hr, trainer, admin), in scope; never a grid leader
VIEW_RECORD = P.VIEW_USERS
#: who exports the records of a filtered set
EXPORT_RECORDS = P.EXPORT
GRADED = (AttemptStatus.submitted, AttemptStatus.closed)
#: roles that learn: a record set lists the people holding one of them
LEARNER_ROLES = tuple(role for role, perms in ROLE_PERMISSIONS.items() if P.LEARN in perms and role is not Role.admin)
LEVELS = (CourseLevel.county, CourseLevel.township, CourseLevel.village)
MENTORING_ROLE_LABELS = {"mentor": "带教师傅", "mentee": "徒弟"}

TOTAL_COLUMNS = ("姓名", "工号", "乡镇(街道)", "村(社区)", "网格", "入职日期", "县训课程学时", "乡培课程学时",
                 "村练课程学时", "线下培训学时", "合计学时", "完成课程数", "通过测验数", "采纳模拟上报数",
                 "老带新活动（已确认）", "有效证书数", "积分", "星级")
TOTAL_WIDTHS = (10, 12, 14, 14, 16, 12, 12, 12, 12, 12, 10, 10, 10, 12, 14, 10, 8, 6)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(SHANGHAI).date()


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(SHANGHAI) if value is not None else None


def get_person(username: str) -> User | None:
    """The account with that 工号, or None."""
    return db.session.scalar(sa.select(User).where(User.username == username))


def may_view(actor, user: User) -> bool:
    """The person themself, or someone who sees learners' progress over the person's unit."""
    return getattr(actor, "id", None) == user.id or can(actor, VIEW_RECORD, user)


# --- one person ------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Record:
    """A person's 学时档案 as plain values (the page, the PDF, the XLSX and the JSON all read this)."""

    user: dict
    as_of: dt.date
    courses: list[dict]
    trainings: list[dict]
    quizzes: list[dict]
    drills: list[dict]
    mentoring: list[dict]
    certificates: list[dict]
    points: int
    star: int
    totals: dict


def _courses(user_id: int) -> list[dict]:
    lessons = (sa.select(Lesson.course_id, sa.func.count(Lesson.id).label("n")).where(Lesson.is_retired.is_(False))
               .group_by(Lesson.course_id).subquery())
    done = (sa.select(LessonProgress.course_id, sa.func.count(LessonProgress.id).label("n"))
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.user_id == user_id, LessonProgress.completed_at.is_not(None),
                   Lesson.is_retired.is_(False))
            .group_by(LessonProgress.course_id).subquery())
    rows = db.session.execute(
        sa.select(Course.code, Course.title, Course.level, Course.hours, CourseEnrollment.started_at,
                  CourseEnrollment.completed_at, sa.func.coalesce(done.c.n, 0), sa.func.coalesce(lessons.c.n, 0))
        .join(Course, Course.id == CourseEnrollment.course_id)
        .outerjoin(lessons, lessons.c.course_id == Course.id).outerjoin(done, done.c.course_id == Course.id)
        .where(CourseEnrollment.user_id == user_id)
        .order_by(CourseEnrollment.completed_at.is_(None), CourseEnrollment.started_at, Course.id)).all()
    return [{"code": code, "title": title, "level": CourseLevel(level).value,
             "level_label": LEVEL_LABELS.get(CourseLevel(level), ""), "started": _local(started),
             "completed": _local(completed), "hours": float(hours or 0) if completed else 0.0,
             "course_hours": float(hours or 0), "lessons_done": int(n_done), "lessons": int(n_total),
             "status_label": "已完成" if completed else "学习中"}
            for code, title, level, hours, started, completed, n_done, n_total in rows]


def _trainings(user_id: int) -> list[dict]:
    rows = db.session.execute(
        sa.select(Training.id, Training.starts_at, Training.title, Training.level, Training.hours, Training.place)
        .join(Attendance, Attendance.training_id == Training.id)
        .where(Attendance.user_id == user_id, Training.is_cancelled.is_(False))
        .order_by(Training.starts_at, Training.id)).all()
    return [{"id": tid, "date": _local(starts).date(), "title": title, "level": str(level.value),
             "level_label": LEVEL_LABELS.get(CourseLevel(level.value), ""), "hours": float(hours or 0),
             "place": place}
            for tid, starts, title, level, hours, place in rows]


def _quizzes(user_id: int) -> list[dict]:
    graded = Attempt.status.in_(GRADED)
    attempts = (sa.select(Attempt.quiz_id, sa.func.count(Attempt.id).label("attempts"),
                          sa.func.max(sa.case((graded, Attempt.score))).label("best"),
                          sa.func.max(sa.case((sa.and_(graded, Attempt.passed.is_(True)), 1), else_=0)).label("passed"),
                          sa.func.max(Attempt.started_at).label("last"))
                .where(Attempt.user_id == user_id).group_by(Attempt.quiz_id).subquery())
    grants = (sa.select(AttemptGrant.quiz_id, sa.func.sum(AttemptGrant.extra_attempts).label("extra"))
              .where(AttemptGrant.user_id == user_id).group_by(AttemptGrant.quiz_id).subquery())
    rows = db.session.execute(
        sa.select(Quiz.code, Quiz.title, Quiz.max_attempts, Quiz.pass_score, sa.func.coalesce(attempts.c.attempts, 0),
                  attempts.c.best, sa.func.coalesce(attempts.c.passed, 0), attempts.c.last,
                  sa.func.coalesce(grants.c.extra, 0))
        .outerjoin(attempts, attempts.c.quiz_id == Quiz.id).outerjoin(grants, grants.c.quiz_id == Quiz.id)
        .where(sa.or_(attempts.c.quiz_id.is_not(None), grants.c.quiz_id.is_not(None)))
        .order_by(attempts.c.last.is_(None), attempts.c.last, Quiz.id)).all()
    out = []
    for code, title, max_attempts, pass_score, n, best, passed, last, extra in rows:
        allowed = max_attempts + int(extra) if max_attempts is not None else None
        out.append({"code": code, "title": title, "attempts": int(n),
                    "best_score": None if best is None else float(best), "passed": bool(passed),
                    "pass_score": pass_score, "max_attempts": max_attempts, "extra_attempts": int(extra),
                    "allowed": allowed, "last_attempt": _local(last)})
    return out


def _drills(user_id: int) -> list[dict]:
    accepted = DrillReport.verdict == Verdict.accepted
    rows = db.session.execute(
        sa.select(Drill.code, Drill.title, sa.func.min(DrillReport.created_at), sa.func.max(DrillReport.score),
                  sa.func.count(DrillReport.id))
        .join(Drill, Drill.id == DrillReport.drill_id)
        .where(DrillReport.user_id == user_id, accepted)
        .group_by(Drill.id, Drill.code, Drill.title).order_by(sa.func.min(DrillReport.created_at), Drill.id)).all()
    return [{"code": code, "title": title, "accepted_on": _local(first).date(), "best_score": int(score or 0),
             "accepted_reports": int(n)} for code, title, first, score, n in rows]


def _mentoring(user_id: int, today: dt.date) -> list[dict]:
    confirmed = Activity.status == ActivityStatus.confirmed
    as_mentor = list(db.session.scalars(sa.select(Pairing).where(Pairing.mentor_id == user_id)
                                        .order_by(Pairing.start_on, Pairing.id)).unique())
    as_mentee = list(db.session.scalars(
        sa.select(Pairing).join(PairingMentee, PairingMentee.pairing_id == Pairing.id)
        .where(PairingMentee.mentee_id == user_id).order_by(Pairing.start_on, Pairing.id)).unique())
    ids = [p.id for p in as_mentor + as_mentee]
    counts: dict[tuple[int, int], tuple[int, int]] = {}
    if ids:
        for pairing_id, mentee_id, n, minutes in db.session.execute(
                sa.select(Activity.pairing_id, Activity.mentee_id, sa.func.count(Activity.id),
                          sa.func.coalesce(sa.func.sum(Activity.minutes), 0))
                .where(Activity.pairing_id.in_(ids), confirmed).group_by(Activity.pairing_id, Activity.mentee_id)):
            counts[(pairing_id, mentee_id)] = (int(n), int(minutes))
    out = []
    for role, pairings in (("mentor", as_mentor), ("mentee", as_mentee)):
        for pairing in pairings:
            if role == "mentor":
                others = [m.mentee.name for m in pairing.mentees]
                n = sum(v[0] for k, v in counts.items() if k[0] == pairing.id)
                minutes = sum(v[1] for k, v in counts.items() if k[0] == pairing.id)
            else:
                others = [pairing.mentor.name]
                n, minutes = counts.get((pairing.id, user_id), (0, 0))
            if pairing.ended_at is not None:
                state = "已提前结束"
            elif pairing.end_on < today:
                state = "已结束"
            elif pairing.start_on > today:
                state = "未开始"
            else:
                state = "进行中"
            out.append({"role": role, "role_label": MENTORING_ROLE_LABELS[role], "with": others,
                        "start": pairing.start_on, "end": pairing.end_on, "state_label": state,
                        "activities": n, "minutes": minutes})
    out.sort(key=lambda row: (row["start"], row["role"]))
    return out


def _certificates(user_id: int, today: dt.date) -> list[dict]:
    rows = db.session.execute(
        sa.select(Certificate.number, Program.code, Program.title, Program.star, Certificate.issued_on,
                  Certificate.expires_on, Certificate.status)
        .join(Program, Program.id == Certificate.program_id).where(Certificate.holder_id == user_id)
        .order_by(Certificate.issued_on, Certificate.id)).all()
    out = []
    for number, code, title, star, issued, expires, status in rows:
        status = CertificateStatus(status)
        if status == CertificateStatus.valid and expires < today:
            status = CertificateStatus.expired
        out.append({"number": number, "program": {"code": code, "title": title}, "star": star, "issued": issued,
                    "expires": expires, "status": status.value, "status_label": CERTIFICATE_STATUS_LABELS[status]})
    return out


def _org_names(org: OrgUnit) -> list[str]:
    ids = [int(part) for part in org.path.strip("/").split("/") if part]
    names = dict(db.session.execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())
    return [names[i] for i in ids if i in names]


def person_record(user: User, *, today: dt.date | None = None) -> Record:
    """The whole 学时档案 of one person, as of ``today`` (Asia/Shanghai)."""
    today = today or local_today()
    courses, trainings = _courses(user.id), _trainings(user.id)
    quizzes, drills = _quizzes(user.id), _drills(user.id)
    mentoring, certificates = _mentoring(user.id, today), _certificates(user.id, today)
    points = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointEntry.points), 0))
                                   .where(PointEntry.user_id == user.id)) or 0)
    star = max([c["star"] or 0 for c in certificates if c["status"] == "valid"], default=0)
    by_level = {level.value: 0.0 for level in LEVELS}
    for course in courses:
        by_level[course["level"]] = by_level.get(course["level"], 0.0) + course["hours"]
    course_hours = round(sum(by_level.values()), 1)
    training_hours = round(sum(t["hours"] for t in trainings), 1)
    totals = {
        "course_hours": {**{k: round(v, 1) for k, v in by_level.items()}, "total": course_hours},
        "training_hours": training_hours, "hours": round(course_hours + training_hours, 1),
        "courses_completed": sum(1 for c in courses if c["completed"]),
        "quizzes_passed": sum(1 for q in quizzes if q["passed"]), "drills_accepted": len(drills),
        "mentoring_activities": sum(m["activities"] for m in mentoring),
        "mentoring_minutes": sum(m["minutes"] for m in mentoring),
        "certificates_valid": sum(1 for c in certificates if c["status"] == "valid"),
        "points": points, "star": star}
    names = _org_names(user.org)
    return Record(user={"username": user.username, "name": user.name, "org_code": user.org.code,
                        "org_name": user.org.name, "org_path": " / ".join(names),
                        "active": user.status == UserStatus.active},
                  as_of=today, courses=courses, trainings=trainings, quizzes=quizzes, drills=drills,
                  mentoring=mentoring, certificates=certificates, points=points, star=star, totals=totals)


# --- a filtered set --------------------------------------------------------------------------------------

def people_clause(actor, perm: Permission, *, org: OrgUnit | None = None, hired_from: dt.date | None = None,
                  hired_to: dt.date | None = None, include_inactive: bool = False):
    """Conditions on User (joined with its OrgUnit) for the people of a record set: in scope, learners."""
    learner = sa.exists().where(RoleGrant.user_id == User.id, RoleGrant.role.in_(LEARNER_ROLES))
    conditions = [scope_clause(actor, perm, OrgUnit.path), learner]
    if not include_inactive:
        conditions.append(User.status == UserStatus.active)
    if org is not None:
        conditions.append(subtree_clause(OrgUnit.path, org.path))
    if hired_from is not None:
        conditions.append(User.hired_on >= hired_from)
    if hired_to is not None:
        conditions.append(User.hired_on <= hired_to)
    return sa.and_(*conditions)


def totals_query(actor, *, org: OrgUnit | None = None, hired_from: dt.date | None = None,
                 hired_to: dt.date | None = None, today: dt.date | None = None, perm: Permission = EXPORT_RECORDS):
    """One select of per-person totals (user columns, then the figures of TOTAL_COLUMNS), ordered by unit, 工号.

    Columns: user_id, name, username, org_id, hired_on, county, township, village course hours, training hours,
    courses completed, quizzes passed, drills accepted, confirmed mentoring activities, valid certificates,
    points, star.
    """
    today = today or local_today()
    level_hours = [sa.func.sum(sa.case((Course.level == level, Course.hours), else_=0)).label(level.value)
                   for level in LEVELS]
    courses = (sa.select(CourseEnrollment.user_id, *level_hours,
                         sa.func.count(CourseEnrollment.id).label("completed"))
               .join(Course, Course.id == CourseEnrollment.course_id)
               .where(CourseEnrollment.completed_at.is_not(None))
               .group_by(CourseEnrollment.user_id).subquery("rec_courses"))
    trainings = (sa.select(Attendance.user_id, sa.func.sum(Training.hours).label("hours"))
                 .join(Training, Training.id == Attendance.training_id).where(Training.is_cancelled.is_(False))
                 .group_by(Attendance.user_id).subquery("rec_trainings"))
    quizzes = (sa.select(Attempt.user_id, sa.func.count(sa.distinct(Attempt.quiz_id)).label("passed"))
               .where(Attempt.status.in_(GRADED), Attempt.passed.is_(True))
               .group_by(Attempt.user_id).subquery("rec_quizzes"))
    drills = (sa.select(DrillReport.user_id, sa.func.count(sa.distinct(DrillReport.drill_id)).label("accepted"))
              .where(DrillReport.verdict == Verdict.accepted).group_by(DrillReport.user_id).subquery("rec_drills"))
    confirmed = Activity.status == ActivityStatus.confirmed
    # An activity counts for its mentee and for the pairing's mentor: two grouped selects, summed.
    as_mentee = sa.select(Activity.mentee_id.label("user_id"), Activity.id.label("activity_id")).where(confirmed)
    as_mentor = (sa.select(Pairing.mentor_id.label("user_id"), Activity.id.label("activity_id"))
                 .join(Activity, Activity.pairing_id == Pairing.id).where(confirmed))
    both = sa.union_all(as_mentee, as_mentor).subquery("rec_activity_people")
    mentoring = (sa.select(both.c.user_id, sa.func.count().label("activities"))
                 .group_by(both.c.user_id).subquery("rec_mentoring"))
    valid = sa.and_(Certificate.status == CertificateStatus.valid, Certificate.expires_on >= today)
    certificates = (sa.select(Certificate.holder_id.label("user_id"), sa.func.count(Certificate.id).label("valid"),
                              sa.func.max(Program.star).label("star"))
                    .join(Program, Program.id == Certificate.program_id).where(valid)
                    .group_by(Certificate.holder_id).subquery("rec_certificates"))
    points = (sa.select(PointEntry.user_id, sa.func.sum(PointEntry.points).label("points"))
              .group_by(PointEntry.user_id).subquery("rec_points"))
    zero = sa.literal(0)
    return (sa.select(User.id, User.name, User.username, User.org_id, User.hired_on,
                      *(sa.func.coalesce(courses.c[level.value], zero) for level in LEVELS),
                      sa.func.coalesce(trainings.c.hours, zero), sa.func.coalesce(courses.c.completed, zero),
                      sa.func.coalesce(quizzes.c.passed, zero), sa.func.coalesce(drills.c.accepted, zero),
                      sa.func.coalesce(mentoring.c.activities, zero), sa.func.coalesce(certificates.c.valid, zero),
                      sa.func.coalesce(points.c.points, zero), sa.func.coalesce(certificates.c.star, zero))
            .join(OrgUnit, OrgUnit.id == User.org_id)
            .outerjoin(courses, courses.c.user_id == User.id).outerjoin(trainings, trainings.c.user_id == User.id)
            .outerjoin(quizzes, quizzes.c.user_id == User.id).outerjoin(drills, drills.c.user_id == User.id)
            .outerjoin(mentoring, mentoring.c.user_id == User.id)
            .outerjoin(certificates, certificates.c.user_id == User.id)
            .outerjoin(points, points.c.user_id == User.id)
            .where(people_clause(actor, perm, org=org, hired_from=hired_from, hired_to=hired_to))
            .order_by(OrgUnit.path, User.username))


def total_cells(row, place: tuple[str, str, str]) -> list:
    """A totals_query row as the cells of TOTAL_COLUMNS (place: 乡镇, 村, 网格 names)."""
    (_, name, username, _org_id, hired, county, township, village, training, completed, quizzes, drills,
     activities, certificates, points, star) = row
    county, township, village, training = (round(float(v or 0), 1) for v in (county, township, village, training))
    if isinstance(hired, str):  # SQLite through a plain connection
        hired = dt.date.fromisoformat(hired)
    return [name, username, place[0], place[1], place[2], hired, county, township, village, training,
            round(county + township + village + training, 1), int(completed), int(quizzes), int(drills),
            int(activities), int(certificates), int(points), int(star)]


def list_people(actor, *, org: OrgUnit | None = None, q: str = "", page: int = 1, per_page: int = 50,
                perm: Permission = VIEW_RECORD) -> tuple[list[tuple[User, str]], bool]:
    """People whose record actor may read (learners in scope), filtered by unit and name/工号: (rows, has_next)."""
    query = (sa.select(User, OrgUnit.name).join(OrgUnit, OrgUnit.id == User.org_id)
             .where(people_clause(actor, perm, org=org, include_inactive=True)))
    q = q.strip()[:50]
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(User.name.like(like), User.username.like(like)))
    rows = db.session.execute(query.order_by(OrgUnit.path, User.username)
                              .offset((page - 1) * per_page).limit(per_page + 1)).all()
    return [(user, org_name) for user, org_name in rows[:per_page]], len(rows) > per_page
