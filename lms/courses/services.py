"""Writes: authoring (versions, assets, publishing), learner progress, assignments. Never commits."""
from __future__ import annotations

import datetime as dt
import io
import re
import warnings

import sqlalchemy as sa

from lms import codes
from lms.accounts.models import Role
from lms.accounts.permissions import ROLE_PERMISSIONS, SYSTEM, Permission, authorize
from lms.audit.services import record
from lms.courses import queries
from lms.courses.content import CODE, sha256
from lms.courses.models import (LEVEL_OF_KIND, Assignment, Course, CourseAsset, CourseEnrollment, CourseLevel,
                                Lesson, LessonProgress, LessonVersion, Origin)
from lms.courses.render import render_markdown
from lms.db import SHANGHAI, utcnow
from lms.errors import Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.inbox.models import Message
from lms.org.models import OrgUnit
from lms.signals import lesson_completed

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 1600
#: the most pixels (width × height) an uploaded image may have: decoding 40 M pixels takes ~160 MB
MAX_IMAGE_PIXELS = 40_000_000
MAX_MARKDOWN = 200_000
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def asset_base(code: str) -> str:
    """URL prefix under which a course's images and PDFs are served (relative links in lessons resolve here)."""
    return f"/courses/{code}/assets/"


# --- authoring scope --------------------------------------------------------------------------------------------

def can_author(user, level: CourseLevel | str, org: OrgUnit) -> bool:
    """A grant with AUTHOR_CONTENT covers org and its org kind's level is the course's level (admins: any level)."""
    if user is SYSTEM:
        return True
    if org is None:
        return False
    level = CourseLevel(level)
    for grant in getattr(user, "grants", None) or []:
        if Permission.AUTHOR_CONTENT in ROLE_PERMISSIONS[grant.role] and org.path.startswith(grant.org.path):
            if grant.role == Role.admin or LEVEL_OF_KIND[grant.org.kind] == level:
                return True
    return False


def authorize_author(user, course: Course) -> None:
    """403 unless user may edit this course."""
    if not can_author(user, course.level, course.org):
        raise Forbidden("没有权限：该课程超出了您的编写范围（级别或组织）", code="forbidden")


def author_levels(user) -> list[CourseLevel]:
    """Levels user may write, for the form's choices."""
    levels = set()
    for grant in getattr(user, "grants", None) or []:
        if Permission.AUTHOR_CONTENT in ROLE_PERMISSIONS[grant.role]:
            levels |= set(CourseLevel) if grant.role == Role.admin else {LEVEL_OF_KIND[grant.org.kind]}
    return [lv for lv in CourseLevel if lv in levels]


# --- courses and lessons ----------------------------------------------------------------------------------------

def _clean_tags(tags) -> list[str]:
    if isinstance(tags, str):
        tags = re.split(r"[,，、;；\s]+", tags)
    return [str(t).strip()[:30] for t in (tags or []) if str(t).strip()][:20]


def _validate_fields(title: str, hours, quiz_code: str | None) -> tuple[str, float, str | None]:
    title = (title or "").strip()
    if not title:
        raise ValidationError("请填写课程标题", code="title_required")
    if len(title) > 200:
        raise ValidationError("课程标题不能超过 200 个字", code="title_too_long")
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        raise ValidationError("学时必须是数字", code="invalid_hours") from None
    if not 0 <= hours <= 200 or hours != hours:
        raise ValidationError("学时必须在 0 到 200 之间", code="invalid_hours")
    quiz_code = (quiz_code or "").strip() or None
    if quiz_code and not CODE.match(quiz_code):
        raise ValidationError("测验编码只能用小写字母、数字和连字符", code="invalid_quiz")
    return title, hours, quiz_code


def create_course(actor, *, code: str, title: str, level: str, org: OrgUnit | None, hours=0,
                  quiz_code: str | None = None, tags=(), summary: str = "", now=None) -> Course:
    """A browser-made course (origin web, unpublished until the author publishes it)."""
    now = now or utcnow()
    title, hours, quiz_code = _validate_fields(title, hours, quiz_code)
    # A blank code comes from the title, a typed Chinese one from what was typed (矛盾纠纷调解 → mdjftj-1).
    code, generated = codes.code_or_generate(code, title, lambda c: queries.get_course(c) is not None,
                                             max_len=64, fallback="kc")
    try:
        level = CourseLevel(level)
    except ValueError:
        raise ValidationError("级别必须是县训、乡培或村练", code="invalid_level") from None
    if org is None:
        raise ValidationError("找不到该组织", code="unknown_org")
    if not can_author(actor, level, org):
        raise Forbidden("没有权限：该课程超出了您的编写范围（级别或组织）", code="forbidden")
    if not generated and queries.get_course(code) is not None:
        raise ValidationError(f"课程编码“{code}”已被使用（可留空，自动生成）", code="duplicate_code")
    course = Course(code=code, title=title, level=level, org=org, hours=hours, quiz_code=quiz_code,
                    tags=_clean_tags(tags), summary=summary or "", origin=Origin.web, is_published=False,
                    created_at=now, updated_at=now)
    course.summary_html = render_markdown(course.summary, asset_base=asset_base(code))
    db.session.add(course)
    db.session.flush()
    record("course.create", actor=actor, target_type="course", target=code, org=org, now=now)
    return course


def _touch(course: Course, now) -> None:
    course.version += 1
    course.updated_at = now
    if course.origin == Origin.file:
        # The trainer's edit wins over the file from now on: the import skips this course.
        course.is_detached = True


def update_course(actor, course: Course, *, title: str, hours=0, quiz_code: str | None = None, tags=(),
                  summary: str = "", now=None) -> Course:
    """Edit a course's fields; a file course becomes detached from its file."""
    authorize_author(actor, course)
    now = now or utcnow()
    course.title, course.hours, course.quiz_code = _validate_fields(title, hours, quiz_code)
    course.tags = _clean_tags(tags)
    if summary != course.summary:
        course.summary = summary or ""
        course.summary_html = render_markdown(course.summary, asset_base=asset_base(course.code))
    _touch(course, now)
    record("course.update", actor=actor, target_type="course", target=course.code, org=course.org, now=now)
    return course


def new_version(lesson: Lesson, markdown: str, *, code: str, actor=None, now=None,
                check_unchanged: bool = True) -> LessonVersion | None:
    """Store markdown as the lesson's next version (HTML rendered now, once); None when the text is unchanged."""
    digest = sha256(markdown)
    if lesson.id is not None and check_unchanged:
        current = db.session.scalar(sa.select(LessonVersion.content_hash).where(
            LessonVersion.lesson_id == lesson.id, LessonVersion.version == lesson.version))
        if current == digest:
            return None
    # Versions only ever grow, so the current one is the highest.
    number = lesson.version + 1 if lesson.id is not None else 1
    version = LessonVersion(lesson=lesson, version=number, markdown=markdown, content_hash=digest,
                            html=render_markdown(markdown, asset_base=asset_base(code)), created_at=now or utcnow(),
                            created_by_id=getattr(actor, "id", None))
    lesson.version = number
    # No flush here: the importer adds a thousand lessons and their versions in one batch.
    db.session.add(version)
    return version


def save_lesson(actor, course: Course, *, slug: str | None, title: str, minutes, markdown: str,
                new_slug: str | None = None, now=None) -> Lesson:
    """Create (slug None) or edit a lesson; a changed text becomes a new version, progress stays."""
    authorize_author(actor, course)
    now = now or utcnow()
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ValidationError("请填写课时标题（不超过 200 个字）", code="title_required")
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        raise ValidationError("学习分钟数必须是整数", code="invalid_minutes") from None
    if not 1 <= minutes <= 600:
        raise ValidationError("学习分钟数必须在 1 到 600 之间", code="invalid_minutes")
    markdown = (markdown or "").replace("\r\n", "\n")
    if not markdown.strip():
        raise ValidationError("课时正文不能为空", code="body_required")
    if len(markdown) > MAX_MARKDOWN:
        raise ValidationError("课时正文太长（不超过 20 万字）", code="body_too_long")
    if slug is None:
        # Lesson slugs are unique within the course; retired lessons keep theirs.
        slug, generated = codes.code_or_generate(new_slug, title, lambda s: queries.get_lesson(course, s) is not None,
                                                 max_len=100, fallback="ks")
        if not generated and queries.get_lesson(course, slug) is not None:
            raise ValidationError(f"课时短名“{slug}”已存在（可留空，自动生成）", code="duplicate_slug")
        last = db.session.scalar(sa.select(sa.func.max(Lesson.position)).where(Lesson.course_id == course.id)) or 0
        lesson = Lesson(course_id=course.id, slug=slug, position=last + 1, title=title, minutes=minutes)
    else:
        lesson = queries.get_lesson(course, slug)
        if lesson is None:
            raise NotFound("找不到该课时")
        lesson.title, lesson.minutes, lesson.is_retired = title, minutes, False
    new_version(lesson, markdown, code=course.code, actor=actor, now=now)
    _touch(course, now)
    record("lesson.save", actor=actor, target_type="lesson", target=f"{course.code}/{lesson.slug}", org=course.org,
           now=now)
    return lesson


def reorder_lessons(actor, course: Course, slugs: list[str], now=None) -> None:
    """Put the course's lessons in the order of slugs (every active lesson exactly once)."""
    authorize_author(actor, course)
    lessons = {lesson.slug: lesson for lesson in queries.active_lessons(course)}
    if not isinstance(slugs, list) or sorted(slugs) != sorted(lessons):
        raise ValidationError("顺序必须包含本课程的每一个课时，且每个只出现一次", code="invalid_order")
    for position, slug in enumerate(slugs, 1):
        lessons[slug].position = position
    _touch(course, now or utcnow())


def move_lesson(actor, course: Course, slug: str, delta: int, now=None) -> None:
    """Move one lesson up (-1) or down (+1)."""
    order = [lesson.slug for lesson in queries.active_lessons(course)]
    if slug not in order:
        raise NotFound("找不到该课时")
    i = order.index(slug)
    j = max(0, min(len(order) - 1, i + delta))
    order[i], order[j] = order[j], order[i]
    reorder_lessons(actor, course, order, now=now)


def set_published(actor, course: Course, published: bool, now=None) -> None:
    """Publish or withdraw a course (audited)."""
    authorize_author(actor, course)
    now = now or utcnow()
    if published and not queries.active_lessons(course):
        raise ValidationError("课程还没有课时，不能发布", code="no_lessons")
    course.is_published = bool(published)
    _touch(course, now)
    record("course.publish" if published else "course.unpublish", actor=actor, target_type="course",
           target=course.code, org=course.org, now=now)


def _reencode_image(data: bytes) -> tuple[bytes, str, str]:
    # Late import: Pillow is only needed by uploads.
    from PIL import Image, UnidentifiedImageError

    # Pillow only raises above twice MAX_IMAGE_PIXELS (it merely warns between): the size is checked here,
    # from the header, before anything is decoded.
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind, (width, height) = probe.format, probe.size
                _check_pixels(width, height)
                probe.verify()
        if kind not in ("PNG", "JPEG", "GIF", "WEBP"):
            raise ValidationError("只能上传 PNG、JPEG、GIF、WebP 图片或 PDF", code="unsupported_type")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            out = io.BytesIO()
            if kind == "JPEG":
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                return out.getvalue(), "image/jpeg", "jpg"
            if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                image = image.convert("RGBA")
            image.save(out, "PNG", optimize=True)
            return out.getvalue(), "image/png", "png"
    except Image.DecompressionBombError:  # a frame inside the file larger than its header said
        raise ValidationError(_TOO_MANY_PIXELS.format(size=""), code="image_too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("文件不是有效的图片或 PDF（按内容检查，不看文件名）", code="unsupported_type") from None


_TOO_MANY_PIXELS = f"图片像素太多{{size}}：宽×高不能超过 {MAX_IMAGE_PIXELS // 10_000} 万像素，请缩小后再上传"


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise ValidationError(_TOO_MANY_PIXELS.format(size=f"（{width}×{height}）"), code="image_too_large")


def add_asset(actor, course: Course, filename: str, data: bytes, now=None) -> CourseAsset:
    """Upload an image (checked by content, resized to ≤1600 px, re-encoded) or a PDF (magic bytes)."""
    authorize_author(actor, course)
    now = now or utcnow()
    if not data:
        raise ValidationError("请选择要上传的文件", code="file_required")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError("文件太大：不能超过 5 MB", code="too_large", status=413)
    original = (filename or "").rsplit(".", 1)[0]
    # A Chinese name reads as its pinyin initials (流程图.png → lct.png), so two Chinese-named images do not both
    # become file.png and replace each other.
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", original if original.isascii() else codes.stem(original, max_len=80,
                                                                                           fallback="")
                  ).strip("-")[:80] or "file"
    if data.startswith(b"%PDF-"):
        content_type, extension = "application/pdf", "pdf"
    else:
        data, content_type, extension = _reencode_image(data)
    name = f"{stem}.{extension}"
    asset = db.session.scalar(sa.select(CourseAsset).where(CourseAsset.course_id == course.id,
                                                           CourseAsset.filename == name))
    if asset is None:
        asset = CourseAsset(course_id=course.id, filename=name)
        db.session.add(asset)
    asset.content_type, asset.data, asset.size, asset.content_hash = content_type, data, len(data), sha256(data)
    asset.created_at = now
    _touch(course, now)
    record("course.asset", actor=actor, target_type="course", target=f"{course.code}/{name}", org=course.org, now=now)
    return asset


# --- learning ---------------------------------------------------------------------------------------------------

def _enrollment(user, course: Course, now) -> CourseEnrollment:
    enrollment = queries.get_enrollment(user, course)
    if enrollment is None:
        enrollment = CourseEnrollment(user_id=user.id, course_id=course.id, org_id=user.org_id, started_at=now)
        db.session.add(enrollment)
        db.session.flush()
    return enrollment


def _progress(user, lesson: Lesson) -> LessonProgress:
    progress = db.session.scalar(sa.select(LessonProgress).where(LessonProgress.user_id == user.id,
                                                                 LessonProgress.lesson_id == lesson.id))
    if progress is None:
        progress = LessonProgress(user_id=user.id, lesson_id=lesson.id, course_id=lesson.course_id,
                                  org_id=user.org_id)
        db.session.add(progress)
    return progress


def open_lesson(user, course: Course, lesson: Lesson, now=None) -> None:
    """Remember where the learner is (resume later)."""
    now = now or utcnow()
    enrollment = _enrollment(user, course, now)
    enrollment.last_lesson_id, enrollment.last_opened_at = lesson.id, now
    _progress(user, lesson).last_opened_at = now


def _check_complete(user, course: Course, enrollment: CourseEnrollment, now) -> bool:
    if enrollment.completed_at is not None:
        return True
    done, total = queries.progress_by_course(user, [course.id])[course.id]
    if total and done >= total and (course.quiz_code is None or enrollment.quiz_passed_at is not None):
        enrollment.completed_at, enrollment.completed_org_id = now, user.org_id
        return True
    return False


def complete_lesson(user, course: Course, lesson: Lesson, now=None) -> bool:
    """Mark a lesson done (idempotent; the signal fires once); returns whether the course is now complete."""
    now = now or utcnow()
    enrollment = _enrollment(user, course, now)
    enrollment.last_lesson_id, enrollment.last_opened_at = lesson.id, now
    progress = _progress(user, lesson)
    progress.last_opened_at = now
    if progress.completed_at is None:
        progress.completed_at, progress.org_id = now, user.org_id
        db.session.flush()
        lesson_completed.send(user, lesson=lesson, course=course, now=now)
    return _check_complete(user, course, enrollment, now)


def record_quiz_passed(user, quiz_code: str, now=None) -> None:
    """The quiz of some courses was passed: note it and complete those courses when their lessons are done."""
    now = now or utcnow()
    courses = list(db.session.scalars(sa.select(Course).where(Course.quiz_code == quiz_code)))
    # Certification's quiz-pass check (lms/certification/handlers.py) asks the same right after: told, not re-read.
    db.session.info[("courses_of_quiz", quiz_code)] = {course.code for course in courses}
    for course in courses:
        enrollment = _enrollment(user, course, now)
        if enrollment.quiz_passed_at is None:
            enrollment.quiz_passed_at = now
        _check_complete(user, course, enrollment, now)


def on_quiz_passed(sender, **kwargs) -> None:
    """Receiver of lms.signals.quiz_passed (kwargs quiz_code, or an attempt whose quiz has a code)."""
    code = kwargs.get("quiz_code")
    if code is None:
        attempt = kwargs.get("attempt")
        quiz = getattr(attempt, "quiz", None)
        code = getattr(quiz, "code", None) or getattr(attempt, "quiz_code", None)
    if code and getattr(sender, "id", None) is not None:
        record_quiz_passed(sender, code, now=kwargs.get("now"))


# --- assignments ------------------------------------------------------------------------------------------------

def create_assignment(actor, *, course_code: str | None, quiz_code: str | None, org: OrgUnit | None,
                      role: str | None, due: dt.date | None, now=None, client_addr: str = "",
                      known_quiz_codes: set | None = None) -> Assignment:
    """Assign a course or a quiz to an org subtree (optionally one role), due on a date; audited."""
    now = now or utcnow()
    if bool(course_code) == bool(quiz_code):
        raise ValidationError("请指定课程（course）或测验（quiz）中的一个", code="course_or_quiz")
    if org is None:
        raise ValidationError("找不到该组织", code="unknown_org")
    authorize(actor, Permission.ASSIGN, org)
    course = None
    if course_code:
        course = queries.get_course(course_code)
        if course is None or course.is_retired or not course.is_published:
            raise ValidationError(f"找不到可指派的课程“{course_code}”（不存在、未发布或已停用）", code="unknown_course")
    elif known_quiz_codes is not None and quiz_code not in known_quiz_codes:
        raise ValidationError(f"找不到测验“{quiz_code}”", code="unknown_quiz")
    elif not CODE.match(quiz_code):
        raise ValidationError("测验编码只能用小写字母、数字和连字符", code="unknown_quiz")
    if role:
        try:
            role = Role(role)
        except ValueError:
            raise ValidationError(f"角色“{role}”不存在", code="invalid_role") from None
    if due is None:
        raise ValidationError("请填写截止日期（YYYY-MM-DD）", code="invalid_due")
    if due < now.astimezone(SHANGHAI).date():
        raise ValidationError("截止日期不能早于今天", code="due_in_past")
    assignment = Assignment(course=course, quiz_code=None if course else quiz_code, org=org, role=role or None,
                            due_on=due, created_by_id=getattr(actor, "id", None), created_at=now)
    db.session.add(assignment)
    db.session.flush()
    record("assignment.create", actor=actor, target_type="assignment", target=str(assignment.id), org=org,
           client_addr=client_addr, now=now,
           details={"course": course_code, "quiz": quiz_code, "org": org.code, "role": role and str(role),
                    "due": due.isoformat()})
    notify_assignment(assignment, now=now)
    return assignment


# --- assignment notices and due-date reminders (inbox) ---------------------------------------------------------

#: inbox kinds
ASSIGNMENT_NOTICE_KIND = "assignment_new"
ASSIGNMENT_REMINDER_KIND = "assignment_due"
#: reminders go out this many days before the due date (the latest stage reached wins; each once per person)
REMINDER_DAYS = (3, 1)


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _assignment_what(assignment: Assignment) -> tuple[str, str]:
    """(课程《…》 or 考试《…》, the same-site path to open it)."""
    if assignment.course is not None:
        return f"课程《{assignment.course.title}》", f"/courses/{assignment.course.code}"
    title = queries.quiz_titles([assignment.quiz_code]).get(assignment.quiz_code, assignment.quiz_code)
    return f"考试《{title}》", f"/quizzes/{assignment.quiz_code}/start"


def _post_once(user_ids: list[int], *, kind: str, title: str, body: str, link: str, key: str, now) -> int:
    """One message per person (dedupe_key): people who already have it are skipped; returns how many were posted."""
    already: set[int] = set()
    for chunk in range(0, len(user_ids), 500):
        already.update(db.session.scalars(sa.select(Message.user_id).where(
            Message.user_id.in_(user_ids[chunk:chunk + 500]), Message.dedupe_key == key)))
    rows = [{"user_id": uid, "kind": kind, "title": title[:200], "body": body, "link": link, "dedupe_key": key,
             "created_at": now} for uid in user_ids if uid not in already]
    if rows:
        db.session.execute(sa.insert(Message), rows)
    return len(rows)


def notify_assignment(assignment: Assignment, *, now=None) -> int:
    """Put a notice of a new assignment in the inbox of each person it concerns (once each); how many got one."""
    now = now or utcnow()
    what, link = _assignment_what(assignment)
    due = _chinese_date(assignment.due_on)
    kind_word = "学习任务" if assignment.course is not None else "考试任务"
    body = (f"{assignment.org.name}给您指派了{what}，请在{due}（北京时间）当天结束前完成。"
            f"可在“我的学习”里查看。")
    return _post_once(queries.assignment_recipient_ids(assignment), kind=ASSIGNMENT_NOTICE_KIND,
                      title=f"新的{kind_word}：{what}，{due}截止", body=body, link=link,
                      key=f"assignment:{assignment.id}:new", now=now)


def send_assignment_reminders(*, now=None) -> int:
    """Remind the people who have not finished an assignment 3 days and 1 day before its due date (each stage once
    per person; a stage that had already begun when the assignment was made is skipped). For `tasks run`."""
    now = now or utcnow()
    today = now.astimezone(SHANGHAI).date()
    sent = 0
    for assignment in queries.assignments_due_between(today, today + dt.timedelta(days=max(REMINDER_DAYS))):
        left = (assignment.due_on - today).days
        stage = min(d for d in REMINDER_DAYS if d >= left)
        if assignment.created_at.astimezone(SHANGHAI).date() >= assignment.due_on - dt.timedelta(days=stage):
            continue  # made inside this stage: its notice already said when it is due
        people = queries.assignment_recipient_ids(assignment)
        done = queries.finished_ids(assignment, people)
        people = [uid for uid in people if uid not in done]
        if not people:
            continue
        what, link = _assignment_what(assignment)
        when = {0: "今天", 1: "明天"}.get(left, f"还有 {left} 天")
        sent += _post_once(people, kind=ASSIGNMENT_REMINDER_KIND, title=f"提醒：{what}{when}截止",
                           body=f"{what}的截止日期是{_chinese_date(assignment.due_on)}（北京时间），"
                                f"您还没有完成，请抓紧时间。", link=link,
                           key=f"assignment:{assignment.id}:due{stage}", now=now)
    return sent
