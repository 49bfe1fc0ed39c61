"""The menu bar: learners' pages stand in the bar, the operators' pages fold into one 管理 menu (it used to run
past the edge of a 1280 px screen for a county trainer)."""
from __future__ import annotations

import re

import pytest

from lms.home import register_nav
from tests.factories import make_user


def _bar_and_menu(html: str) -> tuple[list[str], list[str]]:
    nav = html[html.index('id="mainNav"'):html.index("</nav>")]
    manage = re.search(r"<details data-nav-manage>(.*?)</details>", nav, re.S)
    menu = re.findall(r'class="nav-manage-link[^"]*"[^>]*>([^<]+)<', manage.group(1)) if manage else []
    bar_part = nav[:manage.start()] if manage else nav
    bar = re.findall(r'class="nav-link[^"]*"[^>]*>([^<]+)', bar_part)
    return [b.strip() for b in bar], menu


def test_worker_sees_the_learning_pages_and_no_management_menu(api, client, tree):
    make_user("w1", "worker", tree["g1"])
    api.login("w1")
    bar, menu = _bar_and_menu(client.get("/").get_data(as_text=True))
    assert menu == []
    assert {"首页", "我的学习", "课程", "测验", "上报演练", "证书", "消息"} <= set(bar)
    assert not {"统计", "学习进度", "人员", "课程编写", "证书管理"} & set(bar)


def test_hr_finds_the_operators_pages_in_the_management_menu_marked_where_they_are(api, client, tree):
    make_user("h1", "hr")
    api.login("h1")
    bar, menu = _bar_and_menu(client.get("/").get_data(as_text=True))
    assert {"统计", "学习进度", "人员", "证书管理"} <= set(menu)
    assert not set(menu) & set(bar)
    html = client.get("/progress").get_data(as_text=True)
    assert re.search(r'<summary class="nav-link active">管理</summary>', html)
    assert re.search(r'class="nav-manage-link active" aria-current="page" href="/progress">学习进度<', html)


def test_an_unknown_menu_group_is_refused():
    with pytest.raises(ValueError):
        register_nav(99, "测试", "accounts.home", lambda user: True, group="admin-only")
