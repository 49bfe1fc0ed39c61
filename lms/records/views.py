"""HTML: a person's 学时档案 (page, PDF, XLSX), the people finder for HR and trainers, the export form."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.permissions import has_permission, require, scoped_org
from lms.audit.services import record_after_read
from lms.certification.present import issuing_unit
from lms.errors import Forbidden, NotFound, ValidationError
from lms.records import present, queries
from lms.records.pdf import render_record_pdf, render_record_xlsx
from lms.web import MAX_YEAR, MIN_YEAR, InvalidParameter, client_addr, page_number

bp = Blueprint("records", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def viewable_person(username: str):
    """The person whose record the current user may read: 404 unknown, 403 someone else out of scope."""
    user = queries.get_person(username[:64])
    if user is None:
        raise NotFound(f"工号 {username[:64]} 不存在", code="user_not_found")
    if not queries.may_view(current_user, user):
        raise Forbidden("没有权限：只能查看本人或管辖范围内人员的学时档案")
    return user


def _audit_download(user, fmt: str) -> None:
    """Someone else's record leaving the app is audited; one's own is not."""
    if user.id != current_user.id:
        record_after_read("records.download", actor=current_user, target_type="user", target=user.username,
                          org=user.org, client_addr=client_addr(),
                          details={"summary": f"下载了 {user.name}（{user.username}）的学时档案（{fmt.upper()}）",
                                   "format": fmt})


def _filename(user, ext: str) -> tuple[str, str]:
    """(ASCII fallback, UTF-8 name) for Content-Disposition."""
    return f"record-{user.username}.{ext}", f"学时档案-{user.name}-{user.username}.{ext}"


def _download(body: bytes, mimetype: str, user, ext: str) -> Response:
    ascii_name, name = _filename(user, ext)
    safe_ascii = "".join(ch for ch in ascii_name if ch.isascii() and (ch.isalnum() or ch in "-_.")) or f"record.{ext}"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{safe_ascii}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@bp.get("/me/record")
@login_required
def mine():
    return redirect(url_for("records.page", username=current_user.username))


@bp.get("/users/<username>/record")
@login_required
def page(username):
    user = viewable_person(username)
    record = queries.person_record(user)
    own = user.id == current_user.id
    # 补考 links on the quiz rows for those who may grant them (never to oneself).
    from lms.quizzes.api import may_grant  # a function of an earlier feature, only needed for this page
    grant = not own and may_grant(current_user, user)
    quiz_rows = [{**q, "grant_url": url_for("quizzes.grant_form", code=q["code"], username=user.username)
                  if grant and q["max_attempts"] is not None else None} for q in record.quizzes]
    return render_template("records/record.html", record=record, user=user, own=own, summary=present.summary(record),
                           sections=present.sections(record), quiz_rows=quiz_rows,
                           grant_column=any(q["grant_url"] for q in quiz_rows),
                           pdf_url=url_for("records.pdf", username=user.username),
                           xlsx_url=url_for("records.xlsx", username=user.username),
                           people_url=url_for("records.people") if not own else None)


@bp.get("/users/<username>/record.pdf")
@login_required
def pdf(username):
    user = viewable_person(username)
    record = queries.person_record(user)
    body = render_record_pdf(record, issuing_unit=issuing_unit())
    _audit_download(user, "pdf")
    return _download(body, "application/pdf", user, "pdf")


@bp.get("/users/<username>/record.xlsx")
@login_required
def xlsx(username):
    user = viewable_person(username)
    body = render_record_xlsx(queries.person_record(user))
    _audit_download(user, "xlsx")
    return _download(body, XLSX, user, "xlsx")


def _org_arg(perm):
    return scoped_org(current_user, perm, request.args.get("org"))


@bp.get("/records")
@require(queries.VIEW_RECORD)
def people():
    org = _org_arg(queries.VIEW_RECORD)
    q = (request.args.get("q") or "").strip()[:50]
    page_no = page_number()
    rows, has_next = queries.list_people(current_user, org=org, q=q, page=page_no, per_page=50)
    people_rows = [{"name": user.name, "username": user.username, "org": org_name,
                    "active": user.status.value == "active",
                    "url": url_for("records.page", username=user.username)} for user, org_name in rows]
    args = {k: v for k, v in (("org", org.code if org else ""), ("q", q)) if v}
    return render_template("records/people.html", rows=people_rows, org=org.code if org else "", q=q, page=page_no,
                           has_next=has_next, page_args=lambda n: urlencode({**args, "page": n}),
                           can_export=has_permission(current_user, queries.EXPORT_RECORDS))


def parse_day(name: str, label: str) -> dt.date | None:
    """A YYYY-MM-DD query parameter (1900–2100), or None when absent; 422 naming the field otherwise."""
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        value = dt.date.fromisoformat(text[:10]) if len(text) == 10 else None
    except ValueError:
        value = None
    if value is None:
        raise ValidationError(f"{label}格式不对：请写成 2026-01-31 这样的日期", code="invalid_date")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidParameter(f"{label}超出范围：应在 {MIN_YEAR}-01-01 至 {MAX_YEAR}-12-31 之间",
                               details={"parameter": name})
    return value


def export_filters(perm) -> dict:
    """org, hired_from, hired_to of the records export (shared by the form and the download)."""
    org = _org_arg(perm)
    hired_from, hired_to = parse_day("hired_from", "入职日期（起）"), parse_day("hired_to", "入职日期（止）")
    if hired_from and hired_to and hired_from > hired_to:
        raise ValidationError("入职日期（起）不能晚于入职日期（止）", code="invalid_date")
    return {"org": org, "hired_from": hired_from, "hired_to": hired_to}


@bp.get("/records/export")
@require(queries.EXPORT_RECORDS)
def export_form():
    filters = export_filters(queries.EXPORT_RECORDS)
    args = {"org": filters["org"].code if filters["org"] else "",
            "hired_from": filters["hired_from"].isoformat() if filters["hired_from"] else "",
            "hired_to": filters["hired_to"].isoformat() if filters["hired_to"] else ""}
    query = urlencode({k: v for k, v in args.items() if v})
    return render_template("records/export.html", args=args, columns=queries.TOTAL_COLUMNS,
                           download_url=url_for("exports.records_xlsx") + (f"?{query}" if query else ""))
