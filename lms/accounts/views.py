"""HTML pages: login, logout, password change, home, the account list and its actions."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts import auth, queries, services
from lms.accounts.forms import ChangePasswordForm, ConfirmForm, LoginForm
from lms.accounts.models import ROLE_LABELS
from lms.accounts.passwords import verify_password
from lms.accounts.permissions import Permission, authorize, can_manage_account, has_permission, require
from lms.audit.services import record_after_read
from lms.errors import Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.home import home_sections, nav_items
from lms.org.queries import get_org, path_names
from lms.web import client_addr, page_number

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would help phishing.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("accounts.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.username.data, form.password.data, client_addr())
        except (auth.InvalidCredentials, auth.Locked) as exc:
            db.session.commit()  # keep the failure count and audit entry
            error, status = exc.message, exc.status
        else:
            auth.start_session(user, client_addr())
            db.session.commit()
            if user.must_change_password:
                return redirect(url_for("accounts.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        auth.end_current_session()
        db.session.commit()
    flash("您已安全退出。", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.old.data):
            form.old.errors.append("原密码不正确")
            status = 422
        else:
            try:
                services.change_password(current_user, form.new.data, keep_session=current_user._session_key,
                                         client_addr=client_addr())
            except ValidationError as exc:
                form.new.errors.append(exc.message)
                status = 422
            else:
                db.session.commit()
                flash("密码已修改。", "success")
                return redirect(url_for("accounts.home"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/password.html", form=form,
                           forced=current_user.must_change_password), status


@bp.get("/")
@login_required
def home():
    return render_template("accounts/home.html", sections=home_sections(current_user),
                           org_path=path_names(current_user.org),
                           roles=[(ROLE_LABELS[g.role], g.org.name) for g in current_user.grants])


def _list_permission() -> Permission:
    if has_permission(current_user, Permission.VIEW_USERS):
        return Permission.VIEW_USERS
    if has_permission(current_user, Permission.VIEW_TEAM):
        return Permission.VIEW_TEAM
    raise Forbidden("没有权限查看人员名单")


@bp.get("/users")
@login_required
def users():
    perm = _list_permission()
    org = None
    if request.args.get("org"):
        org = get_org(request.args["org"])
        if org is None:
            raise NotFound("找不到该组织")
        authorize(current_user, perm, org)
    page = page_number()
    q = request.args.get("q", "").strip()[:50]
    items, has_next = queries.list_users(current_user, perm, org=org, q=q, page=page)
    rows = []
    for user in items:
        row = queries.user_row(current_user, user)
        row["can_reset"] = can_manage_account(current_user, user, Permission.RESET_PASSWORD)
        row["can_disable"] = row["active"] and can_manage_account(current_user, user, Permission.MANAGE_USERS)
        rows.append(row)
    unmasked = [r["username"] for r in rows if r["unmasked"] and (r["id_card"] or r["phone"])]
    if unmasked:
        record_after_read("pii.view", actor=current_user, client_addr=client_addr(), target_type="users",
                          target=f"{len(unmasked)} 人", org=org or current_user.org,
                          details={"usernames": unmasked[:500]})

    def page_args(n):
        return urlencode({k: v for k, v in {"org": request.args.get("org", ""), "q": q, "page": n}.items() if v})

    return render_template("accounts/users.html", rows=rows, q=q, org=org, page=page, has_next=has_next,
                           page_args=page_args, form=ConfirmForm())


def _target_for(username: str, perm: Permission):
    user = queries.get_user(username)
    if user is None:
        raise NotFound("找不到该账号")
    if not can_manage_account(current_user, user, perm):
        raise Forbidden("没有权限：该账号不在您的管辖范围内，或其角色高于您可管理的范围")
    return user


@bp.post("/users/<username>/reset-password")
@require(Permission.RESET_PASSWORD)
def reset_password(username):
    user = _target_for(username, Permission.RESET_PASSWORD)
    temporary = services.reset_password(user, actor=current_user, client_addr=client_addr())
    db.session.commit()
    return render_template("accounts/reset_done.html", user=user, temporary=temporary)


@bp.post("/users/<username>/disable")
@require(Permission.MANAGE_USERS)
def disable(username):
    user = _target_for(username, Permission.MANAGE_USERS)
    services.disable_user(user, actor=current_user, client_addr=client_addr())
    db.session.commit()
    flash(f"已停用 {user.name}（{user.username}）的账号，其登录状态已全部失效。", "success")
    return redirect(url_for("accounts.users"))


def init_views(app):
    app.register_blueprint(bp)

    @app.context_processor
    def _nav():
        if not getattr(current_user, "is_authenticated", False) or request.endpoint is None:
            return {"nav_items": []}
        return {"nav_items": nav_items(current_user, request.endpoint)}
