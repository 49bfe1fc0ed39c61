"""Codes that leaked into pages, each fixed where it was: bank names in the quiz builder."""
from __future__ import annotations

import io
import re

from tests.factories import ApiClient, make_user
from tests.i18n.crawler import leaks, parse


def test_a_bank_imported_without_a_name_gets_a_chinese_one_shown_in_the_quiz_builder(app, client, tree):
    make_user("tc", "trainer", tree["county"], name="王老师")
    ApiClient(client).login("tc")
    page = client.get("/quizzes/banks").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    gift = "::a:: 网格员每月至少走访几次？ {=4 ~1}\n".encode()
    for code, title, filename in (("plain-bank", "", "bank_1.gift"), ("named-bank", "社保政策题库", "x.gift"),
                                  ("file-bank", "", "信访题.gift")):
        reply = client.post("/quizzes/banks", data={"csrf_token": token, "bank": code, "title": title,
                                                    "file": (io.BytesIO(gift), filename)},
                            content_type="multipart/form-data")
        assert reply.status_code == 200, reply.get_data(as_text=True)[-500:]
        assert code not in parse(reply.get_data(as_text=True))[0]
    builder, _ = parse(client.get("/quizzes/manage/new").get_data(as_text=True))
    assert "导入的题库（" in builder and "社保政策题库" in builder and "信访题" in builder
    assert not leaks(builder)


def test_the_quiz_builder_names_a_bank_by_its_title_when_a_draw_cannot_be_met(app, client, tree):
    make_user("tc", "trainer", tree["county"], name="王老师")
    ApiClient(client).login("tc")
    page = client.get("/quizzes/banks").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    gift = "::a:: 网格员每月至少走访几次？ {=4 ~1}\n".encode()
    client.post("/quizzes/banks", data={"csrf_token": token, "bank": "visits-bank", "title": "走访题库",
                                        "file": (io.BytesIO(gift), "x.gift")}, content_type="multipart/form-data")
    reply = client.post("/quizzes/manage/new", data={
        "csrf_token": token, "action": "check", "code": "visit-quiz", "title": "走访测验", "org": "HX",
        "bank_0": "visits-bank", "count_0": "5", "time_limit_minutes": "10", "pass_score": "60"})
    text = parse(reply.get_data(as_text=True))[0]
    assert "题库《走访题库》" in text and "要抽 5 题" in text
    assert not leaks(text)
