"""Courses, lessons and their versions, assets, learner progress and assignments."""
from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from lms.accounts.models import Role, User
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.org.models import OrgKind, OrgUnit


class CourseLevel(enum.StrEnum):
    county = "county"
    township = "township"
    village = "village"


LEVEL_LABELS = {CourseLevel.county: "县训", CourseLevel.township: "乡培", CourseLevel.village: "村练"}

#: the course level a grant's org kind may author (a village trainer writes village practice)
LEVEL_OF_KIND = {OrgKind.province: CourseLevel.county, OrgKind.city: CourseLevel.county,
                 OrgKind.county: CourseLevel.county, OrgKind.township: CourseLevel.township,
                 OrgKind.village: CourseLevel.village, OrgKind.grid: CourseLevel.village}


class Origin(enum.StrEnum):
    #: imported from courses/: the import manages it
    file = "file"
    #: created in the browser: the import never touches it
    web = "web"


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable code: folder name of file courses, used in URLs
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[CourseLevel] = mapped_column(sa.Enum(CourseLevel, native_enum=False, length=16), index=True)
    #: owning unit: the course reaches this unit's subtree
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: credit hours (学时)
    hours: Mapped[float] = mapped_column(sa.Float, default=0)
    #: code of the quiz that completes the course; quizzes are another feature, so text only
    quiz_code: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    tags: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: Markdown source of the summary and its HTML rendered when saved
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    summary_html: Mapped[str] = mapped_column(sa.Text, default="")
    origin: Mapped[Origin] = mapped_column(sa.Enum(Origin, native_enum=False, length=16), default=Origin.web)
    #: course.md path relative to the content root (file courses)
    file_path: Mapped[str | None] = mapped_column(sa.String(300))
    #: sha256 of course.md as last imported
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: a file course edited in the browser: the import leaves it alone
    is_detached: Mapped[bool] = mapped_column(default=False)
    is_published: Mapped[bool] = mapped_column(default=False)
    #: gone from the files (or withdrawn): no new learners, records kept
    is_retired: Mapped[bool] = mapped_column(default=False)
    #: bumped on every change of the course or its lessons
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[OrgUnit] = relationship(lazy="joined")
    lessons: Mapped[list[Lesson]] = relationship(back_populates="course", order_by="Lesson.position")

    def __repr__(self) -> str:
        return f"<Course {self.code}>"

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


class Lesson(db.Model):
    __tablename__ = "lessons"
    __table_args__ = (sa.UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    #: lesson key: the file name's slug; progress hangs on the lesson, not on a version
    slug: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    minutes: Mapped[int] = mapped_column(default=0)
    is_retired: Mapped[bool] = mapped_column(default=False)
    #: number of the current LessonVersion
    version: Mapped[int] = mapped_column(default=1)
    #: sha256 of the lesson file as last imported (skip unchanged files without parsing)
    file_hash: Mapped[str | None] = mapped_column(sa.String(64))
    file_path: Mapped[str | None] = mapped_column(sa.String(300))

    course: Mapped[Course] = relationship(back_populates="lessons")

    def __repr__(self) -> str:
        return f"<Lesson {self.slug}>"


class LessonVersion(db.Model):
    """One saved text of a lesson; its HTML is rendered once, here, never per request."""

    __tablename__ = "lesson_versions"
    __table_args__ = (sa.UniqueConstraint("lesson_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lessons.id"), index=True)
    version: Mapped[int] = mapped_column()
    markdown: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text)
    #: sha256 of the Markdown body
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    lesson: Mapped[Lesson] = relationship()


class CourseAsset(db.Model):
    """An image or PDF shown with a course's lessons; kept in the database so every app server has it."""

    __tablename__ = "course_assets"
    __table_args__ = (sa.UniqueConstraint("course_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(default=0)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    #: deferred: listings and the import's hash comparison must not load the bytes
    data: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseEnrollment(db.Model):
    """A learner's state in one course: where they left off, quiz passed, completion."""

    __tablename__ = "course_enrollments"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    #: the learner's unit when they started (statistics count it there)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_lesson_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lessons.id"))
    last_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    quiz_passed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: every lesson done (and the quiz passed): set once, kept
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    #: the learner's unit at completion
    completed_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))

    course: Mapped[Course] = relationship()


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (sa.UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lessons.id"), index=True)
    #: denormalised for per-course counts in one query
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    #: the learner's unit at the time
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    last_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Assignment(db.Model):
    """A course or a quiz assigned to an org subtree (optionally one role); members are found at read time."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.CheckConstraint("(course_id IS NULL) <> (quiz_code IS NULL)", name="course_xor_quiz"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    quiz_code: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    #: None: everyone in the subtree
    role: Mapped[Role | None] = mapped_column(sa.Enum(Role, native_enum=False, length=16))
    due_on: Mapped[dt.date]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course | None] = relationship(lazy="joined")
    org: Mapped[OrgUnit] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()
