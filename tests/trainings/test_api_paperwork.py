"""JSON routes of the paperwork under /api/v1/trainings/<id>/…: materials and the evaluation, bad input, scope."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from lms.db import utcnow
from lms.extensions import db
from lms.trainings.models import TrainingEvaluation, TrainingMaterial
from tests.courses.factories import make_course
from tests.trainings.factories import attend, make_training

PDF = b"%PDF-1.4\n%%EOF\n"
RATINGS = {"content": 5, "clarity": 4, "schedule": 4, "materials": 3, "overall": 5}


@pytest.fixture
def ended(people, tree):
    training = make_training(tree["t1"], people["tt"], title="人民调解实务", starts_at=utcnow() - dt.timedelta(hours=4))
    attend(training, people["w1"])
    return training


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_materials_through_the_api(api, people, ended):
    course = make_course("mdtj", title="矛盾纠纷调解", org="HX")
    api.login("tt01")
    uploaded = api.client.post(f"/api/v1/trainings/{ended.id}/materials", headers={"X-CSRFToken": api.csrf},
                               content_type="multipart/form-data",
                               data={"file": (io.BytesIO(PDF), "流程图.pdf"), "title": "调解流程图"})
    assert uploaded.status_code == 201, uploaded.get_json()
    body = uploaded.get_json()
    assert (body["kind"], body["title"], body["filename"], body["size"]) == ("file", "调解流程图", "流程图.pdf", len(PDF))
    linked = api.post(f"/api/v1/trainings/{ended.id}/materials", json={"lesson_id": course.lessons[1].id})
    assert linked.status_code == 201 and linked.get_json()["url"] == "/courses/mdtj/lessons/l2"
    api.login("w001")
    items = api.get(f"/api/v1/trainings/{ended.id}/materials").get_json()["items"]
    assert [i["title"] for i in items] == ["调解流程图", "矛盾纠纷调解 · 第2课"]
    assert api.client.get(items[0]["url"]).data == PDF
    assert api.client.delete(f"/api/v1/trainings/{ended.id}/materials/{body['id']}",
                             headers={"X-CSRFToken": api.csrf}).status_code == 403
    api.login("tt01")
    assert api.client.delete(f"/api/v1/trainings/{ended.id}/materials/{body['id']}",
                             headers={"X-CSRFToken": api.csrf}).status_code == 204
    assert api.client.delete(f"/api/v1/trainings/{ended.id}/materials/{body['id']}",
                             headers={"X-CSRFToken": api.csrf}).status_code == 404
    assert _count(TrainingMaterial) == 1


@pytest.mark.parametrize("body,status,code", [
    ({}, 422, "invalid_lesson"),
    ({"lesson_id": "abc"}, 422, "invalid_lesson"),
    ({"lesson_id": True}, 422, "invalid_lesson"),
    ({"lesson_id": 10 ** 12}, 422, "invalid_lesson"),
    ({"lesson_id": 424242}, 422, "invalid_lesson"),
])
def test_material_api_bad_json(api, people, ended, body, status, code):
    api.login("tt01")
    response = api.post(f"/api/v1/trainings/{ended.id}/materials", json=body)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert _count(TrainingMaterial) == 0


def test_material_api_bad_uploads(api, people, ended):
    api.login("tt01")
    for data, code in [({}, "file_required"), ({"file": (io.BytesIO(b"hello"), "a.pdf")}, "unsupported_type"),
                       ({"file": (io.BytesIO(PDF), "a.pdf"), "title": "长" * 201}, "invalid_title")]:
        response = api.client.post(f"/api/v1/trainings/{ended.id}/materials", headers={"X-CSRFToken": api.csrf},
                                   content_type="multipart/form-data", data=data)
        assert response.status_code == 422 and response.get_json()["error"]["code"] == code, code
        assert re.search(r"[\u4e00-\u9fff]", response.get_json()["error"]["message"]), code  # told in Chinese
    not_json = api.client.post(f"/api/v1/trainings/{ended.id}/materials", headers={"X-CSRFToken": api.csrf},
                               data="lesson_id=1", content_type="text/plain")
    assert not_json.status_code == 400
    assert _count(TrainingMaterial) == 0


def test_material_api_scope(api, people, ended, tree):
    api.login("tt02")
    assert api.post(f"/api/v1/trainings/{ended.id}/materials", json={"lesson_id": 1}).status_code == 403
    assert api.get(f"/api/v1/trainings/{ended.id}/materials").status_code == 403
    assert api.get("/api/v1/trainings/999999/materials").status_code == 404


def test_evaluation_through_the_api(api, people, ended):
    api.login("w001")
    state = api.get(f"/api/v1/trainings/{ended.id}/evaluation").get_json()
    assert state["state"] == "open" and [q["label"] for q in state["questions"]] == [
        "内容实用", "讲解清楚", "时间安排", "材料有用", "总体满意"]
    created = api.post(f"/api/v1/trainings/{ended.id}/evaluation", json={"ratings": RATINGS, "comment": "好"})
    assert created.status_code == 201
    again = api.post(f"/api/v1/trainings/{ended.id}/evaluation", json={"ratings": RATINGS})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_evaluated"
    assert api.get(f"/api/v1/trainings/{ended.id}/evaluation").get_json()["state"] == "done"
    api.login("w002")  # in the township, did not attend
    refused = api.post(f"/api/v1/trainings/{ended.id}/evaluation", json={"ratings": RATINGS})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_attended"
    assert api.get(f"/api/v1/trainings/{ended.id}/evaluation").get_json()["state"] == "not_attended"
    assert _count(TrainingEvaluation) == 1


@pytest.mark.parametrize("body,code", [
    ({}, "invalid_rating"),
    ({"ratings": [5, 5, 5, 5, 5]}, "invalid_rating"),
    ({"ratings": {**RATINGS, "content": True}}, "invalid_rating"),
    ({"ratings": {**RATINGS, "overall": 0}}, "invalid_rating"),
    ({"ratings": {**RATINGS, "overall": 5.5}}, "invalid_rating"),
    ({"ratings": {**RATINGS, "overall": None}}, "invalid_rating"),
    ({"ratings": RATINGS, "comment": 5}, "invalid_comment"),
    ({"ratings": RATINGS, "comment": "字" * 501}, "invalid_comment"),
])
def test_evaluation_api_bad_input(api, people, ended, body, code):
    api.login("w001")
    response = api.post(f"/api/v1/trainings/{ended.id}/evaluation", json=body)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == code
    assert _count(TrainingEvaluation) == 0


def test_evaluation_api_needs_a_json_object(api, people, ended):
    api.login("w001")
    response = api.client.post(f"/api/v1/trainings/{ended.id}/evaluation", data="x",
                               headers={"X-CSRFToken": api.csrf}, content_type="application/json")
    assert response.status_code == 400 and _count(TrainingEvaluation) == 0
