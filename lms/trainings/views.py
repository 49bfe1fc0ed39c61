"""HTML pages of trainings: list, create, detail with the roll, the trainer's code screen, learner check-in."""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from lms.accounts.permissions import Permission, authorize, can, has_permission, require, scope_orgs
from lms.db import local, utcnow
from lms.errors import Conflict, Forbidden, TooManyRequests, ValidationError
from lms.extensions import db
from lms.org.models import KIND_LABELS
from lms.org.queries import list_subtree
from lms.trainings import paperwork, present, queries, services
from lms.trainings.api import can_view, checkin_url, code_payload, load_training, parse_period
from lms.trainings.codes import normalise_code
from lms.trainings.forms import ActionForm, CheckinForm, MaterialFileForm, MaterialLessonForm, TrainingForm
from lms.trainings.models import METHOD_LABELS
from lms.trainings.qr import qr_svg as render_qr_svg
from lms.web import offline_capable, page_number

bp = Blueprint("trainings", __name__)
offline_capable("trainings.checkin_page")  # a code typed offline waits in the outbox (app.js, sw.js)

#: service error code -> the form field it belongs to
_FIELD_OF = {"invalid_level": "level", "level_not_allowed": "level", "invalid_title": "title", "invalid_date": "date",
             "invalid_time": "start", "invalid_place": "place", "invalid_hours": "hours", "unknown_org": "org",
             "unknown_trainer": "trainer", "trainer_not_allowed": "trainer"}


def _row(training, now) -> dict:
    opens, closes = services.checkin_window(training)
    starts, ends = local(training.starts_at), local(training.ends_at)
    return {"id": training.id, "title": training.title, "level": training.level_label,
            "when": f"{starts:%Y-%m-%d} {starts:%H:%M}–{ends:%H:%M}", "place": training.place,
            "hours": f"{training.hours.normalize():f}", "org": training.org.name, "trainer": training.trainer.name,
            "cancelled": training.is_cancelled, "open": not training.is_cancelled and opens <= now <= closes,
            "url": url_for("trainings.detail", training_id=training.id)}


@bp.get("/trainings")
@login_required
def index():
    page = page_number()
    try:
        start, end = parse_period(request.args)
    except ValidationError as exc:
        flash(exc.message, "error")
        start = end = None
    items, has_next = queries.list_trainings(current_user, start=start, end=end, page=page)
    now = utcnow()
    return render_template("trainings/list.html", rows=[_row(t, now) for t in items], page=page, has_next=has_next,
                           can_create=has_permission(current_user, Permission.RUN_TRAININGS),
                           can_export=has_permission(current_user, Permission.RUN_TRAININGS)
                           or has_permission(current_user, Permission.EXPORT),
                           can_results=has_permission(current_user, Permission.RUN_TRAININGS)
                           or has_permission(current_user, Permission.VIEW_STATS),
                           period={"from": request.args.get("from", ""), "to": request.args.get("to", "")})


def _org_choices(user) -> list[SelectChoice]:
    roots = scope_orgs(user, Permission.RUN_TRAININGS)
    seen, choices = set(), []
    for root in sorted(roots, key=lambda r: r.path):
        for unit in list_subtree(root):
            if unit.id not in seen:
                seen.add(unit.id)
                choices.append(SelectChoice(unit.code, f"{'　' * (unit.depth - root.depth)}{unit.name}（{KIND_LABELS[unit.kind]}）"))
    return choices


@bp.route("/trainings/new", methods=["GET", "POST"])
@require(Permission.RUN_TRAININGS)
def create():
    form = TrainingForm()
    form.org.choices = _org_choices(current_user)
    status = 200
    if form.validate_on_submit():
        try:
            training = services.create_training(
                current_user, level=form.level.data, title=form.title.data, date=form.date.data,
                start=form.start.data, end=form.end.data, place=form.place.data, hours=form.hours.data,
                org=form.org.data, trainer=form.trainer.data or None)
        except ValidationError as exc:
            getattr(form, _FIELD_OF.get(exc.code, "title")).errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            flash(f"已创建培训“{training.title}”。", "success")
            return redirect(url_for("trainings.detail", training_id=training.id))
    elif request.method == "POST":
        status = 422
    return render_template("trainings/form.html", form=form), status


@bp.get("/trainings/<int:training_id>")
@login_required
def detail(training_id):
    return render_detail(load_training(training_id))


def render_detail(training, *, status: int = 200, material_error: str | None = None, file_form=None,
                  lesson_form=None):
    """The session page: facts, check-in, materials, evaluation; the roll and paperwork for its trainers."""
    if not can_view(current_user, training):
        raise Forbidden("没有权限查看该培训")
    manages = can(current_user, Permission.RUN_TRAININGS, training.org)
    roll = []
    if manages:
        for user, attendance in queries.roster(training):
            roll.append({"username": user.username, "name": user.name, "org": user.org.name,
                         "present": attendance is not None,
                         "how": METHOD_LABELS[attendance.method] if attendance else "",
                         "at": local(attendance.recorded_at).strftime("%H:%M") if attendance else ""})
    mine = queries.get_attendance(training, current_user)
    extras = present.paperwork_context(current_user, training)
    if manages:
        file_form = file_form or MaterialFileForm()
        lesson_form = lesson_form or MaterialLessonForm()
        # the picker: lessons grouped by course title (optgroups), the only ones the attendees may open
        extras["lesson_groups"] = paperwork.lesson_choices(training)
    return render_template("trainings/detail.html", t=_row(training, utcnow()), manages=manages, roll=roll,
                           present_count=sum(r["present"] for r in roll) if manages else None,
                           attends=current_user.org.is_within(training.org), checked_in=mine is not None,
                           form=ActionForm(), file_form=file_form, lesson_form=lesson_form,
                           material_error=material_error, **extras), status


@bp.post("/trainings/<int:training_id>/roll")
@require(Permission.RUN_TRAININGS)
def roll(training_id):
    training = load_training(training_id)
    authorize(current_user, Permission.RUN_TRAININGS, training.org)
    form = ActionForm()
    if not form.validate_on_submit():
        raise ValidationError("页面已过期，请刷新后重试")
    usernames = request.form.getlist("present")
    if not usernames:
        flash("没有勾选任何人员，未作更改。", "warning")
        return redirect(url_for("trainings.detail", training_id=training.id))
    try:
        result = services.record_roll(current_user, training, usernames)
    except (ValidationError, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("trainings.detail", training_id=training.id))
    db.session.commit()
    flash(f"点名已保存：新增 {len(result['added'])} 人，已在册 {len(result['already'])} 人。", "success")
    return redirect(url_for("trainings.detail", training_id=training.id))


@bp.post("/trainings/<int:training_id>/cancel")
@require(Permission.RUN_TRAININGS)
def cancel(training_id):
    training = load_training(training_id)
    if not ActionForm().validate_on_submit():
        raise ValidationError("页面已过期，请刷新后重试")
    services.cancel_training(current_user, training)
    db.session.commit()
    flash("该培训已取消：不再接受签到，也不计入统计。", "success")
    return redirect(url_for("trainings.detail", training_id=training.id))


@bp.get("/trainings/<int:training_id>/screen")
@require(Permission.RUN_TRAININGS)
def screen(training_id):
    training = load_training(training_id)
    authorize(current_user, Permission.RUN_TRAININGS, training.org)
    payload = code_payload(training)
    return render_template("trainings/screen.html", t=_row(training, utcnow()), code=payload,
                           code_url=url_for("api.current_code", training_id=training.id))


@bp.get("/trainings/<int:training_id>/qr.svg")
@require(Permission.RUN_TRAININGS)
def qr_svg(training_id):
    training = load_training(training_id)
    authorize(current_user, Permission.RUN_TRAININGS, training.org)
    code, _ = services.current_checkin_code(training)
    response = Response(render_qr_svg(checkin_url(training, code), title=f"签到二维码：{training.title}"),
                        mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


def _captured_at(value: str | None) -> str | None:
    """The page script's stamp of the first keystroke, or None when the tablet's clock makes it unusable
    (the form then checks the code against the screen now, as without the script)."""
    try:
        return value if services.parse_captured_at(value, utcnow()) is not None else None
    except ValidationError:
        return None


@bp.route("/trainings/<int:training_id>/checkin", methods=["GET", "POST"])
@login_required
def checkin_page(training_id):
    training = load_training(training_id)
    if not current_user.org.is_within(training.org):
        raise Forbidden(f"您不属于本场培训的参训范围（{training.org.name}）", code="not_in_training_org")
    form = CheckinForm()
    status, error = 200, None
    if form.validate_on_submit():
        try:
            _, created = services.check_in(current_user, training, form.code.data, form.client_id.data or None,
                                           captured_at=_captured_at(form.captured_at.data))
        except ValidationError as exc:
            if isinstance(exc, services.WrongCode):
                db.session.commit()  # the wrong code counts towards the limit
            else:
                db.session.rollback()
            form.code.errors.append(exc.message)
            status = 422
        except (Conflict, TooManyRequests) as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
        else:
            db.session.commit()
            flash("签到成功！" if created else "您已签到，无需重复签到。", "success")
            return redirect(url_for("trainings.checkin_page", training_id=training.id))
    elif request.method == "POST":
        status = 422
    else:
        form.code.data = normalise_code(request.args.get("code", "")) or ""
    if not form.client_id.data:
        form.client_id.data = str(uuid.uuid4())
    done = queries.get_attendance(training, current_user) is not None
    opens, closes = services.checkin_window(training)
    return render_template("trainings/checkin.html", t=_row(training, utcnow()), form=form, error=error, done=done,
                           window=f"{local(opens):%m-%d %H:%M} 至 {local(closes):%H:%M}"), status


def nav_visible(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def home_section(user) -> dict | None:
    """Today's check-ins for a learner; the trainings tiles for a trainer."""
    tiles = []
    for training in queries.open_trainings_for(user, utcnow(), services.CHECKIN_OPENS_BEFORE):
        tiles.append({"label": f"签到：{training.title}", "url": url_for("trainings.checkin_page", training_id=training.id),
                      "description": f"{local(training.starts_at):%H:%M} 开始 · {training.place} · {training.hours.normalize():f} 学时"})
    for training in paperwork.pending_evaluations(user, utcnow()):
        tiles.append({"label": f"评价：{training.title}",
                      "url": url_for("trainings.evaluation", training_id=training.id),
                      "description": f"{local(training.starts_at):%m-%d} 的培训已签到，请填写满意度评价（约 1 分钟）"})
    if has_permission(user, Permission.RUN_TRAININGS):
        tiles.append({"label": "组织线下培训", "url": url_for("trainings.create"),
                      "description": "县训、乡培、村练：建场次、点名、扫码签到"})
        tiles.append({"label": "培训场次", "url": url_for("trainings.index"), "description": "已组织的培训与出勤"})
    return {"title": "线下培训", "tiles": tiles} if tiles else None

