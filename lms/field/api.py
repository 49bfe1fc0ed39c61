"""JSON routes of the field feature: POST /api/v1/field/import, GET /api/v1/field/quality."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, require
from lms.accounts.services import store_upload
from lms.api import bp, document
from lms.errors import LMSError
from lms.extensions import db
from lms.field import queries, services
from lms.field.views import period, quality_org, quality_result
from lms.web import client_addr

_FIGURES = {"type": "object", "properties": {
    "events": {"type": "integer"}, "returned": {"type": "integer"}, "return_rate": {"type": ["number", "null"]},
    "by_reason": {"type": "object", "description": "退回原因 → 件数（描述不清、要素不全、信息不实、分类错误、部门错误；"
                  "其他原因合计为“其他”）"},
    "by_reason_rate": {"type": "object", "description": "退回原因 → 占全部上报事件的比例"},
    "overdue": {"type": "integer"}, "overdue_rate": {"type": ["number", "null"]},
    "duplicates": {"type": "integer"}, "duplicate_rate": {"type": ["number", "null"]},
    "rated": {"type": "integer", "description": "有满意度评价的事件数"},
    "satisfaction": {"type": ["number", "null"], "description": "满意度平均分（1–5），无评价时为 null"}}}
_UNIT = {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                          "kind": {"type": "string"}}}
_PERSON = {"type": "object", "properties": {"username": {"type": "string"}, "name": {"type": "string"},
                                            **_FIGURES["properties"]}}
_QUALITY_SCHEMA = {"type": "object", "properties": {
    "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
    "org": _UNIT, **_FIGURES["properties"],
    "children": {"type": "array", "items": {"type": "object", "properties": {"org": _UNIT,
                                                                             **_FIGURES["properties"]}}},
    "people": {"type": ["array", "null"], "items": _PERSON,
               "description": "乡镇（街道）及以下单位才列出每个人（退回率高的在前），更高层级为 null"},
    "person": {**_PERSON, "description": "只有没有团队查看权限的网格员：本人的数字（此时没有 org、children、people）"}}}
_PARAMS = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
           for n, d in (("org", "组织编码，默认本人团队查看范围的最上级单位；网格员不填（只看本人）"),
                        ("from", "YYYY-MM-DD，默认截止日期前 12 个月"), ("to", "YYYY-MM-DD，默认今天"))]


@bp.get("/field/quality")
@document("/field/quality", "GET", summary="现场上报质量：单位及各直属下级、各网格员的上报事件数、按原因的退回率、超时、重复、满意度",
          who="人事、培训师、网格长（管辖范围内）；网格员只看本人", response_schema=_QUALITY_SCHEMA,
          errors=(403, 404, 422), params=_PARAMS)
@login_required
def quality_api():
    start, end = period(request.args)
    org = quality_org(current_user, request.args.get("org"))
    if org is None:  # a worker: their own events only
        authorize(current_user, Permission.LEARN)
        person = {"username": current_user.username, "name": current_user.name,
                  **queries.person_quality(current_user, start, end)}
        return jsonify({"from": start.isoformat(), "to": end.isoformat(), "person": person})
    return jsonify(quality_result(org, start, end))


_IMPORT_SCHEMA = {"type": "object", "properties": {
    "added": {"type": "integer"}, "unchanged": {"type": "integer"}, "error_count": {"type": "integer"},
    "errors": {"type": "array", "description": "有错误的行（最多列出 1000 行），这些行未导入",
               "items": {"type": "object", "properties": {"row": {"type": "integer"}, "message": {"type": "string"}}}},
    "unknown_usernames": {"type": "array", "description": "系统中没有的工号及其行数（这些行未导入）",
                          "items": {"type": "object", "properties": {"username": {"type": "string"},
                                                                     "rows": {"type": "integer"}}}}}}


@bp.post("/field/import")
@document("/field/import", "POST", summary="导入网格平台的事件导出（multipart 表单字段 file：CSV/XLSX），按事件编号去重，坏行逐行报告",
          who="人事、管理员", response_schema=_IMPORT_SCHEMA, errors=(400, 403, 413, 422))
@require(Permission.IMPORT_FIELD)
def import_api():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise LMSError("请以 multipart 表单字段 file 上传事件导出文件（CSV 或 XLSX）", code="bad_request", status=400)
    stored, _ = store_upload(current_user, services.UPLOAD_KIND, upload.read(), upload.filename)
    report = services.confirm_upload(current_user, stored, client_addr=client_addr())
    db.session.commit()
    return jsonify(added=report.added, unchanged=report.unchanged, error_count=report.error_count,
                   errors=[{"row": row, "message": message} for row, message in report.errors],
                   unknown_usernames=[{"username": k, "rows": v} for k, v in report.unknown.items()])
