"""Writes of the quiz feature: attempts (start, autosave, submit, close), the 错题本. Never commits.

Grading happens exactly once per attempt: the transition out of ``open`` is a
conditional UPDATE (``WHERE status = 'open'``) and only the request whose
UPDATE changed the row grades it; every other submit reads the stored result.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import random
import threading

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from lms import signals
from lms.accounts.models import User, UserStatus
from lms.audit.services import record
from lms.courses.render import render_markdown, render_plain
from lms.db import SHANGHAI, begin_writing, utcnow
from lms.errors import Conflict, Forbidden, LMSError, ValidationError
from lms.extensions import db
from lms.quizzes import draw as drawing
from lms.quizzes import retake
from lms.quizzes.formats.quiz_file import DrawSpec
from lms.quizzes.grading import get_type, validate_question
from lms.quizzes.models import (
    Attempt, AttemptAnswer, AttemptGrant, AttemptStatus, Bank, Mistake, Origin, Question, Quiz,
)
from lms.quizzes.queries import granted_extra_attempts
from lms.quizzes.questions import Question as QuestionValue
from lms.quizzes.questions import answer_from_json, answer_to_json, question_from_dict

#: Answers arriving up to this long after the deadline still count (a tablet's last save in flight).
GRACE = dt.timedelta(seconds=60)
#: Leitner boxes: box n is due 2^(n-1) days after the last answer; right in the last box = mastered.
LAST_BOX = 5
#: A fill answer longer than this is not an answer.
MAX_FILL_CHARS = 500
MAX_SEQ = 2 ** 53


# --- questions --------------------------------------------------------------------------------------------

def question_value(row: Question) -> QuestionValue:
    """The database row as the pure Question the grader and the draw use."""
    return QuestionValue(
        id=row.qid, type=row.type, stem=row.stem, options=dict(row.options or {}),
        answer=answer_from_json(row.type, row.answer), explanation=row.explanation or "",
        source=row.source or "", difficulty=row.difficulty, tags=tuple(row.tags or ()),
        text_format=row.text_format,
    )


@functools.lru_cache(maxsize=16384)
def render_text(text: str, text_format: str) -> str:
    """Question text as sanitised HTML: Markdown, or escaped plain text (Aiken, Excel, plain GIFT).

    A pure function of its arguments, cached per process: every start renders the
    drawn questions' stems and options, and Markdown costs ~1 ms a call.
    """
    return str(render_plain(text) if text_format == "plain" else render_markdown(text))


def draw_specs(quiz: Quiz) -> list[DrawSpec]:
    """The quiz's stored draw rules as the pure DrawSpec values."""
    return [DrawSpec(bank=d["bank"], count=int(d["count"]), tags=tuple(d.get("tags") or ()),
                     difficulty=tuple(d.get("difficulty") or ())) for d in quiz.draws]


@dataclasses.dataclass(frozen=True)
class PoolEntry:
    """What a draw reads of a question (its filters); the chosen ones are then loaded in full."""

    id: str
    tags: tuple
    difficulty: int
    version: int = 1
    content_hash: str = ""


#: bank id → (signature of its live questions, [PoolEntry]); per process, rebuilt when the signature changes
_POOLS: dict[int, tuple[tuple, list[PoolEntry]]] = {}
_POOLS_LOCK = threading.Lock()
#: (qid, version, content hash) → the question as it was at that version; per process (a version never changes)
_QUESTIONS: dict[tuple[str, int, str], QuestionValue] = {}
_QUESTIONS_MAX = 50_000


# Hot statements of start/submit, built once: constructing them per request cost about as much CPU as running them.
_POOL_SIGNATURES = (
    sa.select(Bank.id, Bank.code, sa.func.count(Question.id), sa.func.sum(Question.id), sa.func.sum(Question.version),
              sa.func.max(Question.updated_at))
    .select_from(Bank).outerjoin(Question, sa.and_(Question.bank_id == Bank.id, Question.is_retired.is_(False)))
    .where(Bank.code.in_(sa.bindparam("codes", expanding=True)), Bank.is_retired.is_(False))
    .group_by(Bank.id, Bank.code))
_POOL_ENTRIES = sa.select(Question.qid, Question.tags, Question.difficulty, Question.version, Question.content_hash) \
    .where(Question.bank_id == sa.bindparam("bank_id"), Question.is_retired.is_(False))
_QUESTION_ROWS = sa.select(
    Question.qid, Question.type, Question.stem, Question.options, Question.answer, Question.explanation,
    Question.source, Question.difficulty, Question.tags, Question.text_format, Question.version, Question.content_hash,
).where(Question.qid.in_(sa.bindparam("qids", expanding=True)))
#: PostgreSQL: a transaction-scoped advisory lock per learner (class, user id) serialises their starts without
#: writing a row lock into the users table (FOR UPDATE marked the user's tuple on every start).
_START_LOCK_CLASS = 0x51A7  # "quiz start"; (class, key) keeps it apart from any other advisory lock
_LOCK_USER = sa.select(sa.func.pg_advisory_xact_lock(sa.cast(sa.literal(_START_LOCK_CLASS), sa.Integer),
                                                     sa.cast(sa.bindparam("user_id"), sa.Integer)))
_MY_ATTEMPTS = sa.select(Attempt.id, Attempt.status, Attempt.number).where(
    Attempt.quiz_id == sa.bindparam("quiz_id"), Attempt.user_id == sa.bindparam("user_id"))
_SAVED_ANSWERS = sa.select(AttemptAnswer.qid, AttemptAnswer.answer, AttemptAnswer.seq).where(
    AttemptAnswer.attempt_id == sa.bindparam("attempt_id"))
_SET_GRADE = sa.update(Attempt).where(Attempt.id == sa.bindparam("attempt_id")).values(
    score=sa.bindparam("score"), passed=sa.bindparam("passed"), marks=sa.bindparam("marks")) \
    .execution_options(synchronize_session=False)


def draw_pools(quiz: Quiz) -> dict[str, list[PoolEntry]]:
    """Current questions (not retired) of the live banks the quiz draws from, by bank code, as PoolEntry.

    One aggregate query tells whether a bank's live questions changed since this
    process last read them (count, sum of ids, sum of versions, newest update: a
    question added, retired, revived, moved or edited changes it); only then are
    the bank's ids, tags and difficulties read again.
    """
    codes = sorted({d["bank"] for d in quiz.draws})
    rows = db.session.connection().execute(_POOL_SIGNATURES, {"codes": codes}).all()
    pools: dict[str, list[PoolEntry]] = {}
    for bank_id, code, *signature in rows:
        signature = tuple(signature)
        cached = _POOLS.get(bank_id)
        if cached is None or cached[0] != signature:
            entries = [PoolEntry(qid, tuple(tags or ()), difficulty, version, content_hash or "")
                       for qid, tags, difficulty, version, content_hash in db.session.connection().execute(
                           _POOL_ENTRIES, {"bank_id": bank_id})]
            cached = (signature, entries)
            with _POOLS_LOCK:
                _POOLS[bank_id] = cached
        pools[code] = cached[1]
    return pools


def _drawn_questions(entries: list[PoolEntry]) -> dict[str, tuple[QuestionValue, int]]:
    """qid → (question, version) of the drawn pool entries: from this process's cache at the version the pool
    read, the others in one query."""
    out, missing = {}, []
    for entry in entries:
        question = _QUESTIONS.get((entry.id, entry.version, entry.content_hash))
        if question is None:
            missing.append(entry.id)
        else:
            out[entry.id] = (question, entry.version)
    if not missing:
        return out
    for qid, qtype, stem, options, answer, explanation, source, difficulty, tags, text_format, version, digest in \
            db.session.connection().execute(_QUESTION_ROWS, {"qids": missing}):
        question = QuestionValue(id=qid, type=qtype, stem=stem, options=dict(options or {}),
                                 answer=answer_from_json(qtype, answer), explanation=explanation or "",
                                 source=source or "", difficulty=difficulty, tags=tuple(tags or ()),
                                 text_format=text_format)
        out[qid] = (question, version)
        with _POOLS_LOCK:
            if len(_QUESTIONS) >= _QUESTIONS_MAX:
                _QUESTIONS.clear()
            _QUESTIONS[(qid, version, digest or "")] = question
    return out


def _stored_item(item: drawing.PaperItem, version: int, points: int | None = None) -> dict:
    question = item.question
    stored = item.to_stored()
    if points is not None:
        # a fixed paper's marks for this question (drawn papers: every question is worth 1)
        stored["points"] = points
    stored.update({
        "version": version,
        "question": question.to_dict(),
        # Rendered once at the draw: every later read of the attempt is a plain lookup.
        "stem_html": render_text(question.stem, question.text_format),
        "options_html": [render_text(text, question.text_format) for _, text in item.options],
    })
    return stored


def paper_items(attempt: Attempt) -> list[tuple[dict, drawing.PaperItem]]:
    """The attempt's items as given: (stored dict, PaperItem rebuilt from the stored question version).

    Remembered on the object (a paper never changes): start's reply and submit's grading and results
    would otherwise rebuild the twenty items two or three times.
    """
    items = getattr(attempt, "_paper_items", None)
    if items is None:
        items = [(data, drawing.item_from_stored(data, question_from_dict(data["question"])))
                 for data in attempt.paper]
        attempt._paper_items = items
    return items



# --- attempts ---------------------------------------------------------------------------------------------

def quiz_is_open(quiz: Quiz, now: dt.datetime) -> bool:
    """Attempts may start: not retired and inside [opens_at, closes_at)."""
    if quiz.is_retired:
        return False
    if quiz.opens_at and now < quiz.opens_at:
        return False
    if quiz.annual_opens and not retake.in_window(quiz.annual_opens, quiz.annual_closes,
                                                  now.astimezone(SHANGHAI).date()):
        return False
    return not (quiz.closes_at and now >= quiz.closes_at)


def is_overdue(attempt: Attempt, now: dt.datetime) -> bool:
    """The deadline and its grace have passed: no more saves, the attempt closes."""
    return now > attempt.deadline + GRACE


def open_attempt(quiz: Quiz, user) -> Attempt | None:
    """The learner's open attempt of this quiz, if any."""
    return db.session.execute(
        sa.select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id,
                                 Attempt.status == AttemptStatus.open)
        .order_by(Attempt.number.desc()).limit(1)).scalar_one_or_none()


def attempts_used(quiz: Quiz, user) -> int:
    """Attempts of this quiz the learner has started (every status counts)."""
    return db.session.execute(sa.select(sa.func.count()).select_from(Attempt).where(
        Attempt.quiz_id == quiz.id, Attempt.user_id == user.id)).scalar_one()


def start_attempt(user, quiz: Quiz, *, now: dt.datetime | None = None,
                  rng: random.Random | None = None) -> tuple[Attempt, bool]:
    """The learner's open attempt, or a new one with a freshly drawn paper: (attempt, created)."""
    now = now or utcnow()
    dialect = _dialect()
    if dialect != "sqlite":
        # Serialise this learner's starts (an advisory lock, released at commit): under READ COMMITTED a
        # concurrent start could otherwise commit between the read below and the insert, and the unique
        # attempt number alone would let a second one in. (SQLite: one writer at a time, and the insert
        # below tolerates a lost race.)
        db.session.connection().execute(_LOCK_USER, {"user_id": user.id})
    # The learner's attempts of this quiz, small rows: how many were used and which one is still open.
    mine = db.session.connection().execute(_MY_ATTEMPTS, {"quiz_id": quiz.id, "user_id": user.id}).all()
    open_ids = sorted(((number, attempt_id) for attempt_id, status, number in mine if status == AttemptStatus.open),
                      reverse=True)
    if open_ids:
        existing = db.session.get(Attempt, open_ids[0][1])
        if not is_overdue(existing, now):
            return existing, False
        begin_writing()
        close_attempt(existing, now=now)
    if not quiz_is_open(quiz, now):
        raise Forbidden(not_open_message(quiz), code="quiz_not_open")
    used = len(mine)
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        # 补考 grants are read only here, past the limit: the common start pays nothing for them.
        allowed = quiz.max_attempts + granted_extra_attempts(quiz.id, user.id)
        if used >= allowed and not _retake_open(quiz, user, allowed, now):
            raise Forbidden(f"本测验最多可作答 {allowed} 次，您已用完", code="attempts_exhausted")
    # One seed from the OS, not an os.urandom call per random number (SystemRandom: ~110 calls per paper).
    rng = rng or random.Random(int.from_bytes(os.urandom(16)))
    points: dict[str, int] = {}
    if quiz.fixed_paper is not None:
        chosen, loaded, points = fixed_paper_questions(quiz)
    else:
        try:
            picked = drawing.choose(draw_specs(quiz), draw_pools(quiz), rng)
        except drawing.DrawError as exc:
            raise Conflict(f"题库中的题目不足，暂时无法组卷：{exc}", code="draw_failed") from None
        loaded = _drawn_questions([entry for _, entry in picked])
        if len(loaded) != len(picked):
            # A question left between the pool read and this one (deleted): never hand out a short paper.
            raise Conflict("题库正在更新，请稍后重试", code="draw_failed")
        chosen = [(bank, loaded[entry.id][0]) for bank, entry in picked]
    items = drawing.lay_out(chosen, rng, shuffle=quiz.shuffle_options)
    deadline = now + dt.timedelta(minutes=quiz.time_limit_minutes)
    if quiz.closes_at and quiz.closes_at < deadline:
        deadline = quiz.closes_at
    values = {"quiz_id": quiz.id, "user_id": user.id, "org_id": user.org_id, "number": used + 1,
              "status": AttemptStatus.open, "started_at": now, "deadline": deadline, "submitted_at": None,
              "graded_at": None, "score": None, "passed": None, "marks": None,
              "paper": [_stored_item(item, loaded[item.qid][1], points.get(item.qid)) for item in items],
              "answer_slots": {item.qid: drawing.answer_slot(item) for item in items}}
    # The draw and the paper above were made without the write lock (the API start reads first); the unique
    # attempt number settles a race with another start of this learner.
    begin_writing()
    # Core INSERT … ON CONFLICT DO NOTHING RETURNING id: one statement instead of SAVEPOINT, the ORM's
    # flush (about as much CPU as the rest of the start) and RELEASE.
    row = db.session.connection().execute(_insert_attempt_statement(dialect), values).first()
    if row is None:
        # A concurrent start of the same learner won the attempt number: use its attempt.
        winner = open_attempt(quiz, user)
        if winner is None:
            raise Conflict("正在开始另一次作答，请稍后重试", code="attempt_conflict")
        return winner, False
    attempt = Attempt(id=row[0], **values)
    attempt.quiz = quiz
    # Persistent without a flush: the row is written; the session knows the object as if it had loaded it.
    make_transient_to_detached(attempt)
    db.session.add(attempt)
    attempt._paper_items = list(zip(values["paper"], items))
    return attempt, True


@functools.cache
def _insert_attempt_statement(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Attempt.__table__
    return insert(table).on_conflict_do_nothing(index_elements=["quiz_id", "user_id", "number"]) \
        .returning(table.c.id)


def _retake_open(quiz: Quiz, user, allowed: int, now: dt.datetime) -> bool:
    """补考 after a wait (quiz.retake_after_days): a new round of attempts has opened; else Forbidden saying when."""
    if not quiz.retake_after_days:
        return False
    starts = db.session.scalars(sa.select(Attempt.started_at).where(Attempt.quiz_id == quiz.id,
                                                                    Attempt.user_id == user.id)).all()
    ok, reopens = retake.may_start(starts, allowed, dt.timedelta(days=quiz.retake_after_days), now)
    if ok:
        return True
    raise Forbidden(f"本测验每轮最多可作答 {allowed} 次，您已用完；"
                    f"可于 {reopens.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 后补考", code="attempts_exhausted")


def not_open_message(quiz: Quiz) -> str:
    """Why no attempt of the quiz may start now (retired, outside its window), in Chinese."""
    if quiz.is_retired:
        return "该测验已停用"
    fmt = "%Y-%m-%d %H:%M"
    if quiz.annual_opens and quiz.annual_closes and not (quiz.closes_at and utcnow() >= quiz.closes_at):
        return f"该考试{retake.window_label(quiz.annual_opens, quiz.annual_closes)}开放，现在不能开始"
    if quiz.opens_at and quiz.closes_at:
        return (f"该考试的开放时间为 {quiz.opens_at.astimezone(SHANGHAI):{fmt}} 至 "
                f"{quiz.closes_at.astimezone(SHANGHAI):{fmt}}，现在不能开始")
    if quiz.opens_at:
        return f"该考试 {quiz.opens_at.astimezone(SHANGHAI):{fmt}} 开放，现在不能开始"
    return f"该考试已于 {quiz.closes_at.astimezone(SHANGHAI):{fmt}} 结束"


def clean_answer(item: drawing.PaperItem, raw):
    """A client's answer → what is stored (display letters, bool, list of texts); None = cleared.

    Raises ValidationError (422) when the answer has the wrong shape for the question.
    """
    return clean_slot_answer(drawing.answer_slot(item), raw)


def clean_slot_answer(slot: dict, raw):
    """clean_answer against an answer_slot (type, display keys, blanks) instead of the whole item."""
    if raw is None or raw == "" or raw == []:
        return None
    qtype = slot["type"]
    if qtype == "fill":
        blanks = slot["blanks"]
        texts = raw if isinstance(raw, list) else [raw]
        if len(texts) != blanks or not all(isinstance(t, (str, int, float)) and not isinstance(t, bool)
                                           for t in texts):
            raise ValidationError(f"填空题的答案应为 {blanks} 个文字组成的列表，每空一个", code="invalid_answer")
        texts = [str(t).strip() for t in texts]
        if any(len(t) > MAX_FILL_CHARS for t in texts):
            raise ValidationError(f"每空的答案不能超过 {MAX_FILL_CHARS} 个字", code="invalid_answer")
        return texts if any(texts) else None
    normalized = get_type(qtype).normalize(raw)
    if normalized is None:
        hint = {"single": "一个选项字母，如 \"B\"", "multiple": "选项字母的列表，如 [\"A\",\"C\"]",
                "judge": "true 或 false"}[qtype]
        raise ValidationError(f"答案格式不对：{get_type(qtype).label}题应为{hint}", code="invalid_answer")
    if qtype in ("single", "multiple"):
        letters = {normalized} if qtype == "single" else set(normalized)
        unknown = sorted(letters - set(slot["keys"]))
        if unknown:
            raise ValidationError(f"选项 {'、'.join(unknown)} 不在本题的选项中", code="invalid_answer")
        return normalized if qtype == "single" else sorted(normalized)
    return normalized


def find_item(attempt: Attempt, qid: str) -> drawing.PaperItem | None:
    """The paper item of qid, or None when the question is not on this attempt's paper."""
    for data in attempt.paper:
        if data["qid"] == qid:
            return drawing.item_from_stored(data, question_from_dict(data["question"]))
    return None


@functools.cache
def _upsert_statement(dialect: str, table: sa.Table, index: tuple[str, ...], update: tuple[str, ...],
                      newer_seq_only: bool = False, returning: bool = False):
    """INSERT … ON CONFLICT DO UPDATE [WHERE seq <] [RETURNING id], built once per dialect (building it cost more
    CPU than running it); executed with a parameter dict (or a list of them)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(index), set_={k: getattr(stmt.excluded, k) for k in update},
                                      where=(table.c.seq < stmt.excluded.seq) if newer_seq_only else None)
    return stmt.returning(table.c.id) if returning else stmt


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def save_answer(attempt, qid: str, raw, seq, *, now: dt.datetime | None = None) -> dict:
    """Autosave one answer: ``{qid, seq, stale}``; stale when this question already holds a seq ≥ the new one.

    ``attempt`` is an Attempt or a queries.AttemptHead (id, status, deadline, answer_slots).
    Saves of other questions are independent: an out-of-order save of one
    question never discards another's.
    """
    now = now or utcnow()
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < MAX_SEQ:
        raise ValidationError("seq 必须是非负整数（客户端每次保存递增）", code="invalid_seq")
    if attempt.status != AttemptStatus.open or is_overdue(attempt, now):
        raise Conflict("本次作答已结束，答案不能再修改", code="attempt_closed")
    slots = attempt.answer_slots if attempt.answer_slots is not None else drawing.paper_slots(attempt.paper)
    slot = slots.get(qid)
    if slot is None:
        raise ValidationError(f"题目 {qid} 不在本次试卷中", code="unknown_question")
    answer = clean_slot_answer(slot, raw)
    table = AttemptAnswer.__table__
    stmt = _upsert_statement(_dialect(), table, ("attempt_id", "qid"), ("answer", "seq", "saved_at"),
                             newer_seq_only=True, returning=True)
    row = db.session.connection().execute(stmt, {"attempt_id": attempt.id, "qid": qid, "answer": answer, "seq": seq,
                                                 "saved_at": now}).first()
    if row is not None:
        return {"qid": qid, "seq": seq, "stale": False}
    stored = db.session.execute(sa.select(table.c.seq).where(table.c.attempt_id == attempt.id,
                                                             table.c.qid == qid)).scalar_one()
    return {"qid": qid, "seq": stored, "stale": True}


def saved_answers(attempt: Attempt) -> dict[str, dict]:
    """``{qid: {answer, seq}}`` of what the server holds for the attempt."""
    rows = db.session.connection().execute(_SAVED_ANSWERS, {"attempt_id": attempt.id}).all()
    return {qid: {"answer": answer, "seq": seq} for qid, answer, seq in rows}


def _finish(attempt: Attempt, status: AttemptStatus, now: dt.datetime) -> bool:
    """Move the attempt out of ``open``; True only for the one caller whose UPDATE did it.

    The winner grades and sets the new values on the object itself; a loser
    reads the row the winner stored.
    """
    values = {"status": status, "graded_at": now}
    if status == AttemptStatus.submitted:
        values["submitted_at"] = now
    result = db.session.execute(
        sa.update(Attempt).where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.open).values(**values)
        .execution_options(synchronize_session=False))
    won = result.rowcount == 1
    if not won:
        db.session.refresh(attempt)
        return False
    for key, value in values.items():
        set_committed_value(attempt, key, value)
    # Read after the status UPDATE: on PostgreSQL it waited for saves holding the row's share lock,
    # so every acknowledged save is visible here (READ COMMITTED: a fresh snapshot per statement).
    grade = _compute_grade(attempt)
    db.session.connection().execute(_SET_GRADE, {"attempt_id": attempt.id, "score": grade[1], "passed": grade[2],
                                                 "marks": grade[0]})
    _graded(attempt, *grade, now)
    return True


def _finish_locked(attempt: Attempt, status: AttemptStatus, now: dt.datetime) -> bool:
    """_finish for an attempt whose row this transaction already holds (queries.get_attempt(lock="update")
    on PostgreSQL; SQLite's BEGIN IMMEDIATE): grade first, then ONE conditional UPDATE of status and grade.

    The row lock waited for every save holding its share lock, so the answers read here are complete,
    and a concurrent submit waits for this transaction and then sees the attempt closed.
    """
    marks, score, passed = _compute_grade(attempt)
    values = {"status": status, "graded_at": now, "score": score, "passed": passed, "marks": marks}
    if status == AttemptStatus.submitted:
        values["submitted_at"] = now
    result = db.session.connection().execute(_finish_statement(status == AttemptStatus.submitted),
                                             {"attempt_id": attempt.id, **{f"v_{k}": v for k, v in values.items()}})
    if result.rowcount != 1:  # not held after all (a caller's mistake): nothing graded here
        attempt.__dict__.pop("_graded_answers", None)
        db.session.refresh(attempt)
        return False
    for key, value in values.items():
        set_committed_value(attempt, key, value)
    _graded(attempt, marks, score, passed, now)
    return True


@functools.cache
def _finish_statement(submitted: bool):
    columns = ("status", "graded_at", "score", "passed", "marks") + (("submitted_at",) if submitted else ())
    return sa.update(Attempt.__table__).where(
        Attempt.__table__.c.id == sa.bindparam("attempt_id"), Attempt.__table__.c.status == AttemptStatus.open
    ).values({name: sa.bindparam(f"v_{name}") for name in columns})


def submit_attempt(attempt: Attempt, *, now: dt.datetime | None = None, locked: bool = False) -> bool:
    """Submit and grade once; repeating (or racing) it grades nothing more. True when this call graded.

    After the deadline and its grace the attempt is closed instead, graded on
    what was saved in time. ``locked``: this transaction holds the attempt's row (see _finish_locked).
    """
    now = now or utcnow()
    if attempt.status != AttemptStatus.open:
        return False
    status = AttemptStatus.closed if is_overdue(attempt, now) else AttemptStatus.submitted
    return (_finish_locked if locked else _finish)(attempt, status, now)


def close_attempt(attempt: Attempt, *, now: dt.datetime | None = None) -> bool:
    """Close an overdue attempt, graded on its saved answers; True when this call closed it."""
    return _finish(attempt, AttemptStatus.closed, now or utcnow())


def fixed_paper_questions(quiz: Quiz) -> tuple[list, dict, dict]:
    """A fixed paper's questions in order: ([(bank code, question)], {qid: (question, version)}, {qid: marks}).

    A question retired after it was put on the paper stays on it (the paper is what the trainer set);
    Conflict when the paper is empty or a question has gone.
    """
    entries = list(quiz.fixed_paper or [])
    if not entries:
        raise Conflict("这份试卷还没有题目，暂时不能作答", code="draw_failed")
    qids = [entry["qid"] for entry in entries]
    rows = {row.qid: (row, code) for row, code in db.session.execute(
        sa.select(Question, Bank.code).join(Bank, Bank.id == Question.bank_id).where(Question.qid.in_(qids)))}
    if len(rows) != len(set(qids)):
        raise Conflict("试卷中有题目已不存在，请联系出卷的培训师", code="draw_failed")
    loaded = {qid: (question_value(row), row.version) for qid, (row, _) in rows.items()}
    chosen = [(rows[qid][1], loaded[qid][0]) for qid in qids]
    return chosen, loaded, {entry["qid"]: int(entry.get("marks") or 1) for entry in entries}


def _is_right(item: drawing.PaperItem, stored_answer) -> bool:
    if stored_answer is None:
        return False
    canonical = drawing.to_original(item.question, stored_answer, item.key_map)
    return canonical is not None and get_type(item.question.type).is_correct(item.question, canonical)


def item_points(data: dict) -> int:
    """What a paper item is worth: a fixed paper's marks for it, 1 on a drawn paper."""
    return int(data.get("points") or 1)


def _compute_grade(attempt: Attempt) -> tuple[dict, float, bool]:
    """(marks, score, passed) of the saved answers; the answers are kept for results() in this request
    (no save can follow: the attempt is being closed).

    ``marks`` is {qid: 1 right, 0 wrong}; the score is the points earned over the paper's total × 100
    (every question worth 1 on a drawn paper, its marks on a fixed one).
    """
    answers = saved_answers(attempt)
    marks, earned, total = {}, 0, 0
    for data, item in paper_items(attempt):
        marks[item.qid] = 1 if _is_right(item, answers.get(item.qid, {}).get("answer")) else 0
        total += item_points(data)
        earned += item_points(data) * marks[item.qid]
    score = round(100.0 * earned / total, 2) if total else 0.0
    attempt._graded_answers = answers
    return marks, score, score >= attempt.quiz.pass_score


def _graded(attempt: Attempt, marks: dict, score: float, passed: bool, now: dt.datetime) -> None:
    """After the grade is stored: the grade on the object, wrong answers to the 错题本, the pass signal."""
    for key, value in (("score", score), ("passed", passed), ("marks", marks)):
        set_committed_value(attempt, key, value)
    record_mistakes(attempt.user_id, [qid for qid, mark in marks.items() if not mark], now=now)
    if passed:
        user = db.session.get(User, attempt.user_id)
        signals.quiz_passed.send(user, quiz_code=attempt.quiz.code, score=score, attempt_id=attempt.id,
                                 attempt=attempt, now=now)


def results(attempt: Attempt) -> list[dict]:
    """Per question after grading: ``{qid, correct, your_answer, correct_answer, explanation, source}`` and display data."""
    if attempt.status == AttemptStatus.open:
        raise LMSError("尚未交卷，不能查看答案", code="attempt_open", status=409)
    answers = getattr(attempt, "_graded_answers", None)
    if answers is None:
        answers = saved_answers(attempt)
    marks = attempt.marks or {}
    out = []
    for data, item in paper_items(attempt):
        question = item.question
        correct_display = drawing.to_display(question, question.answer, item.key_map)
        points = item_points(data)
        out.append({
            "qid": item.qid,
            "correct": bool(marks.get(item.qid)),
            "points": points,
            "earned": points if marks.get(item.qid) else 0,
            "your_answer": answers.get(item.qid, {}).get("answer"),
            "correct_answer": answer_to_json(question.type, correct_display),
            "explanation": question.explanation,
            "source": question.source,
            "type": question.type,
            "stem_html": data.get("stem_html") or render_text(question.stem, question.text_format),
            "options": [{"key": key, "text": text, "html": html} for (key, text), html in zip(
                item.options, data.get("options_html") or [render_text(t, question.text_format) for _, t in item.options])],
            "explanation_html": render_text(question.explanation, question.text_format),
        })
    return out


def close_overdue_attempts(now: dt.datetime | None = None) -> int:
    """Close and grade every open attempt whose deadline and grace have passed; the number closed."""
    now = now or utcnow()
    ids = db.session.execute(sa.select(Attempt.id).where(
        Attempt.status == AttemptStatus.open, Attempt.deadline < now - GRACE).order_by(Attempt.id)).scalars().all()
    closed = 0
    for attempt_id in ids:
        attempt = db.session.get(Attempt, attempt_id)
        if close_attempt(attempt, now=now):
            closed += 1
    return closed


# --- 错题本 -------------------------------------------------------------------------------------------------

def _local_date(now: dt.datetime) -> dt.date:
    return now.astimezone(SHANGHAI).date()


def review_interval(box: int) -> dt.timedelta:
    """Days until a question in ``box`` comes back: 1, 2, 4, 8, 16."""
    return dt.timedelta(days=2 ** (box - 1))


def record_mistakes(user_id: int, qids, *, now: dt.datetime) -> None:
    """Put wrong answers in the learner's notebook: box 1, due tomorrow (a mastered one comes back)."""
    table = Mistake.__table__
    due = _local_date(now) + review_interval(1)
    rows = [{"user_id": user_id, "qid": qid, "box": 1, "next_review_on": due, "last_wrong_at": now,
             "mastered_at": None} for qid in qids]
    if rows:
        # One executemany: the driver batches it (psycopg pipelines it; SQLite runs it in-process).
        db.session.execute(_upsert_statement(_dialect(), table, ("user_id", "qid"),
                                             ("box", "next_review_on", "last_wrong_at", "mastered_at")), rows)


def practise(mistake: Mistake, raw, *, now: dt.datetime | None = None) -> dict:
    """Answer a notebook question: right moves it up a box (box 5 right = mastered, it leaves), wrong back to box 1."""
    now = now or utcnow()
    row = db.session.execute(sa.select(Question).where(Question.qid == mistake.qid)).scalar_one_or_none()
    if row is None:
        raise ValidationError("该题已不存在", code="unknown_question")
    question = question_value(row)
    item = drawing.PaperItem(question=question, bank="", options=list(question.options.items()),
                             key_map={k: k for k in question.options})
    answer = clean_answer(item, raw)
    right = _is_right(item, answer)
    today = _local_date(now)
    if right:
        if mistake.box >= LAST_BOX:
            mistake.mastered_at = now
        else:
            mistake.box += 1
            mistake.next_review_on = today + review_interval(mistake.box)
    else:
        mistake.box = 1
        mistake.last_wrong_at = now
        mistake.next_review_on = today + review_interval(1)
    db.session.flush()
    return {
        "qid": mistake.qid, "correct": right, "your_answer": answer,
        "correct_answer": answer_to_json(question.type, question.answer),
        "explanation": question.explanation, "source": question.source,
        "box": mistake.box, "next_review_on": mistake.next_review_on.isoformat(),
        "mastered": mistake.mastered_at is not None,
    }


def pick_practice(qids: list[str], size: int, rng: random.Random | None = None) -> list[str]:
    """A topic practice set: ``size`` of the question ids at random (all of them when fewer), in random order."""
    rng = rng or random.Random(int.from_bytes(os.urandom(16)))
    return rng.sample(qids, min(size, len(qids)))


def grade_practice(user_id: int, questions: dict, raw_answers: dict, mistakes: dict, *,
                   now: dt.datetime | None = None, record_wrong: bool = False) -> list[dict]:
    """Grade a practice round (not an attempt): per question {qid, correct, answered, your_answer, correct_answer,
    explanation, source}. A right answer moves its notebook entry up a box (as 错题复习 does); with
    ``record_wrong`` a wrong answer goes into the notebook (topic practice). Unanswered questions change nothing.

    ``questions``: qid → Question row in the order shown; ``raw_answers``: qid → the form's raw answer;
    ``mistakes``: qid → the learner's notebook entry, for those that have one.
    """
    now = now or utcnow()
    out, wrong = [], []
    for qid, row in questions.items():
        question = question_value(row)
        item = drawing.PaperItem(question=question, bank="", options=list(question.options.items()),
                                 key_map={k: k for k in question.options})
        try:
            answer = clean_answer(item, raw_answers.get(qid))
        except LMSError:
            answer = None
        answered = answer is not None
        right = answered and _is_right(item, answer)
        entry = {"qid": qid, "correct": right, "answered": answered, "your_answer": answer,
                 "correct_answer": answer_to_json(question.type, question.answer),
                 "explanation": question.explanation, "source": question.source, "type": question.type}
        mistake = mistakes.get(qid)
        if answered and mistake is not None:
            feedback = practise(mistake, raw_answers.get(qid), now=now)
            entry.update(box=feedback["box"], next_review_on=feedback["next_review_on"], mastered=feedback["mastered"])
        elif answered and not right and record_wrong:
            wrong.append(qid)
        out.append(entry)
    if wrong:
        record_mistakes(user_id, wrong, now=now)
    return out


# --- authoring in the browser ------------------------------------------------------------------------------

def save_question(actor, bank, value: QuestionValue, *, row: Question | None = None,
                  now: dt.datetime | None = None) -> Question:
    """Create or edit a question from the browser: validated, versioned, detached from its file (origin web).

    Attempts keep the copy they were given, so an edit changes only future draws.
    """
    now = now or utcnow()
    issues = validate_question(value)
    if issues:
        raise ValidationError("；".join(issues), code="invalid_question")
    if row is None:
        if db.session.execute(sa.select(Question.id).where(Question.qid == value.id)).first():
            raise ValidationError(f"题目编号 {value.id} 已被使用", code="duplicate_id")
        row = Question(qid=value.id, bank_id=bank.id, version=1, origin=Origin.web, is_retired=False)
        db.session.add(row)
    elif row.content_hash == value.fingerprint():
        return row
    else:
        row.version += 1
        row.origin = Origin.web
    row.type, row.stem, row.text_format = value.type, value.stem, value.text_format
    row.options, row.answer = dict(value.options), answer_to_json(value.type, value.answer)
    row.explanation, row.source, row.difficulty = value.explanation, value.source, value.difficulty
    row.tags, row.content_hash, row.updated_at = list(value.tags), value.fingerprint(), now
    db.session.flush()
    record("quizzes.question_saved", actor=actor, target_type="question", target=row.qid, org=bank.org,
           details={"version": row.version, "bank": bank.code}, now=now)
    return row


def set_retired(actor, row: Question, retired: bool, *, now: dt.datetime | None = None) -> None:
    """Retire a question (it leaves future draws; past attempts keep it) or bring it back; detaches it from its file."""
    now = now or utcnow()
    row.is_retired = retired
    row.origin = Origin.web
    row.updated_at = now
    db.session.flush()
    record("quizzes.question_retired" if retired else "quizzes.question_restored", actor=actor,
           target_type="question", target=row.qid, org=row.bank.org, now=now)


def save_quiz(actor, values: dict, *, quiz: Quiz | None = None, now: dt.datetime | None = None) -> Quiz:
    """Create or edit a quiz from the browser (origin web: `content import` leaves it alone); audited.

    ``values``: code (new only), title, org, draws, time_limit_minutes, pass_score, max_attempts,
    shuffle_options, opens_at, closes_at — already checked by the caller's form.
    """
    now = now or utcnow()
    if quiz is None:
        if db.session.execute(sa.select(Quiz.id).where(Quiz.code == values["code"])).first():
            raise ValidationError(f"测验编码 {values['code']} 已被使用", code="duplicate_code")
        quiz = Quiz(code=values["code"], origin=Origin.web)
        db.session.add(quiz)
    else:
        quiz.origin = Origin.web
    for key in ("title", "org", "draws", "time_limit_minutes", "pass_score", "max_attempts", "shuffle_options",
                "opens_at", "closes_at"):
        setattr(quiz, key, values[key])
    if "fixed_paper" in values:
        # a fixed exam paper keeps its questions (set on the paper page); None: the quiz draws
        quiz.fixed_paper = values["fixed_paper"]
    quiz.is_retired = False
    quiz.updated_at = now
    db.session.flush()
    record("quizzes.quiz_saved", actor=actor, target_type="quiz", target=quiz.code, org=quiz.org,
           details={"draws": values["draws"]}, now=now)
    return quiz


# --- 补考 (extra attempts) --------------------------------------------------------------------------------

#: one grant gives at most this many extra attempts (a typo like 100 is refused, not granted)
MAX_EXTRA_ATTEMPTS = 10
_MAX_GRANT_REASON = 500


def grant_attempts(actor, quiz: Quiz, user: User, extra_attempts, reason, *, now: dt.datetime | None = None,
                   client_addr: str = "") -> AttemptGrant:
    """补考: give ``user`` more attempts at ``quiz``, with a reason; audited. Scope is the caller's check."""
    now = now or utcnow()
    if isinstance(extra_attempts, str) and extra_attempts.strip().isdigit():
        extra_attempts = int(extra_attempts.strip())
    if isinstance(extra_attempts, bool) or not isinstance(extra_attempts, int):
        raise ValidationError("补考次数必须是整数", code="invalid_extra_attempts")
    if not 1 <= extra_attempts <= MAX_EXTRA_ATTEMPTS:
        raise ValidationError(f"补考次数须在 1 到 {MAX_EXTRA_ATTEMPTS} 次之间", code="invalid_extra_attempts")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("请填写补考理由", code="reason_required")
    reason = reason.strip()
    if len(reason) > _MAX_GRANT_REASON:
        raise ValidationError(f"补考理由不能超过 {_MAX_GRANT_REASON} 个字", code="reason_too_long")
    if getattr(actor, "id", None) == user.id:
        raise Forbidden("不能给自己安排补考", code="self_grant")
    if user.status != UserStatus.active:
        raise ValidationError(f"{user.name}（{user.username}）已离岗，不能安排补考", code="user_inactive")
    if quiz.is_retired:
        raise ValidationError(f"测验《{quiz.title}》已停用，不能安排补考", code="quiz_retired")
    if quiz.max_attempts is None:
        raise ValidationError(f"测验《{quiz.title}》不限作答次数，无需补考", code="attempts_unlimited")
    total = quiz.max_attempts + granted_extra_attempts(quiz.id, user.id) + extra_attempts
    grant = AttemptGrant(quiz_id=quiz.id, user_id=user.id, extra_attempts=extra_attempts, reason=reason,
                         granted_by_id=getattr(actor, "id", None), granted_at=now)
    db.session.add(grant)
    actor_name = getattr(actor, "name", None) or "系统"
    record("quizzes.grant_attempts", actor=actor, target_type="quiz", target=quiz.code, org=user.org,
           client_addr=client_addr, now=now,
           details={"summary": f"{actor_name} 给 {user.name}（{user.username}）安排测验《{quiz.title}》补考 "
                               f"{extra_attempts} 次（共可作答 {total} 次），理由：{reason}",
                    "quiz": quiz.title, "user": f"{user.name}（{user.username}）", "extra_attempts": extra_attempts,
                    "allowed": total, "reason": reason})
    return grant
