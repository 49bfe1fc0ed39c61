"""Writes of the mentoring feature: pairings, their early end, activities and their confirmation.

Services never commit. Who may act is checked here too (the actor is passed
in), so the API, the HTML pages and any CLI enforce the same rules.
"""
from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms import signals
from lms.accounts.models import User, UserStatus
from lms.accounts.permissions import Permission, authorize, can
from lms.audit.services import record
from lms.db import SHANGHAI, utcnow
from lms.errors import Conflict, Forbidden, ValidationError
from lms.extensions import db
from lms.mentoring import crossfeature, eligibility
from lms.mentoring.models import KIND_LABELS, Activity, ActivityKind, ActivityStatus, Pairing, PairingMentee

log = logging.getLogger(__name__)

MAX_MINUTES = 24 * 60
MAX_TEXT = 2000
MAX_GOALS = 4000


def local_today(now: dt.datetime | None = None) -> dt.date:
    """The current day in Asia/Shanghai."""
    return (now or utcnow()).astimezone(SHANGHAI).date()


def local_start(day: dt.date) -> dt.datetime:
    """The first instant of a local day, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI)


def ended_on(pairing: Pairing) -> dt.date | None:
    """The local day a pairing was ended early, or None."""
    return pairing.ended_at.astimezone(SHANGHAI).date() if pairing.ended_at else None


def last_activity_day(pairing: Pairing) -> dt.date:
    """The last day activities may be dated: the end, or the day it was ended early."""
    stopped = ended_on(pairing)
    return min(pairing.end_on, stopped) if stopped else pairing.end_on


def occupied_until(pairing: Pairing) -> dt.date:
    """The last day the pairing holds its mentees: an early-ended one frees them from its end day on."""
    stopped = ended_on(pairing)
    # Ended today: the mentee may be paired again from today, or HR could not re-pair after a mentor leaves.
    return min(pairing.end_on, stopped - dt.timedelta(days=1)) if stopped else pairing.end_on


def is_open(pairing: Pairing, today: dt.date) -> bool:
    """Not ended early and not past its end date."""
    return pairing.ended_at is None and pairing.end_on >= today


def parse_date(value, field: str) -> dt.date:
    """A YYYY-MM-DD string (or a date) as a date; 422 otherwise."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{field} 必须是日期，格式为 YYYY-MM-DD，例如 2026-03-01", code="invalid_date")


def _text(value, field: str, *, required: bool, limit: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} 必须是文字", code="invalid")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"请填写{field}", code="invalid")
    if len(value) > limit:
        raise ValidationError(f"{field}不能超过 {limit} 个字", code="invalid")
    return value


def _lock_users(ids: list[int]) -> None:
    # PostgreSQL: two HR users pairing the same mentee at once serialise here (SQLite already did at BEGIN IMMEDIATE).
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.select(User.id).where(User.id.in_(ids)).order_by(User.id).with_for_update())


def mentor_load(mentor: User, start: dt.date, end: dt.date, *, exclude: int | None = None) -> int:
    """Mentees the mentor holds in pairings that are not ended and overlap [start, end]."""
    query = (sa.select(sa.func.count(sa.distinct(PairingMentee.mentee_id)))
             .join(Pairing, Pairing.id == PairingMentee.pairing_id)
             .where(Pairing.mentor_id == mentor.id, Pairing.ended_at.is_(None),
                    Pairing.start_on <= end, Pairing.end_on >= start))
    if exclude is not None:
        query = query.where(Pairing.id != exclude)
    return db.session.scalar(query) or 0


def mentee_pairings(mentee: User) -> list[Pairing]:
    """Every pairing the user was ever a mentee in, oldest first."""
    return list(db.session.scalars(
        sa.select(Pairing).join(PairingMentee, PairingMentee.pairing_id == Pairing.id)
        .where(PairingMentee.mentee_id == mentee.id).order_by(Pairing.start_on, Pairing.id)))


def create_pairing(actor, mentor: User, mentees: list[User], start, end, goals: str = "", *,
                   min_years: int = eligibility.DEFAULT_MIN_YEARS, capacity: int = eligibility.DEFAULT_CAPACITY,
                   client_addr: str = "", now: dt.datetime | None = None) -> Pairing:
    """Pair mentor with mentees for [start, end]; every refusal is a 422 with API.md's codes."""
    now = now or utcnow()
    today = local_today(now)
    unique: list[User] = []
    for mentee in mentees:
        if all(mentee.id != seen.id for seen in unique):
            unique.append(mentee)
    if not unique:
        raise ValidationError("请至少选择一名学员（mentees）", code="invalid")
    for person in [mentor, *unique]:
        authorize(actor, Permission.MANAGE_PAIRINGS, person)
    if any(m.id == mentor.id for m in unique):
        raise ValidationError("导师不能与自己结对", code="self_pairing")
    start, end = parse_date(start, "开始日期"), parse_date(end, "结束日期")
    if end < start:
        raise ValidationError("结束日期不能早于开始日期", code="invalid_dates")
    goals = _text(goals, "结对目标", required=False, limit=MAX_GOALS)

    if mentor.status != UserStatus.active:
        raise ValidationError(f"{mentor.name}（{mentor.username}）已停用，不能担任导师", code="mentor_ineligible")
    if not eligibility.is_eligible(mentor, today, min_years):
        raise ValidationError(
            f"{mentor.name}不符合导师条件：需工作满 {min_years} 年或持有有效星级证书", code="mentor_ineligible")
    for mentee in unique:
        if not can(mentor, Permission.LOG_MENTORING, mentee):
            raise ValidationError(f"{mentor.name}没有覆盖{mentee.name}所在单位的导师角色，请先由管理员授予",
                                  code="mentor_ineligible")
        if mentee.status != UserStatus.active:
            raise ValidationError(f"{mentee.name}（{mentee.username}）已停用，不能结对", code="invalid")

    _lock_users(sorted([mentor.id] + [m.id for m in unique]))
    for mentee in unique:
        for other in mentee_pairings(mentee):
            if other.start_on <= end and occupied_until(other) >= start:
                if is_open(other, today):
                    raise ValidationError(f"{mentee.name}已在导师{other.mentor.name}的结对中（{other.start_on}"
                                          f" 至 {other.end_on}）", code="mentee_already_paired")
                raise ValidationError(f"{mentee.name}在 {other.start_on} 至 {occupied_until(other)} 已有结对，"
                                      "日期不能重叠", code="invalid_dates")
    load = mentor_load(mentor, start, end)
    if load + len(unique) > capacity:
        raise ValidationError(f"{mentor.name}同期已带 {load} 名学员，每位导师最多 {capacity} 名",
                              code="mentor_at_capacity")

    pairing = Pairing(mentor_id=mentor.id, start_on=start, end_on=end, goals=goals, org_id=mentor.org_id,
                      created_by_id=getattr(actor, "id", None), created_at=now,
                      mentees=[PairingMentee(mentee_id=m.id) for m in unique])
    db.session.add(pairing)
    db.session.flush()
    record("mentoring.pairing_create", actor=actor, target_type="pairing", target=pairing.id, org=mentor.org,
           client_addr=client_addr, now=now,
           details={"mentor": mentor.username, "mentees": [m.username for m in unique],
                    "start": start.isoformat(), "end": end.isoformat()})
    return pairing


def end_pairing(actor, pairing: Pairing, reason: str, *, client_addr: str = "",
                now: dt.datetime | None = None) -> Pairing:
    """End a pairing early with a reason; its activities stay."""
    now = now or utcnow()
    authorize(actor, Permission.MANAGE_PAIRINGS, pairing)
    reason = _text(reason, "提前结束的原因", required=True, limit=MAX_TEXT)
    if pairing.ended_at is not None:
        raise Conflict("该结对已经结束", code="pairing_ended")
    if pairing.end_on < local_today(now):
        raise Conflict("该结对已到期，无需提前结束", code="pairing_ended")
    pairing.ended_at = now
    pairing.end_reason = reason
    record("mentoring.pairing_end", actor=actor, target_type="pairing", target=pairing.id, org=pairing.org,
           client_addr=client_addr, now=now,
           details={"reason": reason, "mentor": pairing.mentor.username,
                    "mentees": [m.mentee.username for m in pairing.mentees]})
    return pairing


def _parse_minutes(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError("时长（分钟）必须是整数", code="invalid_minutes")
    try:
        minutes = int(value)
    except ValueError:
        raise ValidationError("时长（分钟）必须是整数", code="invalid_minutes") from None
    if minutes <= 0 or minutes > MAX_MINUTES:
        raise ValidationError(f"时长必须在 1 到 {MAX_MINUTES} 分钟之间", code="invalid_minutes")
    return minutes


def _parse_kind(value) -> ActivityKind:
    try:
        return ActivityKind(value)
    except ValueError:
        choices = "、".join(f"{k.value}（{label}）" for k, label in KIND_LABELS.items())
        raise ValidationError(f"活动类型只能是 {choices}", code="invalid_kind") from None


def _pick_mentee(pairing: Pairing, username) -> User:
    mentees = [pm.mentee for pm in pairing.mentees]
    if username in (None, ""):
        if len(mentees) == 1:
            return mentees[0]
        raise ValidationError("该结对有多名学员，请指明学员工号（mentee）", code="invalid")
    for mentee in mentees:
        if mentee.username == username:
            return mentee
    raise ValidationError(f"{username} 不是该结对的学员", code="invalid")


def find_by_client_id(mentor: User, client_id: str | None) -> Activity | None:
    """The activity a mentor already saved with this idempotency key, or None."""
    if not client_id:
        return None
    return db.session.scalar(sa.select(Activity).where(Activity.logged_by_id == mentor.id,
                                                       Activity.client_id == client_id))


def log_activity(mentor: User, pairing: Pairing, data: dict, *,
                 now: dt.datetime | None = None) -> tuple[Activity, bool]:
    """Log an activity of pairing's mentor; returns (activity, created) — a repeated client_id gives the first."""
    now = now or utcnow()
    if pairing.mentor_id != getattr(mentor, "id", None):
        raise Forbidden("只有该结对的导师本人可以记录活动", code="forbidden")
    client_id = data.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= 64):
        raise ValidationError("client_id 必须是不超过 64 个字符的字符串", code="invalid")
    existing = find_by_client_id(mentor, client_id)
    if existing is not None:
        return existing, False

    mentee = _pick_mentee(pairing, data.get("mentee"))
    if not can(mentor, Permission.LOG_MENTORING, mentee):
        raise Forbidden("您没有覆盖该学员所在单位的导师角色", code="forbidden")
    kind = _parse_kind(data.get("kind"))
    day = parse_date(data.get("date"), "活动日期")
    minutes = _parse_minutes(data.get("minutes"))
    if day > local_today(now):
        raise ValidationError("活动日期不能晚于今天", code="activity_in_future")
    if day < pairing.start_on or day > last_activity_day(pairing):
        raise ValidationError(f"活动日期须在结对期间（{pairing.start_on} 至 {last_activity_day(pairing)}）",
                              code="activity_outside_pairing")
    place = _text(data.get("place"), "地点", required=False, limit=200)
    notes = _text(data.get("notes"), "活动内容", required=True, limit=MAX_TEXT)
    report_id = data.get("drill_report_id")
    if report_id in ("", None):
        report_id = None
    else:
        if isinstance(report_id, bool) or not isinstance(report_id, (int, str)) or not str(report_id).isdigit():
            raise ValidationError("drill_report_id 必须是正整数", code="invalid")
        report_id = int(report_id)
        owner = crossfeature.drill_report_owner_id(report_id)
        if owner is False:
            raise ValidationError(f"演练报告 {report_id} 不存在", code="invalid")
        if owner is not None and owner not in (mentee.id, mentor.id):
            raise ValidationError(f"演练报告 {report_id} 不属于导师或该学员", code="invalid")

    activity = Activity(pairing_id=pairing.id, mentee_id=mentee.id, org_id=mentee.org_id, kind=kind, date=day,
                        minutes=minutes, place=place, notes=notes, drill_report_id=report_id,
                        status=ActivityStatus.logged, logged_by_id=mentor.id, logged_at=now, client_id=client_id)
    try:
        # A savepoint: a concurrent retry with the same client_id (PostgreSQL) returns the first result.
        with db.session.begin_nested():
            db.session.add(activity)
    except IntegrityError:
        first = find_by_client_id(mentor, client_id)
        if first is None:
            raise
        return first, False
    _notify(mentee, kind="mentoring", title=f"导师{mentor.name}记录了一次{KIND_LABELS[kind]}，请确认",
            body=f"{day} · {minutes} 分钟 · {notes[:100]}", link="/mentoring/confirm", now=now)
    return activity, True


def _own_open_activity(user, activity: Activity) -> None:
    if activity.mentee_id != getattr(user, "id", None):
        raise Forbidden("只有该活动的学员本人可以确认或提出异议", code="forbidden")
    if activity.status == ActivityStatus.confirmed:
        raise Conflict("该活动已经确认过了", code="already_confirmed")
    if activity.status == ActivityStatus.disputed:
        raise Conflict("该活动已提出异议，不能再确认", code="already_disputed")


def confirm_activity(user, activity: Activity, *, now: dt.datetime | None = None) -> Activity:
    """The mentee confirms: from now on the activity counts (points and certification listen)."""
    now = now or utcnow()
    _own_open_activity(user, activity)
    activity.status = ActivityStatus.confirmed
    activity.confirmed_at = now
    db.session.flush()
    # Both took part: each earns the activity's points and may now meet a certification rule
    # (API.md counts confirmed activities "as mentor or mentee").
    for participant in (user, activity.pairing.mentor):
        signals.activity_confirmed.send(participant, activity=activity, now=now)
    _notify(activity.pairing.mentor, kind="mentoring", title=f"{user.name}确认了{activity.kind_label}（{activity.date}）",
            link="/mentoring", now=now)
    return activity


def dispute_activity(user, activity: Activity, reason, *, now: dt.datetime | None = None) -> Activity:
    """The mentee disputes instead of confirming; a disputed activity never counts."""
    now = now or utcnow()
    _own_open_activity(user, activity)
    reason = _text(reason, "异议原因", required=True, limit=MAX_TEXT)
    activity.status = ActivityStatus.disputed
    activity.dispute_reason = reason
    activity.disputed_at = now
    _notify(activity.pairing.mentor, kind="mentoring",
            title=f"{user.name}对{activity.kind_label}（{activity.date}）提出异议", body=reason, link="/mentoring",
            now=now)
    return activity


def _notify(user, *, kind: str, title: str, body: str = "", link: str | None = None, now=None) -> None:
    post = crossfeature._optional("lms.inbox.services", "post")
    if post is not None:
        post(user, kind=kind, title=title, body=body, link=link, now=now)
