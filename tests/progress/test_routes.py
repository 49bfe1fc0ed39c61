"""Progress routes through the test client: JSON, page, export, reminders; bad filters; scope per route."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.inbox.models import Message


def _json(api, query):
    response = api.get(f"/api/v1/progress?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_progress_json_lists_rows_and_summary(api, county):
    api.login("hr01")
    body = _json(api, "kind=course&code=c-duties")
    assert body["summary"] == {"not_started": 0, "in_progress": 0, "done": 2, "overdue": 5}
    assert body["next"] is None and len(body["rows"]) == 7
    row = next(r for r in body["rows"] if r["username"] == "w002")
    assert row["status"] == "overdue" and row["progress"] == {"done": 1, "total": 2}
    assert row["org"] == {"code": "HX010101", "name": "桃源村第一网格"}
    assert row["due"] and row["last_activity"].endswith("+08:00")


def test_progress_json_filters_and_pages(api, county):
    api.login("hr01")
    body = _json(api, "kind=course&code=c-duties&status=overdue&org=HX01&per_page=2")
    assert [r["username"] for r in body["rows"]] == ["gl01", "w002"] and body["next"] == 2
    # the summary counts every status of the unit, the rows only the chosen one
    assert body["summary"] == {"not_started": 0, "in_progress": 0, "done": 1, "overdue": 3}
    second = _json(api, "kind=course&code=c-duties&status=overdue&org=HX01&per_page=2&page=2")
    assert [r["username"] for r in second["rows"]] == ["w003"] and second["next"] is None


def test_quiz_and_assignment_kinds(api, county):
    api.login("tt01")
    quiz = _json(api, "kind=quiz&code=q-exam")
    assert {r["username"]: r["best_score"] for r in quiz["rows"] if r["best_score"] is not None} == {
        "w001": 75, "w002": 25}
    assignment = _json(api, f"kind=assignment&code={county['a2'].id}")
    assert assignment["summary"]["done"] == 1 and len(assignment["rows"]) == 6


@pytest.mark.parametrize("query,status,code", [
    ("kind=lesson&code=x", 400, "invalid_parameter"),
    ("kind=course", 400, "invalid_parameter"),
    ("code=c-duties", 400, "invalid_parameter"),
    ("kind=course&code=c-duties&status=late", 400, "invalid_parameter"),
    ("kind=course&code=c-duties&page=abc", 400, "invalid_parameter"),
    ("kind=course&code=c-duties&page=-1", 400, "invalid_parameter"),
    ("kind=course&code=c-duties&per_page=9999", 400, "invalid_parameter"),
    ("kind=course&code=nope", 404, "not_found"),
    ("kind=assignment&code=12abc", 404, "not_found"),
    ("kind=course&code=c-duties&org=NOPE", 404, "not_found"),
])
def test_bad_filters_answer_a_chinese_message(api, county, query, status, code):
    api.login("hr01")
    response = api.get(f"/api/v1/progress?{query}")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    page = api.client.get(f"/progress?{query}")
    assert page.status_code == status and error["message"] in page.get_data(as_text=True)


@pytest.mark.parametrize("username,url", [
    ("hr02", "/api/v1/progress?kind=course&code=c-duties&org=HX02"),
    ("hr02", "/progress?kind=course&code=c-duties&org=HX02"),
    ("hr02", "/exports/progress.xlsx?kind=course&code=c-duties&org=HX02"),
    ("gl01", "/api/v1/progress?kind=course&code=c-duties&org=HX01"),
    ("w001", "/api/v1/progress?kind=course&code=c-duties"),
    ("w001", "/progress"),
    ("w001", "/exports/progress.xlsx?kind=course&code=c-duties"),
])
def test_out_of_scope_is_refused(api, county, username, url):
    api.login(username)
    assert api.get(url).status_code == 403


def test_one_township_over_sees_nobody_from_the_other(api, county):
    api.login("hr02")
    body = _json(api, "kind=course&code=c-duties")
    assert {r["org"]["code"] for r in body["rows"]} == {"HX010101"}
    api.login("gl01")
    body = _json(api, "kind=quiz&code=q-exam")
    assert {r["username"] for r in body["rows"]} == {"gl01", "w001", "w002", "w003"}


def test_reminders_reach_each_unfinished_person_once_a_day(api, county):
    api.login("hr01")
    response = api.post("/api/v1/reminders", json={"kind": "course", "code": "c-duties", "status": "overdue"})
    assert response.status_code == 200 and response.get_json() == {"sent": 5}
    assert api.post("/api/v1/reminders", json={"kind": "course", "code": "c-duties"}).get_json() == {"sent": 0}
    w3 = county["people"]["w3"]
    message = db.session.scalar(sa.select(Message).where(Message.user_id == w3.id))
    assert "网格员职责" in message.title and message.link == "/courses/c-duties"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.user_id == county["people"]["w1"].id)) == 0  # done: not reminded
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "progress.remind")
                              .order_by(AuditEntry.id))
    assert entry.details["提醒人数"] == 5 and "网格员职责" in entry.target


def test_reminders_bad_body_and_scope(api, county):
    api.login("hr02")
    assert api.post("/api/v1/reminders", json={"kind": "course", "code": "c-duties", "org": "HX02"}).status_code == 403
    response = api.post("/api/v1/reminders", json={"kind": "course"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_parameter"
    assert api.post("/api/v1/reminders", data="x", headers={"Content-Type": "text/plain"}).status_code == 400
    # hr02 reminds only their township's people
    assert api.post("/api/v1/reminders", json={"kind": "course", "code": "c-duties"}).get_json() == {"sent": 3}


def test_page_shows_people_summary_and_reminder_button(api, county):
    api.login("hr01")
    page = api.client.get("/progress?kind=course&code=c-duties&status=overdue")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "课程《网格员职责》" in html and "已逾期 <span" in html and "提醒未完成的人（5 人）" in html
    assert "张二" in html and "张一" not in html  # filtered to 已逾期
    assert "c-duties" not in re.sub(r"<[^>]+>", "", html)  # titles, never codes, in the visible text


def test_page_without_target_offers_the_picker_and_the_assigned(api, county):
    api.login("gl01")
    html = api.client.get("/progress?org=HX010101").get_data(as_text=True)
    assert "网格员职责" in html and "选择一门课程" in html
    assert "指派给桃源村第一网格的课程和测验" in html
    assert "/progress?kind=course&amp;code=c-ss&amp;org=HX010101" in html  # 青石镇's course reaches the grid
    assert api.client.get("/progress?org=HX020101").status_code == 403  # the team page link, one grid over


def test_remind_form_posts_and_shows_the_count(client, api, county):
    api.login("hr01")
    page = client.get("/progress?kind=course&code=c-duties&org=HX02").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/progress/remind", data={"csrf_token": token, "kind": "course", "code": "c-duties",
                                                      "org": "HX02", "status": ""})
    assert response.status_code == 302
    assert "已向 1 人发送提醒" in client.get(response.location).get_data(as_text=True)
    no_token = client.post("/progress/remind", data={"kind": "course", "code": "c-duties"})
    assert no_token.status_code in (302, 400)


def test_export_has_the_same_rows_formula_safe_and_audited(api, county):
    api.login("hr01")
    response = api.get("/exports/progress.xlsx?kind=course&code=c-duties")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("姓名", "工号", "乡镇(街道)", "村(社区)", "网格", "状态")
    body = _json(api, "kind=course&code=c-duties")
    assert [r[1] for r in rows[1:]] == [r["username"] for r in body["rows"]]
    w3 = next(r for r in rows if r[1] == "w003")
    assert w3[0] == "'=SUM(A1)" and w3[2] == "青石镇" and w3[5] == "已逾期"
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.progress")).details["行数"] == 7


def test_reachable_from_the_menu_the_team_page_and_the_statistics(api, county):
    api.login("gl01")
    home = api.client.get("/").get_data(as_text=True)
    assert "学习进度" in home
    team = api.client.get("/teams/HX010101").get_data(as_text=True)
    assert 'href="/progress?org=HX010101"' in team
    api.login("hr01")
    stats = api.client.get("/stats?org=HX01").get_data(as_text=True)
    assert "/progress?kind=course&amp;code=c-duties&amp;org=HX01" in stats
    assert "/progress?kind=quiz&amp;code=q-exam&amp;org=HX01" in stats


def test_trainer_reaches_it_from_the_course_editor(api, county):
    api.login("tt01")
    editor = api.client.get("/author/courses/c-ss").get_data(as_text=True)
    assert 'href="/progress?kind=course&amp;code=c-ss"' in editor
