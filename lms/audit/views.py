"""The audit log page (admin everywhere; HR within their subtree): one Chinese sentence per entry."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user

from lms.accounts.models import User
from lms.accounts.permissions import Permission, require, scope_clause
from lms.audit import render
from lms.audit.models import AuditEntry
from lms.db import SHANGHAI
from lms.extensions import db
from lms.web import page_number

bp = Blueprint("audit", __name__)

PER_PAGE = 100


def _day(name: str) -> tuple[dt.date | None, str]:
    """A date filter: (day, error message)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None, ""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None, f"日期“{raw[:20]}”看不懂，请按 2026-12-20 的格式填写"
    if not 2000 <= day.year <= 2100:
        return None, "日期应在 2000 年至 2100 年之间"
    return day, ""


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.timezone.utc)


def _filters():
    """The filter's query clauses and the values to show back in the form."""
    clauses, errors = [], []
    who = (request.args.get("who") or "").strip()[:100]
    if who:
        ids = sa.select(User.id).where(sa.or_(User.username == who, User.name == who)).scalar_subquery()
        clauses.append(sa.or_(AuditEntry.actor_name == who, AuditEntry.actor_id.in_(ids)))
    action = (request.args.get("action") or "")[:64]
    if action:
        clauses.append(AuditEntry.action.in_(render.codes_for(action)))
    start, error = _day("from")
    errors += [error] if error else []
    end, error = _day("to")
    errors += [error] if error else []
    if start:
        clauses.append(AuditEntry.at >= _local_midnight(start))
    if end:
        clauses.append(AuditEntry.at < _local_midnight(end + dt.timedelta(days=1)))
    if start and end and start > end:
        errors.append("开始日期晚于结束日期")
    values = {"who": who, "action": action, "from": start.isoformat() if start else "",
              "to": end.isoformat() if end else ""}
    return clauses, values, errors


@bp.get("/audit")
@require(Permission.VIEW_AUDIT)
def log():
    page = page_number()
    clause = scope_clause(current_user, Permission.VIEW_AUDIT, AuditEntry.org_path)
    # Admins of the root also see entries without an org (system, unknown usernames).
    if any(g.org.parent_id is None for g in current_user.grants if g.role.value == "admin"):
        clause = sa.or_(clause, AuditEntry.org_path.is_(None))
    clauses, values, errors = _filters()
    query = sa.select(AuditEntry).where(clause, *clauses)
    entries = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * PER_PAGE)
                                      .limit(PER_PAGE + 1)))
    rows = render.render(entries[:PER_PAGE])
    query_args = {k: v for k, v in values.items() if v}
    return render_template("audit/log.html", rows=rows, page=page, has_next=len(entries) > PER_PAGE,
                           groups=render.action_groups(), values=values, errors=errors, query_args=query_args)
