"""Writes of the consultation drills: file sync, answers, trainers' reviews. Never commits."""
from __future__ import annotations

from lms.audit.services import record
from lms.consultations import content, queries
from lms.consultations.authoring import META, browser_owned, meta
from lms.consultations.content import from_definition
from lms.consultations.models import Consultation, ConsultationAnswer, ConsultationReview, Verdict
from lms.consultations.rules import MAX_ANSWER_CHARS, clean_answer, evaluate
from lms.courses.render import render_markdown
from lms.db import utcnow
# Same idempotency-key rule, review checks, insert race handling and file hashing as the report drills.
from lms.drills.services import _check_client_id, add_once, check_review, content_fold, content_hash
from lms.drills.synonyms import check_synonym
from lms.errors import Conflict, Forbidden, ValidationError
from lms.extensions import db
from lms.signals import consultation_accepted

__all__ = ["MAX_ANSWER_CHARS", "sync_file_consultation", "retire_consultation", "submit_answer", "review_answer",
           "save_authored_consultation", "retire_authored", "add_synonym"]


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


# ------------------------------------------------------------------ browser authoring

def _with_meta(definition: dict, *, origin: str, detached: bool, state: str) -> dict:
    return {**definition, META: {"origin": origin, "detached": detached, "state": state}}


def save_authored_consultation(actor, item: Consultation | None, parsed: content.Consultation, org, *,
                               publish: bool, client_addr: str = "", now=None) -> Consultation:
    """Save a consultation written in the browser (a new version); the caller has checked its model answer.

    A file consultation edited here is detached: the importer no longer overwrites or retires it.
    """
    now = now or utcnow()
    definition = content.to_definition(parsed)
    html = str(render_markdown(parsed.question))
    if item is None:
        if queries.get_consultation(parsed.code) is not None:
            raise Conflict(f"代码“{parsed.code}”已被其他政策答询使用，请换一个", code="consultation_code_taken")
        state = "published" if publish else "draft"
        item = Consultation(code=parsed.code, title=parsed.title, org=org, question_html=html, content_hash="",
                            source_path="", version=1, is_retired=not publish, created_at=now, updated_at=now,
                            definition=_with_meta(definition, origin="web", detached=False, state=state))
        db.session.add(item)
        action = "consultation.publish" if publish else "consultation.create"
    else:
        before = meta(item.definition)
        state = "published" if publish else ("draft" if before["state"] == "draft" else before["state"])
        item.version += 1
        item.title, item.org, item.question_html, item.updated_at = parsed.title, org, html, now
        item.definition = _with_meta(definition, origin=before["origin"],
                                     detached=before["origin"] == "file", state=state)
        item.is_retired = state != "published"
        action = "consultation.publish" if publish else "consultation.edit"
    db.session.flush()
    record(action, actor=actor, target_type="consultation", target=item.code, org=org, client_addr=client_addr,
           now=now, details={"title": item.title, "version": item.version, "published": state == "published"})
    return item


def retire_authored(actor, item: Consultation, *, client_addr: str = "", now=None) -> None:
    """A trainer retires a consultation: no new answers; its answers stay. Publishing again reopens it."""
    now = now or utcnow()
    m = meta(item.definition)
    item.definition = _with_meta(item.definition, origin=m["origin"], detached=m["origin"] == "file",
                                 state="retired")
    item.is_retired, item.updated_at = True, now
    db.session.flush()
    record("consultation.retire", actor=actor, target_type="consultation", target=item.code, org=item.org,
           client_addr=client_addr, now=now, details={"title": item.title, "version": item.version})


def add_synonym(actor, item: Consultation, point_name: str, words, *, answer: ConsultationAnswer | None = None,
                client_addr: str = "", now=None) -> Consultation:
    """Add words to a point's phrasings as a new version of a browser-owned consultation (audited)."""
    now = now or utcnow()
    if not browser_owned(item.definition):
        raise Conflict("这个政策答询来自题库文件：请把说法加进文件（复制下面的 YAML），由内容导入更新",
                       code="consultation_from_file")
    try:
        words = check_synonym(words)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_synonym") from None
    points = [dict(p) for p in item.definition.get("points") or ()]
    point = next((p for p in points if p.get("name") == point_name), None)
    if point is None:
        raise ValidationError(f"政策答询中没有“{str(point_name)[:40]}”这个要点（可能已被修改），请刷新后再试",
                              code="unknown_point")
    if any(content_fold(words) == content_fold(w) for w in point.get("any") or ()):
        raise ValidationError(f"“{words}”已经是“{point_name}”的讲法了", code="synonym_exists")
    point["any"] = [*point.get("any", []), words]
    item.definition = {**item.definition, "points": points}
    item.version += 1
    item.updated_at = now
    db.session.flush()
    record("consultation.add_synonym", actor=actor, target_type="consultation", target=item.code, org=item.org,
           client_addr=client_addr, now=now,
           details={"title": item.title, "point": point_name, "words": words, "version": item.version,
                    "answer": answer.id if answer is not None else None})
    return item
