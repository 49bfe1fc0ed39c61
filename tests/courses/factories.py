"""Course factories and an importer runner for tests/courses."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from lms.contentsync import SyncContext, SyncReport
from lms.courses.importer import import_courses
from lms.courses.models import Course, CourseLevel, Lesson, Origin
from lms.courses.services import new_version
from lms.extensions import db
from lms.org.queries import get_org

DATA = Path(__file__).resolve().parents[1] / "data" / "courses"
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc)


def run_import(courses_dir: Path, *, now=NOW, known: dict | None = None) -> SyncReport:
    """Run only the courses importer (other features' importers stay out of these tests) and commit."""
    ctx = SyncContext(Path(courses_dir), Path(courses_dir).parent / "no-questions", now, known=dict(known or {}))
    report = SyncReport()
    import_courses(ctx, report)
    db.session.commit()
    return report


def make_course(code: str = "c1", *, level: str = "county", org: str = "HX", lessons: int = 2, quiz: str | None = None,
                published: bool = True, origin: Origin = Origin.web, hours: float = 2, title: str | None = None,
                tags=("测试",)) -> Course:
    course = Course(code=code, title=title or f"课程{code}", level=CourseLevel(level), org=get_org(org), hours=hours,
                    quiz_code=quiz, tags=list(tags), summary="摘要", summary_html="<p>摘要</p>", origin=origin,
                    is_published=published)
    db.session.add(course)
    db.session.flush()
    for n in range(1, lessons + 1):
        lesson = Lesson(course_id=course.id, slug=f"l{n}", position=n, title=f"第{n}课", minutes=5)
        new_version(lesson, f"## 第{n}课\n\n正文 {n}", code=code, now=NOW)
    db.session.commit()
    return course
