"""Writes of trainings: create, cancel, roll call, self check-in. Never commit."""
from __future__ import annotations

import datetime as dt
import decimal
import re
import secrets

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from lms.accounts.models import User, UserStatus
from lms.accounts.permissions import SYSTEM, Permission, authorize, can, scope_orgs
from lms.db import SHANGHAI, utcnow
from lms.errors import Conflict, Forbidden, TooManyRequests, ValidationError
from lms.extensions import db
from lms.org.models import OrgKind, OrgUnit
from lms.org.queries import get_org
from lms.signals import attendance_recorded
from lms.trainings import codes, paperwork
from lms.trainings.models import LEVEL_LABELS, Attendance, AttendanceMethod, CheckinFailure, Training, TrainingLevel
from lms.trainings.queries import get_attendance

#: a session without times runs the whole working day
DEFAULT_START = dt.time(8, 0)
DEFAULT_END = dt.time(18, 0)
#: self check-in opens this long before the start
CHECKIN_OPENS_BEFORE = dt.timedelta(minutes=30)
MAX_HOURS = decimal.Decimal("24")
#: wrong check-in codes a person may type in WRONG_CODE_WINDOW before being refused (429)
MAX_WRONG_CODES = 10
WRONG_CODE_WINDOW = dt.timedelta(minutes=1)
#: an offline check-in is uploaded at most this long after the code was typed
OFFLINE_UPLOAD_WITHIN = dt.timedelta(hours=24)
#: a tablet clock this far ahead of the server is still believed (captured_at is then taken as now)
CAPTURED_AHEAD = dt.timedelta(minutes=2)
#: PostgreSQL: a transaction-scoped advisory lock per person (class, user id) around the counting of wrong codes
_CHECKIN_LOCK_CLASS = 0xC4EC  # "check-in"; (class, key) keeps it apart from any other advisory lock
_LOCK_CHECKINS = sa.select(sa.func.pg_advisory_xact_lock(sa.cast(sa.literal(_CHECKIN_LOCK_CLASS), sa.Integer),
                                                         sa.cast(sa.bindparam("user_id"), sa.Integer)))

#: how high an org kind sits: a county-level grant (or above) may run all three levels
_KIND_RANK = {OrgKind.province: 0, OrgKind.city: 0, OrgKind.county: 0, OrgKind.township: 1, OrgKind.village: 2,
              OrgKind.grid: 3}
_LEVEL_RANK = {TrainingLevel.county: 0, TrainingLevel.township: 1, TrainingLevel.village: 2}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# --- input parsing (shared by the API and the form) -------------------------------------------------------------

def parse_level(value) -> TrainingLevel:
    """'county' | 'township' | 'village' (or 县训/乡培/村练)."""
    by_label = {label: level for level, label in LEVEL_LABELS.items()}
    if isinstance(value, str):
        text = value.strip()
        if text in by_label:
            return by_label[text]
        try:
            return TrainingLevel(text.lower())
        except ValueError:
            pass
    raise ValidationError("培训层级无效，应为 county（县训）、township（乡培）或 village（村练）", code="invalid_level")


def parse_hours(value) -> decimal.Decimal:
    """学时: a number greater than 0, at most 24, one decimal place at most."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, decimal.Decimal)):
        raise ValidationError("学时必须是数字，例如 2 或 1.5", code="invalid_hours")
    try:
        hours = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise ValidationError("学时必须是数字，例如 2 或 1.5", code="invalid_hours") from None
    if not hours.is_finite() or hours <= 0:
        raise ValidationError("学时必须大于 0", code="invalid_hours")
    if hours > MAX_HOURS:
        raise ValidationError("一场培训的学时不能超过 24", code="invalid_hours")
    if hours != hours.quantize(decimal.Decimal("0.1")):
        raise ValidationError("学时最多保留一位小数", code="invalid_hours")
    return hours.quantize(decimal.Decimal("0.1"))


def parse_date(value, field: str = "日期") -> dt.date:
    """YYYY-MM-DD."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{field}格式应为 YYYY-MM-DD，例如 2026-03-15", code="invalid_date")


def parse_time(value, field: str) -> dt.time | None:
    """HH:MM, or None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and (m := _TIME.match(value.strip())):
        return dt.time(int(m.group(1)), int(m.group(2)))
    raise ValidationError(f"{field}格式应为 HH:MM（24 小时制），例如 09:30", code="invalid_time")


def _text(value, field: str, code: str, limit: int = 200) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(f"请填写{field}", code=code)
    if len(text) > limit:
        raise ValidationError(f"{field}不能超过 {limit} 个字", code=code)
    return text


# --- levels and scope ----------------------------------------------------------------------------------------------

def allowed_levels(actor, org: OrgUnit) -> list[TrainingLevel]:
    """Levels actor may run for org's subtree: from the kind of actor's covering grant down to the org's own kind.

    A county trainer runs 县训/乡培/村练, a township trainer 乡培/村练 inside the township, a village trainer
    村练 only; and a 村练 is for a village or a grid, a 乡培 for a township or below.
    """
    if actor is SYSTEM:
        top = 0
    else:
        ranks = [_KIND_RANK[g.kind] for g in scope_orgs(actor, Permission.RUN_TRAININGS) if org.is_within(g)]
        if not ranks:
            return []
        top = min(ranks)
    bottom = min(_KIND_RANK[org.kind], 2)
    return [level for level, rank in _LEVEL_RANK.items() if top <= rank <= bottom]


# --- writes --------------------------------------------------------------------------------------------------------

def create_training(actor, *, level, title, date, place, hours, org, start=None, end=None, trainer=None,
                    now: dt.datetime | None = None, rng=None) -> Training:
    """Validate raw values (API strings or form values) and add a training; 403 when org is out of actor's scope."""
    level = parse_level(level)
    title = _text(title, "培训主题", "invalid_title")
    day = parse_date(date)
    start_time = parse_time(start, "开始时间") or DEFAULT_START
    end_time = parse_time(end, "结束时间") or DEFAULT_END
    place = _text(place, "培训地点", "invalid_place")
    hours = parse_hours(hours)
    if isinstance(org, str):
        code = org.strip()
        org = get_org(code) if code else None
        if org is None:
            raise ValidationError(f"组织编码 {code or '（空）'} 不存在", code="unknown_org")
    if not isinstance(org, OrgUnit):
        raise ValidationError("请填写参训组织编码", code="unknown_org")
    authorize(actor, Permission.RUN_TRAININGS, org)
    allowed = allowed_levels(actor, org)
    if level not in allowed:
        names = "、".join(LEVEL_LABELS[x] for x in allowed) or "无"
        raise ValidationError(f"您不能为“{org.name}”组织{LEVEL_LABELS[level]}，可选层级：{names}",
                              code="level_not_allowed")
    starts_at = dt.datetime.combine(day, start_time, SHANGHAI)
    ends_at = dt.datetime.combine(day, end_time, SHANGHAI)
    if ends_at <= starts_at:
        raise ValidationError("结束时间必须晚于开始时间", code="invalid_time")
    trainer = _resolve_trainer(actor, trainer, org)
    training = Training(level=level, title=title, starts_at=starts_at.astimezone(dt.timezone.utc),
                        ends_at=ends_at.astimezone(dt.timezone.utc), place=place, hours=hours, org=org,
                        trainer=trainer, created_by=None if actor is SYSTEM else actor,
                        created_at=now or utcnow(),
                        checkin_secret=(rng or secrets.SystemRandom()).getrandbits(128).to_bytes(16, "big").hex())
    db.session.add(training)
    db.session.flush()
    return training


def _resolve_trainer(actor, trainer, org: OrgUnit) -> User:
    if trainer in (None, ""):
        if actor is SYSTEM:
            raise ValidationError("请填写授课培训师的工号", code="unknown_trainer")
        return actor
    if isinstance(trainer, str):
        username = trainer.strip()
        trainer = db.session.scalar(sa.select(User).where(User.username == username))
        if trainer is None:
            raise ValidationError(f"培训师工号 {username} 不存在", code="unknown_trainer")
    if trainer.status != UserStatus.active:
        raise ValidationError(f"培训师 {trainer.username} 已离岗", code="unknown_trainer")
    if not can(trainer, Permission.RUN_TRAININGS, org):
        raise ValidationError(f"{trainer.name}（{trainer.username}）没有在“{org.name}”组织培训的权限",
                              code="trainer_not_allowed")
    return trainer


def cancel_training(actor, training: Training) -> None:
    """Mark cancelled: it no longer takes check-ins and no longer counts in statistics."""
    authorize(actor, Permission.RUN_TRAININGS, training.org)
    training.is_cancelled = True


def _add_attendance(training: Training, user: User, method: AttendanceMethod, recorded_by, now: dt.datetime,
                    client_id: str | None = None) -> Attendance | None:
    """Insert one attendance in a savepoint; None when a concurrent request recorded it first."""
    # Ids, not relationships: assigning training= would append to training.attendances before the savepoint.
    attendance = Attendance(training_id=training.id, user_id=user.id, org_id=user.org_id, method=method,
                            recorded_by_id=getattr(recorded_by, "id", None), recorded_at=now, client_id=client_id)
    try:
        with db.session.begin_nested():
            db.session.add(attendance)
    except sa.exc.IntegrityError:
        return None
    attendance_recorded.send(user, training=training, hours=float(training.hours), now=now)
    paperwork.invite(user, training, now)  # the evaluation's invitation in the inbox
    return attendance


def _ensure_open_for_roll(training: Training, now: dt.datetime) -> None:
    if training.is_cancelled:
        raise Conflict("该培训已取消，不能签到", code="training_cancelled")
    if now < training.starts_at - CHECKIN_OPENS_BEFORE:
        raise Conflict("培训尚未开始，开始前 30 分钟起才能点名", code="training_not_started")


def record_roll(actor, training: Training, usernames, now: dt.datetime | None = None) -> dict:
    """Mark usernames present (idempotent). Any unknown, disabled or out-of-org username rejects the whole list.

    Returns {"added": [username], "already": [username]}.
    """
    now = now or utcnow()
    authorize(actor, Permission.RUN_TRAININGS, training.org)
    if not isinstance(usernames, list) or not all(isinstance(u, str) for u in usernames):
        raise ValidationError("usernames 必须是工号列表", code="invalid_usernames")
    wanted = list(dict.fromkeys(u.strip() for u in usernames if u.strip()))
    if not wanted:
        raise ValidationError("请至少选择一名参训人员", code="invalid_usernames")
    if len(wanted) > 5000:
        raise ValidationError("一次最多提交 5000 名人员", code="invalid_usernames")
    _ensure_open_for_roll(training, now)
    users = {u.username: u for u in db.session.scalars(
        sa.select(User).where(User.username.in_(wanted)).options(joinedload(User.org)))}
    unknown = [u for u in wanted if u not in users]
    disabled = [u for u in wanted if u in users and users[u].status != UserStatus.active]
    outside = [u for u in wanted if u in users and not users[u].org.is_within(training.org)]
    if unknown or disabled or outside:
        parts = []
        if unknown:
            parts.append("工号不存在：" + "、".join(unknown))
        if disabled:
            parts.append("已离岗：" + "、".join(disabled))
        if outside:
            parts.append(f"不属于“{training.org.name}”：" + "、".join(outside))
        raise ValidationError("以下人员不能记为出勤，本次未保存任何记录。" + "；".join(parts), code="invalid_usernames",
                              details={"unknown": unknown, "disabled": disabled, "outside_org": outside})
    present = set(db.session.scalars(sa.select(Attendance.user_id).where(Attendance.training_id == training.id)))
    added, already = [], []
    for username in wanted:
        user = users[username]
        if user.id in present or _add_attendance(training, user, AttendanceMethod.roll, actor, now) is None:
            already.append(username)
        else:
            added.append(username)
    return {"added": added, "already": already}


def checkin_window(training: Training) -> tuple[dt.datetime, dt.datetime]:
    """(opens, closes) of self check-in."""
    return training.starts_at - CHECKIN_OPENS_BEFORE, training.ends_at


def app_secret() -> str:
    return current_app.config["SECRET_KEY"]


def current_checkin_code(training: Training, now: dt.datetime | None = None, secret: str | None = None):
    """(code, step) the trainer's screen shows now."""
    return codes.current_code(secret or app_secret(), training.checkin_secret, now or utcnow())


class WrongCode(ValidationError):
    """A wrong or expired code; the view commits the failure recorded with it before answering."""

    code = "invalid_code"


def parse_captured_at(value, now: dt.datetime) -> dt.datetime | None:
    """When an offline code was typed: ISO 8601 (no offset = Beijing time), not in the future, at most 24 h ago."""
    if value in (None, ""):
        return None
    try:
        captured = dt.datetime.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        captured = None
    if captured is None:
        raise ValidationError("captured_at 应为输入签到码时的时间，ISO 8601 格式，例如 2026-03-15T09:05:00+08:00",
                              code="invalid_captured_at")
    if captured.tzinfo is None:
        captured = captured.replace(tzinfo=SHANGHAI)
    if captured > now + CAPTURED_AHEAD:
        raise ValidationError("captured_at 晚于服务器当前时间：请校准平板的时钟后重试", code="invalid_captured_at")
    if captured < now - OFFLINE_UPLOAD_WITHIN:
        raise ValidationError("离线签到须在输入签到码后 24 小时内上传，本次已超过 24 小时，请联系培训师补登",
                              code="checkin_upload_too_late")
    return min(captured, now)


def _lock_tries(user: User) -> None:
    # PostgreSQL: serialise one person's check-ins so a parallel burst cannot each count 9 and all be checked.
    # (SQLite: the request already holds the write lock.)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_LOCK_CHECKINS, {"user_id": user.id})


def check_in(user: User, training: Training, code, client_id=None, now: dt.datetime | None = None,
             secret: str | None = None, captured_at=None) -> tuple[Attendance, bool]:
    """Self check-in with the code on the trainer's screen; (attendance, created). Retries return the first one.

    captured_at (typed offline): the code is checked against that moment's step (±1) and that moment must fall
    in the session's check-in window; the upload must come within 24 h. After MAX_WRONG_CODES wrong codes in
    a minute a person gets 429 until the minute has passed. A wrong code raises WrongCode with a failure added.
    """
    now = now or utcnow()
    if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= 64):
        raise ValidationError("client_id 应为不超过 64 个字符的字符串（UUID）", code="invalid_client_id")
    captured = parse_captured_at(captured_at, now)
    if not user.org.is_within(training.org):
        raise Forbidden(f"您不属于本场培训的参训范围（{training.org.name}）", code="not_in_training_org")
    existing = get_attendance(training, user)
    if existing is not None:
        return existing, False
    opens, closes = checkin_window(training)
    at = captured or now
    if training.is_cancelled or not opens <= at <= closes:
        raise Conflict("该培训已取消" if training.is_cancelled else
                       ("输入签到码的时间不在签到时间内（培训开始前 30 分钟至结束）" if captured else
                        "现在不在签到时间内（培训开始前 30 分钟至结束）"), code="checkin_closed")
    _lock_tries(user)
    since = now - WRONG_CODE_WINDOW
    wrong = db.session.scalar(sa.select(sa.func.count()).select_from(CheckinFailure).where(
        CheckinFailure.user_id == user.id, CheckinFailure.failed_at > since))
    if wrong >= MAX_WRONG_CODES:
        raise TooManyRequests(f"签到码输错次数太多：每分钟最多 {MAX_WRONG_CODES} 次，请一分钟后再试",
                              code="too_many_wrong_codes")
    secret = secret or app_secret()
    # The code on screen now is always good: a tablet whose clock is off still checks in while connected.
    if not (codes.verify_code(secret, training.checkin_secret, code, now, captured_at=captured)
            or captured is not None and codes.verify_code(secret, training.checkin_secret, code, now)):
        # The person's tries older than the window count no more: the table holds at most a minute per person.
        db.session.execute(sa.delete(CheckinFailure).where(CheckinFailure.user_id == user.id,
                                                           CheckinFailure.failed_at <= since))
        db.session.add(CheckinFailure(user_id=user.id, training_id=training.id, failed_at=now))
        raise WrongCode("签到码不正确或已过期，请输入培训师屏幕上当前显示的 6 位数字" if captured is None else
                        "签到码与输入时间不符：离线签到须填写当时培训师屏幕上显示的 6 位数字")
    attendance = _add_attendance(training, user, AttendanceMethod.checkin, user, now, client_id)
    if attendance is None:
        return get_attendance(training, user), False
    return attendance, True

