"""HTML pages: my quizzes, the answering screen, results, the 错题本, item statistics, bank import."""
from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from lms import codes
from lms.accounts.permissions import (
    Permission, authorize, can, has_permission, require, scope_clause, scope_orgs, scoped_org,
)
from lms.accounts.queries import get_user
from lms.audit.services import record, record_after_read
from lms.contentfile import ContentErrors
from lms.db import SHANGHAI, local, utcnow
from lms.errors import LMSError, NotFound, ValidationError
from lms.extensions import db
from lms.org.models import OrgUnit
from lms.quizzes import exports, papers, queries, retake, services
from lms.quizzes.api import authorize_grant, may_grant, own_attempt, settle_overdue, sittable_quiz
from lms.quizzes.draw import check_draws
from lms.quizzes.formats import IMPORT_FORMATS
from lms.quizzes.formats.quiz_file import DrawSpec
from lms.quizzes.formats.xlsx import answer_text, build_template, parse_answer_text
from lms.quizzes.models import ATTEMPT_STATUS_LABELS, AttemptStatus, Question
from lms.quizzes.questions import OPTION_KEYS, answer_to_json, count_blanks, split_blanks
from lms.quizzes.questions import Question as QuestionValue
from lms.quizzes.questions import ID_RE
from lms.quizzes.sync import import_question_file, live_pools, suggested_bank_title
from lms.web import client_addr, page_number

bp = Blueprint("quizzes", __name__)

TYPE_LABELS = {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题"}
FLAG_LABELS = {"too_easy": "过易", "too_hard": "过难", "negative_discrimination": "区分度为负"}
TEMPLATE_NAME = "题库导入模板.xlsx"


def _fmt(value, fmt="%Y-%m-%d %H:%M"):
    return local(value).strftime(fmt) if value else ""


def _answer_text(qtype: str, answer) -> str:
    """An answer as a learner reads it: letters, 正确/错误, or the blanks' texts."""
    if answer is None or answer == [] or answer == "":
        return "未作答"
    if qtype == "judge":
        return "正确" if answer else "错误"
    if qtype == "fill":
        return "；".join((a[0] if isinstance(a, list) else str(a)) or "（空）" for a in answer)
    if isinstance(answer, list):
        return "".join(answer)
    return str(answer)


@bp.get("/quizzes")
@login_required
def index():
    now = utcnow()
    best = queries.best_scores(current_user)
    assigned = queries.assigned_quiz_codes(current_user)
    extra = queries.extra_attempts_by_quiz(current_user.id)  # 补考
    rows = []
    seen = set()
    for quiz in queries.quizzes_for(current_user) + [q for code in assigned
                                                     if (q := queries.get_quiz(code)) and not q.is_retired]:
        if quiz.code in seen:
            continue
        seen.add(quiz.code)
        attempts = queries.attempts_of(current_user, quiz)
        used = len(attempts)
        open_one = next((a for a in attempts if a.status == AttemptStatus.open), None)
        limit = quiz.max_attempts + extra.get(quiz.id, 0) if quiz.max_attempts else None
        retake_note = ""
        if limit and quiz.retake_after_days and used >= limit:
            # 补考 after a wait: count the current round only; a round whose wait has passed starts afresh.
            used, reopens = retake.current_round([a.started_at for a in attempts], limit,
                                                 dt.timedelta(days=quiz.retake_after_days))
            if reopens is not None and now >= reopens:
                used = 0
            elif reopens is not None:
                retake_note = f"（{_fmt(reopens)} 起可补考）"
        window = ""
        if quiz.opens_at or quiz.closes_at:
            window = f"{_fmt(quiz.opens_at) or '即日'} 至 {_fmt(quiz.closes_at) or '不限'}"
        if quiz.annual_opens and quiz.annual_closes:
            window = retake.window_label(quiz.annual_opens, quiz.annual_closes) + (f"（{window}）" if window else "")
        rows.append({
            "code": quiz.code, "title": quiz.title, "minutes": quiz.time_limit_minutes,
            "pass_score": quiz.pass_score, "questions": papers.question_count(quiz),
            "attempts": f"{used} / {limit}{retake_note}" if limit else f"{used}（不限次数）",
            "best": best.get(quiz.code), "window": window, "due": assigned.get(quiz.code),
            "open_attempt": open_one.id if open_one else None,
            "can_start": services.quiz_is_open(quiz, now) and (limit is None or used < limit),
            "confirm": queries.needs_confirmation(quiz, queries.Allowance(used, limit, None if limit is None
                                                                          else limit - used, None)),
            "last_result": next((a.id for a in attempts if a.status != AttemptStatus.open), None),
            "stats_url": url_for("quizzes.stats", code=quiz.code)
            if can(current_user, Permission.AUTHOR_CONTENT, quiz) else None,
        })
    return render_template("quizzes/index.html", rows=rows,
                           can_author=has_permission(current_user, Permission.AUTHOR_CONTENT))


#: where the confirmation page's 返回 leads (?from=…); anything else goes back to the quiz list
_BACK = {"learning": ("courses.learning", "返回我的学习"), "quizzes": ("quizzes.index", "返回测验列表")}


def _confirm_facts(quiz, allowance, now) -> dict:
    """What the worker must know before a start that cannot be undone, as sentences."""
    deadline_cut = quiz.closes_at and quiz.closes_at < now + dt.timedelta(minutes=quiz.time_limit_minutes)
    if allowance.left is None:
        attempts = "不限次数"
    elif allowance.left == 1:
        attempts = "这是最后 1 次作答机会" if allowance.used else f"只有 1 次作答机会（共 {allowance.limit} 次）"
    else:
        attempts = f"还可作答 {allowance.left} 次（共 {allowance.limit} 次，已用 {allowance.used} 次）"
    return {"questions": papers.question_count(quiz), "minutes": quiz.time_limit_minutes,
            "pass_score": quiz.pass_score, "attempts": attempts, "last_chance": allowance.left == 1,
            "closes": _fmt(quiz.closes_at) if deadline_cut else ""}


@bp.get("/quizzes/<code>/start")
@login_required
def confirm_start(code):
    quiz = sittable_quiz(code)
    now = utcnow()
    attempts = queries.attempts_of(current_user, quiz)
    open_one = next((a for a in attempts if a.status == AttemptStatus.open and not services.is_overdue(a, now)), None)
    if open_one is not None:
        return redirect(url_for("quizzes.attempt", attempt_id=open_one.id))
    allowance = queries.attempt_allowance(current_user, quiz, now, attempts)
    blocked = ""
    if not services.quiz_is_open(quiz, now):
        blocked = services.not_open_message(quiz)
    elif allowance.left == 0:
        blocked = f"本测验最多可作答 {allowance.limit} 次，您已用完" + (
            f"；可于 {_fmt(allowance.reopens)} 后补考" if allowance.reopens else "")
    endpoint, back_label = _BACK.get(request.args.get("from", ""), _BACK["quizzes"])
    return render_template("quizzes/confirm.html", quiz=quiz, facts=_confirm_facts(quiz, allowance, now),
                           blocked=blocked, back_url=url_for(endpoint), back_label=back_label)


def _window_text(quiz) -> str:
    window = ""
    if quiz.opens_at or quiz.closes_at:
        window = f"{_fmt(quiz.opens_at) or '即日'} 至 {_fmt(quiz.closes_at) or '不限'}"
    if quiz.annual_opens and quiz.annual_closes:
        window = retake.window_label(quiz.annual_opens, quiz.annual_closes) + (f"（{window}）" if window else "")
    return window


def learning_exams(user) -> list[dict]:
    """我的学习: the quizzes assigned to the learner and the scheduled exams they may sit, with window and due date;
    not passed first (overdue, then soonest due), passed last."""
    now = utcnow()
    today = now.astimezone(SHANGHAI).date()
    items = []
    exams = queries.exams_for(user)
    if not exams:
        return items
    mine = queries.attempts_by_quiz(user, [quiz.id for quiz, _ in exams])
    extra = queries.extra_attempts_by_quiz(user.id)
    for quiz, due in exams:
        attempts = mine[quiz.id]
        allowance = queries.attempt_allowance(user, quiz, now, attempts, extra.get(quiz.id, 0))
        open_one = next((a for a in attempts if a.status == AttemptStatus.open and not services.is_overdue(a, now)),
                        None)
        passed = any(a.passed for a in attempts)
        facts = [("题量", f"{papers.question_count(quiz)} 题，限时 {quiz.time_limit_minutes} 分钟")]
        if window := _window_text(quiz):
            facts.append(("开放时间", window))
        if due:
            facts.append(("完成期限", f"{due:%Y-%m-%d}"))
        if allowance.limit is not None:
            facts.append(("作答次数", f"已用 {allowance.used} / {allowance.limit}"))
        overdue = bool(due and due < today and not passed)
        url, action, urgent = None, "", overdue
        if open_one is not None:
            state, url, action, urgent = "答题中：计时未停，请尽快完成", url_for("quizzes.attempt", attempt_id=open_one.id), \
                "继续作答", True
        elif passed:
            state = "已通过"
            last = next((a for a in attempts if a.status != AttemptStatus.open), None)
            url, action = (url_for("quizzes.result", attempt_id=last.id), "查看成绩") if last else (None, "")
        elif not services.quiz_is_open(quiz, now):
            state = "现在不在开放时间内"
        elif allowance.left == 0:
            state = "作答次数已用完" + (f"，{_fmt(allowance.reopens)} 起可补考" if allowance.reopens else "")
        else:
            state = ("已逾期，请尽快参加" if overdue else "未通过，可再次作答" if attempts else "未参加")
            url, action = url_for("quizzes.confirm_start", code=quiz.code, **{"from": "learning"}), "开始考试"
        items.append({"title": quiz.title, "facts": facts, "state": state, "urgent": urgent, "url": url,
                      "action": action, "_key": (passed, not urgent, due or dt.date.max, quiz.title)})
    items.sort(key=lambda item: item["_key"])
    for item in items:
        del item["_key"]
    return items


@bp.post("/quizzes/<code>/start")
@login_required
def start(code):
    quiz = sittable_quiz(code)
    try:
        attempt, _ = services.start_attempt(current_user, quiz, now=utcnow())
    except LMSError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("quizzes.index"))
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id):
    found = settle_overdue(own_attempt(attempt_id), utcnow())
    if found.status != AttemptStatus.open:
        return redirect(url_for("quizzes.result", attempt_id=found.id))
    # The page holds no question: the script loads the paper from the API (no key is ever in it).
    page = render_template("quizzes/attempt.html", attempt=found, quiz=found.quiz,
                           api_url=url_for("api.get_attempt", attempt_id=found.id),
                           result_url=url_for("quizzes.result", attempt_id=found.id))
    # The service worker keeps this page for its user: a reload without network reopens the quiz
    # from the paper and answers kept in localStorage.
    return page, 200, {"X-LMS-Offline": "page"}


@bp.get("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id):
    found = settle_overdue(own_attempt(attempt_id), utcnow())
    if found.status == AttemptStatus.open:
        return redirect(url_for("quizzes.attempt", attempt_id=found.id))
    items = []
    for number, row in enumerate(services.results(found), start=1):
        correct = row["correct_answer"]
        mine = row["your_answer"]
        options = []
        for option in row["options"]:
            key = option["key"]
            options.append({"key": key, "text": option["text"], "html": option["html"],
                            "mine": key == mine or (isinstance(mine, list) and key in mine),
                            "correct": key == correct or (isinstance(correct, list) and key in correct)})
        items.append({**row, "number": number, "type_label": TYPE_LABELS[row["type"]], "option_rows": options,
                      "your_text": _answer_text(row["type"], mine),
                      "correct_text": _answer_text(row["type"], correct)})
    right = sum(1 for item in items if item["correct"])
    # A fixed paper's marks per question (a drawn paper: every question worth 1, nothing more to show)
    weighted = any(item["points"] != 1 for item in items)
    return render_template("quizzes/result.html", attempt=found, quiz=found.quiz, items=items, right=right,
                           weighted=weighted, earned=sum(item["earned"] for item in items),
                           total=sum(item["points"] for item in items),
                           status_label=ATTEMPT_STATUS_LABELS[found.status],
                           graded_at=_fmt(found.graded_at))


# --- 错题本 ------------------------------------------------------------------------------------------------

def _today():
    return utcnow().astimezone(SHANGHAI).date()


def _correct_text(row) -> str:
    """The right answer of a question as the learner reads it: letters with their option text, 正确/错误, blanks."""
    value = services.question_value(row)
    if value.type in ("single", "multiple"):
        keys = sorted(value.answer) if value.type == "multiple" else [value.answer]
        return "；".join(f"{k}. {value.options.get(k, '')}" for k in keys)
    return _answer_text(value.type, answer_to_json(value.type, value.answer))


@bp.get("/mistakes")
@login_required
def mistakes():
    today = _today()
    rows, _ = queries.due_mistakes(current_user, today, 1, 500)
    found = queries.questions_by_qid(m.qid for m, _, _ in rows)
    mine = queries.last_wrong_answers(current_user, found)
    items = []
    for m, _stem, _fmt_ in rows:
        row = found[m.qid]
        items.append({"qid": m.qid, "box": m.box, "next_review_on": m.next_review_on.isoformat(),
                      "due": m.next_review_on <= today, "type_label": TYPE_LABELS.get(row.type, ""),
                      "stem_html": services.render_text(row.stem, row.text_format),
                      "correct_text": _correct_text(row),
                      "your_text": _answer_text(row.type, mine[m.qid]) if m.qid in mine else "",
                      "explanation_html": services.render_text(row.explanation, row.text_format)
                      if row.explanation else "",
                      "source": row.source, "wrong_on": local(m.last_wrong_at).date().isoformat()})
    total, due = queries.count_mistakes(current_user, today)
    return render_template("quizzes/mistakes.html", items=items, total=total, due=due,
                           today_count=len(queries.todays_mistakes(current_user, today)),
                           topics_url=url_for("quizzes.topics"))


# --- practice rounds: today's mistakes at once, one topic from the bank -------------------------------------

#: questions in one topic round: the worker may choose, within bounds
TOPIC_SIZES = (5, 10, 20)


def _round_question(row, number: int, feedback: dict | None = None) -> dict:
    """One question of a practice round for the page; with feedback, its grading and the teaching."""
    pieces = split_blanks(row.stem) if row.type == "fill" else []
    q = {"qid": row.qid, "number": number, "type": row.type, "type_label": TYPE_LABELS.get(row.type, ""),
         "stem_html": services.render_text(row.stem, row.text_format),
         "options": [{"key": k, "html": services.render_text(v, row.text_format)}
                     for k, v in (row.options or {}).items()],
         "blanks": max(1, count_blanks(row.stem)) if row.type == "fill" else 0, "pieces": pieces}
    if feedback is not None:
        mine, right = feedback["your_answer"], feedback["correct_answer"]
        for option in q["options"]:
            key = option["key"]
            option["mine"] = key == mine or (isinstance(mine, list) and key in mine)
            option["correct"] = key == right or (isinstance(right, list) and key in right)
        q.update(feedback=feedback, your_text=_answer_text(row.type, feedback["your_answer"]),
                 correct_text=_correct_text(row),
                 explanation_html=services.render_text(row.explanation, row.text_format) if row.explanation else "")
    return q


def _raw_answer(qtype: str, qid: str):
    if qtype == "multiple":
        return request.form.getlist(f"a-{qid}")
    if qtype == "fill":
        return request.form.getlist(f"b-{qid}")
    if qtype == "judge":
        return {"true": True, "false": False}.get(request.form.get(f"a-{qid}", ""))
    return request.form.get(f"a-{qid}")


def _round_page(kind: str, title: str, rows: list, *, tag: str = "", results=None, status: int = 200):
    questions = [_round_question(row, n, results.get(row.qid) if results else None)
                 for n, row in enumerate(rows, start=1)]
    right = sum(1 for q in questions if q.get("feedback") and q["feedback"]["correct"])
    return render_template("quizzes/round.html", kind=kind, title=title, questions=questions, tag=tag,
                           graded=results is not None, right=right,
                           action=url_for("quizzes.today_round_submit") if kind == "today"
                           else url_for("quizzes.topic_round_submit"),
                           again_url=url_for("quizzes.topic_round", tag=tag, n=len(rows)) if kind == "topic"
                           else url_for("quizzes.today_round")), status


def _submitted_qids(allowed: set[str]) -> list[str]:
    """The question ids the round's form carried, in order; refused when any is not part of the round."""
    qids = list(dict.fromkeys(q for q in request.form.getlist("qid") if q))[:max(TOPIC_SIZES)]
    if not qids:
        raise ValidationError("这次练习没有题目，请重新开始练习", code="empty_practice")
    unknown = [q for q in qids if q not in allowed]
    if unknown:
        raise ValidationError("练习中的题目已不在可练习的范围内，请重新开始练习", code="unknown_question")
    return qids


@bp.get("/mistakes/today")
@login_required
def today_round():
    mistakes = queries.todays_mistakes(current_user, _today())
    if not mistakes:
        flash("今天没有新的错题可练。可以按专题练习，或等错题到期后复习。", "success")
        return redirect(url_for("quizzes.mistakes"))
    found = queries.questions_by_qid(m.qid for m in mistakes)
    return _round_page("today", "现在练一练：今天做错的题", [found[m.qid] for m in mistakes if m.qid in found])


@bp.post("/mistakes/today")
@login_required
def today_round_submit():
    # Any notebook entry not mastered may be answered: one answered right a moment ago has left today's list.
    mistakes = queries.mistakes_by_qid(current_user, request.form.getlist("qid")[:max(TOPIC_SIZES)])
    qids = _submitted_qids(set(mistakes))
    found = queries.questions_by_qid(qids)
    rows = [found[q] for q in qids if q in found]
    results = services.grade_practice(current_user.id, {r.qid: r for r in rows},
                                      {r.qid: _raw_answer(r.type, r.qid) for r in rows}, mistakes, now=utcnow())
    db.session.commit()
    return _round_page("today", "现在练一练：结果", rows, results={r["qid"]: r for r in results})


def _topic_tag(value: str) -> tuple[str, list[int]]:
    tag = (value or "").strip()[:64]
    if not tag:
        raise ValidationError("请选择要练习的专题", code="tag_required")
    banks = queries.practice_bank_ids(current_user)
    if tag not in queries.practice_topics(banks):
        raise NotFound(f"没有“{tag}”这个专题的题目，请从专题列表中选择")
    return tag, banks


@bp.get("/practice")
@login_required
def topics():
    topics_found = queries.practice_topics(queries.practice_bank_ids(current_user))
    rows = [{"tag": tag, "count": n, "urls": [(size, url_for("quizzes.topic_round", tag=tag, n=size))
                                              for size in sorted({min(s, n) for s in TOPIC_SIZES})]}
            for tag, n in topics_found.items()]
    return render_template("quizzes/topics.html", rows=rows)


@bp.get("/practice/round")
@login_required
def topic_round():
    tag, banks = _topic_tag(request.args.get("tag", ""))
    try:
        size = int(request.args.get("n", TOPIC_SIZES[1]))
    except ValueError:
        size = 0
    if not 1 <= size <= max(TOPIC_SIZES):
        raise ValidationError(f"每次练习的题数只能是 1–{max(TOPIC_SIZES)} 道", code="invalid_size")
    qids = queries.topic_qids(banks, tag)
    picked = services.pick_practice(qids, size)
    found = queries.questions_by_qid(picked)
    return _round_page("topic", f"专题练习：{tag}", [found[q] for q in picked], tag=tag)


@bp.post("/practice/round")
@login_required
def topic_round_submit():
    tag, banks = _topic_tag(request.form.get("tag", ""))
    qids = _submitted_qids(set(queries.topic_qids(banks, tag)))
    found = queries.questions_by_qid(qids)
    rows = [found[q] for q in qids]
    results = services.grade_practice(current_user.id, {r.qid: r for r in rows},
                                      {r.qid: _raw_answer(r.type, r.qid) for r in rows},
                                      queries.mistakes_by_qid(current_user, qids), now=utcnow(), record_wrong=True)
    db.session.commit()
    return _round_page("topic", f"专题练习：{tag}（结果）", rows, tag=tag, results={r["qid"]: r for r in results})


def _practice_view(mistake, feedback=None):
    row = services.question_value(
        db.session.execute(db.select(Question).where(Question.qid == mistake.qid)).scalar_one())
    pieces = split_blanks(row.stem) if row.type == "fill" else []
    return {
        "qid": row.id, "type": row.type, "type_label": TYPE_LABELS[row.type], "box": mistake.box,
        "stem_html": services.render_text(row.stem, row.text_format),
        "options": [{"key": k, "html": services.render_text(v, row.text_format)} for k, v in row.options.items()],
        "blanks": max(1, count_blanks(row.stem)) if row.type == "fill" else 0, "pieces": pieces,
        "feedback": feedback,
        "explanation_html": services.render_text(row.explanation, row.text_format) if feedback else "",
    }


@bp.get("/mistakes/practice")
@login_required
def practice():
    mistake = queries.next_practice(current_user, _today())
    if mistake is None:
        flash("今天没有需要复习的错题了。", "success")
        return redirect(url_for("quizzes.mistakes"))
    return render_template("quizzes/practice.html", q=_practice_view(mistake))


@bp.post("/mistakes/practice/<qid>")
@login_required
def practice_answer(qid):
    mistake = queries.get_mistake(current_user, qid)
    if mistake is None or mistake.mastered_at is not None:
        raise NotFound("错题本中没有这道题")
    qtype = services.question_value(db.session.execute(
        db.select(Question).where(Question.qid == qid)).scalar_one()).type
    if qtype == "multiple":
        raw = request.form.getlist("answer")
    elif qtype == "fill":
        raw = request.form.getlist("blank")
    elif qtype == "judge":
        raw = {"true": True, "false": False}.get(request.form.get("answer", ""))
    else:
        raw = request.form.get("answer")
    try:
        feedback = services.practise(mistake, raw, now=utcnow())
    except LMSError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("quizzes.practice"))
    db.session.commit()
    feedback["correct_text"] = _answer_text(qtype, feedback["correct_answer"])
    return render_template("quizzes/practice.html", q=_practice_view(mistake, feedback))


# --- trainers ----------------------------------------------------------------------------------------------

@bp.get("/quizzes/<code>/stats")
@require(Permission.AUTHOR_CONTENT)
def stats(code):
    quiz = queries.get_quiz(code)
    if quiz is None:
        raise NotFound(f"测验 {code} 不存在")
    authorize(current_user, Permission.AUTHOR_CONTENT, quiz)
    attempts, questions = queries.item_statistics(quiz)
    for row in questions:
        row["facility_pct"] = f"{row['facility'] * 100:.0f}%"
        row["discrimination_text"] = "—" if row["discrimination"] is None else f"{row['discrimination']:.1f}"
        row["flag_labels"] = [FLAG_LABELS[f] for f in row["flags"]]
        names = {"true": "正确", "false": "错误"}
        row["counts_text"] = "，".join(f"{names.get(k, k)}: {n}" for k, n in row["option_counts"].items()) or "—"
        for choice in row["choices"]:
            choice["share_pct"] = f"{choice['share'] * 100:.0f}%"
        row["type_label"] = TYPE_LABELS[row["type"]]
    return render_template("quizzes/stats.html", quiz=quiz, attempts=attempts, questions=questions)


@bp.get("/quizzes/<code>/results.<fmt>")
@login_required
def results_export(code, fmt):
    if fmt not in ("csv", "xlsx"):
        raise NotFound("只能导出 csv 或 xlsx")
    quiz = queries.get_quiz(code)
    if quiz is None:
        raise NotFound(f"测验 {code} 不存在")
    # The quiz's authors see every attempt in their authoring scope; HR the attempts of the people in its scope.
    perm = Permission.AUTHOR_CONTENT if can(current_user, Permission.AUTHOR_CONTENT, quiz) else Permission.EXPORT
    authorize(current_user, perm)
    rows = queries.result_rows(quiz, scope_clause(current_user, perm, OrgUnit.path))
    record_after_read("quizzes.export_results", actor=current_user, target_type="quiz", target=quiz.code,
                      org=quiz.org, client_addr=client_addr(), details={"format": fmt, "rows": len(rows)})
    data = exports.to_csv(rows) if fmt == "csv" else exports.to_xlsx(rows)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{quiz.title}-成绩.{fmt}", mimetype=mimetype)


@bp.get("/quizzes/template.xlsx")
@require(Permission.AUTHOR_CONTENT)
def template():
    return send_file(io.BytesIO(build_template()), as_attachment=True, download_name=TEMPLATE_NAME,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


#: the import formats as people name them
FORMAT_LABELS = {"xlsx": "Excel（XLSX）", "gift": "Moodle GIFT", "aiken": "Aiken"}


def bank_title(bank) -> str:
    """A bank's name; banks imported before names were asked for carry their code as title."""
    return "未命名题库" if bank.title == bank.code else bank.title


def _bank_rows():
    return [{"code": bank.code, "title": bank_title(bank), "org": bank.org.name, "count": count,
             "origin": "文件" if bank.origin.value == "file" else "网页/导入"}
            for bank, count in queries.list_banks(scope_clause(current_user, Permission.AUTHOR_CONTENT,
                                                               OrgUnit.path))]


@bp.route("/quizzes/banks", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def banks():
    errors, warnings = [], []
    if request.method == "POST":
        code = (request.form.get("bank") or request.form.get("new_code") or "").strip()
        fmt = request.form.get("format") or None
        upload = request.files.get("file")
        title = (request.form.get("title") or "").strip()
        data = upload.read() if upload is not None and upload.filename else b""
        if data and (not code or not (codes.is_code(code) or queries.get_bank(code))):
            # A new bank needs no code: named from the form, the sheet or the file, its code from that name
            # (or from what was typed when that is not a code: 冬季供暖 → djgn-1).
            title = title or suggested_bank_title(data, upload.filename, utcnow())
            code = codes.generate(code or title, lambda c: queries.get_bank(c) is not None, fallback="tk")
        bank = queries.get_bank(code) if code else None
        if bank is not None:
            authorize(current_user, Permission.AUTHOR_CONTENT, bank)
        if not code:
            errors.append("请选择要导入的文件")
        elif fmt is not None and fmt not in IMPORT_FORMATS:
            errors.append("文件格式只能是 Excel（XLSX）、Moodle GIFT 或 Aiken")
        elif upload is None or not upload.filename:
            errors.append("请选择要导入的文件")
        else:
            # A new bank belongs to the widest unit the trainer authors for (their level).
            owner = None if bank is not None else min(scope_orgs(current_user, Permission.AUTHOR_CONTENT),
                                                       key=lambda org: (org.depth, org.path))
            try:
                counts, found = import_question_file(data, upload.filename, code, fmt, org=owner,
                                                     title=title or suggested_bank_title(data, upload.filename,
                                                                                         utcnow()))
            except ContentErrors as exc:
                db.session.rollback()
                errors = [str(e) for e in exc.errors]
            else:
                record("quizzes.import_bank", actor=current_user, target_type="bank", target=code,
                       client_addr=client_addr(), details={"file": upload.filename, **counts})
                db.session.commit()
                warnings = [f"{w.path}:{w.line}: {w.message}" for w in found]
                flash(f"已导入题库《{bank_title(queries.get_bank(code))}》：新增 {counts.get('new', 0)}，更新 {counts.get('updated', 0)}，"
                      f"未变 {counts.get('unchanged', 0)}，跳过 {len(found)}", "success")
    status = 422 if errors else 200
    quizzes = [{"code": q.code, "title": q.title, "org": q.org.name, "fixed": papers.is_fixed(q)} for q in queries.list_quizzes(
        scope_clause(current_user, Permission.AUTHOR_CONTENT, OrgUnit.path))]
    return render_template("quizzes/banks.html", banks=_bank_rows(), quizzes=quizzes, errors=errors, warnings=warnings,
                           formats=[(f, FORMAT_LABELS.get(f, f.upper())) for f in IMPORT_FORMATS],
                           template_name=TEMPLATE_NAME), status


# --- authoring ---------------------------------------------------------------------------------------------

_TAG_SEP = re.compile(r"[,，、;；\s]+")


def _authored_bank(code: str):
    bank = queries.get_bank(code)
    if bank is None:
        raise NotFound(f"题库 {code} 不存在")
    authorize(current_user, Permission.AUTHOR_CONTENT, bank)
    return bank


def _authored_question(qid: str):
    row = db.session.execute(db.select(Question).where(Question.qid == qid)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"题目 {qid} 不存在")
    authorize(current_user, Permission.AUTHOR_CONTENT, row.bank)
    return row


@bp.get("/quizzes/banks/<code>")
@require(Permission.AUTHOR_CONTENT)
def bank(code):
    found = _authored_bank(code)
    rows = db.session.execute(db.select(Question).where(Question.bank_id == found.id).order_by(Question.qid)).scalars()
    questions = [{"qid": q.qid, "type_label": TYPE_LABELS.get(q.type, q.type), "stem": q.stem,
                  "difficulty": q.difficulty, "tags": "、".join(q.tags or []), "version": q.version,
                  "retired": q.is_retired, "origin": "文件" if q.origin.value == "file" else "网页"} for q in rows]
    return render_template("quizzes/bank.html", bank=found, questions=questions)


def _form_value(form, qid: str, qtype: str) -> tuple[object, list[str]]:
    """The submitted form as a pure Question (or None) and the problems found reading it."""
    problems = []
    options = {}
    if qtype in ("single", "multiple"):
        texts = [(key, (form.get(f"option_{key}") or "").strip()) for key in OPTION_KEYS]
        last = max((i for i, (_, text) in enumerate(texts) if text), default=-1)
        # Up to the last filled option: a gap stays in so the check names the empty one.
        options = dict(texts[: last + 1])
    answer = parse_answer_text(qtype, (form.get("answer") or "").strip())
    if answer is None:
        problems.append("答案无法识别：单选写一个字母（B），多选写字母（AC），判断写 对/错，填空每空用；隔开、同义答案用 | 隔开")
    try:
        difficulty = int(form.get("difficulty") or 3)
    except ValueError:
        difficulty = 0
    tags = tuple(t for t in _TAG_SEP.split(form.get("tags") or "") if t)
    value = QuestionValue(id=qid, type=qtype, stem=(form.get("stem") or "").strip(), options=options, answer=answer,
                          explanation=(form.get("explanation") or "").strip(),
                          source=(form.get("source") or "").strip(), difficulty=difficulty, tags=tags)
    return value, problems


def _preview(value) -> dict | None:
    if value is None or not value.stem:
        return None
    return {"stem_html": services.render_text(value.stem, value.text_format), "type_label": TYPE_LABELS[value.type],
            "options": [{"key": k, "html": services.render_text(v, value.text_format)} for k, v in value.options.items()],
            "blanks": count_blanks(value.stem) if value.type == "fill" else 0}


def _form_fields(value, row=None) -> dict:
    if value is None:
        return {"type": "single", "difficulty": 3}
    return {"qid": value.id, "type": value.type, "stem": value.stem, "options": dict(value.options),
            "answer": answer_text(value) if value.answer is not None else "", "explanation": value.explanation,
            "source": value.source, "difficulty": value.difficulty, "tags": "、".join(value.tags)}


def _edit_page(bank_row, row, fields, preview, problems, status=200):
    return render_template("quizzes/question_form.html", bank=bank_row, row=row, f=fields, preview=preview,
                           problems=problems, types=TYPE_LABELS, option_keys=OPTION_KEYS), status


@bp.route("/quizzes/banks/<code>/questions/new", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def new_question(code):
    found = _authored_bank(code)
    if request.method == "GET":
        return _edit_page(found, None, _form_fields(None), None, [])
    qtype = request.form.get("type") or ""
    qid = (request.form.get("qid") or "").strip()
    if not qid or not ID_RE.match(qid):
        # Never typed by hand: the bank's next free number (<bank>-<n>, like imported questions), unique everywhere.
        qid = codes.sequential(found.code, set(db.session.scalars(
            db.select(Question.qid).where(Question.qid.like(f"{found.code}-%")))), width=1)
    if qtype not in TYPE_LABELS:
        return _edit_page(found, None, dict(request.form), None, ["请选择题型"], 422)
    value, problems = _form_value(request.form, qid, qtype)
    fields = _form_fields(value) | {"answer": request.form.get("answer", "")}
    if problems:
        return _edit_page(found, None, fields, _preview(value), problems, 422)
    try:
        row = services.save_question(current_user, found, value, now=utcnow())
    except LMSError as exc:
        db.session.rollback()
        return _edit_page(found, None, fields, _preview(value), [exc.message], 422)
    db.session.commit()
    flash(f"已新建题目 {row.qid}", "success")
    return redirect(url_for("quizzes.edit_question", qid=row.qid))


@bp.route("/quizzes/questions/<qid>/edit", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def edit_question(qid):
    row = _authored_question(qid)
    if request.method == "GET":
        value = services.question_value(row)
        return _edit_page(row.bank, row, _form_fields(value), _preview(value), [])
    value, problems = _form_value(request.form, row.qid, row.type)
    fields = _form_fields(value) | {"answer": request.form.get("answer", "")}
    if problems:
        return _edit_page(row.bank, row, fields, _preview(value), problems, 422)
    try:
        services.save_question(current_user, row.bank, value, row=row, now=utcnow())
    except LMSError as exc:
        db.session.rollback()
        return _edit_page(row.bank, row, fields, _preview(value), [exc.message], 422)
    db.session.commit()
    flash(f"已保存题目 {row.qid}（第 {row.version} 版）；已经开始的作答仍按原来的版本评分", "success")
    return redirect(url_for("quizzes.edit_question", qid=row.qid))


@bp.post("/quizzes/questions/<qid>/retire")
@require(Permission.AUTHOR_CONTENT)
def retire_question(qid):
    row = _authored_question(qid)
    retire = request.form.get("retire", "1") == "1"
    services.set_retired(current_user, row, retire, now=utcnow())
    db.session.commit()
    flash(f"题目 {qid} 已停用：不再抽到，过去的作答不受影响" if retire else f"题目 {qid} 已恢复使用", "success")
    return redirect(url_for("quizzes.bank", code=row.bank.code))


# --- quizzes in the browser --------------------------------------------------------------------------------

DRAW_ROWS = 5


def _quiz_fields(quiz=None) -> dict:
    if quiz is None:
        return {"time_limit_minutes": 30, "pass_score": 60, "shuffle_options": True, "draws": [], "kind": "draw"}
    return {"code": quiz.code, "title": quiz.title, "org": quiz.org.code, "draws": quiz.draws,
            "kind": "fixed" if papers.is_fixed(quiz) else "draw",
            "time_limit_minutes": quiz.time_limit_minutes, "pass_score": quiz.pass_score,
            "max_attempts": quiz.max_attempts or "", "shuffle_options": quiz.shuffle_options,
            "opens_at": _fmt(quiz.opens_at, "%Y-%m-%dT%H:%M"), "closes_at": _fmt(quiz.closes_at, "%Y-%m-%dT%H:%M")}


def _local_time(text: str, label: str, problems: list):
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)
    except ValueError:
        problems.append(f"{label}不是有效的日期时间")
        return None


def _quiz_form(form, scope_orgs_list, new: bool) -> tuple[dict, dict, list[str]]:
    """(values for save_quiz, fields to show again, problems) from the submitted quiz form.

    组卷方式 ``kind``: draw (random draw rules) or fixed (a hand-picked paper, built on its own page: the
    caller keeps its questions in values["fixed_paper"]).
    """
    problems, draws = [], []
    kind = form.get("kind") or "draw"
    if kind not in ("draw", "fixed"):
        problems.append("组卷方式只能是随机抽题或固定试卷")
        kind = "draw"
    for i in range(DRAW_ROWS if kind == "draw" else 0):
        bank_code = (form.get(f"bank_{i}") or "").strip()
        if not bank_code:
            continue
        try:
            count = int(form.get(f"count_{i}") or 0)
        except ValueError:
            count = 0
        if count <= 0:
            problems.append(f"第 {i + 1} 条抽题规则的题数必须是正整数")
        tags = [t for t in _TAG_SEP.split(form.get(f"tags_{i}") or "") if t]
        try:
            difficulty = sorted({int(d) for d in _TAG_SEP.split(form.get(f"difficulty_{i}") or "") if d})
        except ValueError:
            difficulty = [0]
        if any(not 1 <= d <= 5 for d in difficulty):
            problems.append(f"第 {i + 1} 条抽题规则的难度只能是 1–5 的数字")
        draws.append({"bank": bank_code, "count": count, "tags": tags, "difficulty": difficulty})
    if not draws and kind == "draw":
        problems.append("至少要有一条抽题规则")
    code = (form.get("code") or "").strip()
    title = (form.get("title") or "").strip()
    if new and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", code):
        # Blank or Chinese: generated from the title (县级统考 → xjtk-1), never asked for.
        code = codes.generate(code or title, lambda c: queries.get_quiz(c) is not None, fallback="cy")
    if not title:
        problems.append("请填写测验名称")
    numbers = {}
    for key, label, low, high, optional in (("time_limit_minutes", "答题时限", 1, 1440, False),
                                            ("pass_score", "及格分", 0, 100, False),
                                            ("max_attempts", "最多作答次数", 1, 1000, True)):
        raw = (form.get(key) or "").strip()
        if optional and not raw:
            numbers[key] = None
            continue
        try:
            numbers[key] = int(raw)
        except ValueError:
            numbers[key] = None
        if numbers[key] is None or not low <= numbers[key] <= high:
            problems.append(f"{label}必须是 {low}–{high} 的整数")
    org = next((o for o in scope_orgs_list if o.code == form.get("org")), None)
    if org is None:
        problems.append("请选择您管辖范围内的所属单位")
    opens_at = _local_time(form.get("opens_at") or "", "开放时间", problems)
    closes_at = _local_time(form.get("closes_at") or "", "截止时间", problems)
    if opens_at and closes_at and opens_at >= closes_at:
        problems.append("截止时间必须晚于开放时间")
    specs = [DrawSpec(bank=d["bank"], count=max(d["count"], 1), tags=tuple(d["tags"]),
                      difficulty=tuple(d["difficulty"])) for d in draws]
    if kind == "draw":
        problems += check_draws(specs, live_pools(),
                                titles={b.code: bank_title(b) for b, _ in queries.list_banks(sa.true())})
    values = {"code": code, "title": title, "org": org, "draws": draws, "shuffle_options": bool(form.get("shuffle_options")),
              "opens_at": opens_at, "closes_at": closes_at, **numbers,
              "fixed_paper": [] if kind == "fixed" else None}
    fields = {**{k: form.get(k, "") for k in ("code", "title", "org", "time_limit_minutes", "pass_score",
                                               "max_attempts", "opens_at", "closes_at")},
              "shuffle_options": bool(form.get("shuffle_options")), "draws": draws, "kind": kind}
    return values, fields, problems


def _authoring_orgs():
    return sorted(scope_orgs(current_user, Permission.AUTHOR_CONTENT), key=lambda o: (o.depth, o.path))


def _quiz_page(quiz, fields, problems, status=200, checked=False):
    banks = [(b.code, bank_title(b)) for b, _ in queries.list_banks(sa.true())]
    rows = list(fields.get("draws") or []) + [{}] * DRAW_ROWS
    return render_template("quizzes/quiz_form.html", quiz=quiz, f=fields, problems=problems, banks=banks,
                           draw_rows=rows[:DRAW_ROWS], orgs=_authoring_orgs(), checked=checked), status


@bp.route("/quizzes/manage/new", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def new_quiz():
    if request.method == "GET":
        return _quiz_page(None, _quiz_fields(), [])
    values, fields, problems = _quiz_form(request.form, _authoring_orgs(), new=True)
    if problems or request.form.get("action") == "check":
        return _quiz_page(None, fields, problems, 422 if problems else 200, checked=not problems)
    try:
        quiz = services.save_quiz(current_user, values, now=utcnow())
    except LMSError as exc:
        db.session.rollback()
        return _quiz_page(None, fields, [exc.message], 422)
    db.session.commit()
    flash(f"已创建测验 {quiz.title}", "success")
    if papers.is_fixed(quiz):
        return redirect(url_for("quizzes.paper", code=quiz.code))
    return redirect(url_for("quizzes.edit_quiz", code=quiz.code))


@bp.route("/quizzes/<code>/edit", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def edit_quiz(code):
    quiz = queries.get_quiz(code)
    if quiz is None:
        raise NotFound(f"测验 {code} 不存在")
    authorize(current_user, Permission.AUTHOR_CONTENT, quiz)
    if request.method == "GET":
        return _quiz_page(quiz, _quiz_fields(quiz), [])
    values, fields, problems = _quiz_form(request.form, _authoring_orgs(), new=False)
    fields["code"] = quiz.code
    if problems or request.form.get("action") == "check":
        return _quiz_page(quiz, fields, problems, 422 if problems else 200, checked=not problems)
    if values["fixed_paper"] is not None and quiz.fixed_paper is not None:
        values["fixed_paper"] = quiz.fixed_paper  # the paper itself is edited on its own page
    services.save_quiz(current_user, values, quiz=quiz, now=utcnow())
    db.session.commit()
    flash(f"已保存测验 {quiz.title}；已经开始的作答不受影响", "success")
    return redirect(url_for("quizzes.edit_quiz", code=quiz.code))


# --- results for HR and trainers, 补考 -----------------------------------------------------------------------

#: who sees the people's scores in scope (hr, trainer, admin)
RESULTS_PERMISSION = Permission.VIEW_USERS
_RESULTS_PER_PAGE = 100


def _results_org(perm):
    return scoped_org(current_user, perm, request.args.get("org"))


def _quiz_or_404(code: str):
    quiz = queries.get_quiz(code[:64])
    if quiz is None:
        raise NotFound(f"测验 {code[:64]} 不存在")
    return quiz


@bp.get("/quiz-results")
@require(RESULTS_PERMISSION)
def results_index():
    scopes = scope_orgs(current_user, RESULTS_PERMISSION)
    # The quizzes the people in scope may sit: owned above a scope (county exams) or inside one.
    rows = [{"title": q.title, "owner": q.org.name, "url": url_for("quizzes.results_page", code=q.code),
             "limit": f"{q.max_attempts} 次" if q.max_attempts else "不限"}
            for q in queries.list_quizzes(sa.true())
            if any(s.path.startswith(q.org.path) or q.org.path.startswith(s.path) for s in scopes)]
    return render_template("quizzes/results_index.html", rows=rows)


@bp.get("/quizzes/<code>/results")
@require(RESULTS_PERMISSION)
def results_page(code):
    quiz = _quiz_or_404(code)
    org = _results_org(RESULTS_PERMISSION)
    status = request.args.get("status", "")
    if status not in queries.RESULT_FILTERS:
        raise ValidationError("状态筛选只能是：全部、已通过、作答过但未通过、未作答", code="invalid_status")
    page = page_number()
    query = queries.quiz_results_query(quiz, scope_clause(current_user, RESULTS_PERMISSION, OrgUnit.path), org=org,
                                       status=status)
    found = db.session.execute(query.offset((page - 1) * _RESULTS_PER_PAGE).limit(_RESULTS_PER_PAGE + 1)).all()
    grant = quiz.max_attempts is not None and may_grant(current_user)
    rows = [{"name": name, "username": username, "org": org_name,
             "best": "—" if best is None else f"{float(best):g}", "attempts": int(n),
             "allowed": "不限" if quiz.max_attempts is None else str(quiz.max_attempts + int(extra)),
             "extra": int(extra), "passed": bool(passed), "last": _fmt(last),
             "record_url": url_for("records.page", username=username),
             "grant_url": url_for("quizzes.grant_form", code=quiz.code, username=username)
             if grant and user_id != current_user.id else None}
            for user_id, name, username, _org_id, org_name, best, n, passed, last, extra in found[:_RESULTS_PER_PAGE]]
    args = {k: v for k, v in (("org", org.code if org else ""), ("status", status)) if v}
    export_args = {"quiz": quiz.code, **({"org": org.code} if org else {})}
    return render_template("quizzes/results.html", quiz=quiz, rows=rows, page=page,
                           has_next=len(found) > _RESULTS_PER_PAGE, filters=queries.RESULT_FILTERS, status=status,
                           org=org.code if org else "", page_args=lambda n: urlencode({**args, "page": n}),
                           export_url=url_for("exports.quiz_results_xlsx") + "?" + urlencode(export_args),
                           grant_column=any(r["grant_url"] for r in rows))


def _grant_target(code: str, username: str):
    quiz = _quiz_or_404(code)
    authorize_grant(current_user)
    username = (username or "").strip()[:64]
    if not username:
        raise ValidationError("请填写学员工号", code="username_required")
    user = get_user(username)
    if user is None:
        raise ValidationError(f"工号 {username} 不存在", code="unknown_user")
    authorize_grant(current_user, user)
    return quiz, user


def _grant_page(quiz, user, *, errors=(), values=None, status=200):
    used = services.attempts_used(quiz, user)
    extra = queries.granted_extra_attempts(quiz.id, user.id)
    history = [{"extra": g.extra_attempts, "reason": g.reason, "at": _fmt(g.granted_at)}
               for g in queries.grants_of(quiz.id, user.id)]
    return render_template("quizzes/grant.html", quiz=quiz, user=user, used=used, extra=extra,
                           allowed=None if quiz.max_attempts is None else quiz.max_attempts + extra, history=history,
                           errors=list(errors), values=values or {"extra_attempts": "1", "reason": ""},
                           max_extra=services.MAX_EXTRA_ATTEMPTS,
                           back_url=url_for("quizzes.results_page", code=quiz.code)), status


@bp.get("/quizzes/<code>/grant")
@login_required
def grant_form(code):
    quiz, user = _grant_target(code, request.args.get("username"))
    return _grant_page(quiz, user)


@bp.post("/quizzes/<code>/grant")
@login_required
def grant(code):
    quiz, user = _grant_target(code, request.form.get("username"))
    values = {"extra_attempts": (request.form.get("extra_attempts") or "").strip()[:10],
              "reason": (request.form.get("reason") or "").strip()[:600]}
    try:
        services.grant_attempts(current_user, quiz, user, values["extra_attempts"], values["reason"], now=utcnow(),
                                client_addr=client_addr())
    except LMSError as exc:
        db.session.rollback()
        return _grant_page(quiz, user, errors=[exc.message], values=values, status=exc.status)
    db.session.commit()
    flash(f"已给 {user.name} 安排《{quiz.title}》补考 {values['extra_attempts']} 次。", "success")
    return redirect(url_for("quizzes.results_page", code=quiz.code), 303)
