"""Statistics export of the consultation drills (XLSX, per consultation and per rule): formula-safe, no person
listed, scoped like the statistics page, audited."""
from __future__ import annotations

import io

import openpyxl
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.consultations import services
from lms.extensions import db
from tests.consultations.factories import MODEL, POOR
from tests.factories import make_user


def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    return [[c.value for c in row] for row in book.active.iter_rows()]


def _answers(tree, pension):
    worker = make_user("w-a", "worker", tree["g1"], name="=HYPERLINK(\"x\")")
    services.submit_answer(worker, pension, POOR)
    services.submit_answer(worker, pension, MODEL)
    pension.title = "=1+1 养老保险"
    db.session.commit()
    return worker


def test_export_per_consultation_and_per_rule(api, tree, pension):
    _answers(tree, pension)
    make_user("st", "trainer", tree["county"])
    api.login("st")
    rows = _sheet(api.get("/consultations/stats.xlsx?org=HX&view=consultation"))
    assert rows[0][:4] == ["题目", "回答份数", "退回份数", "退回率(%)"] and "未通过：要点齐全" in rows[0]
    assert rows[1][0] == "'=1+1 养老保险" and rows[1][1:4] == [2, 1, 50.0]
    assert all("HYPERLINK" not in str(cell) for row in rows for cell in row)  # no person is listed
    rules = _sheet(api.get("/consultations/stats.xlsx?org=HX&view=rule"))
    assert rules[0] == ["规则", "未通过份数", "占回答份数(%)", "培训老师改判通过份数", "准确率(%)"]
    assert [r[0] for r in rules[1:]] == ["要点齐全", "没有错误说法", "指明去处", "不乱承诺", "通俗易懂"]
    assert rules[1][1] == 1
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "export.consultation_stats")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.details["view"] == "rule" and entry.details["rows"] == 5 and entry.details["pii_unmasked"] is False
    page = api.get("/consultations/stats?org=HX").get_data(as_text=True)
    assert "/consultations/stats.xlsx?" in page and "按规则" in page


def test_export_bad_view_date_and_scope(api, tree, pension):
    _answers(tree, pension)
    make_user("vt", "trainer", tree["v1"])
    api.login("vt")
    assert api.get("/consultations/stats.xlsx?org=HX0101&view=people").status_code == 422
    assert api.get("/consultations/stats.xlsx?org=HX0101&from=2026-13-01").status_code == 422
    assert api.get("/consultations/stats.xlsx?org=HX").status_code == 403
    rows = _sheet(api.get("/consultations/stats.xlsx?org=HX0101"))
    assert rows[1][1] == 2
    make_user("wk", "worker", tree["g1"])
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("wk")
    assert api.get("/consultations/stats.xlsx?org=HX0101").status_code == 403
