"""HR dashboard: pure SVG bar charts, and /stats/dashboard with the same figures as /api/v1/stats, scope, bad input."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from lms.db import SHANGHAI
from lms.extensions import db
from lms.reports import dashboard
from lms.reports.dashboard import WIDTH, Bar, Group, bar_chart, format_rate
from tests.factories import make_org, make_user

# course_stats (courses feature) still calls Result.tuples(), deprecated in SQLAlchemy 2.1: not these tests' subject.
pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

MARCH = "from=2026-03-01&to=2026-03-31"


def _at(day: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, 9, tzinfo=SHANGHAI)


def _attempt(quiz, user, passed: bool, when: dt.datetime):
    from lms.quizzes.models import Attempt, AttemptStatus
    db.session.add(Attempt(quiz_id=quiz.id, user_id=user.id, org_id=user.org_id, number=1,
                           status=AttemptStatus.submitted, started_at=when, deadline=when + dt.timedelta(hours=1),
                           submitted_at=when, graded_at=when, score=80.0 if passed else 20.0, passed=passed,
                           paper=[], marks={}))


def _drill_report(drill, user, verdict: str, when: dt.datetime):
    from lms.drills.models import DrillReport, Verdict
    checks = [{"rule": "time_specific", "passed": verdict == "accepted", "message": ""}]
    db.session.add(DrillReport(drill_id=drill.id, drill_version=1, user_id=user.id, org_id=user.org_id, fields={},
                               verdict=Verdict(verdict), score=80 if verdict == "accepted" else 40, checks=checks,
                               created_at=when))


def seed_statistics(tree) -> dict:
    """A March 2026 of trainings, a course, quiz attempts, drill reports and certificates across both townships."""
    from lms.accounts.permissions import SYSTEM
    from lms.courses import services as course_services
    from lms.drills.models import Drill, DrillOrigin
    from tests.certification.factories import make_certificate, make_program
    from tests.courses.factories import make_course
    from tests.quizzes.factories import make_bank, make_quiz
    from tests.trainings.factories import attend, make_training

    people = {
        "hrc": make_user("hrc", "hr", tree["county"], name="县人事"),
        "hr1": make_user("hr1", "hr", tree["t1"], name="镇人事"),
        "ct": make_user("ct01", "trainer", tree["county"], name="县培训师"),
        "tt2": make_user("tt2", "trainer", tree["t2"], name="街道培训师"),
        "w1": make_user("w001", "worker", tree["g1"], name="张三"),
        "w2": make_user("w002", "worker", tree["g1"], name="李四"),
        "w3": make_user("w003", "worker", tree["g2"], name="王五"),
        "gl": make_user("gl01", "grid_leader", tree["v1"], name="赵六"),
    }
    county = make_training(tree["county"], people["ct"], level="county", hours="3", starts_at=_at(2))
    township = make_training(tree["t1"], people["ct"], hours="2", starts_at=_at(10))
    for training, who in ((county, ("w1", "w2", "w3", "gl")), (township, ("w1", "w2"))):
        for key in who:
            attend(training, people[key])
    course = make_course("ss-basics", level="county", org="HX", lessons=1)
    course_services.create_assignment(SYSTEM, course_code="ss-basics", quiz_code=None, org=tree["county"],
                                      role="worker", due=dt.date(2026, 3, 20), now=_at(1))
    for key in ("w1", "w3"):
        course_services.complete_lesson(people[key], course, course.lessons[0], now=_at(5))
    make_bank()
    quiz = make_quiz()
    for key, passed in (("w1", True), ("w2", False), ("gl", True), ("w3", False)):
        _attempt(quiz, people[key], passed, _at(12))
    drill = Drill(code="noise", title="噪声扰民", org_id=tree["county"].id, definition={}, origin=DrillOrigin.file)
    db.session.add(drill)
    db.session.flush()
    for key, verdict in (("w1", "returned"), ("w1", "accepted"), ("w2", "accepted"), ("w3", "returned")):
        _drill_report(drill, people[key], verdict, _at(15))
    db.session.commit()
    program = make_program("WG-SG", "网格员上岗证", valid_months=1)  # issued 3/10, last day 4/9
    for key in ("w1", "gl", "w3"):
        make_certificate(people[key], program, now=_at(10))
    return people


@pytest.fixture
def data(tree):
    return seed_statistics(tree)


# --- pure charts ---------------------------------------------------------------------------------------------

def _rect_widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect x="0" y="[\d.]+" width="([\d.]+)" height="14" rx="3" fill="#0b5ed7"',
                                         svg)]


def test_bar_chart_labels_every_bar_with_unit_name_and_figure():
    svg = str(bar_chart("c", "课程完成率", [Group("青石镇", (Bar("", 0.5, "50.0%（1/2）"),)),
                                             Group("城关街道", (Bar("", 0.25, "25.0%（1/4）"),))], maximum=1.0))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    assert svg.index("青石镇") < svg.index("50.0%（1/2）") < svg.index("城关街道") < svg.index("25.0%（1/4）")
    assert _rect_widths(svg) == [WIDTH / 2, WIDTH / 4]
    # The text alternative repeats each unit and figure.
    assert "<desc" in svg and "青石镇：50.0%（1/2）；城关街道：25.0%（1/4）" in svg


def test_bar_chart_scales_counts_to_the_largest_and_keeps_tiny_values_visible():
    svg = str(bar_chart("c", "培训人次", [Group("甲", (Bar("", 1000, "1000"),)), Group("乙", (Bar("", 1, "1"),)),
                                          Group("丙", (Bar("", 0, "0"),))]))
    assert _rect_widths(svg) == [WIDTH, 2.0]  # 丙 draws only its track
    assert svg.count('fill="#e9ecef"') == 3


def test_bar_chart_has_no_style_attributes_or_scripts_and_escapes_names():
    svg = str(bar_chart("c", "<标题>", [Group('<script>alert("x")</script>&村', (Bar("", 1, "1"),))]))
    assert "style=" not in svg and "<script" not in svg
    assert "&lt;script&gt;" in svg and "&amp;村" in svg and "&lt;标题&gt;" in svg


def test_grouped_bars_carry_their_own_labels():
    svg = str(bar_chart("e", "即将到期证书", [Group("青石镇", (Bar("30 天内", 2, "2"), Bar("60 天内", 3, "3"),
                                                             Bar("90 天内", 4, "4")))]))
    assert svg.index("青石镇") < svg.index("30 天内") < svg.index("60 天内") < svg.index("90 天内")
    assert _rect_widths(svg) == [WIDTH / 2, WIDTH * 3 / 4, WIDTH]
    assert "青石镇：30 天内 2，60 天内 3，90 天内 4" in svg


def test_long_unit_names_are_shortened_to_leave_room_for_the_figure_but_not_in_the_description():
    name = "红溪县青石镇桃源村第一网格党群服务站片区"
    svg = str(bar_chart("c", "t", [Group(name, (Bar("", 0.5, "50.0%（1234/2468）"),)),
                                   Group("桃源村", (Bar("", 1, "1"),))]))
    shown = re.search(r'<text x="0" y="15"[^>]*>([^<]*)</text>', svg).group(1)
    assert shown.endswith("…") and name.startswith(shown[:-1])
    # 15 units per CJK character, about 9 per digit: name and figure share the 300-unit row without overlap.
    assert len(shown) * 15 + len("50.0%1234/2468") * 9 + 2 * 15 <= WIDTH
    assert ">桃源村</text>" in svg and f"<desc id=\"c-desc\">{name}：50.0%" in svg


def test_chart_without_units_says_so():
    assert "没有下级单位" in str(bar_chart("c", "t", []))


@pytest.mark.parametrize("part,whole,rate,text", [
    (1, 4, 0.25, "25.0%（1/4）"), (0, 0, 0.0, "无数据"), (2, 3, 2 / 3, "66.7%（2/3）"), (None, None, None, "无数据"),
])
def test_format_rate_says_no_data_rather_than_zero(part, whole, rate, text):
    assert format_rate(part, whole, rate) == text


def _result(children, **figures):
    return {"org": {"code": "HX", "name": "红溪县", "kind": "county"}, **figures, "children": children}


def test_charts_leave_out_features_that_are_absent():
    result = _result([{"org": {"code": "HX01", "name": "青石镇", "kind": "township"},
                       "trainings": {"sessions": 2, "attendances": 5, "hours": 6.0}}],
                     trainings={"sessions": 3, "attendances": 6, "hours": 9.0})
    charts = dashboard.charts(result)
    assert [c.key for c in charts] == ["sessions", "attendances"]
    assert charts[0].total == "红溪县合计：3" and "青石镇" in charts[0].svg
    headings, rows = dashboard.table(result)
    assert headings == ["培训场次", "培训人次"]
    assert [r["name"] for r in rows] == ["红溪县", "青石镇"] and rows[0]["total"]
    assert [c["text"] for c in rows[1]["cells"]] == ["2", "5"]


def test_a_unit_without_children_charts_itself():
    result = _result([], trainings={"sessions": 4, "attendances": 9, "hours": 8.0})
    assert "红溪县" in dashboard.charts(result)[0].svg


# --- the page ------------------------------------------------------------------------------------------------

def _table(html: str) -> dict[str, dict[str, str]]:
    """{org code: {figure key: raw value}} from the page's data table."""
    rows = {}
    for code, body in re.findall(r'<tr[^>]*data-org="([^"]+)">(.*?)</tr>', html, re.S):
        rows[code] = dict(re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', body))
    return rows


def test_dashboard_shows_the_same_figures_as_the_stats_api(api, data):
    api.login("hrc")
    expected = api.get(f"/api/v1/stats?org=HX&{MARCH}").get_json()
    response = api.get(f"/stats/dashboard?org=HX&{MARCH}")
    assert response.status_code == 200
    table = _table(response.get_data(as_text=True))
    assert list(table) == ["HX", "HX01", "HX02"]
    compared = 0
    for item in [expected, *expected["children"]]:
        for key, value in table[item["org"]["code"]].items():
            source, field = key.split(".")
            assert float(value) == pytest.approx(float(item[source][field])), (item["org"]["code"], key)
            compared += 1
    assert compared == 3 * 10
    # The seeded month is not empty: the comparison is of real figures.
    assert expected["children"][0]["trainings"] == {"sessions": 1, "attendances": 5, "hours": 13.0}
    assert expected["children"][0]["quizzes"]["pass_rate"] == pytest.approx(2 / 3)
    assert expected["children"][1]["drills"]["return_rate"] == 1.0
    assert expected["children"][0]["certificates"] == {"valid": 2, "expiring_30": 2, "expiring_60": 2,
                                                       "expiring_90": 2}


def test_dashboard_draws_one_labelled_bar_per_child_for_each_figure(api, data):
    api.login("hrc")
    html = api.get(f"/stats/dashboard?org=HX&{MARCH}").get_data(as_text=True)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    titles = [re.search(r"<title[^>]*>(.*?)</title>", svg).group(1) for svg in svgs]
    assert titles == ["课程完成率", "测验通过率", "模拟上报退回率", "持证率", "即将到期证书（张）", "培训场次", "培训人次"]
    for svg in svgs:
        assert "青石镇" in svg and "城关街道" in svg
    by_title = dict(zip(titles, svgs, strict=True))
    assert "66.7%（2/3）" in by_title["测验通过率"] and "0.0%（0/1）" in by_title["测验通过率"]
    assert "100.0%（1/1）" in by_title["模拟上报退回率"]
    assert "青石镇：5" in by_title["培训人次"] and "城关街道：1" in by_title["培训人次"]
    assert "style=" not in html and "<script>" not in html


def test_certified_share_counts_active_workers_with_a_valid_certificate(api, data):
    api.login("hrc")
    body = api.get(f"/api/v1/stats?org=HX&{MARCH}").get_json()
    assert body["certified"] == {"workers": 4, "certified": 3, "share": 0.75}
    assert [c["certified"]["workers"] for c in body["children"]] == [3, 1]
    html = api.get(f"/stats/dashboard?org=HX&{MARCH}").get_data(as_text=True)
    table = _table(html)
    # 青石镇: w001 and gl01 certified of w001, w002, gl01; 城关街道: w003 of w003 (tt2 is a trainer).
    assert float(table["HX01"]["certified.share"]) == pytest.approx(2 / 3)
    assert float(table["HX02"]["certified.share"]) == 1.0
    assert "66.7%（2/3）" in html and "100.0%（1/1）" in html


def test_rates_of_nothing_read_as_no_data(api, data, tree):
    api.login("hrc")
    html = api.get("/stats/dashboard?org=HX&from=2025-01-01&to=2025-01-31").get_data(as_text=True)
    # Nothing assigned, attempted or reported: "no data" for those rates, never 0%; the certified share is a real 0%.
    assert "（0/0）" not in html and "红溪县合计：0.0%（0/4）" in html
    # Three rates, each: the chart's total line, two bars and their two descriptions, three table cells.
    assert html.count("无数据") == 3 * (1 + 2 + 2 + 3)


def test_stats_page_links_to_the_dashboard_and_back(api, data):
    api.login("hr1")
    stats_html = api.get(f"/stats?org=HX01&{MARCH}").get_data(as_text=True)
    assert "/stats/dashboard?org=HX01&amp;from=2026-03-01&amp;to=2026-03-31" in stats_html
    html = api.get(f"/stats/dashboard?org=HX01&{MARCH}").get_data(as_text=True)
    assert "/stats?org=HX01" in html and "/exports/trainings.xlsx?org=HX01" in html


def test_trainer_sees_the_dashboard_without_the_export_link(api, data):
    api.login("tt2")
    response = api.get(f"/stats/dashboard?{MARCH}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "城关街道" in html and "/exports/trainings.xlsx" not in html
    assert list(_table(html)) == ["HX02", "HX0201"]


def test_dashboard_of_a_grid_charts_the_grid_itself(api, data):
    api.login("hrc")
    html = api.get(f"/stats/dashboard?org=HX010101&{MARCH}").get_data(as_text=True)
    assert "桃源村第一网格" in re.search(r"<svg.*?</svg>", html, re.S).group(0)


@pytest.mark.parametrize("username,org", [("hr1", "HX"), ("hr1", "HX02"), ("hr1", "HX020101"), ("tt2", "HX01")])
def test_dashboard_outside_the_viewers_scope_is_403(api, data, username, org):
    api.login(username)
    assert api.get(f"/stats/dashboard?org={org}&{MARCH}").status_code == 403


def test_worker_may_not_see_the_dashboard(api, data):
    api.login("w001")
    assert api.get("/stats/dashboard").status_code == 403


def test_dashboard_needs_a_login(client, data):
    response = client.get("/stats/dashboard")
    assert response.status_code in (302, 401) and "青石镇" not in response.get_data(as_text=True)


@pytest.mark.parametrize("query,message", [
    ("org=HX&from=2026-3-1x", "起始日期 from格式应为 YYYY-MM-DD"),
    ("org=HX&to=31/03/2026", "截止日期 to格式应为 YYYY-MM-DD"),
    ("org=HX&from=2026-04-01&to=2026-03-01", "起始日期不能晚于截止日期"),
    ("org=HX&from=" + "9" * 500, "起始日期 from格式应为 YYYY-MM-DD"),
])
def test_bad_dates_are_a_422_page_with_a_chinese_message(api, data, query, message):
    api.login("hrc")
    response = api.get(f"/stats/dashboard?{query}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert "<svg" not in response.get_data(as_text=True)


@pytest.mark.parametrize("org", ["NOPE", "x" * 300, "=1+1"])
def test_unknown_org_is_404(api, data, org):
    api.login("hrc")
    response = api.get("/stats/dashboard", query_string={"org": org, "from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 404


def test_names_from_the_org_tree_are_escaped_in_charts_and_table(api, data, tree):
    make_org("HX03", "township", tree["county"], name="<b>新区</b>")
    api.login("hrc")
    html = api.get(f"/stats/dashboard?org=HX&{MARCH}").get_data(as_text=True)
    assert "<b>新区</b>" not in html and "&lt;b&gt;新区&lt;/b&gt;" in html
