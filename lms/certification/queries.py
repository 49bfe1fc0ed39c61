"""Reads: programs, certificates, scoped lists, expiring soon, star levels."""
from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from lms.accounts.models import Role, RoleGrant, User, UserStatus
from lms.accounts.permissions import Permission, scope_clause
from lms.certification import codes, content
from lms.certification.models import Certificate, CertificateStatus, Program
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.org.models import OrgUnit


def local_today(now: dt.datetime | None = None) -> dt.date:
    """The calendar day in Asia/Shanghai (certificates run by local days)."""
    return (now or utcnow()).astimezone(SHANGHAI).date()


def get_program(code: str) -> Program | None:
    """The program with this code, or None."""
    return db.session.scalar(sa.select(Program).where(Program.code == code))


def list_programs(*, include_retired: bool = False) -> list[Program]:
    """Programs in file order."""
    query = sa.select(Program).order_by(Program.position, Program.code)
    if not include_retired:
        query = query.where(Program.is_retired.is_(False))
    return list(db.session.scalars(query))


def as_rule_program(program: Program) -> content.Program:
    """The pure rules' view of a stored program."""
    req = program.requires or {}
    return content.Program(
        code=program.code, title=program.title, valid_months=program.valid_months, star=program.star,
        requires=content.Requirements(
            courses=tuple(req.get("courses") or ()),
            quizzes=dict(req.get("quizzes") or {}),
            drills_accepted=req.get("drills_accepted") or 0,
            training_hours=req.get("training_hours") or 0,
            mentoring_activities=req.get("mentoring_activities") or 0,
            points=req.get("points") or 0,
            certificates=tuple(req.get("certificates") or ()),
            within_months=req.get("within_months") or None,
        ))


def get_certificate(number: str) -> Certificate | None:
    """The certificate with this number, or None."""
    return db.session.scalar(sa.select(Certificate).where(Certificate.number == number))


def get_by_verify_code(code: str) -> Certificate | None:
    """The certificate with this verification code (typed in any case, dashes or not), or None."""
    normalized = codes.normalize_verify_code(code)
    if normalized is None:
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.verify_code == normalized))


_NUMBER_SHAPE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,47}")


def find_by_number_and_name(number, name) -> Certificate | None:
    """The certificate with this number whose holder has exactly this full name, or None (either wrong: None)."""
    if not isinstance(number, str) or not isinstance(name, str):
        return None
    number = number.strip().upper()
    name = "".join(name.split())  # "张 小明" as typed on a phone is still 张小明
    # Numbers are capitals, digits and dashes; a NUL or other control character is never a name (PostgreSQL
    # refuses NUL in text outright).
    if not _NUMBER_SHAPE.fullmatch(number) or not name or len(name) > 100 or not name.isprintable():
        return None
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.number == number))
    if certificate is None or "".join((certificate.holder.name or "").split()) != name:
        return None
    return certificate


def _valid_clause(today: dt.date):
    return sa.and_(Certificate.status == CertificateStatus.valid, Certificate.expires_on >= today)


def valid_certificates(user, *, today: dt.date | None = None) -> list[Certificate]:
    """The holder's certificates valid today."""
    today = today or local_today()
    return list(db.session.scalars(sa.select(Certificate).where(Certificate.holder_id == user.id,
                                                                _valid_clause(today))
                                   .order_by(Certificate.issued_on)))


def valid_program_codes(user, *, today: dt.date | None = None) -> set[str]:
    """Codes of the programs whose certificate the holder has valid today."""
    return {c.program.code for c in valid_certificates(user, today=today)}


def latest_certificate(user, program: Program) -> Certificate | None:
    """The holder's most recent certificate of the program, whatever its status."""
    return db.session.scalar(sa.select(Certificate)
                             .where(Certificate.holder_id == user.id, Certificate.program_id == program.id)
                             .order_by(Certificate.issued_on.desc(), Certificate.id.desc()).limit(1))


def star_of(user, *, today: dt.date | None = None) -> int:
    """The holder's star level: the highest star among valid certificates (0 when none)."""
    today = today or local_today()
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(Program.star), 0)).join(Certificate.program)
        .where(Certificate.holder_id == user.id, _valid_clause(today))) or 0)


def stars_subquery(today: dt.date):
    """(user_id, star) of every holder with a valid starred certificate, for joins in exports."""
    return (sa.select(Certificate.holder_id.label("user_id"), sa.func.max(Program.star).label("star"))
            .join(Program, Program.id == Certificate.program_id)
            .where(_valid_clause(today), Program.star.is_not(None))
            .group_by(Certificate.holder_id).subquery("stars"))


def filtered(actor, perm: Permission, *, org: OrgUnit | None = None, program: Program | None = None,
             status: str | None = None, issued_from: dt.date | None = None, issued_to: dt.date | None = None,
             expiring_within: int | None = None, today: dt.date | None = None, holder=None):
    """Select of certificates joined with holder and holder's unit, limited to actor's scope for perm (or one holder)."""
    today = today or local_today()
    query = sa.select(Certificate).join(Certificate.holder).join(User.org)
    if holder is not None:  # a worker's own certificates, wherever they are
        query = query.where(Certificate.holder_id == holder.id)
    else:
        query = query.where(scope_clause(actor, perm, OrgUnit.path))
    if org is not None:
        query = query.where(OrgUnit.path >= org.path, OrgUnit.path < org.path + "~")
    if program is not None:
        query = query.where(Certificate.program_id == program.id)
    if status == CertificateStatus.valid:
        query = query.where(_valid_clause(today))
    elif status == CertificateStatus.expired:
        query = query.where(sa.or_(Certificate.status == CertificateStatus.expired,
                                   sa.and_(Certificate.status == CertificateStatus.valid,
                                           Certificate.expires_on < today)))
    elif status == CertificateStatus.revoked:
        query = query.where(Certificate.status == CertificateStatus.revoked)
    if issued_from is not None:
        query = query.where(Certificate.issued_on >= issued_from)
    if issued_to is not None:
        query = query.where(Certificate.issued_on <= issued_to)
    if expiring_within is not None:
        query = query.where(_valid_clause(today), Certificate.expires_on <= today + dt.timedelta(days=expiring_within))
    return query


def page_of(query, page: int, per_page: int, *, order=None) -> tuple[list[Certificate], bool]:
    """One page of a certificate select and whether more follow."""
    order = order if order is not None else (Certificate.issued_on.desc(), Certificate.id.desc())
    rows = list(db.session.scalars(query.options(joinedload(Certificate.holder).joinedload(User.org))
                                   .order_by(*order).offset((page - 1) * per_page).limit(per_page + 1)).unique())
    return rows[:per_page], len(rows) > per_page


def own_certificates(user) -> list[Certificate]:
    """The holder's certificates, newest first."""
    return list(db.session.scalars(sa.select(Certificate).where(Certificate.holder_id == user.id)
                                   .order_by(Certificate.issued_on.desc(), Certificate.id.desc())))


def renewed_ids(certificate_ids) -> set[int]:
    """Ids among certificate_ids that some later certificate renews."""
    if not certificate_ids:
        return set()
    return set(db.session.scalars(sa.select(Certificate.renewal_of_id)
                                  .where(Certificate.renewal_of_id.in_(list(certificate_ids)))))


#: roles counted as grid workers in the certified share (frontline staff who hold 上岗证)
WORKER_ROLES = (Role.worker, Role.grid_leader)
#: the "expiring within N days" horizons of the statistics
EXPIRING_DAYS = (30, 60, 90)


def _valid_on_clause(day=None, next_day=None):
    """SQL: the certificate was valid on ``day`` (local), read back from its history.

    Issued by then and not past its last day; marked expired or revoked only
    later does not undo that (tasks run marks expiry after the fact), and a
    certificate renewed by then yields to its renewal, so a chain counts once.
    ``day`` and ``next_day`` (the aware start of the day after) default to the bind parameters :day and
    :next_day (see _day_params), so that a statement using it is built once.
    """
    day = sa.bindparam("day") if day is None else day
    next_day = sa.bindparam("next_day") if next_day is None else next_day
    renewal = aliased(Certificate)
    # Fixed members, not an expanding IN: the statements are built once and compiled once.
    valid_or_expired = [sa.literal(status, Certificate.status.type)
                        for status in (CertificateStatus.valid, CertificateStatus.expired)]
    return sa.and_(
        Certificate.issued_on <= day, Certificate.expires_on >= day,
        sa.or_(Certificate.status.in_(valid_or_expired),
               sa.and_(Certificate.status == CertificateStatus.revoked, Certificate.revoked_at >= next_day)),
        # The redundant IS NOT NULL lets PostgreSQL probe ix_certificates_renewal_of_id instead of hashing
        # every certificate per call (province bench: ~30 ms -> 0.6 ms per certified_share).
        ~sa.exists().where(renewal.renewal_of_id.is_not(None), renewal.renewal_of_id == Certificate.id,
                           renewal.issued_on <= day))


def _day_params(org: OrgUnit, day: dt.date) -> dict:
    # subtree_clause's range: '~' sorts after the digits and '/' that paths are made of
    return {"org_path": org.path, "org_path_end": org.path + "~", "day": day,
            "next_day": dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)}


def _stats_connection():
    if db.session.autoflush:
        db.session.flush()  # the Core connection does not autoflush like session.execute
    return db.session.connection()


def _in_subtree(path_column):
    return sa.and_(path_column >= sa.bindparam("org_path"), path_column < sa.bindparam("org_path_end"))


# Built once with bind parameters only, so SQLAlchemy compiles each once per process: a township dashboard asks
# for the township and each village, and building the statements anew each time cost more than running them.
_CERTIFICATE_STATS = (
    sa.select(sa.func.count(Certificate.id),
              *[sa.func.coalesce(sa.func.sum(sa.case((Certificate.expires_on <= sa.bindparam(f"until_{days}"), 1),
                                                     else_=0)), 0) for days in EXPIRING_DAYS])
    .join(User, User.id == Certificate.holder_id).join(OrgUnit, OrgUnit.id == User.org_id)
    .where(_in_subtree(OrgUnit.path), _valid_on_clause()))


def _certified_share_statement():
    worker_roles = [sa.literal(role, RoleGrant.role.type) for role in WORKER_ROLES]
    workers = (sa.select(User.id).join(OrgUnit, OrgUnit.id == User.org_id)
               .where(_in_subtree(OrgUnit.path), User.status == UserStatus.active,
                      sa.exists().where(RoleGrant.user_id == User.id, RoleGrant.role.in_(worker_roles))))
    total = sa.select(sa.func.count()).select_from(workers.subquery()).scalar_subquery()
    certified = (sa.select(sa.func.count(sa.distinct(Certificate.holder_id)))
                 .where(Certificate.holder_id.in_(workers), _valid_on_clause()).scalar_subquery())
    return sa.select(total, certified)


_CERTIFIED_SHARE = _certified_share_statement()


def certificate_stats(org: OrgUnit, first_day: dt.date, last_day: dt.date) -> dict:
    """Certificates of holders now in org's subtree valid on last_day, and those of them expiring within 30/60/90 days.

    The period's end is the reference day (first_day is part of the statistics
    contract but a stock of certificates is read on one day). expiring_N counts
    certificates whose last day falls within N days after last_day, the day
    itself included, and that have not been renewed; the horizons nest.
    """
    del first_day  # a stock, not a flow: see the docstring
    params = _day_params(org, last_day)
    params.update({f"until_{days}": last_day + dt.timedelta(days=days) for days in EXPIRING_DAYS})
    row = _stats_connection().execute(_CERTIFICATE_STATS, params).one()
    return {"valid": int(row[0] or 0),
            **{f"expiring_{days}": int(value or 0) for days, value in zip(EXPIRING_DAYS, row[1:], strict=True)}}


def certified_share(org: OrgUnit, day: dt.date) -> dict:
    """Active grid workers (worker, grid leader) now in org's subtree; how many held a valid certificate on day."""
    total, certified = _stats_connection().execute(_CERTIFIED_SHARE, _day_params(org, day)).one()
    total, certified = int(total or 0), int(certified or 0)
    return {"workers": total, "certified": certified, "share": certified / total if total else 0.0}
