"""The worker sees a trainer's review (verdict, score, comment) on the report page, in the API and in the inbox."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.inbox.models import Message
from tests.drills.factories import NOISE, POOR, model_report
from tests.factories import make_user

URL = f"/api/v1/drills/{NOISE}/reports"


def _as(api, username):
    if api.csrf:
        api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
        api.csrf = None
    assert api.login(username).status_code == 200


def _submit(api, body) -> int:
    _as(api, "w-qs")
    return api.post(URL, json=body).get_json()["id"]


def _review(api, report_id, verdict, score, comment):
    _as(api, "tr-qs")
    response = api.post(f"/api/v1/drill-reports/{report_id}/review",
                        json={"verdict": verdict, "score": score, "comment": comment})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _messages(worker):
    return db.session.execute(sa.select(Message.kind, Message.title, Message.body, Message.link)
                              .where(Message.user_id == worker.id).order_by(Message.id)).all()


@pytest.fixture
def trainer(tree):
    return make_user("tr-qs", "trainer", tree["t1"], name="陈晓燕")


def test_worker_reads_the_override_and_comment_through_the_api(api, worker, trainer):
    report_id = _submit(api, POOR)
    _review(api, report_id, "accepted", 70, "时间地点后来电话补充了，这次算通过。")
    _as(api, "w-qs")
    body = api.get(f"/api/v1/drill-reports/{report_id}").get_json()
    assert (body["verdict"], body["score"], body["reviewed"]) == ("accepted", 70, True)
    assert body["reviews"] == [{"verdict": "accepted", "score": 70, "comment": "时间地点后来电话补充了，这次算通过。",
                                "reviewer": "陈晓燕", "created_at": body["reviews"][0]["created_at"]}]
    assert body["fields"]["location"] == POOR["location"] and body["drill"]["code"] == NOISE
    assert any(not c["passed"] for c in body["checks"])  # the automatic checks stay as they were


def test_worker_reads_the_override_and_comment_on_the_report_and_drill_pages(api, worker, trainer):
    report_id = _submit(api, POOR)
    _review(api, report_id, "accepted", 70, "<b>注意</b>：时间要写到几点。")
    _as(api, "w-qs")
    for url in (f"/drill-reports/{report_id}", f"/drills/{NOISE}?report={report_id}"):
        page = api.get(url).get_data(as_text=True)
        assert "培训老师复核（陈晓燕" in page and "通过，70 分" in page, url
        assert "&lt;b&gt;注意&lt;/b&gt;：时间要写到几点。" in page and "<b>注意</b>" not in page  # escaped
        assert "data-reviewed" in page and "培训老师复核后改判为通过" in page
        assert 'data-verdict="accepted"' in page and "<span data-score>70</span>" in page


def test_a_report_returned_by_the_trainer_after_passing_every_check_says_so(api, worker, trainer):
    report_id = _submit(api, model_report())
    _review(api, report_id, "returned", 60, "诉求要写清楚是谁提的。")
    _as(api, "w-qs")
    page = api.get(f"/drill-reports/{report_id}").get_data(as_text=True)
    assert "自动检查都通过了，培训老师复核后退回" in page and "诉求要写清楚是谁提的。" in page
    kinds = [(kind, title) for kind, title, _, _ in _messages(worker)]
    assert kinds == [("drill_returned", "演练报告经培训老师复核被退回：夜间施工噪声扰民（第1次）")]


def test_the_inbox_hears_a_trainer_returning_a_report_already_returned_with_a_comment(api, worker, trainer):
    report_id = _submit(api, POOR)
    assert _messages(worker) == []  # the automatic return stays on the drill page
    _review(api, report_id, "returned", 20, "部门选错了：夜间施工归住建局。")
    messages = _messages(worker)
    assert len(messages) == 1
    kind, title, body, link = messages[-1]
    assert (kind, body, link) == ("drill_returned", "部门选错了：夜间施工归住建局。", f"/drill-reports/{report_id}")
    assert title.startswith("演练报告经培训老师复核被退回")
    # The same verdict and score again without a comment changes nothing: no message.
    _as(api, "tr-qs")
    api.post(f"/api/v1/drill-reports/{report_id}/review", json={"verdict": "returned", "score": 20})
    assert len(_messages(worker)) == 1


def test_an_override_to_accepted_is_announced_in_the_inbox(api, worker, trainer):
    report_id = _submit(api, POOR)
    _review(api, report_id, "accepted", 75, "")
    kind, title, body, _ = _messages(worker)[-1]
    assert kind == "drill_reviewed" and title.startswith("演练报告经培训老师复核改判为通过")
    assert body == "复核结论：通过，75 分"


def test_only_the_writer_and_a_trainer_in_scope_read_a_report_through_the_api(api, tree, worker, trainer):
    report_id = _submit(api, POOR)
    make_user("w-other", "worker", tree["g1"])
    make_user("tr-cg", "trainer", tree["t2"])
    for username in ("w-other", "tr-cg"):
        _as(api, username)
        response = api.get(f"/api/v1/drill-reports/{report_id}")
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden", username
    _as(api, "tr-qs")
    assert api.get(f"/api/v1/drill-reports/{report_id}").get_json()["reviewed"] is False
    missing = api.get("/api/v1/drill-reports/999999")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "report_not_found"
    assert "/api/v1/drill-reports/{report_id}" in api.get("/api/openapi.json").get_json()["paths"]
