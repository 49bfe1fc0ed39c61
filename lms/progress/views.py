"""The progress page, its XLSX export and the reminder button; the filters both HTML and JSON routes read."""
from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from lms.accounts.permissions import Permission, authorize, require, scope_orgs
from lms.audit.services import record_after_read
from lms.db import SHANGHAI
from lms.errors import LMSError, NotFound
from lms.extensions import db
from lms.org.models import OrgKind
from lms.org.queries import get_org, list_subtree
from lms.progress import queries, services
from lms.reports.exports import iter_xlsx, neutralise
from lms.web import MAX_PAGE, client_addr

P = Permission
bp = Blueprint("progress", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 50
EXPORT_COLUMNS = ("姓名", "工号", "乡镇(街道)", "村(社区)", "网格", "状态", "进度", "最高分", "截止日期", "最近学习")
EXPORT_WIDTHS = (10, 12, 14, 14, 18, 8, 12, 8, 12, 18)
BADGES = {"done": "text-bg-success", "overdue": "text-bg-danger", "in_progress": "text-bg-primary",
          "not_started": "text-bg-secondary"}
STATUS_OPTIONS = [(s, queries.STATUS_LABELS[s]) for s in queries.STATUSES]


class InvalidFilter(LMSError):
    status = 400
    code = "invalid_parameter"


@dataclasses.dataclass
class Filters:
    target: queries.Target | None
    org: object | None
    status: str | None
    page: int = 1
    per_page: int = PER_PAGE

    def args(self, **extra) -> dict:
        """The query string that reproduces these filters (links, the export, the reminder form)."""
        values = {"kind": self.target.kind if self.target else None, "code": self.target.code if self.target else None,
                  "org": self.org.code if self.org is not None else None, "status": self.status}
        values.update(extra)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _int(args, name: str, default: int, upper: int, label: str) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw[:8]) <= upper:
        raise InvalidFilter(f"{label}应为 1 到 {upper} 之间的整数", details={"parameter": name})
    return int(raw)


def parse_filters(args, *, required: bool = True) -> Filters:
    """kind/code/org/status/page/per_page, checked: 400 for a malformed value, 404 for an unknown course, quiz,
    program, assignment or unit, 403 outside the viewer's scope. Without kind and code (and not required): no target."""
    kind = (args.get("kind") or "").strip()
    code = (args.get("code") or "").strip()
    item = (args.get("item") or "").strip()  # the page's picker sends kind:code in one field
    if item and not kind and ":" in item:
        kind, code = item.split(":", 1)
    target = None
    if kind or code or required:
        if kind not in queries.KINDS:
            raise InvalidFilter("类型 kind 应为 course（课程）、quiz（测验）、program（认证项目）或 assignment（指派）",
                                details={"parameter": "kind"})
        if not code:
            raise InvalidFilter(f"请指定要查看的{queries.KIND_LABELS[kind]}（code）", details={"parameter": "code"})
        target = queries.resolve_target(kind, code[:64])
        if target is None:
            raise NotFound(f"{queries.KIND_LABELS[kind]}“{code[:64]}”不存在")
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in queries.STATUSES:
        raise InvalidFilter("状态 status 应为 not_started（未开始）、in_progress（学习中）、done（已完成）或 "
                            "overdue（已逾期）", details={"parameter": "status"})
    org = None
    org_code = (args.get("org") or "").strip()
    if org_code:
        org = get_org(org_code[:32])
        if org is None:
            raise NotFound(f"组织编码“{org_code[:32]}”不存在")
        authorize(current_user, P.VIEW_PROGRESS, org)
    page = _int(args, "page", 1, MAX_PAGE, "页码 page ")
    per_page = _int(args, "per_page", PER_PAGE, 500, "每页条数 per_page ")
    return Filters(target, org, status, page, per_page)


def _scope_unit():
    roots = sorted(scope_orgs(current_user, P.VIEW_PROGRESS), key=lambda o: o.path)
    return roots[0] if roots else None


def compute(filters: Filters) -> tuple[list[queries.Row], list[queries.Row], dict]:
    """(all rows, rows of the status filter, summary over all rows)."""
    rows = queries.progress_rows(current_user, filters.target, filters.org)
    return rows, queries.filter_rows(rows, filters.status), queries.summarize(rows)


def progress_text(target: queries.Target, row: queries.Row) -> str:
    """'3/5 课', '已考 2 次（共 3 次）', '达到 2/4 项' — progress as people say it."""
    if target.kind == "program":
        return f"达到 {row.done}/{row.total or 0} 项"
    if target.course is not None:
        return f"{row.done}/{row.total or 0} 课"
    if row.total:
        return f"已考 {row.done} 次（共 {row.total} 次）"
    return f"已考 {row.done} 次"


def _day(value) -> str:
    return f"{value:%Y-%m-%d}" if value else "—"


def _when(value) -> str:
    return f"{value.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if value else "—"


def _score(value) -> str:
    return "—" if value is None else f"{value:g}"


def _org_choices():
    choices, seen = [], set()
    for root in sorted(scope_orgs(current_user, P.VIEW_PROGRESS), key=lambda o: o.path):
        for unit in list_subtree(root):
            if unit.id not in seen:
                seen.add(unit.id)
                choices.append((unit.code, f"{'　' * (unit.depth - root.depth)}{unit.name}"))
    return choices


class RemindForm(FlaskForm):
    """The 提醒未完成的人 button: the filters travel as hidden fields."""

    kind = HiddenField()
    code = HiddenField()
    org = HiddenField()
    status = HiddenField()


@bp.get("/progress")
@require(P.VIEW_PROGRESS)
def page():
    try:
        filters = parse_filters(request.args, required=False)
    except InvalidFilter as exc:
        return render_template("progress/page.html", error=exc.message, filters=None, targets=_targets(),
                               org_choices=_org_choices(), status_options=STATUS_OPTIONS, rows=[], summary=None), 400
    context = {"filters": filters, "targets": _targets(), "org_choices": _org_choices(), "error": None,
               "status_options": STATUS_OPTIONS,
               "selected_item": f"{filters.target.kind}:{filters.target.code}" if filters.target else ""}
    if filters.target is None:
        unit = filters.org or _scope_unit()
        assigned = [{"label": f"{queries.KIND_LABELS[t['kind']]}《{t['title']}》",
                     "url": url_for("progress.page", kind=t["kind"], code=t["code"],
                                    org=filters.org.code if filters.org is not None else None)}
                    for t in queries.assigned_targets(unit)] if unit is not None else []
        return render_template("progress/page.html", rows=[], summary=None, assigned=assigned,
                               assigned_scope=unit.name if unit is not None else "", **context)
    rows, shown, summary = compute(filters)
    start = (filters.page - 1) * filters.per_page
    page_rows = [{"name": r.name, "username": r.username, "org": r.org_name, "status": r.status,
                  "status_text": queries.STATUS_LABELS[r.status], "badge": BADGES[r.status], "progress": progress_text(filters.target, r),
                  "best_score": _score(r.best_score), "due": _day(r.due), "last_activity": _when(r.last_activity)}
                 for r in shown[start:start + filters.per_page]]
    unfinished = sum(1 for r in shown if r.status != "done")
    form = RemindForm(data=filters.args())
    status_links = [{"label": "全部", "count": len(rows), "url": url_for("progress.page", **filters.args(status=None)),
                     "active": filters.status is None}]
    status_links += [{"label": queries.STATUS_LABELS[s], "count": summary[s], "active": filters.status == s,
                      "url": url_for("progress.page", **filters.args(status=s))} for s in queries.STATUSES]
    return render_template(
        "progress/page.html", rows=page_rows, summary=summary, total=len(rows), shown=len(shown),
        unfinished=unfinished, form=form, status_links=status_links,
        prev_url=url_for("progress.page", **filters.args(page=filters.page - 1)) if filters.page > 1 else None,
        next_url=(url_for("progress.page", **filters.args(page=filters.page + 1))
                  if start + filters.per_page < len(shown) else None),
        export_url=url_for("progress.export_xlsx", **filters.args()),
        scope_name=filters.org.name if filters.org is not None else "全部管辖范围", **context)


def _targets():
    found = queries.targets_in_scope(current_user)
    return [{"label": queries.KIND_LABELS[kind], "kind": kind,
             "options": [{"value": f"{kind}:{code}", "title": title} for code, title in items]}
            for kind, items in found.items() if items]


@bp.post("/progress/remind")
@require(P.VIEW_PROGRESS)
def remind():
    filters = parse_filters(request.form)
    form = RemindForm()
    if not form.validate_on_submit():
        flash("页面已过期，请刷新后重试", "danger")
        return redirect(url_for("progress.page", **filters.args()))
    _, shown, _ = compute(filters)
    sent = services.send_reminders(current_user, filters.target, shown, org=filters.org, status=filters.status,
                                   client_addr=client_addr())
    db.session.commit()
    if sent:
        flash(f"已向 {sent} 人发送提醒", "success")
    else:
        flash("没有需要提醒的人（名单中的人都已完成，或今天已经提醒过）", "info")
    return redirect(url_for("progress.page", **filters.args()))


def export_rows(target: queries.Target, rows: list[queries.Row]):
    """EXPORT_COLUMNS rows, formula-safe; township/village/grid names from each person's unit path."""
    from lms.org.models import OrgUnit  # names of the units above each person, read once
    import sqlalchemy as sa

    unit_ids = {int(part) for row in rows for part in row.org_path.strip("/").split("/") if part.isdigit()}
    units = {}
    for chunk in range(0, len(unit_ids), 500):
        ids = list(unit_ids)[chunk:chunk + 500]
        units.update({u.id: (u.kind, u.name) for u in db.session.execute(
            sa.select(OrgUnit.id, OrgUnit.kind, OrgUnit.name).where(OrgUnit.id.in_(ids)))})
    out = []
    for row in rows:
        found = {}
        for part in row.org_path.strip("/").split("/"):
            if part.isdigit() and int(part) in units:
                kind, name = units[int(part)]
                found[kind] = name
        out.append([neutralise(row.name), neutralise(row.username), neutralise(found.get(OrgKind.township, "")),
                    neutralise(found.get(OrgKind.village, "")), neutralise(found.get(OrgKind.grid, "")),
                    queries.STATUS_LABELS[row.status], progress_text(target, row), row.best_score,
                    row.due, row.last_activity.astimezone(SHANGHAI).replace(tzinfo=None) if row.last_activity else None])
    return out


@bp.get("/exports/progress.xlsx")
@require(P.VIEW_PROGRESS)
def export_xlsx():
    filters = parse_filters(request.args)
    _, shown, _ = compute(filters)
    body = export_rows(filters.target, shown)
    record_after_read("export.progress", actor=current_user, target_type="export", target=filters.target.label,
                      client_addr=client_addr(), org=filters.org or current_user.org,
                      details={"对象": filters.target.label,
                               "范围": filters.org.name if filters.org is not None else "管辖范围",
                               "状态": queries.STATUS_LABELS.get(filters.status, "全部"), "行数": len(body)})
    stamp = queries.local_today().strftime("%Y%m%d")
    return Response(iter_xlsx(EXPORT_COLUMNS, body, "学习进度", widths=EXPORT_WIDTHS),
                    mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="progress-{stamp}.xlsx"',
                                            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
