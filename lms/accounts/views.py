"""HTML pages: login, logout, password change, home, the account list and its actions."""
from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts import auth, queries, services
from lms.accounts.forms import (AccountFieldsForm, ChangePasswordForm, ConfirmForm, CreateAccountForm, LoginForm,
                                RolesForm, UploadFileForm)
from lms.accounts.masking import mask_id_card, mask_phone
from lms.accounts.models import ROLE_LABELS, Role
from lms.accounts.passwords import verify_typed_password
from lms.accounts.permissions import (Permission, authorize, can_grant, can_manage_account, has_permission,
                                      require, scope_orgs, sees_pii)
from lms.audit.services import record_after_read
from lms.db import write_intent
from lms.errors import Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.home import home_sections, nav_menu
from lms.org.queries import get_org, list_subtree, path_names
from lms.tabular import TabularError
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
        if verify_typed_password(current_user.password_hash, form.old.data,
                                 one_time_pending=current_user.must_change_password) is None:
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
        manage = can_manage_account(current_user, user, Permission.MANAGE_USERS)
        row["can_manage"] = manage
        row["can_disable"] = row["active"] and manage
        row["can_enable"] = not row["active"] and manage
        rows.append(row)
    unmasked = [r["username"] for r in rows if r["unmasked"] and (r["id_card"] or r["phone"])]
    if unmasked:
        record_after_read("pii.view", actor=current_user, client_addr=client_addr(), target_type="users",
                          target=f"{len(unmasked)} 人", org=org or current_user.org,
                          details={"usernames": unmasked[:500]})

    def page_args(n):
        return urlencode({k: v for k, v in {"org": request.args.get("org", ""), "q": q, "page": n}.items() if v})

    return render_template("accounts/users.html", rows=rows, q=q, org=org, page=page, has_next=has_next,
                           page_args=page_args, form=ConfirmForm(),
                           can_create=has_permission(current_user, Permission.MANAGE_USERS))


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
    services.set_account_status(current_user, user, False, client_addr=client_addr())
    db.session.commit()
    flash(f"已停用 {user.name}（{user.username}）的账号，其登录状态已全部失效。", "success")
    return redirect(url_for("accounts.users"))


@bp.post("/users/<username>/enable")
@require(Permission.MANAGE_USERS)
def enable(username):
    user = _target_for(username, Permission.MANAGE_USERS)
    services.set_account_status(current_user, user, True, client_addr=client_addr())
    db.session.commit()
    flash(f"已重新启用 {user.name}（{user.username}）的账号。", "success")
    return redirect(url_for("accounts.users"))


# --- account pages: create, edit, roles ------------------------------------------------------------------------


def _scope_units(perm: Permission = Permission.MANAGE_USERS) -> list:
    """Every unit in the actor's scope for perm, in tree order (nested scopes once)."""
    roots = {r.path: r for r in scope_orgs(current_user, perm)}
    tops = [r for path, r in sorted(roots.items()) if not any(path != p and path.startswith(p) for p in roots)]
    return [unit for top in tops for unit in list_subtree(top)]


def _org_choices(perm: Permission = Permission.MANAGE_USERS) -> list[tuple[str, str]]:
    units = _scope_units(perm)
    base = min((u.depth for u in units), default=0)
    # Indented with full-width spaces: the select shows the tree without markup.
    return [(u.code, "\u3000" * (u.depth - base) + u.name) for u in units]


def _chosen_org(code: str | None):
    org = get_org(code or "")
    if org is None:
        raise ValidationError("请选择所在单位")
    return org


def _role_choices() -> list[tuple[str, str]]:
    roots = scope_orgs(current_user, Permission.MANAGE_USERS)
    return [(r.value, ROLE_LABELS[r]) for r in Role if any(can_grant(current_user, r, o) for o in roots)]


def _personal(form) -> dict:
    return {"id_card": form.id_card.data or "", "phone": form.phone.data or "", "birth_date": form.birth.data or "",
            "education": form.education.data or "", "hired_on": form.hired.data or ""}


@bp.route("/users/new", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def create_user():
    form = CreateAccountForm()
    form.org.choices = _org_choices()
    form.role.choices = _role_choices()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            org = _chosen_org(form.org.data)
            role = Role(form.role.data) if form.role.data in Role.__members__ else None
            if role is None:
                raise ValidationError("请选择角色")
            user, temporary = services.create_account(current_user, name=form.name.data, org=org,
                                                      grants=[(role, org)], username=form.username.data,
                                                      fields=_personal(form))
        except ValidationError as exc:
            db.session.rollback()
            error, status = exc.message, 422
        else:
            db.session.commit()
            return render_template("accounts/created.html", user=user, temporary=temporary,
                                   role=ROLE_LABELS[role], org_name=path_names(org))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/account_form.html", form=form, error=error, creating=True,
                           title="新建账号"), status


@bp.route("/users/<username>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def edit_user(username):
    user = _target_for(username, Permission.MANAGE_USERS)
    unmasked = sees_pii(current_user, user)
    if unmasked and request.method == "GET" and (user.id_card or user.phone):
        # The form shows the stored ID card and phone in full: an unmasked view, audited like the list's.
        record_after_read("pii.view", actor=current_user, client_addr=client_addr(), target_type="user",
                          target=user.username, org=user.org, details={"usernames": [user.username]})
    form = AccountFieldsForm(data=None if request.method == "POST" else {
        "name": user.name, "org": user.org.code, "education": user.education or "",
        "birth": user.birth_date.isoformat() if user.birth_date else "",
        "hired": user.hired_on.isoformat() if user.hired_on else "",
        "id_card": (user.id_card or "") if unmasked else "", "phone": (user.phone or "") if unmasked else ""})
    form.org.choices = _org_choices()
    error, status = None, 200
    if form.validate_on_submit():
        changes = {"name": form.name.data, **_personal(form)}
        # Blank ID card / phone leave the stored value: a viewer without `pii` never sees it to keep it.
        for key in ("id_card", "phone"):
            if not changes[key].strip():
                del changes[key]
        try:
            changes["org"] = _chosen_org(form.org.data)
            changed = services.update_account(current_user, user, changes, client_addr=client_addr())
        except ValidationError as exc:
            db.session.rollback()
            error, status = exc.message, 422
        else:
            db.session.commit()
            flash(f"已保存 {user.name}（{user.username}）的{'、'.join(changed)}。" if changed else "没有需要保存的修改。",
                  "success")
            return redirect(url_for("accounts.users", q=user.username))
    elif request.method == "POST":
        status = 422
    masked = {"id_card": "" if unmasked else mask_id_card(user.id_card), "phone": "" if unmasked else mask_phone(user.phone)}
    return render_template("accounts/account_form.html", form=form, error=error, creating=False, user=user,
                           masked=masked, title=f"编辑账号：{user.name}"), status


@bp.route("/users/<username>/roles", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def user_roles(username):
    user = _target_for(username, Permission.MANAGE_USERS)
    form = RolesForm()
    current = {f"{g.role.value}@{g.org.code}": (g.role, g.org) for g in user.grants}
    form.keep.choices = [(key, services.role_label(role, org.name)) for key, (role, org) in current.items()]
    form.add_role.choices = [("", "（不新增）")] + _role_choices()
    form.add_org.choices = _org_choices()
    if request.method == "GET":
        form.keep.data = list(current)
        form.add_org.data = user.org.code
    error, status = None, 200
    if form.validate_on_submit():
        grants = [current[key] for key in form.keep.data or [] if key in current]
        try:
            if form.add_role.data:
                if form.add_role.data not in Role.__members__:
                    raise ValidationError("请选择要新增的角色")
                grants.append((Role(form.add_role.data), _chosen_org(form.add_org.data)))
            changed = services.change_roles(current_user, user, grants, client_addr=client_addr())
        except ValidationError as exc:
            db.session.rollback()
            error, status = exc.message, 422
        else:
            db.session.commit()
            flash(f"已更新 {user.name}（{user.username}）的角色。" if changed else "角色没有变化。", "success")
            return redirect(url_for("accounts.user_roles", username=user.username))
    elif request.method == "POST":
        status = 422
    grantable = {(r, o.id) for r, o in current.values() if can_grant(current_user, r, o)}
    rows = [{"key": key, "label": services.role_label(role, org.name), "locked": (role, org.id) not in grantable}
            for key, (role, org) in current.items()]
    return render_template("accounts/roles.html", form=form, user=user, rows=rows, error=error,
                           org_path=path_names(user.org)), status


# --- roster upload: preview, confirm, the password sheet once --------------------------------------------------


@bp.route("/users/import", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def import_roster():
    form = UploadFileForm()
    error, status = None, 200
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            error, status = "请选择要上传的名单文件（XLSX 或 CSV）", 422
        else:
            data = upload.read()
            try:
                services.plan_roster(data, upload.filename, actor=current_user)  # unreadable files stop here
            except TabularError as exc:
                error, status = exc.message, 422
            else:
                _, key = services.store_upload(current_user, "roster", data, upload.filename)
                db.session.commit()
                return redirect(url_for("accounts.roster_preview", key=key))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/import.html", form=form, error=error,
                           columns=services.ROSTER_COLUMNS + ["状态"]), status


@bp.get("/users/import/<key>")
@require(Permission.MANAGE_USERS)
def roster_preview(key):
    upload = services.get_upload(current_user, key, "roster")
    if upload.applied_at is not None:
        return redirect(url_for("accounts.roster_done", key=key))
    if upload.data is None:
        raise NotFound("这次上传已过期，请重新上传名单")
    plan = services.plan_roster(upload.data, upload.filename, actor=current_user)
    rows = [{"row": r.row, "username": r.username, "name": r.name, "action": r.action_label,
             "changes": "、".join(r.changes), "org": r.parsed.org.name}
            for r in plan.rows if r.action != "unchanged"]
    counts = {label: plan.count(action) for action, label in services.ROSTER_ACTIONS.items()}
    return render_template("accounts/import_preview.html", key=key, filename=upload.filename, rows=rows,
                           errors=plan.errors, counts=counts, writable=len(rows), form=ConfirmForm())


@bp.post("/users/import/<key>/confirm")
@require(Permission.MANAGE_USERS)
def roster_confirm(key):
    upload = services.get_upload(current_user, key, "roster")
    services.confirm_roster_upload(current_user, upload, client_addr=client_addr())
    db.session.commit()
    return redirect(url_for("accounts.roster_done", key=key))


@bp.get("/users/import/<key>/done")
@require(Permission.MANAGE_USERS)
def roster_done(key):
    upload = services.get_upload(current_user, key, "roster")
    if upload.applied_at is None:
        return redirect(url_for("accounts.roster_preview", key=key))
    result = upload.result or {}
    return render_template("accounts/import_done.html", key=key, filename=upload.filename, result=result,
                           errors=result.get("errors", []), sheet_ready=upload.password_sheet is not None,
                           sheet_taken=upload.sheet_taken_at is not None)


@bp.get("/users/import/<key>/passwords.xlsx")
@require(Permission.MANAGE_USERS)
def password_sheet(key):
    upload = services.get_upload(current_user, key, "roster")
    # A GET that writes: end the read first and take SQLite's write lock up front (see record_after_read).
    db.session.commit()
    with write_intent():
        data = services.take_password_sheet(upload, actor=current_user, client_addr=client_addr())
        db.session.commit()
    stem = upload.filename.rsplit(".", 1)[0] or "名单"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
        "Content-Disposition": f"attachment; filename=passwords.xlsx; filename*=UTF-8''{quote(stem + '-初始密码.xlsx')}",
        "Cache-Control": "no-store"})


def init_views(app):
    app.register_blueprint(bp)

    @app.context_processor
    def _nav():
        if not getattr(current_user, "is_authenticated", False) or request.endpoint is None:
            return {"nav_items": [], "nav_manage": []}
        return nav_menu(current_user, request.endpoint)
