"""HTML pages: catalog, course, lesson reader, my learning, authoring, assignments."""
from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa
from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms import codes
from lms.accounts.models import ROLE_LABELS, Role
from lms.accounts.permissions import Permission, has_permission, require, scope_clause, scope_orgs
from lms.courses import queries, services
from lms.courses.api import COURSE_NOT_FOUND, lesson_or_404, reading, remember_opened, today, visible_course_or_404
from lms.courses.content import asset_path_problem
from lms.courses.forms import AssignmentForm, CourseEditForm, CourseForm, LessonForm, UploadForm
from lms.courses.models import LEVEL_LABELS, Assignment, CourseLevel
from lms.courses.render import render_markdown, trusted
from lms.db import utcnow
from lms.errors import LMSError, NotFound, ValidationError
from lms.extensions import db
from lms.org.models import OrgKind, OrgUnit
from lms.org.queries import get_org, list_subtree
from lms.web import cached_url, client_addr

bp = Blueprint("courses", __name__)


# --- learning ---------------------------------------------------------------------------------------------------

@bp.get("/courses")
@login_required
def catalog():
    level = request.args.get("level", "county")
    level = level if level in CourseLevel.__members__ else "county"
    q = request.args.get("q", "").strip()[:50]
    cards = queries.visible_cards(current_user._get_current_object(), level, q, today())
    tabs = [{"label": LEVEL_LABELS[lv], "url": url_for("courses.catalog", level=lv.value, q=q or None),
             "active": lv.value == level} for lv in CourseLevel]
    return render_template("courses/catalog.html", cards=cards, tabs=tabs, level=level, q=q,
                           level_label=LEVEL_LABELS[CourseLevel(level)])


#: later features add items to 我的学习 (quizzes: assigned and scheduled exams): fn(user) -> [{"title", "facts":
#: [(label, text)], "state", "urgent", "url", "action"}]; courses cannot import them (feature order)
_LEARNING_ITEMS: list = []


def register_learning_items(fn) -> None:
    """Add a provider of 我的学习 items (called once per page, in registration order); idempotent per app."""
    if fn not in _LEARNING_ITEMS:
        _LEARNING_ITEMS.append(fn)


@bp.get("/learning")
@login_required
def learning():
    user = current_user._get_current_object()
    cards = queries.my_learning(user, today())
    resume = queries.resume_lessons(user, cards)
    for card in cards:
        lesson = resume[card["course"].id]
        card["resume_url"] = cached_url("courses.lesson", code=card["course"].code, slug=lesson.slug) if lesson \
            else cached_url("courses.course", code=card["course"].code)
    exams = [item for provider in _LEARNING_ITEMS for item in provider(user)]
    return render_template("courses/learning.html", cards=cards, exams=exams)


@bp.get("/courses/<code>")
@login_required
def course(code):
    user = current_user._get_current_object()
    card = queries.visible_card(user, code, today())
    if card is None:
        raise NotFound(COURSE_NOT_FOUND)
    course = card["course"]
    lessons = queries.outlines([course])[course.id].lessons
    state = queries.lesson_state(user, course.id)
    return render_template("courses/course.html", course=course, card=card, summary=trusted(course.summary_html),
                           lessons=[{"lesson": lesson, "done": lesson.id in state.done} for lesson in lessons],
                           resume=queries.pick_resume(lessons, state.done, state.last_lesson_id),
                           started=card["started"], complete=card["complete"], quiz_passed=card["quiz_passed"],
                           final_quiz=queries.final_quiz(course.quiz_code, user.id) if course.quiz_code else None,
                           can_edit=services.can_author(user, course.level, course.org))


@bp.get("/courses/<code>/lessons/<slug>")
@login_required
def lesson(code, slug):
    user = current_user._get_current_object()
    course, outline, index, state = reading(user, code, slug)
    lessons = outline.lessons
    lesson = lessons[index]
    context = {
        "course_code": course.code, "course_title": course.title, "title": lesson.title, "minutes": lesson.minutes,
        "slug": lesson.slug, "body": trusted(queries.lesson_html(outline, lesson)), "done": lesson.id in state.done,
        "position": index + 1, "count": len(lessons),
        "prev": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None,
        "can_complete": has_permission(user, Permission.LEARN),
    }
    remember_opened(course, lesson, state)
    return render_template("courses/lesson.html", **context)


@bp.post("/courses/<code>/lessons/<slug>/complete")
@login_required
@require(Permission.LEARN)
def complete(code, slug):
    course = visible_course_or_404(code)
    lesson = lesson_or_404(course, slug)
    finished = services.complete_lesson(current_user, course, lesson, now=utcnow())
    lessons = queries.active_lessons(course)
    later = [item for item in lessons if item.position > lesson.position]
    db.session.commit()
    if finished:
        flash("恭喜，本课程已全部完成！", "success")
    elif not later and course.quiz_code:
        flash("课时已全部学完，通过结业测验后课程即完成。", "success")
    else:
        flash("已标记为学完。", "success")
    if later and request.form.get("then") == "next":
        return redirect(url_for("courses.lesson", code=code, slug=later[0].slug))
    return redirect(url_for("courses.course", code=code))


@bp.get("/courses/<code>/assets/<path:filename>")
@login_required
def asset(code, filename):
    if asset_path_problem(filename) is not None:  # '..', backslashes, absolute: never a course's file
        raise NotFound("找不到该文件")
    course = queries.get_visible_course(current_user, code)
    if course is None:
        course = queries.get_course(code)
        if course is None or not services.can_author(current_user, course.level, course.org):
            raise NotFound("找不到该文件")
    item = queries.get_asset(course, filename)
    if item is None:
        raise NotFound("找不到该文件")
    response = Response(item.data, mimetype=item.content_type)
    disposition = "inline" if item.content_type.startswith("image/") or item.content_type == "application/pdf" \
        else "attachment"
    # The file's own name (images/流程图.png → 流程图.png), RFC 6266 encoded: a Chinese name is not Latin-1.
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(item.filename.rsplit('/', 1)[-1])}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


# --- authoring --------------------------------------------------------------------------------------------------

def _authored_course_or_404(code):
    course = queries.get_course(code)
    if course is None:
        raise NotFound("找不到该课程")
    services.authorize_author(current_user, course)
    return course


def _author_org_choices() -> list[tuple[str, str]]:
    seen, choices = set(), []
    for scope in scope_orgs(current_user, Permission.AUTHOR_CONTENT):
        for unit in list_subtree(scope):
            if unit.code not in seen and unit.kind != OrgKind.grid:
                seen.add(unit.code)
                choices.append((unit.code, f"{unit.name}（{unit.code}）"))
    return choices


def _suggest(kind: str, title_id: str, **extra) -> dict:
    """Attributes for a code field whose placeholder shows the code its title will give (editor_codes.js)."""
    return {"data-code-kind": kind, "data-code-from": title_id, "data-code-url": url_for("courses.author_code_suggestion"),
            **{f"data-code-{k}": v for k, v in extra.items()}}


@bp.get("/author/courses")
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_list():
    courses = queries.authored_courses(current_user, scope_clause(current_user, Permission.AUTHOR_CONTENT,
                                                                  OrgUnit.path))
    rows = [{"course": c, "can_edit": services.can_author(current_user, c.level, c.org)} for c in courses]
    return render_template("courses/author_list.html", rows=rows,
                           can_assign=has_permission(current_user, Permission.ASSIGN))


@bp.route("/author/courses/new", methods=["GET", "POST"])
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_new():
    form = CourseForm()
    form.level.choices = [(lv.value, LEVEL_LABELS[lv]) for lv in services.author_levels(current_user)]
    form.org.choices = _author_org_choices()
    form.quiz_code.choices = [("", "（不设结业测验）")] + queries.quiz_choices(form.quiz_code.data or None)
    form.code.render_kw = _suggest("course", form.title.id)
    status = 200
    if form.validate_on_submit():
        try:
            course = services.create_course(
                current_user, code=form.code.data, title=form.title.data, level=form.level.data,
                org=get_org(form.org.data), hours=form.hours.data, quiz_code=form.quiz_code.data,
                tags=form.tags.data, summary=form.summary.data or "", now=utcnow())
        except ValidationError as exc:
            (form.code if exc.code in ("duplicate_code", "invalid_code") else form.title).errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            flash("课程已创建（未发布）。请添加课时后发布。", "success")
            return redirect(url_for("courses.author_course", code=course.code))
    elif request.method == "POST":
        status = 422
    return render_template("courses/author_new.html", form=form), status


@bp.route("/author/courses/<code>", methods=["GET", "POST"])
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_course(code):
    course = _authored_course_or_404(code)
    form = CourseEditForm(obj=None if request.method == "POST" else course)
    if request.method == "GET":
        form.tags.data = "、".join(course.tags or [])
    form.quiz_code.choices = [("", "（不设结业测验）")] + queries.quiz_choices(form.quiz_code.data or None)
    status = 200
    if form.validate_on_submit():
        try:
            services.update_course(current_user, course, title=form.title.data, hours=form.hours.data,
                                   quiz_code=form.quiz_code.data, tags=form.tags.data,
                                   summary=form.summary.data or "", now=utcnow())
        except ValidationError as exc:
            form.title.errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            flash("课程信息已保存。", "success")
            return redirect(url_for("courses.author_course", code=code))
    elif request.method == "POST":
        status = 422
    return render_template("courses/author_course.html", course=course, form=form, upload=UploadForm(),
                           lessons=queries.active_lessons(course), assets=queries.list_assets(course),
                           asset_base=services.asset_base(course.code)), status


@bp.route("/author/courses/<code>/lessons/new", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/author/courses/<code>/lessons/<slug>", methods=["GET", "POST"])
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_lesson(code, slug):
    course = _authored_course_or_404(code)
    lesson = None
    if slug is not None:
        lesson = queries.get_lesson(course, slug)
        if lesson is None:
            raise NotFound("找不到该课时")
    form = LessonForm()
    form.slug.render_kw = _suggest("lesson", form.title.id, course=course.code)
    if request.method == "GET" and lesson is not None:
        version = queries.current_version(lesson)
        form.slug.data, form.title.data, form.minutes.data = lesson.slug, lesson.title, lesson.minutes
        form.markdown.data = version.markdown if version else ""
    status = 200
    if form.validate_on_submit():
        try:
            saved = services.save_lesson(current_user, course, slug=slug, new_slug=form.slug.data,
                                         title=form.title.data, minutes=form.minutes.data,
                                         markdown=form.markdown.data, now=utcnow())
        except ValidationError as exc:
            (form.slug if exc.code in ("invalid_slug", "duplicate_slug") else form.markdown).errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            flash("课时已保存（新版本）。", "success")
            return redirect(url_for("courses.author_lesson", code=code, slug=saved.slug))
    elif request.method == "POST":
        status = 422
    return render_template("courses/author_lesson.html", course=course, lesson=lesson, form=form), status


@bp.post("/author/courses/<code>/lessons/<slug>/move")
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_move(code, slug):
    course = _authored_course_or_404(code)
    delta = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if delta is None:
        raise ValidationError("移动方向必须是 up 或 down", code="invalid_direction")
    services.move_lesson(current_user, course, slug, delta, now=utcnow())
    db.session.commit()
    return redirect(url_for("courses.author_course", code=code) + "#lessons")


@bp.post("/author/courses/<code>/publish")
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_publish(code):
    course = _authored_course_or_404(code)
    action = request.form.get("action")
    if action not in ("publish", "unpublish"):
        raise ValidationError("操作必须是发布或撤回", code="invalid_action")
    services.set_published(current_user, course, action == "publish", now=utcnow())
    db.session.commit()
    flash("课程已发布。" if action == "publish" else "课程已撤回，学员暂时看不到。", "success")
    return redirect(url_for("courses.author_course", code=code))


@bp.post("/author/courses/<code>/assets")
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_upload(code):
    course = _authored_course_or_404(code)
    form = UploadForm()
    upload = form.file.data if form.validate_on_submit() else None
    if upload is None or not getattr(upload, "filename", ""):
        raise ValidationError("请选择要上传的文件", code="file_required")
    data = upload.stream.read(services.MAX_UPLOAD_BYTES + 1)
    asset = services.add_asset(current_user, course, upload.filename, data, now=utcnow())
    db.session.commit()
    flash(f"已上传：{asset.filename}。在正文中写 ![说明]({asset.filename}) 即可插入。", "success")
    return redirect(url_for("courses.author_course", code=code) + "#assets")


@bp.post("/author/courses/<code>/images")
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_image(code):
    """The lesson editor's 图片 button: one image (or PDF) stored as the course's media, answered in JSON with the
    Markdown to insert; refusals (type, size, pixels) come back as {error: {code, message}} in Chinese."""
    course = _authored_course_or_404(code)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return jsonify(error={"code": "file_required", "message": "请选择要插入的图片"}), 400
    try:
        item = services.add_asset(current_user, course, upload.filename,
                                  upload.stream.read(services.MAX_UPLOAD_BYTES + 1), now=utcnow())
    except LMSError as exc:
        db.session.rollback()
        return jsonify(error={"code": exc.code, "message": exc.message}), exc.status
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now
    db.session.commit()
    alt = (request.form.get("alt") or "").strip()[:60] or "图片"
    markdown = f"![{alt}]({item.filename})" if item.content_type.startswith("image/") \
        else f"[{alt}]({services.asset_base(course.code)}{item.filename})"
    return jsonify(filename=item.filename, markdown=markdown, url=services.asset_base(course.code) + item.filename)


#: kind -> (table, longest code, stem when the title gives none): as each kind's form generates its code
_CODE_KINDS = {"course": ("courses", 64, "kc"), "quiz": ("quizzes", 64, "cy"), "bank": ("quiz_banks", 64, "tk"),
               "drill": ("drills", 80, "yl")}


@bp.get("/author/code-suggestion")
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_code_suggestion():
    """The code a blank code field will get for this title (shown as the field's placeholder while typing)."""
    kind, title = request.args.get("kind", ""), request.args.get("title", "")[:200]
    if kind == "lesson":
        course = _authored_course_or_404(request.args.get("course", ""))
        code = codes.generate(title, lambda s: queries.get_lesson(course, s) is not None, max_len=100, fallback="ks")
        return jsonify(code=code)
    if kind not in _CODE_KINDS:
        return jsonify(error={"code": "bad_request", "message": "kind 只能是 course、lesson、quiz、bank 或 drill"}), 400
    name, longest, fallback = _CODE_KINDS[kind]
    table = db.metadata.tables.get(name)
    def taken(candidate: str) -> bool:
        return table is not None and db.session.scalar(sa.select(table.c.code).where(table.c.code == candidate)) \
            is not None
    return jsonify(code=codes.generate(title, taken, max_len=longest, fallback=fallback))


@bp.post("/author/preview")
@login_required
@require(Permission.AUTHOR_CONTENT)
def author_preview():
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("markdown"), str):
        raise LMSError("请求体必须是 {markdown: 文本}", code="bad_request", status=400)
    if len(data["markdown"]) > services.MAX_MARKDOWN:
        raise ValidationError("正文太长（不超过 20 万字）", code="body_too_long")
    code = data.get("course") if isinstance(data.get("course"), str) else None
    base = services.asset_base(code) if code and queries.get_course(code) else None
    return jsonify(html=str(render_markdown(data["markdown"], asset_base=base)))


# --- assignments ------------------------------------------------------------------------------------------------

@bp.route("/author/assignments", methods=["GET", "POST"])
@login_required
@require(Permission.ASSIGN)
def assignments():
    form = AssignmentForm()
    courses = [c for c in queries.authored_courses(current_user, sa.true()) if c.is_published and not c.is_retired]
    form.target.choices = [("", "（不指派课程，改为测验）")] + [(c.code, f"{c.level_label} · {c.title}") for c in courses]
    form.quiz_code.choices = [("", "（不指派测验）")] + queries.quiz_choices(form.quiz_code.data or None)
    orgs = []
    for scope in scope_orgs(current_user, Permission.ASSIGN):
        orgs += [u for u in list_subtree(scope) if u.code not in {o.code for o in orgs}]
    form.org.choices = [(u.code, f"{u.name}（{u.code}）") for u in orgs]
    form.role.choices = [("", "全部人员")] + [(r.value, ROLE_LABELS[r]) for r in
                                            (Role.worker, Role.grid_leader, Role.mentor, Role.trainer)]
    status = 200
    if form.validate_on_submit():
        try:
            services.create_assignment(current_user, course_code=form.target.data or None,
                                       quiz_code=form.quiz_code.data or None, org=get_org(form.org.data),
                                       role=form.role.data or None, due=form.due.data, now=utcnow(),
                                       client_addr=client_addr())
        except ValidationError as exc:
            (form.due if exc.code in ("due_in_past", "invalid_due") else form.target).errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            flash("已指派。该组织（含下级）的现有和新加入人员都会看到。", "success")
            return redirect(url_for("courses.assignments"))
    elif request.method == "POST":
        status = 422
    recent = list(db.session.scalars(
        sa.select(Assignment).join(OrgUnit, OrgUnit.id == Assignment.org_id)
        .where(scope_clause(current_user, Permission.ASSIGN, OrgUnit.path))
        .order_by(Assignment.created_at.desc()).limit(50)))
    return render_template("courses/assignments.html", form=form, recent=recent, role_labels=ROLE_LABELS,
                           quiz_titles=queries.quiz_titles(a.quiz_code for a in recent)), status

