"""Attendance exports (XLSX): per session and per period, one row per person and session, formula-safe, scoped."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.db import SHANGHAI
from lms.extensions import db
from lms.trainings.export import COLUMNS
from tests.factories import make_user
from tests.trainings.factories import attend, make_training

DAY = dt.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


def _rows(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(rows[0]) == COLUMNS
    return rows[1:]


@pytest.fixture
def sessions(people, tree):
    first = make_training(tree["t1"], people["tt"], title="人民调解实务", hours="2.5", starts_at=DAY)
    second = make_training(tree["v1"], people["vt"], level="village", title="入户走访要点", hours="1",
                           starts_at=DAY + dt.timedelta(days=5))
    later = make_training(tree["t1"], people["tt"], title="五月培训", starts_at=DAY + dt.timedelta(days=60))
    cancelled = make_training(tree["t1"], people["tt"], title="取消的培训", starts_at=DAY + dt.timedelta(days=1),
                              is_cancelled=True)
    other = make_training(tree["t2"], people["tt2"], title="城关街道培训", starts_at=DAY)
    attend(first, people["w1"])
    attend(first, people["w2"])
    attend(second, people["w2"])
    attend(later, people["w1"])
    attend(cancelled, people["w1"])
    attend(other, people["w3"])
    return {"first": first, "second": second, "later": later, "cancelled": cancelled, "other": other}


def test_session_export_has_one_row_per_attendee_with_hours_and_units(api, people, sessions):
    api.login("tt01")
    rows = _rows(api.client.get(f"/trainings/{sessions['first'].id}/attendance.xlsx", buffered=True))
    assert [(r[8], r[9], r[10], r[11], r[12], r[15]) for r in rows] == [
        ("张小明", "w001", "青石镇", "桃源村", "桃源村第一网格", 2.5),
        ("李四", "w002", "青石镇", "桃源村", None, 2.5)]
    assert rows[0][3] == "人民调解实务" and rows[0][4] == "乡培" and rows[0][13] == "点名"
    assert rows[0][1] == "09:00"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.training_attendance"))
    assert entry.actor_name == "tt01" and entry.details["rows"] == 2


def test_cells_that_look_like_formulas_are_neutralised(api, people, tree):
    session = make_training(tree["t1"], people["tt"], title="=HYPERLINK(\"http://x\")", starts_at=DAY)
    attend(session, make_user("evil", "worker", tree["g1"], name="+cmd|' /C calc'!A0"))
    api.login("tt01")
    [row] = _rows(api.client.get(f"/trainings/{session.id}/attendance.xlsx", buffered=True))
    assert row[3] == "'=HYPERLINK(\"http://x\")" and row[8] == "'+cmd|' /C calc'!A0"


def test_session_export_is_for_its_trainers_and_hr_in_scope(api, people, sessions, tree):
    make_user("hr1", "hr", tree["county"])
    make_user("hr2", "hr", tree["t2"])
    url = f"/trainings/{sessions['first'].id}/attendance.xlsx"
    for username, status in [("tt01", 200), ("ct01", 200), ("hr1", 200), ("tt02", 403), ("hr2", 403),
                             ("w001", 403), ("vt01", 403)]:
        api.login(username)
        assert api.client.get(url, buffered=True).status_code == status, username
    assert api.client.get("/trainings/999999/attendance.xlsx", buffered=True).status_code == 404


def test_period_export_covers_the_sessions_in_scope_and_period(api, people, sessions, tree):
    api.login("tt01")
    rows = _rows(api.client.get("/trainings/attendance.xlsx?from=2026-03-01&to=2026-03-31", buffered=True))
    # the cancelled session and the other township's are left out; the May session is outside the period
    assert sorted((r[3], r[9]) for r in rows) == [("人民调解实务", "w001"), ("人民调解实务", "w002"),
                                                  ("入户走访要点", "w002")]
    make_user("hr1", "hr", tree["county"])
    api.login("hr1")
    rows = _rows(api.client.get("/trainings/attendance.xlsx?from=2026-03-01&to=2026-03-31", buffered=True))
    assert sorted({r[3] for r in rows}) == ["人民调解实务", "入户走访要点", "城关街道培训"]
    rows = _rows(api.client.get("/trainings/attendance.xlsx?from=2026-03-01&to=2026-03-31&org=HX0101", buffered=True))
    assert [(r[3], r[9]) for r in rows] == [("入户走访要点", "w002")]
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "export.training_attendance")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.details == {"org": "HX0101", "from": "2026-03-01", "to": "2026-03-31", "rows": 1}


@pytest.mark.parametrize("query,message", [
    ("from=2026-13-01", "起始日期 from格式应为 YYYY-MM-DD"),
    ("from=2026-04-01&to=2026-03-01", "起始日期不能晚于截止日期"),
    ("from=2024-01-01&to=2026-03-01", "一次最多导出 366 天"),
    ("org=NOPE", "组织编码“NOPE”不存在"),
])
def test_period_export_bad_input_explains_itself(api, people, sessions, query, message):
    api.login("tt01")
    response = api.client.get(f"/trainings/attendance.xlsx?{query}", buffered=True)
    assert response.status_code == 302 and response.headers["Location"].endswith("/trainings")
    assert message in api.client.get("/trainings").get_data(as_text=True)  # the flashed reason
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "export.training_attendance")) == 0


def test_period_export_out_of_scope_is_forbidden(api, people, sessions):
    api.login("tt01")
    assert api.client.get("/trainings/attendance.xlsx?org=HX02", buffered=True).status_code == 403
    api.login("w001")
    assert api.client.get("/trainings/attendance.xlsx", buffered=True).status_code == 403
