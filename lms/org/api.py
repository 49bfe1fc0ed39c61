"""JSON routes of the org tree (names and codes only: nothing personal); admins import and edit it."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, require, scope_orgs
from lms.api import bp, document, json_body
from lms.audit.services import record
from lms.errors import LMSError, NotFound, ValidationError
from lms.extensions import db
from lms.org.models import GridType
from lms.org.queries import get_org, path_names
from lms.org.services import ORG_FIELD_LABELS, import_orgs, record_org_import, update_org
from lms.web import client_addr

_ORG_SCHEMA = {"type": "object", "properties": {
    "code": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "path": {"type": "string"}, "households": {"type": ["integer", "null"]}, "grid_type": {"type": ["string", "null"]},
    "children": {"type": "array", "items": {"type": "object"}}}}


def _unit(org) -> dict:
    return {"code": org.code, "name": org.name, "kind": org.kind.value, "households": org.households,
            "grid_type": org.grid_type.value if org.grid_type else None}


@bp.get("/orgs/<code>")
@document("/orgs/<code>", "GET", summary="组织单位及其下一级", response_schema=_ORG_SCHEMA, errors=(404,))
@login_required
def org_unit(code):
    org = get_org(code)
    if org is None:
        raise NotFound(f"组织编码 {code} 不存在")
    return jsonify({**_unit(org), "path": path_names(org), "children": [_unit(c) for c in org.children]})


def _scope_paths() -> list[str]:
    return [o.path for o in scope_orgs(current_user, Permission.MANAGE_ORG)]


@bp.patch("/orgs/<code>")
@document("/orgs/<code>", "PATCH", summary="修改单位：改名、调整上级（整棵子树随之移动，人员历史保留）、户数、网格类型",
          who="admin in scope", request_schema={"type": "object", "properties": {
              "name": {"type": "string"}, "parent": {"type": "string"}, "households": {"type": ["integer", "null"]},
              "grid_type": {"type": ["string", "null"], "enum": [g.value for g in GridType] + [None]}}},
          response_schema=_ORG_SCHEMA, errors=(400, 403, 404, 422))
@require(Permission.MANAGE_ORG)
def update_org_unit(code):
    data = json_body()
    unit = get_org(code)
    if unit is None:
        raise NotFound(f"组织编码 {code} 不存在")
    authorize(current_user, Permission.MANAGE_ORG, unit)
    parent = unit.parent
    if "parent" in data:
        parent = get_org(data["parent"]) if isinstance(data["parent"], str) else None
        if parent is None:
            raise ValidationError("上级编码（parent）不存在", code="invalid_field")
        authorize(current_user, Permission.MANAGE_ORG, parent)
    households = data.get("households", unit.households)
    if households is not None and (not isinstance(households, int) or isinstance(households, bool)):
        raise ValidationError("户数（households）应为整数", code="invalid_field")
    grid_type = unit.grid_type
    if "grid_type" in data:
        try:
            grid_type = GridType(data["grid_type"]) if data["grid_type"] is not None else None
        except ValueError:
            raise ValidationError("网格类型（grid_type）应为 urban、rural、mountain 或 special", code="invalid_field") from None
    name = data.get("name", unit.name)
    if not isinstance(name, str):
        raise ValidationError("名称（name）应为文字", code="invalid_field")
    old_name, old_parent = unit.name, unit.parent.name if unit.parent else ""
    changed = update_org(unit, name=name, parent=parent, households=households, grid_type=grid_type)
    if changed:
        labels = [ORG_FIELD_LABELS[k] for k in changed]
        record("org.update", actor=current_user, target_type="org", target=unit.code, org=unit,
               client_addr=client_addr(),
               details={"summary": f"{current_user.name} 修改了“{old_name}”的{'、'.join(labels)}", "name": unit.name,
                        "old_name": old_name, "parent_from": old_parent,
                        "parent_to": unit.parent.name if unit.parent else "", "fields": labels})
    db.session.commit()
    return jsonify({**_unit(unit), "path": path_names(unit), "children": [_unit(c) for c in unit.children]})


@bp.post("/orgs/import")
@document("/orgs/import", "POST", summary="导入组织架构（multipart 表单字段 file：CSV/XLSX，列同 org import），坏行逐行报告",
          who="admin in scope", response_schema={"type": "object", "properties": {
              "created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
              "errors": {"type": "array", "items": {"type": "object", "properties": {
                  "row": {"type": "integer"}, "message": {"type": "string"}}}}}},
          errors=(400, 403, 413, 422))
@require(Permission.MANAGE_ORG)
def import_org_list():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise LMSError("请以 multipart 表单字段 file 上传组织架构文件（CSV 或 XLSX）", code="bad_request", status=400)
    report = import_orgs(upload.read(), upload.filename, scope_paths=_scope_paths())
    record_org_import(current_user, upload.filename, report, client_addr())
    db.session.commit()
    return jsonify(created=report.created, updated=report.updated, unchanged=report.unchanged,
                   errors=[{"row": r, "message": m} for r, m in report.errors])
