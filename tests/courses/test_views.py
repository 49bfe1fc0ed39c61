"""HTML pages: catalog, reader, completion, my learning, authoring (scope, versions, uploads, preview), assignments."""
from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from PIL import Image

from lms.audit.models import AuditEntry
from lms.courses.models import Assignment, Course, CourseAsset, LessonVersion, Origin
from lms.courses.queries import current_version, get_course, get_lesson
from lms.extensions import db
from tests.courses.factories import make_course
from tests.factories import make_user


@pytest.fixture
def world(tree):
    make_user("w1", "worker", tree["g1"])
    make_user("w2", "worker", tree["g2"])
    make_user("tc", "trainer", tree["county"])
    make_user("tq", "trainer", tree["t1"])
    make_user("tv", "trainer", tree["v1"])
    make_course("county-c", level="county", org="HX", lessons=3, title="事件上报基础", tags=("上报",))
    make_course("t1-c", level="township", org="HX01", lessons=1, title="青石镇调解")
    make_course("t2-c", level="township", org="HX02", lessons=1, title="城关征收")
    return tree


def page(api, url) -> str:
    response = api.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def form_post(api, url, data=None, **kwargs):
    return api.client.post(url, data={"csrf_token": api.csrf, **(data or {})}, **kwargs)


# --- learning ---------------------------------------------------------------------------------------------------

def test_catalog_shows_three_level_tabs_and_my_courses(api, world):
    api.login("w1")
    html = page(api, "/courses")
    for label in ("县训", "乡培", "村练"):
        assert label in html
    assert "事件上报基础" in html and "<progress" in html
    township = page(api, "/courses?level=township")
    assert "青石镇调解" in township and "城关征收" not in township


def test_catalog_search_matches_chinese_substrings_of_title_and_tag(api, world):
    api.login("w1")
    assert "事件上报基础" in page(api, "/courses?level=county&q=上报")
    assert "事件上报基础" not in page(api, "/courses?level=county&q=征收")


def test_course_page_of_another_township_is_404(api, world):
    api.login("w2")
    assert api.get("/courses/t1-c").status_code == 404
    assert api.get("/courses/t1-c/lessons/l1").status_code == 404


def test_reader_has_typography_hooks_navigation_and_no_inline_script(api, world):
    api.login("w1")
    html = page(api, "/courses/county-c/lessons/l2")
    assert 'class="lesson-body"' in html and 'data-action="read-aloud" hidden' in html
    assert "/courses/county-c/lessons/l1" in html and "/courses/county-c/lessons/l3" in html
    assert "预计 5 分钟" in html and "<script>" not in html and "style=" not in html
    assert "js/courses.js" in html and "css/courses.css" in html


def test_mark_complete_needs_csrf_and_moves_on(api, world):
    api.login("w1")
    assert api.client.post("/courses/county-c/lessons/l1/complete").status_code == 400
    response = form_post(api, "/courses/county-c/lessons/l1/complete", {"then": "next"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/courses/county-c/lessons/l2")
    html = page(api, "/courses/county-c")
    assert "已学 1/3 课" in html and "✓ 已学完" in html


def test_course_page_resumes_where_i_left_off(api, world):
    api.login("w1")
    page(api, "/courses/county-c/lessons/l2")
    html = page(api, "/courses/county-c")
    assert 'href="/courses/county-c/lessons/l2">继续学习' in html


def test_my_learning_lists_assigned_courses_overdue_first(api, world):
    today = dt.date.today()
    db.session.add_all([
        Assignment(course=get_course("t1-c"), org=world["t1"], due_on=today + dt.timedelta(days=30)),
        Assignment(course=get_course("county-c"), org=world["county"], due_on=today - dt.timedelta(days=1)),
    ])
    db.session.commit()
    api.login("w1")
    html = page(api, "/learning")
    assert html.index("事件上报基础") < html.index("青石镇调解")
    assert "（已逾期）" in html and "开始学习" in html
    home = page(api, "/")
    assert "学习" in home and "事件上报基础" in home


def test_my_learning_role_filter(api, world):
    db.session.add(Assignment(course=get_course("county-c"), org=world["county"], role="grid_leader",
                              due_on=dt.date.today() + dt.timedelta(days=3)))
    db.session.commit()
    api.login("w1")
    assert "事件上报基础" not in page(api, "/learning")


def test_assets_are_served_with_their_type_and_nosniff(api, world):
    course = get_course("county-c")
    db.session.add(CourseAsset(course_id=course.id, filename="flow.png", content_type="image/png", size=8,
                               content_hash="x", data=b"\x89PNG\r\n\x1a\n"))
    db.session.commit()
    api.login("w1")
    response = api.get("/courses/county-c/assets/flow.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert api.get("/courses/county-c/assets/missing.png").status_code == 404
    api.login("w2")
    assert api.get("/courses/t1-c/assets/flow.png").status_code == 404


# --- authoring --------------------------------------------------------------------------------------------------

NEW = {"code": "t1-new", "title": "青石镇新课", "level": "township", "org": "HX01", "hours": "1.5", "quiz_code": "",
       "tags": "调解、新课", "summary": "简介 **重点**"}


def test_township_trainer_creates_a_township_course(api, world):
    api.login("tq")
    response = form_post(api, "/author/courses/new", NEW)
    assert response.status_code == 302
    course = get_course("t1-new")
    assert course.origin == Origin.web and not course.is_published and course.tags == ["调解", "新课"]
    assert "<strong>重点</strong>" in course.summary_html


@pytest.mark.parametrize("change, message", [
    ({"code": "county-c"}, "已被使用"),
    ({"title": ""}, "请填写课程标题"),
    ({"hours": "很多"}, "请填写数字"),
    ({"hours": "-1"}, "学时在 0 到 200 之间"),
    ({"level": "galaxy"}, "级别必须是县训、乡培或村练"),
    ({"org": "NOPE"}, "找不到该组织"),
])
def test_bad_course_forms_are_refused_and_nothing_is_saved(api, world, change, message):
    api.login("tq")
    response = form_post(api, "/author/courses/new", {**NEW, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert get_course("t1-new") is None


@pytest.mark.parametrize("change", [{"level": "county", "org": "HX"}, {"level": "county"}, {"org": "HX02"}])
def test_township_trainer_cannot_create_outside_level_or_township(api, world, change):
    api.login("tq")
    assert form_post(api, "/author/courses/new", {**NEW, **change}).status_code == 403
    assert get_course("t1-new") is None


def test_township_trainer_cannot_edit_a_county_course(api, world):
    api.login("tq")
    assert api.get("/author/courses/county-c").status_code == 403
    assert form_post(api, "/author/courses/county-c/lessons/l1",
                     {"title": "改", "minutes": "5", "markdown": "x"}).status_code == 403
    assert form_post(api, "/author/courses/county-c/publish", {"action": "unpublish"}).status_code == 403
    assert get_course("county-c").is_published


def test_township_trainer_cannot_edit_another_townships_course(api, world):
    api.login("tq")
    assert api.get("/author/courses/t2-c").status_code == 403


def test_village_trainer_cannot_create_a_township_course(api, world):
    api.login("tv")
    response = form_post(api, "/author/courses/new", {**NEW, "org": "HX0101"})
    assert response.status_code == 403 and get_course("t1-new") is None


def test_worker_cannot_reach_authoring(api, world):
    api.login("w1")
    assert api.get("/author/courses").status_code == 403
    assert api.get("/author/courses/new").status_code == 403


def test_editing_a_lesson_makes_a_new_version_and_detaches_a_file_course(api, world):
    course = get_course("county-c")
    course.origin = Origin.file
    db.session.commit()
    api.login("tc")
    response = form_post(api, "/author/courses/county-c/lessons/l1",
                         {"title": "第1课（修订）", "minutes": "7", "markdown": "## 新正文\n\n<script>x()</script>内容"})
    assert response.status_code == 302
    lesson = get_lesson(get_course("county-c"), "l1")
    assert lesson.version == 2 and lesson.title == "第1课（修订）" and lesson.minutes == 7
    html = current_version(lesson).html
    assert "新正文" in html and "<script" not in html
    assert get_course("county-c").is_detached
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonVersion)
                             .where(LessonVersion.lesson_id == lesson.id)) == 2


@pytest.mark.parametrize("data", [
    {"title": "", "minutes": "5", "markdown": "x"},
    {"title": "t", "minutes": "0", "markdown": "x"},
    {"title": "t", "minutes": "五", "markdown": "x"},
    {"title": "t", "minutes": "", "markdown": "x"},
    {"title": "t", "minutes": "5", "markdown": ""},
    {"title": "t", "minutes": "5", "markdown": "x", "slug": "l1"},
])
def test_bad_new_lessons_are_refused(api, world, data):
    api.login("tc")
    response = form_post(api, "/author/courses/county-c/lessons/new", data)
    assert response.status_code == 422
    assert "Not a valid" not in response.get_data(as_text=True)
    assert len(get_course("county-c").lessons) == 3


def test_new_lesson_is_appended(api, world):
    api.login("tc")
    response = form_post(api, "/author/courses/county-c/lessons/new",
                         {"slug": "extra", "title": "加课", "minutes": "4", "markdown": "正文"})
    assert response.status_code == 302
    assert [lesson.slug for lesson in get_course("county-c").lessons][-1] == "extra"


def test_reorder_lessons(api, world):
    api.login("tc")
    assert form_post(api, "/author/courses/county-c/lessons/l3/move", {"direction": "up"}).status_code == 302
    db.session.expire_all()
    assert [lesson.slug for lesson in get_course("county-c").lessons] == ["l1", "l3", "l2"]
    assert form_post(api, "/author/courses/county-c/lessons/l3/move", {"direction": "sideways"}).status_code == 422
    assert form_post(api, "/author/courses/county-c/lessons/nope/move", {"direction": "up"}).status_code == 404


def test_publish_and_unpublish_are_audited(api, world):
    api.login("tc")
    assert form_post(api, "/author/courses/county-c/publish", {"action": "unpublish"}).status_code == 302
    assert not get_course("county-c").is_published
    assert form_post(api, "/author/courses/county-c/publish", {"action": "bogus"}).status_code == 422
    assert form_post(api, "/author/courses/county-c/publish", {"action": "publish"}).status_code == 302
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"course.publish", "course.unpublish"} <= actions


def test_empty_course_cannot_be_published(api, world):
    make_course("empty-c", lessons=0, published=False)
    api.login("tc")
    response = form_post(api, "/author/courses/empty-c/publish", {"action": "publish"})
    assert response.status_code == 422 and not get_course("empty-c").is_published


def _png(width=2400, height=1200, fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def test_image_upload_is_resized_and_reencoded(api, world):
    api.login("tc")
    response = form_post(api, "/author/courses/county-c/assets",
                         {"file": (io.BytesIO(_png()), "流程 图.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    asset = db.session.scalar(sa.select(CourseAsset).options(sa.orm.undefer(CourseAsset.data)))
    assert asset.content_type == "image/png" and asset.filename.endswith(".png")
    with Image.open(io.BytesIO(asset.data)) as image:
        assert max(image.size) == 1600


def test_jpeg_upload_stays_jpeg(api, world):
    api.login("tc")
    form_post(api, "/author/courses/county-c/assets", {"file": (io.BytesIO(_png(100, 80, "JPEG")), "photo.jpg")},
              content_type="multipart/form-data")
    assert db.session.scalar(sa.select(CourseAsset.content_type)) == "image/jpeg"


def test_pdf_upload_is_accepted_by_magic_bytes(api, world):
    api.login("tc")
    response = form_post(api, "/author/courses/county-c/assets",
                         {"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "guide.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(CourseAsset.content_type)) == "application/pdf"


@pytest.mark.parametrize("payload, name, status", [
    (b"<script>alert(1)</script>", "evil.png", 422),
    (b"GIF89a" + b"\x00" * 20, "broken.gif", 422),
    (b"MZ\x90\x00" * 10, "tool.pdf", 422),
    (b"", "empty.png", 422),
])
def test_disguised_or_broken_uploads_are_refused(api, world, payload, name, status):
    api.login("tc")
    response = form_post(api, "/author/courses/county-c/assets", {"file": (io.BytesIO(payload), name)},
                         content_type="multipart/form-data")
    assert response.status_code == status
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseAsset)) == 0


def test_oversized_upload_is_refused(api, world):
    api.login("tc")
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10)
    # A hand-built body: werkzeug's test encoder spools big uploads to a temp file it never closes.
    boundary = "----lmsboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{api.csrf}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()
    response = api.client.post("/author/courses/county-c/assets", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseAsset)) == 0


def test_upload_outside_scope_is_forbidden(api, world):
    api.login("tq")
    response = form_post(api, "/author/courses/county-c/assets", {"file": (io.BytesIO(_png(10, 10)), "a.png")},
                         content_type="multipart/form-data")
    assert response.status_code == 403


def test_preview_renders_through_the_sanitiser(api, world):
    api.login("tc")
    response = api.post("/author/preview", json={"markdown": "# 标题\n\n<img src=x onerror=alert(1)>[a](javascript:x)",
                                                 "course": "county-c"})
    html = response.get_json()["html"]
    assert response.status_code == 200 and '<h1 id="标题">标题</h1>' in html
    assert "onerror" not in html and "javascript" not in html
    assert 'src="/courses/county-c/assets/x"' in html


def test_preview_bad_input_and_permissions(api, world):
    api.login("tc")
    assert api.post("/author/preview", json={"markdown": 5}).status_code == 400
    assert api.client.post("/author/preview", json={"markdown": "x"}).status_code == 400  # no CSRF header
    api.login("w1")
    assert api.post("/author/preview", json={"markdown": "x"}).status_code == 403


def test_author_pages_render(api, world):
    api.login("tc")
    assert "事件上报基础" in page(api, "/author/courses")
    assert "新增课时" in page(api, "/author/courses/county-c")
    html = page(api, "/author/courses/county-c/lessons/l1")
    assert "data-preview-url" in html and "正文 1" in html
    assert "创建课程" in page(api, "/author/courses/new")


# --- assignment form --------------------------------------------------------------------------------------------

def test_assignment_form_creates_an_assignment(api, world):
    api.login("tc")
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    response = form_post(api, "/author/assignments", {"target": "county-c", "quiz_code": "", "org": "HX01",
                                                      "role": "", "due": due})
    assert response.status_code == 302
    assignment = db.session.scalar(sa.select(Assignment))
    assert assignment.course.code == "county-c" and assignment.org.code == "HX01" and assignment.role is None


@pytest.mark.parametrize("data", [
    {"target": "", "quiz_code": "", "org": "HX01", "role": "", "due": "2099-01-01"},
    {"target": "county-c", "quiz_code": "exam", "org": "HX01", "role": "", "due": "2099-01-01"},
    {"target": "county-c", "quiz_code": "", "org": "HX01", "role": "", "due": "2000-01-01"},
    {"target": "county-c", "quiz_code": "", "org": "HX01", "role": "", "due": ""},
    {"target": "county-c", "quiz_code": "", "org": "HX01", "role": "", "due": "下周"},
    {"target": "county-c", "quiz_code": "", "org": "HX01", "role": "king", "due": "2099-01-01"},
    {"target": "county-c", "quiz_code": "", "org": "NOPE", "role": "", "due": "2099-01-01"},
    {"target": "nope", "quiz_code": "", "org": "HX01", "role": "", "due": "2099-01-01"},
])
def test_bad_assignment_forms_are_refused(api, world, data):
    api.login("tc")
    assert form_post(api, "/author/assignments", data).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_township_trainer_assignment_form_offers_only_their_subtree(api, world):
    api.login("tq")
    html = page(api, "/author/assignments")
    assert 'value="HX01"' in html and 'value="HX02"' not in html
    response = form_post(api, "/author/assignments", {"target": "county-c", "org": "HX02", "role": "",
                                                      "due": "2099-01-01", "quiz_code": ""})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_published_course_list_for_assignment_excludes_drafts(api, world):
    make_course("draft-c", published=False, title="草稿课")
    api.login("tc")
    assert "草稿课" not in page(api, "/author/assignments")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 4


def test_editing_course_info_validates_and_detaches(api, world):
    course = get_course("county-c")
    course.origin = Origin.file
    db.session.commit()
    api.login("tc")
    bad = form_post(api, "/author/courses/county-c", {"title": "", "hours": "2", "quiz_code": "", "tags": "",
                                                      "summary": ""})
    assert bad.status_code == 422 and get_course("county-c").title == "事件上报基础"
    assert not get_course("county-c").is_detached
    good = form_post(api, "/author/courses/county-c", {"title": "事件上报（新版）", "hours": "2.5", "quiz_code": "quiz-x",
                                                       "tags": "上报, 新", "summary": "新简介"})
    assert good.status_code == 302
    course = get_course("county-c")
    assert course.title == "事件上报（新版）" and course.hours == 2.5 and course.quiz_code == "quiz-x"
    assert course.tags == ["上报", "新"] and course.is_detached and course.summary_html == "<p>新简介</p>"


AUTHOR_ROUTES = [
    ("get", "/author/courses/county-c", None),
    ("post", "/author/courses/county-c", {"title": "x", "hours": "1"}),
    ("get", "/author/courses/county-c/lessons/l1", None),
    ("get", "/author/courses/county-c/lessons/new", None),
    ("post", "/author/courses/county-c/lessons/new", {"slug": "x", "title": "x", "minutes": "5", "markdown": "x"}),
    ("post", "/author/courses/county-c/lessons/l1/move", {"direction": "down"}),
    ("post", "/author/courses/county-c/publish", {"action": "unpublish"}),
]


@pytest.mark.parametrize("method, url, data", AUTHOR_ROUTES)
def test_every_authoring_route_refuses_a_trainer_of_another_level(api, world, method, url, data):
    api.login("tq")
    response = api.get(url) if method == "get" else form_post(api, url, data)
    assert response.status_code == 403
    course = get_course("county-c")
    assert course.title == "事件上报基础" and course.is_published and course.version == 1


@pytest.mark.parametrize("url", ["/courses/t1-c", "/courses/t1-c/lessons/l1", "/api/v1/courses/t1-c",
                                 "/api/v1/courses/t1-c/lessons/l1"])
def test_every_learning_route_hides_an_out_of_scope_course(api, world, url):
    api.login("w2")
    assert api.get(url).status_code == 404
    assert form_post(api, "/courses/t1-c/lessons/l1/complete").status_code == 404


def test_unknown_course_in_authoring_is_404(api, world):
    api.login("tc")
    assert api.get("/author/courses/nope").status_code == 404
    assert api.get("/author/courses/county-c/lessons/nope").status_code == 404


def test_trainer_home_offers_authoring_and_assignments(api, world):
    api.login("tc")
    html = page(api, "/")
    assert "/author/courses" in html and "/author/assignments" in html


def test_api_catalog_search_by_tag(api, world):
    api.login("w1")
    body = api.get("/api/v1/courses?q=上报").get_json()
    assert [c["code"] for c in body["courses"]] == ["county-c"]


def test_my_learning_cards_follow_progress_due_dates_and_course_edits(api, world):
    """Card HTML is remembered per process: a completed lesson, a new due date or a renamed course must show."""
    today = dt.date.today()
    assignment = Assignment(course=get_course("county-c"), org=world["county"], due_on=today + dt.timedelta(days=9))
    db.session.add(assignment)
    db.session.commit()
    api.login("w1")
    assert "已学 0/3 课" in page(api, "/learning")
    form_post(api, "/courses/county-c/lessons/l1/complete")
    html = page(api, "/learning")
    assert "已学 1/3 课" in html and "已学 0/3 课" not in html and "继续学习" in html
    assignment.due_on = today - dt.timedelta(days=1)
    course = get_course("county-c")
    course.title, course.version = "事件上报基础（修订）", course.version + 1
    db.session.commit()
    html = page(api, "/learning")
    assert "事件上报基础（修订）" in html and "（已逾期）" in html
    assert page(api, "/courses").count("事件上报基础（修订）") == 1
