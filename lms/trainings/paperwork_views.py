"""HTML routes of a session's paperwork: materials, the sign-in sheet, attendance exports, the evaluation."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import Response, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from lms.accounts.masking import mask_phone
from lms.accounts.models import User
from lms.accounts.permissions import Permission, authorize, can, has_permission
from lms.audit.services import record_after_read
from lms.db import local, utcnow
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.extensions import db
from lms.org.models import OrgKind
from lms.org.queries import get_org
from lms.reports.exports import iter_xlsx
from lms.trainings import export, paperwork, queries, sheet
from lms.trainings.api import can_view, load_training, parse_period
from lms.trainings.forms import ActionForm, EvaluationForm, MaterialFileForm, MaterialLessonForm
from lms.trainings.models import EVALUATION_QUESTIONS
from lms.trainings.views import _row, bp, render_detail
from lms.web import client_addr

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _expired() -> ValidationError:
    return ValidationError("页面已过期，请刷新后重试", code="csrf")


# --- materials ---------------------------------------------------------------------------------------------------

def _managed(training_id):
    training = load_training(training_id)
    authorize(current_user, Permission.RUN_TRAININGS, training.org)
    return training


@bp.post("/trainings/<int:training_id>/materials")
@login_required
def material_upload(training_id):
    training = _managed(training_id)
    form = MaterialFileForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            raise _expired()
        message = next(iter(e for errors in form.errors.values() for e in errors), "请检查填写的内容")
        return render_detail(training, status=422, material_error=message, file_form=form)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        return render_detail(training, status=422, material_error="请选择要上传的文件", file_form=form)
    try:
        data = upload.stream.read(paperwork.MAX_MATERIAL_BYTES + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now
    try:
        material = paperwork.add_file(current_user, training, upload.filename, data, form.title.data)
    except ValidationError as exc:
        db.session.rollback()
        return render_detail(training, status=exc.status if exc.status == 413 else 422,
                             material_error=exc.message, file_form=form)
    db.session.commit()
    flash(f"已上传材料“{material.title}”。", "success")
    return redirect(url_for("trainings.detail", training_id=training.id) + "#materials")


@bp.post("/trainings/<int:training_id>/materials/lesson")
@login_required
def material_lesson(training_id):
    training = _managed(training_id)
    form = MaterialLessonForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            raise _expired()
        message = next(iter(e for errors in form.errors.values() for e in errors), "请检查填写的内容")
        return render_detail(training, status=422, material_error=message, lesson_form=form)
    try:
        material = paperwork.add_lesson_link(current_user, training, form.lesson.data, form.title.data)
    except ValidationError as exc:
        db.session.rollback()
        return render_detail(training, status=422, material_error=exc.message, lesson_form=form)
    db.session.commit()
    flash(f"已关联“{material.title}”。", "success")
    return redirect(url_for("trainings.detail", training_id=training.id) + "#materials")


@bp.post("/trainings/<int:training_id>/materials/<int:material_id>/delete")
@login_required
def material_delete(training_id, material_id):
    training = _managed(training_id)
    if not ActionForm().validate_on_submit():
        raise _expired()
    material = paperwork.get_material(training, material_id)
    title = material.title
    paperwork.remove_material(current_user, training, material)
    db.session.commit()
    flash(f"已删除材料“{title}”。", "success")
    return redirect(url_for("trainings.detail", training_id=training.id) + "#materials")


@bp.get("/trainings/<int:training_id>/materials/<int:material_id>")
@login_required
def material_file(training_id, material_id):
    training = load_training(training_id)
    if not can_view(current_user, training):
        raise Forbidden("没有权限查看该培训")
    material = paperwork.get_material(training, material_id)
    if material.data is None:
        raise NotFound("找不到该材料")
    response = Response(material.data, mimetype=material.content_type)
    inline = material.content_type in ("application/pdf", "image/png", "image/jpeg")
    response.headers["Content-Disposition"] = (f"{'inline' if inline else 'attachment'}; "
                                               f"filename*=UTF-8''{quote(material.filename)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                                                   "sandbox")
    return response


# --- the sign-in sheet -------------------------------------------------------------------------------------------

def _county_name(org) -> str:
    """The county (or the highest unit up to it) the session belongs to: the sheet's heading."""
    from lms.org.models import OrgUnit
    ids = [int(part) for part in org.path.strip("/").split("/") if part.isdigit()]
    units = {u.id: u for u in db.session.query(OrgUnit).filter(OrgUnit.id.in_(ids))}
    for unit_id in ids:
        unit = units.get(unit_id)
        if unit is not None and unit.kind == OrgKind.county:
            return unit.name
    return units[ids[0]].name if ids and ids[0] in units else org.name


def sheet_data(viewer, training) -> sheet.SheetData:
    """The sheet's values: the roll of the session's unit, phones masked unless viewer holds pii there."""
    base = current_app.config.get("PUBLIC_URL", "").rstrip("/")
    rows = []
    for user, attendance in queries.roster(training):
        phone = user.phone or ""
        if not can(viewer, Permission.VIEW_PII, user.org):
            phone = mask_phone(phone)
        signed = f"已签到 {local(attendance.recorded_at):%H:%M}" if attendance else ""
        rows.append(sheet.SheetRow(name=user.name, unit=user.org.name, phone=phone, signed=signed))
    starts, ends = local(training.starts_at), local(training.ends_at)
    return sheet.SheetData(
        heading=f"{_county_name(training.org)}线下培训签到表", title=training.title,
        when=f"{starts:%Y-%m-%d} {starts:%H:%M}–{ends:%H:%M}", place=training.place, trainer=training.trainer.name,
        org=training.org.name, hours=f"{training.hours.normalize():f}", level=training.level_label,
        checkin_url=base + url_for("trainings.checkin_page", training_id=training.id),
        printed=f"{local(utcnow()):%Y-%m-%d %H:%M}", rows=tuple(rows))


@bp.get("/trainings/<int:training_id>/sheet.pdf")
@login_required
def sign_sheet(training_id):
    training = _managed(training_id)
    data = sheet_data(current_user, training)
    pdf = sheet.render_sheet_pdf(data)
    record_after_read("export.training_sheet", actor=current_user, target_type="training", target=str(training.id),
                      org=training.org, client_addr=client_addr(),
                      details={"training": training.title, "rows": len(data.rows)})
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(f'签到表-{training.id}.pdf')}"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- attendance exports ------------------------------------------------------------------------------------------

def _download(body, filename: str) -> Response:
    return Response(stream_with_context(body), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"", "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


@bp.get("/trainings/<int:training_id>/attendance.xlsx")
@login_required
def attendance_xlsx(training_id):
    training = load_training(training_id)
    if not paperwork.may_export(current_user, training):
        raise Forbidden("没有权限导出该培训的出勤", code="forbidden")
    rows = export.count_session_rows(training)
    record_after_read("export.training_attendance", actor=current_user, target_type="training",
                      target=str(training.id), org=training.org, client_addr=client_addr(),
                      details={"training": training.title, "rows": rows})
    training = load_training(training_id)  # the audit's commit expired it
    return _download(iter_xlsx(export.COLUMNS, export.session_rows(training), "出勤", widths=export.WIDTHS),
                     f"attendance-{training.id}.xlsx")


def period_request(args, viewer):
    """from/to (default: the last 30 days), the org filter (in scope); Chinese errors."""
    if not (has_permission(viewer, Permission.RUN_TRAININGS) or has_permission(viewer, Permission.EXPORT)):
        raise Forbidden("没有权限导出培训出勤", code="forbidden")
    start, end = parse_period(args)
    today = local(utcnow()).date()
    end = end or today
    start = start or end - dt.timedelta(days=30)
    if start > end:
        raise ValidationError("起始日期不能晚于截止日期", code="invalid_period")
    if (end - start).days >= export.MAX_PERIOD_DAYS:
        raise ValidationError(f"一次最多导出 {export.MAX_PERIOD_DAYS} 天，请缩短日期范围", code="invalid_period")
    org = None
    code = (args.get("org") or "").strip()[:32]
    if code:
        org = get_org(code)
        if org is None:
            raise ValidationError(f"组织编码“{code}”不存在", code="unknown_org")
        if not (can(viewer, Permission.RUN_TRAININGS, org) or can(viewer, Permission.EXPORT, org)):
            raise Forbidden("没有权限：该单位超出了您的管辖范围", code="forbidden")
    return start, end, org


@bp.get("/trainings/attendance.xlsx")
@login_required
def period_attendance_xlsx():
    try:
        start, end, org = period_request(request.args, current_user)
    except ValidationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("trainings.index"))
    rows = export.count_period_rows(current_user, start, end, org)
    record_after_read("export.training_attendance", actor=current_user, target_type="export",
                      target="attendance.xlsx", org=org or current_user.org, client_addr=client_addr(),
                      details={"org": org.code if org else None, "from": start.isoformat(), "to": end.isoformat(),
                               "rows": rows})
    org = get_org(org.code) if org else None
    viewer = db.session.get(User, current_user.id)
    return _download(iter_xlsx(export.COLUMNS, export.period_rows(viewer, start, end, org), "出勤",
                               widths=export.WIDTHS), f"attendance-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


# --- evaluation --------------------------------------------------------------------------------------------------

@bp.route("/trainings/<int:training_id>/evaluation", methods=["GET", "POST"])
@login_required
def evaluation(training_id):
    training = load_training(training_id)
    if not can_view(current_user, training):
        raise Forbidden("没有权限查看该培训")
    form = EvaluationForm()
    state = paperwork.evaluation_state(current_user, training)
    status, errors = 200, []
    if request.method == "POST":
        if not form.validate_on_submit():
            raise _expired()
        ratings = {key: getattr(form, key).data for key, _ in EVALUATION_QUESTIONS}
        try:
            paperwork.submit_evaluation(current_user, training, ratings, form.comment.data)
        except ValidationError as exc:
            db.session.rollback()
            errors.append(exc.message)
            status = 422
        except (Forbidden, Conflict) as exc:
            db.session.rollback()
            errors.append(exc.message)
            status = exc.status
        else:
            db.session.commit()
            flash("感谢您的评价！", "success")
            return redirect(url_for("trainings.detail", training_id=training.id))
    elif state != "open":
        errors.append(paperwork.STATE_MESSAGES[state])
        status = 403 if state == "not_attended" else 200
    return render_template("trainings/evaluation.html", t=_row(training, utcnow()), form=form, state=state,
                           errors=errors, questions=EVALUATION_QUESTIONS, max_comment=paperwork.MAX_COMMENT), status


@bp.get("/trainings/<int:training_id>/evaluation/results")
@login_required
def evaluation_results(training_id):
    training = load_training(training_id)
    results = paperwork.session_results(current_user, training)
    return render_template("trainings/evaluation_results.html", t=_row(training, utcnow()), results=results,
                           questions=EVALUATION_QUESTIONS)


@bp.get("/trainings/evaluations")
@login_required
def evaluations_by_trainer():
    if not (has_permission(current_user, Permission.RUN_TRAININGS)
            or has_permission(current_user, Permission.VIEW_STATS)):
        raise Forbidden("没有权限查看培训评价", code="forbidden")
    status, error = 200, None
    try:
        start, end, org, trainer = results_request(request.args, current_user)
        rows = paperwork.trainer_results(current_user, start=start, end=end, org=org, trainer=trainer)
    except ValidationError as exc:
        error, status, rows, trainer = exc.message, 422, [], None
    return render_template("trainings/evaluations.html", rows=rows, error=error, questions=EVALUATION_QUESTIONS,
                           trainer=trainer, args={k: request.args.get(k, "") for k in ("from", "to", "org", "trainer")},
                           local=local), status


def results_request(args, viewer):
    """from/to/org/trainer filters of the results by trainer; Chinese errors (422), 403 out of scope."""
    start, end = parse_period(args)
    org = None
    code = (args.get("org") or "").strip()[:32]
    if code:
        org = get_org(code)
        if org is None:
            raise ValidationError(f"组织编码“{code}”不存在", code="unknown_org")
        if not (can(viewer, Permission.RUN_TRAININGS, org) or can(viewer, Permission.VIEW_STATS, org)):
            raise Forbidden("没有权限：该单位超出了您的管辖范围", code="forbidden")
    trainer = None
    username = (args.get("trainer") or "").strip()[:64]
    if username:
        trainer = db.session.query(User).filter(User.username == username).one_or_none()
        if trainer is None:
            raise ValidationError(f"培训师工号“{username}”不存在", code="unknown_trainer")
    return start, end, org, trainer
