"""JSON route of the worker's own points ledger."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required

from lms.api import bp, document, iso, page_args
from lms.points import queries

_SCHEMA = {"type": "object", "properties": {
    "total": {"type": "integer"},
    "entries": {"type": "array", "items": {"type": "object", "properties": {
        "at": {"type": "string"}, "kind": {"type": "string"}, "points": {"type": "integer"},
        "reason": {"type": "string"}}}},
    "next": {"type": ["integer", "null"]}}}


@bp.get("/me/points")
@document("/me/points", "GET", summary="我的积分明细（最新在前）", who="any", response_schema=_SCHEMA, errors=(400,))
@login_required
def my_points():
    page, per_page = page_args()
    entries, has_next = queries.list_entries(current_user, page, per_page)
    return jsonify({"total": queries.total_points(current_user),
                    "entries": [{"at": iso(e.created_at), "kind": e.kind.value, "points": e.points, "reason": e.reason}
                                for e in entries],
                    "next": page + 1 if has_next else None})
