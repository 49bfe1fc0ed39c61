"""The inbox page."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.forms import ConfirmForm
from lms.extensions import db
from lms.inbox import queries, services
from lms.web import page_number

bp = Blueprint("inbox", __name__)


@bp.get("/inbox")
@login_required
def index():
    page = page_number()
    items, has_next = queries.list_messages(current_user, page)
    return render_template("inbox/index.html", messages=items, page=page, has_next=has_next,
                           unread=queries.count_unread(current_user), form=ConfirmForm())


@bp.post("/inbox/read")
@login_required
def read_all():
    services.mark_read(current_user)
    db.session.commit()
    return redirect(url_for("inbox.index"))
