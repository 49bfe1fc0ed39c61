"""HTML pages: the list (政策答询), the answer page with its result and the model answer, answer detail with
trainer review, the review queue and statistics."""
from __future__ import annotations

import uuid
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, authorize, can, require
from lms.api import page_args
from lms.consultations import queries, services
from lms.consultations.content import RULE_LABELS, RULE_NAMES
from lms.consultations.models import VERDICT_LABELS, Consultation, ConsultationAnswer
from lms.consultations.rules import MAX_CHARS, MIN_CHARS
from lms.courses.render import trusted
# The statistics page reads the same org and date filters as the drill statistics.
from lms.drills.views import _percent, _stats_request
from lms.errors import Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.web import client_addr, offline_capable

bp = Blueprint("consultations", __name__, template_folder="templates", static_folder="static",
               static_url_path="/consultations-static")
offline_capable("consultations.show")  # the answer page reopens without network, for its user only (sw.js)


def _consultation_or_404(code: str) -> Consultation:
    item = queries.get_consultation(code)
    if item is None or not queries.is_visible(current_user, item):
        raise NotFound("找不到这个政策答询")
    return item


def _answer_or_404(answer_id: int) -> ConsultationAnswer:
    row = queries.get_answer(answer_id)
    if row is None:
        raise NotFound("找不到这份回答")
    return row


def feedback(row: ConsultationAnswer | None) -> dict | None:
    """The result shown above the answer box: verdict, score, every check, the trainer's reviews."""
    if row is None:
        return None
    return {"id": row.id, "verdict": row.verdict.value, "verdict_label": VERDICT_LABELS[row.verdict],
            "score": row.score, "attempt": row.attempt, "created_at": row.created_at, "answer": row.answer,
            "checks": [{"rule": c["rule"], "label": RULE_LABELS.get(c["rule"], c["rule"]), "passed": c["passed"],
                        "message": c["message"]} for c in row.checks],
            "failed": sum(1 for c in row.checks if not c["passed"]),
            "reviews": [{"verdict": VERDICT_LABELS[r.verdict], "score": r.score, "comment": r.comment,
                         "reviewer": r.reviewer.name if r.reviewer else "", "at": r.created_at} for r in row.reviews]}


# ------------------------------------------------------------------ learner pages

@bp.get("/consultations")
@login_required
def index():
    latest = queries.latest_by_consultation(current_user)
    rows = []
    for item in queries.list_visible(current_user):
        last = latest.get(item.id)
        rows.append({"title": item.title, "asker": item.definition.get("asker", ""),
                     "url": url_for("consultations.show", code=item.code),
                     "last": {"verdict": last.verdict.value, "label": VERDICT_LABELS[last.verdict],
                              "score": last.score, "attempt": last.attempt} if last else None})
    return render_template("consultations/index.html", rows=rows,
                           reviewer=can(current_user, Permission.REVIEW_DRILLS),
                           stats=can(current_user, Permission.VIEW_STATS))


@bp.get("/consultations/<code>")
@login_required
def show(code):
    item = _consultation_or_404(code)
    row = None
    if request.args.get("answer"):
        row = queries.get_answer(request.args["answer"])
        if row is None or row.user_id != current_user.id or row.consultation_id != item.id:
            raise NotFound("找不到这份回答")
    mine = queries.list_my_answers(current_user, item)
    latest = row or (mine[0] if mine else None)
    model = item.definition.get("model_answer") if queries.may_see_model(current_user, item) else None
    return render_template(
        "consultations/answer.html", item=item, asker=item.definition.get("asker", ""),
        question_html=trusted(item.question_html), feedback=feedback(row), model_answer=model,
        compare_with=latest.answer if (model and latest) else None,
        history=[{"attempt": a.attempt, "verdict": a.verdict.value, "label": VERDICT_LABELS[a.verdict],
                  "score": a.score, "created_at": a.created_at, "reviewed": bool(a.reviews),
                  "url": url_for("consultations.show", code=item.code, answer=a.id) + "#result"} for a in mine],
        client_id=str(uuid.uuid4()), can_answer=queries.can_answer(current_user, item),
        api_url=url_for("api.submit_answer", code=item.code), min_chars=MIN_CHARS, max_chars=MAX_CHARS)


@bp.post("/consultations/<code>")
@login_required
def submit(code):
    item = _consultation_or_404(code)
    if not queries.can_answer(current_user, item):
        raise Forbidden("这个政策答询已停用，或您的角色不能参加")
    row, _ = services.submit_answer(current_user, item, request.form.get("answer", ""),
                                    client_id=request.form.get("client_id"))
    db.session.commit()
    return redirect(url_for("consultations.show", code=item.code, answer=row.id) + "#result")


# ------------------------------------------------------------------ answer detail and trainer review

@bp.get("/consultation-answers/<int:answer_id>")
@login_required
def answer_detail(answer_id):
    row = _answer_or_404(answer_id)
    if row.user_id != current_user.id and not can(current_user, Permission.REVIEW_DRILLS, row.org):
        raise Forbidden("没有权限查看这份回答")
    return _render_answer(row)


def _render_answer(row: ConsultationAnswer, *, error: str | None = None, values: dict | None = None,
                   status: int = 200):
    item = row.consultation
    reviewer = can(current_user, Permission.REVIEW_DRILLS, row.org) and row.user_id != current_user.id
    own = row.user_id == current_user.id
    model = item.definition.get("model_answer") if (reviewer or queries.may_see_model(row.user, item)) else None
    return render_template(
        "consultations/detail.html", row=row, item=item, asker=item.definition.get("asker", ""),
        question_html=trusted(item.question_html), feedback=feedback(row), model_answer=model, error=error,
        review_values=values or {"verdict": row.verdict.value, "score": row.score, "comment": ""},
        reviewer=reviewer, worker=row.user, org=row.org,
        back_url=url_for("consultations.show", code=item.code) if own else None), status


@bp.post("/consultation-answers/<int:answer_id>/review")
@login_required
def review(answer_id):
    row = _answer_or_404(answer_id)
    authorize(current_user, Permission.REVIEW_DRILLS, row.org)
    try:
        services.review_answer(current_user, row, request.form.get("verdict"), request.form.get("score"),
                               request.form.get("comment"), client_addr=client_addr())
    except (ValidationError, Forbidden) as exc:
        db.session.rollback()
        return _render_answer(row, error=exc.message, status=exc.status,
                              values={k: request.form.get(k, "") for k in ("verdict", "score", "comment")})
    db.session.commit()
    flash("已保存复核结论，网格员会在消息中看到您的评语。", "success")
    return redirect(url_for("consultations.answer_detail", answer_id=answer_id))


@bp.get("/consultations/review")
@require(Permission.REVIEW_DRILLS)
def review_queue():
    page, per_page = page_args()
    code = request.args.get("consultation") or ""
    item = queries.get_consultation(code) if code else None
    verdict = request.args.get("verdict") or None
    rows, has_next = queries.review_queue(current_user, consultation=item, verdict=verdict, page=page,
                                          per_page=per_page)
    args = {k: v for k, v in (("consultation", code), ("verdict", verdict)) if v}
    return render_template(
        "consultations/review_queue.html",
        rows=[{"url": url_for("consultations.answer_detail", answer_id=r.id), "title": r.consultation.title,
               "worker": r.user.name, "username": r.user.username, "org": r.org.name, "attempt": r.attempt,
               "verdict": r.verdict.value, "verdict_label": VERDICT_LABELS[r.verdict], "score": r.score,
               "reviewed": bool(r.reviews), "created_at": r.created_at} for r in rows],
        items=[(c.code, c.title) for c in queries.list_visible(current_user)], selected=args, page=page,
        has_next=has_next, page_args=lambda p: urlencode(args | {"page": p}))


# ------------------------------------------------------------------ statistics

@bp.get("/consultations/stats")
@require(Permission.VIEW_STATS)
def stats():
    org, start, end, _period, units = _stats_request()
    data = queries.statistics(org, start, end)
    return render_template(
        "consultations/stats.html", org=org, units=[(u.code, u.name) for u in units], data=data,
        rules=[row | {"label": RULE_LABELS[row["rule"]]} for row in data["by_rule"]],
        rule_labels=[(r, RULE_LABELS[r]) for r in RULE_NAMES], percent=_percent,
        selected={"org": org.code, "from": request.args.get("from", ""), "to": request.args.get("to", "")})
