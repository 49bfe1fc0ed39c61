"""Reads of the consultation drills: visibility, answers, the review queue and statistics."""
from __future__ import annotations

import collections

import sqlalchemy as sa

from lms.accounts.permissions import Permission, can, scope_clause
from lms.consultations.content import RULE_NAMES
from lms.consultations.models import Consultation, ConsultationAnswer, Verdict
from lms.extensions import db
from lms.org.models import OrgUnit, subtree_clause


def get_consultation(code) -> Consultation | None:
    """The consultation with that code, or None."""
    if not isinstance(code, str):
        return None
    return db.session.scalar(sa.select(Consultation).where(Consultation.code == code))


def get_answer(answer_id) -> ConsultationAnswer | None:
    """The answer with that id, or None."""
    try:
        answer_id = int(answer_id)
    except (TypeError, ValueError):
        return None
    return db.session.get(ConsultationAnswer, answer_id)


def get_answer_by_client_id(user, client_id: str) -> ConsultationAnswer | None:
    """The user's answer sent with that idempotency key, or None."""
    return db.session.scalar(sa.select(ConsultationAnswer).where(ConsultationAnswer.user_id == user.id,
                                                                 ConsultationAnswer.client_id == client_id))


def count_attempts(user, consultation: Consultation) -> int:
    """How many answers the user has given to the consultation."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(ConsultationAnswer).where(
        ConsultationAnswer.user_id == user.id, ConsultationAnswer.consultation_id == consultation.id)) or 0


def is_visible(user, consultation: Consultation) -> bool:
    """Learners see current consultations of their unit or above; authors in scope see any of theirs."""
    if can(user, Permission.AUTHOR_CONTENT, consultation.org):
        return True
    return not consultation.is_retired and user.org.path.startswith(consultation.org.path)


def can_answer(user, consultation: Consultation) -> bool:
    """A learner may answer: the consultation is current and meant for the user's unit."""
    return (can(user, Permission.LEARN) and not consultation.is_retired
            and user.org.path.startswith(consultation.org.path))


def list_visible(user) -> list[Consultation]:
    """Current consultations meant for the user's unit, by title."""
    return list(db.session.scalars(
        sa.select(Consultation).join(OrgUnit, OrgUnit.id == Consultation.org_id)
        .where(Consultation.is_retired.is_(False), sa.literal(user.org.path).like(OrgUnit.path + "%"))
        .order_by(Consultation.title, Consultation.code)))


def list_my_answers(user, consultation: Consultation | None = None) -> list[ConsultationAnswer]:
    """The user's answers, newest first (all attempts are kept)."""
    query = sa.select(ConsultationAnswer).where(ConsultationAnswer.user_id == user.id)
    if consultation is not None:
        query = query.where(ConsultationAnswer.consultation_id == consultation.id)
    return list(db.session.scalars(query.order_by(ConsultationAnswer.id.desc())))


def latest_by_consultation(user) -> dict[int, ConsultationAnswer]:
    """The user's latest answer per consultation id."""
    latest = {}
    for answer in db.session.scalars(sa.select(ConsultationAnswer).where(ConsultationAnswer.user_id == user.id)
                                     .order_by(ConsultationAnswer.id)):
        latest[answer.consultation_id] = answer
    return latest


def may_see_model(user, consultation: Consultation) -> bool:
    """The model answer is shown once the worker's answer was accepted, or after the second return."""
    answers = list_my_answers(user, consultation)
    accepted = any(a.verdict == Verdict.accepted for a in answers)
    returned = sum(1 for a in answers if a.verdict == Verdict.returned)
    return accepted or returned >= 2


def review_queue(user, *, consultation: Consultation | None = None, verdict: str | None = None,
                 page: int = 1, per_page: int = 50) -> tuple[list[ConsultationAnswer], bool]:
    """Answers in the reviewer's scope (by the worker's unit at the time), newest first; (items, has_next)."""
    query = (sa.select(ConsultationAnswer).join(OrgUnit, OrgUnit.id == ConsultationAnswer.org_id)
             .where(scope_clause(user, Permission.REVIEW_DRILLS, OrgUnit.path)))
    if consultation is not None:
        query = query.where(ConsultationAnswer.consultation_id == consultation.id)
    if verdict in (Verdict.accepted.value, Verdict.returned.value):
        query = query.where(ConsultationAnswer.verdict == Verdict(verdict))
    rows = list(db.session.scalars(query.order_by(ConsultationAnswer.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def statistics(org: OrgUnit, start=None, end=None) -> dict:
    """Answers given in org's subtree (unit at the time) in [start, end): totals, per consultation, per rule.

    ``by_rule``: how often each rule failed the automatic check and how often a trainer overturned it
    (a returned answer the trainer accepted counts as an overturn of every rule that failed it).
    """
    query = (sa.select(ConsultationAnswer).join(OrgUnit, OrgUnit.id == ConsultationAnswer.org_id)
             .where(subtree_clause(OrgUnit.path, org.path)))
    if start is not None:
        query = query.where(ConsultationAnswer.created_at >= start)
    if end is not None:
        query = query.where(ConsultationAnswer.created_at < end)
    per_item: dict[int, dict] = {}
    failed = collections.Counter()
    overturned = collections.Counter()
    total = returned = 0
    for answer in db.session.scalars(query.order_by(ConsultationAnswer.id)):
        total += 1
        is_returned = answer.verdict == Verdict.returned
        returned += is_returned
        row = per_item.setdefault(answer.consultation_id, {
            "code": answer.consultation.code, "title": answer.consultation.title, "answers": 0, "returned": 0,
            "first_answers": 0, "first_returned": 0, "by_rule": dict.fromkeys(RULE_NAMES, 0)})
        row["answers"] += 1
        row["returned"] += is_returned
        if answer.attempt == 1:
            row["first_answers"] += 1
            row["first_returned"] += is_returned
        failing = [c["rule"] for c in answer.checks if not c.get("passed") and c.get("rule") in RULE_NAMES]
        for rule in failing:
            failed[rule] += 1
            row["by_rule"][rule] += 1
        if answer.reviews and not is_returned and failing:
            overturned.update(failing)
    items = sorted(per_item.values(), key=lambda r: (r["title"], r["code"]))
    for row in items:
        row["return_rate"] = _rate(row["returned"], row["answers"])
        row["first_return_rate"] = _rate(row["first_returned"], row["first_answers"])
    return {
        "answers": total, "returned": returned, "return_rate": _rate(returned, total),
        "by_consultation": items,
        "by_rule": [{"rule": rule, "failed": failed[rule], "rate": _rate(failed[rule], total),
                     "overturned": overturned[rule],
                     "precision": _rate(failed[rule] - overturned[rule], failed[rule])} for rule in RULE_NAMES],
    }


def list_authored(user) -> list[Consultation]:
    """Every consultation the user may edit (AUTHOR_CONTENT over its unit), drafts and retired ones included."""
    return list(db.session.scalars(
        sa.select(Consultation).join(OrgUnit, OrgUnit.id == Consultation.org_id)
        .where(scope_clause(user, Permission.AUTHOR_CONTENT, OrgUnit.path))
        .order_by(Consultation.title, Consultation.code)))
