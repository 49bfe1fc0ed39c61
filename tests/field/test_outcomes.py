"""Outcomes: the difference-in-differences recovers a known effect within its interval and claims nothing
without one; the API, the page (method in Chinese), the XLSX export and the dashboard card, with scope and
bad input."""
from __future__ import annotations

import datetime as dt
import io
import random
import re

import pytest
from openpyxl import load_workbook

from lms.field import outcomes
from lms.field.outcomes import Timeline, estimate

TODAY = dt.date(2026, 12, 1)
YEAR_START = dt.date(2025, 12, 1)


def synthetic(*, effect: float, seed: int, treated: int = 60, untreated: int = 200, per_day: float = 0.4,
              trend: float = -0.02):
    """A year of events per person: a personal return rate (0.05–0.30), everybody's rate moving by ``trend``
    from mid-year, and the treated people's rate moving by ``effect`` from their own start date."""
    rng = random.Random(seed)
    timelines, levels, starts = {}, {}, {}
    middle = YEAR_START + dt.timedelta(days=180)
    for uid in range(treated + untreated):
        base = rng.uniform(0.05, 0.30)
        start = YEAR_START + dt.timedelta(days=rng.randint(120, 240)) if uid < treated else None
        rows = []
        for offset in range(365):
            day = YEAR_START + dt.timedelta(days=offset)
            if rng.random() >= per_day:
                continue
            rate = base + (trend if day >= middle else 0) + (effect if start and day >= start else 0)
            rows.append((day, rng.random() < max(0.0, rate)))
        timelines[uid] = Timeline(rows)
        levels[uid] = "grid"
        if start:
            starts[uid] = start
    return starts, timelines, levels


def test_window_counts_match_counting_by_hand():
    rng = random.Random(11)
    rows = [(YEAR_START + dt.timedelta(days=rng.randint(0, 60)), rng.random() < 0.3) for _ in range(80)]
    line = Timeline(rows)
    origin = YEAR_START.toordinal() - 20
    events, flagged = line.aligned(origin, 100)
    for _ in range(300):
        low = YEAR_START + dt.timedelta(days=rng.randint(-20, 70))
        high = low + dt.timedelta(days=rng.randint(0, 30))
        expected = (sum(1 for d, _ in rows if low <= d < high), sum(1 for d, f in rows if low <= d < high and f))
        assert line.window(low, high) == expected
        i, j = low.toordinal() - origin, min(high.toordinal() - origin, 100)
        if high.toordinal() - origin <= 100:
            assert (events[j] - events[i], flagged[j] - flagged[i]) == expected
    assert Timeline([]).window(YEAR_START, TODAY) == (0, 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_known_effect_lies_inside_the_interval(seed):
    starts, timelines, levels = synthetic(effect=-0.08, seed=seed)
    result = estimate(starts, timelines, levels, today=TODAY)
    assert result.treated == 60 and result.controls > 60
    assert result.ci_low <= -0.08 <= result.ci_high, (result.did, result.ci_low, result.ci_high)
    assert result.claim == "decrease"
    # the shared trend is removed: the treated's own before/after change is larger than the effect
    assert result.after - result.before < result.did + 0.005


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_no_effect_claims_no_difference(seed):
    starts, timelines, levels = synthetic(effect=0.0, seed=seed)
    result = estimate(starts, timelines, levels, today=TODAY)
    assert result.ci_low <= 0 <= result.ci_high, (result.did, result.ci_low, result.ci_high)
    assert result.claim == "none"


def test_the_interval_is_reproducible_and_seeded():
    starts, timelines, levels = synthetic(effect=-0.05, seed=7)
    first = estimate(starts, timelines, levels, today=TODAY)
    second = estimate(starts, timelines, levels, today=TODAY)
    other = estimate(starts, timelines, levels, today=TODAY, seed=99)
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)


def test_unfinished_windows_few_people_and_other_levels_make_no_claim():
    starts, timelines, levels = synthetic(effect=-0.08, seed=8, treated=4, untreated=30)
    result = estimate(starts, timelines, levels, today=TODAY)
    assert result.treated == 4 and result.claim == "too_few" and result.ci_low is None
    # the after-window is not over yet: nobody is compared
    late = estimate(starts, timelines, levels, today=min(starts.values()) + dt.timedelta(days=30))
    assert late.treated == 0 and late.left_out == 4 and late.did is None
    # controls come from the same level only
    lonely = {uid: ("village" if uid in starts else "grid") for uid in timelines}
    assert estimate(starts, timelines, lonely, today=TODAY).treated == 0


def test_people_treated_later_are_controls_only_before_their_own_start():
    day = dt.date(2026, 3, 1)
    rows = [(day + dt.timedelta(days=i), i % 5 == 0) for i in range(-90, 90)]
    timelines = {1: Timeline(rows), 2: Timeline(rows), 3: Timeline(rows)}
    levels = {1: "grid", 2: "grid", 3: "grid"}
    result = estimate({1: day}, timelines, levels, all_starts={1: day, 2: day + dt.timedelta(days=30),
                                                                3: day + dt.timedelta(days=200)}, today=TODAY)
    assert result.rows[0].controls == [3]


# --- the database, the API, the page, the export --------------------------------------------------------------

import sqlalchemy as sa  # noqa: E402

from lms.audit.models import AuditEntry  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.field.remediation_models import Remediation  # noqa: E402
from tests.factories import PASSWORD, make_user  # noqa: E402
from tests.field.needs_factories import add_events, days  # noqa: E402


def _history(user, before_returned: int, after_returned: int, start) -> None:
    """10 events in each 30-day window around start, with the given numbers returned."""
    add_events(user, [(10 - before_returned, "办结", None), (before_returned, "退回", "描述不清")],
               day=start - dt.timedelta(days=15))
    add_events(user, [(10 - after_returned, "办结", None), (after_returned, "退回", "描述不清")],
               day=start + dt.timedelta(days=15))


@pytest.fixture
def field(tree):
    start = days(-40)
    people = {"hr": make_user("hr", "hr", tree["county"]), "hr2": make_user("hr2", "hr", tree["t2"]),
              "trainer": make_user("trainer1", "trainer", tree["t1"]), "w0": make_user("w0", "worker", tree["g1"])}
    for i in range(6):
        user = make_user(f"t{i}", "worker", tree["g1"])
        _history(user, 4, 1, start)
        db.session.add(Remediation(user_id=user.id, org_id=user.org_id, started_on=start, due_on=days(-10),
                                   period_from=days(-100), period_to=days(-41), problems=[], events=10))
    for i in range(12):
        _history(make_user(f"c{i}", "worker", tree["g1"] if i % 2 else tree["g2"]), 4, 4, start)
    db.session.commit()
    return people


def _login(client, username):
    assert client.post("/api/v1/session", json={"username": username, "password": PASSWORD}).status_code == 200


def test_the_api_shows_the_difference_and_its_interval(client, field):
    _login(client, "hr")
    body = client.get("/api/v1/field/outcomes", query_string={"org": "HX", "window": "30"}).get_json()
    analyses = {a["key"]: a for a in body["analyses"]}
    remediation = analyses["remediation"]
    assert (remediation["treated"], remediation["controls"]) == (6, 3)
    assert (remediation["before"], remediation["after"]) == (0.4, 0.1)
    assert remediation["difference"] == -0.3 and remediation["ci95"] == [-0.3, -0.3]
    assert remediation["claim"] == "decrease" and "多下降 30.0 个百分点" in remediation["summary"]
    assert analyses["mentoring"]["claim"] == "too_few" and "不作结论" in analyses["mentoring"]["summary"]
    assert body["window_days"] == 30 and body["org"]["code"] == "HX"


def test_the_page_explains_the_method_and_states_no_claim_without_a_difference(client, field):
    _login(client, "hr")
    page = client.get("/field/outcomes", query_string={"org": "HX", "window": "30"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "怎么算的" in html and "95% 区间" in html and "区间包含 0，说“未显示出差异”" in html
    assert 'data-analysis="remediation" data-claim="decrease"' in html
    assert 'href="/exports/field-outcomes.xlsx?org=HX&amp;window=30"' in html


def test_no_effect_reads_no_difference_shown(client, tree):
    start = days(-40)
    make_user("hr", "hr", tree["county"])
    rng = random.Random(3)
    for i in range(8):
        user = make_user(f"t{i}", "worker", tree["g1"])
        _history(user, rng.randint(2, 5), rng.randint(2, 5), start)
        db.session.add(Remediation(user_id=user.id, org_id=user.org_id, started_on=start, due_on=days(-10),
                                   period_from=days(-100), period_to=days(-41), problems=[], events=10))
    for i in range(20):
        _history(make_user(f"c{i}", "worker", tree["g2"]), rng.randint(2, 5), rng.randint(2, 5), start)
    db.session.commit()
    _login(client, "hr")
    html = client.get("/field/outcomes", query_string={"org": "HX", "window": "30"}).get_data(as_text=True)
    body = client.get("/api/v1/field/outcomes", query_string={"org": "HX", "window": "30"}).get_json()
    remediation = next(a for a in body["analyses"] if a["key"] == "remediation")
    assert remediation["ci95"][0] <= 0 <= remediation["ci95"][1], remediation
    assert remediation["claim"] == "none"
    assert 'data-analysis="remediation" data-claim="none"' in html and "未显示出差异" in html


def test_the_export_is_an_audited_workbook(client, field):
    _login(client, "hr")
    response = client.get("/exports/field-outcomes.xlsx", query_string={"org": "HX", "window": "30"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("分析", "指标", "窗口(天)", "参与比较的人数")
    assert rows[1][:4] == ("补训", "退回率", 30, 6) and rows[1][10] == -30
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.action == "export.field_outcomes"))


@pytest.mark.parametrize("who, url, query, status", [
    ("hr2", "/api/v1/field/outcomes", {"org": "HX01"}, 403),
    ("hr", "/api/v1/field/outcomes", {"org": "NOPE"}, 422),
    ("hr", "/api/v1/field/outcomes", {"org": "HX", "window": "abc"}, 400),
    ("hr", "/api/v1/field/outcomes", {"org": "HX", "window": "7"}, 400),
    ("w0", "/api/v1/field/outcomes", {}, 403),
    ("hr2", "/field/outcomes", {"org": "HX01"}, 403),
    ("hr", "/field/outcomes", {"org": "HX", "window": "abc"}, 422),
    ("w0", "/field/outcomes", {}, 403),
    ("trainer1", "/exports/field-outcomes.xlsx", {"org": "HX01"}, 403),
    ("hr", "/exports/field-outcomes.xlsx", {"org": "HX", "window": "1000"}, 422),
])
def test_scope_and_bad_input(client, field, who, url, query, status):
    _login(client, who)
    response = client.get(url, query_string=query)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert re.search(r"[\u4e00-\u9fff]", text)


def test_hr_of_a_township_sees_only_their_subtree(client, field):
    _login(client, "hr2")
    body = client.get("/api/v1/field/outcomes", query_string={"org": "HX02", "window": "30"}).get_json()
    remediation = next(a for a in body["analyses"] if a["key"] == "remediation")
    assert remediation["treated"] == 0  # the remediated people work in HX01


def test_the_dashboard_shows_the_outcome_card(client, field):
    _login(client, "hr")
    outcomes._LAST.clear()
    # Nothing computed yet: the card links to the page and computes nothing (seconds for a county).
    html = client.get("/stats/dashboard", query_string={"org": "HX"}).get_data(as_text=True)
    assert "培训成效（现场上报）" in html and 'href="/field/outcomes?org=HX"' in html
    assert "打开明细页计算" in html and "补训：" not in html
    assert client.get("/field/outcomes", query_string={"org": "HX"}).status_code == 200
    html = client.get("/stats/dashboard", query_string={"org": "HX"}).get_data(as_text=True)
    assert "补训：" in html and "打开明细页计算" not in html
