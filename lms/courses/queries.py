"""Reads: visibility, progress, assignments, and the contracts other features call."""
from __future__ import annotations

import datetime as dt
import threading
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from lms.accounts.models import Role, RoleGrant, User, UserStatus
from lms.courses.models import (LEVEL_LABELS, Assignment, Course, CourseAsset, CourseEnrollment, CourseLevel, Lesson,
                                LessonProgress, LessonVersion)
from lms.db import SHANGHAI, is_write_intent
from lms.extensions import db
from lms.org.models import KIND_ORDER, OrgUnit, subtree_clause


def _ancestor_ids(org: OrgUnit) -> list[int]:
    return [int(part) for part in org.path.strip("/").split("/") if part]


def _user_roles(user) -> set[str]:
    return {str(g.role) for g in (getattr(user, "grants", None) or [])}


def get_course(code: str) -> Course | None:
    """The course with that code, or None."""
    return db.session.scalar(sa.select(Course).where(Course.code == code))


def get_lesson(course: Course, slug: str) -> Lesson | None:
    """A lesson of course by slug (retired ones included), or None."""
    return db.session.scalar(sa.select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == slug))


def current_version(lesson: Lesson) -> LessonVersion | None:
    """The lesson's current text and its cached HTML."""
    return db.session.scalar(sa.select(LessonVersion).where(LessonVersion.lesson_id == lesson.id,
                                                            LessonVersion.version == lesson.version))


def active_lessons(course: Course) -> list[Lesson]:
    """Lessons a learner reads, in order."""
    return list(db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id, ~Lesson.is_retired)
                                   .order_by(Lesson.position, Lesson.id)))


def get_asset(course: Course, filename: str) -> CourseAsset | None:
    return db.session.scalar(sa.select(CourseAsset).where(CourseAsset.course_id == course.id,
                                                          CourseAsset.filename == filename)
                             .options(sa.orm.undefer(CourseAsset.data)))


def list_assets(course: Course) -> list[CourseAsset]:
    return list(db.session.scalars(sa.select(CourseAsset).where(CourseAsset.course_id == course.id)
                                   .order_by(CourseAsset.filename)))


def get_enrollment(user, course: Course) -> CourseEnrollment | None:
    return db.session.scalar(sa.select(CourseEnrollment).where(CourseEnrollment.user_id == user.id,
                                                               CourseEnrollment.course_id == course.id))


def _assignment_filter(user):
    roles = _user_roles(user)
    return sa.and_(Assignment.org_id.in_(_ancestor_ids(user.org)),
                   sa.or_(Assignment.role.is_(None), Assignment.role.in_(roles) if roles else sa.false()))


def assignments_for(user) -> list[Assignment]:
    """Assignments that reach user (their org inside the assignment's subtree, role matching); quiz ones too."""
    if getattr(user, "org", None) is None:
        return []
    return list(db.session.scalars(sa.select(Assignment).where(_assignment_filter(user))
                                   .order_by(Assignment.due_on, Assignment.id)))


def get_visible_course(user, code: str) -> Course | None:
    """The course if user may learn it; None otherwise (callers answer 404 either way)."""
    if getattr(user, "org", None) is None:
        return None
    return db.session.scalar(_VISIBLE_COURSE, {"code": code, **learner_context(user)})


def progress_by_course(user, course_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{course_id: (lessons done, lessons total)} over non-retired lessons, in two queries."""
    if not course_ids:
        return {}
    totals = dict(db.session.execute(
        sa.select(Lesson.course_id, sa.func.count()).where(Lesson.course_id.in_(course_ids), ~Lesson.is_retired)
        .group_by(Lesson.course_id)).all())
    done = dict(db.session.execute(
        sa.select(LessonProgress.course_id, sa.func.count()).join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user.id, LessonProgress.course_id.in_(course_ids),
               LessonProgress.completed_at.is_not(None), ~Lesson.is_retired)
        .group_by(LessonProgress.course_id)).all())
    return {cid: (done.get(cid, 0), totals.get(cid, 0)) for cid in course_ids}


def done_lesson_ids(user, course: Course) -> set[int]:
    return set(db.session.scalars(sa.select(LessonProgress.lesson_id).where(
        LessonProgress.user_id == user.id, LessonProgress.course_id == course.id,
        LessonProgress.completed_at.is_not(None))))


def completed_course_codes(user) -> set[str]:
    """Codes of the courses user has completed."""
    return set(db.session.scalars(sa.select(Course.code).join(CourseEnrollment, CourseEnrollment.course_id == Course.id)
                                  .where(CourseEnrollment.user_id == user.id,
                                         CourseEnrollment.completed_at.is_not(None))))


def completed_credit_hours(user) -> float:
    """Sum of the credit hours of user's completed courses."""
    total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Course.hours), 0))
                              .join(CourseEnrollment, CourseEnrollment.course_id == Course.id)
                              .where(CourseEnrollment.user_id == user.id, CourseEnrollment.completed_at.is_not(None)))
    return float(total or 0)


def _as_datetime(value, end: bool) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    # A date bound covers the whole local day.
    day = value + dt.timedelta(days=1) if end else value
    return dt.datetime.combine(day, dt.time(), SHANGHAI)


#: course_stats' statements, built once per combination of the period's bounds (see _course_stats_statement)
_COURSE_STATS: dict = {}


def _course_stats_statement(with_start: bool, with_end: bool, with_end_at: bool):
    """(assigned pairs, completed pairs) of the subtree at :org_path, with bind parameters only (built once).

    The database pairs the subtree's active members with the assignments made to an ancestor of the unit (or the
    unit: fixed-size ancestor slots, see _slots) or inside the subtree, when the member's unit lies under the
    assignment's, and an assignment to a role only with members holding it; distinct pairs, then those with a
    completed enrollment before :end_at.
    """
    key = (with_start, with_end, with_end_at)
    if key not in _COURSE_STATS:
        org_path, org_end = sa.bindparam("org_path"), sa.bindparam("org_path_end")
        assigned = (sa.select(Assignment.course_id, Assignment.role, OrgUnit.path)
                    .join(OrgUnit, OrgUnit.id == Assignment.org_id)
                    .where(Assignment.course_id.is_not(None),
                           sa.or_(OrgUnit.id.in_(_slots("ancestor", _ANCESTOR_SLOTS)),
                                  sa.and_(OrgUnit.path >= org_path, OrgUnit.path < org_end))))
        if with_start:
            assigned = assigned.where(Assignment.due_on >= sa.bindparam("start"))
        if with_end:
            assigned = assigned.where(Assignment.due_on <= sa.bindparam("end"))
        assigned = assigned.subquery("assigned")
        unit = sa.orm.aliased(OrgUnit)
        holds_role = sa.exists().where(RoleGrant.user_id == User.id, RoleGrant.role == assigned.c.role)
        pairs = (sa.select(User.id.label("user_id"), assigned.c.course_id).distinct()
                 .join(unit, unit.id == User.org_id)
                 # the member's unit lies in the assignment's subtree (its path starts with the assignment's)
                 .join(assigned, sa.and_(unit.path >= assigned.c.path, unit.path < assigned.c.path + "~"))
                 .where(unit.path >= org_path, unit.path < org_end, User.status == UserStatus.active,
                        sa.or_(assigned.c.role.is_(None), holds_role))
                 .subquery("pairs"))
        done = sa.exists().where(CourseEnrollment.user_id == pairs.c.user_id,
                                 CourseEnrollment.course_id == pairs.c.course_id,
                                 CourseEnrollment.completed_at.is_not(None))
        if with_end_at:
            done = done.where(CourseEnrollment.completed_at < sa.bindparam("end_at"))
        _COURSE_STATS[key] = (sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((done, 1), else_=0)), 0))
                              .select_from(pairs))
    return _COURSE_STATS[key]


def course_stats(org: OrgUnit, start=None, end=None) -> dict:
    """Assigned learner-course pairs in org's subtree (assignments due within [start, end]), completed, rate.

    Members are today's members (assignments reach current and future members);
    a pair counts as completed when the course was completed before the period's end.
    One prepared statement counts both in the database (a township dashboard asks for the township and each
    village), instead of fetching the members, their roles and completions through long IN lists.
    """
    start_date = start.date() if isinstance(start, dt.datetime) else start
    end_date = end.date() if isinstance(end, dt.datetime) else end
    end_at = _as_datetime(end, end=True)
    # subtree_clause's range: '~' sorts after the digits and '/' that paths are made of
    params = {"org_path": org.path, "org_path_end": org.path + "~", "start": start_date, "end": end_date,
              "end_at": end_at}
    _fill(params, "ancestor", _ancestor_ids(org), _ANCESTOR_SLOTS)
    statement = _course_stats_statement(start_date is not None, end_date is not None, end_at is not None)
    total, completed = _conn().execute(statement, params).one()
    if not total:
        return {"assigned": 0, "completed": 0, "completion_rate": 0.0}
    return {"assigned": total, "completed": completed, "completion_rate": round(completed / total, 4)}


def authored_courses(user, scope_clause) -> list[Course]:
    """Courses an author may manage (filter given by the permission module)."""
    return list(db.session.scalars(sa.select(Course).join(OrgUnit, OrgUnit.id == Course.org_id)
                                   .where(scope_clause).order_by(Course.level, Course.code)))


def local_today() -> dt.date:
    """Today in Asia/Shanghai: due dates are local calendar days."""
    return dt.datetime.now(SHANGHAI).date()


def my_learning(user, today: dt.date | None = None) -> list[dict]:
    """Assigned courses visible to user, overdue first, then by due date (completed last); cards as visible_cards."""
    today = today or local_today()
    cards = [card for card in visible_cards(user, today=today) if card["due"] is not None]
    cards.sort(key=lambda card: (card["complete"], not card["overdue"], card["due"], card["course"].code))
    return cards


def progress_summary(user, today: dt.date | None = None) -> dict:
    """{"done": assigned courses complete, "total": assigned, "overdue": [titles]} (mentoring's dashboard)."""
    cards = my_learning(user, today)
    return {"done": sum(1 for c in cards if c["complete"]), "total": len(cards),
            "overdue": [c["course"].title for c in cards if c["overdue"]]}


# --- hot read paths: the learner's pages ------------------------------------------------------------------------
#
# The lesson page, the catalog, my learning and the home page are what thousands of workers open. Their
# statements are built once (building a statement cost more CPU than SQLite running it) with bind parameters,
# and what a course version fixes — its active lessons in order and their HTML — is kept per process, keyed by
# the course's id, version and updated_at read in the same request: every change to a course or its lessons
# bumps the version, so a stale entry is never looked up again.

class OutlineLesson(NamedTuple):
    id: int
    slug: str
    title: str
    minutes: int
    position: int
    version: int


class Outline:
    """One course version's active lessons in reading order, and their HTML as it is read."""

    __slots__ = ("lessons", "index", "html")

    def __init__(self, lessons: list[OutlineLesson]):
        self.lessons = tuple(lessons)
        #: slug -> position in self.lessons
        self.index = {lesson.slug: i for i, lesson in enumerate(self.lessons)}
        #: lesson id -> stored HTML of its current version (filled on first read)
        self.html: dict[int, str] = {}


class _BoundedCache:
    """A dict that forgets its oldest entries past max_entries; safe for gunicorn's threads."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._data: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        return self._data.get(key)

    def put(self, key, value):
        with self._lock:
            while len(self._data) >= self.max_entries:
                self._data.pop(next(iter(self._data)))
            self._data[key] = value
        return value


def _outline_cache() -> _BoundedCache:
    # Per app: tests create an app per test on a reused database, ids and versions repeat.
    cache = current_app.extensions.get("lms.courses.outlines")
    if cache is None:
        cache = current_app.extensions.setdefault("lms.courses.outlines", _BoundedCache(256))
    return cache


_OUTLINE = (sa.select(Lesson.course_id, Lesson.id, Lesson.slug, Lesson.title, Lesson.minutes, Lesson.position,
                      Lesson.version)
            .where(Lesson.course_id.in_(sa.bindparam("course_ids", expanding=True)), ~Lesson.is_retired)
            .order_by(Lesson.course_id, Lesson.position, Lesson.id))


def outlines(courses) -> dict[int, Outline]:
    """{course id: Outline} for rows/objects with id, version and updated_at; one query for those not cached."""
    cache = _outline_cache()
    found, missing = {}, {}
    for course in courses:
        key = (course.id, course.version, course.updated_at)
        outline = cache.get(key)
        if outline is None:
            missing[course.id] = key
        else:
            found[course.id] = outline
    if missing:
        rows: dict[int, list[OutlineLesson]] = {cid: [] for cid in missing}
        for row in _conn().execute(_OUTLINE, {"course_ids": list(missing)}):
            rows[row[0]].append(OutlineLesson._make(row[1:]))
        for cid, lessons in rows.items():
            found[cid] = Outline(lessons)
            if not is_write_intent():
                # Only committed reads are kept: a writing request may see its own changes before a rollback.
                cache.put(missing[cid], found[cid])
    return found


_LESSON_HTML = (sa.select(LessonVersion.html)
                .where(LessonVersion.lesson_id == sa.bindparam("lesson_id"),
                       LessonVersion.version == sa.bindparam("version")))


def lesson_html(outline: Outline, lesson: OutlineLesson) -> str:
    """The stored HTML of lesson's current version ("" if missing), read once per course version and process."""
    html = outline.html.get(lesson.id)
    if html is None:
        html = _conn().execute(_LESSON_HTML, {"lesson_id": lesson.id, "version": lesson.version}).scalar() or ""
        outline.html[lesson.id] = html
    return html


def _conn():
    """The request's transaction as a Core connection: Core reads skip the ORM session's per-call overhead."""
    return db.session.connection()


# Fixed-size lists of bind parameters, not "expanding" ones: SQLAlchemy re-renders a statement's SQL on every
# execution for an expanding IN. A unit's kind lies below its parent's, so a path has at most one unit per kind;
# short lists are padded by repeating a member (or NULL, which matches nothing).
_ANCESTOR_SLOTS = len(KIND_ORDER)
_ROLE_SLOTS = len(Role)


def _slots(prefix: str, count: int) -> list:
    return [sa.bindparam(f"{prefix}{i}") for i in range(count)]


def _fill(params: dict, prefix: str, values: list, count: int) -> None:
    if len(values) > count:
        raise ValueError(f"{prefix}: {len(values)} values for {count} parameters")
    for i in range(count):
        params[f"{prefix}{i}"] = values[min(i, len(values) - 1)] if values else None


def learner_context(user) -> dict:
    """Bind parameters that place user: their unit's ancestors (incl. itself), roles and id."""
    params = {"uid": user.id}
    _fill(params, "ancestor", _ancestor_ids(user.org), _ANCESTOR_SLOTS)
    _fill(params, "role", sorted(_user_roles(user)), _ROLE_SLOTS)
    return params


def _reaches_user():
    """Assignment condition: made to an ancestor of the user's unit, for everyone or one of their roles."""
    return sa.and_(Assignment.org_id.in_(_slots("ancestor", _ANCESTOR_SLOTS)),
                   sa.or_(Assignment.role.is_(None), Assignment.role.in_(_slots("role", _ROLE_SLOTS))))


def _visible_bound():
    """Published courses owned by an ancestor of the user's unit or assigned to them; retired only once started.

    With bind parameters (see learner_context): the statements using it are built once.
    """
    started = sa.select(CourseEnrollment.course_id).where(CourseEnrollment.user_id == sa.bindparam("uid"))
    assigned = sa.select(Assignment.course_id).where(_reaches_user(), Assignment.course_id.is_not(None))
    return sa.and_(
        Course.is_published,
        sa.or_(Course.org_id.in_(_slots("ancestor", _ANCESTOR_SLOTS)), Course.id.in_(assigned)),
        sa.or_(~Course.is_retired, Course.id.in_(started)),
    )


_VISIBLE_COURSE = sa.select(Course).where(Course.code == sa.bindparam("code"), _visible_bound())
_VISIBLE_COURSE_ROW = sa.select(Course.id, Course.code, Course.title, Course.version, Course.updated_at).where(
    Course.code == sa.bindparam("code"), _visible_bound())


def visible_course_row(user, code: str):
    """(id, code, title, version, updated_at) of the course if user may learn it, else None (no ORM object)."""
    if getattr(user, "org", None) is None:
        return None
    return _conn().execute(_VISIBLE_COURSE_ROW, {"code": code, **learner_context(user)}).first()


_LESSON_STATE = sa.union_all(
    # the enrollment first: its column types (UTCDateTime) are the union's
    sa.select(sa.literal_column("1").label("kind"), CourseEnrollment.last_lesson_id.label("lesson_id"),
              CourseEnrollment.last_opened_at.label("at"))
    .where(CourseEnrollment.user_id == sa.bindparam("uid"), CourseEnrollment.course_id == sa.bindparam("course_id")),
    sa.select(sa.literal_column("0"), LessonProgress.lesson_id, sa.null())
    .where(LessonProgress.user_id == sa.bindparam("uid"), LessonProgress.course_id == sa.bindparam("course_id"),
           LessonProgress.completed_at.is_not(None)),
)


class LessonState(NamedTuple):
    done: frozenset
    enrolled: bool
    last_lesson_id: int | None
    last_opened_at: dt.datetime | None


def lesson_state(user, course_id: int) -> LessonState:
    """The learner's done lessons of a course and where they left off, in one query."""
    done, enrolled, last_id, last_at = set(), False, None, None
    for kind, lesson_id, at in _conn().execute(_LESSON_STATE, {"uid": user.id, "course_id": course_id}):
        if kind == 1:
            enrolled, last_id, last_at = True, lesson_id, at
        else:
            done.add(lesson_id)
    return LessonState(frozenset(done), enrolled, last_id, last_at)


class CardCourse(NamedTuple):
    """What a course card shows of its course: a plain row, not an ORM object (lists of cards are hot)."""

    id: int
    code: str
    title: str
    level: CourseLevel
    hours: float
    tags: list
    org_name: str
    version: int
    updated_at: dt.datetime

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


def _cards_statement(with_level: bool = False, with_code: bool = False, rows: bool = True):
    done = (sa.select(sa.func.count()).select_from(LessonProgress).join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.user_id == sa.bindparam("uid"), LessonProgress.course_id == Course.id,
                   LessonProgress.completed_at.is_not(None), ~Lesson.is_retired)
            .scalar_subquery())
    total = (sa.select(sa.func.count()).select_from(Lesson).where(Lesson.course_id == Course.id, ~Lesson.is_retired)
             .scalar_subquery())
    due = (sa.select(sa.func.min(Assignment.due_on)).where(Assignment.course_id == Course.id, _reaches_user())
           .scalar_subquery())
    # rows: the CardCourse columns; otherwise the ORM Course (the course page shows more of it)
    course = (Course.id, Course.code, Course.title, Course.level, Course.hours, Course.tags, OrgUnit.name,
              Course.version, Course.updated_at) if rows else (Course,)
    query = (sa.select(*course, done, total, due, CourseEnrollment.id, CourseEnrollment.completed_at,
                       CourseEnrollment.last_lesson_id, CourseEnrollment.quiz_passed_at)
             .outerjoin(CourseEnrollment, sa.and_(CourseEnrollment.course_id == Course.id,
                                                  CourseEnrollment.user_id == sa.bindparam("uid")))
             .where(_visible_bound()))
    if rows:
        query = query.join(OrgUnit, OrgUnit.id == Course.org_id)
    if with_level:
        query = query.where(Course.level == sa.bindparam("level"))
    if with_code:
        query = query.where(Course.code == sa.bindparam("code"))
    return query.order_by(Course.level, Course.code)


_CARDS = {False: _cards_statement(), True: _cards_statement(with_level=True)}
_CARD_BY_CODE = _cards_statement(with_code=True, rows=False)
_COURSE_COLUMNS = len(CardCourse._fields)


def _card(row, today, course=None) -> dict:
    if course is None:
        course, row = CardCourse._make(row[:_COURSE_COLUMNS]), row[_COURSE_COLUMNS:]
    done, total, due_on, enrollment_id, completed_at, last_lesson_id, quiz_passed_at = row
    complete = completed_at is not None
    return {"course": course, "done": done, "total": total, "percent": round(100 * done / total) if total else 0,
            "due": due_on, "overdue": bool(due_on and today and due_on < today and not complete),
            "complete": complete, "started": enrollment_id is not None, "last_lesson_id": last_lesson_id,
            "quiz_passed": quiz_passed_at is not None}


def visible_cards(user, level: CourseLevel | str | None = None, q: str | None = None,
                  today: dt.date | None = None) -> list[dict]:
    """Courses user may learn (optionally one level, a title/tag substring), each with progress (done, total,
    percent), due date, overdue, completion — in ONE query, whatever the number of courses.

    card["course"] is a CardCourse (id, code, title, level, hours, tags, org_name, version, updated_at).
    """
    if getattr(user, "org", None) is None:
        return []
    params = learner_context(user)
    if level:
        params["level"] = CourseLevel(level)
    cards = [_card(row, today) for row in _conn().execute(_CARDS[bool(level)], params)]
    if q:
        # Tags live in a JSON list: match in Python (a county has tens of courses, not thousands).
        needle = q.strip().casefold()
        cards = [card for card in cards if needle in card["course"].title.casefold() or
                 any(needle in str(t).casefold() for t in (card["course"].tags or []))]
    return cards


def visible_card(user, code: str, today: dt.date | None = None) -> dict | None:
    """The card (as visible_cards, but card["course"] is the ORM Course) of one course if user may learn it,
    else None; one query."""
    if getattr(user, "org", None) is None:
        return None
    row = db.session.execute(_CARD_BY_CODE, {"code": code, **learner_context(user)}).first()
    return _card(row[1:], today, course=row[0]) if row is not None else None


_DONE_IN_COURSES = (sa.select(LessonProgress.course_id, LessonProgress.lesson_id)
                    .where(LessonProgress.user_id == sa.bindparam("uid"),
                           LessonProgress.course_id.in_(sa.bindparam("course_ids", expanding=True)),
                           LessonProgress.completed_at.is_not(None)))


def resume_lessons(user, cards: list[dict]) -> dict[int, OutlineLesson | None]:
    """{course id: where to resume} for cards from visible_cards, in at most two queries for any number of cards."""
    if not cards:
        return {}
    courses = [card["course"] for card in cards]
    found = outlines(courses)
    done: dict[int, set[int]] = {course.id: set() for course in courses}
    for course_id, lesson_id in _conn().execute(_DONE_IN_COURSES, {"uid": user.id, "course_ids": list(done)}):
        done[course_id].add(lesson_id)
    return {card["course"].id: pick_resume(found[card["course"].id].lessons, done[card["course"].id],
                                           card["last_lesson_id"]) for card in cards}


def pick_resume(lessons, done: set[int], last_lesson_id: int | None):
    """The last opened lesson if not done, else the next not done after it, else the first not done, else the first."""
    if not lessons:
        return None
    if last_lesson_id:
        last = next((lesson for lesson in lessons if lesson.id == last_lesson_id), None)
        if last is not None and last.id not in done:
            return last
        if last is not None:
            after = [lesson for lesson in lessons if lesson.position > last.position and lesson.id not in done]
            if after:
                return after[0]
    return next((lesson for lesson in lessons if lesson.id not in done), lessons[0])


def final_quiz(quiz_code: str, user_id: int) -> dict:
    """The course's final quiz as its learner sees it: {"title", "exists", "state": 未参加/答题中/未通过}.

    Quizzes come after courses, so their tables are read by name rather than through their models.
    """
    tables = db.metadata.tables
    quizzes, attempts = tables.get("quizzes"), tables.get("quiz_attempts")
    row = None if quizzes is None else db.session.execute(
        sa.select(quizzes.c.id, quizzes.c.title).where(quizzes.c.code == quiz_code)).first()
    if row is None:
        return {"title": "结业测验（尚未发布）", "exists": False, "state": "未参加"}
    statuses = set(db.session.scalars(sa.select(attempts.c.status).distinct().where(
        attempts.c.quiz_id == row.id, attempts.c.user_id == user_id)))
    state = "未通过" if statuses - {"open"} else "答题中" if statuses else "未参加"
    return {"title": row.title, "exists": True, "state": state}


def quiz_titles(codes) -> dict[str, str]:
    """{quiz code: title} for the codes given (quizzes come after courses: their table is read by name)."""
    quizzes, codes = db.metadata.tables.get("quizzes"), sorted({c for c in codes if c})
    if quizzes is None or not codes:
        return {}
    return dict(db.session.execute(sa.select(quizzes.c.code, quizzes.c.title).where(quizzes.c.code.in_(codes))).all())


def quiz_choices(keep: str | None = None) -> list[tuple[str, str]]:
    """(code, title) of every live quiz by title, for pickers; `keep` (a course's current quiz) stays listed."""
    quizzes = db.metadata.tables.get("quizzes")
    if quizzes is None:
        return [(keep, keep)] if keep else []
    rows = [(code, title) for code, title in db.session.execute(
        sa.select(quizzes.c.code, quizzes.c.title).where(quizzes.c.is_retired.is_(False))
        .order_by(quizzes.c.title, quizzes.c.code)).all()]
    if keep and keep not in {code for code, _ in rows}:
        rows.append((keep, quiz_titles([keep]).get(keep) or f"（测验 {keep} 不存在或已停用）"))
    return rows


# --- assignment notices and reminders ---------------------------------------------------------------------------

def assignment_recipient_ids(assignment: Assignment) -> list[int]:
    """Active people the assignment concerns: their unit in its subtree and, for a role-bound one, holding the role."""
    query = (sa.select(User.id).join(OrgUnit, OrgUnit.id == User.org_id)
             .where(User.status == UserStatus.active, subtree_clause(OrgUnit.path, assignment.org.path)))
    if assignment.role is not None:
        query = query.where(sa.exists().where(RoleGrant.user_id == User.id, RoleGrant.role == assignment.role))
    return list(db.session.scalars(query.order_by(User.id)))


def finished_ids(assignment: Assignment, user_ids: list[int]) -> set[int]:
    """Those of user_ids who finished what the assignment asks: the course completed, or the quiz passed."""
    done: set[int] = set()
    for chunk in range(0, len(user_ids), 500):
        ids = user_ids[chunk:chunk + 500]
        if assignment.course_id is not None:
            done.update(db.session.scalars(sa.select(CourseEnrollment.user_id).where(
                CourseEnrollment.course_id == assignment.course_id, CourseEnrollment.completed_at.is_not(None),
                CourseEnrollment.user_id.in_(ids))))
            continue
        # Quizzes come after courses: their tables are read by name.
        quizzes, attempts = db.metadata.tables.get("quizzes"), db.metadata.tables.get("quiz_attempts")
        if quizzes is None or attempts is None:
            return done
        done.update(db.session.scalars(sa.select(attempts.c.user_id).distinct()
                                       .join(quizzes, quizzes.c.id == attempts.c.quiz_id)
                                       .where(quizzes.c.code == assignment.quiz_code, attempts.c.passed.is_(True),
                                              attempts.c.user_id.in_(ids))))
    return done


def assignments_due_between(first: dt.date, last: dt.date) -> list[Assignment]:
    """Assignments due on a day in [first, last], soonest first."""
    return list(db.session.scalars(sa.select(Assignment).where(Assignment.due_on >= first, Assignment.due_on <= last)
                                   .order_by(Assignment.due_on, Assignment.id)))
