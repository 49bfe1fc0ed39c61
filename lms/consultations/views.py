"""HTML pages: the list (政策答询), the answer page with its result and the model answer, answer detail with
trainer review, the review queue and statistics."""
from __future__ import annotations

import uuid
from urllib.parse import urlencode

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms import codes
from lms.accounts.permissions import Permission, authorize, can, require, scope_orgs
from lms.api import page_args
from lms.audit.services import record_after_read
from lms.consultations import authoring, queries, services
from lms.consultations.content import RULE_LABELS, RULE_NAMES, from_definition, parse_consultation
from lms.consultations.models import VERDICT_LABELS, Consultation, ConsultationAnswer
from lms.consultations.rules import MAX_CHARS, MIN_CHARS, evaluate
from lms.consultations.synonyms import propose
from lms.contentfile import ContentErrors
from lms.courses.render import MarkdownRefused, render_markdown, trusted
# The statistics page reads the same org and date filters as the drill statistics.
from lms.drills.views import _percent, _scoped_units, _stats_request
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.org.queries import get_org
from lms.reports.exports import iter_xlsx
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
                           stats=can(current_user, Permission.VIEW_STATS),
                           author=can(current_user, Permission.AUTHOR_CONTENT))


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
        synonyms=synonym_proposals(row) if reviewer else None,
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


# ------------------------------------------------------------------ authoring (trainers in scope)

def _editor_context(values: dict, *, item: Consultation | None, errors: list[str], checks: list | None,
                    model_accepted: bool | None) -> dict:
    m = authoring.meta(item.definition) if item else None
    return dict(values=values, item=item, errors=errors, checks=checks, model_accepted=model_accepted,
                meta=m, state_label=authoring.STATE_LABELS.get(m["state"], "") if m else "",
                units=[(u.code, u.name) for u in _scoped_units(Permission.AUTHOR_CONTENT)],
                preview_html=_markdown_preview(values.get("question") or ""),
                yaml_text=authoring.to_yaml(item.definition) if item and m["origin"] == "file" else "",
                limits={"title": authoring.MAX_TITLE, "asker": authoring.MAX_ASKER,
                        "question": authoring.MAX_QUESTION, "model_answer": authoring.MAX_MODEL_ANSWER})


def _markdown_preview(text: str):
    try:
        return trusted(render_markdown(text))
    except MarkdownRefused:
        return trusted("")


@bp.get("/consultations/manage")
@require(Permission.AUTHOR_CONTENT)
def manage():
    rows = []
    for item in queries.list_authored(current_user):
        m = authoring.meta(item.definition)
        rows.append({"title": item.title, "org": item.org.name, "version": item.version,
                     "state": authoring.STATE_LABELS.get(m["state"], "") if m["origin"] == "web" or m["detached"]
                     else ("已停用" if item.is_retired else "已发布"),
                     "origin": "网页" if m["origin"] == "web" else ("文件（已脱钩）" if m["detached"] else "文件"),
                     "edit": url_for("consultations.edit", code=item.code)})
    return render_template("consultations/manage.html", rows=rows)


@bp.route("/consultations/new", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def new():
    return _editor(None)


@bp.route("/consultations/<code>/edit", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def edit(code):
    item = queries.get_consultation(code)
    if item is None:
        raise NotFound("找不到这个政策答询")
    authorize(current_user, Permission.AUTHOR_CONTENT, item.org)
    return _editor(item)


def _parse_form(form, code: str) -> tuple[object, list[str], object]:
    """(parsed consultation or None, errors, evaluation of the model answer or None)."""
    data, errors = authoring.definition_from_form(form, code=code)
    parsed = evaluation = None
    if not errors:
        try:
            parsed = parse_consultation(authoring.yaml_for_parse(data), "网页表单")
        except ContentErrors as exc:
            errors.extend(e.message for e in exc.errors)
    if parsed is not None:
        evaluation = evaluate(parsed.model_answer, parsed)
        errors.extend(authoring.model_problems(evaluation))
        try:
            render_markdown(parsed.question)
        except MarkdownRefused as exc:
            errors.append(f"群众的问题：{exc}")
    return parsed, errors, evaluation


def _editor(item: Consultation | None):
    template = "consultations/edit.html"
    if request.method == "GET":
        if item:
            values = authoring.form_values(item.definition)
            evaluation = evaluate(item.definition.get("model_answer") or "", from_definition(item.definition))
            checks, accepted = authoring.checks_json(evaluation), evaluation.verdict == "accepted"
        else:
            root = scope_orgs(current_user, Permission.AUTHOR_CONTENT)
            values, checks, accepted = authoring.form_values({"org": root[0].code if root else ""}), None, None
        return render_template(template, **_editor_context(values, item=item, errors=[], checks=checks,
                                                           model_accepted=accepted))
    code = item.code if item else (request.form.get("code") or "").strip()
    if item is None and not codes.CODE.match(code):
        # Never typed by hand: a blank (or Chinese) code comes from the title (交满十五年 → jmswn-1).
        code = codes.generate(code or request.form.get("title") or "", lambda c: queries.get_consultation(c)
                              is not None or c in authoring.RESERVED_CODES, max_len=80, fallback="zx")
    values = authoring.posted_values(request.form, code)
    parsed, errors, evaluation = _parse_form(request.form, code)
    if code in authoring.RESERVED_CODES:
        errors.append(f"代码“{code}”是系统保留字，请换一个")
    org = get_org((request.form.get("org") or "").strip()[:64])
    if org is None:
        errors.append("请选择所属单位")
    else:
        authorize(current_user, Permission.AUTHOR_CONTENT, org)
    checks = authoring.checks_json(evaluation) if evaluation else None
    accepted = evaluation.verdict == "accepted" if evaluation else None
    if errors:
        return render_template(template, **_editor_context(values, item=item, errors=errors, checks=checks,
                                                           model_accepted=accepted)), 422
    publish = request.form.get("action") == "publish"
    try:
        saved = services.save_authored_consultation(current_user, item, parsed, org, publish=publish,
                                                    client_addr=client_addr())
    except (ValidationError, Conflict) as exc:
        db.session.rollback()
        return render_template(template, **_editor_context(values, item=item, errors=[exc.message], checks=checks,
                                                           model_accepted=accepted)), exc.status
    db.session.commit()
    state = authoring.meta(saved.definition)["state"]
    flash(f"已保存第 {saved.version} 版" + ("并发布，学员可以作答了" if state == "published"
                                         else "（草稿，学员看不到）" if state == "draft" else "（已停用，学员看不到）"),
          "success")
    return redirect(url_for("consultations.edit", code=saved.code))


@bp.post("/consultations/<code>/retire")
@require(Permission.AUTHOR_CONTENT)
def retire(code):
    item = queries.get_consultation(code)
    if item is None:
        raise NotFound("找不到这个政策答询")
    authorize(current_user, Permission.AUTHOR_CONTENT, item.org)
    services.retire_authored(current_user, item, client_addr=client_addr())
    db.session.commit()
    flash("已停用：学员看不到这道题了，已有的回答都保留。再次“保存并发布”即可重新启用。", "success")
    return redirect(url_for("consultations.edit", code=item.code))


@bp.post("/consultations/preview/check")
@require(Permission.AUTHOR_CONTENT)
def check_model():
    """检查范文: the editor's fields as sent (not saved) → the rules run on its model answer, as JSON."""
    if not request.form:
        return jsonify(error={"code": "bad_request", "message": "请求体应为编辑表单的字段"}), 400
    parsed, errors, evaluation = _parse_form(request.form, "check-only")
    if evaluation is None:
        return jsonify(accepted=False, errors=errors, checks=[])
    return jsonify(accepted=evaluation.verdict == "accepted", errors=[e for e in errors
                                                                      if not e.startswith("示范回答未通过")],
                   checks=authoring.checks_json(evaluation))


# ------------------------------------------------------------------ the checker learns from trainers

def synonym_proposals(row: ConsultationAnswer) -> dict | None:
    """For a trainer's accepting override of an answer key_points returned: the worker's words per missed point."""
    if row.verdict.value != "accepted" or not row.reviews or not any(
            c.get("rule") == "key_points" and not c.get("passed") for c in row.checks):
        return None
    item = row.consultation
    proposals = propose(row.answer, from_definition(item.definition, item.code))
    if not proposals:
        return None
    owned = authoring.browser_owned(item.definition)
    return {"proposals": proposals, "one_click": owned and can(current_user, Permission.AUTHOR_CONTENT, item.org),
            "from_file": not owned, "source_path": item.source_path}


@bp.post("/consultation-answers/<int:answer_id>/synonyms")
@login_required
def add_synonym(answer_id):
    row = _answer_or_404(answer_id)
    authorize(current_user, Permission.REVIEW_DRILLS, row.org)
    authorize(current_user, Permission.AUTHOR_CONTENT, row.consultation.org)
    try:
        services.add_synonym(current_user, row.consultation, request.form.get("point", ""),
                             request.form.get("words"), answer=row, client_addr=client_addr())
    except (ValidationError, Conflict) as exc:
        db.session.rollback()
        return _render_answer(row, error=exc.message, status=exc.status)
    db.session.commit()
    flash(f"已把“{request.form.get('words', '').strip()}”加为要点“{request.form.get('point', '')}”的讲法"
          f"（第 {row.consultation.version} 版），以后这样回答就算讲到了。", "success")
    return redirect(url_for("consultations.answer_detail", answer_id=answer_id) + "#synonyms")


# ------------------------------------------------------------------ statistics export

EXPORT_VIEWS = {"consultation": "按题目", "rule": "按规则"}
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pct(rate):
    return None if rate is None else round(rate * 100, 1)


def export_table(view: str, data: dict) -> tuple[list[str], list[list]]:
    """(header, rows) of one statistics view; no person is listed."""
    if view == "rule":
        return (["规则", "未通过份数", "占回答份数(%)", "培训老师改判通过份数", "准确率(%)"],
                [[RULE_LABELS[r["rule"]], r["failed"], _pct(r["rate"]), r["overturned"], _pct(r["precision"])]
                 for r in data["by_rule"]])
    return (["题目", "回答份数", "退回份数", "退回率(%)", "首次回答份数", "首次退回份数", "首次退回率(%)",
             *[f"未通过：{RULE_LABELS[r]}" for r in RULE_NAMES]],
            [[r["title"], r["answers"], r["returned"], _pct(r["return_rate"]), r["first_answers"],
              r["first_returned"], _pct(r["first_return_rate"]), *[r["by_rule"][x] for x in RULE_NAMES]]
             for r in data["by_consultation"]])


@bp.get("/consultations/stats.xlsx")
@require(Permission.VIEW_STATS)
def stats_export():
    org, start, end, _period, _units = _stats_request()
    view = request.args.get("view") or "consultation"
    if view not in EXPORT_VIEWS:
        raise ValidationError("导出内容（view）只能是 consultation（按题目）或 rule（按规则）", code="invalid_view")
    header, rows = export_table(view, queries.statistics(org, start, end))
    record_after_read("export.consultation_stats", actor=current_user, target_type="export",
                      target="consultations/stats.xlsx", org=org, client_addr=client_addr(),
                      details={"org": org.code, "from": request.args.get("from") or None,
                               "to": request.args.get("to") or None, "view": view, "rows": len(rows),
                               "pii_unmasked": False})
    safe = "".join(ch for ch in org.code if ch.isascii() and (ch.isalnum() or ch in "-_")) or "org"
    return Response(iter_xlsx(header, rows, f"政策答询{EXPORT_VIEWS[view]}"), mimetype=_XLSX, headers={
        "Content-Disposition": f'attachment; filename="consultation-stats-{view}-{safe}.xlsx"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
