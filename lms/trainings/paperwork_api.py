"""JSON routes of a session's paperwork: materials, the evaluation and its results (under /api/v1/trainings)."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, has_permission
from lms.api import bp, document, iso, json_body
from lms.errors import Forbidden
from lms.extensions import db
from lms.trainings import paperwork
from lms.trainings.api import can_view, load_training
from lms.trainings.models import EVALUATION_QUESTIONS, MaterialKind

_MATERIAL = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"enum": ["file", "lesson"]}, "title": {"type": "string"},
    "filename": {"type": ["string", "null"]}, "content_type": {"type": ["string", "null"]},
    "size": {"type": "integer"}, "url": {"type": ["string", "null"]}, "created_at": {"type": "string"}}}
_RATINGS = {"type": "object", "required": [k for k, _ in EVALUATION_QUESTIONS],
            "properties": {k: {"type": "integer", "minimum": 1, "maximum": 5, "description": label}
                           for k, label in EVALUATION_QUESTIONS}}
_AVERAGES = {"type": "object", "properties": {k: {"type": ["number", "null"]} for k, _ in EVALUATION_QUESTIONS}}
_RESULTS = {"type": "object", "properties": {
    "count": {"type": "integer"}, "attendance_count": {"type": "integer"}, "averages": _AVERAGES,
    "comments": {"type": "array", "items": {"type": "string"}, "description": "不署名，按文字排序"}}}


def material_json(material) -> dict:
    if material.kind is MaterialKind.file:
        url = url_for("trainings.material_file", training_id=material.training_id, material_id=material.id)
    else:
        target = paperwork.material_link(material)
        url = url_for("courses.lesson", code=target[0], slug=target[1]) if target else None
    return {"id": material.id, "kind": material.kind.value, "title": material.title, "filename": material.filename,
            "content_type": material.content_type, "size": material.size, "url": url,
            "created_at": iso(material.created_at)}


@bp.get("/trainings/<int:training_id>/materials")
@document("/trainings/<int:training_id>/materials", "GET", summary="培训材料（文件与关联的课程章节）",
          who="能查看该培训的人（参训人员、管辖范围内的培训师与人事）",
          response_schema={"type": "object", "properties": {"items": {"type": "array", "items": _MATERIAL}}},
          errors=(403, 404))
@login_required
def list_materials(training_id):
    training = load_training(training_id)
    if not can_view(current_user, training):
        raise Forbidden("没有权限查看该培训")
    return jsonify({"items": [material_json(m) for m in paperwork.list_materials(training)]})


@bp.post("/trainings/<int:training_id>/materials")
@document("/trainings/<int:training_id>/materials", "POST",
          summary="添加培训材料：multipart 上传文件（字段 file，可带 title），或 JSON {lesson_id, title} 关联课程章节",
          who="培训师（管辖范围内）。文件按内容检查类型（PDF、Word、Excel、PowerPoint、PNG、JPEG），最大 10 MB（413）；"
              "章节须为参训人员能看到的已发布课程（本单位及上级单位）",
          request_schema={"type": "object", "properties": {
              "lesson_id": {"type": "integer"}, "title": {"type": "string", "maxLength": 200}}},
          response_schema=_MATERIAL, status=201, errors=(400, 403, 404, 413, 422))
@login_required
def add_material(training_id):
    training = load_training(training_id)
    if request.files or (request.mimetype or "").startswith("multipart/"):
        upload = request.files.get("file")
        data = b""
        if upload:
            try:
                data = upload.stream.read(paperwork.MAX_MATERIAL_BYTES + 1)
            finally:
                upload.close()  # a large upload is spooled to a temporary file: let it go now
        material = paperwork.add_file(current_user, training, upload.filename if upload else "", data,
                                      request.form.get("title"))
    else:
        data = json_body()
        material = paperwork.add_lesson_link(current_user, training, data.get("lesson_id"), data.get("title"))
    db.session.commit()
    return jsonify(material_json(material)), 201


@bp.delete("/trainings/<int:training_id>/materials/<int:material_id>")
@document("/trainings/<int:training_id>/materials/<int:material_id>", "DELETE", summary="删除培训材料",
          who="培训师（管辖范围内）", status=204, errors=(403, 404))
@login_required
def delete_material(training_id, material_id):
    training = load_training(training_id)
    authorize(current_user, Permission.RUN_TRAININGS, training.org)
    paperwork.remove_material(current_user, training, paperwork.get_material(training, material_id))
    db.session.commit()
    return "", 204


@bp.get("/trainings/<int:training_id>/evaluation")
@document("/trainings/<int:training_id>/evaluation", "GET", summary="我对本场培训的评价状态",
          who="能查看该培训的人。state：open 可评价、done 已评价、not_attended 未出勤、not_yet 未到时间（结束前 30 "
              "分钟起）、closed 已截止（结束后 30 天）、cancelled 已取消",
          response_schema={"type": "object", "properties": {
              "state": {"enum": ["open", "done", "not_attended", "not_yet", "closed", "cancelled"]},
              "message": {"type": "string"}, "opens_at": {"type": "string"}, "closes_at": {"type": "string"},
              "questions": {"type": "array"}}},
          errors=(403, 404))
@login_required
def my_evaluation(training_id):
    training = load_training(training_id)
    if not can_view(current_user, training):
        raise Forbidden("没有权限查看该培训")
    state = paperwork.evaluation_state(current_user, training)
    opens, closes = paperwork.evaluation_window(training)
    return jsonify({"state": state, "message": paperwork.STATE_MESSAGES.get(state, ""), "opens_at": iso(opens),
                    "closes_at": iso(closes),
                    "questions": [{"key": k, "label": label} for k, label in EVALUATION_QUESTIONS]})


@bp.post("/trainings/<int:training_id>/evaluation")
@document("/trainings/<int:training_id>/evaluation", "POST", summary="提交满意度评价（每人每场一次）",
          who="签到出勤的人员。403 not_attended；409 already_evaluated / evaluation_closed；422 invalid_rating / "
              "invalid_comment（意见建议最多 500 字，纯文字）",
          request_schema={"type": "object", "required": ["ratings"], "properties": {
              "ratings": _RATINGS, "comment": {"type": "string", "maxLength": 500}}},
          response_schema={"type": "object", "properties": {"submitted_at": {"type": "string"}}},
          status=201, errors=(400, 403, 404, 409, 422))
@login_required
def submit_evaluation(training_id):
    training = load_training(training_id)
    data = json_body()
    evaluation = paperwork.submit_evaluation(current_user, training, data.get("ratings"), data.get("comment"))
    db.session.commit()
    return jsonify({"submitted_at": iso(evaluation.submitted_at)}), 201


@bp.get("/trainings/<int:training_id>/evaluations")
@document("/trainings/<int:training_id>/evaluations", "GET", summary="本场培训的评价结果（平均分、份数、不署名意见）",
          who="培训师与人事（管辖范围内）", response_schema=_RESULTS, errors=(403, 404))
@login_required
def session_evaluations(training_id):
    training = load_training(training_id)
    return jsonify(paperwork.session_results(current_user, training))


@bp.get("/trainings/evaluations")
@document("/trainings/evaluations", "GET", summary="按培训师汇总评价：from、to（YYYY-MM-DD）、org、trainer 可选",
          who="培训师与人事（管辖范围内的场次）；带 trainer 时附该培训师的场次与不署名意见",
          response_schema={"type": "object", "properties": {"items": {"type": "array", "items": {
              "type": "object", "properties": {
                  "trainer": {"type": "object"}, "sessions": {"type": "integer"}, "count": {"type": "integer"},
                  "averages": _AVERAGES, "comments": {"type": "array"}, "trainings": {"type": "array"}}}}}},
          errors=(403, 422))
@login_required
def trainer_evaluations():
    from lms.trainings.paperwork_views import results_request
    if not (has_permission(current_user, Permission.RUN_TRAININGS)
            or has_permission(current_user, Permission.VIEW_STATS)):
        raise Forbidden("没有权限查看培训评价", code="forbidden")
    start, end, org, trainer = results_request(request.args, current_user)
    items = paperwork.trainer_results(current_user, start=start, end=end, org=org, trainer=trainer)
    for item in items:
        for training in item.get("trainings", []):
            training["starts_at"] = iso(training["starts_at"])
    return jsonify({"items": items})
