"""我的证书: one readable list per program (✓ 已达 / ✗ 未达, with the next thing to do), manual issues say so;
证书管理 renders as cards-ready rows."""
from __future__ import annotations

import re

import pytest

from lms.certification import present
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def setup(tree):
    worker = make_user("w1", "worker", tree["g1"], name="李小红")
    hr = make_user("hr1", "hr", tree["county"], name="人事一")
    sg = make_program("WG-SG", "网格员上岗证", position=1, requires={
        "courses": ["county-grid-duties"], "quizzes": {"county-exam": 80}, "drills_accepted": 3,
        "training_hours": 8, "mentoring_activities": 2, "points": 60})
    star = make_program("WG-STAR-1", "一星网格员", star=1, position=2, requires={"certificates": ["WG-SG"]})
    manual = make_program("WG-ZX", "专项调解员", position=3, requires={"drills_accepted": 5, "points": 100})
    return {"worker": worker, "hr": hr, "sg": sg, "star": star, "manual": manual}


def _page(client) -> str:
    response = client.get("/certificates")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _section(html: str, title: str) -> str:
    start = html.index(f"<span>{title}</span>")
    end = html.find("</section>", start)
    return html[start:end]


def test_each_missing_requirement_links_to_the_thing_to_do_next(client, api, setup):
    api.login("w1")
    html = _page(client)
    sg = _section(html, "网格员上岗证")
    assert "还差 6 项" in sg and "已达 0/6 项" in sg
    assert sg.count("✗ 未达") == 6 and "✓ 已达" not in sg
    for href, label in [("/courses/county-grid-duties", "去学习"), ("/quizzes/county-exam/start", "去测验"),
                        ("/drills", "去演练"), ("/trainings", "看培训安排"), ("/mentoring/confirm", "去确认活动"),
                        ("/points", "看积分")]:
        assert re.search(rf'href="{re.escape(href)}">{label}</a>', sg), (href, label)
    assert "（尚未参加）" in sg and "（目前 0 学时）" in sg
    # The star program needs the other certificate: its link jumps to that program's card on the page.
    star = _section(html, "一星网格员")
    anchor = re.search(r'href="#(prog-\d+)">看该项目</a>', star).group(1)
    assert f'id="{anchor}"' in html and html.index(f'id="{anchor}"') < html.index("<span>网格员上岗证</span>")


def test_a_manually_issued_certificate_says_so_instead_of_held_above_red_marks(client, api, setup):
    make_certificate(setup["worker"], setup["manual"], actor=setup["hr"], reason="县级调解能手，经综治中心审核")
    api.login("w1")
    html = _page(client)
    manual = _section(html, "专项调解员")
    assert "已由人工发放：县级调解能手，经综治中心审核" in manual
    assert "已持有" not in manual
    # The unmet rules are still there to look at, but folded away under a neutral summary.
    assert "<details" in manual and "人工发放不要求逐项满足" in manual
    assert manual.index("<details") < manual.index("✗ 未达")


def test_an_automatically_held_certificate_shows_held_and_its_expiry(client, api, setup):
    make_certificate(setup["worker"], setup["sg"], reason="自动发放")
    api.login("w1")
    html = _page(client)
    assert re.search(r"已持有，有效期至 \d{4}-\d{2}-\d{2}", _section(html, "网格员上岗证"))
    star = _section(html, "一星网格员")
    assert "✓ 已达" in star and "条件已满足，即将发证" in star and "看该项目" not in star


def test_progress_page_data_marks_state_and_counts(app, setup):
    make_certificate(setup["worker"], setup["manual"], actor=setup["hr"], reason="特批")
    db.session.commit()
    with app.test_request_context():
        programs = {p["code"]: p for p in present.progress_page(setup["worker"])}
    assert programs["WG-ZX"]["state"] == "manual" and programs["WG-ZX"]["certificate"]["manual"] is True
    assert programs["WG-SG"]["state"] == "missing" and programs["WG-SG"]["met_count"] == 0
    assert [row["mark"] for row in programs["WG-SG"]["rows"]] == ["✗ 未达"] * 6
    quiz = next(row for row in programs["WG-SG"]["rows"] if "测验" in row["label"])
    assert quiz["next"] == {"url": "/quizzes/county-exam/start", "label": "去测验"}


def test_manage_page_rows_carry_labels_for_the_phone_cards(client, api, setup):
    certificate = make_certificate(setup["worker"], setup["sg"], reason="自动发放")
    api.login("hr1")
    response = client.get("/certificates/manage")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and certificate.number in html
    assert 'class="table align-middle cert-table cert-manage-table"' in html
    for label in ("单位", "证书", "编号", "有效期至", "状态", "操作"):
        assert f'data-label="{label}"' in html
