"""The paperwork of a session: materials (files, lesson links), the evaluation (满意度) and its results.

Plain functions: validate raw values (form or JSON), check scope through lms.accounts.permissions, audit every
change, never commit.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import unicodedata
import zipfile

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.accounts.permissions import Permission, authorize, can, scope_clause
from lms.audit.services import record
from lms.courses.models import Course, Lesson
from lms.db import utcnow
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.org.models import OrgUnit
from lms.org.models import subtree_clause
from lms.trainings.models import (EVALUATION_QUESTIONS, Attendance, MaterialKind, Training, TrainingEvaluation,
                                  TrainingMaterial)
from lms.trainings.queries import count_attendance, get_attendance, period_bounds

#: a file handed out at a session: at most this large
MAX_MATERIAL_BYTES = 10 * 1024 * 1024
#: materials per session
MAX_MATERIALS = 30
#: the evaluation opens this long before the session ends (filled in the room) ...
EVALUATION_OPENS_BEFORE_END = dt.timedelta(minutes=30)
#: ... and closes this long after it ends
EVALUATION_OPEN_FOR = dt.timedelta(days=30)
MAX_COMMENT = 500
QUESTION_KEYS = tuple(key for key, _ in EVALUATION_QUESTIONS)
QUESTION_LABELS = dict(EVALUATION_QUESTIONS)

_OFFICE = {"word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
           "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
           "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")}
_OLE = {"doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint"}
ALLOWED_TYPES_TEXT = "PDF、Word、Excel、PowerPoint 文件或 PNG、JPEG 图片"


# --- who may do what ---------------------------------------------------------------------------------------------

def manages(user, training: Training) -> bool:
    """Runs trainings over the session's unit: adds materials, prints the sheet, exports the roll."""
    return can(user, Permission.RUN_TRAININGS, training.org)


def sees_results(user, training: Training) -> bool:
    """Trainers and HR over the session's unit read its evaluation results."""
    return can(user, Permission.RUN_TRAININGS, training.org) or can(user, Permission.VIEW_STATS, training.org)


def may_export(user, training: Training) -> bool:
    return can(user, Permission.RUN_TRAININGS, training.org) or can(user, Permission.EXPORT, training.org)


# --- materials ---------------------------------------------------------------------------------------------------

def _clean_filename(filename: str | None) -> str:
    """The uploaded name without folders or control characters, at most 100 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C" and ch not in '<>:"|?*').strip().strip(".")
    return name[-100:] if len(name) > 100 else name


def detect_type(data: bytes, filename: str) -> tuple[str, str]:
    """(content type, extension) judged by the bytes, never the name; ValidationError for anything else."""
    if data.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            names = []
        if "[Content_Types].xml" in names:
            for prefix, kind in _OFFICE.items():
                if any(n.startswith(prefix) for n in names):
                    return kind
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # the old Office format: the name says which
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if extension in _OLE:
            return _OLE[extension], extension
    raise ValidationError(f"不支持该文件类型：只能上传 {ALLOWED_TYPES_TEXT}（按文件内容检查，不看扩展名）",
                          code="unsupported_type")


def _check_material_room(training: Training) -> None:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(TrainingMaterial)
                              .where(TrainingMaterial.training_id == training.id)) or 0
    if count >= MAX_MATERIALS:
        raise ValidationError(f"每场培训最多 {MAX_MATERIALS} 份材料，请先删除不用的", code="too_many_materials")


def _title(value, fallback: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise ValidationError("材料名称必须是文字", code="invalid_title")
    text = text or fallback
    if len(text) > 200:
        raise ValidationError("材料名称不能超过 200 个字", code="invalid_title")
    return text


def add_file(actor, training: Training, filename: str | None, data: bytes | None, title=None,
             now: dt.datetime | None = None) -> TrainingMaterial:
    """Attach an uploaded file (size and type checked by content) to the session."""
    authorize(actor, Permission.RUN_TRAININGS, training.org)
    now = now or utcnow()
    if not data:
        raise ValidationError("请选择要上传的文件（文件为空）", code="file_required")
    if len(data) > MAX_MATERIAL_BYTES:
        raise ValidationError(f"文件太大：不能超过 {MAX_MATERIAL_BYTES // (1024 * 1024)} MB", code="too_large",
                              status=413)
    name = _clean_filename(filename)
    content_type, extension = detect_type(data, name)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem or "材料"
    title = _title(title, stem)
    _check_material_room(training)
    material = TrainingMaterial(training_id=training.id, kind=MaterialKind.file, title=title,
                                filename=f"{stem[:90]}.{extension}", content_type=content_type, size=len(data),
                                content_hash=hashlib.sha256(data).hexdigest(), data=data,
                                created_by_id=getattr(actor, "id", None), created_at=now)
    db.session.add(material)
    db.session.flush()
    record("training.material_add", actor=actor, target_type="training", target=str(training.id), org=training.org,
           details={"training": training.title, "title": title, "file": material.filename, "size": len(data)},
           now=now)
    return material


def lesson_choices(training: Training) -> list[tuple[str, list[tuple[int, str]]]]:
    """[(course title, [(lesson id, lesson title)])]: published lessons every attendee may open (courses of the
    session's unit or a unit above it)."""
    ancestor_ids = [int(part) for part in training.org.path.strip("/").split("/") if part]
    rows = db.session.execute(
        sa.select(Course.title, Lesson.id, Lesson.title)
        .join(Lesson, Lesson.course_id == Course.id)
        .where(Course.is_published, ~Course.is_retired, ~Lesson.is_retired, Course.org_id.in_(ancestor_ids))
        .order_by(Course.title, Course.id, Lesson.position, Lesson.id)).all()
    grouped: dict[str, list[tuple[int, str]]] = {}
    for course_title, lesson_id, lesson_title in rows:
        grouped.setdefault(course_title, []).append((lesson_id, lesson_title))
    return list(grouped.items())


def add_lesson_link(actor, training: Training, lesson_id, title=None,
                    now: dt.datetime | None = None) -> TrainingMaterial:
    """Link a lesson (one the attendees may open) as a material of the session."""
    authorize(actor, Permission.RUN_TRAININGS, training.org)
    now = now or utcnow()
    try:
        key = int(lesson_id) if not isinstance(lesson_id, bool) else None
    except (TypeError, ValueError):
        key = None
    if key is None or not 0 < key < 2 ** 31:
        raise ValidationError("请选择要关联的课程章节", code="invalid_lesson")
    allowed = {lid: (course, title) for course, lessons in lesson_choices(training) for lid, title in lessons}
    if key not in allowed:
        raise ValidationError("该课程章节不存在、未发布，或参训人员看不到（只能关联本单位及上级单位发布的课程）",
                              code="invalid_lesson")
    course_title, lesson_title = allowed[key]
    if db.session.scalar(sa.select(TrainingMaterial.id).where(TrainingMaterial.training_id == training.id,
                                                             TrainingMaterial.lesson_id == key)):
        raise ValidationError(f"已关联过“{lesson_title}”", code="duplicate_lesson")
    title = _title(title, f"{course_title} · {lesson_title}")
    _check_material_room(training)
    material = TrainingMaterial(training_id=training.id, kind=MaterialKind.lesson, title=title, lesson_id=key,
                                created_by_id=getattr(actor, "id", None), created_at=now)
    db.session.add(material)
    db.session.flush()
    record("training.material_add", actor=actor, target_type="training", target=str(training.id), org=training.org,
           details={"training": training.title, "title": title, "lesson": lesson_title}, now=now)
    return material


def get_material(training: Training, material_id) -> TrainingMaterial:
    try:
        key = int(material_id)
    except (TypeError, ValueError):
        key = 0
    material = db.session.get(TrainingMaterial, key) if 0 < key < 2 ** 63 else None
    if material is None or material.training_id != training.id:
        raise NotFound("找不到该材料")
    return material


def remove_material(actor, training: Training, material: TrainingMaterial, now=None) -> None:
    authorize(actor, Permission.RUN_TRAININGS, training.org)
    record("training.material_remove", actor=actor, target_type="training", target=str(training.id),
           org=training.org, details={"training": training.title, "title": material.title}, now=now)
    db.session.delete(material)


def list_materials(training: Training) -> list[TrainingMaterial]:
    return list(db.session.scalars(
        sa.select(TrainingMaterial).where(TrainingMaterial.training_id == training.id)
        .options(joinedload(TrainingMaterial.lesson).joinedload(Lesson.course))
        .order_by(TrainingMaterial.created_at, TrainingMaterial.id)))


def material_link(material: TrainingMaterial) -> tuple[str, str] | None:
    """(course code, lesson slug) of a lesson link still open to learners; None when gone or retired."""
    lesson = material.lesson
    if lesson is None or lesson.is_retired or not lesson.course.is_published or lesson.course.is_retired:
        return None
    return lesson.course.code, lesson.slug


# --- evaluation --------------------------------------------------------------------------------------------------

def evaluation_window(training: Training) -> tuple[dt.datetime, dt.datetime]:
    return training.ends_at - EVALUATION_OPENS_BEFORE_END, training.ends_at + EVALUATION_OPEN_FOR


def get_evaluation(training: Training, user) -> TrainingEvaluation | None:
    return db.session.scalar(sa.select(TrainingEvaluation).where(TrainingEvaluation.training_id == training.id,
                                                                 TrainingEvaluation.user_id == user.id))


def evaluation_state(user, training: Training, now: dt.datetime | None = None) -> str:
    """not_attended | cancelled | done | not_yet | closed | open."""
    now = now or utcnow()
    if get_attendance(training, user) is None:
        return "not_attended"
    if training.is_cancelled:
        return "cancelled"
    if get_evaluation(training, user) is not None:
        return "done"
    opens, closes = evaluation_window(training)
    if now < opens:
        return "not_yet"
    if now > closes:
        return "closed"
    return "open"


STATE_MESSAGES = {
    "not_attended": "只有签到出勤的人员才能评价本场培训",
    "cancelled": "该培训已取消，无需评价",
    "done": "您已评价过本场培训，每人每场只能评价一次",
    "not_yet": "培训结束前 30 分钟起才能评价",
    "closed": "评价已截止：培训结束后 30 天内可以评价",
}


def parse_rating(value, label: str) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError(f"请为“{label}”打分（1–5 分）", code="invalid_rating")
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[1-5]", value):
            raise ValidationError(f"“{label}”的评分应为 1 到 5 的整数", code="invalid_rating")
        return int(value)
    if isinstance(value, int) and 1 <= value <= 5:
        return value
    if isinstance(value, float) and value.is_integer() and 1 <= value <= 5:
        return int(value)
    raise ValidationError(f"“{label}”的评分应为 1 到 5 的整数", code="invalid_rating")


def parse_comment(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("意见建议必须是文字", code="invalid_comment")
    text = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()
    if len(text) > MAX_COMMENT:
        raise ValidationError(f"意见建议不能超过 {MAX_COMMENT} 个字（现有 {len(text)} 个字）", code="invalid_comment")
    return text


def submit_evaluation(user, training: Training, ratings: dict, comment=None,
                      now: dt.datetime | None = None) -> TrainingEvaluation:
    """Record user's evaluation: attendees only, once, within the window; every rating 1–5, comment ≤ 500."""
    now = now or utcnow()
    state = evaluation_state(user, training, now)
    if state == "not_attended":
        raise Forbidden(STATE_MESSAGES[state], code="not_attended")
    if state != "open":
        raise Conflict(STATE_MESSAGES[state], code="already_evaluated" if state == "done" else "evaluation_closed")
    if not isinstance(ratings, dict):
        raise ValidationError("ratings 必须是对象，例如 {\"content\": 5, …}", code="invalid_rating")
    values = {key: parse_rating(ratings.get(key), label) for key, label in EVALUATION_QUESTIONS}
    text = parse_comment(comment)
    evaluation = TrainingEvaluation(training_id=training.id, user_id=user.id, org_id=user.org_id, comment=text,
                                    submitted_at=now, **values)
    try:
        with db.session.begin_nested():
            db.session.add(evaluation)
    except sa.exc.IntegrityError:
        raise Conflict(STATE_MESSAGES["done"], code="already_evaluated") from None
    # The entry names the session, not the answers: the audit log must not undo the comment's anonymity.
    record("training.evaluate", actor=user, target_type="training", target=str(training.id), org=training.org,
           details={"training": training.title}, now=now)
    return evaluation


def pending_evaluations(user, now: dt.datetime | None = None, limit: int = 5) -> list[Training]:
    """Sessions user attended whose evaluation is open and not yet given (home page invitations)."""
    now = now or utcnow()
    return list(db.session.scalars(
        sa.select(Training).join(Attendance, Attendance.training_id == Training.id)
        .where(Attendance.user_id == user.id, Training.is_cancelled.is_(False),
               Training.ends_at <= now + EVALUATION_OPENS_BEFORE_END,
               Training.ends_at >= now - EVALUATION_OPEN_FOR,
               ~sa.exists().where(TrainingEvaluation.training_id == Training.id,
                                  TrainingEvaluation.user_id == user.id))
        .order_by(Training.ends_at.desc()).limit(limit)))


def _summary(where) -> dict:
    """count, averages per question (one decimal) and the comments (text only, no author, no time)."""
    columns = [sa.func.avg(getattr(TrainingEvaluation, key)) for key in QUESTION_KEYS]
    row = db.session.execute(sa.select(sa.func.count(TrainingEvaluation.id), *columns)
                             .join(Training, Training.id == TrainingEvaluation.training_id).where(where)).one()
    count = int(row[0] or 0)
    averages = {key: (round(float(value), 2) if value is not None else None)
                for key, value in zip(QUESTION_KEYS, row[1:])}
    # Sorted by text, not by time: the order must not tell who wrote which (check-in order, room seating).
    comments = sorted(c for c in db.session.scalars(
        sa.select(TrainingEvaluation.comment).join(Training, Training.id == TrainingEvaluation.training_id)
        .where(where, TrainingEvaluation.comment != "")))
    return {"count": count, "averages": averages, "comments": comments}


def session_results(viewer, training: Training) -> dict:
    """Results of one session for trainers and HR in scope (403 otherwise)."""
    if not sees_results(viewer, training):
        raise Forbidden("没有权限查看该培训的评价结果", code="forbidden")
    summary = _summary(TrainingEvaluation.training_id == training.id)
    summary["attendance_count"] = count_attendance(training)
    return summary


def _results_scope(viewer):
    return sa.or_(scope_clause(viewer, Permission.RUN_TRAININGS, OrgUnit.path),
                  scope_clause(viewer, Permission.VIEW_STATS, OrgUnit.path))


def trainer_results(viewer, *, start=None, end=None, org: OrgUnit | None = None,
                    trainer: User | None = None) -> list[dict]:
    """Per trainer over the sessions viewer may see (non-cancelled, in the period, below org): sessions,
    evaluations, averages; with trainer, that trainer's comments and sessions too."""
    conditions = [Training.is_cancelled.is_(False), _results_scope(viewer)]
    if org is not None:
        conditions.append(subtree_clause(OrgUnit.path, org.path))
    if start is not None:
        conditions.append(Training.starts_at >= period_bounds(start, start)[0])
    if end is not None:
        conditions.append(Training.starts_at < period_bounds(end, end)[1])
    if trainer is not None:
        conditions.append(Training.trainer_id == trainer.id)
    visible = sa.select(Training.id).join(OrgUnit, OrgUnit.id == Training.org_id).where(*conditions)
    averages = [sa.func.avg(getattr(TrainingEvaluation, key)) for key in QUESTION_KEYS]
    rows = db.session.execute(
        sa.select(User.id, User.username, User.name, sa.func.count(sa.distinct(Training.id)),
                  sa.func.count(TrainingEvaluation.id), *averages)
        .select_from(Training).join(User, User.id == Training.trainer_id)
        .outerjoin(TrainingEvaluation, TrainingEvaluation.training_id == Training.id)
        .where(Training.id.in_(visible))
        .group_by(User.id, User.username, User.name).order_by(User.username)).all()
    results = []
    for user_id, username, name, sessions, count, *avgs in rows:
        item = {"trainer": {"username": username, "name": name}, "sessions": int(sessions), "count": int(count),
                "averages": {key: (round(float(v), 2) if v is not None else None)
                             for key, v in zip(QUESTION_KEYS, avgs)}}
        if trainer is not None:
            where = sa.and_(Training.id.in_(visible), Training.trainer_id == user_id)
            item["comments"] = _summary(where)["comments"]
            item["trainings"] = []
            for training in db.session.scalars(sa.select(Training).where(where).order_by(Training.starts_at.desc())):
                summary = _summary(TrainingEvaluation.training_id == training.id)
                item["trainings"].append({"id": training.id, "title": training.title,
                                          "starts_at": training.starts_at, "count": summary["count"],
                                          "averages": summary["averages"]})
        results.append(item)
    return results


def invite(user, training: Training, now: dt.datetime | None = None) -> None:
    """The inbox invitation to evaluate, posted once when the person's attendance is recorded."""
    from lms.inbox.services import post  # the inbox hears of attendances, it is not needed for them
    post(user, kind="training_evaluation", title=f"请评价培训“{training.title[:150]}”",
         body="感谢参加培训。培训结束前 30 分钟起至结束后 30 天内，可以填写满意度评价（5 道题和意见建议）；"
              "培训师只看到汇总和不署名的意见。",
         link=f"/trainings/{training.id}/evaluation", dedupe_key=f"training-evaluation:{training.id}", now=now)
