"""HTML pages: drill list, report form with feedback and history, report detail, review queue, editor, stats."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms import codes
from lms.accounts.masking import mask_phone
from lms.accounts.models import User
from lms.accounts.permissions import Permission, authorize, can, require, scope_orgs, sees_pii
from lms.audit.services import record_after_read
from lms.api import page_args
from lms.contentfile import ContentErrors
from lms.courses.render import MarkdownRefused, render_markdown, trusted
from lms.db import SHANGHAI, utcnow
from lms.drills import queries, services
from lms.drills import stats as drill_stats
from lms.drills.content import (  # noqa: F401  (RULE_LABELS: importers of views keep working)
    FIELD_LABELS, FORM_FIELDS, RULE_LABELS, RULE_NAMES, parse_drill, validate_model_report,
)
from lms.drills.compare import accepted_alternatives, compare_reports, model_unlocked
from lms.drills.definition import from_definition, to_yaml
from lms.drills.synonyms import propose
from lms.drills.forms import (
    NUMBER_FIELDS, RESERVED_CODES, definition_from_form, editor_values, form_from_definition,
)
from lms.drills.models import VERDICT_LABELS, Drill, DrillReport, Verdict
from lms.drills.rules import evaluate
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.org.models import OrgKind, OrgUnit
from lms.org.queries import get_org, list_subtree
from lms.reports.exports import iter_csv, iter_xlsx
from lms.web import client_addr, offline_capable

bp = Blueprint("drills", __name__)
offline_capable("drills.show")  # the report form reopens without network, for its user only (sw.js)

_SELECTS = {"event_type": "event_types", "department": "departments", "urgency": "urgencies"}
_TEXTAREAS = {"description": 6, "demand": 2, "measures": 3}
_HINTS = {
    "occurred_at": "写清日期和钟点，例如“6月3日晚上10点左右”",
    "location": "写到楼栋、单元、门牌号，或村民小组、门牌号",
    "parties": "写出姓名或“某某”，以及身份（反映人、业主、负责人……）",
    "description": "用自己的话写清事情经过，不要照抄情景材料",
}


# ------------------------------------------------------------------ helpers

def _drill_or_404(code: str) -> Drill:
    drill = queries.get_drill(code)
    if drill is None or not queries.is_visible(current_user, drill):
        raise NotFound("找不到这个演练")
    return drill


def _report_or_404(report_id: int) -> DrillReport:
    report = queries.get_report(report_id)
    if report is None:
        raise NotFound("找不到这份演练报告")
    return report


def _can_read_report(report: DrillReport) -> bool:
    return report.user_id == current_user.id or can(current_user, Permission.REVIEW_DRILLS, report.org)


def form_fields(values: dict, checks: list | None) -> list[dict]:
    """The report form's controls with their values and the failed checks' messages at each field."""
    lists = services_form_lists()
    messages = {name: [] for name in FORM_FIELDS}
    for check in checks or ():
        if not check.get("passed") and check.get("field") in messages:
            messages[check["field"]].append(check["message"])
    fields = []
    for name in FORM_FIELDS:
        value = values.get(name, "") or ""
        field = {"name": name, "label": FIELD_LABELS[name], "id": f"f-{name}", "value": value,
                 "errors": messages[name], "hint": _HINTS.get(name, ""),
                 "kind": "select" if name in _SELECTS else "textarea" if name in _TEXTAREAS else "text",
                 "rows": _TEXTAREAS.get(name, 1)}
        if name in _SELECTS:
            options = list(lists[_SELECTS[name]])
            if value and value not in options:
                options.append(value)  # keep what the worker sent even if the lists changed since
            field["options"] = options
        fields.append(field)
    return fields


def services_form_lists() -> dict:
    taxonomy = queries.get_taxonomy_or_empty()
    return {"event_types": taxonomy.event_types, "departments": taxonomy.departments,
            "urgencies": taxonomy.urgencies}


def feedback(report: DrillReport | None) -> dict | None:
    """Summary shown above the form: verdict, score, every failed rule."""
    if report is None:
        return None
    failed = [{"rule": c["rule"], "label": RULE_LABELS.get(c["rule"], c["rule"]), "message": c["message"],
               "anchor": f"f-{c['field']}" if c.get("field") in FORM_FIELDS else None}
              for c in report.checks if not c.get("passed")]
    reviews = [{"verdict": VERDICT_LABELS[r.verdict], "score": r.score, "comment": r.comment,
                "reviewer": r.reviewer.name if r.reviewer else "", "at": r.created_at} for r in report.reviews]
    return {"id": report.id, "verdict": report.verdict.value, "verdict_label": VERDICT_LABELS[report.verdict],
            "score": report.score, "attempt": report.attempt, "failed": failed, "reviews": reviews,
            "created_at": report.created_at}


COMPARE_LOCKED = "报告通过以后，或者被退回两次以后，这里会显示示范报告，和你的报告逐栏对照。"


def model_comparison(drill: Drill, mine: list[DrillReport], subject: DrillReport | None) -> dict | None:
    """The subject report beside the model report of the version it was graded against, once unlocked."""
    if subject is None or not model_unlocked(r.verdict.value for r in mine):
        return None
    version = next((v for v in drill.versions if v.version == subject.drill_version), None)
    parsed = from_definition(version.definition if version else drill.definition, drill.code)
    rows = compare_reports(subject.fields, parsed.model_report, checks=subject.checks,
                           accepted=accepted_alternatives(parsed.answer))
    differing = sum(row.differs for row in rows)
    accepted = any(r.verdict == Verdict.accepted for r in mine)
    return {"rows": rows, "attempt": subject.attempt,
            "why": "你在这个演练中已有报告通过。" if accepted else "你在这个演练中已被退回两次。",
            "summary": f"共 {len(rows)} 栏，{differing} 栏与示范报告写法不同。" if differing
            else f"共 {len(rows)} 栏，都与示范报告一致。"}


def history(reports: list[DrillReport], code: str) -> list[dict]:
    return [{"id": r.id, "attempt": r.attempt, "verdict": r.verdict.value, "verdict_label": VERDICT_LABELS[r.verdict],
             "score": r.score, "created_at": r.created_at, "reviewed": bool(r.reviews),
             "url": url_for("drills.show", code=code, report=r.id) + "#feedback"} for r in reports]


# ------------------------------------------------------------------ learner pages

@bp.get("/drills")
@login_required
def index():
    latest = queries.latest_by_drill(current_user)
    rows = []
    for drill in queries.list_visible(current_user):
        last = latest.get(drill.id)
        rows.append({"code": drill.code, "title": drill.title, "url": url_for("drills.show", code=drill.code),
                     "last": {"verdict": last.verdict.value, "label": VERDICT_LABELS[last.verdict], "score": last.score,
                              "attempt": last.attempt} if last else None})
    rows.sort(key=current_app.extensions.get("drill_order_key", lambda user: lambda row: 0)(current_user))  # lms.field
    return render_template("drills/index.html", rows=rows)


@bp.get("/drills/<code>")
@login_required
def show(code):
    drill = _drill_or_404(code)
    report = None
    if request.args.get("report"):
        report = queries.get_report(request.args["report"])
        if report is None or report.user_id != current_user.id or report.drill_id != drill.id:
            raise NotFound("找不到这份演练报告")
    return _render_form(drill, report, report.fields if report else {})


def _render_form(drill: Drill, report: DrillReport | None, values: dict, status: int = 200):
    mine = queries.list_my_reports(current_user, drill)
    comparison = model_comparison(drill, mine, report or (mine[0] if mine else None))
    return render_template(
        "drills/drill.html", drill=drill, scenario_html=trusted(drill.scenario_html), comparison=comparison,
        compare_locked=COMPARE_LOCKED if mine and comparison is None else None,
        fields=form_fields(values, report.checks if report else None), feedback=feedback(report),
        history=history(mine, drill.code), client_id=str(uuid.uuid4()),
        can_report=queries.can_report(current_user, drill),
        api_url=url_for("api.submit_report", code=drill.code)), status


@bp.post("/drills/<code>")
@login_required
def submit(code):
    drill = _drill_or_404(code)
    if not queries.can_report(current_user, drill):
        raise Forbidden("这个演练尚未发布、已停用，或您的角色不能参加")
    report, _ = services.submit_report(current_user, drill, request.form, client_id=request.form.get("client_id"))
    db.session.commit()
    return redirect(url_for("drills.show", code=drill.code, report=report.id) + "#feedback")


@bp.get("/drill-reports/<int:report_id>")
@login_required
def report_detail(report_id):
    report = _report_or_404(report_id)
    if not _can_read_report(report):
        raise Forbidden("没有权限查看这份演练报告")
    return _render_report(report)


def synonym_proposals(report: DrillReport) -> dict | None:
    """For a trainer's accepting override of a report key_facts returned: the worker's words per missed fact."""
    if report.verdict != Verdict.accepted or not report.reviews or not any(
            c.get("rule") == "key_facts" and not c.get("passed") for c in report.checks):
        return None
    drill = report.drill
    proposals = propose(report.fields, from_definition(drill.definition, drill.code))
    if not proposals:
        return None
    return {"proposals": proposals, "one_click": services.can_add_synonyms(drill)
            and can(current_user, Permission.AUTHOR_CONTENT, drill.org),
            "from_file": not services.can_add_synonyms(drill), "source_path": drill.source_path}


def _render_report(report: DrillReport, *, error: str | None = None, values: dict | None = None, status: int = 200):
    version = next((v for v in report.drill.versions if v.version == report.drill_version), None)
    reviewer = can(current_user, Permission.REVIEW_DRILLS, report.org)
    return render_template(
        "drills/report.html", report=report, feedback=feedback(report), error=error,
        review_values=values or {"verdict": report.verdict.value, "score": report.score, "comment": ""},
        scenario_html=trusted(version.scenario_html if version else report.drill.scenario_html),
        fields=[{"label": FIELD_LABELS[n], "value": report.fields.get(n, ""), "id": f"f-{n}",
                 "errors": [c["message"] for c in report.checks if not c.get("passed") and c.get("field") == n]}
                for n in FORM_FIELDS],
        checks=[{"label": RULE_LABELS.get(c["rule"], c["rule"]), "passed": c["passed"], "message": c["message"]}
                for c in report.checks],
        reviewer=reviewer, worker=report.user, org=report.org,
        synonyms=synonym_proposals(report) if reviewer else None,
        drill_url=url_for("drills.show", code=report.drill.code) if report.user_id == current_user.id else None,
    ), status


# ------------------------------------------------------------------ trainer review

@bp.post("/drill-reports/<int:report_id>/review")
@login_required
def review(report_id):
    report = _report_or_404(report_id)
    authorize(current_user, Permission.REVIEW_DRILLS, report.org)
    try:
        services.review_report(current_user, report, request.form.get("verdict"), request.form.get("score"),
                               request.form.get("comment"), client_addr=client_addr())
    except ValidationError as exc:
        db.session.rollback()
        return _render_report(report, error=exc.message, status=422,
                              values={k: request.form.get(k, "") for k in ("verdict", "score", "comment")})
    db.session.commit()
    flash("已保存复核结论，网格员可以看到您的评语。", "success")
    return redirect(url_for("drills.report_detail", report_id=report_id))


@bp.post("/drill-reports/<int:report_id>/synonyms")
@login_required
def add_synonym(report_id):
    report = _report_or_404(report_id)
    authorize(current_user, Permission.REVIEW_DRILLS, report.org)
    authorize(current_user, Permission.AUTHOR_CONTENT, report.drill.org)
    try:
        services.add_synonym(current_user, report.drill, request.form.get("fact", ""), request.form.get("words"),
                             report=report, client_addr=client_addr())
    except (ValidationError, Conflict) as exc:
        db.session.rollback()
        return _render_report(report, error=exc.message, status=exc.status)
    db.session.commit()
    flash(f"已把“{request.form.get('words', '').strip()}”加为“{request.form.get('fact', '')}”的说法"
          f"（演练第 {report.drill.version} 版），以后的报告这样写就算写到了。", "success")
    return redirect(url_for("drills.report_detail", report_id=report_id) + "#synonyms")


def _scoped_units(perm: Permission) -> list[OrgUnit]:
    units = {}
    for root in scope_orgs(current_user, perm):
        for unit in list_subtree(root):
            if unit.kind != OrgKind.grid:
                units[unit.id] = unit
    return sorted(units.values(), key=lambda u: u.path)


@bp.get("/drills/review")
@require(Permission.REVIEW_DRILLS)
def review_queue():
    page, per_page = page_args()
    drill = queries.get_drill(request.args.get("drill", "")) if request.args.get("drill") else None
    org = get_org(request.args.get("org", "")) if request.args.get("org") else None
    if org is not None:
        authorize(current_user, Permission.REVIEW_DRILLS, org)
    verdict = request.args.get("verdict") or None
    reports, has_next = queries.review_queue(current_user, drill=drill, verdict=verdict, org=org, page=page,
                                             per_page=per_page)
    args = {k: v for k, v in (("drill", request.args.get("drill")), ("verdict", verdict),
                              ("org", request.args.get("org"))) if v}
    drills = queries.list_authored(current_user) or queries.list_visible(current_user)
    return render_template(
        "drills/review_queue.html",
        rows=[{"id": r.id, "url": url_for("drills.report_detail", report_id=r.id), "drill": r.drill.title,
               "worker": r.user.name, "username": r.user.username, "org": r.org.name, "attempt": r.attempt,
               "verdict": r.verdict.value, "verdict_label": VERDICT_LABELS[r.verdict], "score": r.score,
               "reviewed": bool(r.reviews), "created_at": r.created_at} for r in reports],
        drills=[(d.code, d.title) for d in drills], units=[(u.code, u.name) for u in _scoped_units(
            Permission.REVIEW_DRILLS)],
        selected=args, page=page, has_next=has_next, page_args=lambda p: urlencode(args | {"page": p}))


# ------------------------------------------------------------------ authoring

@bp.get("/drills/manage")
@require(Permission.AUTHOR_CONTENT)
def manage():
    rows = [{"code": d.code, "title": d.title, "org": d.org.name, "version": d.version,
             "state": "已停用" if d.is_retired else "已发布" if d.is_published else "草稿",
             "origin": "网页" if d.origin.value == "web" else ("文件（已脱钩）" if d.is_detached else "文件"),
             "edit": url_for("drills.edit", code=d.code)} for d in queries.list_authored(current_user)]
    return render_template("drills/manage.html", rows=rows)


def _scenario_preview(text: str):
    # A scenario the renderer refuses keeps the form (its save error says why) with an empty preview.
    try:
        return trusted(render_markdown(text))
    except MarkdownRefused:
        return trusted("")


def _editor_context(values: dict, *, drill: Drill | None, errors: list[str], checks: list | None,
                    model_accepted: bool | None):
    taxonomy = queries.get_taxonomy_or_empty()
    return dict(
        values=values, drill=drill, errors=errors, checks=checks, model_accepted=model_accepted,
        taxonomy=taxonomy, units=[(u.code, u.name) for u in _scoped_units(Permission.AUTHOR_CONTENT)],
        form_fields=[(n, FIELD_LABELS[n]) for n in FORM_FIELDS], rules=[(r, RULE_LABELS[r]) for r in RULE_NAMES],
        preview_html=_scenario_preview(values.get("scenario") or ""), number_fields=NUMBER_FIELDS,
        versions=[{"version": v.version, "at": v.created_at} for v in reversed(drill.versions)] if drill else [],
    )


def _new_values() -> dict:
    root = scope_orgs(current_user, Permission.AUTHOR_CONTENT)
    now = utcnow().astimezone(SHANGHAI).replace(second=0, microsecond=0)
    return form_from_definition({"org": root[0].code if root else "", "place_detail": "building",
                                 "reference_time": now.isoformat()})


@bp.route("/drills/new", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def new():
    return _editor(None)


@bp.route("/drills/<code>/edit", methods=["GET", "POST"])
@require(Permission.AUTHOR_CONTENT)
def edit(code):
    drill = queries.get_drill(code)
    if drill is None:
        raise NotFound("找不到这个演练")
    authorize(current_user, Permission.AUTHOR_CONTENT, drill.org)
    return _editor(drill)


def _editor(drill: Drill | None):
    template = "drills/edit.html"
    if request.method == "GET":
        values = form_from_definition(drill.definition) if drill else _new_values()
        checks, accepted = _model_checks(drill.definition) if drill else (None, None)
        return render_template(template, **_editor_context(values, drill=drill, errors=[], checks=checks,
                                                           model_accepted=accepted))
    code = drill.code if drill else (request.form.get("code") or "").strip()
    if drill is None and not codes.CODE.match(code):
        # Never typed by hand: a blank (or Chinese) code comes from the title (噪声扰民 → zsrm-1).
        code = codes.generate(code or request.form.get("title") or "", lambda c: queries.get_drill(c) is not None,
                              max_len=80, fallback="yl")
    data, errors = definition_from_form(request.form, code=code)
    values = editor_values(request.form) | {"code": code}
    if code in RESERVED_CODES:
        errors.append(f"代码“{code}”是系统保留字，请换一个")
    if len(code) > 80:
        errors.append("代码太长：最多 80 个字符")
    if len(data["title"]) > 200:
        errors.append("标题太长：最多 200 个字")
    org = get_org(data.get("org") or "")
    if org is None:
        errors.append("请选择所属单位")
    else:
        authorize(current_user, Permission.AUTHOR_CONTENT, org)
    parsed, checks, accepted = None, None, None
    if not errors:
        try:
            parsed = parse_drill(to_yaml(data), "网页表单", queries.get_taxonomy_or_empty())
        except ContentErrors as exc:
            errors.extend(e.message for e in exc.errors)
    if parsed is not None:
        checks, accepted = _model_checks_parsed(parsed)
    publish = request.form.get("action") == "publish"
    if not errors and publish and not accepted:
        errors.append("示范报告未通过全部检查，不能发布。请按下面的检查结果修改示范报告或答案，或先保存为草稿。")
    if errors:
        return render_template(template, **_editor_context(values, drill=drill, errors=errors, checks=checks,
                                                           model_accepted=accepted)), 422
    try:
        saved = services.save_authored_drill(current_user, drill, parsed, org, publish=publish,
                                             client_addr=client_addr())
    except (ValidationError, Conflict) as exc:
        db.session.rollback()
        return render_template(template, **_editor_context(values, drill=drill, errors=[exc.message], checks=checks,
                                                           model_accepted=accepted)), exc.status
    db.session.commit()
    flash(f"已保存第 {saved.version} 版" + ("并发布" if publish else "（草稿，学员看不到）"), "success")
    return redirect(url_for("drills.edit", code=saved.code))


def _model_checks_parsed(parsed) -> tuple[list[dict], bool]:
    taxonomy = queries.get_taxonomy_or_empty()
    evaluation = evaluate(dict(parsed.model_report), parsed)
    problems = validate_model_report(parsed, taxonomy)
    checks = [{"label": RULE_LABELS[c.rule], "rule": c.rule, "passed": c.passed, "message": c.message}
              for c in evaluation.checks]
    return checks, not problems


def _model_checks(definition: dict) -> tuple[list[dict], bool]:
    from lms.drills.definition import from_definition  # only the stored case needs rebuilding
    return _model_checks_parsed(from_definition(definition))


@bp.post("/drills/preview/check")
@require(Permission.AUTHOR_CONTENT)
def check_model():
    """检查范文: the editor's fields as sent (not saved) → the drill rules run on its model report, as JSON."""
    if not request.form:
        return jsonify(error={"code": "bad_request", "message": "请求体应为编辑表单的字段"}), 400
    data, errors = definition_from_form(request.form, code="check-only")
    if not errors:
        try:
            parsed = parse_drill(to_yaml(data), "网页表单", queries.get_taxonomy_or_empty())
        except ContentErrors as exc:
            errors = [e.message for e in exc.errors]
    if errors:
        return jsonify(accepted=False, errors=errors, checks=[])
    checks, accepted = _model_checks_parsed(parsed)
    return jsonify(accepted=accepted, errors=[], checks=checks)


@bp.post("/drills/preview")
@require(Permission.AUTHOR_CONTENT)
def preview():
    text = request.get_json(silent=True)
    text = text.get("markdown") if isinstance(text, dict) else None
    if not isinstance(text, str):
        return jsonify(error={"code": "bad_request", "message": "请求体应为 {\"markdown\": \"…\"}"}), 400
    return jsonify(html=str(render_markdown(text[:50_000])))


# ------------------------------------------------------------------ statistics

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(value: str | None, label: str) -> dt.date | None:
    if not value:
        return None
    if not _DATE.match(value):
        raise ValidationError(f"{label}应写成 2026-06-01 这样的日期")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{label}“{value}”不是有效日期") from None


def _stats_request(perm: Permission = Permission.VIEW_STATS):
    """(org, start, end, period, units) of the stats page and export; 422 bad dates or period, 403/404 org."""
    units = _scoped_units(perm)
    code = (request.args.get("org") or (units[0].code if units else "")).strip()
    org = get_org(code[:32])
    if org is None:
        raise NotFound("找不到这个单位")
    authorize(current_user, perm, org)
    start_day, end_day = _day(request.args.get("from"), "开始日期"), _day(request.args.get("to"), "结束日期")
    if start_day and end_day and end_day < start_day:
        raise ValidationError("结束日期不能早于开始日期")
    period = request.args.get("period") or "month"
    if period not in drill_stats.PERIODS:
        raise ValidationError("统计周期（period）只能是 month（按月）或 week（按周）", code="invalid_period")
    start = dt.datetime.combine(start_day, dt.time(), SHANGHAI) if start_day else None
    end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time(), SHANGHAI) if end_day else None
    return org, start, end, period, units


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@bp.get("/drills/stats")
@require(Permission.VIEW_STATS)
def stats():
    org, start, end, period, units = _stats_request()
    data = drill_stats.breakdown(org, start, end, user=current_user, periods=(period,))
    selected = {"org": org.code, "from": request.args.get("from", ""), "to": request.args.get("to", ""),
                "period": period}
    exports = [(label, url_for("drills.stats_export", fmt=fmt, **selected, view=view))
               for view, label in EXPORT_VIEW_LABELS.items() for fmt in ("xlsx", "csv")]
    return render_template(
        "drills/stats.html", org=org, units=[(u.code, u.name) for u in units], total=data["total"], missed=data["missed"],
        rules=[row | {"label": RULE_LABELS[row["rule"]]} for row in data["by_rule"]],
        tables=[("按乡镇（街道）、村（社区）：填报时所在单位", "unit", data["by_unit"]),
                (("按月" if period == "month" else "按周（ISO 周）"), "period", data[f"by_{period}"]),
                ("按演练", "drill", data["by_drill"]), ("按网格员", "worker", data["by_worker"])],
        rule_labels=[(r, RULE_LABELS[r]) for r in RULE_NAMES], percent=_percent, exports=exports,
        periods=(("month", "按月"), ("week", "按周")), selected=selected)


# ------------------------------------------------------------------ statistics export

EXPORT_VIEW_LABELS = {"worker": "按网格员", "unit": "按单位", "drill": "按演练", "period": "按周期", "rule": "按规则"}
_COUNT_HEADINGS = ("上报份数", "退回份数", "退回率(%)", "首次上报份数", "首次退回份数", "首次退回率(%)")
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pct(rate: float | None):
    return None if rate is None else round(rate * 100, 1)


def _count_cells(row: dict) -> list:
    return [row["reports"], row["returned"], _pct(row["return_rate"]), row["first_reports"],
            row["first_returned"], _pct(row["first_return_rate"])] + [row["by_rule"][r] for r in RULE_NAMES]


def export_table(view: str, data: dict, period: str, phones: dict[str, str] | None = None
                 ) -> tuple[list[str], list[list]]:
    """(header, rows) of one statistics view; ``phones`` maps 工号 to the phone as the viewer may see it."""
    rule_headings = [f"未通过：{RULE_LABELS[r]}" for r in RULE_NAMES]
    if view == "rule":
        header = ["规则", "规则名称", "未通过份数", "占上报份数(%)", "首次上报未通过份数", "占首次上报份数(%)",
                  "其中培训老师复核份数", "复核后改判通过份数", "准确率(%)"]
        return header, [[r["rule"], RULE_LABELS[r["rule"]], r["failed"], _pct(r["rate"]), r["first_failed"],
                         _pct(r["first_rate"]), r["reviewed"], r["overturned"], _pct(r["precision"])]
                        for r in data["by_rule"]]
    if view == "unit":
        header = ["单位编码", "单位", "类型", "上级单位编码", *_COUNT_HEADINGS, *rule_headings]
        return header, [[r["key"], r["label"], "乡镇（街道）" if r["kind"] == "township" else "村（社区）", r["parent"],
                         *_count_cells(r)] for r in data["by_unit"]]
    if view == "drill":
        return ["演练代码", "演练", *_COUNT_HEADINGS, *rule_headings], \
            [[r["key"], r["label"], *_count_cells(r)] for r in data["by_drill"]]
    if view == "period":
        heading = "月份" if period == "month" else "ISO 周"
        return [heading, "名称", *_COUNT_HEADINGS, *rule_headings], \
            [[r["key"], r["label"], *_count_cells(r)] for r in data[f"by_{period}"]]
    phones = phones or {}
    return ["工号", "姓名", "手机号", "现所在单位", *_COUNT_HEADINGS, *rule_headings], \
        [[r["key"], r["label"], phones.get(r["key"], ""), r["org"], *_count_cells(r)] for r in data["by_worker"]]


def _visible_phones(usernames: list[str]) -> dict[str, str]:
    """Phones of these workers, masked unless the viewer holds pii over the worker's unit."""
    pii: dict[int, bool] = {}
    phones = {}
    for start in range(0, len(usernames), 500):
        query = sa.select(User.username, User.phone, User.org_id).where(User.username.in_(usernames[start:start + 500]))
        for username, phone, org_id in db.session.execute(query):
            if org_id not in pii:
                pii[org_id] = sees_pii(current_user, db.session.get(OrgUnit, org_id))
            phones[username] = (phone or "") if pii[org_id] else mask_phone(phone)
    return phones


@bp.get("/drills/stats.<fmt>")
@require(Permission.VIEW_STATS)
def stats_export(fmt):
    if fmt not in ("xlsx", "csv"):
        raise NotFound("只能导出 xlsx 或 csv")
    org, start, end, period, _ = _stats_request()
    view = request.args.get("view") or "worker"
    if view not in EXPORT_VIEW_LABELS:
        raise ValidationError("导出内容（view）只能是 " + "、".join(EXPORT_VIEW_LABELS), code="invalid_view")
    data = drill_stats.breakdown(org, start, end, user=current_user, periods=(period,))
    phones = _visible_phones([r["key"] for r in data["by_worker"]]) if view == "worker" else None
    header, rows = export_table(view, data, period, phones)
    record_after_read("export.drill_stats", actor=current_user, target_type="export", target=f"drills/stats.{fmt}",
                      org=org, client_addr=client_addr(),
                      details={"org": org.code, "from": request.args.get("from") or None,
                               "to": request.args.get("to") or None, "view": view, "period": period,
                               "rows": len(rows)})
    safe = "".join(ch for ch in org.code if ch.isascii() and (ch.isalnum() or ch in "-_")) or "org"
    filename = f"drill-stats-{view}-{safe}.{fmt}"
    if fmt == "csv":
        body, mimetype = iter_csv(header, rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = iter_xlsx(header, rows, f"演练退回率{EXPORT_VIEW_LABELS[view]}"), _XLSX
    # The rows are computed already: the body needs no request context while it streams.
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})
