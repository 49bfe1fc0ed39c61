"""Login, lockout, server-side sessions, Bearer tokens and the request gates."""
from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from sqlalchemy import orm
from flask import current_app, request, session
from flask_login import current_user, login_user, logout_user

from lms.accounts.models import ApiToken, Lockout, LoginFailure, RoleGrant, User, UserSession, UserStatus
from lms.accounts.passwords import burn_verify_time, hash_password, needs_rehash, verify_password
from lms.accounts.services import hash_secret
from lms.audit.services import record
from lms.db import is_write_intent, utcnow, write_intent
from lms.errors import LMSError, TooManyRequests, Unauthorized
from lms.extensions import csrf, db, login_manager
from lms.web import UNSAFE_METHODS, client_addr

# How stale last_seen may get before we write it again: one write per minute, not per request.
_TOUCH_EVERY = dt.timedelta(seconds=60)


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class Locked(TooManyRequests):
    code = "locked"


def _key(username: str) -> str:
    return username.strip().lower()[:64]


def locked_until(username: str, addr: str, now: dt.datetime) -> dt.datetime | None:
    lock = db.session.scalar(sa.select(Lockout).where(Lockout.username == _key(username),
                                                      Lockout.client_addr == addr))
    return lock.locked_until if lock and lock.locked_until > now else None


def authenticate(username: str, password: str, addr: str, now: dt.datetime | None = None) -> User:
    """The user for these credentials, or InvalidCredentials / Locked; counts failures in the database."""
    now = now or utcnow()
    cfg = current_app.config
    key = _key(username)
    until = locked_until(key, addr, now)
    if until:
        burn_verify_time(password)
        minutes = max(1, int((until - now).total_seconds() // 60) + 1)
        raise Locked(f"登录失败次数过多，账号已在本设备锁定，请 {minutes} 分钟后再试或联系管理员", code="locked")
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        burn_verify_time(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if ok and user.status != UserStatus.active:
        record("auth.login_refused", actor=user, client_addr=addr, target_type="user", target=user.username,
               org=user.org, details={"reason": "disabled"}, now=now)
        raise InvalidCredentials("该账号已停用，请联系所在单位的管理员", code="account_disabled")
    if not ok:
        db.session.add(LoginFailure(username=key, client_addr=addr, failed_at=now))
        window_start = now - dt.timedelta(minutes=int(cfg["LOCKOUT_MINUTES"]))
        db.session.flush()
        failures = db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure).where(
            LoginFailure.username == key, LoginFailure.client_addr == addr, LoginFailure.failed_at > window_start))
        record("auth.login_failed", actor=user, actor_name=username[:100], client_addr=addr, now=now,
               target_type="user", target=username[:100], org=getattr(user, "org", None))
        if failures >= int(cfg["LOCKOUT_THRESHOLD"]):
            until = now + dt.timedelta(minutes=int(cfg["LOCKOUT_MINUTES"]))
            lock = db.session.scalar(sa.select(Lockout).where(Lockout.username == key, Lockout.client_addr == addr))
            if lock is None:
                db.session.add(Lockout(username=key, client_addr=addr, locked_until=until))
            else:
                lock.locked_until = until
            db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == key,
                                                             LoginFailure.client_addr == addr))
            record("auth.lockout", actor=user, actor_name=username[:100], client_addr=addr, now=now,
                   target_type="user", target=username[:100], org=getattr(user, "org", None))
        raise InvalidCredentials("工号或密码不正确", code="invalid_credentials")
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == key, LoginFailure.client_addr == addr))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User, addr: str, now: dt.datetime | None = None) -> str:
    """Log user in with a fresh server-side session; the old cookie contents are dropped."""
    now = now or utcnow()
    session.clear()
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(key_hash=hash_secret(key), user_id=user.id, created_at=now, last_seen_at=now,
                               client_addr=addr))
    user._session_key = key
    user._auth_kind = "session"
    login_user(user)
    session.permanent = False
    record("auth.login", actor=user, client_addr=addr, target_type="user", target=user.username, org=user.org,
           now=now)
    return key


def end_current_session(now: dt.datetime | None = None) -> None:
    key = session.get("_user_id")
    if key:
        db.session.execute(sa.update(UserSession).where(UserSession.key_hash == hash_secret(key))
                           .values(ended_at=now or utcnow()))
    if getattr(current_user, "is_authenticated", False):
        record("auth.logout", actor=current_user, client_addr=client_addr(), target_type="user",
               target=current_user.username, org=current_user.org, now=now)
    logout_user()
    session.clear()


# One round trip: the session's times, the user, their grants and units (every page needs them).
# Built once: constructing the statement per request cost more CPU than running it.
_SESSION_USER = (
    sa.select(UserSession.id, UserSession.ended_at, UserSession.last_seen_at, UserSession.created_at, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.key_hash == sa.bindparam("key_hash"))
    .options(orm.joinedload(User.org), orm.joinedload(User.grants).joinedload(RoleGrant.org))
)


def _load_session_user(key: str) -> User | None:
    now = utcnow()
    cfg = current_app.config
    row = db.session.execute(_SESSION_USER, {"key_hash": hash_secret(key)}).unique().first()
    if row is None:
        return None
    user_session, user = row, row[4]
    idle = dt.timedelta(minutes=float(cfg["IDLE_TIMEOUT_MINUTES"]))
    absolute = dt.timedelta(hours=float(cfg["ABSOLUTE_TIMEOUT_HOURS"]))
    if (user_session.ended_at is not None or user.status != UserStatus.active
            or now - user_session.last_seen_at > idle or now - user_session.created_at > absolute):
        if user_session.ended_at is None:
            _write_now(sa.update(UserSession).where(UserSession.id == user_session.id).values(ended_at=now))
        return None
    if now - user_session.last_seen_at > _TOUCH_EVERY:
        _write_now(sa.update(UserSession).where(UserSession.id == user_session.id).values(last_seen_at=now))
    user._session_key = key
    user._auth_kind = "session"
    return user


def _write_now(statement) -> None:
    """Record session bookkeeping now, whatever the request does next."""
    if is_write_intent():
        # A writing request already holds SQLite's write lock in the main session: a second
        # connection would wait on its own request until busy_timeout. Write in the main session
        # (committed with the request's one commit).
        db.session.execute(statement)
        return
    # Own short transaction on its own connection: GET requests never commit the main session.
    with write_intent(), db.engine.begin() as conn:
        conn.execute(statement)


def _load_token_user(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[len("Bearer "):].strip()
    row = db.session.execute(
        sa.select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_secret(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or row[1].status != UserStatus.active:
        return None
    api_token, user = row
    user._auth_kind = "token"
    user._session_key = None
    now = utcnow()
    if api_token.last_used_at is None or now - api_token.last_used_at > _TOUCH_EVERY:
        _write_now(sa.update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now))
    return user


def is_bearer_request() -> bool:
    return request.headers.get("Authorization", "").startswith("Bearer ")


#: endpoints a session that must change its password may still use
PASSWORD_CHANGE_ALLOWED = {"accounts.change_password", "accounts.logout", "static", "api.me", "api.password",
                           "api.logout", "api.login", "accounts.login", "openapi_json"}
#: unsafe endpoints without CSRF: login posts JSON or a form before any session exists
CSRF_EXEMPT = {"api.login"}


def init_app(app) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    login_manager.session_protection = None  # our own server-side sessions do this job
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)

    @login_manager.unauthorized_handler
    def _unauthorized():
        raise Unauthorized("请先登录")

    @app.before_request
    def _gates():
        # One CSRF gate for forms and cookie-authenticated API calls; Bearer calls carry no cookie.
        if request.method in UNSAFE_METHODS and request.endpoint not in CSRF_EXEMPT:
            if not (request.path.startswith("/api/") and is_bearer_request()):
                csrf.protect()
        if (request.endpoint and request.endpoint not in PASSWORD_CHANGE_ALLOWED
                and getattr(current_user, "is_authenticated", False)
                and current_user._auth_kind == "session" and current_user.must_change_password):
            if request.path.startswith("/api/"):
                raise LMSError("请先修改初始密码", code="password_change_required", status=403)
            from flask import redirect, url_for  # late: only this branch redirects
            return redirect(url_for("accounts.change_password"))
        return None
