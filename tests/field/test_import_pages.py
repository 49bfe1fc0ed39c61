"""The export's upload page (preview → confirm, CSRF, bad files) and POST /api/v1/field/import."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.field.models import FieldEvent
from tests.factories import ApiClient, make_user

HEADER = "事件编号,工号,上报时间,事件类型,结果,退回原因,满意度"


def export(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def count_events() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(FieldEvent))


@pytest.fixture
def hr(client, tree):
    make_user("w1", "worker", tree["g1"], name="张小明")
    make_user("hr", "hr", tree["county"], name="李红梅")
    ApiClient(client).login("hr")
    return client


def _upload(client, data: bytes, name: str = "events.csv"):
    page = client.get("/field/import").get_data(as_text=True)
    return client.post("/field/import", data={"csrf_token": csrf(page), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_upload_previews_writes_nothing_then_confirm_imports(hr):
    data = export("SJ1,w1,2026-03-01 08:30,矛盾纠纷,办结,,5", "SJ2,ghost,2026-03-01 08:30,矛盾纠纷,办结,,",
                  "SJ3,w1,2026-03-01 08:30,矛盾纠纷,退回,,")
    response = _upload(hr, data)
    assert response.status_code == 302
    preview = hr.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and count_events() == 0
    assert "新增 1 件" in html and "错误 2 行" in html and "ghost（1 行）" in html
    assert "第 4 行" in html and "结果为退回，但退回原因为空" in html and "确认导入 1 件新事件" in html
    confirm_url = response.headers["Location"] + "/confirm"
    assert hr.post(confirm_url).status_code == 400  # no CSRF token: refused, nothing written
    assert count_events() == 0
    done = hr.post(confirm_url, data={"csrf_token": csrf(html)})
    assert done.status_code == 302 and count_events() == 1
    result = hr.get(done.headers["Location"]).get_data(as_text=True)
    assert "新增 1，未变 0，错误 2" in result and "工号 ghost 不存在" in result
    again = hr.post(confirm_url, data={"csrf_token": csrf(html)})
    assert again.status_code == 422 and count_events() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "field.import")) == 1


@pytest.mark.parametrize("data, name, message", [
    (export("x", header="编号,人员"), "e.csv", "第 1 行表头缺少列"),
    (b"", "e.csv", "文件是空的"),
    (b"%PDF-1.4", "e.pdf", "不支持的文件类型"),
    (b"PK\x03\x04broken", "e.xlsx", "无法读取 XLSX 文件"),
])
def test_unreadable_upload_is_refused_on_the_upload_page(hr, data, name, message):
    response = _upload(hr, data, name)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert count_events() == 0


def test_upload_page_without_a_file_and_for_a_worker(hr, app):
    page = hr.get("/field/import").get_data(as_text=True)
    assert "导入现场上报结果" in page and "事件编号、工号、上报时间" in page
    response = hr.post("/field/import", data={"csrf_token": csrf(page)}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要上传的事件导出文件" in response.get_data(as_text=True)
    worker = app.test_client()
    ApiClient(worker).login("w1")
    assert worker.get("/field/import").status_code == 403


def test_another_hr_cannot_open_my_preview(hr, app, tree):
    response = _upload(hr, export("SJ1,w1,2026-03-01 08:30,矛盾纠纷,办结,,5"))
    other = app.test_client()
    make_user("hr2", "hr", tree["county"])
    ApiClient(other).login("hr2")
    assert other.get(response.headers["Location"]).status_code == 404


def test_api_import_reports_rows_and_is_idempotent(client, tree):
    make_user("w1", "worker", tree["g1"])
    make_user("hr", "hr", tree["county"])
    api = ApiClient(client)
    api.login("hr")
    data = export("SJ1,w1,2026-03-01 08:30,矛盾纠纷,办结,,5", "SJ2,ghost,2026-03-01 08:30,矛盾纠纷,办结,,")
    reply = api.post("/api/v1/field/import", data={"file": (io.BytesIO(data), "e.csv")},
                     content_type="multipart/form-data")
    body = reply.get_json()
    assert reply.status_code == 200
    assert (body["added"], body["unchanged"], body["error_count"]) == (1, 0, 1)
    assert body["errors"] == [{"row": 3, "message": "事件 SJ2：工号 ghost 不存在，未导入"}]
    assert body["unknown_usernames"] == [{"username": "ghost", "rows": 1}]
    again = api.post("/api/v1/field/import", data={"file": (io.BytesIO(data), "e.csv")},
                     content_type="multipart/form-data").get_json()
    assert (again["added"], again["unchanged"]) == (0, 1)
    missing = api.post("/api/v1/field/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "file" in missing.get_json()["error"]["message"]
    wrong = api.post("/api/v1/field/import", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "e.csv")},
                     content_type="multipart/form-data")
    assert wrong.status_code == 422 and "表头缺少列" in wrong.get_json()["error"]["message"]
    assert count_events() == 1


def test_api_import_refused_to_a_worker_and_a_trainer(client, tree):
    make_user("w1", "worker", tree["g1"])
    make_user("t1", "trainer", tree["county"])
    for who in ("w1", "t1"):
        api = ApiClient(client.application.test_client())
        api.login(who)
        reply = api.post("/api/v1/field/import", data={"file": (io.BytesIO(export()), "e.csv")},
                         content_type="multipart/form-data")
        assert reply.status_code == 403
