"""HTML pages: the list beside 上报演练, the answer page (speech bubble, offline outbox form, result, model answer
only once earned), answer detail with the trainer's review in scope, the review queue and statistics."""
from __future__ import annotations

import sqlalchemy as sa

from lms.consultations.models import ConsultationAnswer
from lms.extensions import db
from tests.consultations.factories import MODEL, PENSION, POOR
from tests.factories import make_user


def _post_form(api, url, data):
    return api.client.post(url, data=data | {"csrf_token": api.csrf})


def test_list_and_answer_page_show_the_question_as_a_bubble_and_an_offline_form(api, worker, pension):
    api.login("w-qs")
    home = api.get("/").get_data(as_text=True)
    assert "政策答询" in home
    listing = api.get("/consultations").get_data(as_text=True)
    assert "养老保险交多少年才能领" in listing and "58岁的村民老周来问" in listing and "上报演练" in listing
    page = api.get(f"/consultations/{PENSION}").get_data(as_text=True)
    assert "consult-bubble" in page and "58岁的村民老周问：" in page and "交到第十三年" in page
    assert f'data-offline-api="/api/v1/consultations/{PENSION}/answers"' in page
    assert 'data-offline-fields="answer"' in page and 'name="client_id"' in page and 'name="csrf_token"' in page
    for secret in ("周叔", "县社保局", "逐步提高到20年", "示范回答"):
        assert secret not in page


def test_form_post_without_js_redirects_to_the_result_and_keeps_the_text_to_revise(api, worker, pension):
    api.login("w-qs")
    response = _post_form(api, f"/consultations/{PENSION}", {"answer": POOR, "client_id": "f-1"})
    assert response.status_code == 302
    row = db.session.scalar(sa.select(ConsultationAnswer))
    assert response.headers["Location"].endswith(f"/consultations/{PENSION}?answer={row.id}#result")
    page = api.get(f"/consultations/{PENSION}?answer={row.id}").get_data(as_text=True)
    assert "✗ 退回" in page and "要点齐全" in page and "不要替部门打包票" in page
    assert POOR in page  # the returned answer waits in the box to be revised
    assert "示范回答" not in page
    # the same client_id again (a retried post) keeps one answer
    _post_form(api, f"/consultations/{PENSION}", {"answer": POOR, "client_id": "f-1"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsultationAnswer)) == 1


def test_model_answer_beside_theirs_after_the_second_return(api, worker, pension):
    api.login("w-qs")
    _post_form(api, f"/consultations/{PENSION}", {"answer": POOR})
    _post_form(api, f"/consultations/{PENSION}", {"answer": POOR + "去社保所问问。"})
    page = api.get(f"/consultations/{PENSION}").get_data(as_text=True)
    assert "对照示范回答" in page and "data-model" in page and MODEL[:20] in page
    assert "去社保所问问。" in page  # their latest answer beside it


def test_someone_elses_answer_page_is_404_and_its_detail_403(api, tree, worker, pension):
    api.login("w-qs")
    _post_form(api, f"/consultations/{PENSION}", {"answer": POOR})
    row = db.session.scalar(sa.select(ConsultationAnswer))
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    make_user("w-2", "worker", tree["g1"])
    api.login("w-2")
    assert api.get(f"/consultations/{PENSION}?answer={row.id}").status_code == 404
    assert api.get(f"/consultation-answers/{row.id}").status_code == 403


def test_trainer_reviews_in_scope_from_the_queue_and_sees_statistics(api, tree, worker, pension):
    api.login("w-qs")
    _post_form(api, f"/consultations/{PENSION}", {"answer": POOR})
    row = db.session.scalar(sa.select(ConsultationAnswer))
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})

    make_user("tr-cg", "trainer", tree["t2"])
    api.login("tr-cg")
    assert "张小明" not in api.get("/consultations/review").get_data(as_text=True)
    assert _post_form(api, f"/consultation-answers/{row.id}/review",
                      {"verdict": "accepted", "score": "80"}).status_code == 403
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})

    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    queue = api.get("/consultations/review").get_data(as_text=True)
    assert "张小明" in queue and f"/consultation-answers/{row.id}" in queue
    detail = api.get(f"/consultation-answers/{row.id}").get_data(as_text=True)
    assert "复核改判" in detail and MODEL[:20] in detail  # the trainer compares with the model answer
    bad = _post_form(api, f"/consultation-answers/{row.id}/review", {"verdict": "accepted", "score": "200"})
    assert bad.status_code == 422 and "0 到 100" in bad.get_data(as_text=True)
    ok = _post_form(api, f"/consultation-answers/{row.id}/review",
                    {"verdict": "accepted", "score": "80", "comment": "意思到了"})
    assert ok.status_code == 302
    assert db.session.get(ConsultationAnswer, row.id).verdict.value == "accepted"

    make_user("st", "hr", tree["county"])
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("st")
    stats = api.get("/consultations/stats?org=HX").get_data(as_text=True)
    assert "养老保险交多少年才能领" in stats and "要点齐全" in stats and "培训老师改判通过" in stats
    assert "key_points" not in stats
    assert api.get("/consultations/stats?org=HX&from=2026-13-01").status_code == 422
