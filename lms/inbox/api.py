"""JSON routes of the inbox: one's own messages only."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required

from lms.api import bp, document, iso, json_body, page_args
from lms.errors import LMSError
from lms.extensions import db
from lms.inbox import queries, services

_MESSAGE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"},
    "link": {"type": ["string", "null"]}, "created_at": {"type": "string"}, "read": {"type": "boolean"}}}


@bp.get("/inbox")
@document("/inbox", "GET", summary="我的消息（最新在前）", response_schema={"type": "object", "properties": {
    "messages": {"type": "array", "items": _MESSAGE}, "unread": {"type": "integer"},
    "next": {"type": ["integer", "null"]}}}, errors=(400,))
@login_required
def inbox():
    page, per_page = page_args()
    items, has_next = queries.list_messages(current_user, page, per_page)
    return jsonify(messages=[{"id": m.id, "kind": m.kind, "title": m.title, "body": m.body, "link": m.link,
                              "created_at": iso(m.created_at), "read": m.read_at is not None} for m in items],
                   unread=queries.count_unread(current_user), next=page + 1 if has_next else None)


@bp.post("/inbox/read")
@document("/inbox/read", "POST", summary="标记消息已读（不给 ids 则全部已读）",
          request_schema={"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "integer"}}}},
          errors=(400,))
@login_required
def mark_read():
    data = json_body()
    ids = data.get("ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
        raise LMSError("ids 必须是整数列表", code="bad_request", status=400)
    changed = services.mark_read(current_user, ids)
    db.session.commit()
    return jsonify(marked=changed)
