"""JSON routes of the org tree (names and codes only: nothing personal)."""
from __future__ import annotations

from flask import jsonify
from flask_login import login_required

from lms.api import bp, document
from lms.errors import NotFound
from lms.org.queries import get_org, path_names

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
