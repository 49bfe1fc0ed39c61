"""Lesson editor: toolbar and side-by-side preview, image upload from the editor (JSON, Chinese refusals),
course folders with subfolders (images/) in the import and the content check, path traversal refused."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from lms.contentcheck.load import load_content
from lms.courses.models import CourseAsset
from lms.courses.queries import current_version, get_course, get_lesson
from lms.extensions import db
from tests.courses.factories import run_import
from tests.courses.test_views import form_post, page, world  # noqa: F401  (fixture)


def _png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _upload(api, code, data: bytes, name: str, **extra):
    return api.client.post(f"/author/courses/{code}/images", data={"file": (io.BytesIO(data), name), **extra},
                           headers={"X-CSRFToken": api.csrf}, content_type="multipart/form-data")


def test_the_lesson_editor_has_a_toolbar_and_a_side_by_side_preview(api, world):  # noqa: F811
    api.login("tc")
    html = page(api, "/author/courses/county-c/lessons/l1")
    assert 'role="toolbar" aria-label="正文格式"' in html and "js/editor.js" in html and "css/editor.css" in html
    for label in ("标题", "列表", "表格", "图片…", "提示框"):
        assert f">{label}</button>" in html
    assert 'data-upload-url="/author/courses/county-c/images"' in html
    assert 'class="lesson-editor-grid"' in html and 'id="preview"' in html


def test_callouts_the_toolbar_writes_render_as_quotes_with_their_label(api, world):  # noqa: F811
    api.login("tc")
    reply = api.post("/author/preview", json={"markdown": "> **提示：** 先核实再上报", "course": "county-c"})
    assert reply.get_json()["html"] == "<blockquote>\n<p><strong>提示：</strong> 先核实再上报</p>\n</blockquote>"


def test_an_image_uploaded_from_the_editor_is_course_media_with_markdown_to_insert(api, world):  # noqa: F811
    api.login("tc")
    reply = _upload(api, "county-c", _png(), "流程 图.png", alt="上报流程")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body == {"filename": "lc-t.png", "markdown": "![上报流程](lc-t.png)",
                    "url": "/courses/county-c/assets/lc-t.png"}
    served = api.get(body["url"])
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert "filename*=UTF-8''" in served.headers["Content-Disposition"]
    lesson = form_post(api, "/author/courses/county-c/lessons/l1",
                       {"title": "第1课", "minutes": "5", "markdown": body["markdown"]})
    assert lesson.status_code == 302
    assert f'src="{body["url"]}"' in current_version(get_lesson(get_course("county-c"), "l1")).html


@pytest.mark.parametrize("data, name, status, message", [
    (b"<script>alert(1)</script>", "evil.png", 422, "不是有效的图片"),
    (b"", "empty.png", 422, "请选择要上传的文件"),
    (b"GIF89a" + b"\0" * 10, "broken.gif", 422, "不是有效的图片"),
])
def test_bad_images_are_refused_in_chinese_and_nothing_is_stored(api, world, data, name, status, message):  # noqa: F811
    api.login("tc")
    reply = _upload(api, "county-c", data, name)
    assert reply.status_code == status and message in reply.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseAsset)) == 0


def test_an_image_too_large_is_refused(api, world):  # noqa: F811
    api.login("tc")
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10)
    # A hand-built body: werkzeug's test encoder spools big uploads to a temp file it never closes.
    boundary = "----lmsboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()
    reply = api.client.post("/author/courses/county-c/images", data=body, headers={"X-CSRFToken": api.csrf},
                            content_type=f"multipart/form-data; boundary={boundary}")
    assert reply.status_code == 413 and "不能超过 5 MB" in reply.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseAsset)) == 0


def test_only_the_courses_authors_may_upload(api, world):  # noqa: F811
    api.login("tv")  # a village trainer: the county course is above their level
    assert _upload(api, "county-c", _png(), "x.png").status_code == 403
    assert api.get("/author/courses/county-c/lessons/l1").status_code == 403
    assert form_post(api, "/author/courses/county-c/lessons/l1",
                     {"title": "改", "minutes": "5", "markdown": "x"}).status_code == 403
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w1")
    assert _upload(api, "county-c", _png(), "x.png").status_code == 403
    no_token = api.client.post("/author/courses/county-c/images", data={"file": (io.BytesIO(_png()), "x.png")},
                               content_type="multipart/form-data")
    assert no_token.status_code in (400, 403)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseAsset)) == 0


# --- course folders with subfolders ---------------------------------------------------------------------------

COURSE = "---\ncode: x1\ntitle: 测试课程\nlevel: county\nhours: 1\n---\n"


def _folder(root: Path, lesson_body: str, extra: dict[str, bytes] | None = None) -> Path:
    folder = root / "courses" / "x1"
    (folder / "images").mkdir(parents=True)
    (folder / "course.md").write_text(COURSE, encoding="utf-8")
    (folder / "01-a.md").write_text(f"---\ntitle: 课\nminutes: 5\n---\n{lesson_body}\n", encoding="utf-8")
    (folder / "images" / "flow.png").write_bytes(_png())
    for name, data in (extra or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_images_in_a_subfolder_import_and_are_served(tmp_path, api, world):  # noqa: F811
    _folder(tmp_path, "正文\n\n![流程](images/flow.png)")
    report = run_import(tmp_path / "courses")
    assert [str(e) for e in report.errors] == []
    html = current_version(get_lesson(get_course("x1"), "a")).html
    assert 'src="/courses/x1/assets/images/flow.png"' in html
    api.login("tc")
    assert api.get("/courses/x1/assets/images/flow.png").mimetype == "image/png"
    assert api.get("/courses/x1/assets/images/../images/flow.png").status_code == 404
    assert api.get("/courses/x1/assets/images%2F..%2Fflow.png").status_code == 404


@pytest.mark.parametrize("body, extra, expected", [
    ("![x](../x2/secret.png)", None, "x1/01-a.md:5: 图片“../x2/secret.png”的路径不能包含 .."),
    ("![x](images/../images/flow.png)", None, "不能包含 .."),
    ("![x](images\\flow.png)", None, "必须是课程文件夹内的相对路径"),
    ("![x](images/missing.png)", None, "图片“images/missing.png”在课程文件夹中不存在"),
    ("正文", {"images/02-b.md": b"---\ntitle: b\nminutes: 3\n---\nx\n"}, "课时文件必须放在课程文件夹的第一层"),
    ("正文", {"images/fake.png": b"<svg/>"}, "x1/images/fake.png:1: 文件内容与扩展名 .png 不符"),
])
def test_bad_subfolder_content_is_refused_with_file_and_line(tmp_path, tree, body, extra, expected):
    _folder(tmp_path, body, extra)
    errors = [str(e) for e in run_import(tmp_path / "courses").errors]
    assert any(expected in e for e in errors), errors
    assert get_course("x1") is None


def test_the_content_check_reads_subfolders_as_the_import_does(tmp_path):
    _folder(tmp_path, "正文\n\n![流程](images/flow.png)")
    (tmp_path / "question_bank").mkdir()
    content = load_content(tmp_path / "courses", tmp_path / "question_bank")
    assert "x1" in content.courses and [a.filename for a in content.courses["x1"].assets] == ["images/flow.png"]
    bad = tmp_path / "bad"
    _folder(bad, "![x](../../etc/passwd.png)")
    (bad / "question_bank").mkdir()
    findings = [str(f) for f in load_content(bad / "courses", bad / "question_bank").load_findings]
    assert any("01-a.md:5:" in f and "不能包含 .." in f for f in findings), findings


def test_two_chinese_named_images_do_not_replace_each_other(api, world):  # noqa: F811
    api.login("tc")
    first = _upload(api, "county-c", _png((10, 10)), "流程图.png").get_json()
    second = _upload(api, "county-c", _png((20, 20)), "示意图.png").get_json()
    assert (first["filename"], second["filename"]) == ("lct.png", "syt.png")
    assert _upload(api, "county-c", _png(), "Flow_Chart v2.png").get_json()["filename"] == "Flow_Chart-v2.png"
    assert _upload(api, "county-c", _png(), "！！.png").get_json()["filename"] == "file.png"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseAsset)) == 4
