"""Login, lockout, server-side sessions, Bearer tokens and the request gates."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy import orm
from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user

from lms.accounts.models import (
    ApiToken, Lockout, LoginFailure, RoleGrant, User, UserPreference, UserSession, UserStatus,
)
from lms.accounts.passwords import (
    burn_verify_time, hash_password, needs_rehash, verify_password, verify_typed_password,
)
from lms.accounts.services import hash_secret
from lms.audit.services import record
from lms.db import begin_writing, is_write_intent, utcnow, write_intent
from lms.errors import LMSError, TooManyRequests, Unauthorized
from lms.extensions import csrf, db, login_manager
from lms.inbox.queries import unread_count_column
from lms.org.models import OrgUnit
from lms.web import UNSAFE_METHODS, client_addr, reads_first

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


#: PostgreSQL: a transaction-scoped advisory lock per (username, client) serialises the counting of attempts,
#: so two logins cannot both see four and both take the fifth slot (SQLite: IMMEDIATE writes are serial anyway).
_ATTEMPT_LOCK_CLASS = 0x10C4  # "lock": (class, key) keeps it apart from any other advisory lock
_LOCK_ATTEMPTS = sa.select(sa.func.pg_advisory_xact_lock(sa.cast(sa.literal(_ATTEMPT_LOCK_CLASS), sa.Integer),
                                                         sa.cast(sa.bindparam("key"), sa.Integer)))


def _serialise_attempts(key: str, addr: str) -> None:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        digest = hashlib.sha256(f"{key}\n{addr}".encode()).digest()
        connection.execute(_LOCK_ATTEMPTS, {"key": int.from_bytes(digest[:4], "big", signed=True)})


def _counted_attempts(key: str, addr: str, now: dt.datetime) -> int:
    """Attempts of key from addr inside the window: failed ones and those whose password is being checked."""
    window_start = now - dt.timedelta(minutes=int(current_app.config["LOCKOUT_MINUTES"]))
    return db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure).where(
        LoginFailure.username == key, LoginFailure.client_addr == addr, LoginFailure.failed_at > window_start))


def _locked_message(until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return f"登录失败次数过多，账号已在本设备锁定，请 {minutes} 分钟后再试或联系管理员"


def _reserve_attempt(key: str, addr: str, now: dt.datetime) -> None:
    """Count this attempt as a failure before its password is checked, in the same write as the check of the
    lock and of the count: however many logins run in parallel, at most LOCKOUT_THRESHOLD passwords are checked
    in a window. Success clears the count (authenticate).

    In a reads-first request the write is committed at once, so the hash is checked without holding SQLite's
    write lock; elsewhere (a writing request, a direct call) it stays in the caller's transaction.
    """
    already_writing = is_write_intent()
    begin_writing()
    _serialise_attempts(key, addr)
    until = locked_until(key, addr, now)
    if until is None and _counted_attempts(key, addr, now) >= int(current_app.config["LOCKOUT_THRESHOLD"]):
        # The slots are taken by attempts still being checked: their outcome decides about a lock.
        until = now + dt.timedelta(minutes=int(current_app.config["LOCKOUT_MINUTES"]))
    if until is not None:
        raise Locked(_locked_message(until, now), code="locked")
    db.session.add(LoginFailure(username=key, client_addr=addr, failed_at=now))
    db.session.flush()
    if not already_writing and is_write_intent():
        # The slot is taken: release the write lock (and PostgreSQL's advisory lock) before the hash is checked.
        session = db.session()
        keep, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = keep


def _record_failure(user: User | None, username: str, key: str, addr: str, now: dt.datetime) -> None:
    """The attempt's reserved slot stays counted; at the threshold the username is locked on this client."""
    cfg = current_app.config
    _serialise_attempts(key, addr)
    failures = _counted_attempts(key, addr, now)
    if failures >= int(cfg["LOCKOUT_THRESHOLD"]):
        until = now + dt.timedelta(minutes=int(cfg["LOCKOUT_MINUTES"]))
        lock = db.session.scalar(sa.select(Lockout).where(Lockout.username == key, Lockout.client_addr == addr))
        if lock is None:
            db.session.add(Lockout(username=key, client_addr=addr, locked_until=until))
        elif lock.locked_until <= now:
            lock.locked_until = until
        else:
            return  # a parallel attempt wrote the lock already
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == key,
                                                         LoginFailure.client_addr == addr))
        record("auth.lockout", actor=user, actor_name=username[:100], client_addr=addr, now=now,
               target_type="user", target=username[:100], org=getattr(user, "org", None))


def authenticate(username: str, password: str, addr: str, now: dt.datetime | None = None) -> User:
    """The user for these credentials, or InvalidCredentials / Locked; counts attempts in the database.

    A login checks an argon2 hash (~30 ms of CPU). The login routes read first (lms.web.reads_first): the attempt
    is counted in a short write (_reserve_attempt), the hash checked without SQLite's one write lock, which
    otherwise let only one login through at a time, and the outcome written in a second short write.
    A disabled account is answered exactly like a wrong password (the answer must not tell that the password
    was right), and counted alike; the audit log says why.
    """
    now = now or utcnow()
    key = _key(username)
    until = locked_until(key, addr, now)
    if until:
        burn_verify_time(password)
        raise Locked(_locked_message(until, now), code="locked")
    found = db.session.execute(sa.select(User.id, User.password_hash, User.must_change_password)
                               .where(User.username == username.strip())).first()
    _reserve_attempt(key, addr, now)
    if found is None:
        burn_verify_time(password)
        ok = False
    else:
        # A pending one-time password is accepted in lower case and without its dash (passwords.py).
        matched = verify_typed_password(found.password_hash, password, one_time_pending=found.must_change_password,
                                        verify=verify_password)
        ok = matched is not None
    begin_writing()
    user = db.session.get(User, found.id) if found is not None else None
    if ok and user.status != UserStatus.active:
        record("auth.login_refused", actor=user, client_addr=addr, target_type="user", target=user.username,
               org=user.org, details={"reason": "disabled"}, now=now)
        ok = False
    elif not ok:
        record("auth.login_failed", actor=user, actor_name=username[:100], client_addr=addr, now=now,
               target_type="user", target=username[:100], org=getattr(user, "org", None))
    if not ok:
        _record_failure(user, username, key, addr, now)
        raise InvalidCredentials("工号或密码不正确", code="invalid_credentials")
    _serialise_attempts(key, addr)
    until = locked_until(key, addr, now)
    if until:
        # Parallel failures locked the username while this password was being checked.
        raise Locked(_locked_message(until, now), code="locked")
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.username == key, LoginFailure.client_addr == addr))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(matched)
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
    """Log out: the server-side session ends for good. A Bearer request has no session to end (and the cookie
    that may have come along belongs to someone else's log-in)."""
    if getattr(current_user, "_auth_kind", None) == "token":
        return
    key = session.get("_user_id")
    if key:
        db.session.execute(sa.update(UserSession).where(UserSession.key_hash == hash_secret(key))
                           .values(ended_at=now or utcnow()))
    if getattr(current_user, "is_authenticated", False):
        record("auth.logout", actor=current_user, client_addr=client_addr(), target_type="user",
               target=current_user.username, org=current_user.org, now=now)
    logout_user()
    session.clear()


# One round trip: the session's times, the user, their unit, grants and the grants' units (every page needs
# them), as plain columns. Building the ORM objects from them directly (_attach) costs a fraction of the ORM's
# own row processing for a joined-eager query, which was a third of a lesson page's CPU.
_ORG = OrgUnit.__table__
_GRANT_ORG = _ORG.alias("grant_org")
_USER_COLUMNS = [attr.key for attr in sa.inspect(User).column_attrs]
_ORG_COLUMNS = [attr.key for attr in sa.inspect(OrgUnit).column_attrs]
_GRANT_COLUMNS = [attr.key for attr in sa.inspect(RoleGrant).column_attrs]


def _session_user_statement(session_table, key_column, *session_columns):
    """Rows of (*session_columns, user columns, org columns, grant columns, grant org columns), one per grant."""
    users, grants = User.__table__, RoleGrant.__table__
    return (
        sa.select(*session_columns, *[users.c[k] for k in _USER_COLUMNS], *[_ORG.c[k] for k in _ORG_COLUMNS],
                  *[grants.c[k] for k in _GRANT_COLUMNS], *[_GRANT_ORG.c[k] for k in _ORG_COLUMNS])
        .select_from(session_table.join(users, users.c.id == session_table.c.user_id)
                     .join(_ORG, _ORG.c.id == users.c.org_id)
                     .outerjoin(grants, grants.c.user_id == users.c.id)
                     .outerjoin(_GRANT_ORG, _GRANT_ORG.c.id == grants.c.org_id))
        .where(key_column == sa.bindparam("key"))
        .order_by(grants.c.id)
    )


_sessions, _tokens = UserSession.__table__, ApiToken.__table__
_prefs = UserPreference.__table__
# The reading settings (大字, read-aloud speed) that base.html puts on every page ride along as the last two
# columns, so a page costs no extra statement for them.
# The menu's unread-message badge rides along too, third from last (an index-only count, lms.inbox.queries).
_SESSION_USER = _session_user_statement(_sessions, _sessions.c.key_hash, _sessions.c.id, _sessions.c.ended_at,
                                        _sessions.c.last_seen_at, _sessions.c.created_at) \
    .add_columns(unread_count_column(_sessions.c.user_id)) \
    .outerjoin(_prefs, _prefs.c.user_id == _sessions.c.user_id) \
    .add_columns(_prefs.c.large_text, _prefs.c.speech_rate)
_TOKEN_USER = _session_user_statement(_tokens, _tokens.c.token_hash, _tokens.c.id, _tokens.c.last_used_at) \
    .where(_tokens.c.revoked_at.is_(None))


def _identity(cls, pk):
    return orm.class_mapper(cls).identity_key_from_primary_key((pk,))


def _instance(cls, values: dict, loaded: dict):
    """A persistent cls instance with these column values, without a query: the session's own copy if it
    already holds one, else a new instance marked as loaded (make_transient_to_detached, then attached)."""
    key = (cls, values["id"])
    if key in loaded:
        return loaded[key]
    existing = db.session.identity_map.get(_identity(cls, values["id"]))
    if existing is not None:
        loaded[key] = existing
        return existing
    obj = orm.class_mapper(cls).class_manager.new_instance()
    obj.__dict__.update(values)
    orm.make_transient_to_detached(obj)
    loaded[key] = obj
    return obj


def _user_from_rows(rows, at: int) -> User:
    """The User of _SESSION_USER/_TOKEN_USER rows (its columns from index at), with org and grants (and their
    orgs) loaded and attached to the request's session."""
    n_user, n_org, n_grant = len(_USER_COLUMNS), len(_ORG_COLUMNS), len(_GRANT_COLUMNS)
    first = rows[0]
    loaded: dict = {}
    user_values = dict(zip(_USER_COLUMNS, first[at:at + n_user]))
    fresh = db.session.identity_map.get(_identity(User, user_values["id"])) is None
    user = _instance(User, user_values, loaded)
    if not fresh:
        return user
    at += n_user
    orm.attributes.set_committed_value(user, "org", _instance(OrgUnit, dict(zip(_ORG_COLUMNS, first[at:at + n_org])),
                                                               loaded))
    at += n_org
    grants = []
    for row in rows:
        if row[at] is None:  # no grants: the outer join's one row of NULLs
            continue
        grant = _instance(RoleGrant, dict(zip(_GRANT_COLUMNS, row[at:at + n_grant])), loaded)
        orm.attributes.set_committed_value(grant, "org", _instance(
            OrgUnit, dict(zip(_ORG_COLUMNS, row[at + n_grant:at + n_grant + n_org])), loaded))
        orm.attributes.set_committed_value(grant, "user", user)
        grants.append(grant)
    orm.attributes.set_committed_value(user, "grants", grants)
    db.session.add(user)  # cascades to org, grants and their orgs: persistent, no SQL
    return user


def _load_session_user(key: str) -> User | None:
    now = utcnow()
    cfg = current_app.config
    rows = db.session.connection().execute(_SESSION_USER, {"key": hash_secret(key)}).all()
    if not rows:
        return None
    session_id, ended_at, last_seen_at, created_at = rows[0][:4]
    user = _user_from_rows(rows, 4)
    idle = dt.timedelta(minutes=float(cfg["IDLE_TIMEOUT_MINUTES"]))
    absolute = dt.timedelta(hours=float(cfg["ABSOLUTE_TIMEOUT_HOURS"]))
    if (ended_at is not None or user.status != UserStatus.active
            or now - last_seen_at > idle or now - created_at > absolute):
        if ended_at is None:
            _write_now(sa.update(UserSession).where(UserSession.id == session_id).values(ended_at=now))
        return None
    if now - last_seen_at > _TOUCH_EVERY:
        _write_now(sa.update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    user._session_key = key
    user._auth_kind = "session"
    user._reading_prefs = tuple(rows[0][-2:])  # see profile.get_preferences
    user._inbox_unread = rows[0][-3]  # see lms.inbox.queries.nav_unread
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
    rows = db.session.connection().execute(_TOKEN_USER, {"key": hash_secret(token)}).all()
    if not rows:
        return None
    token_id, last_used_at = rows[0][:2]
    user = _user_from_rows(rows, 2)
    if user.status != UserStatus.active:
        return None
    user._auth_kind = "token"
    user._session_key = None
    now = utcnow()
    if last_used_at is None or now - last_used_at > _TOUCH_EVERY:
        _write_now(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
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
    reads_first("api.login", "accounts.login")
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)

    @login_manager.unauthorized_handler
    def _unauthorized():
        raise Unauthorized("请先登录")

    @app.before_request
    def _gates():
        if is_bearer_request():
            # A request that names a token is that token's, whatever cookie came along: an unknown or revoked
            # one is refused here, so a junk header can never stand in for the CSRF token of a cookie session.
            user = _load_token_user(request)
            if user is None:
                raise Unauthorized("接口令牌无效、已撤销或其账号已停用")
            g._login_user = user  # Flask-Login's current user for this request: the cookie is not consulted
        # One CSRF gate for forms and cookie-authenticated API calls; a valid Bearer token is proof enough.
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
