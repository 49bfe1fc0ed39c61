"""Injection: Markdown built to hold a worker (issue 13, item 2). One renderer serves lesson save, course
summaries, drill scenarios, questions and both previews, so each input goes through the routes that use it.

| tries | expected |
| --- | --- |
| the probe's family, ``"[a]("`` repeated, through the authoring preview | 422 ``markdown_too_complex`` naming the '[' count and the line |
| links, images and references past 200 in one paragraph / 4,000 in all | 422 before rendering |
| emphasis nested 2,000 deep (``*a *a … c* c*``: RecursionError, a 500 before) | 422 |
| unclosed tags (``<a <a <a …``: the HTML parser rescans the rest of the text for each) | 422 naming the tag |
| 17 quote/list markers opening one line; indentation past 64 columns; a paragraph past 20,000 characters | 422 naming the line |
| the same inputs through lesson save (form), course summary (form) and the drill preview (JSON) | 422 with the message, nothing saved |
| the drill editor saving such a scenario | 422 with the message, the form kept (not an error page), nothing saved |
| a course file (``content import``) with such a lesson | the file is refused at its path:line, nothing else of it imported |
| a text inside every limit whose rendering outlasts the time budget | 422 "未能排版完成", the next rendering works |
| ordinary lessons with links, tables, lists, emphasis and HTML | rendered as before |
"""
from __future__ import annotations

import pytest

from lms.courses import render
from lms.courses.content import parse_lesson
from lms.courses.queries import get_course
from tests.courses.factories import make_course
from tests.drills.factories import import_noise
from tests.factories import make_user

REFUSED = [
    pytest.param("[a](" * 2_000, ["方括号", "2000 个", "第 1 行"], id="probe-family-unclosed-links"),
    pytest.param("[a](b)" * 300, ["方括号", "300 个"], id="links-in-one-paragraph"),
    pytest.param(("![a](b) " * 150 + "\n\n") * 30, ["方括号", "4,500 个"], id="images-in-all"),
    pytest.param("*a " * 2_000 + "b" + " c*" * 2_000, ["强调符号"], id="emphasis-nested-2000-deep"),
    pytest.param("正文\n\n" + "<a " * 300, ["第 3 行", "<a", "没有闭合"], id="unclosed-tags"),
    pytest.param("> " * 17 + "a", ["嵌套太深"], id="quote-nesting"),
    pytest.param("- " * 40 + "a", ["嵌套太深"], id="list-markers-on-one-line"),
    pytest.param("x\n\n" + " " * 70 + "- a", ["第 3 行", "缩进太深"], id="indentation"),
    pytest.param("x\n\n" + "&amp;" * 5_000, ["第 3 行", "一段太长", "25,000 个字符"], id="paragraph-past-20000"),
]


@pytest.fixture
def author(api, tree):
    make_user("tc", "trainer", tree["county"])
    make_course("county-c", level="county", org="HX", lessons=1)
    api.login("tc")
    return api


@pytest.mark.parametrize("text, words", REFUSED)
def test_preview_refuses_pathological_markdown_with_422(author, text, words):
    response = author.post("/author/preview", json={"markdown": text, "course": "county-c"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "markdown_too_complex"
    for word in words:
        assert word in error["message"], (word, error["message"])


@pytest.mark.parametrize("text, words", REFUSED[:5])
def test_lesson_save_refuses_it_and_keeps_the_old_version(author, text, words):
    response = author.client.post("/author/courses/county-c/lessons/l1", data={
        "csrf_token": author.csrf, "title": "第1课", "minutes": "5", "markdown": text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert words[0] in page
    assert get_course("county-c").lessons[0].version == 1


def test_course_summary_and_drill_preview_refuse_it_too(author):
    response = author.client.post("/author/courses/county-c", data={
        "csrf_token": author.csrf, "title": "课程", "level": "county", "org": "HX", "hours": "1", "quiz_code": "",
        "tags": "测试", "summary": "*a " * 2_000 + "b" + " c*" * 2_000})
    assert response.status_code == 422
    assert "强调符号" in response.get_data(as_text=True)
    assert get_course("county-c").summary == "摘要"
    response = author.post("/drills/preview", json={"markdown": "[a](" * 2_000})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "markdown_too_complex"


def test_the_drill_editor_keeps_the_form_and_says_why(api, tree, tmp_path):
    from lms.drills import queries
    from lms.drills.forms import form_from_definition

    import_noise(tmp_path)
    make_user("tr-qs", "trainer", tree["t1"])
    api.login("tr-qs")
    values = form_from_definition(queries.get_drill("night-construction-noise").definition)
    data = {k: v for k, v in values.items() if not isinstance(v, list)}
    data.update(code="qs-deep", org="HX01", action="save", scenario="*a " * 2_000 + "b" + " c*" * 2_000,
                answer_department=values["answer_department"], required=values["required"],
                answer_event_type=values["answer_event_type"])  # a list since the editor's event-type checkboxes
    response = api.client.post("/drills/new", data=data | {"csrf_token": api.csrf})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "强调符号" in page and 'value="qs-deep"' in page
    assert queries.get_drill("qs-deep") is None


def test_a_course_file_with_such_a_lesson_is_refused_at_its_line():
    errors = []
    text = "---\ntitle: 入户走访\nminutes: 5\n---\n正文\n\n" + "[a](" * 2_000 + "\n"
    assert parse_lesson(text, "courses/c1/01-visit.md", "01-visit.md", errors) is None
    assert [str(e)[:len("courses/c1/01-visit.md:7: 正文第 3 行附近")] for e in errors] == [
        "courses/c1/01-visit.md:7: 正文第 3 行附近"]
    assert "方括号" in errors[0].message


def test_a_rendering_past_the_time_budget_is_abandoned_with_422(author, monkeypatch):
    text = "\n\n".join(f"## 第{n}节\n\n- [链接](a{n}.md) **重点** `代码`\n\n| a | b |\n| - | - |\n| 1 | 2 |"
                       for n in range(300))
    render.check_markdown(text)  # inside every input limit: only the clock can stop it
    monkeypatch.setattr(render, "TIME_BUDGET", 0.001)
    response = author.post("/author/preview", json={"markdown": text})
    assert response.status_code == 422
    assert "未能排版完成" in response.get_json()["error"]["message"]
    monkeypatch.undo()
    response = author.post("/author/preview", json={"markdown": "**好**"})
    assert response.status_code == 200 and "<strong>好</strong>" in response.get_json()["html"]


def test_ordinary_lessons_still_render(author):
    text = ("# 入户走访\n\n1. 核对 [台账](ledger.md) 与 ![照片](p.png)\n2. **重点**：*老人* 与 `代码`\n\n"
            "> 引用\n> - 列表\n\n| 项 | 值 |\n| - | - |\n| 户数 | 286 |\n\n<b>加粗</b> 3 < 5\n") * 20
    response = author.post("/author/preview", json={"markdown": text, "course": "county-c"})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert html.count("<table>") == 20 and html.count('href="ledger.md"') == 20 and "<b>" not in html
    assert render.TIME_BUDGET <= 3
