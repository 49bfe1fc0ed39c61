"""HTML pages: the mentor's dashboard and log form, the mentee's confirmations, HR's pairings,
outcomes and export, and the 1+N grid teams."""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.models import ROLE_LABELS
from lms.accounts.permissions import Permission, authorize, can, has_permission, require
from lms.accounts.queries import get_user
from lms.audit.services import record_after_read
from lms.errors import Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.home import register_nav, register_section
from lms.mentoring import queries, services
from lms.mentoring.models import KIND_LABELS, ActivityKind, ActivityStatus
from lms.org.queries import get_org, path_names
from lms.reports.exports import iter_xlsx
from lms.web import client_addr, offline_capable

bp = Blueprint("mentoring", __name__)
offline_capable("mentoring.confirm_list")  # confirmations made offline wait in the outbox (app.js)

PAIRING_EXPORT_COLUMNS = (
    "结对编号", "导师姓名", "导师工号", "学员姓名", "学员工号", "乡镇(街道)", "村(社区)", "开始日期", "结束日期", "状态",
    "提前结束原因", "跟岗学习", "联合走访", "案例复盘", "已确认活动", "已确认时长(分钟)", "结对前退回率", "结对期间退回率",
)
PAIRING_EXPORT_WIDTHS = (10, 10, 12, 10, 12, 14, 14, 12, 12, 10, 20, 10, 10, 10, 12, 16, 14, 16)


def _config_rules() -> dict:
    return {"min_years": int(current_app.config["MENTOR_MIN_YEARS"]),
            "capacity": int(current_app.config["MENTOR_CAPACITY"])}


def _is_mentor(user) -> bool:
    return has_permission(user, Permission.LOG_MENTORING)


# --- mentor -------------------------------------------------------------------------------------------------

@bp.get("/mentoring")
@require(Permission.LOG_MENTORING)
def dashboard():
    pairings = queries.mentor_pairings(current_user)
    cards = [queries.mentee_overview(p, pm.mentee) for p in pairings for pm in p.mentees]
    return render_template("mentoring/dashboard.html", cards=cards, pairings=pairings)


@bp.route("/mentoring/pairings/<int:pairing_id>/log", methods=["GET", "POST"])
@login_required
def log_form(pairing_id):
    pairing = queries.get_pairing(pairing_id)
    if pairing is None:
        raise NotFound("结对不存在")
    if pairing.mentor_id != current_user.id:
        raise Forbidden("只有该结对的导师本人可以记录活动")
    values = {"kind": "", "date": services.local_today().isoformat(), "minutes": "", "place": "", "notes": "",
              "drill_report_id": "",
              "mentee": pairing.mentees[0].mentee.username if len(pairing.mentees) == 1 else "",
              "client_id": uuid.uuid4().hex}
    error, status = None, 200
    if request.method == "POST":
        values.update({k: request.form.get(k, "") for k in values})
        # A form posted without its hidden key (an old page) is simply not idempotent.
        data = {**values, "client_id": values["client_id"] or None}
        try:
            activity, created = services.log_activity(current_user, pairing, data)
        except ValidationError as exc:
            error, status = exc.message, 422
        else:
            db.session.commit()
            flash(f"已记录：{activity.mentee.name} · {activity.kind_label} · {activity.date}，等待学员确认。"
                  if created else "这条记录已经保存过了。", "success")
            return redirect(url_for("mentoring.dashboard"))
    kinds = [{"value": k.value, "label": KIND_LABELS[k], "checked": values["kind"] == k.value} for k in ActivityKind]
    mentees = [{"username": pm.mentee.username, "name": pm.mentee.name,
                "selected": values["mentee"] == pm.mentee.username} for pm in pairing.mentees]
    recent = queries.activities_of_pairing(pairing)[:10]
    return render_template("mentoring/log.html", pairing=pairing, values=values, kinds=kinds, mentees=mentees,
                           error=error, recent=recent, first_day=pairing.start_on.isoformat(),
                           last_day=min(services.last_activity_day(pairing), services.local_today()).isoformat()), status


# --- mentee -------------------------------------------------------------------------------------------------

@bp.get("/mentoring/confirm")
@login_required
def confirm_list():
    pending = queries.activities_for_mentee(current_user, status=ActivityStatus.logged)
    done = [a for a in queries.activities_for_mentee(current_user) if a.status != ActivityStatus.logged][:20]
    return render_template("mentoring/confirm.html", pending=pending, done=done)


def _own_activity(activity_id):
    activity = queries.get_activity(activity_id)
    if activity is None:
        raise NotFound("活动记录不存在")
    return activity


@bp.post("/mentoring/activities/<int:activity_id>/confirm")
@login_required
def confirm(activity_id):
    activity = _own_activity(activity_id)
    services.confirm_activity(current_user, activity)
    db.session.commit()
    flash(f"已确认：{activity.kind_label}（{activity.date}）。", "success")
    return redirect(url_for("mentoring.confirm_list"))


@bp.post("/mentoring/activities/<int:activity_id>/dispute")
@login_required
def dispute(activity_id):
    activity = _own_activity(activity_id)
    try:
        services.dispute_activity(current_user, activity, request.form.get("reason", ""))
    except ValidationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("mentoring.confirm_list"))
    db.session.commit()
    flash(f"已提出异议：{activity.kind_label}（{activity.date}），该记录不计入。", "success")
    return redirect(url_for("mentoring.confirm_list"))


# --- HR: pairings, suggestions, outcomes, export -----------------------------------------------------------

@bp.route("/mentoring/pairings", methods=["GET", "POST"])
@require(Permission.MANAGE_PAIRINGS)
def pairings():
    values = {"mentor": request.args.get("mentor", ""), "mentees": request.args.get("mentee", ""), "start": "",
              "end": "", "goals": ""}
    error, status = None, 200
    if request.method == "POST":
        values.update({k: request.form.get(k, "").strip() for k in values})
        try:
            mentor = _named(values["mentor"], "导师工号")
            names = [n for n in values["mentees"].replace("，", ",").replace("、", ",").split(",") if n.strip()]
            mentees = [_named(n, "学员工号") for n in names]
            pairing = services.create_pairing(current_user, mentor, mentees, values["start"], values["end"],
                                              values["goals"], client_addr=client_addr(), **_config_rules())
        except ValidationError as exc:
            error, status = exc.message, 422
        else:
            db.session.commit()
            flash(f"已建立结对：{pairing.mentor.name} 带 "
                  + "、".join(pm.mentee.name for pm in pairing.mentees) + "。", "success")
            return redirect(url_for("mentoring.pairings"))
    today = services.local_today()
    rows = [{"pairing": p, "status": queries.pairing_status(p, today), "open": services.is_open(p, today),
             "can_end": services.is_open(p, today) and can(current_user, Permission.MANAGE_PAIRINGS, p),
             "mentees": "、".join(pm.mentee.name for pm in p.mentees)}
            for p in queries.list_pairings(current_user)]
    suggestions = queries.suggest_mentors(current_user, **_config_rules())
    return render_template("mentoring/pairings.html", rows=rows, values=values, error=error,
                           suggestions=suggestions, rules=_config_rules()), status


def _named(username: str, field: str):
    user = get_user(username.strip()) if username and username.strip() else None
    if user is None:
        raise ValidationError(f"{field} {username or '（空）'} 不存在", code="unknown_user")
    return user


@bp.post("/mentoring/pairings/<int:pairing_id>/end")
@require(Permission.MANAGE_PAIRINGS)
def end(pairing_id):
    pairing = queries.get_pairing(pairing_id)
    if pairing is None:
        raise NotFound("结对不存在")
    try:
        services.end_pairing(current_user, pairing, request.form.get("reason", ""), client_addr=client_addr())
    except ValidationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("mentoring.pairings"))
    db.session.commit()
    flash(f"已提前结束结对（导师 {pairing.mentor.name}），记录保留。", "success")
    return redirect(url_for("mentoring.pairings"))


@bp.get("/mentoring/outcomes")
@require(Permission.MANAGE_PAIRINGS)
def outcomes():
    rows = queries.outcome_rows(current_user, Permission.MANAGE_PAIRINGS)
    view_rows = [{**r, "before_text": queries.format_rate(r["before"]), "during_text": queries.format_rate(r["during"]),
                  "kinds": [r["by_kind"][k] for k in ActivityKind]} for r in rows]
    rollup = [{**g, "before_text": queries.format_rate(g["before"]), "during_text": queries.format_rate(g["during"]),
               "kinds": [g["by_kind"][k] for k in ActivityKind]} for g in queries.township_rollup(rows)]
    return render_template("mentoring/outcomes.html", rows=view_rows, rollup=rollup,
                           kind_labels=[KIND_LABELS[k] for k in ActivityKind],
                           can_export=has_permission(current_user, Permission.EXPORT))


def _export_row(r) -> list:
    pairing = r["pairing"]
    rate = (lambda v: round(v, 4) if v is not None else None)
    return [pairing.id, r["mentor"].name, r["mentor"].username, r["mentee"].name, r["mentee"].username, r["township"],
            r["village"], pairing.start_on, pairing.end_on, r["status"], pairing.end_reason,
            *[r["by_kind"][k] for k in ActivityKind], r["confirmed"], r["minutes"], rate(r["before"]),
            rate(r["during"])]


@bp.get("/exports/pairings.xlsx")
@require(Permission.EXPORT)
def export_pairings():
    rows = [_export_row(r) for r in queries.outcome_rows(current_user, Permission.EXPORT)]
    record_after_read("export.pairings", actor=current_user, target_type="export", target="pairings.xlsx",
                      client_addr=client_addr(), details={"rows": len(rows), "format": "xlsx"})
    return Response(iter_xlsx(PAIRING_EXPORT_COLUMNS, rows, "结对成效", widths=PAIRING_EXPORT_WIDTHS),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=pairings.xlsx"})


# --- grid teams ---------------------------------------------------------------------------------------------

@bp.get("/teams")
@require(Permission.VIEW_TEAM)
def teams():
    gaps = {g.id for g in queries.team_gaps(current_user)}
    grids = [{"grid": g, "path": path_names(g), "short": g.id in gaps} for g in queries.grids_in_scope(current_user)]
    return render_template("mentoring/teams.html", grids=grids, gaps_only=False)


@bp.get("/teams/gaps")
@require(Permission.VIEW_TEAM)
def team_gaps():
    grids = [{"grid": g, "path": path_names(g), "short": True} for g in queries.team_gaps(current_user)]
    # The XLSX lives in the reports feature (built later); link it only when it is installed.
    export_url = (url_for("exports.team_gaps_xlsx") if "exports.team_gaps_xlsx" in current_app.view_functions
                  and has_permission(current_user, Permission.EXPORT) else None)
    return render_template("mentoring/teams.html", grids=grids, gaps_only=True, export_url=export_url)


@bp.get("/teams/<code>")
@require(Permission.VIEW_TEAM)
def team(code):
    grid = get_org(code)
    if grid is None or grid.kind != "grid":
        raise NotFound(f"网格 {code} 不存在")
    authorize(current_user, Permission.VIEW_TEAM, grid)
    data = queries.team(grid)
    members = [{**m, "role_text": "、".join(ROLE_LABELS[r] for r in m["roles"] if r != "pii")} for m in data["members"]]
    return render_template("mentoring/team.html", grid=grid, path=path_names(grid), members=members,
                           leaders=data["leaders"], rule_met=data["rule_met"])


# --- navigation ---------------------------------------------------------------------------------------------

def register_home() -> None:
    def mentor_visible(user):
        return _is_mentor(user)

    register_nav(50, "带教", "mentoring.dashboard", mentor_visible)
    register_nav(55, "结对", "mentoring.pairings", lambda user: has_permission(user, Permission.MANAGE_PAIRINGS),
                 group="manage")

    def section(user):
        tiles = []
        if getattr(user, "id", None) is not None:
            pending, paired = queries.mentee_home_summary(user)
            if pending or paired:
                tiles.append({"label": f"待确认的带教活动（{pending}）", "url": url_for("mentoring.confirm_list"),
                              "description": "导师记录的跟岗学习、联合走访、案例复盘，确认后才计入"})
        if _is_mentor(user):
            tiles.append({"label": "我的学员", "url": url_for("mentoring.dashboard"),
                          "description": "学员进度、本月活动、逾期事项；记录带教活动"})
        if has_permission(user, Permission.MANAGE_PAIRINGS):
            tiles.append({"label": "结对管理", "url": url_for("mentoring.pairings"),
                          "description": "建立、结束老带新结对；新人导师推荐"})
            tiles.append({"label": "结对成效", "url": url_for("mentoring.outcomes"),
                          "description": "结对前后演练退回率、活动统计，按乡镇汇总"})
        if has_permission(user, Permission.VIEW_TEAM):
            tiles.append({"label": "网格队伍（1+N）", "url": url_for("mentoring.teams"),
                          "description": "各网格成员与网格长；未达配置要求的网格"})
        return {"title": "老带新与网格队伍", "tiles": tiles} if tiles else None

    register_section(40, section)

