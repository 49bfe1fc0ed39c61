"""HTML pages of fixed exam papers (组卷, preview) and bank management (search, bulk actions, export).

Thin: papers.py does the work. Every form is a plain POST (CSRF), usable without script or dragging:
add, remove and reorder are buttons.
"""
from __future__ import annotations

import io
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from lms.accounts.permissions import Permission, authorize, require, scope_clause
from lms.db import utcnow
from lms.errors import LMSError, NotFound
from lms.extensions import db
from lms.org.models import OrgUnit
from lms.quizzes import papers, queries, services
from lms.quizzes.formats.quiz_file import MAX_MARKS
from lms.quizzes.questions import count_blanks
from lms.quizzes.views import TYPE_LABELS, bank_title, bp

EXPORT_NAMES = {"gift": ("题目选集.gift.txt", "text/plain; charset=utf-8"),
                "xlsx": ("题目选集.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
BULK_ACTIONS = {"tag": "加标签", "untag": "去掉标签", "move": "移到另一个题库", "retire": "停用",
                "restore": "恢复使用", "export_gift": "导出 GIFT", "export_xlsx": "导出 Excel"}


def _authored_quiz(code: str):
    quiz = queries.get_quiz(code[:64])
    if quiz is None:
        raise NotFound(f"测验 {code[:64]} 不存在")
    authorize(current_user, Permission.AUTHOR_CONTENT, quiz)
    return quiz


def _question_row(row, bank) -> dict:
    return {"qid": row.qid, "type_label": TYPE_LABELS.get(row.type, row.type), "stem": row.stem,
            "difficulty": row.difficulty, "tags": "、".join(row.tags or []), "bank": bank_title(bank),
            "bank_code": bank.code, "retired": row.is_retired}


def _filters_page(search) -> dict:
    banks = [(b.code, bank_title(b)) for b, _ in queries.list_banks(sa.true())]
    return {"search": search, "types": TYPE_LABELS, "banks": banks, "statuses": papers.STATUSES}


# --- 组卷 ----------------------------------------------------------------------------------------------------

def _paper_page(quiz, entries, *, problems=(), status=200):
    """The builder: the paper (entries [{qid, marks}], possibly unsaved after a refusal) and the bank search."""
    problem = ""
    try:
        search = papers.parse_search(request.args)
    except LMSError as exc:
        search, problem, status = papers.Search(), exc.message, exc.status
    found, has_next = papers.search_questions(search)
    rows = queries.questions_by_qid(e["qid"] for e in entries)
    items = []
    for number, entry in enumerate(entries, start=1):
        row = rows.get(entry["qid"])
        items.append({"number": number, "qid": entry["qid"], "marks": entry["marks"],
                      "stem": row.stem if row else "（题目已不存在）", "retired": bool(row and row.is_retired),
                      "type_label": TYPE_LABELS.get(row.type, "") if row else ""})
    on_paper = {e["qid"] for e in entries}
    results = [_question_row(row, bank) | {"on_paper": row.qid in on_paper} for row, bank in found]
    total = sum(int(e["marks"]) for e in entries if str(e["marks"]).isdigit())
    args = search.args()
    return render_template(
        "quizzes/paper.html", quiz=quiz, items=items, total=total, results=results, has_next=has_next,
        problems=[p for p in [*problems, problem] if p], max_marks=MAX_MARKS,
        search_args=args, page_url=lambda n: url_for("quizzes.paper", code=quiz.code) + "?" + urlencode(
            search.args(page=n)), **_filters_page(search)), status


@bp.get("/quizzes/<code>/paper")
@require(Permission.AUTHOR_CONTENT)
def paper(code):
    quiz = _authored_quiz(code)
    if not papers.is_fixed(quiz):
        flash("这个测验是随机抽题的；要手选题目，请在测验设置中把组卷方式改为固定试卷", "error")
        return redirect(url_for("quizzes.edit_quiz", code=quiz.code))
    return _paper_page(quiz, list(quiz.fixed_paper or []))


def _apply(entries: list[dict], op: str) -> list[dict]:
    """One builder button on the submitted paper: add:QID, remove:N, up:N, down:N (N: 1-based position)."""
    verb, _, arg = op.partition(":")
    if verb == "add":
        return entries + [{"qid": arg, "marks": 1}]
    if verb in ("remove", "up", "down") and arg.isdigit() and 1 <= int(arg) <= len(entries):
        index = int(arg) - 1
        entries = list(entries)
        if verb == "remove":
            del entries[index]
        elif verb == "up" and index > 0:
            entries[index - 1], entries[index] = entries[index], entries[index - 1]
        elif verb == "down" and index < len(entries) - 1:
            entries[index + 1], entries[index] = entries[index], entries[index + 1]
        return entries
    if verb == "save":
        return entries
    raise papers.bad_input("无法识别的操作，请刷新页面后重试", "invalid_action")


@bp.post("/quizzes/<code>/paper")
@require(Permission.AUTHOR_CONTENT)
def paper_save(code):
    quiz = _authored_quiz(code)
    qids = [q[:64] for q in request.form.getlist("qid")][:papers.MAX_SELECTION]
    entries = [{"qid": qid, "marks": (request.form.get(f"marks-{n}") or "").strip()[:8]}
               for n, qid in enumerate(qids, start=1)]
    try:
        entries = _apply(entries, (request.form.get("op") or "save")[:80])
        papers.save_paper(current_user, quiz, entries, now=utcnow())
    except LMSError as exc:
        db.session.rollback()
        return _paper_page(quiz, entries, problems=[exc.message], status=exc.status)
    db.session.commit()
    flash(f"试卷已保存：{papers.question_count(quiz)} 题，共 {papers.paper_total(quiz)} 分", "success")
    back = url_for("quizzes.paper", code=quiz.code)
    args = {k: v for k, v in request.form.items() if k.startswith("s_") and v}
    if args:
        back += "?" + urlencode({k[2:]: v for k, v in args.items()})
    return redirect(back, 303)


@bp.get("/quizzes/<code>/preview")
@require(Permission.AUTHOR_CONTENT)
def paper_preview(code):
    """The paper as a worker sees it (options shuffled as theirs would be); nothing is recorded."""
    quiz = _authored_quiz(code)
    try:
        items = papers.preview_items(quiz)
    except LMSError as exc:
        flash(exc.message, "error")
        return redirect(url_for("quizzes.paper" if papers.is_fixed(quiz) else "quizzes.edit_quiz", code=quiz.code))
    questions = []
    for number, (item, points) in enumerate(items, start=1):
        question = item.question
        questions.append({
            "number": number, "qid": item.qid, "type": question.type, "type_label": TYPE_LABELS[question.type],
            "points": points, "stem_html": services.render_text(question.stem, question.text_format),
            "options": [{"key": key, "html": services.render_text(text, question.text_format)}
                        for key, text in item.options],
            "blanks": max(1, count_blanks(question.stem)) if question.type == "fill" else 0,
        })
    return render_template("quizzes/paper_preview.html", quiz=quiz, questions=questions,
                           fixed=papers.is_fixed(quiz), total=sum(q["points"] for q in questions))


# --- 题目管理：search and bulk actions -------------------------------------------------------------------------

def _scope_sql():
    return scope_clause(current_user, Permission.AUTHOR_CONTENT, OrgUnit.path)


def _questions_page(*, problems=(), status=200, selected=()):
    problem = ""
    try:
        search = papers.parse_search(request.args)
    except LMSError as exc:
        search, problem, status = papers.Search(), exc.message, exc.status
    found, has_next = papers.search_questions(search, _scope_sql())
    results = [_question_row(row, bank) | {"checked": row.qid in selected} for row, bank in found]
    targets = [(b.code, bank_title(b)) for b, _ in queries.list_banks(_scope_sql())]
    return render_template(
        "quizzes/questions.html", results=results, has_next=has_next, actions=BULK_ACTIONS, targets=targets,
        problems=[p for p in [*problems, problem] if p], search_args=search.args(),
        page_url=lambda n: url_for("quizzes.questions") + "?" + urlencode(search.args(page=n)),
        **_filters_page(search) | {"banks": targets}), status


@bp.get("/quizzes/questions")
@require(Permission.AUTHOR_CONTENT)
def questions():
    return _questions_page()


@bp.post("/quizzes/questions")
@require(Permission.AUTHOR_CONTENT)
def questions_bulk():
    action = request.form.get("action") or ""
    raw = request.form.getlist("qid")[:papers.MAX_SELECTION + 1]
    try:
        if action not in BULK_ACTIONS:
            raise papers.bad_input("请选择要做的操作", "invalid_action")
        rows = bulk(action, papers.clean_qids(raw), tag=request.form.get("tag"), bank=request.form.get("bank_to"))
        if action.startswith("export_"):
            fmt = action.removeprefix("export_")
            data = papers.export_selection(current_user, rows, fmt, now=utcnow())
            db.session.commit()
            name, mimetype = EXPORT_NAMES[fmt]
            return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=mimetype)
    except LMSError as exc:
        db.session.rollback()
        return _questions_page(problems=[exc.message], status=exc.status, selected=set(raw))
    db.session.commit()
    flash(f"已{BULK_ACTIONS[action]}：{rows} 道题", "success")
    back = url_for("quizzes.questions")
    args = {k[2:]: v for k, v in request.form.items() if k.startswith("s_") and v}
    return redirect(back + ("?" + urlencode(args) if args else ""), 303)


def bulk(action: str, qids: list[str], *, tag=None, bank=None):
    """Run one bulk action over a selection the current user may author: the number changed (or, for an
    export, the rows). 403 when any selected question lies outside their banks."""
    rows = papers.selected_rows(qids)
    for row in rows:
        authorize(current_user, Permission.AUTHOR_CONTENT, row.bank)
    now = utcnow()
    if action in ("tag", "untag"):
        return papers.bulk_tag(current_user, rows, tag, remove=action == "untag", now=now)
    if action == "move":
        target = queries.get_bank((bank or "").strip()[:64]) if bank else None
        if target is None or target.is_retired:
            raise papers.bad_input("请选择要移入的题库", "bank_required")
        authorize(current_user, Permission.AUTHOR_CONTENT, target)
        return papers.move_questions(current_user, rows, target, now=now)
    if action in ("retire", "restore"):
        return papers.retire_questions(current_user, rows, action == "retire", now=now)
    return rows

