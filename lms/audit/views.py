"""The audit log page (admin everywhere; HR within their subtree)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user

from lms.accounts.permissions import Permission, require, scope_clause
from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.web import page_number

bp = Blueprint("audit", __name__)

ACTION_LABELS = {
    "auth.login": "登录", "auth.login_failed": "登录失败", "auth.lockout": "锁定", "auth.logout": "退出",
    "auth.login_refused": "停用账号尝试登录", "roles.change": "角色变更", "accounts.create": "创建账号",
    "accounts.import": "导入人员", "accounts.disable": "停用账号", "accounts.enable": "启用账号",
    "accounts.reset_password": "重置密码", "accounts.change_password": "修改密码", "tokens.create": "创建令牌",
    "org.import": "导入组织", "pii.view": "查看个人信息",
}


@bp.get("/audit")
@require(Permission.VIEW_AUDIT)
def log():
    page = page_number()
    per_page = 100
    clause = scope_clause(current_user, Permission.VIEW_AUDIT, AuditEntry.org_path)
    # Admins of the root also see entries without an org (system, unknown usernames).
    if any(g.org.parent_id is None for g in current_user.grants if g.role.value == "admin"):
        clause = sa.or_(clause, AuditEntry.org_path.is_(None))
    action = request.args.get("action", "")
    query = sa.select(AuditEntry).where(clause)
    if action:
        query = query.where(AuditEntry.action == action)
    entries = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page)
                                      .limit(per_page + 1)))
    rows = [{"at": e.at, "actor": e.actor_name, "action": ACTION_LABELS.get(e.action, e.action),
             "target": e.target, "client": e.client_addr,
             "details": ", ".join(f"{k}={v}" for k, v in (e.details or {}).items() if k != "usernames")}
            for e in entries[:per_page]]
    return render_template("audit/log.html", rows=rows, page=page, has_next=len(entries) > per_page,
                           actions=ACTION_LABELS, action=action)
