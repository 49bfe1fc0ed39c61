"""Writes: issue, renew, revoke and expire certificates, remind holders, evaluate rules, count lookups.

Services never commit; the view or command does. Every change to a
certificate is audited.
"""
from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import importlib
import logging
import re
import secrets

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User, UserStatus
from lms.audit.services import record
from lms.certification import codes, credential, facts, queries, rules
from lms.certification.models import Certificate, CertificateStatus, Program, VerifyLookup
from lms.db import utcnow
from lms.errors import Conflict, TooManyRequests, ValidationError
from lms.extensions import db

log = logging.getLogger(__name__)

AUTO_ISSUE_REASON = "条件全部满足，系统自动发放"
AUTO_RENEW_REASON = "到期前条件仍满足，系统自动续发"
#: days before expiry when a still-qualified holder is renewed automatically
RENEWAL_WINDOW_DAYS = 30
#: days before expiry when the holder is reminded in the inbox
REMINDER_DAYS = (60, 30)
_MAX_REASON = 500
_NUMBER_ATTEMPTS = 8


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validity_end(start: dt.date, months: int) -> dt.date:
    """Last valid day of a certificate valid ``months`` from ``start`` (inclusive)."""
    return add_months(start, months) - dt.timedelta(days=1)


def number_prefix(program: Program) -> str:
    """The program's number prefix: its code in capitals, other characters as '-'."""
    prefix = re.sub(r"[^A-Za-z0-9-]+", "-", program.code.upper()).strip("-")
    return prefix or "CERT"


def clean_reason(reason, *, field: str = "理由") -> str:
    """A required reason, trimmed; 422 when missing or too long."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(f"请填写{field}", code="reason_required")
    reason = reason.strip()
    if len(reason) > _MAX_REASON:
        raise ValidationError(f"{field}不能超过 {_MAX_REASON} 个字", code="reason_too_long")
    return reason


PUBLIC_URL_MISSING = ("暂不能发证：本系统的公开网址（环境变量 LMS_PUBLIC_URL）尚未设置，或仍是本机地址“{current}”。"
                      "证书上的二维码和核验网址都以它开头，本机地址在其他电脑和手机上打不开，证书将无法核验。"
                      "请系统管理员把 LMS_PUBLIC_URL 设为外部可访问的网址（例如 https://lms.某某县.gov.cn），"
                      "重启服务后再发证。")


def issuing_blocked_reason() -> str | None:
    """Why certificates may not be issued now (Chinese, for HR), or None when issuing may start.

    Certificates printed with a loopback verification URL can never be checked, so issuing waits for
    LMS_PUBLIC_URL, except on the demo: a database holding the demo county's accounts (`flask demo`, which
    `make run` runs and which refuses a database with real accounts), even after someone tries adding one.
    """
    base = current_app.config.get("PUBLIC_URL") if has_app_context() else None
    if codes.is_public_base_url(base):
        return None
    if db.session.scalar(sa.select(User.id).where(User.is_demo.is_(True)).limit(1)) is not None:
        return None
    return PUBLIC_URL_MISSING.format(current=(base or "").strip()[:100] or "未设置")


def require_issuing_ready() -> None:
    """422 with the reason when issuing must not start (see issuing_blocked_reason)."""
    reason = issuing_blocked_reason()
    if reason:
        raise ValidationError(reason, code="public_url_not_set")


def _audit(action: str, certificate: Certificate, actor, now, client_addr: str = "", **details) -> None:
    record(action, actor=actor, actor_name=None if actor is not None else "系统", target_type="certificate",
           target=certificate.number, org=certificate.holder.org, client_addr=client_addr, now=now,
           details={"program": certificate.program.code, "holder": certificate.holder.username, **details})


def _new_status_index(rng) -> int:
    """A random bit of the revocation list for a new certificate (a taken one fails the insert, which retries).

    The list keeps at least twice as many bits as certificates, so a random pick is rarely taken.
    """
    count = db.session.scalar(sa.select(sa.func.count(Certificate.id))) or 0
    bits = credential.list_bits_for(2 * count)
    return rng.randbelow(bits) if hasattr(rng, "randbelow") else rng.randrange(bits)


def _insert_numbered(certificate: Certificate, program: Program, year: int, rng) -> None:
    """Give the certificate the next number of program+year and a fresh code; retry on a collision.

    Two issuers can read the same max(seq) at once; the unique constraints reject
    the second insert, whose savepoint rolls back, and it tries the next number.
    """
    prefix = number_prefix(program)
    for _ in range(_NUMBER_ATTEMPTS):
        last = db.session.scalar(sa.select(sa.func.max(Certificate.seq))
                                 .where(Certificate.program_id == program.id, Certificate.year == year)) or 0
        certificate.year, certificate.seq = year, last + 1
        certificate.number = codes.format_number(prefix, year, last + 1)
        certificate.verify_code = codes.new_verify_code(rng)
        certificate.status_index = _new_status_index(rng)
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
            return
        except IntegrityError:
            db.session.expunge(certificate) if certificate in db.session else None
            continue
    raise Conflict("证书编号分配冲突，请重试", code="number_conflict")


def issue_certificate(actor, user: User, program: Program, *, reason: str, now=None, rng=secrets,
                      renewal_of: Certificate | None = None, start: dt.date | None = None,
                      client_addr: str = "") -> Certificate:
    """Issue a certificate of ``program`` to ``user``; actor None = automatic. Audited."""
    require_issuing_ready()
    now = now or utcnow()
    today = queries.local_today(now)
    start = start or today
    certificate = Certificate(holder_id=user.id, program_id=program.id, org_id=user.org_id, issued_on=today,
                              expires_on=validity_end(start, program.valid_months),
                              status=CertificateStatus.valid, issued_by_id=getattr(actor, "id", None),
                              reason=reason, renewal_of_id=renewal_of.id if renewal_of else None, created_at=now)
    certificate.holder, certificate.program = user, program
    _insert_numbered(certificate, program, today.year, rng)
    action = "certificates.renew" if renewal_of else "certificates.issue"
    _audit(action, certificate, actor, now, client_addr, reason=reason, automatic=actor is None,
           expires=certificate.expires_on.isoformat(),
           **({"renewal_of": renewal_of.number} if renewal_of else {}))
    return certificate


def issue_manually(actor, user: User, program: Program, reason, *, now=None, rng=secrets,
                   client_addr: str = "") -> Certificate:
    """HR issues a certificate by hand with a reason; 409 when the holder already has a valid one."""
    reason = clean_reason(reason, field="发证理由")
    require_issuing_ready()
    if program.is_retired:
        raise ValidationError(f"认证项目“{program.title}”已停用，不能再发证", code="program_retired")
    if user.status != UserStatus.active:
        raise ValidationError(f"{user.name}（{user.username}）已离岗，不能发证", code="holder_inactive")
    today = queries.local_today(now)
    if program.code in queries.valid_program_codes(user, today=today):
        raise Conflict(f"{user.name} 已持有有效的《{program.title}》证书；如需延长有效期请办理续发",
                       code="already_certified")
    previous = queries.latest_certificate(user, program)
    return issue_certificate(actor, user, program, reason=reason, now=now, rng=rng, client_addr=client_addr,
                             renewal_of=previous if previous and previous.status != CertificateStatus.revoked
                             else None)


def renew_certificate(actor, certificate: Certificate, reason, *, now=None, rng=secrets,
                      client_addr: str = "") -> Certificate:
    """A new certificate continuing ``certificate`` (history kept): valid from the day after it ends."""
    now = now or utcnow()
    reason = clean_reason(reason, field="续发理由")
    require_issuing_ready()
    if certificate.status == CertificateStatus.revoked:
        raise Conflict("已撤销的证书不能续发", code="certificate_revoked")
    if certificate.program.is_retired:
        raise ValidationError(f"认证项目“{certificate.program.title}”已停用，不能续发", code="program_retired")
    if queries.renewed_ids([certificate.id]):
        raise Conflict("该证书已续发过", code="already_renewed")
    today = queries.local_today(now)
    # Renewing early loses no days: the new validity starts when the old one ends.
    start = max(today, certificate.expires_on + dt.timedelta(days=1))
    return issue_certificate(actor, certificate.holder, certificate.program, reason=reason, now=now, rng=rng,
                             renewal_of=certificate, start=start, client_addr=client_addr)


def revoke_certificate(actor, certificate: Certificate, reason, *, now=None, client_addr: str = "") -> Certificate:
    """Revoke with a reason; 409 when it is revoked already. Audited."""
    now = now or utcnow()
    reason = clean_reason(reason, field="撤销理由")
    if certificate.status == CertificateStatus.revoked:
        raise Conflict(f"证书 {certificate.number} 已于此前撤销", code="already_revoked")
    certificate.status = CertificateStatus.revoked
    certificate.revoked_reason = reason
    certificate.revoked_at = now
    _audit("certificates.revoke", certificate, actor, now, client_addr, reason=reason)
    return certificate


def expire_due(*, now=None) -> int:
    """Mark valid certificates past their last day as expired; returns how many."""
    now = now or utcnow()
    today = queries.local_today(now)
    due = list(db.session.scalars(sa.select(Certificate).where(Certificate.status == CertificateStatus.valid,
                                                               Certificate.expires_on < today)))
    for certificate in due:
        certificate.status = CertificateStatus.expired
        _audit("certificates.expire", certificate, None, now, expired_on=certificate.expires_on.isoformat())
    return len(due)


def _inbox_post():
    """lms.inbox.services.post, or None while the inbox is not built."""
    try:
        module = importlib.import_module("lms.inbox.services")
    except ModuleNotFoundError as exc:
        if exc.name and "lms.inbox.services".startswith(exc.name):
            return None
        raise
    return getattr(module, "post", None)


def _mine_link(certificate: Certificate) -> str | None:
    try:
        from flask import url_for
        return url_for("certification.mine")
    except RuntimeError:  # no request context (cron): a relative link still works in the inbox
        return "/certificates"


def send_reminders(*, now=None) -> int:
    """Post an inbox reminder 60 and 30 days before expiry (once each); returns how many were posted."""
    post = _inbox_post()
    if post is None:
        return 0
    now = now or utcnow()
    today = queries.local_today(now)
    horizon = today + dt.timedelta(days=max(REMINDER_DAYS))
    due = list(db.session.scalars(
        sa.select(Certificate).where(Certificate.status == CertificateStatus.valid, Certificate.expires_on >= today,
                                     Certificate.expires_on <= horizon,
                                     sa.or_(Certificate.reminded_60_at.is_(None), Certificate.reminded_30_at.is_(None)))
        .order_by(Certificate.id)))
    renewed = queries.renewed_ids([c.id for c in due])
    posted = 0
    for certificate in due:
        if certificate.id in renewed:
            continue
        left = (certificate.expires_on - today).days
        if left <= 30:
            if certificate.reminded_30_at is not None:
                continue
            certificate.reminded_30_at = now
            certificate.reminded_60_at = certificate.reminded_60_at or now  # the 60-day one is moot now
        elif certificate.reminded_60_at is None:
            certificate.reminded_60_at = now
        else:
            continue
        post(certificate.holder, kind="certificate_expiring",
             title=f"您的《{certificate.program.title}》证书将于 {certificate.expires_on:%Y年%m月%d日} 到期",
             body=f"证书编号 {certificate.number}，还有 {left} 天到期。请及时完成复训与考核，以便续发。",
             link=_mine_link(certificate), now=now,
             dedupe_key=f"certificate-expiring:{certificate.id}:{30 if left <= 30 else 60}")
        posted += 1
    return posted


def _program_titles() -> dict[str, str]:
    return {p.code: p.title for p in queries.list_programs(include_retired=True)}


def _with_held(holder_facts: rules.HolderFacts, user: User, today: dt.date) -> rules.HolderFacts:
    """Facts with the certificates stored as valid today, whatever the provider knew."""
    held = frozenset(queries.valid_program_codes(user, today=today))
    return dataclasses.replace(holder_facts, valid_certificates=holder_facts.valid_certificates | held)


def evaluate_holder(user: User, *, now=None, facts_provider=None, rng=secrets,
                    programs: list[Program] | None = None) -> list[Certificate]:
    """Issue every program whose rules ``user`` now meets and does not hold; returns the new certificates.

    A program whose latest certificate was revoked is left to HR: issuing it
    again by itself would undo the revocation.
    """
    if user.status != UserStatus.active or issuing_blocked_reason():
        return []  # blocked: `tasks run` says why, once; the learner's action is not disturbed
    now = now or utcnow()
    today = queries.local_today(now)
    stored = {p.code: p for p in (programs if programs is not None else queries.list_programs())}
    if not stored:
        return []
    holder_facts = _with_held((facts_provider or facts.holder_facts)(user, today=today), user, today)
    candidates = [queries.as_rule_program(p) for p in stored.values()]
    # Usually nothing is met and no certificate history needs reading; a revoked one is rare.
    while True:
        met = rules.newly_met(candidates, holder_facts)
        latest = {p.code: queries.latest_certificate(user, stored[p.code]) for p in met}
        revoked = {code for code, c in latest.items() if c is not None and c.status == CertificateStatus.revoked}
        if not revoked:
            break
        candidates = [p for p in candidates if p.code not in revoked]
    return [issue_certificate(None, user, stored[p.code], reason=AUTO_ISSUE_REASON, now=now, rng=rng,
                              renewal_of=latest[p.code]) for p in met]


def auto_renew(*, now=None, facts_provider=None, rng=secrets) -> list[Certificate]:
    """Renew certificates ending within RENEWAL_WINDOW_DAYS whose holder still meets the program."""
    now = now or utcnow()
    today = queries.local_today(now)
    ending = list(db.session.scalars(
        sa.select(Certificate).join(Program, Program.id == Certificate.program_id)
        .where(Certificate.status == CertificateStatus.valid, Certificate.expires_on >= today,
               Certificate.expires_on <= today + dt.timedelta(days=RENEWAL_WINDOW_DAYS),
               Program.is_retired.is_(False))
        .order_by(Certificate.id)))
    renewed = queries.renewed_ids([c.id for c in ending])
    provider = facts_provider or facts.holder_facts
    result = []
    for certificate in ending:
        if certificate.id in renewed or certificate.holder.status != UserStatus.active:
            continue
        program = queries.as_rule_program(certificate.program)
        if program.requires.is_empty:
            continue  # HR-only programs are renewed by HR
        if rules.evaluate(program, _with_held(provider(certificate.holder, today=today), certificate.holder,
                                              today)).met:
            result.append(renew_certificate(None, certificate, AUTO_RENEW_REASON, now=now, rng=rng))
    return result


def run_periodic(now=None, *, facts_provider=None, rng=secrets) -> dict:
    """The cron work of certification: expire, evaluate everyone, renew, remind, prune lookups."""
    now = now or utcnow()
    summary = {"expired": expire_due(now=now)}
    blocked = issuing_blocked_reason()
    if blocked:
        # Said once for the whole run, not once per holder; expiry, reminders and pruning still run.
        summary["issuing_blocked"] = blocked
        summary["reminded"] = send_reminders(now=now)
        summary["pruned_lookups"] = prune_lookups(now=now)
        return summary
    issued = 0
    programs = queries.list_programs()
    if programs:
        users = list(db.session.scalars(sa.select(User).where(User.status == UserStatus.active).order_by(User.id)))
        for user in users:
            issued += len(evaluate_holder(user, now=now, facts_provider=facts_provider, rng=rng,
                                          programs=programs))
    summary["issued"] = issued
    summary["renewed"] = len(auto_renew(now=now, facts_provider=facts_provider, rng=rng))
    summary["reminded"] = send_reminders(now=now)
    summary["pruned_lookups"] = prune_lookups(now=now)
    return summary


# --- public verification: a per-address counter in the database (every app server sees it) ---

def _limit() -> tuple[int, dt.timedelta]:
    config = current_app.config if has_app_context() else {}
    return (int(config.get("VERIFY_RATE_LIMIT", 30)),
            dt.timedelta(minutes=int(config.get("VERIFY_RATE_WINDOW_MINUTES", 10))))


def count_lookup(client_addr: str, *, now=None) -> None:
    """Count one verification lookup from ``client_addr``; 429 once the window's limit is reached."""
    now = now or utcnow()
    limit, window = _limit()
    addr = (client_addr or "unknown")[:64]
    recent = db.session.scalar(sa.select(sa.func.count(VerifyLookup.id))
                               .where(VerifyLookup.client_addr == addr, VerifyLookup.at > now - window))
    if recent >= limit:
        raise TooManyRequests(f"查询过于频繁：每 {int(window.total_seconds() // 60)} 分钟最多查询 {limit} 次，请稍后再试")
    db.session.add(VerifyLookup(client_addr=addr, at=now))


def prune_lookups(*, now=None) -> int:
    """Delete lookups older than a day (the window is minutes long)."""
    now = now or utcnow()
    result = db.session.execute(sa.delete(VerifyLookup).where(VerifyLookup.at < now - dt.timedelta(days=1)))
    return result.rowcount or 0


# --- batch issue (HR, from a filtered list) ---------------------------------------------------------------

#: people in one batch: a county's list fits; a runaway paste does not
MAX_BATCH = 2000


@dataclasses.dataclass
class BatchResult:
    """What a batch issue did: the new certificates, and each refused username with its reason (Chinese)."""

    issued: list[Certificate]
    refused: list[dict]


def _unmet(user: User, program: Program, today: dt.date, facts_provider, titles: dict) -> list[str]:
    """The requirements of program that user does not meet, as Chinese labels (empty: met)."""
    holder = _with_held((facts_provider or facts.holder_facts)(user, today=today), user, today)
    evaluation = rules.evaluate(queries.as_rule_program(program), holder, **titles)
    return [item.label_zh for item in evaluation.missing]


def _rule_titles() -> dict:
    def table(name):
        found = db.metadata.tables.get(name)
        if found is None:
            return {}
        return dict(db.session.execute(sa.select(found.c.code, found.c.title)).all())

    return {"course_titles": table("courses"), "quiz_titles": table("quizzes"), "program_titles": _program_titles()}


def split_usernames(value) -> list[str]:
    """Usernames from a JSON list or a pasted text (lines, commas, 、, spaces), in order, blanks dropped."""
    if isinstance(value, str):
        value = re.split(r"[\s,，、;；]+", value)
    if not isinstance(value, list):
        raise ValidationError("usernames 必须是工号列表", code="invalid_usernames")
    return [item.strip() if isinstance(item, str) else item for item in value
            if not (isinstance(item, str) and not item.strip())]


def issue_batch(actor, usernames, program: Program | None, reason, *, may_issue, only_qualified: bool = False,
                now=None, rng=secrets, facts_provider=None, client_addr: str = "") -> BatchResult:
    """Issue program to each listed person HR may issue to; refuse the others, each with a Chinese reason.

    ``may_issue(user) -> bool`` is the caller's scope check. Refused: unknown 工号, oneself (nobody issues a
    certificate to themselves), out of scope, left, already holding a valid one, and with ``only_qualified``
    whoever does not meet the program's requirements. A bad list, program or reason refuses the whole batch
    (422) before anything is written.
    """
    now = now or utcnow()
    reason = clean_reason(reason, field="发证理由")
    require_issuing_ready()
    if program is None:
        raise ValidationError("请选择认证项目", code="program_required")
    if program.is_retired:
        raise ValidationError(f"认证项目“{program.title}”已停用，不能再发证", code="program_retired")
    names = split_usernames(usernames)
    if not names:
        raise ValidationError("请至少填写一个工号", code="usernames_required")
    if len(names) > MAX_BATCH:
        raise ValidationError(f"一次最多为 {MAX_BATCH} 人发证，本次有 {len(names)} 人", code="too_many")
    today = queries.local_today(now)
    wanted = [n[:64] for n in names if isinstance(n, str)]
    users = {u.username: u for u in db.session.scalars(sa.select(User).where(User.username.in_(wanted)))} \
        if wanted else {}
    holding = set(db.session.scalars(
        sa.select(Certificate.holder_id).where(Certificate.program_id == program.id,
                                               Certificate.status == CertificateStatus.valid,
                                               Certificate.expires_on >= today))) if users else set()
    titles = _rule_titles() if only_qualified else {}
    issued, refused, seen = [], [], set()
    for name in names:
        if not isinstance(name, str):
            refused.append({"username": str(name)[:64], "reason": "工号必须是文字"})
            continue
        name = name[:64]
        if name in seen:
            refused.append({"username": name, "reason": "名单中重复出现，已按第一次处理"})
            continue
        seen.add(name)
        user = users.get(name)
        if user is None:
            refused.append({"username": name, "reason": "工号不存在"})
        elif getattr(actor, "id", None) == user.id:
            refused.append({"username": name, "reason": "不能给自己发证"})
        elif not may_issue(user):
            refused.append({"username": name, "reason": "不在您的管辖范围内"})
        elif user.status != UserStatus.active:
            refused.append({"username": name, "reason": "已离岗，不能发证"})
        elif user.id in holding:
            refused.append({"username": name, "reason": f"已持有有效的《{program.title}》证书"})
        elif only_qualified and (missing := _unmet(user, program, today, facts_provider, titles)):
            refused.append({"username": name, "reason": "未满足认证条件：" + "；".join(missing)})
        else:
            try:
                with db.session.begin_nested():
                    certificate = issue_manually(actor, user, program, reason, now=now, rng=rng,
                                                 client_addr=client_addr)
            except (ValidationError, Conflict) as exc:
                refused.append({"username": name, "reason": exc.message})
                continue
            holding.add(user.id)
            issued.append(certificate)
    return BatchResult(issued=issued, refused=refused)


def qualified_candidates(actor, perm, program: Program, *, org=None, today: dt.date | None = None, limit: int = 500,
                         facts_provider=None) -> tuple[list[User], bool]:
    """Active learners in actor's scope (under org) who meet program and hold no valid one: (people, truncated).

    Rules are evaluated person by person, so at most ``limit`` people are examined.
    """
    # Late imports: the permission module's scope clause and the org tree's subtree range.
    from lms.accounts.models import Role, RoleGrant
    from lms.accounts.permissions import scope_clause
    from lms.org.models import OrgUnit, subtree_clause

    today = today or queries.local_today()
    holding = sa.exists().where(Certificate.holder_id == User.id, Certificate.program_id == program.id,
                                Certificate.status == CertificateStatus.valid, Certificate.expires_on >= today)
    learner = sa.exists().where(RoleGrant.user_id == User.id,
                                RoleGrant.role.in_((Role.worker, Role.grid_leader, Role.mentor, Role.trainer)))
    query = (sa.select(User).join(OrgUnit, OrgUnit.id == User.org_id)
             .where(scope_clause(actor, perm, OrgUnit.path), User.status == UserStatus.active, ~holding, learner,
                    User.id != getattr(actor, "id", None))
             .order_by(OrgUnit.path, User.username).limit(limit + 1))
    if org is not None:
        query = query.where(subtree_clause(OrgUnit.path, org.path))
    people = list(db.session.scalars(query))
    titles = _rule_titles()
    met = [u for u in people[:limit] if not _unmet(u, program, today, facts_provider, titles)]
    return met, len(people) > limit
