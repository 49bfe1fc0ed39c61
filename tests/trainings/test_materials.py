"""Session materials: files checked by content and size, lesson links by title, shown to attendees; scope."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.trainings import paperwork
from lms.trainings.models import MaterialKind, TrainingMaterial
from tests.courses.factories import make_course
from tests.trainings.factories import make_training

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html).group(1)


def _materials(training):
    return list(db.session.scalars(sa.select(TrainingMaterial).where(TrainingMaterial.training_id == training.id)))


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def session(people, tree):
    return make_training(tree["t1"], people["tt"], title="人民调解实务")


def _upload(api, training, data, filename, title="", token=None):
    if token is None:
        token = _csrf(api.client.get(f"/trainings/{training.id}").get_data(as_text=True))
    return api.client.post(f"/trainings/{training.id}/materials", content_type="multipart/form-data",
                           data={"csrf_token": token, "title": title, "file": (io.BytesIO(data), filename)})


def test_trainer_uploads_a_pdf_and_an_attendee_downloads_it(api, people, session):
    api.login("tt01")
    response = _upload(api, session, PDF, "调解流程.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith("#materials")
    [material] = _materials(session)
    assert (material.kind, material.title, material.filename, material.content_type, material.size) == (
        MaterialKind.file, "调解流程", "调解流程.pdf", "application/pdf", len(PDF))
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "training.material_add"))
    assert entry.actor_name == "tt01" and entry.details["title"] == "调解流程"

    api.login("w001")  # an attendee (a grid below the township)
    page = api.client.get(f"/trainings/{session.id}").get_data(as_text=True)
    assert "培训材料" in page and "调解流程" in page and "上传材料" not in page
    download = api.client.get(f"/trainings/{session.id}/materials/{material.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "UTF-8''" in download.headers["Content-Disposition"]


def test_old_office_files_take_their_kind_from_the_name(api, people, session):
    api.login("tt01")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64
    assert _upload(api, session, ole, "名单.xls").status_code == 302
    [material] = _materials(session)
    assert (material.filename, material.content_type) == ("名单.xls", "application/vnd.ms-excel")


def test_office_files_are_recognised_by_content_and_offered_as_downloads(api, people, session):
    api.login("tt01")
    assert _upload(api, session, _docx(), "讲义.docx", title="调解讲义").status_code == 302
    [material] = _materials(session)
    assert material.filename == "讲义.docx" and material.title == "调解讲义"
    assert material.content_type.endswith("wordprocessingml.document")
    download = api.client.get(f"/trainings/{session.id}/materials/{material.id}")
    assert download.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("data,filename,status,message", [
    (b"", "空.pdf", 422, "请选择要上传的文件"),
    (b"just text, not a pdf", "假的.pdf", 422, "不支持该文件类型"),
    (b"MZ\x90\x00executable", "setup.exe", 422, "不支持该文件类型"),
    (b"PK\x03\x04not really a zip", "坏的.docx", 422, "不支持该文件类型"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "邮件.msg", 422, "不支持该文件类型"),
])
def test_bad_uploads_are_refused_in_chinese_and_save_nothing(api, people, session, data, filename, status, message):
    api.login("tt01")
    response = _upload(api, session, data, filename)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _materials(session) == []


def test_a_file_over_10_mb_is_refused(api, people, session):
    api.login("tt01")
    token = _csrf(api.client.get(f"/trainings/{session.id}").get_data(as_text=True))
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    # A hand-built body: werkzeug's test encoder spools big uploads to a temp file it never closes.
    boundary = "----lmsboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()
    response = api.client.post(f"/trainings/{session.id}/materials", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413 and "不能超过 10 MB" in response.get_data(as_text=True)
    assert _materials(session) == []


def test_an_upload_without_a_file_or_with_a_long_title_is_refused(api, people, session):
    api.login("tt01")
    token = _csrf(api.client.get(f"/trainings/{session.id}").get_data(as_text=True))
    response = api.client.post(f"/trainings/{session.id}/materials", data={"csrf_token": token, "title": "x"})
    assert response.status_code == 422 and "请选择要上传的文件" in response.get_data(as_text=True)
    response = _upload(api, session, PDF, "a.pdf", title="长" * 201, token=token)
    assert response.status_code == 422 and "不能超过 200 个字" in response.get_data(as_text=True)
    assert _materials(session) == []


def test_an_upload_without_the_csrf_token_is_refused(api, people, session):
    api.login("tt01")
    response = api.client.post(f"/trainings/{session.id}/materials", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(PDF), "a.pdf")})
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert _materials(session) == []


def test_a_session_holds_at_most_thirty_materials(api, people, session, monkeypatch):
    monkeypatch.setattr(paperwork, "MAX_MATERIALS", 1)
    api.login("tt01")
    assert _upload(api, session, PDF, "a.pdf").status_code == 302
    response = _upload(api, session, PDF, "b.pdf")
    assert response.status_code == 422 and "最多 1 份材料" in response.get_data(as_text=True)
    assert len(_materials(session)) == 1


def test_lesson_links_are_picked_by_title_among_lessons_the_attendees_may_open(api, people, session):
    county = make_course("mdtj", title="矛盾纠纷调解", org="HX")
    make_course("other", title="城关街道课程", org="HX02")
    make_course("draft", title="未发布课程", org="HX", published=False)
    api.login("tt01")
    page = api.client.get(f"/trainings/{session.id}").get_data(as_text=True)
    assert '<optgroup label="矛盾纠纷调解">' in page and "第1课" in page
    assert "城关街道课程" not in page and "未发布课程" not in page
    lesson = county.lessons[0]
    response = api.client.post(f"/trainings/{session.id}/materials/lesson",
                               data={"csrf_token": _csrf(page), "lesson": str(lesson.id), "title": ""})
    assert response.status_code == 302
    [material] = _materials(session)
    assert (material.kind, material.lesson_id, material.title) == (MaterialKind.lesson, lesson.id, "矛盾纠纷调解 · 第1课")
    api.login("w001")
    page = api.client.get(f"/trainings/{session.id}").get_data(as_text=True)
    assert 'href="/courses/mdtj/lessons/l1"' in page


def test_bad_lesson_links_are_refused(api, people, session):
    make_course("mdtj", title="矛盾纠纷调解", org="HX")
    other = make_course("other", title="城关街道课程", org="HX02")
    api.login("tt01")
    token = _csrf(api.client.get(f"/trainings/{session.id}").get_data(as_text=True))
    for value, message in [("", "请选择要关联的课程章节"), ("abc", "请选择要关联的课程章节"),
                           ("999999", "参训人员看不到"), (str(other.lessons[0].id), "参训人员看不到")]:
        response = api.client.post(f"/trainings/{session.id}/materials/lesson",
                                   data={"csrf_token": token, "lesson": value})
        assert response.status_code == 422, value
        assert message in response.get_data(as_text=True), value
    assert _materials(session) == []


def test_the_same_lesson_is_linked_once(api, people, session):
    course = make_course("mdtj", title="矛盾纠纷调解", org="HX")
    api.login("tt01")
    token = _csrf(api.client.get(f"/trainings/{session.id}").get_data(as_text=True))
    data = {"csrf_token": token, "lesson": str(course.lessons[0].id)}
    assert api.client.post(f"/trainings/{session.id}/materials/lesson", data=data).status_code == 302
    again = api.client.post(f"/trainings/{session.id}/materials/lesson", data=data)
    assert again.status_code == 422 and "已关联过“第1课”" in again.get_data(as_text=True)


def test_trainer_deletes_a_material(api, people, session):
    api.login("tt01")
    _upload(api, session, PDF, "a.pdf")
    [material] = _materials(session)
    token = _csrf(api.client.get(f"/trainings/{session.id}").get_data(as_text=True))
    response = api.client.post(f"/trainings/{session.id}/materials/{material.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302 and _materials(session) == []
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "training.material_remove"))


def test_materials_of_a_session_are_out_of_reach_elsewhere(api, people, session, tree):
    api.login("tt01")
    _upload(api, session, PDF, "a.pdf")
    [material] = _materials(session)
    other = make_training(tree["t2"], people["tt2"], title="城关街道培训")
    api.login("tt02")  # a trainer of another township
    token = _csrf(api.client.get(f"/trainings/{other.id}").get_data(as_text=True))
    assert api.client.get(f"/trainings/{session.id}/materials/{material.id}").status_code == 403
    assert _upload(api, session, PDF, "b.pdf", token=token).status_code == 403
    assert api.client.post(f"/trainings/{session.id}/materials/{material.id}/delete",
                           data={"csrf_token": token}).status_code == 403
    # the material's id under a session it does not belong to
    assert api.client.get(f"/trainings/{other.id}/materials/{material.id}").status_code == 404
    api.login("w003")  # a worker of the other township
    assert api.client.get(f"/trainings/{session.id}/materials/{material.id}").status_code == 403
    assert len(_materials(session)) == 1
