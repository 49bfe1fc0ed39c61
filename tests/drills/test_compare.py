"""Learning from the model: the worker's report beside the model report, once accepted or returned twice."""
from __future__ import annotations

import re
import time

import pytest

from lms.drills.compare import (
    MAX_DIFF_CHARS, Segment, accepted_alternatives, compare_reports, diff_segments, model_unlocked,
)
from lms.drills.content import Answer
from tests.drills.factories import NOISE, POOR, model_report
from tests.factories import make_user

URL = f"/api/v1/drills/{NOISE}/reports"
PAGE = f"/drills/{NOISE}"


# -- pure functions

@pytest.mark.parametrize("verdicts, unlocked", [
    ([], False), (["returned"], False), (["accepted"], True), (["returned", "returned"], True),
    (["returned", "accepted"], True), (["returned", "returned", "returned"], True),
])
def test_the_model_is_unlocked_by_an_acceptance_or_the_second_return(verdicts, unlocked):
    assert model_unlocked(verdicts) is unlocked
    assert model_unlocked(iter(verdicts)) is unlocked  # any iterable, read once


def test_diff_marks_what_only_one_side_says():
    worker, model = diff_segments("已劝刘某停工。", "已劝刘某停用切割机，已拍照。")
    assert "".join(s.text for s in worker) == "已劝刘某停工。"
    assert "".join(s.text for s in model) == "已劝刘某停用切割机，已拍照。"
    assert Segment("已劝刘某停", False) in worker
    assert any(s.marked and "切割机" in s.text for s in model)
    assert all(not s.marked for s in model if s.text == "已劝刘某停")


def test_a_single_shared_character_is_not_shown_as_shared():
    worker, model = diff_segments("要求处理的", "住户要求晚上10点后停工的")
    # "要求" (two characters) is shared; the lone "的" at the end is too short to count
    assert [s for s in worker if not s.marked] == [Segment("要求", False)]


def test_an_empty_side_is_one_marked_segment_or_nothing():
    assert diff_segments("", "示范") == ((), (Segment("示范", True),))
    assert diff_segments("我的", "") == ((Segment("我的", True),), ())


def test_a_very_long_text_is_compared_whole_and_fast():
    long = "工地很吵" * 2500  # 10,000 characters, the field cap
    started = time.perf_counter()
    worker, model = diff_segments(long, "示范报告的一段话")
    assert time.perf_counter() - started < 1.0
    assert worker == (Segment(long, True),) and model == (Segment("示范报告的一段话", True),)
    assert len(long) > MAX_DIFF_CHARS


def test_compare_reports_gives_each_field_a_status_and_the_failed_messages():
    model = {"event_type": "噪声扰民", "occurred_at": "9月9日22时20分", "demand": "要求晚上10点以后停工",
             "department": "住建局", "urgency": "较急", "measures": "已劝停切割机"}
    worker = {"event_type": "矛盾纠纷", "occurred_at": "9月9日22时20分", "demand": "要求处理",
              "department": "住建局", "urgency": "紧急", "measures": "", "parties": "陈某"}
    checks = [{"rule": "demand_specific", "passed": False, "field": "demand", "message": "群众诉求太笼统"},
              {"rule": "urgency", "passed": True, "field": "urgency", "message": "高一级"}, "odd entry"]
    accepted = {"event_type": ("噪声扰民",), "department": ("住建局",), "urgency": ("较急", "紧急")}
    rows = {r.name: r for r in compare_reports(worker, model, checks=checks, accepted=accepted)}
    assert [r for r in rows] == ["event_type", "occurred_at", "parties", "demand", "measures", "department",
                                 "urgency"]  # form order; fields empty on both sides left out
    assert {name: r.status for name, r in rows.items()} == {
        "event_type": "different", "occurred_at": "same", "parties": "extra", "demand": "different",
        "measures": "missing", "department": "same", "urgency": "accepted"}
    assert rows["demand"].messages == ("群众诉求太笼统",) and rows["urgency"].messages == ()
    assert rows["event_type"].worker == (Segment("矛盾纠纷", True),)
    assert rows["urgency"].worker == (Segment("紧急", False),)  # accepted: not marked as wrong
    assert rows["measures"].worker == () and rows["measures"].model == (Segment("已劝停切割机", True),)
    assert rows["occurred_at"].status_label == "与示范一致" and not rows["occurred_at"].differs
    assert rows["measures"].status_label == "你没有填写"


def test_odd_field_values_are_treated_as_empty():
    rows = compare_reports({"event_type": ["列表"], "demand": None, "measures": 42}, {"event_type": "噪声扰民"})
    assert [(r.name, r.status) for r in rows] == [("event_type", "missing")]


def test_accepted_alternatives_follow_the_answer_key_and_the_county_rule():
    answer = Answer("治安隐患", ("公安派出所", "卫健局"), "较急", ("治安隐患", "特殊人群帮扶"))
    assert accepted_alternatives(answer) == {"event_type": ("治安隐患", "特殊人群帮扶"),
                                             "department": ("公安派出所", "卫健局"), "urgency": ("较急", "紧急")}
    assert accepted_alternatives(Answer("燃气安全隐患", ("住建局",), "紧急"))["urgency"] == ("紧急",)


# -- the drill page and the API

def _compare_fields(html: str) -> list[str]:
    return re.findall(r'data-compare-field="([a-z_]+)"', html)


def test_the_model_is_hidden_after_one_return_and_shown_beside_the_report_after_the_second(api, worker, noise):
    api.login("w-qs")
    model = model_report()
    first = api.post(URL, json=POOR).get_json()
    assert first["verdict"] == "returned" and first["model_unlocked"] is False
    page = api.get(f"{PAGE}?report={first['id']}").get_data(as_text=True)
    assert "data-model-compare" not in page and model["measures"] not in page
    assert "data-compare-locked" in page and "被退回两次以后" in page

    second = api.post(URL, json=POOR | {"urgency": "较急"}).get_json()
    assert second["model_unlocked"] is True
    page = api.get(f"{PAGE}?report={second['id']}").get_data(as_text=True)
    assert "data-model-compare" in page and "你在这个演练中已被退回两次" in page
    assert _compare_fields(page) == ["event_type", "occurred_at", "location", "parties", "description", "demand",
                                     "measures", "department", "urgency"]
    assert model["measures"] in page  # the model's own words, unmarked where nothing matches… or marked
    assert 'data-compare-field="event_type" data-compare-status="same"' in page
    assert 'data-compare-field="measures" data-compare-status="missing"' in page
    assert 'data-compare-field="department" data-compare-status="different"' in page
    assert '<mark class="compare-mark">' in page
    # the first report, opened again, is compared too: the unlock is per worker and drill
    assert "data-model-compare" in api.get(f"{PAGE}?report={first['id']}").get_data(as_text=True)


def test_an_accepted_report_shows_the_comparison_at_once(api, worker, noise):
    api.login("w-qs")
    mine = model_report() | {"measures": "劝刘某先把切割机停了，拍了照片，跟陈某说已经报上去了"}
    result = api.post(URL, json=mine).get_json()
    assert (result["verdict"], result["model_unlocked"]) == ("accepted", True)
    page = api.get(PAGE).get_data(as_text=True)  # no ?report=: the latest report
    assert "你在这个演练中已有报告通过" in page
    assert 'data-compare-field="measures" data-compare-status="different"' in page
    assert 'data-compare-field="description" data-compare-status="same"' in page
    assert "共 9 栏，1 栏与示范报告写法不同。" in page


def test_another_worker_never_sees_the_model_through_my_unlock(api, tree, worker, noise):
    api.login("w-qs")
    api.post(URL, json=model_report())
    make_user("w-other", "worker", tree["g1"])
    api.login("w-other")
    page = api.get(PAGE).get_data(as_text=True)
    assert "data-model-compare" not in page and model_report()["measures"] not in page
    assert "data-compare-locked" not in page  # nothing submitted yet: no promise either
