"""The org tree page; for admins, importing an org list (previewed first) and editing a unit."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from lms.accounts import services as account_services
from lms.accounts.models import User, UserStatus
from lms.accounts.permissions import Permission, authorize, can, has_permission, require, scope_orgs
from lms.audit.services import record
from lms.db import utcnow
from lms.errors import NotFound, ValidationError
from lms.extensions import db
from lms.org.models import GRID_TYPE_LABELS, KIND_ORDER, GridType, OrgUnit, subtree_clause
from lms.org.queries import get_org, list_subtree, path_names
from lms.org.services import ORG_COLUMNS, ORG_FIELD_LABELS, import_orgs, preview_orgs, record_org_import, update_org
from lms.tabular import TabularError
from lms.web import client_addr

bp = Blueprint("org", __name__)


class OrgFileForm(FlaskForm):
    file = FileField("组织架构文件（XLSX 或 CSV）")


class OrgEditForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=100, message="名称不能超过 100 个字")])
    parent = SelectField("上级单位", choices=[], validate_choice=False)
    households = StringField("户数（可不填）", validators=[Optional(), Length(max=9, message="户数太大")])
    grid_type = SelectField("网格类型（可不填）", choices=[], validate_choice=False)


def _roots(perm: Permission) -> list[OrgUnit]:
    roots = scope_orgs(current_user, perm)
    paths = sorted({r.path for r in roots})
    return sorted([r for r in {r.path: r for r in roots}.values()
                   if not any(r.path != p and r.path.startswith(p) for p in paths)], key=lambda r: r.path)


@bp.get("/org")
@require(Permission.VIEW_USERS)
def tree():
    roots = _roots(Permission.VIEW_USERS)
    units = [u for root in roots for u in list_subtree(root)]
    counts = dict(db.session.execute(
        sa.select(User.org_id, sa.func.count()).join(OrgUnit, OrgUnit.id == User.org_id)
        .where(User.status == UserStatus.active,
               sa.or_(*(subtree_clause(OrgUnit.path, r.path) for r in roots)) if roots else sa.false())
        .group_by(User.org_id)).all())
    base_depth = min((u.depth for u in units), default=0)
    rows = [{"code": u.code, "name": u.name, "kind": u.kind_label, "indent": u.depth - base_depth,
             "households": u.households or "", "grid_type": GRID_TYPE_LABELS.get(u.grid_type, "") if u.grid_type else "",
             "members": counts.get(u.id, 0), "can_edit": can(current_user, Permission.MANAGE_ORG, u)} for u in units]
    return render_template("org/tree.html", rows=rows, can_import=has_permission(current_user, Permission.MANAGE_ORG))


def _unit_or_404(code: str) -> OrgUnit:
    unit = get_org(code)
    if unit is None:
        raise NotFound("找不到该单位")
    return unit


@bp.route("/org/<code>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_ORG)
def edit(code):
    unit = _unit_or_404(code)
    authorize(current_user, Permission.MANAGE_ORG, unit)
    form = OrgEditForm(data=None if request.method == "POST" else {
        "name": unit.name, "parent": unit.parent.code if unit.parent else "",
        "households": str(unit.households) if unit.households is not None else "",
        "grid_type": unit.grid_type.value if unit.grid_type else ""})
    # A unit may sit under any unit of a higher kind in scope, never under itself or its own subtree.
    parents = [u for root in _roots(Permission.MANAGE_ORG) for u in list_subtree(root)
               if KIND_ORDER.index(u.kind) < KIND_ORDER.index(unit.kind) and not u.path.startswith(unit.path)]
    form.parent.choices = ([] if unit.parent else [("", "（顶级单位）")]) + [
        (u.code, f"{path_names(u)}") for u in parents]
    form.grid_type.choices = [("", "（不填）")] + [(g.value, GRID_TYPE_LABELS[g]) for g in GridType]
    error, status = None, 200
    if form.validate_on_submit():
        try:
            parent = get_org(form.parent.data) if form.parent.data else None
            if form.parent.data and parent is None:
                raise ValidationError("请选择上级单位")
            if parent is not None and parent.id != unit.parent_id:
                authorize(current_user, Permission.MANAGE_ORG, parent)
            households = _households(form.households.data)
            grid_type = GridType(form.grid_type.data) if form.grid_type.data in GridType.__members__ else None
            old_name, old_parent = unit.name, unit.parent.name if unit.parent else ""
            changed = update_org(unit, name=form.name.data, parent=parent, households=households,
                                 grid_type=grid_type)
        except ValidationError as exc:
            db.session.rollback()
            error, status = exc.message, 422
        else:
            if changed:
                _audit_update(unit, changed, old_name, old_parent)
            db.session.commit()
            flash(f"已保存“{unit.name}”。" if changed else "没有需要保存的修改。", "success")
            return redirect(url_for("org.tree"))
    elif request.method == "POST":
        status = 422
    return render_template("org/edit.html", form=form, unit=unit, error=error, path=path_names(unit)), status


def _households(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError(f"户数“{text}”应为不小于 0 的整数")
    return int(text)


def _audit_update(unit: OrgUnit, changed: list[str], old_name: str, old_parent: str) -> None:
    labels = [ORG_FIELD_LABELS[k] for k in changed]
    parts = []
    if "name" in changed:
        parts.append(f"将“{old_name}”改名为“{unit.name}”")
    if "parent" in changed:
        parts.append(f"将“{unit.name}”从“{old_parent}”移到“{unit.parent.name}”之下")
    if not parts:
        parts.append(f"修改了“{unit.name}”的{'、'.join(labels)}")
    record("org.update", actor=current_user, target_type="org", target=unit.code, org=unit, client_addr=client_addr(),
           details={"summary": f"{current_user.name} {'，'.join(parts)}", "name": unit.name, "old_name": old_name,
                    "parent_from": old_parent, "parent_to": unit.parent.name if unit.parent else "",
                    "fields": labels})


def _scope_paths() -> list[str]:
    return [r.path for r in _roots(Permission.MANAGE_ORG)]


@bp.route("/org/import", methods=["GET", "POST"])
@require(Permission.MANAGE_ORG)
def import_page():
    form = OrgFileForm()
    error, status = None, 200
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            error, status = "请选择要上传的组织架构文件（XLSX 或 CSV）", 422
        else:
            data = upload.read()
            try:
                preview_orgs(data, upload.filename, scope_paths=_scope_paths())
            except TabularError as exc:
                db.session.rollback()
                error, status = exc.message, 422
            else:
                _, key = account_services.store_upload(current_user, "org", data, upload.filename)
                db.session.commit()
                return redirect(url_for("org.import_preview", key=key))
    elif request.method == "POST":
        status = 422
    return render_template("org/import.html", form=form, error=error, columns=ORG_COLUMNS), status


@bp.get("/org/import/<key>")
@require(Permission.MANAGE_ORG)
def import_preview(key):
    upload = account_services.get_upload(current_user, key, "org")
    if upload.applied_at is not None or upload.data is None:
        raise NotFound("这次上传已导入或已过期，请重新上传")
    report = preview_orgs(upload.data, upload.filename, scope_paths=_scope_paths())
    return render_template("org/import_preview.html", key=key, filename=upload.filename, report=report,
                           writable=report.created + report.updated, form=FlaskForm())


@bp.post("/org/import/<key>/confirm")
@require(Permission.MANAGE_ORG)
def import_confirm(key):
    upload = account_services.get_upload(current_user, key, "org")
    if upload.applied_at is not None or upload.data is None:
        raise ValidationError("这份组织架构已经导入过（或已过期），请重新上传", code="already_applied")
    report = import_orgs(upload.data, upload.filename, scope_paths=_scope_paths())
    upload.applied_at = utcnow()
    upload.data = None
    upload.result = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                     "errors": [[r, m] for r, m in report.errors]}
    record_org_import(current_user, upload.filename, report, client_addr())
    db.session.commit()
    flash(f"组织架构已导入：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
          f"未导入的错误行 {len(report.errors)}。", "success")
    return redirect(url_for("org.tree"))
