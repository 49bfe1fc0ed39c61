"""Statistics per org unit: the /stats page and GET /api/v1/stats. Blueprint `reports` (exports may add routes)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from lms.accounts.permissions import Permission, authorize, can, require, scope_orgs
from lms.api import bp as api_bp
from lms.api import document
from lms.db import SHANGHAI, utcnow
from lms.errors import Forbidden, NotFound, ValidationError
from lms.org.models import KIND_LABELS
from lms.org.queries import get_org, list_subtree
from lms.reports import dashboard
from lms.reports.stats import Source, _provider, default_period, org_stats

bp = Blueprint("reports", __name__)

#: (source key, field, column heading, format) — the county report's figures first
COLUMNS = [
    ("trainings", "sessions", "培训场次", "int"),
    ("trainings", "attendances", "培训人次", "int"),
    ("trainings", "hours", "培训学时", "hours"),
    ("courses", "assigned", "指派课程（人·门）", "int"),
    ("courses", "completed", "已完成", "int"),
    ("courses", "completion_rate", "课程完成率", "rate"),
    ("quizzes", "attempts", "测验人次", "int"),
    ("quizzes", "pass_rate", "测验通过率", "rate"),
    ("drills", "reports", "模拟上报", "int"),
    ("drills", "return_rate", "退回率", "rate"),
    ("certificates", "valid", "有效证书", "int"),
    ("certificates", "expiring_30", "30 天内到期", "int"),
    ("mentoring", "pairings", "老带新结对", "int"),
    ("mentoring", "activities_confirmed", "已确认带教活动", "int"),
]

RULE_LABELS = {"required_fields": "要素不全", "time_specific": "时间不具体", "place_specific": "地点不具体",
               "parties_named": "当事人不明", "key_facts": "关键事实遗漏", "no_fabrication": "编造信息",
               "department": "责任部门错误", "urgency": "紧急程度错误", "description_quality": "描述不清",
               "event_type": "事件类型错误", "demand_specific": "诉求笼统", "measures_specific": "措施笼统",
               "notified": "未报警或未报告综治中心"}

_PARAMS = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
           for n, d in (("org", "组织编码，默认本人统计权限范围的最上级单位"), ("from", "YYYY-MM-DD，默认 6 个月前"),
                        ("to", "YYYY-MM-DD，默认今天"))]

_FIGURES = {"type": "object", "properties": {
    "trainings": {"type": "object", "properties": {"sessions": {"type": "integer"}, "attendances": {"type": "integer"},
                                                   "hours": {"type": "number"}}},
    "courses": {"type": "object", "properties": {"assigned": {"type": "integer"}, "completed": {"type": "integer"},
                                                 "completion_rate": {"type": "number"},
                                                 "due_later": {"type": "integer", "description": "只有所查单位本身带："
                                                               "截止日期在统计期之后的指派（人·门），计入其所在的统计期"}}},
    "quizzes": {"type": "object", "properties": {"attempts": {"type": "integer"}, "passed": {"type": "integer"},
                                                 "pass_rate": {"type": "number"}}},
    "drills": {"type": "object", "description": "模拟上报：退回率按全部提交和首次提交（first_*）计，规则按自动检查计；"
               "无提交时新增的比率为 null。只有所查单位本身带 by_unit（乡镇、村各一行）、by_month、by_week、by_drill、"
               "by_worker 各行（每行 key、label 及同样的数字）", "properties": {
        **{k: {"type": "integer"} for k in ("reports", "returned", "first_reports", "first_returned")},
        "return_rate": {"type": "number"}, "first_return_rate": {"type": ["number", "null"]},
        **{k: {"type": "object"} for k in ("by_rule", "by_rule_rate", "first_by_rule", "first_by_rule_rate")},
        **{k: {"type": "array", "items": {"type": "object"}}
           for k in ("by_unit", "by_month", "by_week", "by_drill", "by_worker")}}},
    "certificates": {"type": "object", "properties": {k: {"type": "integer"} for k in
                                                      ("valid", "expiring_30", "expiring_60", "expiring_90")}},
    "mentoring": {"type": "object", "properties": {"pairings": {"type": "integer"},
                                                   "activities_confirmed": {"type": "integer"}}},
    "certified": {"type": "object", "description": "截止日持有效证书的在岗网格员（含网格长）/ 在岗网格员",
                  "properties": {"workers": {"type": "integer"}, "certified": {"type": "integer"},
                                 "share": {"type": "number"}}},
    "org": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                             "kind": {"type": "string"}}}}}
_STATS_SCHEMA = {**_FIGURES, "properties": {
    **_FIGURES["properties"], "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
    "children": {"type": "array", "items": _FIGURES}}}


def _date(args, key: str, label: str) -> dt.date | None:
    value = args.get(key, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{label}格式应为 YYYY-MM-DD，例如 2026-03-01", code="invalid_date") from None


def stats_request(args, perm: Permission = Permission.VIEW_STATS) -> tuple:
    """(org, start, end) from org/from/to, checked: 422 bad dates, 404 unknown org, 403 out of perm's scope."""
    start, end = _date(args, "from", "起始日期 from"), _date(args, "to", "截止日期 to")
    default_start, default_end = default_period(utcnow().astimezone(SHANGHAI).date())
    if end is None:
        end = default_end
    if start is None:
        start = default_period(end)[0] if args.get("to") else default_start
    if start > end:
        raise ValidationError("起始日期不能晚于截止日期", code="invalid_period")
    code = args.get("org", "").strip()
    if code:
        org = get_org(code)
        if org is None:
            raise NotFound(f"组织编码 {code[:32]} 不存在")
    else:
        roots = sorted(scope_orgs(current_user, perm), key=lambda o: o.path)
        if not roots:
            raise Forbidden("没有权限导出统计" if perm is Permission.EXPORT else "没有权限查看统计")
        org = roots[0]
    authorize(current_user, perm, org)
    return org, start, end


@api_bp.get("/stats")
@document("/stats", "GET", summary="组织单位统计：培训场次/人次/学时、课程完成率、测验通过率、上报退回率、证书、持证率、老带新；含各直属下级",
          who="人事、培训师（管辖范围内）。每条记录计入当时所在的单位", response_schema=_STATS_SCHEMA,
          errors=(403, 404, 422), params=_PARAMS)
@login_required
def stats_api():
    org, start, end = stats_request(request.args)
    return jsonify(stats_figures(org, start, end))


#: rate field -> (part, whole): a rate over nothing counted reads 无数据, as on the dashboard
RATE_PARTS = {"completion_rate": ("completed", "assigned"), "pass_rate": ("passed", "attempts"),
              "return_rate": ("returned", "reports")}


def _cell(figures: dict, key: str, field: str, fmt: str) -> str:
    source = figures.get(key, {})
    value = source.get(field)
    if fmt == "rate" and field in RATE_PARTS:
        part, whole = RATE_PARTS[field]
        return dashboard.format_rate(source.get(part), source.get(whole), value).split("（")[0]
    if value is None:
        return "—"
    if fmt == "rate":
        return f"{value * 100:.1f}%"
    if fmt == "hours":
        return f"{value:g}"
    return str(value)


def _org_choices(user) -> list[SelectChoice]:
    choices, seen = [], set()
    for root in sorted(scope_orgs(user, Permission.VIEW_STATS), key=lambda o: o.path):
        for unit in list_subtree(root):
            if unit.id not in seen and unit.kind.value != "grid":
                seen.add(unit.id)
                choices.append(SelectChoice(unit.code, f"{'　' * (unit.depth - root.depth)}{unit.name}"))
    return choices


def _page_request():
    """The stats pages' org and period: (org, start, end, error, status); a bad query shows its message, 422."""
    try:
        org, start, end = stats_request(request.args)
    except ValidationError as exc:
        return None, *default_period(utcnow().astimezone(SHANGHAI).date()), exc.message, 422
    return org, start, end, None, 200


@bp.get("/stats")
@require(Permission.VIEW_STATS)
def stats_page():
    org, start, end, error, status = _page_request()
    result = org_stats(org, start, end) if org else None
    columns = [c for c in COLUMNS if result and c[0] in result]
    rows = []
    if result:
        for item, is_total in [(result, True)] + [(child, False) for child in result["children"]]:
            rows.append({"name": item["org"]["name"], "code": item["org"]["code"], "total": is_total,
                         "kind": KIND_LABELS.get(item["org"]["kind"], ""),
                         "cells": [_cell(item, *c[:2], c[3]) for c in columns]})
    by_rule = []
    if result and "drills" in result:
        by_rule = [(RULE_LABELS.get(rule, rule), count) for rule, count in result["drills"].get("by_rule", {}).items()]
    return render_template("reports/stats.html", org=org, rows=rows, headings=[c[2] for c in columns],
                           by_rule=by_rule, error=error, choices=_org_choices(current_user),
                           due_later=_due_later(org, result, start, end), progress_links=_progress_links(org, start, end),
                           start=start.isoformat(), end=end.isoformat(),
                           selected=org.code if org else request.args.get("org", "")), status


def _due_later(org, result: dict | None, start: dt.date, end: dt.date) -> dict | None:
    """The note under the course figures: pairs whose assignment falls due after the period count in theirs."""
    count = (result or {}).get("courses", {}).get("due_later") or 0
    if not count:
        return None
    later = end + dt.timedelta(days=183)
    return {"text": f"另有 {count}（人·门）指派的截止日期在 {end.isoformat()} 之后，按截止日期计入其所在的统计期，未计入本期。",
            "url": url_for("reports.stats_page", org=org.code, **{"from": (end + dt.timedelta(days=1)).isoformat(),
                                                                   "to": later.isoformat()})}


def _progress_links(org, start: dt.date, end: dt.date) -> list[dict]:
    """Links to each course's and quiz's progress (who has not finished), for the courses assigned to org."""
    if org is None or not can(current_user, Permission.VIEW_PROGRESS, org):
        return []
    from lms.progress.queries import KIND_LABELS, assigned_targets  # reports reads every feature
    return [{"label": f"{KIND_LABELS[t['kind']]}《{t['title']}》",
             "url": url_for("progress.page", kind=t["kind"], code=t["code"], org=org.code)}
            for t in assigned_targets(org)]


def stats_figures(org, start: dt.date, end: dt.date) -> dict:
    """org_stats plus each unit's certified share on the period's last day (API and dashboard alike)."""
    result = org_stats(org, start, end)
    # Optional like stats.py's sources: absent when the certification feature is not installed.
    certified_share = _provider(Source("certified", "lms.certification.queries", "certified_share"))
    if certified_share is not None:
        units = {org.code: org, **{child.code: child for child in org.children}}
        for item in [result, *result["children"]]:
            item["certified"] = certified_share(units[item["org"]["code"]], end)
    return result


@bp.get("/stats/dashboard")
@require(Permission.VIEW_STATS)
def dashboard_page():
    org, start, end, error, status = _page_request()
    result = stats_figures(org, start, end) if org else None
    headings, rows = dashboard.table(result) if result else ([], [])
    outcome_tile = _provider(Source("field_outcomes", "lms.field.training_views", "dashboard_tile"))  # lms.field
    return render_template("reports/dashboard.html", org=org, charts=dashboard.charts(result) if result else [],
                           outcome_tile=outcome_tile(org) if outcome_tile and org else None,
                           due_later=_due_later(org, result, start, end),
                           headings=headings, rows=rows, error=error, choices=_org_choices(current_user),
                           start=start.isoformat(), end=end.isoformat(),
                           selected=org.code if org else request.args.get("org", ""),
                           can_export=bool(org) and can(current_user, Permission.EXPORT, org)), status
