"""Writes of the drills feature: taxonomy, drill versions, reports, reviews. Never commits."""
from __future__ import annotations

import hashlib
import unicodedata

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.audit.services import record
from lms.contentfile import ContentErrors
from lms.courses.render import render_markdown
from lms.db import utcnow
from lms.drills import content, queries
from lms.drills.definition import from_definition, to_definition, to_yaml
from lms.drills.models import (
    Drill, DrillOrigin, DrillReport, DrillReview, DrillVersion, TaxonomyItem, TaxonomyKind, Verdict,
)
from lms.drills.rules import MAX_FIELD_CHARS, evaluate
from lms.drills.synonyms import check_synonym
from lms.errors import Conflict, Forbidden, ValidationError
from lms.extensions import db
from lms.signals import drill_accepted

_KINDS = ((TaxonomyKind.event_type, "event_types"), (TaxonomyKind.department, "departments"),
          (TaxonomyKind.urgency, "urgencies"))
MAX_CLIENT_ID = 64
MAX_COMMENT = 2000


def content_hash(text: str) -> str:
    """sha256 of a content file's text: an unchanged file is skipped on import."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def replace_taxonomy(taxonomy: content.Taxonomy) -> str:
    """Store the county lists, replacing the previous set; returns new | updated | unchanged."""
    current = queries.get_taxonomy()
    if current == taxonomy:
        return "unchanged"
    db.session.execute(sa.delete(TaxonomyItem))
    for kind, attr in _KINDS:
        for position, value in enumerate(getattr(taxonomy, attr)):
            db.session.add(TaxonomyItem(kind=kind, position=position, value=value))
    db.session.flush()
    return "new" if current is None else "updated"


def _add_version(drill: Drill, parsed: content.Drill, actor, now) -> None:
    definition = to_definition(parsed)
    html = str(render_markdown(parsed.scenario))
    drill.definition, drill.scenario_html, drill.title = definition, html, parsed.title
    drill.updated_at = now
    db.session.add(DrillVersion(drill=drill, version=drill.version, definition=definition, scenario_html=html,
                                created_by_id=getattr(actor, "id", None), created_at=now))


def sync_file_drill(parsed: content.Drill, org, text: str, source_path: str, *, now=None) -> str:
    """Create or update a drill from its file; returns new | updated | unchanged (caller checks detachment)."""
    now = now or utcnow()
    digest = content_hash(text)
    drill = queries.get_drill(parsed.code)
    if drill is None:
        drill = Drill(code=parsed.code, org=org, origin=DrillOrigin.file, content_hash=digest, version=1,
                      source_path=source_path, is_published=True, created_at=now)
        db.session.add(drill)
        _add_version(drill, parsed, None, now)
        db.session.flush()
        return "new"
    if drill.content_hash == digest and not drill.is_retired and drill.org_id == org.id:
        return "unchanged"
    drill.version += 1
    drill.org, drill.content_hash, drill.source_path = org, digest, source_path
    drill.is_retired, drill.is_published = False, True
    _add_version(drill, parsed, None, now)
    db.session.flush()
    return "updated"


def retire_drill(drill: Drill, *, now=None) -> None:
    """A file drill gone from the files: no new reports; its reports stay."""
    drill.is_retired = True
    drill.updated_at = now or utcnow()


def save_authored_drill(actor, drill: Drill | None, parsed: content.Drill, org, *, publish: bool,
                        client_addr: str = "", now=None) -> Drill:
    """Save a drill written in the browser as a new version; publish only when its model report is accepted."""
    now = now or utcnow()
    if publish and content.validate_model_report(parsed, queries.get_taxonomy_or_empty()):
        raise ValidationError("示范报告未通过全部检查，不能发布：请先修改示范报告或答案", code="model_report_returned")
    if drill is None:
        if queries.get_drill(parsed.code) is not None:
            raise Conflict(f"代码“{parsed.code}”已被其他演练使用，请换一个", code="drill_code_taken")
        drill = Drill(code=parsed.code, org=org, origin=DrillOrigin.web, version=1, created_at=now,
                      is_published=publish)
        db.session.add(drill)
        action = "drill.create"
    else:
        drill.version += 1
        drill.org = org
        if drill.origin == DrillOrigin.file:
            drill.is_detached = True  # the importer must not overwrite the trainer's edit
        action = "drill.edit"
    drill.is_published = publish
    _add_version(drill, parsed, actor, now)
    db.session.flush()
    record(action if not publish else "drill.publish", actor=actor, target_type="drill", target=drill.code,
           org=org, client_addr=client_addr, details={"version": drill.version, "published": publish}, now=now)
    return drill


def clean_fields(data) -> dict[str, str]:
    """The nine form fields as typed text (other keys dropped, odd values turned into text, capped)."""
    fields = {}
    for name in content.FORM_FIELDS:
        value = data.get(name) if hasattr(data, "get") else None
        if value is None:
            value = ""
        elif not isinstance(value, str):
            value = value if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
            value = str(value)
        fields[name] = value[:MAX_FIELD_CHARS]
    return fields


def _check_client_id(client_id) -> str | None:
    if client_id is None or client_id == "":
        return None
    if not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID or not client_id.strip():
        raise ValidationError(f"client_id 必须是不超过 {MAX_CLIENT_ID} 个字符的字符串（建议用 UUID）",
                              code="invalid_client_id")
    return client_id.strip()


def add_once(row, find_existing) -> tuple[object, bool]:
    """Add and flush a worker's attempt in a savepoint: (row, True). When its unique (user, client_id) key shows
    that a concurrent retry won the race, (find_existing(), False); any other conflict is raised."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        existing = find_existing()
        if existing is None:
            raise
        return existing, False
    return row, True


def submit_report(user, drill: Drill, data, *, client_id=None, now=None) -> tuple[DrillReport, bool]:
    """Grade a report and keep it; the same client_id again returns the first report (created=False)."""
    now = now or utcnow()
    client_id = _check_client_id(client_id)
    if client_id:
        existing = queries.get_report_by_client_id(user, client_id)
        if existing is not None:
            return existing, False
    fields = clean_fields(data)
    evaluation = evaluate(fields, from_definition(drill.definition, drill.code))
    attempt = queries.count_attempts(user, drill) + 1
    report = DrillReport(drill=drill, drill_version=drill.version, user_id=user.id, org_id=user.org_id,
                         fields=fields, verdict=Verdict(evaluation.verdict), score=evaluation.score,
                         checks=[c.to_dict() for c in evaluation.checks], client_id=client_id, attempt=attempt,
                         created_at=now)
    report, created = add_once(report, lambda: queries.get_report_by_client_id(user, client_id) if client_id else None)
    if not created:
        return report, False
    if report.verdict == Verdict.accepted:
        drill_accepted.send(user, report=report, now=now)
    # An automatic verdict stays on the drill page, where the worker already reads it: the inbox carries only
    # a trainer's review (issue #14).
    return report, True


def _post(user, report: DrillReport, now, *, kind: str, title: str, body: str) -> None:
    try:
        from lms.inbox import services as inbox  # optional feature: the message is a courtesy
    except ImportError:  # pragma: no cover - inbox is part of the app
        return
    post = getattr(inbox, "post", None)
    if post is None:  # pragma: no cover
        return
    post(user, kind=kind, title=title, body=body, link=f"/drill-reports/{report.id}", now=now)


def _post_returned(user, report: DrillReport, now, comment: str = "", *, by_trainer: bool = False) -> None:
    failed = [c for c in report.checks if not c.get("passed")]
    body = comment or "；".join(c["message"] for c in failed[:5])
    who = "经培训老师复核" if by_trainer else ""
    _post(user, report, now, kind="drill_returned", body=body,
          title=f"演练报告{who}被退回：{report.drill.title}（第{report.attempt}次）")


def _notify_review(report: DrillReport, before: str, verdict: str, score_changed: bool, comment: str, now) -> None:
    """The worker hears of every review that changes something or says something; acceptance is also signalled."""
    user = report.user
    if verdict == Verdict.returned.value:
        if before != verdict or comment or score_changed:
            _post_returned(user, report, now, comment, by_trainer=True)
        return
    if before != verdict:
        drill_accepted.send(user, report=report, now=now)
    if before != verdict or comment or score_changed:
        title = "演练报告经培训老师复核改判为通过" if before != verdict else "培训老师复核了你的演练报告"
        _post(user, report, now, kind="drill_reviewed", title=f"{title}：{report.drill.title}（第{report.attempt}次）",
              body=comment or f"复核结论：通过，{report.score} 分")


def check_review(verdict, score, comment) -> tuple[int, str]:
    """A trainer's verdict, score and comment as typed (form text or JSON): (score, comment) or ValidationError."""
    if verdict not in (Verdict.accepted.value, Verdict.returned.value):
        raise ValidationError("结论（verdict）只能是 accepted（通过）或 returned（退回）", code="invalid_verdict")
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score.strip())
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ValidationError("分数（score）必须是 0 到 100 之间的整数", code="invalid_score")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise ValidationError(f"评语（comment）必须是不超过 {MAX_COMMENT} 字的文字", code="invalid_comment")
    return score, comment


def review_report(actor, report: DrillReport, verdict, score, comment, *, client_addr: str = "",
                  now=None) -> DrillReview:
    """A trainer overrides verdict and score with a comment; audited; acceptance announced."""
    now = now or utcnow()
    if getattr(actor, "id", None) == report.user_id:
        raise Forbidden("不能复核自己提交的演练报告", code="self_review")
    score, comment = check_review(verdict, score, comment)
    before = (report.verdict.value, report.score)
    review = DrillReview(report=report, reviewer_id=getattr(actor, "id", None), verdict=Verdict(verdict),
                         score=score, comment=comment.strip(), created_at=now)
    db.session.add(review)
    report.verdict, report.score = Verdict(verdict), score
    db.session.flush()
    record("drill.review", actor=actor, target_type="drill_report", target=str(report.id), org=report.org,
           client_addr=client_addr, now=now,
           details={"drill": report.drill.code, "worker": report.user.username, "before": list(before),
                    "after": [verdict, score], "comment": comment.strip()[:200]})
    _notify_review(report, before[0], verdict, before[1] != score, comment.strip(), now)
    return review


def can_add_synonyms(drill: Drill) -> bool:
    """One-click synonyms only for drills the browser owns (written there, or a file drill since edited there)."""
    return drill.origin == DrillOrigin.web or drill.is_detached


def add_synonym(actor, drill: Drill, fact_name: str, words, *, report: DrillReport | None = None,
                client_addr: str = "", now=None) -> Drill:
    """Add words to a fact's synonyms as a new version of a browser-owned drill (audited); the caller authorizes."""
    now = now or utcnow()
    if not can_add_synonyms(drill):
        raise Conflict("这个演练来自题库文件：请把说法加进文件（复制下面的 YAML），由内容导入更新",
                       code="drill_from_file")
    try:
        words = check_synonym(words)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_synonym") from None
    data = {**drill.definition, "facts": [dict(f) for f in drill.definition.get("facts") or ()]}
    fact = next((f for f in data["facts"] if f.get("name") == fact_name), None)
    if fact is None:
        raise ValidationError(f"演练中没有“{str(fact_name)[:40]}”这个关键事实（可能已被修改），请刷新后再试",
                              code="unknown_fact")
    if any(content_fold(words) == content_fold(w) for w in fact.get("any") or ()):
        raise ValidationError(f"“{words}”已经是“{fact_name}”的说法了", code="synonym_exists")
    fact["any"] = [*fact.get("any", []), words]
    try:
        parsed = content.parse_drill(to_yaml(data), drill.source_path or "网页表单", queries.get_taxonomy_or_empty())
    except ContentErrors as exc:
        raise ValidationError("；".join(e.message for e in exc.errors)[:500], code="invalid_drill") from None
    drill.version += 1
    _add_version(drill, parsed, actor, now)
    db.session.flush()
    record("drill.add_synonym", actor=actor, target_type="drill", target=drill.code, org=drill.org,
           client_addr=client_addr, now=now,
           details={"fact": fact_name, "words": words, "version": drill.version,
                    "report": report.id if report is not None else None})
    return drill


def content_fold(text: str) -> str:
    """Matching form of a synonym (full-width to half-width, case and spaces ignored), as the rules match."""
    return "".join(unicodedata.normalize("NFKC", str(text)).lower().split())
