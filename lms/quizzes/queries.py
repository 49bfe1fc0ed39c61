"""Reads of the quiz feature, including the contracts other features use (best_scores, quiz_stats)."""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import orm

from lms.accounts.models import User
from lms.db import SHANGHAI
from lms.extensions import db
from lms.org.models import OrgUnit, subtree_clause
from lms.quizzes import itemstats, retake
from lms.quizzes.draw import paper_slots, to_original
from lms.quizzes.models import (
    ATTEMPT_STATUS_LABELS, Attempt, AttemptAnswer, AttemptGrant, AttemptStatus, Bank, Mistake, Question, Quiz,
)
from lms.quizzes.questions import question_from_dict

GRADED = (AttemptStatus.submitted, AttemptStatus.closed)


_QUIZ_BY_CODE = sa.select(Quiz).where(Quiz.code == sa.bindparam("code"))  # built once: every start reads it


def get_quiz(code: str) -> Quiz | None:
    """The quiz with this code (retired ones too), or None."""
    return db.session.execute(_QUIZ_BY_CODE, {"code": code}).scalar_one_or_none()


def get_bank(code: str) -> Bank | None:
    """The bank with this code, or None."""
    return db.session.execute(sa.select(Bank).where(Bank.code == code)).scalar_one_or_none()


def get_attempt(attempt_id: int, *, lock: bool | str = False, with_quiz: bool = False) -> Attempt | None:
    """An attempt by id; ``lock`` holds a shared row lock (PostgreSQL) so a save cannot race the submit,
    ``lock="update"`` the row's exclusive (no key) lock, as the submit's UPDATE would take it;
    ``with_quiz`` loads its quiz in the same query (the lock then covers the attempt's row only)."""
    stmt = sa.select(Attempt).where(Attempt.id == attempt_id).execution_options(populate_existing=True)
    if with_quiz:
        # Not the quiz's org (joined by default): no attempt route reads it, and it would be a third table.
        stmt = stmt.options(orm.joinedload(Attempt.quiz).lazyload(Quiz.org))
    if lock == "update":
        # NO KEY UPDATE: answer inserts' foreign-key checks (KEY SHARE) of other attempts never wait on it.
        stmt = stmt.with_for_update(key_share=True, of=Attempt.__table__)
    elif lock:
        stmt = stmt.with_for_update(read=True, of=Attempt.__table__ if with_quiz else None)
    return db.session.execute(stmt).scalar_one_or_none()


class AttemptHead(NamedTuple):
    """What autosave needs of an attempt: no paper, no ORM object."""

    id: int
    user_id: int
    status: AttemptStatus
    deadline: dt.datetime
    answer_slots: dict


# Built once (constructing a statement per autosave cost about as much CPU as running it).
_HEAD = sa.select(Attempt.id, Attempt.user_id, Attempt.status, Attempt.deadline, Attempt.answer_slots).where(
    Attempt.id == sa.bindparam("attempt_id"))
_HEAD_LOCKED = _HEAD.with_for_update(read=True)


def attempt_head(attempt_id: int, *, lock: bool = False) -> AttemptHead | None:
    """An attempt's id, owner, status, deadline and answer slots; ``lock`` as in get_attempt (a shared row lock)."""
    # Core on the session's connection: no ORM result machinery for five plain columns.
    row = db.session.connection().execute(_HEAD_LOCKED if lock else _HEAD, {"attempt_id": attempt_id}).first()
    if row is None:
        return None
    head = AttemptHead(*row)
    if head.answer_slots is None:
        # Started before the column existed: derive the slots from the paper.
        paper = db.session.execute(sa.select(Attempt.paper).where(Attempt.id == attempt_id)).scalar_one()
        head = head._replace(answer_slots=paper_slots(paper))
    return head


def get_mistake(user, qid: str) -> Mistake | None:
    """The learner's notebook entry for qid (mastered ones too), or None."""
    return db.session.execute(sa.select(Mistake).where(Mistake.user_id == user.id, Mistake.qid == qid)
                              ).scalar_one_or_none()


def quizzes_for(user) -> list[Quiz]:
    """Live quizzes owned by the learner's unit or one above it (what they may sit)."""
    org_path = user.org.path
    return list(db.session.execute(
        sa.select(Quiz).join(OrgUnit, OrgUnit.id == Quiz.org_id)
        .where(Quiz.is_retired.is_(False), sa.literal(org_path).startswith(OrgUnit.path))
        .order_by(Quiz.opens_at.is_(None), Quiz.opens_at, Quiz.code)).scalars())


def may_sit(user, quiz: Quiz) -> bool:
    """The learner's unit lies in the quiz owner's subtree, or the quiz was assigned to them."""
    if user.org.path.startswith(quiz.org.path):
        return True
    return quiz.code in assigned_quiz_codes(user)


def assigned_quiz_codes(user) -> dict[str, object]:
    """Quiz codes assigned to the learner (courses' Assignment rows) → due date; empty when courses has none."""
    try:
        from lms.courses.queries import assignments_for  # noqa: PLC0415  (built concurrently; optional until then)
    except ImportError:
        return {}
    codes = {}
    for assignment in assignments_for(user):
        code = getattr(assignment, "quiz_code", None)
        if code:
            codes[code] = getattr(assignment, "due", None) or getattr(assignment, "due_on", None)
    return codes


def attempts_of(user, quiz: Quiz) -> list[Attempt]:
    """The learner's attempts of a quiz, newest first."""
    return list(db.session.execute(sa.select(Attempt).where(Attempt.user_id == user.id, Attempt.quiz_id == quiz.id)
                                   .order_by(Attempt.number.desc())).scalars())


def best_scores(user) -> dict[str, float]:
    """Quiz code → the learner's best score over submitted or closed attempts."""
    rows = db.session.execute(
        sa.select(Quiz.code, sa.func.max(Attempt.score)).join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(Attempt.user_id == user.id, Attempt.status.in_(GRADED), Attempt.score.is_not(None))
        .group_by(Quiz.code)).all()
    return {code: float(score) for code, score in rows}


def _as_utc(value, end: bool = False) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    # A date is a whole local day: the end date counts up to its midnight.
    day = value + dt.timedelta(days=1) if end else value
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI)


def quiz_stats(org: OrgUnit, start=None, end=None) -> dict:
    """Graded attempts between start and end by people whose unit (at the time) lay in org's subtree.

    ``start``/``end`` are aware datetimes ([start, end)) or dates (whole local days, both included); None = unbounded.
    """
    conditions = [Attempt.status.in_(GRADED), subtree_clause(OrgUnit.path, org.path)]
    start, end = _as_utc(start), _as_utc(end, end=True)
    if start is not None:
        conditions.append(Attempt.graded_at >= start)
    if end is not None:
        conditions.append(Attempt.graded_at < end)
    attempts, passed = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((Attempt.passed.is_(True), 1), else_=0)), 0))
        .select_from(Attempt).join(OrgUnit, OrgUnit.id == Attempt.org_id).where(*conditions)).one()
    return {"attempts": int(attempts), "passed": int(passed),
            "pass_rate": (int(passed) / int(attempts)) if attempts else 0.0}


def due_mistakes(user, today: dt.date, page: int = 1, per_page: int = 50) -> tuple[list[tuple[Mistake, str]], bool]:
    """Notebook entries not mastered, soonest review first, with the question's stem; (rows, has_next)."""
    rows = db.session.execute(
        sa.select(Mistake, Question.stem, Question.text_format).join(Question, Question.qid == Mistake.qid)
        .where(Mistake.user_id == user.id, Mistake.mastered_at.is_(None))
        .order_by(Mistake.next_review_on, Mistake.id).offset((page - 1) * per_page).limit(per_page + 1)).all()
    return [(m, stem, fmt) for m, stem, fmt in rows[:per_page]], len(rows) > per_page


def next_practice(user, today: dt.date) -> Mistake | None:
    """The first notebook question due today or earlier, or None."""
    return db.session.execute(
        sa.select(Mistake).where(Mistake.user_id == user.id, Mistake.mastered_at.is_(None),
                                 Mistake.next_review_on <= today)
        .order_by(Mistake.next_review_on, Mistake.id).limit(1)).scalar_one_or_none()


def count_mistakes(user, today: dt.date) -> tuple[int, int]:
    """(entries in the notebook, of which due today)."""
    total, due = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((Mistake.next_review_on <= today, 1),
                                                                          else_=0)), 0))
        .where(Mistake.user_id == user.id, Mistake.mastered_at.is_(None))).one()
    return int(total), int(due)


def item_statistics(quiz: Quiz) -> tuple[int, list[dict]]:
    """(graded attempts, per question: facility, discrimination, option counts in the bank's letters, flags,
    and ``choices``: each option's text with its count, share and whether it is the key).

    Workers saw the options shuffled: every answer is mapped back through its attempt's key map, so an
    option is counted as the text the worker chose whatever letter it carried on their paper."""
    attempts = db.session.execute(sa.select(Attempt.id, Attempt.paper, Attempt.marks).where(
        Attempt.quiz_id == quiz.id, Attempt.status.in_(GRADED))).all()
    ids = [a.id for a in attempts]
    answers: dict = {}
    for chunk in range(0, len(ids), 500):
        for attempt_id, qid, answer in db.session.execute(
                sa.select(AttemptAnswer.attempt_id, AttemptAnswer.qid, AttemptAnswer.answer)
                .where(AttemptAnswer.attempt_id.in_(ids[chunk:chunk + 500]))):
            answers[(attempt_id, qid)] = answer
    rows, info = [], {}
    for attempt_id, paper, marks in attempts:
        for data in paper:
            question = question_from_dict(data["question"])
            raw = answers.get((attempt_id, data["qid"]))
            chosen = None
            if raw is not None:
                # Shuffled papers: count options by the bank's letters so they add up across attempts.
                chosen = to_original(question, raw, data.get("key_map") or {})
                if question.type == "fill" and chosen is not None:
                    chosen = " / ".join(chosen)
            # A fixed paper's marks per question: a right answer earns them (Moodle: mark out of max mark).
            points = int(data.get("points") or 1)
            rows.append((attempt_id, data["qid"], points * (marks or {}).get(data["qid"], 0), points, chosen))
            info.setdefault(data["qid"], question)
    stats = itemstats.item_stats(rows)
    out = []
    for qid, stat in stats.items():
        question = info[qid]
        flags = []
        if stat.attempts >= 5 and stat.facility >= 0.9:
            flags.append("too_easy")
        if stat.attempts >= 5 and stat.facility <= 0.3:
            flags.append("too_hard")
        if stat.discrimination is not None and stat.discrimination < 0:
            flags.append("negative_discrimination")
        out.append({"qid": qid, "type": question.type, "stem": question.stem, "options": dict(question.options),
                    "attempts": stat.attempts, "facility": round(stat.facility, 6),
                    "discrimination": None if stat.discrimination is None else round(stat.discrimination, 6),
                    "option_counts": stat.option_counts, "unanswered": stat.unanswered, "flags": flags,
                    "choices": itemstats.choice_rows(question, stat)})
    out.sort(key=lambda row: row["qid"])
    return len(attempts), out


def list_banks(scope_clause_sql) -> list[tuple[Bank, int]]:
    """Banks whose owner lies in the given scope, with their live question counts."""
    counts = (sa.select(Question.bank_id, sa.func.count().label("n")).where(Question.is_retired.is_(False))
              .group_by(Question.bank_id).subquery())
    return [(bank, n or 0) for bank, n in db.session.execute(
        sa.select(Bank, counts.c.n).join(OrgUnit, OrgUnit.id == Bank.org_id)
        .outerjoin(counts, counts.c.bank_id == Bank.id)
        .where(scope_clause_sql, Bank.is_retired.is_(False)).order_by(Bank.code)).all()]


def all_qids() -> set[str]:
    """Every question id in use (any bank, retired too): generated ids must avoid them."""
    return set(db.session.execute(sa.select(Question.qid)).scalars())


def result_rows(quiz: Quiz, scope_sql) -> list[tuple]:
    """Graded attempts of a quiz by people whose unit (at the time) lies in scope, for export."""
    rows = db.session.execute(
        sa.select(User.name, User.username, OrgUnit.name, Attempt.number, Attempt.status, Attempt.score,
                  Attempt.passed, Attempt.started_at, Attempt.graded_at)
        .join(User, User.id == Attempt.user_id).join(OrgUnit, OrgUnit.id == Attempt.org_id)
        .where(Attempt.quiz_id == quiz.id, Attempt.status.in_(GRADED), scope_sql)
        .order_by(OrgUnit.path, User.username, Attempt.number)).all()
    fmt = "%Y-%m-%d %H:%M"
    return [(name, username, org, number, ATTEMPT_STATUS_LABELS[status], score, "是" if passed else "否",
             started.astimezone(SHANGHAI).strftime(fmt), graded.astimezone(SHANGHAI).strftime(fmt) if graded else "")
            for name, username, org, number, status, score, passed, started, graded in rows]


def list_quizzes(scope_sql) -> list[Quiz]:
    """Live quizzes whose owner lies in the given scope, by code."""
    return list(db.session.execute(sa.select(Quiz).join(OrgUnit, OrgUnit.id == Quiz.org_id)
                                   .where(scope_sql, Quiz.is_retired.is_(False)).order_by(Quiz.code)).scalars())


_EXTRA = sa.select(sa.func.coalesce(sa.func.sum(AttemptGrant.extra_attempts), 0)).where(
    AttemptGrant.quiz_id == sa.bindparam("quiz_id"), AttemptGrant.user_id == sa.bindparam("user_id"))


def granted_extra_attempts(quiz_id: int, user_id: int) -> int:
    """补考: the extra attempts granted to this learner for this quiz, summed over every grant."""
    return int(db.session.connection().execute(_EXTRA, {"quiz_id": quiz_id, "user_id": user_id}).scalar_one())


def extra_attempts_by_quiz(user_id: int) -> dict[int, int]:
    """Quiz id → the extra attempts granted to this learner (only quizzes with a grant)."""
    return {quiz_id: int(n) for quiz_id, n in db.session.execute(
        sa.select(AttemptGrant.quiz_id, sa.func.sum(AttemptGrant.extra_attempts))
        .where(AttemptGrant.user_id == user_id).group_by(AttemptGrant.quiz_id))}


def grants_of(quiz_id: int, user_id: int) -> list[AttemptGrant]:
    """The learner's 补考 grants for a quiz, oldest first."""
    return list(db.session.scalars(sa.select(AttemptGrant).where(
        AttemptGrant.quiz_id == quiz_id, AttemptGrant.user_id == user_id).order_by(AttemptGrant.id)))


#: status filter of the results page: label and SQL condition on the aggregate
RESULT_FILTERS = {"": "全部", "passed": "已通过", "failed": "作答过但未通过", "none": "未作答"}


def quiz_results_query(quiz: Quiz, scope_sql, *, org: OrgUnit | None = None, status: str = ""):
    """One row per person in scope who may sit the quiz (or has sat it): user id, name, 工号, unit id, unit name,
    best score, attempts, passed (0/1), last attempt start, extra attempts granted; ordered by unit and 工号.

    ``scope_sql`` restricts OrgUnit.path (the person's current unit). Learners only: holders of a role that learns.
    """
    from lms.accounts.models import Role, RoleGrant, UserStatus  # noqa: PLC0415  (kept beside the one query needing them)

    graded = Attempt.status.in_(GRADED)
    attempts = (sa.select(Attempt.user_id, sa.func.count(Attempt.id).label("attempts"),
                          sa.func.max(sa.case((graded, Attempt.score))).label("best"),
                          sa.func.max(sa.case((sa.and_(graded, Attempt.passed.is_(True)), 1), else_=0)).label("passed"),
                          sa.func.max(Attempt.started_at).label("last"))
                .where(Attempt.quiz_id == quiz.id).group_by(Attempt.user_id).subquery("quiz_result_attempts"))
    grants = (sa.select(AttemptGrant.user_id, sa.func.sum(AttemptGrant.extra_attempts).label("extra"))
              .where(AttemptGrant.quiz_id == quiz.id).group_by(AttemptGrant.user_id).subquery("quiz_result_grants"))
    learner = sa.exists().where(RoleGrant.user_id == User.id,
                                RoleGrant.role.in_((Role.worker, Role.grid_leader, Role.mentor, Role.trainer)))
    query = (sa.select(User.id, User.name, User.username, User.org_id, OrgUnit.name, attempts.c.best,
                       sa.func.coalesce(attempts.c.attempts, 0), sa.func.coalesce(attempts.c.passed, 0),
                       attempts.c.last, sa.func.coalesce(grants.c.extra, 0))
             .join(OrgUnit, OrgUnit.id == User.org_id)
             .outerjoin(attempts, attempts.c.user_id == User.id).outerjoin(grants, grants.c.user_id == User.id)
             .where(scope_sql, sa.or_(attempts.c.user_id.is_not(None),
                                      sa.and_(User.status == UserStatus.active, learner,
                                              subtree_clause(OrgUnit.path, quiz.org.path))))
             .order_by(OrgUnit.path, User.username))
    if org is not None:
        query = query.where(subtree_clause(OrgUnit.path, org.path))
    if status == "passed":
        query = query.where(attempts.c.passed == 1)
    elif status == "failed":
        query = query.where(attempts.c.user_id.is_not(None), attempts.c.passed == 0)
    elif status == "none":
        query = query.where(attempts.c.user_id.is_(None))
    return query


# --- exam start, 我的学习, topic practice ----------------------------------------------------------------------

class Allowance(NamedTuple):
    """How many attempts the learner has used of the current round and may still start (None: unlimited)."""

    used: int
    limit: int | None
    left: int | None
    #: 补考 after a wait: when the next round opens (None while attempts remain or no wait)
    reopens: dt.datetime | None


def attempt_allowance(user, quiz: Quiz, now: dt.datetime, attempts: list[Attempt] | None = None,
                      extra: int | None = None) -> Allowance:
    """The learner's attempts of the quiz as the start counts them: 补考 grants added, the current 补考 round only.

    ``attempts`` (newest first) and ``extra`` (granted attempts) when the caller read them already."""
    attempts = attempts_of(user, quiz) if attempts is None else attempts
    used = len(attempts)
    if not quiz.max_attempts:
        return Allowance(used, None, None, None)
    limit = quiz.max_attempts + (granted_extra_attempts(quiz.id, user.id) if extra is None else extra)
    reopens = None
    if quiz.retake_after_days and used >= limit:
        used, reopens = retake.current_round([a.started_at for a in attempts], limit,
                                             dt.timedelta(days=quiz.retake_after_days))
        if reopens is not None and now >= reopens:
            used, reopens = 0, None
    return Allowance(used, limit, max(limit - used, 0), reopens)


def needs_confirmation(quiz: Quiz, allowance: Allowance) -> bool:
    """A start that cannot be undone: the quiz is timed (the clock runs from the start) or one attempt is left."""
    return bool(quiz.time_limit_minutes) or allowance.left == 1


def is_scheduled(quiz: Quiz) -> bool:
    """An exam with a window: open only between dates, or on the same days every year."""
    return bool(quiz.opens_at or quiz.closes_at or (quiz.annual_opens and quiz.annual_closes))


def exams_for(user) -> list[tuple[Quiz, object]]:
    """(quiz, earliest due date or None) of the live quizzes assigned to the learner and the scheduled exams of
    their units, in one statement (我的学习 is a hot page)."""
    from lms.accounts.models import RoleGrant  # noqa: PLC0415  (kept beside the one query needing them)
    from lms.courses.models import Assignment  # noqa: PLC0415

    if getattr(user, "org", None) is None:
        return []
    ancestors = [int(part) for part in user.org.path.strip("/").split("/") if part]
    holds_role = sa.exists().where(RoleGrant.user_id == user.id, RoleGrant.role == Assignment.role)
    assigned = (sa.select(Assignment.quiz_code, sa.func.min(Assignment.due_on).label("due"))
                .where(Assignment.quiz_code.is_not(None), Assignment.org_id.in_(ancestors),
                       sa.or_(Assignment.role.is_(None), holds_role))
                .group_by(Assignment.quiz_code).subquery("assigned_quizzes"))
    scheduled = sa.or_(Quiz.opens_at.is_not(None), Quiz.closes_at.is_not(None),
                       sa.and_(Quiz.annual_opens.is_not(None), Quiz.annual_closes.is_not(None)))
    rows = db.session.execute(
        sa.select(Quiz, assigned.c.due).outerjoin(assigned, assigned.c.quiz_code == Quiz.code)
        .where(Quiz.is_retired.is_(False),
               sa.or_(assigned.c.quiz_code.is_not(None), sa.and_(scheduled, Quiz.org_id.in_(ancestors))))
        .order_by(Quiz.code)).all()
    return [(quiz, due) for quiz, due in rows]


def attempts_by_quiz(user, quiz_ids: list[int]) -> dict[int, list[Attempt]]:
    """Quiz id → the learner's attempts of it, newest first (every listed quiz has an entry)."""
    out: dict[int, list[Attempt]] = {quiz_id: [] for quiz_id in quiz_ids}
    if quiz_ids:
        for attempt in db.session.scalars(sa.select(Attempt).where(Attempt.user_id == user.id,
                                                                   Attempt.quiz_id.in_(quiz_ids))
                                          .order_by(Attempt.number.desc())):
            out[attempt.quiz_id].append(attempt)
    return out


def has_passed(user, quiz: Quiz) -> bool:
    """The learner has passed the quiz at least once."""
    return db.session.execute(sa.select(sa.func.count()).select_from(Attempt).where(
        Attempt.user_id == user.id, Attempt.quiz_id == quiz.id, Attempt.passed.is_(True))).scalar_one() > 0


def practice_bank_ids(user) -> list[int]:
    """Banks the learner may practise from: those the quizzes they may sit draw on (own units' and assigned),
    and the banks of a fixed paper's questions."""
    codes, qids = set(), set()
    quizzes = quizzes_for(user) + [q for code in assigned_quiz_codes(user) if (q := get_quiz(code))]
    for quiz in quizzes:
        if not quiz.is_retired:
            codes.update(d["bank"] for d in quiz.draws)
            qids.update(entry["qid"] for entry in quiz.fixed_paper or ())
    if not codes and not qids:
        return []
    owning = sa.select(Question.bank_id).where(Question.qid.in_(sorted(qids))) if qids else sa.select(Bank.id).where(
        sa.false())
    return list(db.session.scalars(sa.select(Bank.id).where(
        sa.or_(Bank.code.in_(sorted(codes)), Bank.id.in_(owning)), Bank.is_retired.is_(False)).order_by(Bank.id)))


def practice_topics(bank_ids: list[int]) -> dict[str, int]:
    """Tag → live questions carrying it in those banks, most questions first."""
    counts: dict[str, int] = {}
    if bank_ids:
        for tags in db.session.scalars(sa.select(Question.tags).where(Question.bank_id.in_(bank_ids),
                                                                      Question.is_retired.is_(False))):
            for tag in tags or ():
                counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def topic_qids(bank_ids: list[int], tag: str) -> list[str]:
    """Ids of the live questions of those banks carrying the tag."""
    if not bank_ids:
        return []
    rows = db.session.execute(sa.select(Question.qid, Question.tags).where(
        Question.bank_id.in_(bank_ids), Question.is_retired.is_(False)).order_by(Question.qid)).all()
    return [qid for qid, tags in rows if tag in (tags or ())]


def questions_by_qid(qids) -> dict[str, Question]:
    """The question rows of these ids (retired too: a notebook keeps them)."""
    qids = sorted(set(qids))
    if not qids:
        return {}
    return {q.qid: q for q in db.session.scalars(sa.select(Question).where(Question.qid.in_(qids)))}


def todays_mistakes(user, today: dt.date, limit: int = 50) -> list[Mistake]:
    """Notebook entries that went wrong today (local day) and are not yet answered right since, oldest first:
    what 现在练一练 asks again (a right answer moves one up a box, and out of this list)."""
    start = dt.datetime.combine(today, dt.time(), tzinfo=SHANGHAI)
    return list(db.session.scalars(sa.select(Mistake).where(
        Mistake.user_id == user.id, Mistake.mastered_at.is_(None), Mistake.box == 1, Mistake.last_wrong_at >= start,
        Mistake.last_wrong_at < start + dt.timedelta(days=1)).order_by(Mistake.last_wrong_at, Mistake.id).limit(limit)))


def mistakes_by_qid(user, qids) -> dict[str, Mistake]:
    """The learner's notebook entries (not mastered) for these question ids."""
    qids = sorted(set(qids))
    if not qids:
        return {}
    return {m.qid: m for m in db.session.scalars(sa.select(Mistake).where(
        Mistake.user_id == user.id, Mistake.qid.in_(qids), Mistake.mastered_at.is_(None)))}


def last_wrong_answers(user, qids, *, attempts: int = 100) -> dict[str, object]:
    """qid → what the learner answered the last time they got it wrong in a graded attempt (the bank's letters,
    bool or blank texts), over their latest ``attempts`` graded attempts; unanswered or not found: absent."""
    wanted = set(qids)
    if not wanted:
        return {}
    heads = db.session.execute(
        sa.select(Attempt.id, Attempt.paper, Attempt.marks).where(Attempt.user_id == user.id,
                                                                  Attempt.status.in_(GRADED))
        .order_by(Attempt.graded_at.desc(), Attempt.id.desc()).limit(attempts)).all()
    ids = [attempt_id for attempt_id, _, marks in heads
           if any(q in wanted and not m for q, m in (marks or {}).items())]
    if not ids:
        return {}
    saved = {(attempt_id, qid): answer for attempt_id, qid, answer in db.session.execute(
        sa.select(AttemptAnswer.attempt_id, AttemptAnswer.qid, AttemptAnswer.answer)
        .where(AttemptAnswer.attempt_id.in_(ids), AttemptAnswer.qid.in_(sorted(wanted))))}
    out: dict[str, object] = {}
    for attempt_id, paper, marks in heads:
        if attempt_id not in ids:
            continue
        for data in paper:
            qid = data["qid"]
            if qid in out or qid not in wanted or (marks or {}).get(qid) or (attempt_id, qid) not in saved:
                continue
            chosen = to_original(question_from_dict(data["question"]), saved[(attempt_id, qid)],
                                 data.get("key_map") or {})
            if chosen is not None:
                out[qid] = sorted(chosen) if isinstance(chosen, (set, frozenset)) else chosen
    return out
