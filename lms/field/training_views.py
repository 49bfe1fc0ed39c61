"""HTML pages of training needs: the remediation proposal (see, adjust, send), a worker's own 补训 list, the
outcome analysis with its method in plain Chinese, and its XLSX export."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.permissions import Permission, can, has_permission, require, scope_orgs, scoped_org
from lms.audit.services import record_after_read
from lms.errors import ValidationError
from lms.extensions import db
from lms.field import outcomes, remediation
from lms.home import register_nav, register_section
from lms.org.queries import list_subtree
from lms.reports.exports import iter_xlsx
from lms.web import client_addr

bp = Blueprint("field_training", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUTCOME_COLUMNS = ("分析", "指标", "窗口(天)", "参与比较的人数", "对照人数", "未纳入人数", "之前", "之后", "对照组之前",
                   "对照组之后", "差异（百分点）", "95%区间下限（百分点）", "95%区间上限（百分点）", "结论")
OUTCOME_WIDTHS = (16, 10, 10, 14, 10, 12, 10, 10, 12, 12, 14, 18, 18, 40)


def _date(value: str | None, label: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{label}“{value[:20]}”不是有效日期（格式 YYYY-MM-DD）", code="invalid_date") from None


def parse_params(args, user, perm: Permission) -> dict:
    """org, from, to, min_events, threshold from a form or query string (threshold in %); Chinese errors."""
    today = remediation.local_today()
    org = scoped_org(user, perm, args.get("org"))
    if org is None:
        roots = sorted(scope_orgs(user, perm), key=lambda o: o.path)
        if not roots:
            raise ValidationError("请选择单位", code="unknown_org")
        org = roots[0]
    start = _date(args.get("from"), "开始日期") or today - dt.timedelta(days=90)
    end = _date(args.get("to"), "结束日期") or today
    try:
        min_events = int((args.get("min_events") or remediation.MIN_EVENTS))
    except (TypeError, ValueError):
        raise ValidationError("最少事件数须是整数", code="invalid_min_events") from None
    raw = (args.get("threshold") or "").strip().rstrip("%")
    try:
        threshold = float(raw) / 100 if raw else remediation.THRESHOLD
    except ValueError:
        raise ValidationError("问题占比阈值须是百分数，例如 10", code="invalid_threshold") from None
    remediation.check_params(min_events, threshold)
    remediation.check_period(start, end)
    return {"org": org, "start": start, "end": end, "min_events": min_events, "threshold": threshold}


def _units(user, perm: Permission) -> list:
    seen, units = set(), []
    for root in sorted(scope_orgs(user, perm), key=lambda o: o.path):
        for unit in list_subtree(root):
            if unit.id not in seen and unit.kind.value != "grid":
                seen.add(unit.id)
                units.append((unit.code, f"{'　' * (unit.depth - root.depth)}{unit.name}"))
    return units


@bp.route("/field/remediation", methods=["GET", "POST"])
@require(Permission.REMEDIATE)
def remediation_page():
    source = request.form if request.method == "POST" else request.args
    error, rows, params = None, [], None
    try:
        params = parse_params(source, current_user, Permission.REMEDIATE)
    except ValidationError as exc:
        error = exc.message
    if params and request.method == "POST":
        try:
            due = _date(request.form.get("due"), "截止日期")
            keep: dict[int, set] = {}
            for value in request.form.getlist("item"):
                uid, _, rest = value.partition(":")
                kind, _, code = rest.partition(":")
                if uid.isdigit() and kind and code:
                    keep.setdefault(int(uid), set()).add((kind, code))
            people = {int(v) for v in request.form.getlist("person") if v.isdigit()}
            keep = {uid: items for uid, items in keep.items() if uid in people}
            if not keep:
                raise ValidationError("没有勾选任何人或训练项目，未发送", code="nothing_selected")
            sent = remediation.send(current_user, params["org"], params["start"], params["end"],
                                    min_events=params["min_events"], threshold=params["threshold"], due=due,
                                    keep=keep, client_addr=client_addr())
            db.session.commit()
            flash(f"已向 {len(sent)} 人发送补训任务，每人的收件箱都有通知。", "success")
            return redirect(url_for("field_training.remediation_page", org=params["org"].code,
                                    **{"from": params["start"].isoformat(), "to": params["end"].isoformat()},
                                    min_events=params["min_events"], threshold=f"{params['threshold'] * 100:g}"))
        except ValidationError as exc:
            db.session.rollback()
            error = exc.message
    if params:
        rows = remediation.proposal_for(params["org"], params["start"], params["end"],
                                        min_events=params["min_events"], threshold=params["threshold"])
    today = remediation.local_today()
    return render_template(
        "field/remediation.html", rows=rows, error=error, units=_units(current_user, Permission.REMEDIATE),
        params=params, default_due=(today + dt.timedelta(days=remediation.DUE_DAYS)).isoformat(),
        today=today.isoformat(), form=source), (422 if error and not rows and params is None else 200)


@bp.get("/field/remediation/mine")
@login_required
def my_remediation():
    return render_template("field/remediation_mine.html", items=remediation.my_remediations(current_user),
                           today=remediation.local_today())


def _outcome_request():
    org = scoped_org(current_user, Permission.VIEW_STATS, request.args.get("org"))
    if org is None:
        roots = sorted(scope_orgs(current_user, Permission.VIEW_STATS), key=lambda o: o.path)
        org = roots[0] if roots else None
    window = request.args.get("window", "").strip()
    try:
        window_days = int(window) if window else outcomes.WINDOW_DAYS
    except ValueError:
        raise ValidationError("窗口天数须是整数", code="invalid_window") from None
    if not 14 <= window_days <= 365:
        raise ValidationError("窗口天数须在 14 到 365 之间", code="invalid_window")
    return org, window_days


def _app_course() -> str:
    return current_app.config.get("FIELD_APP_COURSE", outcomes.APP_COURSE)


@bp.get("/field/outcomes")
@require(Permission.VIEW_STATS)
def outcomes_page():
    error, results, org, window_days = None, [], None, outcomes.WINDOW_DAYS
    try:
        org, window_days = _outcome_request()
    except ValidationError as exc:
        error = exc.message
    if org is not None and error is None:
        results = [(a, r, outcomes.summary(a, r)) for a, r in
                   outcomes.analyses(org, window_days=window_days, app_course=_app_course())]
    return render_template("field/outcomes.html", results=results, error=error, org=org, window_days=window_days,
                           units=_units(current_user, Permission.VIEW_STATS), percent=outcomes.percent,
                           k=outcomes.K, min_events=outcomes.MIN_EVENTS, min_people=outcomes.MIN_PEOPLE,
                           boot=outcomes.BOOTSTRAP,
                           can_export=org is not None and can(current_user, Permission.EXPORT, org)), \
        422 if error else 200


def outcome_rows(results) -> list[list]:
    def pp(value):
        return None if value is None else round(value * 100, 2)

    return [[a.title, a.metric, r.window_days, r.treated, r.controls, r.left_out, pp(r.before), pp(r.after),
             pp(r.control_before), pp(r.control_after), pp(r.did), pp(r.ci_low), pp(r.ci_high),
             outcomes.summary(a, r)] for a, r in results]


@bp.get("/exports/field-outcomes.xlsx")
@require(Permission.EXPORT)
def outcomes_xlsx():
    org = scoped_org(current_user, Permission.EXPORT, request.args.get("org"))
    if org is None:
        roots = sorted(scope_orgs(current_user, Permission.EXPORT), key=lambda o: o.path)
        if not roots:
            raise ValidationError("请选择单位", code="unknown_org")
        org = roots[0]
    window = request.args.get("window", "").strip()
    if window and not (window.isdigit() and 14 <= int(window) <= 365):
        raise ValidationError("窗口天数须是 14 到 365 之间的整数", code="invalid_window")
    window_days = int(window) if window else outcomes.WINDOW_DAYS
    body = outcome_rows(outcomes.analyses(org, window_days=window_days, app_course=_app_course()))
    record_after_read("export.field_outcomes", actor=current_user, target_type="export", target=org.code,
                      client_addr=client_addr(), org=org, details={"org": org.code, "rows": len(body)})
    stamp = remediation.local_today().strftime("%Y%m%d")
    return Response(iter_xlsx(OUTCOME_COLUMNS, body, "培训成效", widths=OUTCOME_WIDTHS), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="field-outcomes-{stamp}.xlsx"',
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def dashboard_tile(org) -> dict | None:
    """The dashboard's 培训成效（现场） card: one sentence per analysis (reports reads it through a provider)."""
    if org is None or not can(current_user, Permission.VIEW_STATS, org):
        return None
    url = url_for("field_training.outcomes_page", org=org.code)
    # The analysis takes seconds for a county: the card shows what the outcome page computed, never computes.
    results = outcomes.last_computed(org) if _app_course() == outcomes.APP_COURSE else None
    if results is None:
        return {"title": "培训成效（现场上报）", "url": url,
                "lines": ["补训、老带新、App 操作课程前后的退回率和超时率与对照组的比较：打开明细页计算（县级数据约需几秒）"]}
    if not any(r.treated or r.left_out for _, r in results):
        return None
    return {"title": "培训成效（现场上报）", "lines": [outcomes.summary(a, r) for a, r in results], "url": url}


def register_home() -> None:
    register_nav(72, "补训", "field_training.remediation_page",
                 lambda user: has_permission(user, Permission.REMEDIATE), group="manage")

    def section(user):
        tiles = []
        if getattr(user, "id", None) is not None and remediation.has_remediation(user):
            tiles.append({"label": "我的补训", "url": url_for("field_training.my_remediation"),
                          "description": "针对您在网格平台上报中常见问题的演练和课程"})
        if has_permission(user, Permission.REMEDIATE):
            tiles.append({"label": "补训建议", "url": url_for("field_training.remediation_page"),
                          "description": "按现场上报的退回、超时、重复，给每人推荐演练和课程，调整后发送"})
        if has_permission(user, Permission.VIEW_STATS):
            tiles.append({"label": "培训成效（现场）", "url": url_for("field_training.outcomes_page"),
                          "description": "补训、老带新、App 操作课程前后的退回率和超时率，与对照组比较"})
        return {"title": "现场问题与补训", "tiles": tiles} if tiles else None

    register_section(46, section)
