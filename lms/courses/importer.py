"""`flask content import` for courses/: sync file courses by content hash, reject bad folders whole."""
from __future__ import annotations

import collections
from pathlib import Path

import sqlalchemy as sa

from lms.contentfile import ContentError, ContentErrors, missing_org_error
from lms.contentsync import SyncContext, SyncReport
from lms.courses.content import ParsedCourse, parse_course_folder, read_course_files, sha256
from lms.courses.models import Course, CourseAsset, CourseLevel, Lesson, LessonVersion, Origin
from lms.courses.render import render_markdown
from lms.courses.services import asset_base, new_version
from lms.extensions import db
from lms.org.models import OrgUnit

COURSE = "课程"
LESSON = "课时"


class _Existing:
    """Every stored file-relevant row, loaded in a handful of queries (no per-course round trips)."""

    def __init__(self):
        self.courses = {c.code: c for c in db.session.scalars(sa.select(Course))}
        self.lessons: dict[int, dict[str, Lesson]] = collections.defaultdict(dict)
        for lesson in db.session.scalars(sa.select(Lesson)):
            self.lessons[lesson.course_id][lesson.slug] = lesson
        self.assets: dict[int, dict[str, str]] = collections.defaultdict(dict)
        for course_id, filename, digest in db.session.execute(
                sa.select(CourseAsset.course_id, CourseAsset.filename, CourseAsset.content_hash)):
            self.assets[course_id][filename] = digest
        self.body_hashes = dict(db.session.execute(
            sa.select(LessonVersion.lesson_id, LessonVersion.content_hash).join(
                Lesson, sa.and_(Lesson.id == LessonVersion.lesson_id, Lesson.version == LessonVersion.version))).all())
        self.orgs = {o.code: o for o in db.session.scalars(sa.select(OrgUnit))}

    def unchanged(self, course: Course, hashes: dict[str, str]) -> bool:
        if course.is_retired or course.content_hash != hashes.get("course.md"):
            return False
        active = {lesson.file_path.rsplit("/", 1)[-1]: lesson.file_hash
                  for lesson in self.lessons[course.id].values() if not lesson.is_retired and lesson.file_path}
        lesson_files = {n: h for n, h in hashes.items() if n.endswith(".md") and n != "course.md"}
        assets = {n: h for n, h in hashes.items() if not n.endswith(".md")}
        return active == lesson_files and all(self.assets[course.id].get(n) == h for n, h in assets.items()) \
            and set(self.assets[course.id]) <= set(assets)


def _read_folder(folder: Path) -> dict[str, bytes]:
    return read_course_files(folder)


def _root_org(existing: _Existing) -> OrgUnit | None:
    roots = [o for o in existing.orgs.values() if o.parent_id is None]
    return min(roots, key=lambda o: o.id) if roots else None


def _resolve(parsed: ParsedCourse, ctx: SyncContext, existing: _Existing) -> OrgUnit:
    errors = []
    org = existing.orgs.get(parsed.org_code) if parsed.org_code else _root_org(existing)
    if org is None:
        errors.append(missing_org_error(parsed.path, parsed.org_line, parsed.org_code))
    known = ctx.known.get("quiz_codes")
    if parsed.quiz_code and known is not None and parsed.quiz_code not in known:
        errors.append(ContentError(parsed.path, parsed.quiz_line, f"测验“{parsed.quiz_code}”不存在（question_bank/quizzes/ 中没有）"))
    if errors:
        raise ContentErrors(errors)
    return org


def _sync(parsed: ParsedCourse, org: OrgUnit, course: Course | None, existing: _Existing, ctx: SyncContext,
          report: SyncReport) -> None:
    now = ctx.now
    is_new = course is None
    if is_new:
        course = Course(code=parsed.code, origin=Origin.file, created_at=now, version=0)
        db.session.add(course)
    summary_changed = course.summary != parsed.summary or is_new
    course.title, course.level, course.org = parsed.title, CourseLevel(parsed.level), org
    course.hours, course.quiz_code, course.tags = parsed.hours, parsed.quiz_code, parsed.tags
    course.file_path, course.content_hash = parsed.path, parsed.file_hash
    course.is_published, course.is_retired, course.updated_at = True, False, now
    course.version = (course.version or 0) + 1
    if summary_changed:
        course.summary = parsed.summary
        course.summary_html = render_markdown(parsed.summary, asset_base=asset_base(parsed.code))
    db.session.flush()
    report.count(COURSE, "new" if is_new else "updated")

    stored = existing.lessons[course.id] if not is_new else {}
    for item in parsed.lessons:
        lesson = stored.get(item.slug)
        if lesson is not None and lesson.file_hash == item.file_hash and not lesson.is_retired \
                and lesson.position == item.position:
            report.count(LESSON, "unchanged")
            continue
        outcome = "new" if lesson is None else "updated"
        if lesson is None:
            lesson = Lesson(course_id=course.id, slug=item.slug)
        lesson.title, lesson.minutes, lesson.position = item.title, item.minutes, item.position
        lesson.file_hash, lesson.file_path, lesson.is_retired = item.file_hash, item.path, False
        # Compare the body's hash before rendering: a changed title alone makes no new version.
        if lesson.id is None or existing.body_hashes.get(lesson.id) != sha256(item.body):
            new_version(lesson, item.body, code=course.code, now=now, check_unchanged=False)
        report.count(LESSON, outcome)
    slugs = {item.slug for item in parsed.lessons}
    for slug, lesson in stored.items():
        if slug not in slugs and not lesson.is_retired:
            # Never deleted: learners' progress hangs on it.
            lesson.is_retired = True
            report.count(LESSON, "retired")

    have = existing.assets[course.id] if not is_new else {}
    names = set()
    for asset in parsed.assets:
        names.add(asset.filename)
        if have.get(asset.filename) == asset.content_hash:
            continue
        row = db.session.scalar(sa.select(CourseAsset).where(CourseAsset.course_id == course.id,
                                                             CourseAsset.filename == asset.filename))
        if row is None:
            row = CourseAsset(course_id=course.id, filename=asset.filename)
            db.session.add(row)
        row.content_type, row.data, row.size = asset.content_type, asset.data, len(asset.data)
        row.content_hash, row.created_at = asset.content_hash, now
    gone = set(have) - names
    if gone:
        db.session.execute(sa.delete(CourseAsset).where(CourseAsset.course_id == course.id,
                                                        CourseAsset.filename.in_(gone)))


def import_courses(ctx: SyncContext, report: SyncReport) -> None:
    """Importer registered with lms.contentsync (order 40)."""
    root = ctx.courses_dir
    if not root.is_dir():
        return
    existing = _Existing()
    seen: set[str] = set()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        rel = ctx.relative(folder)
        if not (folder / "course.md").is_file():
            if any(folder.glob("*.md")):
                report.reject(ContentErrors([ContentError(f"{rel}/course.md", 1, "课程文件夹缺少 course.md")]))
                seen.add(folder.name)
            continue
        seen.add(folder.name)
        course = existing.courses.get(folder.name)
        if course is not None and course.origin == Origin.web:
            report.notes.append(f"课程 {folder.name} 是在网页中创建的，与文件夹同名：导入跳过，未做改动")
            report.count(COURSE, "skipped")
            continue
        if course is not None and course.is_detached:
            report.notes.append(f"课程 {folder.name} 已在网页中编辑，与文件脱离：导入跳过")
            report.count(COURSE, "skipped")
            continue
        files = _read_folder(folder)
        hashes = {name: sha256(data) for name, data in files.items()}
        if course is not None and existing.unchanged(course, hashes):
            report.count(COURSE, "unchanged")
            report.count(LESSON, "unchanged", sum(1 for n in files if n.endswith(".md") and n != "course.md"))
            continue
        try:
            parsed = parse_course_folder(folder.name, rel, files)
            org = _resolve(parsed, ctx, existing)
        except ContentErrors as exc:
            report.reject(exc)
            continue
        with db.session.begin_nested():
            _sync(parsed, org, course, existing, ctx, report)
    for code, course in existing.courses.items():
        if course.origin == Origin.file and not course.is_detached and code not in seen and not course.is_retired:
            course.is_retired = True
            course.updated_at = ctx.now
            report.count(COURSE, "retired")
