"""Course and lesson codes are generated from Chinese titles; pickers show titles; file content keeps its codes."""
from __future__ import annotations

import pytest

from lms.contentfile import ContentErrors, split_front_matter
from lms.courses.content import parse_lesson
from lms.courses.queries import get_course, get_lesson
from lms.extensions import db
from tests.courses.test_views import NEW, form_post, page, world  # noqa: F401  (fixture)
from tests.quizzes.factories import make_bank, make_quiz


def test_a_course_without_a_code_gets_one_from_its_title(api, world):  # noqa: F811
    api.login("tq")
    response = form_post(api, "/author/courses/new", {**NEW, "code": "", "title": "矛盾纠纷调解"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/author/courses/mdjftj-1")
    assert get_course("mdjftj-1").title == "矛盾纠纷调解"
    again = form_post(api, "/author/courses/new", {**NEW, "code": "", "title": "矛盾纠纷调解"})
    assert again.headers["Location"].endswith("/author/courses/mdjftj-2")


def test_a_chinese_code_is_turned_into_a_readable_one_not_refused(api, world):  # noqa: F811
    api.login("tq")
    response = form_post(api, "/author/courses/new", {**NEW, "code": "防汛演练"})
    assert response.status_code == 302
    assert get_course("fxyl-1") is not None and get_course("t1-new") is None


def test_a_typed_code_already_used_is_refused_and_names_the_way_out(api, world):  # noqa: F811
    api.login("tq")
    response = form_post(api, "/author/courses/new", {**NEW, "code": "county-c"})
    assert response.status_code == 422
    assert "已被使用（可留空，自动生成）" in response.get_data(as_text=True)


def test_new_course_form_says_the_code_is_optional(api, world):  # noqa: F811
    api.login("tq")
    html = page(api, "/author/courses/new")
    assert "课程编码（可不填）" in html and "mdjftj-1" in html
    assert 'name="code" required' not in html


def test_lessons_without_a_slug_get_one_from_their_title(api, world):  # noqa: F811
    api.login("tc")
    course = get_course("county-c")
    for slug in ("", "入户 走访"):
        response = form_post(api, "/author/courses/county-c/lessons/new",
                             {"slug": slug, "title": "入户走访", "minutes": "5", "markdown": "正文"})
        assert response.status_code == 302
    assert get_lesson(course, "rhzf-1").title == "入户走访"
    assert get_lesson(course, "rh-zf-1").title == "入户走访"  # typed words keep their split
    html = page(api, "/author/courses/county-c/lessons/new")
    assert "课时短名（可不填" in html


def test_final_quiz_and_assignment_pickers_show_quiz_titles(api, world):  # noqa: F811
    make_bank()
    make_quiz("county-exam").title = "县级统考"
    db.session.commit()
    api.login("tc")
    html = page(api, "/author/courses/new")
    assert '<option value="county-exam">县级统考</option>' in html
    assert '<option value="county-exam">县级统考</option>' in page(api, "/author/assignments")
    response = form_post(api, "/author/courses/new", {**NEW, "level": "county", "org": "HX",
                                                      "quiz_code": "county-exam"})
    assert response.status_code == 302 and get_course("t1-new").quiz_code == "county-exam"
    edit = page(api, "/author/courses/t1-new")
    assert '<option selected value="county-exam">县级统考</option>' in edit


def test_a_course_whose_quiz_is_gone_keeps_it_listed(api, world):  # noqa: F811
    course = get_course("county-c")
    course.quiz_code = "old-exam"
    db.session.commit()
    api.login("tc")
    assert "测验 old-exam 不存在或已停用" in page(api, "/author/courses/county-c")


FILE = "---\ntitle: 课时\nminutes: 3\nnote: ok\nbad: [unclosed\n---\n正文\n"


def test_broken_front_matter_is_reported_at_the_files_own_line():
    with pytest.raises(ContentErrors) as caught:
        split_front_matter(FILE, "courses/c/01-a.md")
    assert [e.line for e in caught.value.errors] == [5]
    with pytest.raises(ContentErrors) as caught:
        split_front_matter("---\ntitle: a\nminutes: 3\n  x: : 2\n---\n正文\n", "courses/c/01-a.md")
    assert str(caught.value.errors[0]).startswith("courses/c/01-a.md:4:")


def test_lesson_file_error_lines_count_the_front_matter():
    errors = []
    parse_lesson("---\ntitle: 课时\nminutes: [3\n---\n正文\n", "courses/c/01-a.md", "01-a.md", errors)
    assert errors and errors[0].line == 3


def test_the_code_a_title_will_give_is_suggested_while_typing(api, world):  # noqa: F811
    api.login("tq")
    html = page(api, "/author/courses/new")
    assert 'data-code-kind="course"' in html and 'data-code-from="title"' in html and "js/editor_codes.js" in html
    suggested = api.get("/author/code-suggestion?kind=course&title=矛盾纠纷调解").get_json()
    assert suggested == {"code": "mdjftj-1"}
    form_post(api, "/author/courses/new", {**NEW, "code": "", "title": "矛盾纠纷调解"})
    assert get_course("mdjftj-1") is not None
    assert api.get("/author/code-suggestion?kind=course&title=矛盾纠纷调解").get_json() == {"code": "mdjftj-2"}
    assert api.get("/author/code-suggestion?kind=lesson&course=t1-c&title=入户走访").get_json() == {"code": "rhzf-1"}
    for kind, code in (("quiz", "xjtk-1"), ("bank", "xjtk-1"), ("drill", "xjtk-1")):
        assert api.get(f"/author/code-suggestion?kind={kind}&title=县级统考").get_json() == {"code": code}
    assert api.get("/author/code-suggestion?kind=course&title=").get_json() == {"code": "kc-1"}
    bad = api.get("/author/code-suggestion?kind=secret&title=x")
    assert bad.status_code == 400 and "kind 只能是" in bad.get_json()["error"]["message"]
    assert api.get("/author/code-suggestion?kind=lesson&course=county-c&title=x").status_code == 403
    assert api.get("/author/code-suggestion?kind=lesson&course=nope&title=x").status_code == 404
    api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf})
    api.login("w1")
    assert api.get("/author/code-suggestion?kind=course&title=x").status_code == 403
