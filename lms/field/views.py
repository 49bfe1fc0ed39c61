"""Field pages: the export's upload (preview → confirm), 现场上报质量 per unit, 我的上报质量 for a worker."""
from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from lms.accounts.forms import ConfirmForm, UploadFileForm
from lms.accounts.permissions import Permission, authorize, has_permission, require, scope_orgs
from lms.accounts.services import get_upload, store_upload
from lms.db import SHANGHAI, utcnow, write_intent
from lms.errors import NotFound, ValidationError
from lms.extensions import db
from lms.field import queries, services
from lms.field.importer import COLUMNS, check_header
from lms.field.models import RETURN_REASONS
from lms.org.models import KIND_LABELS, OrgKind
from lms.org.queries import get_org, list_subtree
from lms.reports.dashboard import Bar, Group, bar_chart, format_rate
from lms.tabular import TabularError
from lms.web import client_addr

bp = Blueprint("field", __name__)

#: people are listed for a unit at or below these kinds (a county's list belongs in its townships' pages)
PEOPLE_KINDS = (OrgKind.township, OrgKind.village, OrgKind.grid)


# --- period and unit -------------------------------------------------------------------------------------------

def _day(args, key: str, label: str) -> dt.date | None:
    value = (args.get(key) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{label}格式应为 YYYY-MM-DD，例如 2026-03-01", code="invalid_date") from None


def period(args) -> tuple[dt.date, dt.date]:
    """from/to (local days, inclusive); by default the last 12 months up to today. 422 on bad dates."""
    end = _day(args, "to", "截止日期 to") or utcnow().astimezone(SHANGHAI).date()
    start = _day(args, "from", "起始日期 from") or end - dt.timedelta(days=364)
    if start > end:
        raise ValidationError("起始日期不能晚于截止日期", code="invalid_period")
    if (end - start).days > 3 * 366:
        raise ValidationError("统计期最长三年，请缩短日期范围", code="invalid_period")
    return start, end


def quality_org(user, code: str | None):
    """The unit a ?org= names (VIEW_TEAM in scope), or the user's top unit for it; None for a worker without it.

    Unknown code: 404; a unit outside the scope (or a worker naming any unit): 403.
    """
    code = (code or "").strip()[:32]
    if code:
        org = get_org(code)
        if org is None:
            raise NotFound(f"组织编码 {code} 不存在")
        authorize(user, Permission.VIEW_TEAM, org)
        return org
    roots = sorted(scope_orgs(user, Permission.VIEW_TEAM), key=lambda o: o.path)
    return roots[0] if roots else None


def quality_result(org, start: dt.date, end: dt.date) -> dict:
    """The unit's figures, each direct child's, and (townships and below) each person's: API and page share it."""
    total, children, people = queries.unit_quality(org, start, end, people=org.kind in PEOPLE_KINDS)
    return {"org": queries.unit_json(org), "from": start.isoformat(), "to": end.isoformat(), **total,
            "children": children, "people": people}


# --- charts (the dashboard's SVG bars) --------------------------------------------------------------------------

def _rate_text(part: int, whole: int, rate) -> str:
    return format_rate(part, whole, rate)


def problem_bars(figures: dict) -> tuple[Bar, ...]:
    """Return rate per reason, then overdue and duplicate rates: the bars of one unit's or person's chart."""
    events = figures["events"]
    bars = [Bar(f"退回·{reason}", figures["by_reason_rate"].get(reason) or 0.0,
                _rate_text(figures["by_reason"].get(reason, 0), events, figures["by_reason_rate"].get(reason)))
            for reason in [*RETURN_REASONS, *(["其他"] if "其他" in figures["by_reason"] else [])]]
    bars.append(Bar("超时", figures["overdue_rate"] or 0.0,
                    _rate_text(figures["overdue"], events, figures["overdue_rate"])))
    bars.append(Bar("重复上报", figures["duplicate_rate"] or 0.0,
                    _rate_text(figures["duplicates"], events, figures["duplicate_rate"])))
    return tuple(bars)


def _scale(items: list[dict]) -> float:
    top = max((bar.value for item in items for bar in problem_bars(item)), default=0.0)
    return min(1.0, max(0.05, top * 1.1))


def unit_charts(result: dict) -> list[dict]:
    """One chart per direct child unit (a county's townships), the same scale for all; a unit without children
    gets its own."""
    units = result["children"] or [result]
    scale = _scale(units)
    charts = []
    for unit in units:
        name = unit["org"]["name"]
        charts.append({"key": unit["org"]["code"], "title": name, "summary": summary_line(unit),
                       "svg": bar_chart(f"field-{unit['org']['code']}", f"{name}现场上报问题率",
                                        [Group("占上报事件的比例", problem_bars(unit))], maximum=scale)})
    return charts


def summary_line(figures: dict) -> str:
    if not figures["events"]:
        return "统计期内没有上报事件"
    satisfaction = f"，群众满意度平均 {figures['satisfaction']:.2f} 分（{figures['rated']} 件有评价）" \
        if figures["satisfaction"] is not None else "，无满意度评价"
    return (f"上报 {figures['events']} 件，退回率 {_rate_text(figures['returned'], figures['events'], figures['return_rate'])}"
            f"{satisfaction}")


def main_reason(figures: dict) -> str:
    reasons = [(count, reason) for reason, count in figures["by_reason"].items() if count]
    return max(reasons)[1] if reasons else "—"


def _percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def table_row(name: str, figures: dict) -> dict:
    return {"name": name, "events": figures["events"], "return_rate": _percent(figures["return_rate"]),
            "main_reason": main_reason(figures), "overdue": figures["overdue"], "duplicates": figures["duplicates"],
            "satisfaction": "—" if figures["satisfaction"] is None else f"{figures['satisfaction']:.2f}"}


def _org_choices(user) -> list[SelectChoice]:
    choices, seen = [], set()
    for root in sorted(scope_orgs(user, Permission.VIEW_TEAM), key=lambda o: o.path):
        for unit in list_subtree(root):
            if unit.id not in seen and (unit.kind != OrgKind.grid or unit.id == root.id):
                seen.add(unit.id)
                choices.append(SelectChoice(unit.code, f"{'　' * (unit.depth - root.depth)}{unit.name}"))
    return choices


# --- 现场上报质量 (per unit) --------------------------------------------------------------------------------------

@bp.get("/field/quality")
@require(Permission.VIEW_TEAM)
def quality():
    error, status, result = None, 200, None
    try:
        start, end = period(request.args)
        org = quality_org(current_user, request.args.get("org"))
    except ValidationError as exc:
        error, status, org = exc.message, 422, None
        end = utcnow().astimezone(SHANGHAI).date()
        start = end - dt.timedelta(days=364)
    if org is not None:
        result = quality_result(org, start, end)
    rows, people, charts = [], [], []
    if result:
        rows = [{**table_row(f"合计：{result['org']['name']}", result), "total": True, "code": result["org"]["code"]}]
        rows += [{**table_row(c["org"]["name"], c), "total": False, "code": c["org"]["code"]}
                 for c in result["children"]]
        people = [{**table_row(p["name"], p), "username": p["username"]} for p in result["people"] or []]
        charts = unit_charts(result)
    return render_template("field/quality.html", org=org, result=result, rows=rows, people=people, charts=charts,
                           error=error, choices=_org_choices(current_user), start=start.isoformat(),
                           end=end.isoformat(), selected=org.code if org else request.args.get("org", ""),
                           kind_label=KIND_LABELS.get(org.kind) if org else "", list_people=bool(result and
                                                                                               result["people"] is not None),
                           can_import=has_permission(current_user, Permission.IMPORT_FIELD),
                           summary=summary_line(result) if result else ""), status


# --- 我的上报质量 (a worker's own) --------------------------------------------------------------------------------

@bp.get("/field/mine")
@login_required
def mine():
    error, status = None, 200
    try:
        start, end = period(request.args)
    except ValidationError as exc:
        error, status = exc.message, 422
        end = utcnow().astimezone(SHANGHAI).date()
        start = end - dt.timedelta(days=364)
    figures = queries.person_quality(current_user, start, end)
    chart = bar_chart("field-mine", "我的现场上报问题率", [Group("占我上报事件的比例", problem_bars(figures))],
                      maximum=_scale([figures]))
    return render_template("field/mine.html", figures=figures, chart=chart, summary=summary_line(figures),
                           main=main_reason(figures), start=start.isoformat(), end=end.isoformat(),
                           error=error), status


# --- upload: preview, confirm, done -----------------------------------------------------------------------------

@bp.route("/field/import", methods=["GET", "POST"])
@require(Permission.IMPORT_FIELD)
def import_upload():
    form = UploadFileForm()
    form.file.label.text = "事件导出文件（XLSX 或 CSV）"
    error, status = None, 200
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            error, status = "请选择要上传的事件导出文件（XLSX 或 CSV）", 422
        else:
            data = upload.read()
            try:
                check_header(io.BytesIO(data), upload.filename)  # unreadable files and wrong columns stop here
            except TabularError as exc:
                error, status = exc.message, 422
            else:
                _, key = store_upload(current_user, services.UPLOAD_KIND, data, upload.filename)
                db.session.commit()
                return redirect(url_for("field.import_preview", key=key))
    elif request.method == "POST":
        status = 422
    return render_template("field/import.html", form=form, error=error, columns=COLUMNS), status


@bp.get("/field/import/<key>")
@require(Permission.IMPORT_FIELD)
def import_preview(key):
    upload = get_upload(current_user, key, services.UPLOAD_KIND)
    if upload.applied_at is not None:
        return redirect(url_for("field.import_done", key=key))
    if upload.data is None:
        raise NotFound("这次上传已过期，请重新上传")
    data, filename = upload.data, upload.filename
    db.session.commit()  # end the read: the preview writes in a savepoint it rolls back (SQLite: IMMEDIATE)
    with write_intent():
        try:
            report = services.preview_bytes(data, filename, actor=current_user)
        except TabularError as exc:
            db.session.rollback()
            return render_template("field/import.html", form=UploadFileForm(), error=exc.message,
                                   columns=COLUMNS), 422
        db.session.rollback()
    return render_template("field/import_preview.html", key=key, filename=filename, report=report,
                           form=ConfirmForm())


@bp.post("/field/import/<key>/confirm")
@require(Permission.IMPORT_FIELD)
def import_confirm(key):
    upload = get_upload(current_user, key, services.UPLOAD_KIND)
    services.confirm_upload(current_user, upload, client_addr=client_addr())
    db.session.commit()
    return redirect(url_for("field.import_done", key=key))


@bp.get("/field/import/<key>/done")
@require(Permission.IMPORT_FIELD)
def import_done(key):
    upload = get_upload(current_user, key, services.UPLOAD_KIND)
    if upload.applied_at is None:
        return redirect(url_for("field.import_preview", key=key))
    result = upload.result or {}
    return render_template("field/import_done.html", filename=upload.filename, result=result,
                           errors=result.get("errors", []), unknown=result.get("unknown", []),
                           error_count=result.get("error_count", 0))


def register_home() -> None:
    from lms.home import register_nav, register_section

    def learns(user):
        return has_permission(user, Permission.LEARN)

    register_nav(66, "上报质量", "field.quality", lambda user: has_permission(user, Permission.VIEW_TEAM),
                 group="manage")

    def section(user):
        tiles = []
        if learns(user) and getattr(user, "id", None) is not None and queries.has_events(user):
            tiles.append({"label": "我的上报质量", "url": url_for("field.mine"),
                          "description": "网格平台上我上报的事件：退回原因、超时、重复、群众满意度"})
        if has_permission(user, Permission.VIEW_TEAM):
            tiles.append({"label": "现场上报质量", "url": url_for("field.quality"),
                          "description": "各乡镇、各网格员在网格平台上报事件的退回率、超时、重复和满意度"})
        if has_permission(user, Permission.IMPORT_FIELD):
            tiles.append({"label": "导入现场上报结果", "url": url_for("field.import_upload"),
                          "description": "上传网格平台的事件导出（XLSX 或 CSV），预览后导入"})
        return {"title": "现场上报质量", "tiles": tiles} if tiles else None

    register_section(41, section)

