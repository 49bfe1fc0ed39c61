"""Fixed exam papers (hand-picked questions, ordered, marks per question) and bank management
(search, bulk tag, move, retire, export of a selection). Writes never commit; every change is audited.

Searching reads the question rows with SQL filters (text, tag, type, difficulty, bank, status) and pages;
a tag is matched on the JSON text of the ``tags`` column (stored with ``ensure_ascii=False``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random

import sqlalchemy as sa

from lms.audit.services import record
from lms.db import utcnow
from lms.errors import Conflict, ValidationError
from lms.extensions import db
from lms.org.models import OrgUnit
from lms.quizzes import draw as drawing
from lms.quizzes import services
from lms.quizzes.formats import EXPORT_FORMATS, export_questions
from lms.quizzes.formats.quiz_file import MAX_MARKS, MAX_PAPER_QUESTIONS
from lms.quizzes.grading import TYPES
from lms.quizzes.models import Bank, Origin, Question, Quiz

#: questions a search page shows
PER_PAGE = 20
MAX_PAGE = 1000
MAX_TEXT = 100
MAX_TAG = 64
#: at most this many questions in one bulk action or export
MAX_SELECTION = 500
#: status filter of the bank search: live (default), retired, all
STATUSES = {"live": "使用中", "retired": "已停用", "all": "全部"}


@dataclasses.dataclass(frozen=True)
class Search:
    """The filters of a bank search; empty strings / None mean no filter."""

    text: str = ""
    tag: str = ""
    type: str = ""
    difficulty: int | None = None
    bank: str = ""
    status: str = "live"
    page: int = 1

    def args(self, **changes) -> dict:
        """The filters as query-string arguments (blank ones left out)."""
        values = dataclasses.asdict(self) | changes
        out = {"q": values["text"], "tag": values["tag"], "type": values["type"],
               "difficulty": values["difficulty"] or "", "bank": values["bank"],
               "status": "" if values["status"] == "live" else values["status"],
               "page": "" if values["page"] == 1 else values["page"]}
        return {k: v for k, v in out.items() if v not in ("", None)}


def parse_search(args) -> Search:
    """A search from query arguments (q, tag, type, difficulty, bank, status, page); ValidationError (400)
    naming what is out of range."""
    def text(key: str, limit: int, label: str) -> str:
        value = args.get(key) or ""
        if not isinstance(value, str):
            raise bad_input(f"{label}必须是文字", code="invalid_search")
        value = value.strip()
        if len(value) > limit:
            raise bad_input(f"{label}不能超过 {limit} 个字", code="invalid_search")
        if any(ord(c) < 32 for c in value):
            raise bad_input(f"{label}含有控制字符", code="invalid_search")
        return value

    qtype = text("type", 16, "题型")
    if qtype and qtype not in TYPES:
        raise bad_input("题型只能是单选、多选、判断或填空", code="invalid_search")
    difficulty = None
    raw = text("difficulty", 8, "难度")
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 5:
            raise bad_input("难度只能是 1–5 的整数", code="invalid_search")
        difficulty = int(raw)
    status = text("status", 16, "状态") or "live"
    if status not in STATUSES:
        raise bad_input("状态只能是使用中、已停用或全部", code="invalid_search")
    raw_page = text("page", 8, "页码") or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise bad_input(f"页码必须是 1–{MAX_PAGE} 的整数", code="invalid_search")
    return Search(text=text("q", MAX_TEXT, "搜索文字"), tag=text("tag", MAX_TAG, "标签"), type=qtype,
                  difficulty=difficulty, bank=text("bank", 64, "题库"), status=status, page=int(raw_page))


def bad_input(message: str, code: str) -> ValidationError:
    """Bad input of these forms and routes: 400 with a Chinese message naming what is wrong."""
    return ValidationError(message, code=code, status=400)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_questions(search: Search, scope_sql=None, *, per_page: int = PER_PAGE) -> tuple[list, bool]:
    """(rows [(Question, Bank)], has_next) of live banks whose owner lies in ``scope_sql`` (None: every bank)."""
    query = (sa.select(Question, Bank).join(Bank, Bank.id == Question.bank_id).join(OrgUnit, OrgUnit.id == Bank.org_id)
             .where(Bank.is_retired.is_(False)))
    if scope_sql is not None:
        query = query.where(scope_sql)
    if search.status == "live":
        query = query.where(Question.is_retired.is_(False))
    elif search.status == "retired":
        query = query.where(Question.is_retired.is_(True))
    if search.text:
        needle = f"%{_like(search.text)}%"
        query = query.where(sa.or_(Question.stem.ilike(needle, escape="\\"), Question.qid.ilike(needle, escape="\\")))
    if search.tag:
        # The tags column holds a JSON list written with ensure_ascii=False: the tag appears as its JSON string.
        needle = f"%{_like(json.dumps(search.tag, ensure_ascii=False))}%"
        query = query.where(sa.cast(Question.tags, sa.Text).like(needle, escape="\\"))
    if search.type:
        query = query.where(Question.type == search.type)
    if search.difficulty:
        query = query.where(Question.difficulty == search.difficulty)
    if search.bank:
        query = query.where(Bank.code == search.bank)
    query = query.order_by(Bank.code, Question.qid).offset((search.page - 1) * per_page).limit(per_page + 1)
    rows = db.session.execute(query).all()
    return [tuple(row) for row in rows[:per_page]], len(rows) > per_page


# --- selections ------------------------------------------------------------------------------------------

def clean_qids(raw) -> list[str]:
    """A selection of question ids from a form or JSON: strings, no blanks, at most MAX_SELECTION, order kept."""
    if not isinstance(raw, list) or not all(isinstance(q, str) for q in raw):
        raise bad_input("所选题目必须是题目编号的列表", code="invalid_selection")
    qids = list(dict.fromkeys(q.strip() for q in raw if q.strip()))
    if not qids:
        raise bad_input("请先勾选题目", code="empty_selection")
    if len(qids) > MAX_SELECTION:
        raise bad_input(f"一次最多处理 {MAX_SELECTION} 道题", code="invalid_selection")
    return qids


def selected_rows(qids: list[str]) -> list[Question]:
    """The question rows of a selection in its order; ValidationError naming ids that do not exist."""
    rows = {row.qid: row for row in db.session.scalars(sa.select(Question).where(Question.qid.in_(qids)))}
    missing = [q for q in qids if q not in rows]
    if missing:
        raise bad_input(f"题目 {'、'.join(missing[:5])} 不存在", code="unknown_question")
    return [rows[q] for q in qids]


def _summary(rows) -> dict:
    return {"count": len(rows), "qids": [row.qid for row in rows][:50]}


def _touch(row: Question, now: dt.datetime) -> None:
    """A question changed in the browser: detached from its file, versioned when its content changed."""
    digest = services.question_value(row).fingerprint()
    if digest != row.content_hash:
        row.version += 1
        row.content_hash = digest
    row.origin = Origin.web
    row.updated_at = now


def bulk_tag(actor, rows: list[Question], tag, *, remove: bool = False, now: dt.datetime | None = None) -> int:
    """Add (or remove) one tag on every selected question; the number changed. Audited once."""
    now = now or utcnow()
    tag = tag.strip() if isinstance(tag, str) else ""
    if not tag:
        raise bad_input("请填写标签", code="tag_required")
    if len(tag) > MAX_TAG or any(c in tag for c in ",，、;；") or any(ord(c) < 32 for c in tag):
        raise bad_input(f"标签不能超过 {MAX_TAG} 个字，也不能含逗号、顿号或分号", code="invalid_tag")
    changed = 0
    for row in rows:
        tags = list(row.tags or [])
        if remove and tag in tags:
            tags.remove(tag)
        elif not remove and tag not in tags:
            tags.append(tag)
        else:
            continue
        row.tags = tags
        _touch(row, now)
        changed += 1
    db.session.flush()
    record("quizzes.questions_untagged" if remove else "quizzes.questions_tagged", actor=actor,
           target_type="question", target=rows[0].qid if rows else "", org=rows[0].bank.org if rows else None,
           details={"tag": tag, "changed": changed, **_summary(rows)}, now=now)
    return changed


def move_questions(actor, rows: list[Question], target: Bank, *, now: dt.datetime | None = None) -> int:
    """Move the selected questions to another bank (draws of the old bank no longer pick them); audited once."""
    now = now or utcnow()
    if target.is_retired:
        raise bad_input(f"题库《{target.title}》已停用", code="bank_retired")
    moved = 0
    sources = sorted({row.bank.code for row in rows if row.bank_id != target.id})
    for row in rows:
        if row.bank_id == target.id:
            continue
        row.bank_id = target.id
        row.origin = Origin.web
        row.updated_at = now
        moved += 1
    db.session.flush()
    db.session.expire_all()
    record("quizzes.questions_moved", actor=actor, target_type="bank", target=target.code, org=target.org,
           details={"to": target.code, "from": sources, "moved": moved, **_summary(rows)}, now=now)
    return moved


def retire_questions(actor, rows: list[Question], retired: bool, *, now: dt.datetime | None = None) -> int:
    """Retire the selected questions (no new draws, no new papers; past attempts keep them) or bring them back."""
    now = now or utcnow()
    changed = 0
    for row in rows:
        if row.is_retired == retired:
            continue
        row.is_retired = retired
        row.origin = Origin.web
        row.updated_at = now
        changed += 1
    db.session.flush()
    record("quizzes.questions_retired_many" if retired else "quizzes.questions_restored_many", actor=actor,
           target_type="question", target=rows[0].qid if rows else "", org=rows[0].bank.org if rows else None,
           details={"changed": changed, **_summary(rows)}, now=now)
    return changed


def export_selection(actor, rows: list[Question], fmt: str, *, now: dt.datetime | None = None) -> bytes:
    """The selected questions as GIFT or Excel (the bank export's formats, so import reads them back); audited."""
    if fmt not in EXPORT_FORMATS:
        raise bad_input("导出格式只能是 GIFT 或 Excel", code="invalid_format")
    data = export_questions([services.question_value(row) for row in rows], fmt)
    record("quizzes.questions_exported", actor=actor, target_type="question", target=rows[0].qid if rows else "",
           org=rows[0].bank.org if rows else None, details={"format": fmt, **_summary(rows)}, now=now or utcnow())
    return data


# --- fixed papers -------------------------------------------------------------------------------------------

def is_fixed(quiz: Quiz) -> bool:
    """The quiz is a fixed exam paper (hand-picked questions), not a random draw."""
    return quiz.fixed_paper is not None


def question_count(quiz: Quiz) -> int:
    """Questions on every paper of the quiz."""
    if quiz.fixed_paper is not None:
        return len(quiz.fixed_paper)
    return sum(int(d["count"]) for d in quiz.draws)


def paper_total(quiz: Quiz) -> int:
    """A fixed paper's total marks (a drawn paper: its question count)."""
    if quiz.fixed_paper is not None:
        return sum(int(entry.get("marks") or 1) for entry in quiz.fixed_paper)
    return question_count(quiz)


def _marks(value, number: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MARKS:
        raise bad_input(f"第 {number} 题的分值必须是 1–{MAX_MARKS} 的整数", code="invalid_marks")
    return value


def clean_paper(entries, current: list | None = None) -> list[dict]:
    """The submitted paper ``[{qid, marks}]`` checked: not empty, no question twice, marks 1–100, every
    question existing and (unless already on the paper) not retired. ValidationError (400) otherwise."""
    if not isinstance(entries, list):
        raise bad_input("试卷必须是题目列表 [{qid, marks}]", code="invalid_paper")
    if not entries:
        raise bad_input("试卷至少要有一道题", code="empty_paper")
    if len(entries) > MAX_PAPER_QUESTIONS:
        raise bad_input(f"一份试卷最多 {MAX_PAPER_QUESTIONS} 题", code="invalid_paper")
    paper, seen = [], {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise bad_input(f"第 {number} 题必须写成 {{qid, marks}}", code="invalid_paper")
        qid = entry.get("qid", entry.get("id"))
        if not isinstance(qid, str) or not qid.strip() or len(qid) > 64:
            raise bad_input(f"第 {number} 题缺少题目编号", code="invalid_paper")
        qid = qid.strip()
        if qid in seen:
            raise bad_input(f"题目 {qid} 在试卷中重复（第 {seen[qid]} 题和第 {number} 题）",
                                  code="duplicate_question")
        seen[qid] = number
        paper.append({"qid": qid, "marks": _marks(entry.get("marks", 1), number)})
    rows = {row.qid: row for row in db.session.scalars(sa.select(Question).where(Question.qid.in_(list(seen))))}
    missing = [q for q in seen if q not in rows]
    if missing:
        raise bad_input(f"题目 {'、'.join(missing[:5])} 不存在", code="unknown_question")
    already = {entry["qid"] for entry in current or []}
    retired = [q for q in seen if rows[q].is_retired and q not in already]
    if retired:
        raise bad_input(f"题目 {'、'.join(retired[:5])} 已停用，不能加入新试卷", code="question_retired")
    return paper


def save_paper(actor, quiz: Quiz, entries, *, now: dt.datetime | None = None) -> list[dict]:
    """Set a fixed quiz's paper (checked by clean_paper); detaches the quiz from its file; audited.

    Attempts already started keep the paper they were given.
    """
    now = now or utcnow()
    if not is_fixed(quiz):
        raise Conflict(f"测验《{quiz.title}》是随机抽题的，不是固定试卷", code="not_fixed")
    paper = clean_paper(entries, quiz.fixed_paper)
    if paper == quiz.fixed_paper:
        return paper
    quiz.fixed_paper = paper
    quiz.origin = Origin.web
    quiz.updated_at = now
    db.session.flush()
    record("quizzes.paper_saved", actor=actor, target_type="quiz", target=quiz.code, org=quiz.org,
           details={"questions": len(paper), "total": sum(e["marks"] for e in paper)}, now=now)
    return paper


def paper_rows(quiz: Quiz) -> list[dict]:
    """The fixed paper in order with each question's row: [{qid, marks, row (Question or None)}]."""
    entries = list(quiz.fixed_paper or [])
    rows = {row.qid: row for row in db.session.scalars(
        sa.select(Question).where(Question.qid.in_([e["qid"] for e in entries])))} if entries else {}
    return [{"qid": e["qid"], "marks": int(e.get("marks") or 1), "row": rows.get(e["qid"])} for e in entries]


def preview_items(quiz: Quiz, rng: random.Random | None = None) -> list[tuple[drawing.PaperItem, int]]:
    """The paper as a worker would get it, nothing recorded: [(item, points)] (a drawn quiz: one sample draw)."""
    rng = rng or random.Random()
    if is_fixed(quiz):
        chosen, _, points = services.fixed_paper_questions(quiz)
    else:
        try:
            picked = drawing.choose(services.draw_specs(quiz), services.draw_pools(quiz), rng)
        except drawing.DrawError as exc:
            raise Conflict(f"题库中的题目不足，暂时无法组卷：{exc}", code="draw_failed") from None
        loaded = services._drawn_questions([entry for _, entry in picked])
        chosen, points = [(bank, loaded[entry.id][0]) for bank, entry in picked], {}
    items = drawing.lay_out(chosen, rng, shuffle=quiz.shuffle_options)
    return [(item, points.get(item.qid, 1)) for item in items]
