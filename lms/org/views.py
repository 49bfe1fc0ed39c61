"""The org tree page."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from lms.accounts.models import User, UserStatus
from lms.accounts.permissions import Permission, require, scope_orgs
from lms.extensions import db
from lms.org.models import GRID_TYPE_LABELS, OrgUnit, subtree_clause
from lms.org.queries import list_subtree

bp = Blueprint("org", __name__)


@bp.get("/org")
@require(Permission.VIEW_USERS)
def tree():
    roots = scope_orgs(current_user, Permission.VIEW_USERS)
    paths = sorted({r.path for r in roots})
    roots = [r for r in {r.path: r for r in roots}.values()
             if not any(r.path != p and r.path.startswith(p) for p in paths)]
    units = [u for root in sorted(roots, key=lambda r: r.path) for u in list_subtree(root)]
    counts = dict(db.session.execute(
        sa.select(User.org_id, sa.func.count()).join(OrgUnit, OrgUnit.id == User.org_id)
        .where(User.status == UserStatus.active,
               sa.or_(*(subtree_clause(OrgUnit.path, r.path) for r in roots)) if roots else sa.false())
        .group_by(User.org_id)).all())
    base_depth = min((u.depth for u in units), default=0)
    rows = [{"code": u.code, "name": u.name, "kind": u.kind_label, "indent": u.depth - base_depth,
             "households": u.households or "", "grid_type": GRID_TYPE_LABELS.get(u.grid_type, "") if u.grid_type else "",
             "members": counts.get(u.id, 0)} for u in units]
    return render_template("org/tree.html", rows=rows)
