"""HTML pages: list, create form (bad input), detail with the roll, the trainer's screen, learner check-in."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.db import utcnow
from lms.extensions import db
from lms.trainings import services
from lms.trainings.models import Attendance, Training
from tests.trainings.factories import make_training


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html).group(1)


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


FORM = {"level": "township", "title": "社会保险政策宣讲", "date": "2026-04-10", "start": "09:00", "end": "11:30",
        "place": "青石镇文化站", "hours": "2", "org": "HX01", "trainer": ""}


def test_trainer_creates_a_training_through_the_form(api, people):
    api.login("tt01")
    html = _page(api.client, "/trainings/new")
    assert 'value="HX0101"' in html and 'value="HX02"' not in html  # only units in scope are offered
    response = api.client.post("/trainings/new", data={**FORM, "csrf_token": _csrf(html)})
    assert response.status_code == 302
    training = db.session.scalar(sa.select(Training))
    assert response.headers["Location"].endswith(f"/trainings/{training.id}")
    assert training.title == "社会保险政策宣讲" and str(training.hours) == "2.0"


@pytest.mark.parametrize("change,message", [
    ({"hours": "0"}, "学时必须大于 0"),
    ({"hours": "abc"}, "学时必须是数字"),
    ({"title": ""}, "请填写培训主题"),
    ({"date": "10/04/2026"}, "YYYY-MM-DD"),
    ({"start": "12:00", "end": "11:00"}, "结束时间必须晚于开始时间"),
    ({"org": "NOPE"}, "组织编码 NOPE 不存在"),
    ({"level": "county"}, "可选层级"),
    ({"level": "nation"}, "培训层级无效"),
    ({"trainer": "nobody"}, "培训师工号 nobody 不存在"),
])
def test_create_form_bad_input_shows_the_reason_and_saves_nothing(api, people, change, message):
    api.login("tt01")
    token = _csrf(_page(api.client, "/trainings/new"))
    response = api.client.post("/trainings/new", data={**FORM, **change, "csrf_token": token})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Training)) == 0


def test_create_form_out_of_scope_org_is_403(api, people):
    api.login("tt01")
    token = _csrf(_page(api.client, "/trainings/new"))
    response = api.client.post("/trainings/new", data={**FORM, "org": "HX02", "csrf_token": token})
    assert response.status_code == 403


def test_worker_cannot_open_the_create_form(api, people):
    api.login("w001")
    assert api.client.get("/trainings/new").status_code == 403


def test_list_page_shows_visible_trainings(api, people, tree):
    make_training(tree["t1"], people["tt"], title="全镇乡培")
    make_training(tree["t2"], people["tt2"], title="街道培训")
    api.login("w001")
    html = _page(api.client, "/trainings")
    assert "全镇乡培" in html and "街道培训" not in html and "签到中" in html
    assert "<td>2</td>" in html  # 学时 without a trailing .0
    assert "起始日期不能晚于截止日期" in _page(api.client, "/trainings?from=2026-05-01&to=2026-04-01")


def test_roll_page_lists_the_subtree_and_saves_ticks(api, people, tree, recorded):
    training = make_training(tree["t1"], people["tt"])
    api.login("tt01")
    html = _page(api.client, f"/trainings/{training.id}")
    assert "张小明" in html and "李四" in html and "王五" not in html
    assert 'name="present" value="w001"' in html
    token = _csrf(html)
    response = api.client.post(f"/trainings/{training.id}/roll",
                               data={"csrf_token": token, "present": ["w001", "w002"]})
    assert response.status_code == 302
    again = api.client.post(f"/trainings/{training.id}/roll", data={"csrf_token": token, "present": ["w001"]})
    assert again.status_code == 302
    html = _page(api.client, f"/trainings/{training.id}")
    assert "出勤 2 / " in html and 'name="present" value="w001"' not in html
    assert len(recorded) == 2


def test_roll_form_with_an_outsider_saves_nothing_and_says_why(api, people, tree):
    training = make_training(tree["t1"], people["tt"])
    api.login("tt01")
    token = _csrf(_page(api.client, f"/trainings/{training.id}"))
    api.client.post(f"/trainings/{training.id}/roll", data={"csrf_token": token, "present": ["w001", "w003"]})
    assert "w003" in _page(api.client, f"/trainings/{training.id}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_roll_and_screen_pages_refuse_trainers_out_of_scope(api, people, tree):
    training = make_training(tree["t1"], people["tt"])
    api.login("tt02")
    token = _csrf(_page(api.client, "/trainings"))
    assert api.client.get(f"/trainings/{training.id}/screen").status_code == 403
    assert api.client.get(f"/trainings/{training.id}/qr.svg").status_code == 403
    assert api.client.post(f"/trainings/{training.id}/roll",
                           data={"csrf_token": token, "present": ["w001"]}).status_code == 403
    assert api.client.post(f"/trainings/{training.id}/cancel", data={"csrf_token": token}).status_code == 403
    assert api.client.get(f"/trainings/{training.id}").status_code == 403


def test_screen_shows_the_code_big_and_a_qr_image_without_inline_script(app, api, people, tree):
    training = make_training(tree["t1"], people["tt"])
    api.login("tt01")
    html = _page(api.client, f"/trainings/{training.id}/screen")
    code = services.current_checkin_code(training, secret=app.config["SECRET_KEY"])[0]
    assert f'data-role="code" aria-live="polite" aria-label="签到码">{code}<' in html or "签到码" in html
    assert re.search(r'class="checkin-code"[^>]*>\d{6}<', html)
    assert "js/trainings.js" in html and "<script>" not in html and " style=" not in html
    svg = api.client.get(f"/trainings/{training.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and svg.headers["Cache-Control"] == "no-store"
    assert svg.get_data(as_text=True).startswith("<svg")


def test_learner_checks_in_with_the_typed_code(app, api, people, tree):
    training = make_training(tree["t1"], people["tt"])
    api.login("w001")
    code = services.current_checkin_code(training, utcnow(), secret=app.config["SECRET_KEY"])[0]
    html = _page(api.client, f"/trainings/{training.id}/checkin?code={code}")
    assert 'inputmode="numeric"' in html and f'value="{code}"' in html
    token = _csrf(html)
    client_id = re.search(r'name="client_id" type="hidden" value="([^"]+)"', html).group(1)
    wrong = api.client.post(f"/trainings/{training.id}/checkin",
                            data={"csrf_token": token, "code": "abc", "client_id": client_id})
    assert wrong.status_code == 422 and "签到码不正确" in wrong.get_data(as_text=True)
    ok = api.client.post(f"/trainings/{training.id}/checkin",
                         data={"csrf_token": token, "code": code, "client_id": client_id})
    assert ok.status_code == 302
    assert "您已签到本场培训" in _page(api.client, f"/trainings/{training.id}/checkin")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 1


def test_checkin_page_refuses_people_outside_the_training_org(api, people, tree):
    training = make_training(tree["t1"], people["tt"])
    api.login("w003")
    assert api.client.get(f"/trainings/{training.id}/checkin").status_code == 403


def test_checkin_page_says_when_checkin_is_closed(app, api, people, tree):
    training = make_training(tree["t1"], people["tt"], is_cancelled=True)
    api.login("w001")
    token = _csrf(_page(api.client, f"/trainings/{training.id}/checkin"))
    response = api.client.post(f"/trainings/{training.id}/checkin", data={"csrf_token": token, "code": "123456"})
    assert response.status_code == 409 and "该培训已取消" in response.get_data(as_text=True)


def test_cancel_removes_the_training_from_checkin(api, people, tree):
    training = make_training(tree["t1"], people["tt"])
    api.login("tt01")
    token = _csrf(_page(api.client, f"/trainings/{training.id}"))
    assert api.client.post(f"/trainings/{training.id}/cancel", data={"csrf_token": token}).status_code == 302
    db.session.refresh(training)
    assert training.is_cancelled


def test_home_offers_checkin_for_an_open_training(api, people, tree):
    make_training(tree["t1"], people["tt"], title="今日乡培")
    api.login("w001")
    assert "签到：今日乡培" in _page(api.client, "/")
