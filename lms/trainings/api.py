"""JSON routes of trainings: create, list, roll call, self check-in, the trainer screen's rotating code."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, can
from lms.api import bp, document, iso, json_body, page_args
from lms.db import local, utcnow
from lms.errors import Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.org.queries import get_org
from lms.trainings import queries, services
from lms.trainings.codes import step_ends_at
from lms.trainings.models import Training

_TRAINING_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "level": {"enum": ["county", "township", "village"]}, "level_label": {"type": "string"},
    "title": {"type": "string"}, "date": {"type": "string", "format": "date"}, "start": {"type": "string"},
    "end": {"type": "string"}, "starts_at": {"type": "string"}, "ends_at": {"type": "string"},
    "place": {"type": "string"}, "hours": {"type": "number"},
    "org": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    "trainer": {"type": "object", "properties": {"username": {"type": "string"}, "name": {"type": "string"}}},
    "is_cancelled": {"type": "boolean"}, "attendance_count": {"type": "integer"}}}

_CREATE_SCHEMA = {"type": "object", "required": ["level", "title", "date", "place", "hours", "org"], "properties": {
    "level": {"enum": ["county", "township", "village"]}, "title": {"type": "string", "maxLength": 200},
    "date": {"type": "string", "format": "date", "description": "YYYY-MM-DD（北京时间）"},
    "start": {"type": "string", "description": "HH:MM，默认 08:00"},
    "end": {"type": "string", "description": "HH:MM，默认 18:00"},
    "place": {"type": "string", "maxLength": 200}, "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 24},
    "org": {"type": "string", "description": "参训组织编码：其下属全部人员可参训"},
    "trainer": {"type": "string", "description": "授课培训师工号，默认本人"}}}


def training_json(training: Training, attendance_count: int | None = None) -> dict:
    """The public shape of a training."""
    return {
        "id": training.id, "level": training.level.value, "level_label": training.level_label,
        "title": training.title, "date": local(training.starts_at).date().isoformat(),
        "start": local(training.starts_at).strftime("%H:%M"), "end": local(training.ends_at).strftime("%H:%M"),
        "starts_at": iso(training.starts_at), "ends_at": iso(training.ends_at), "place": training.place,
        "hours": float(training.hours), "org": {"code": training.org.code, "name": training.org.name},
        "trainer": {"username": training.trainer.username, "name": training.trainer.name},
        "is_cancelled": training.is_cancelled,
        "attendance_count": queries.count_attendance(training) if attendance_count is None else attendance_count,
    }


def load_training(training_id: int) -> Training:
    training = queries.get_training(training_id)
    if training is None:
        raise NotFound("找不到该培训")
    return training


def can_view(user, training: Training) -> bool:
    """Runs trainings or sees statistics there, or may attend it."""
    return (can(user, Permission.RUN_TRAININGS, training.org) or can(user, Permission.VIEW_STATS, training.org)
            or user.org.is_within(training.org))


def parse_period(args) -> tuple:
    """from/to query arguments (YYYY-MM-DD, optional); 422 when malformed or from > to."""
    start = services.parse_date(args["from"], "起始日期 from") if args.get("from") else None
    end = services.parse_date(args["to"], "截止日期 to") if args.get("to") else None
    if start and end and start > end:
        raise ValidationError("起始日期不能晚于截止日期", code="invalid_period")
    return start, end


@bp.post("/trainings")
@document("/trainings", "POST", summary="创建线下培训场次", who="培训师（管辖范围内）", request_schema=_CREATE_SCHEMA,
          response_schema=_TRAINING_SCHEMA, status=201, errors=(400, 403, 422))
@login_required
def create_training():
    data = json_body()
    training = services.create_training(
        current_user, level=data.get("level"), title=data.get("title"), date=data.get("date"),
        start=data.get("start"), end=data.get("end"), place=data.get("place"), hours=data.get("hours"),
        org=data.get("org") if isinstance(data.get("org"), str) else "", trainer=_username(data.get("trainer")))
    db.session.commit()
    return jsonify(training_json(training, 0)), 201


def _username(value):
    if value is None or isinstance(value, str):
        return value
    raise ValidationError("trainer 应为培训师工号（字符串）", code="unknown_trainer")


@bp.get("/trainings")
@document("/trainings", "GET", summary="培训场次列表（按开始时间倒序）", who="培训师、人事（管辖范围内）；网格员看到可参加的场次",
          response_schema={"type": "object", "properties": {"trainings": {"type": "array", "items": _TRAINING_SCHEMA},
                                                            "next": {"type": ["integer", "null"]}}},
          errors=(400, 403, 404, 422),
          params=[{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
                  for n, d in (("org", "组织编码：只列该组织及下级的场次"), ("from", "YYYY-MM-DD"), ("to", "YYYY-MM-DD"),
                               ("page", "页码"), ("per_page", "每页条数，最多 500"))])
@login_required
def list_trainings():
    page, per_page = page_args()
    start, end = parse_period(request.args)
    org = None
    if request.args.get("org"):
        org = get_org(request.args["org"])
        if org is None:
            raise NotFound(f"组织编码 {request.args['org']} 不存在")
        if not (can(current_user, Permission.RUN_TRAININGS, org) or can(current_user, Permission.VIEW_STATS, org)):
            raise Forbidden("没有权限：该组织不在您的管辖范围内")
    items, has_next = queries.list_trainings(current_user, org=org, start=start, end=end, page=page,
                                             per_page=per_page)
    return jsonify({"trainings": [training_json(t) for t in items], "next": page + 1 if has_next else None})


@bp.get("/trainings/<int:training_id>")
@document("/trainings/<int:training_id>", "GET", summary="一场培训", who="培训师、人事（管辖范围内）、参训范围内的人员",
          response_schema=_TRAINING_SCHEMA, errors=(403, 404))
@login_required
def get_training(training_id):
    training = load_training(training_id)
    if not can_view(current_user, training):
        raise Forbidden("没有权限查看该培训")
    return jsonify(training_json(training))


@bp.post("/trainings/<int:training_id>/attendance")
@document("/trainings/<int:training_id>/attendance", "POST", summary="点名：记录出勤（可重复提交）",
          who="培训师（管辖范围内）。有任何一个工号不存在、已离岗或不属于参训组织时，整批拒绝（422，error.details 列出），不保存任何记录",
          request_schema={"type": "object", "required": ["usernames"],
                          "properties": {"usernames": {"type": "array", "items": {"type": "string"}}}},
          response_schema={"type": "object", "properties": {
              "added": {"type": "array", "items": {"type": "string"}},
              "already": {"type": "array", "items": {"type": "string"}}, "attendance_count": {"type": "integer"}}},
          errors=(400, 403, 404, 409, 422))
@login_required
def record_attendance(training_id):
    training = load_training(training_id)
    data = json_body()
    result = services.record_roll(current_user, training, data.get("usernames"))
    db.session.commit()
    return jsonify({**result, "attendance_count": queries.count_attendance(training)})


@bp.post("/trainings/<int:training_id>/checkin")
@document("/trainings/<int:training_id>/checkin", "POST", summary="自助签到（培训师屏幕上的 6 位签到码，可离线输入后上传）",
          who="参训组织内的人员。201 首次签到；200 已签到（含同一 client_id 的重试）；422 invalid_code / "
              "invalid_captured_at / checkin_upload_too_late；403 not_in_training_org；409 checkin_closed（开始前 "
              "30 分钟至结束之外，或已取消）；429 too_many_wrong_codes（每人每分钟最多输错 10 次）。离线输入时带上 "
              "captured_at：按该时刻的签到码（前后各一步）核对，该时刻须在签到时间内，且 24 小时内上传",
          request_schema={"type": "object", "required": ["code"], "properties": {
              "code": {"type": "string", "pattern": "^[0-9]{6}$"},
              "captured_at": {"type": "string", "format": "date-time"},
              "client_id": {"type": "string", "format": "uuid"}}},
          response_schema={"type": "object", "properties": {
              "training": _TRAINING_SCHEMA, "checked_in_at": {"type": "string"}, "method": {"type": "string"},
              "hours": {"type": "number"}}},
          status=201, errors=(400, 403, 404, 409, 422, 429))
@login_required
def check_in(training_id):
    training = load_training(training_id)
    data = json_body()
    try:
        attendance, created = services.check_in(current_user, training, data.get("code"), data.get("client_id"),
                                                captured_at=data.get("captured_at"))
    except services.WrongCode:
        db.session.commit()  # the wrong code counts towards the limit although the answer is an error
        raise
    db.session.commit()
    return jsonify({"training": training_json(training), "checked_in_at": iso(attendance.recorded_at),
                    "method": attendance.method.value, "hours": float(training.hours)}), 201 if created else 200


def code_payload(training: Training, now=None) -> dict:
    """What the trainer's screen shows: the current code, its QR target and when to fetch the next one."""
    now = now or utcnow()
    code, step = services.current_checkin_code(training, now)
    opens, closes = services.checkin_window(training)
    return {"code": code, "step": step, "refresh_at": iso(step_ends_at(step)),
            "seconds_left": max(1, int((step_ends_at(step) - now).total_seconds())),
            "checkin_url": checkin_url(training, code),
            "qr_url": url_for("trainings.qr_svg", training_id=training.id, step=step),
            "open": not training.is_cancelled and opens <= now <= closes,
            "opens_at": iso(opens), "closes_at": iso(closes), "attendance_count": queries.count_attendance(training)}


def checkin_url(training: Training, code: str) -> str:
    """Absolute URL of the learner's check-in page with the code filled in (what the QR encodes)."""
    from flask import current_app  # only here: the public base URL is configuration
    base = current_app.config.get("PUBLIC_URL", "").rstrip("/")
    return base + url_for("trainings.checkin_page", training_id=training.id, code=code)


@bp.get("/trainings/<int:training_id>/code")
@document("/trainings/<int:training_id>/code", "GET", summary="培训师屏幕：当前签到码（每 30 秒更换）",
          who="培训师（管辖范围内）",
          response_schema={"type": "object", "properties": {
              "code": {"type": "string"}, "step": {"type": "integer"}, "refresh_at": {"type": "string"},
              "seconds_left": {"type": "integer"}, "checkin_url": {"type": "string"}, "qr_url": {"type": "string"},
              "open": {"type": "boolean"}, "opens_at": {"type": "string"}, "closes_at": {"type": "string"},
              "attendance_count": {"type": "integer"}}},
          errors=(403, 404))
@login_required
def current_code(training_id):
    training = load_training(training_id)
    authorize(current_user, Permission.RUN_TRAININGS, training.org)
    return jsonify(code_payload(training))

