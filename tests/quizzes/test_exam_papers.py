"""Fixed exam papers (hand-picked, ordered, marks per question), the bank search and its bulk actions,
item statistics per option text."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.audit.render import render
from lms.contentfile import ContentErrors
from lms.contentsync import SyncContext, SyncReport
from lms.db import utcnow
from lms.extensions import db
from lms.quizzes import services, sync
from lms.quizzes.formats import parse_question_file
from lms.quizzes.formats.quiz_file import parse_quiz
from lms.quizzes.models import Attempt, Origin, Question, Quiz
from lms.quizzes.questions import Question as Q
from tests.factories import PASSWORD, make_user
from tests.quizzes.factories import QUESTIONS, make_bank, make_quiz

EXTRA = [Q(id=f"t-extra-{n}", type="judge", stem=f"第 {n} 道判断题：网格员应当按时上报。", answer=True,
           explanation="按时上报", source="县网格化管理规定第八条", difficulty=1 + n % 5, tags=("上报",))
         for n in range(1, 26)]


@pytest.fixture
def setup(tree):
    make_bank(questions=QUESTIONS + EXTRA)
    make_bank("other-bank", questions=[Q(id="o-1", type="judge", stem="乡镇题库的题", answer=True)], org=tree["t2"])
    make_quiz()
    make_fixed_quiz()
    make_user("tc", "trainer", tree["county"])
    make_user("tv", "trainer", tree["v1"])
    make_user("t2", "trainer", tree["t2"])
    make_user("w1", "worker", tree["g1"])
    return tree


def make_fixed_quiz(code="exam", paper=(("t-single", 5), ("t-judge", 3), ("t-fill", 2)), **fields):
    from lms.org.queries import get_org
    quiz = Quiz(code=code, title="县级统考", org=fields.pop("org", None) or get_org("HX"), draws=[],
                fixed_paper=[{"qid": q, "marks": m} for q, m in paper], time_limit_minutes=30,
                pass_score=fields.pop("pass_score", 60), max_attempts=None, shuffle_options=True, origin=Origin.web)
    db.session.add(quiz)
    db.session.commit()
    return quiz


def _login(client, username):
    assert client.post("/api/v1/session", json={"username": username, "password": PASSWORD}).status_code == 200
    page = client.get("/quizzes").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _quiz(code="exam") -> Quiz:
    db.session.expire_all()
    return db.session.execute(sa.select(Quiz).where(Quiz.code == code)).scalar_one()


def _row(qid) -> Question:
    db.session.expire_all()
    return db.session.execute(sa.select(Question).where(Question.qid == qid)).scalar_one()


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


# --- the quiz file -------------------------------------------------------------------------------------------

QUIZ_FILE = """\
code: exam
title: 县级统考
questions:
  - {id: t-single, marks: 5}
  - id: t-judge
    marks: 3
  - t-fill
time_limit_minutes: 30
pass_score: 60
"""


def test_quiz_file_with_a_fixed_paper_parses_in_order_with_marks():
    spec = parse_quiz(QUIZ_FILE, "question_bank/quizzes/exam.yaml")
    assert [(q.id, q.marks, q.line) for q in spec.questions] == [("t-single", 5, 4), ("t-judge", 3, 5),
                                                                 ("t-fill", 1, 7)]
    assert spec.draws == () and spec.question_count == 3


@pytest.mark.parametrize("text, line, message", [
    (QUIZ_FILE.replace("marks: 3", "marks: 0"), 6, "分值 marks 必须是 1–100 的整数"),
    (QUIZ_FILE.replace("  - t-fill", "  - t-single"), 7, "题目 t-single 在试卷中重复出现"),
    (QUIZ_FILE.replace("{id: t-single, marks: 5}", "{id: t-single, score: 5}"), 4, "未知字段 score"),
    (QUIZ_FILE.replace("questions:", "draw: [{bank: b, count: 1}]\nquestions:"), 4, "只能写一个"),
    ("code: exam\ntitle: 考试\nquestions: []\ntime_limit_minutes: 30\npass_score: 60\n", 3, "questions 必须是非空列表"),
])
def test_bad_fixed_papers_in_quiz_files_name_the_line(text, line, message):
    with pytest.raises(ContentErrors) as caught:
        parse_quiz(text, "question_bank/quizzes/exam.yaml")
    assert any(e.line == line and message in e.message for e in caught.value.errors), caught.value.errors


def test_unknown_question_of_a_fixed_paper_is_named_at_its_line():
    with pytest.raises(ContentErrors) as caught:
        parse_quiz(QUIZ_FILE, "question_bank/quizzes/exam.yaml", known_ids={"t-single", "t-fill"})
    assert [str(e) for e in caught.value.errors] == ["question_bank/quizzes/exam.yaml:5: 试卷中的题目 t-judge 不在任何题库中"]


def test_content_check_reports_an_unknown_paper_question_with_file_and_line(tmp_path):
    from lms.contentcheck.load import load_content
    questions = tmp_path / "question_bank"
    (questions / "quizzes").mkdir(parents=True)
    (questions / "b.yaml").write_text(textwrap.dedent("""\
        bank: b
        title: 题库
        questions:
          - id: t-single
            type: judge
            stem: 一道题
            answer: true
        """), encoding="utf-8")
    (questions / "quizzes" / "exam.yaml").write_text(QUIZ_FILE, encoding="utf-8")
    content = load_content(tmp_path / "courses", questions)
    found = [(f.path, f.line, f.reason) for f in content.load_findings]
    assert ("question_bank/quizzes/exam.yaml", 5, "文件无法导入：试卷中的题目 t-judge 不在任何题库中") in found
    assert "exam" not in content.quizzes


def test_content_import_stores_the_fixed_paper_and_refuses_unknown_ids(setup, tmp_path):
    folder = tmp_path / "question_bank"
    (folder / "quizzes").mkdir(parents=True)
    (folder / "quizzes" / "file-exam.yaml").write_text(QUIZ_FILE.replace("code: exam", "code: file-exam"),
                                                       encoding="utf-8")
    (folder / "quizzes" / "bad-exam.yaml").write_text(
        QUIZ_FILE.replace("code: exam", "code: bad-exam").replace("t-fill", "nope-1"), encoding="utf-8")
    ctx = SyncContext(tmp_path / "courses", folder, utcnow())
    report = SyncReport()
    sync.import_quizzes(ctx, report)
    db.session.commit()
    assert _quiz("file-exam").fixed_paper == [{"qid": "t-single", "marks": 5}, {"qid": "t-judge", "marks": 3},
                                              {"qid": "t-fill", "marks": 1}]
    assert any("bad-exam.yaml:7" in str(e) and "nope-1" in str(e) for e in report.errors), report.errors


# --- sitting a fixed paper ----------------------------------------------------------------------------------

def test_worker_gets_the_paper_in_order_and_is_scored_on_marks(setup, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/exam/attempts").get_json()
    assert [q["qid"] for q in attempt["questions"]] == ["t-single", "t-judge", "t-fill"]
    stored = db.session.get(Attempt, attempt["id"])
    single = next(d for d in stored.paper if d["qid"] == "t-single")
    right = next(key for key, original in single["key_map"].items() if original == "B")
    api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-single", json={"answer": right, "seq": 1})
    api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-judge", json={"answer": True, "seq": 2})  # wrong
    result = api.post(f"/api/v1/attempts/{attempt['id']}/submit").get_json()
    # 5 of 10 marks: 50, below the pass mark of 60 (one question of three right would be 33.33)
    assert result["score"] == 50.0 and result["passed"] is False
    assert [(r["qid"], r["points"], r["earned"]) for r in result["results"]] == [
        ("t-single", 5, 5), ("t-judge", 3, 0), ("t-fill", 2, 0)]
    page = api.get(f"/attempts/{attempt['id']}/result").get_data(as_text=True)
    assert "得 5 / 10 分" in page and "5 分" in page


def test_drawn_quiz_scores_as_before(setup, api):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/test-quiz/attempts").get_json()
    judges = [q["qid"] for q in attempt["questions"] if q["type"] == "judge"]
    for seq, qid in enumerate(judges, start=1):  # every judge answered right
        api.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}", json={"answer": qid != "t-judge", "seq": seq})
    result = api.post(f"/api/v1/attempts/{attempt['id']}/submit").get_json()
    assert sum(r["correct"] for r in result["results"]) == len(judges) > 0
    assert result["score"] == round(100 * len(judges) / 4, 2) and all(r["points"] == 1 for r in result["results"])


def test_an_empty_fixed_paper_cannot_be_sat(setup, api):
    make_fixed_quiz("empty-exam", paper=())
    api.login("w1")
    reply = api.post("/api/v1/quizzes/empty-exam/attempts")
    assert reply.status_code == 409 and "还没有题目" in reply.get_json()["error"]["message"]


def test_a_question_retired_after_it_was_put_on_the_paper_stays_on_it(setup, api):
    services.set_retired(None, _row("t-judge"), True)
    db.session.commit()
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/exam/attempts").get_json()
    assert [q["qid"] for q in attempt["questions"]] == ["t-single", "t-judge", "t-fill"]


# --- the paper builder --------------------------------------------------------------------------------------

def _paper_form(token, entries, op="save", **extra):
    data = {"csrf_token": token, "op": op, "qid": [q for q, _ in entries]}
    data.update({f"marks-{n}": str(m) for n, (_, m) in enumerate(entries, start=1)})
    return data | extra


def test_builder_adds_reorders_sets_marks_and_removes(setup, client):
    token = _login(client, "tc")
    page = client.get("/quizzes/exam/paper?q=判断题&difficulty=2")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "总分 <span id=\"paper-total\">10</span> 分" in text
    assert "编号 <code>t-extra-1<" in text and "编号 <code>t-extra-2<" not in text  # difficulty 2 only
    paper = [("t-single", 5), ("t-judge", 3), ("t-fill", 2)]
    added = client.post("/quizzes/exam/paper", data=_paper_form(token, paper, "add:t-extra-1", s_q="判断题"))
    assert added.status_code == 303
    assert added.headers["Location"].endswith("/quizzes/exam/paper?q=%E5%88%A4%E6%96%AD%E9%A2%98")  # search kept
    assert _quiz().fixed_paper[-1] == {"qid": "t-extra-1", "marks": 1}
    paper = [("t-single", 5), ("t-judge", 3), ("t-fill", 2), ("t-extra-1", 4)]
    assert client.post("/quizzes/exam/paper", data=_paper_form(token, paper, "up:4")).status_code == 303
    assert [e["qid"] for e in _quiz().fixed_paper] == ["t-single", "t-judge", "t-extra-1", "t-fill"]
    assert _quiz().fixed_paper[2] == {"qid": "t-extra-1", "marks": 4}
    paper = [("t-single", 5), ("t-judge", 3), ("t-extra-1", 4), ("t-fill", 2)]
    assert client.post("/quizzes/exam/paper", data=_paper_form(token, paper, "down:1")).status_code == 303
    assert [e["qid"] for e in _quiz().fixed_paper] == ["t-judge", "t-single", "t-extra-1", "t-fill"]
    paper = [("t-judge", 3), ("t-single", 5), ("t-extra-1", 4), ("t-fill", 2)]
    assert client.post("/quizzes/exam/paper", data=_paper_form(token, paper, "remove:2")).status_code == 303
    assert _quiz().fixed_paper == [{"qid": "t-judge", "marks": 3}, {"qid": "t-extra-1", "marks": 4},
                                   {"qid": "t-fill", "marks": 2}]
    assert "总分 <span id=\"paper-total\">9</span> 分" in client.get("/quizzes/exam/paper").get_data(as_text=True)
    assert _actions().count("quizzes.paper_saved") == 4


@pytest.mark.parametrize("entries, op, message", [
    ([("t-single", 0), ("t-judge", 3)], "save", "第 1 题的分值必须是 1–100 的整数"),
    ([("t-single", -2)], "save", "分值必须是 1–100"),
    ([("t-single", "五")], "save", "分值必须是 1–100"),
    ([("t-single", 101)], "save", "分值必须是 1–100"),
    ([("t-single", 5), ("nope-9", 1)], "save", "题目 nope-9 不存在"),
    ([("t-single", 5)], "add:nope-9", "题目 nope-9 不存在"),
    ([("t-single", 5), ("t-judge", 1)], "add:t-single", "题目 t-single 在试卷中重复"),
    ([("t-single", 5)], "remove:1", "试卷至少要有一道题"),
    ([], "save", "试卷至少要有一道题"),
    ([("t-single", 5)], "explode:1", "无法识别的操作"),
])
def test_bad_builder_input_is_400_with_the_reason_and_saves_nothing(setup, client, entries, op, message):
    token = _login(client, "tc")
    before = _quiz().fixed_paper
    reply = client.post("/quizzes/exam/paper", data=_paper_form(token, entries, op))
    assert reply.status_code == 400 and message in reply.get_data(as_text=True)
    assert _quiz().fixed_paper == before


def test_retired_questions_are_not_added_to_papers(setup, client):
    services.set_retired(None, _row("t-extra-3"), True)
    db.session.commit()
    token = _login(client, "tc")
    page = client.get("/quizzes/exam/paper?q=t-extra-3").get_data(as_text=True)
    assert "add:t-extra-3" not in page and "没有符合条件的题目" in page
    reply = client.post("/quizzes/exam/paper", data=_paper_form(token, [("t-single", 5)], "add:t-extra-3"))
    assert reply.status_code == 400 and "已停用，不能加入新试卷" in reply.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ("difficulty=9", "难度只能是 1–5"), ("difficulty=x", "难度只能是 1–5"), ("page=0", "页码必须是"),
    ("page=1001", "页码必须是"), ("type=essay", "题型只能是"), ("status=gone", "状态只能是"),
    ("q=" + "长" * 101, "搜索文字不能超过 100 个字"), ("tag=%01", "标签含有控制字符"),
])
def test_search_parameters_out_of_range_are_400(setup, client, api, query, message):
    _login(client, "tc")
    for url in (f"/quizzes/exam/paper?{query}", f"/quizzes/questions?{query}"):
        reply = client.get(url)
        assert reply.status_code == 400 and message in reply.get_data(as_text=True), url
    reply = client.get(f"/api/v1/questions?{query}")
    assert reply.status_code == 400 and message in reply.get_json()["error"]["message"]


def test_json_paper_route_sets_the_paper_and_refuses_bad_input(setup, api):
    api.login("tc")
    assert api.get("/api/v1/quizzes/exam/paper").get_json()["total"] == 10
    reply = api.put("/api/v1/quizzes/exam/paper", json={"questions": [{"qid": "t-fill", "marks": 7},
                                                                      {"qid": "t-multiple", "marks": 3}]})
    assert reply.status_code == 200 and reply.get_json()["total"] == 10
    assert _quiz().fixed_paper == [{"qid": "t-fill", "marks": 7}, {"qid": "t-multiple", "marks": 3}]
    for body, code in [({"questions": []}, "empty_paper"), ({"questions": "t-fill"}, "invalid_paper"),
                       ({"questions": [{"qid": "t-fill", "marks": 0}]}, "invalid_marks"),
                       ({"questions": [{"qid": "t-fill", "marks": True}]}, "invalid_marks"),
                       ({"questions": [{"qid": "t-fill", "marks": 2.5}]}, "invalid_marks"),
                       ({"questions": [{"qid": "nope", "marks": 1}]}, "unknown_question"),
                       ({"questions": [{"qid": "t-fill"}, {"qid": "t-fill"}]}, "duplicate_question"),
                       ({"questions": [{"marks": 1}]}, "invalid_paper"), ({}, "invalid_paper")]:
        reply = api.put("/api/v1/quizzes/exam/paper", json=body)
        assert reply.status_code == 400 and reply.get_json()["error"]["code"] == code, (body, reply.get_json())
    assert api.put("/api/v1/quizzes/exam/paper", data="[1]", headers={"Content-Type": "application/json"}
                   ).status_code == 400
    assert api.get("/api/v1/quizzes/test-quiz/paper").status_code == 404  # a drawn quiz has no paper
    assert _quiz().fixed_paper == [{"qid": "t-fill", "marks": 7}, {"qid": "t-multiple", "marks": 3}]


def test_village_trainer_cannot_edit_a_county_paper(setup, client, api):
    token = _login(client, "tv")
    assert client.get("/quizzes/exam/paper").status_code == 403
    assert client.post("/quizzes/exam/paper", data=_paper_form(token, [("t-fill", 9)])).status_code == 403
    assert client.get("/quizzes/exam/preview").status_code == 403
    reply = client.put("/api/v1/quizzes/exam/paper", json={"questions": [{"qid": "t-fill", "marks": 9}]},
                       headers={"X-CSRFToken": token})
    assert reply.status_code == 403
    assert _quiz().fixed_paper[0] == {"qid": "t-single", "marks": 5}


def test_preview_shows_the_paper_as_a_worker_sees_it_and_records_nothing(setup, client):
    _login(client, "tc")
    page = client.get("/quizzes/exam/preview")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.index("城乡居民养老保险由谁缴费") < text.index("网格员可以代替居民签字") < text.index("可按月领取养老金")
    assert "第 1 题 · 单选题 · 5 分" in text and "总分 10 分" in text and "个人缴费、集体补助、政府补贴" in text
    assert "解析甲" not in text  # no key, no explanation
    assert client.get("/quizzes/test-quiz/preview").status_code == 200  # a drawn quiz: one sample draw
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 0


def test_quiz_form_creates_a_fixed_quiz_and_leads_to_the_builder(setup, client):
    token = _login(client, "tc")
    form = {"csrf_token": token, "kind": "fixed", "code": "paper-2", "title": "乡镇统考", "org": "HX",
            "time_limit_minutes": "40", "pass_score": "70", "max_attempts": "", "action": "save"}
    reply = client.post("/quizzes/manage/new", data=form)
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/quizzes/paper-2/paper")
    assert _quiz("paper-2").fixed_paper == [] and _quiz("paper-2").draws == []
    assert client.post("/quizzes/manage/new", data=form | {"kind": "both", "code": "paper-3"}).status_code == 422


# --- bank management ----------------------------------------------------------------------------------------

def test_search_filters_by_text_tag_type_difficulty_and_pages(setup, client, api):
    api.login("tc")
    found = api.get("/api/v1/questions?tag=上报").get_json()
    assert len(found["items"]) == 20 and found["next"] == 2
    assert len(api.get("/api/v1/questions?tag=上报&page=2").get_json()["items"]) == 5
    assert [i["qid"] for i in api.get("/api/v1/questions?q=养老保险").get_json()["items"]] == ["t-single"]
    assert {i["qid"] for i in api.get("/api/v1/questions?type=multiple").get_json()["items"]} == {"t-multiple"}
    assert {i["difficulty"] for i in api.get("/api/v1/questions?difficulty=4").get_json()["items"]} == {4}
    assert api.get("/api/v1/questions?q=100%25").get_json()["items"] == []  # % is literal
    # scope: the county trainer sees the township's bank; the township trainer not the county's
    assert api.get("/api/v1/questions?q=o-1").get_json()["items"][0]["bank"]["code"] == "other-bank"
    api.delete("/api/v1/session")
    api.login("t2")
    assert [i["qid"] for i in api.get("/api/v1/questions").get_json()["items"]] == ["o-1"]


def _bulk(client, token, action, qids, **fields):
    return client.post("/quizzes/questions", data={"csrf_token": token, "action": action, "qid": qids, **fields})


def test_bulk_tag_move_retire_restore_are_audited(setup, client, api):
    token = _login(client, "tc")
    assert _bulk(client, token, "tag", ["t-single", "t-judge"], tag="统考").status_code == 303
    assert "统考" in _row("t-single").tags and _row("t-single").version == 2 and _row("t-single").origin == Origin.web
    assert _bulk(client, token, "untag", ["t-single"], tag="统考").status_code == 303
    assert "统考" not in _row("t-single").tags
    assert _bulk(client, token, "move", ["t-extra-1", "t-extra-2"], bank_to="other-bank").status_code == 303
    assert _row("t-extra-1").bank.code == "other-bank"
    assert _bulk(client, token, "retire", ["t-extra-3", "t-extra-4"]).status_code == 303
    assert _row("t-extra-3").is_retired
    listed = client.get("/quizzes/questions?status=retired").get_data(as_text=True)
    assert "t-extra-3" in listed and "t-extra-5" not in listed
    # retired questions are not drawn
    pools = services.draw_pools(make_quiz("tag-quiz", count=1))
    assert not {"t-extra-3", "t-extra-4", "t-extra-1"} & {e.id for e in pools["test-bank"]}
    assert _bulk(client, token, "restore", ["t-extra-3"]).status_code == 303
    assert not _row("t-extra-3").is_retired
    assert [a for a in _actions() if a.startswith("quizzes.questions")] == [
        "quizzes.questions_tagged", "quizzes.questions_untagged", "quizzes.questions_moved",
        "quizzes.questions_retired_many", "quizzes.questions_restored_many"]
    audit = " ".join(row["sentence"] for row in render(db.session.scalars(sa.select(AuditEntry)).all()))
    assert "加上了标签“统考”" in audit and "道试题移到了题库" in audit and "停用了 2 道试题" in audit


@pytest.mark.parametrize("action, qids, fields, status, message", [
    ("tag", [], {"tag": "x"}, 400, "请先勾选题目"),
    ("", ["t-single"], {}, 400, "请选择要做的操作"),
    ("delete", ["t-single"], {}, 400, "请选择要做的操作"),
    ("tag", ["t-single"], {"tag": ""}, 400, "请填写标签"),
    ("tag", ["t-single"], {"tag": "甲，乙"}, 400, "不能含逗号"),
    ("move", ["t-single"], {"bank_to": ""}, 400, "请选择要移入的题库"),
    ("move", ["t-single"], {"bank_to": "nope"}, 400, "请选择要移入的题库"),
    ("retire", ["t-single", "nope-1"], {}, 400, "题目 nope-1 不存在"),
    ("retire", [f"q{n}" for n in range(501)], {}, 400, "一次最多处理 500 道题"),
])
def test_bad_bulk_input_is_400_and_changes_nothing(setup, client, action, qids, fields, status, message):
    token = _login(client, "tc")
    reply = _bulk(client, token, action, qids, **fields)
    assert reply.status_code == status and message in reply.get_data(as_text=True)
    row = _row("t-single")
    assert (row.version, row.is_retired, row.bank.code) == (1, False, "test-bank")


def test_bulk_outside_scope_is_403(setup, client, api):
    token = _login(client, "t2")
    assert _bulk(client, token, "retire", ["t-single"]).status_code == 403
    assert _bulk(client, token, "move", ["o-1"], bank_to="test-bank").status_code == 403
    assert not _row("t-single").is_retired and _row("o-1").bank.code == "other-bank"
    reply = client.post("/api/v1/questions/bulk", json={"action": "retire", "qids": ["t-single"]},
                        headers={"X-CSRFToken": token})
    assert reply.status_code == 403


def test_json_bulk_route(setup, api):
    api.login("tc")
    assert api.post("/api/v1/questions/bulk", json={"action": "tag", "qids": ["t-fill"], "tag": "填空"}
                    ).get_json() == {"changed": 1}
    for body in ({"action": "tag", "qids": "t-fill", "tag": "x"}, {"action": "burn", "qids": ["t-fill"]},
                 {"action": "tag", "qids": [], "tag": "x"}, {"action": "tag", "qids": [1], "tag": "x"},
                 {"action": "move", "qids": ["t-fill"], "bank": 5}):
        assert api.post("/api/v1/questions/bulk", json=body).status_code == 400, body


@pytest.mark.parametrize("fmt", ["gift", "xlsx"])
def test_export_of_a_selection_round_trips(setup, client, fmt):
    token = _login(client, "tc")
    qids = ["t-single", "t-multiple", "t-judge", "t-fill"]
    reply = _bulk(client, token, f"export_{fmt}", qids)
    assert reply.status_code == 200 and reply.headers["Content-Disposition"].startswith("attachment")
    back, _ = parse_question_file(reply.data, f"sel.{'gift' if fmt == 'gift' else 'xlsx'}", "again", fmt)
    by_id = {q.id: q for q in back}
    assert sorted(by_id) == sorted(qids)
    for original in QUESTIONS:
        got = by_id[original.id]
        assert (got.type, got.answer, dict(got.options), got.source) == (
            original.type, original.answer, dict(original.options), original.source)
        assert got.stem == original.stem
    assert "quizzes.questions_exported" in _actions()


def test_export_of_moodle_fixture_questions_round_trips_through_gift(setup, client):
    """The shared Moodle GIFT fixture imported, a selection exported, imported again: the same questions."""
    fixture = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "moodle" / "questions.gift.txt"
    if not fixture.exists():
        pytest.skip("../shared/fixtures/questions.gift.txt 不在")
    from lms.quizzes.sync import import_question_file
    import_question_file(fixture.read_bytes(), "questions.gift.txt", "moodle-bank")
    db.session.commit()
    rows = db.session.scalars(sa.select(Question).join(Question.bank).where(Question.bank.has(code="moodle-bank"))
                              .order_by(Question.qid)).all()
    selection = [row.qid for row in rows][:3]
    token = _login(client, "tc")
    reply = _bulk(client, token, "export_gift", selection)
    back, _ = parse_question_file(reply.data, "sel.gift", "again", "gift")
    assert [q.to_dict() for q in back] == [services.question_value(r).to_dict() for r in rows
                                           if r.qid in selection]


# --- item statistics per option text ------------------------------------------------------------------------

def test_item_statistics_count_the_option_text_a_worker_chose_and_mark_the_key(setup, api, client):
    api.login("w1")
    attempt = api.post("/api/v1/quizzes/exam/attempts").get_json()
    stored = db.session.get(Attempt, attempt["id"])
    single = next(d for d in stored.paper if d["qid"] == "t-single")
    # the worker picks the display letter that carries 仅政府 (bank letter C) on their shuffled paper
    shown = next(key for key, original in single["key_map"].items() if original == "C")
    api.put(f"/api/v1/attempts/{attempt['id']}/answers/t-single", json={"answer": shown, "seq": 1})
    api.post(f"/api/v1/attempts/{attempt['id']}/submit")
    api.delete("/api/v1/session")
    api.login("tc")
    stats = {q["qid"]: q for q in api.get("/api/v1/quizzes/exam/stats").get_json()["questions"]}
    choices = {c["text"]: c for c in stats["t-single"]["choices"]}
    assert choices["仅政府"]["count"] == 1 and choices["仅政府"]["share"] == 1.0 and not choices["仅政府"]["correct"]
    assert choices["个人缴费、集体补助、政府补贴"]["correct"] and choices["个人缴费、集体补助、政府补贴"]["count"] == 0
    assert stats["t-single"]["option_counts"] == {"C": 1}
    judge = {c["text"]: c for c in stats["t-judge"]["choices"]}
    assert judge["错误"]["correct"] and not judge["正确"]["correct"]
    _login(client, "tc")
    page = client.get("/quizzes/exam/stats").get_data(as_text=True)
    assert "仅政府：1 人（100%）" in page and "✓ 正确答案" in page


def test_topic_practice_offers_the_banks_of_a_fixed_papers_questions(setup):
    from lms.accounts.queries import get_user
    from lms.quizzes import queries
    from lms.quizzes.models import Bank
    worker = get_user("w1")
    other = db.session.execute(sa.select(Bank.id).where(Bank.code == "other-bank")).scalar_one()
    assert other not in queries.practice_bank_ids(worker)
    make_fixed_quiz("exam-2", paper=(("o-1", 2),))
    assert other in queries.practice_bank_ids(worker)
