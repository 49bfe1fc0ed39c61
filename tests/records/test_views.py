"""学时档案 over HTTP: page, PDF (text via pypdf), XLSX (openpyxl), JSON, scope, HR's export of a set."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lms.audit.models import AuditEntry
from lms.extensions import db

#: identifiers that must never reach a page: word-word or snake_case outside <code>
_IDENT = re.compile(r"\b[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+\b")


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|code)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_worker_reaches_own_record_from_home_and_sees_every_section(county, api, client):
    api.login("w1")
    home = client.get("/").get_data(as_text=True)
    assert "我的学时档案" in home and "/me/record" in home
    redirect = client.get("/me/record")
    assert redirect.status_code == 302 and redirect.location.endswith("/users/w1/record")
    page = client.get("/users/w1/record")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for expected in ("我的学时档案", "网格员基础职责", "矛盾调解实务培训", "75",
                     "夜间施工噪声扰民", "赵德山", "网格员上岗证", "合计学时", "9.5", "下载 PDF"):
        assert expected in text, expected
    assert "已取消的培训" not in text and "安排补考" not in text
    assert not _IDENT.findall(_visible_text(text)), _IDENT.findall(_visible_text(text))


def test_record_pdf_text_is_extractable(county, api, client):
    api.login("w1")
    response = client.get("/users/w1/record.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    compact = re.sub(r"\s+", "", text)
    for expected in ("网格员学时档案", "李小红", "w1", "网格员基础职责", "矛盾调解实务培训", "夜间施工噪声扰民", "网格员上岗证",
                     "合计学时", "9.5"):
        assert expected in compact, expected


def test_record_xlsx_has_a_sheet_per_section_and_is_formula_safe(county, api, client):
    db.session.execute(sa.text("UPDATE courses SET title = '=HYPERLINK(\"x\")' WHERE code = 'village-app'"))
    db.session.commit()
    api.login("w1")
    response = client.get("/users/w1/record.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[0] == "汇总" and "课程学习" in book.sheetnames and "证书" in book.sheetnames
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True)}
    assert summary["姓名"] == "李小红" and summary["合计学时"] == "9.5"
    titles = [row[0] for row in book["课程学习"].iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"x\")" in titles
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)


def test_record_json(county, api):
    api.login("hr1")
    body = api.get("/api/v1/users/w1/record").get_json()
    assert body["user"]["org"]["code"] == "HX010101"
    assert body["totals"]["hours"] == 9.5 and body["points"] == {"total": 42, "star": 1}
    assert {c["code"] for c in body["courses"]} == {"county-basics", "town-mediation", "village-app"}
    assert body["quizzes"][0]["best_score"] == 75 and body["quizzes"][0]["extra_attempts"] == 1
    assert body["mentoring"][0]["role"] == "mentee"
    assert body["trainings"][0]["date"] == "2026-09-01"


@pytest.mark.parametrize("url", ["/users/w1/record", "/users/w1/record.pdf", "/users/w1/record.xlsx",
                                 "/api/v1/users/w1/record"])
def test_hr_one_township_over_and_other_workers_are_refused(county, api, client, url):
    api.login("hr2")
    assert client.get(url).status_code == 403
    client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w2")
    assert client.get(url).status_code == 403


def test_unknown_person_is_404(county, api, client):
    api.login("hr1")
    assert client.get("/users/ghost/record").status_code == 404
    assert api.get("/api/v1/users/ghost/record").get_json()["error"]["code"] == "user_not_found"


def test_hr_opens_a_record_with_grant_links_and_downloads_are_audited(county, api, client):
    api.login("hr1")
    people = client.get("/records?q=李").get_data(as_text=True)
    assert "李小红" in people and "王五" not in people and "/users/w1/record" in people
    page = client.get("/users/w1/record").get_data(as_text=True)
    assert "李小红的学时档案" in page and "安排补考" in page
    assert client.get("/users/w1/record.pdf").status_code == 200
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "records.download"))
    assert entry is not None and entry.target == "w1"
    assert client.get("/records?org=HX02").status_code == 403
    assert client.get("/records?org=NOPE").status_code == 422


def test_records_export_for_a_filtered_set(county, api, client):
    api.login("hr1")
    form = client.get("/records/export?org=HX0101")
    assert form.status_code == 200 and "/exports/records.xlsx?org=HX0101" in form.get_data(as_text=True)
    response = client.get("/exports/records.xlsx?org=HX01&hired_from=2020-01-01", buffered=True)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("姓名", "工号", "乡镇(街道)", "村(社区)", "网格")
    by_user = {row[1]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert set(by_user) == {"w1"}  # w2, mentor and the trainer were hired earlier or have no hire date
    assert by_user["w1"]["乡镇(街道)"] == "青石镇" and by_user["w1"]["合计学时"] == 9.5
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.records"))
    assert entry.details["rows"] == 1


@pytest.mark.parametrize("query, status", [("org=HX02", 403), ("org=NOPE", 422), ("hired_from=yesterday", 422),
                                           ("hired_from=2026-02-30", 422), ("hired_from=2026-05-01&hired_to=2026-01-01", 422),
                                           ("hired_from=3000-01-01", 400)])
def test_records_export_bad_filters(county, api, client, query, status):
    api.login("hr1")
    response = client.get(f"/exports/records.xlsx?{query}", buffered=True)
    assert response.status_code == status


def test_workers_and_trainers_cannot_export_records(county, api, client):
    api.login("tr1")
    assert client.get("/exports/records.xlsx").status_code == 403
    assert client.get("/users/w1/record").status_code == 200  # trainers read records in scope


def test_api_serves_the_pdf_and_xlsx_too(county, api):
    api.login("hr1")
    assert api.get("/api/v1/users/w1/record.pdf").data.startswith(b"%PDF")
    assert api.get("/api/v1/users/w1/record.xlsx").data.startswith(b"PK")
    assert api.get("/api/v1/users/far/record.pdf").status_code == 403
    paths = api.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/v1/users/{username}/record", "/api/v1/quizzes/{code}/grants", "/api/v1/certificates/batch"} <= set(paths)
