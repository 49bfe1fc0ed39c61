"""The audit log in Chinese: one sentence per action, names and titles loaded once per page."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.audit.render import ACTIONS, render
from lms.audit.services import record
from lms.extensions import db
from tests.factories import ApiClient, make_user
from tests.i18n.crawler import leaks, parse

FORESEEN = ["user.create", "user.update", "user.roles", "user.disable", "user.enable", "users.import", "org.import",
            "org.update", "progress.remind", "quiz.grant", "certificate.batch", "record.export"]


@pytest.fixture
def people(tree):
    hr = make_user("hr1", "hr", tree["county"], name="周文斌")
    worker = make_user("w1", "worker", tree["g1"], name="张小明")
    return {"hr": hr, "worker": worker, **tree}


def _rows(*entries):
    db.session.flush()
    return render(entries)


def _entry(action, **fields):
    return record(action, **fields)


def test_every_action_reads_without_details_and_without_codes(app, people):
    """Entries written before a key existed (or by code still being built) still read in Chinese."""
    codes = sorted(ACTIONS)
    rows = _rows(*[_entry(code, actor=people["hr"], target_type="x", target="", details={}) for code in codes])
    problems = [(code, row["sentence"]) for code, row in zip(codes, rows)
                if leaks(row["sentence"]) or row["action"] != ACTIONS[code].label
                or not row["sentence"].startswith(("周文斌", "某人", "（未记录）"))]
    assert not problems


def test_foreseen_actions_have_sentences():
    assert all(ACTIONS[code].render is not None for code in FORESEEN)


def test_assignment_of_a_quiz_names_org_role_title_and_due(app, people):
    from lms.quizzes.models import Quiz  # a later feature's table: the sentence takes the title from it

    db.session.add(Quiz(code="quiz-duties", title="网格员职责测验", org=people["county"], draws=[],
                        time_limit_minutes=10, pass_score=60))
    row = _rows(_entry("assignment.create", actor=people["hr"], target_type="assignment", target="1",
                       org=people["v1"], details={"course": None, "quiz": "quiz-duties", "org": "HX0101",
                                                  "role": "worker", "due": f"{dt.date.today().year}-12-20"}))[0]
    assert row["sentence"] == "周文斌 给 桃源村 的网格员 指派了测验《网格员职责测验》，截止 12月20日"


def test_pairings_and_roles_name_people_and_units(app, people):
    rows = _rows(
        _entry("mentoring.pairing_create", actor=people["hr"], details={
            "mentor": "hr1", "mentees": ["w1"], "start": "2026-12-01", "end": "2027-03-01"}),
        _entry("roles.change", actor=None, actor_name="系统", target_type="user", target="w1",
               details={"added": ["worker@HX010101", "mentor@HX01"], "removed": []}),
        _entry("roles.change", actor=people["hr"], target_type="user", target="w1",
               details={"added": ["网格长（桃源村第一网格）"], "removed": ["导师（青石镇）"]}),
    )
    assert "为导师 周文斌 结对了新网格员 张小明" in rows[0]["sentence"]
    assert "['" not in rows[0]["sentence"]
    assert rows[1]["sentence"] == "系统 调整了 张小明 的角色：授予 桃源村第一网格 的网格员、青石镇 的导师"
    assert rows[2]["sentence"] == "周文斌 调整了 张小明 的角色：授予 网格长（桃源村第一网格）；撤销 导师（青石镇）"


def test_unknown_action_never_shows_its_code(app, people):
    row = _rows(_entry("something.new_kind", actor=people["hr"], target="some-code", details={"rows": 3}))[0]
    assert row["sentence"] == "周文斌 其他操作（行数 3）"
    assert row["action"] == "其他操作"


def test_a_page_of_entries_costs_a_fixed_number_of_queries(app, people):
    for i in range(30):
        _entry("mentoring.pairing_create", actor=people["hr"], details={"mentor": "hr1", "mentees": ["w1"]})
        _entry("course.publish", actor=people["hr"], target_type="course", target=f"c-{i}")
    db.session.flush()
    entries = list(db.session.scalars(sa.select(AuditEntry)))
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows = render(entries)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(rows) == len(entries)
    assert len(statements) <= 3  # users and courses, each once


def test_audit_page_filters_by_person_kind_and_date(app, client, people):
    hr = make_user("admin1", ["admin"], people["county"], name="管理员甲")
    old = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.timezone.utc)
    _entry("course.publish", actor=people["hr"], target_type="course", target="c1", org=people["county"], now=old)
    _entry("accounts.disable", actor=hr, target_type="user", target="w1", org=people["g1"])
    db.session.commit()
    api = ApiClient(client)
    assert api.login("admin1").status_code == 200

    text = parse(client.get("/audit?who=周文斌").get_data(as_text=True))[0]
    assert "周文斌 发布了课程" in text and "停用了 张小明" not in text
    text = parse(client.get("/audit?action=停用账号").get_data(as_text=True))[0]
    assert "管理员甲 停用了 张小明 的账号" in text and "发布了课程" not in text
    text = parse(client.get("/audit?action=组:账号").get_data(as_text=True))[0]
    assert "停用了 张小明" in text and "发布了课程" not in text
    text = parse(client.get("/audit?from=2026-01-05&to=2026-01-05").get_data(as_text=True))[0]
    assert "发布了课程" in text and "停用了" not in text
    assert "2026-01-05 10:00:00" in text  # Asia/Shanghai
    response = client.get("/audit?from=2026-13-01")
    assert response.status_code == 200 and "看不懂" in response.get_data(as_text=True)


def test_a_stored_summary_is_the_sentence(app, people):
    rows = _rows(
        _entry("accounts.update", actor=people["hr"], target_type="user", target="w1",
               details={"summary": "周文斌 修改了 张小明（w1）的手机号", "fields": ["手机号"]}),
        _entry("records.download", actor=people["hr"], target_type="user", target="w1",
               details={"summary": "下载了 张小明（w1）的学时档案（PDF）", "format": "pdf"}),
        _entry("accounts.update", actor=people["hr"], target_type="user", target="w1", details={"fields": ["手机号"]}),
    )
    assert rows[0]["sentence"] == "周文斌 修改了 张小明（w1）的手机号"
    assert rows[1]["sentence"] == "周文斌 下载了 张小明（w1）的学时档案（PDF）"
    assert rows[2]["sentence"] == "周文斌 修改了 张小明 的账号信息（手机号）"


def test_ending_a_pairing_names_mentor_and_mentees(app, people):
    row = _rows(_entry("mentoring.pairing_end", actor=people["hr"], target_type="pairing", target="7",
                       details={"reason": "调岗", "mentor": "hr1", "mentees": ["w1"]}))[0]
    assert row["sentence"] == "周文斌 提前结束了导师 周文斌 与 张小明 的结对，理由：调岗"
    old = _rows(_entry("mentoring.pairing_end", actor=people["hr"], target_type="pairing", target="7",
                       details={"reason": "调岗"}))[0]
    assert old["sentence"] == "周文斌 提前结束了一个结对，理由：调岗"


def test_org_update_says_what_moved(app, people):
    row = _rows(_entry("org.update", actor=people["hr"], target_type="org", target="HX010101", details={
        "name": "桃源村第一网格", "old_name": "桃源村第一网格", "parent_from": "桃源村", "parent_to": "石桥村",
        "fields": ["上级单位"]}))[0]
    assert row["sentence"] == "周文斌 将“桃源村第一网格”从“桃源村”移到“石桥村”之下"
