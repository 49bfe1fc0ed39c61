"""Writes of the consultation drills: file sync, answers, trainers' reviews. Never commits."""
from __future__ import annotations

from lms.audit.services import record
from lms.consultations import content, queries
from lms.consultations.content import from_definition
from lms.consultations.models import Consultation, ConsultationAnswer, ConsultationReview, Verdict
from lms.consultations.rules import MAX_ANSWER_CHARS, clean_answer, evaluate
from lms.courses.render import render_markdown
from lms.db import utcnow
# Same idempotency-key rule, review checks, insert race handling and file hashing as the report drills.
from lms.drills.services import _check_client_id, add_once, check_review, content_hash
from lms.errors import Forbidden
from lms.extensions import db
from lms.signals import consultation_accepted

__all__ = ["MAX_ANSWER_CHARS", "sync_file_consultation", "retire_consultation", "submit_answer", "review_answer"]


def sync_file_consultation(parsed: content.Consultation, org, text: str, source_path: str, *, now=None) -> str:
    """Create or update a consultation from its file; returns new | updated | unchanged."""
    now = now or utcnow()
    digest = content_hash(text)
    item = queries.get_consultation(parsed.code)
    definition = content.to_definition(parsed)
    html = str(render_markdown(parsed.question))
    if item is None:
        db.session.add(Consultation(code=parsed.code, title=parsed.title, org=org, definition=definition,
                                    question_html=html, content_hash=digest, source_path=source_path, version=1,
                                    created_at=now, updated_at=now))
        db.session.flush()
        return "new"
    if item.content_hash == digest and not item.is_retired and item.org_id == org.id:
        return "unchanged"
    item.version += 1
    item.title, item.org, item.definition, item.question_html = parsed.title, org, definition, html
    item.content_hash, item.source_path, item.is_retired, item.updated_at = digest, source_path, False, now
    db.session.flush()
    return "updated"


def retire_consultation(item: Consultation, *, now=None) -> None:
    """A consultation gone from the files: no new answers; its answers stay."""
    item.is_retired = True
    item.updated_at = now or utcnow()


def submit_answer(user, item: Consultation, answer, *, client_id=None, now=None) -> tuple[ConsultationAnswer, bool]:
    """Grade an answer and keep it; the same client_id again returns the first answer (created=False)."""
    now = now or utcnow()
    client_id = _check_client_id(client_id)
    if client_id:
        existing = queries.get_answer_by_client_id(user, client_id)
        if existing is not None:
            return existing, False
    text = clean_answer(answer if isinstance(answer, str) else "")
    evaluation = evaluate(text, from_definition(item.definition, item.code))
    row = ConsultationAnswer(consultation=item, consultation_version=item.version, user_id=user.id,
                             org_id=user.org_id, answer=text, verdict=Verdict(evaluation.verdict),
                             score=evaluation.score,
                             checks=[{"rule": c.rule, "passed": c.passed, "message": c.message}
                                     for c in evaluation.checks],
                             client_id=client_id, attempt=queries.count_attempts(user, item) + 1, created_at=now)
    row, created = add_once(row, lambda: queries.get_answer_by_client_id(user, client_id) if client_id else None)
    if not created:
        return row, False
    if row.verdict == Verdict.accepted:
        consultation_accepted.send(user, answer=row, now=now)
    return row, True


def _post(user, row: ConsultationAnswer, now, *, title: str, body: str) -> None:
    from lms.inbox import services as inbox  # the inbox hears only of trainers' reviews

    inbox.post(user, kind="consultation_reviewed", title=title, body=body, link=f"/consultation-answers/{row.id}",
               now=now)


def review_answer(actor, row: ConsultationAnswer, verdict, score, comment, *, client_addr: str = "",
                  now=None) -> ConsultationReview:
    """A trainer overrides verdict and score with a comment; audited; the worker hears of it in the inbox."""
    now = now or utcnow()
    if getattr(actor, "id", None) == row.user_id:
        raise Forbidden("不能复核自己的回答", code="self_review")
    score, comment = check_review(verdict, score, comment)
    comment = comment.strip()
    before = (row.verdict.value, row.score)
    review = ConsultationReview(answer_row=row, reviewer_id=getattr(actor, "id", None), verdict=Verdict(verdict),
                                score=score, comment=comment, created_at=now)
    db.session.add(review)
    row.verdict, row.score = Verdict(verdict), score
    db.session.flush()
    record("consultation.review", actor=actor, target_type="consultation_answer", target=str(row.id), org=row.org,
           client_addr=client_addr, now=now,
           details={"consultation": row.consultation.code, "title": row.consultation.title,
                    "worker": row.user.username, "before": list(before), "after": [verdict, score],
                    "comment": comment[:200]})
    if before[0] != verdict and verdict == Verdict.accepted.value:
        consultation_accepted.send(row.user, answer=row, now=now)
    label = "通过" if verdict == Verdict.accepted.value else "退回"
    changed = "改判为" if before[0] != verdict else "维持"
    _post(row.user, row, now, title=f"培训老师复核了你的政策答询：{row.consultation.title}（第{row.attempt}次）",
          body=comment or f"复核结论：{changed}{label}，{score} 分")
    return review
