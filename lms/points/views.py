"""The worker's points history page."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from lms.points import queries
from lms.points.models import KIND_LABELS
from lms.web import page_number

bp = Blueprint("points", __name__)


@bp.get("/points")
@login_required
def history():
    page = page_number()
    entries, has_next = queries.list_entries(current_user, page, 50)
    rows = [{"at": e.created_at, "kind": KIND_LABELS[e.kind], "reason": e.reason, "points": e.points}
            for e in entries]
    return render_template("points/history.html", rows=rows, total=queries.total_points(current_user), page=page,
                           has_next=has_next, page_args=lambda n: f"page={n}")
