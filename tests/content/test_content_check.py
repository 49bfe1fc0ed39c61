"""`content check`: each check on small made-up content, and the shipped content has no blocking finding."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import lms.contentcheck as cfg
from lms.contentcheck import checks, load, reach, run_checks
from lms.contentcheck.cli import format_report
from lms.contentcheck.model import OrgNode

ROOT = Path(__file__).resolve().parents[2]

TREE = [OrgNode("HX", None, "county"), OrgNode("HX01", "HX", "township"), OrgNode("HX0101", "HX01", "grid"),
        OrgNode("HX02", "HX", "township"), OrgNode("HX0201", "HX02", "grid")]


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def question(qid, stem, answer="A", options=None, qtype="single", tags="[消防]", source=None, extra=""):
    options = options or {"A": "甲选项", "B": "乙选项内容", "C": "丙", "D": "丁"}
    lines = [f"  - id: {qid}", f"    type: {qtype}", f"    stem: {stem}"]
    if qtype != "judge":
        lines.append("    options:")
        lines += [f"      {k}: {v}" for k, v in options.items()]
    lines.append(f"    answer: {answer}")
    if source:
        lines.append(f"    source: {source}")
    lines.append(f"    tags: {tags}")
    return "\n".join(lines) + "\n" + extra


def bank(root: Path, code: str, *questions: str) -> None:
    (root / "question_bank").mkdir(parents=True, exist_ok=True)
    (root / "question_bank" / f"{code}.yaml").write_text(
        f"bank: {code}\ntitle: 题库{code}\norg: HX\nquestions:\n" + "".join(questions), encoding="utf-8")


def quiz(root: Path, code: str, bank_code: str, count: int = 1, org: str = "HX", extra: str = "") -> None:
    write(root, f"question_bank/quizzes/{code}.yaml",
          f"code: {code}\ntitle: 测验{code}\norg: {org}\ndraw:\n  - bank: {bank_code}\n    count: {count}\n"
          f"time_limit_minutes: 10\npass_score: 60\n" + extra)


def course(root: Path, code: str, org: str, quiz_code: str | None = None, hours: float = 1, minutes: int = 2,
           body: str = "消防通道不能堵塞。" * 40, tags: str = "[消防]") -> None:
    write(root, f"courses/{code}/course.md",
          f"---\ncode: {code}\ntitle: 课程{code}\nlevel: county\norg: {org}\nhours: {hours}\n"
          + (f"quiz: {quiz_code}\n" if quiz_code else "") + f"tags: {tags}\n---\n简介\n")
    write(root, f"courses/{code}/01-first.md", f"---\ntitle: 第一课\nminutes: {minutes}\n---\n{body}\n")


def content_of(root: Path):
    return load.load_content(root / "courses", root / "question_bank")


def certs(root: Path, programs: str, points: str = "points: {lesson_complete: 1}\n") -> None:
    write(root, "courses/certifications.yaml", "programs:\n" + textwrap.indent(textwrap.dedent(programs), "  ")
          + points)


# --- reachability ---------------------------------------------------------------------------------------

def test_program_needing_courses_no_grid_sees_together_is_blocking_with_its_line(tmp_path):
    bank(tmp_path, "b", question("q-1", "问题一"))
    quiz(tmp_path, "quiz-b", "b", extra="max_attempts: 3\nretake_after_days: 30\n")
    course(tmp_path, "c-one", "HX01", "quiz-b")
    course(tmp_path, "c-two", "HX02")
    certs(tmp_path, """\
        - code: P
          title: 项目
          valid_months: 12
          requires:
            courses: [c-one, c-two]
        """)
    findings = reach.check_programs(content_of(tmp_path), TREE, figures := {})
    reasons = [(f.line, f.reason) for f in findings]
    assert (6, "认证项目 P：课程 c-one 属于 HX01，该网格看不到（无法达成的网格：HX0201）") in reasons
    assert (6, "认证项目 P：课程 c-two 属于 HX02，该网格看不到（无法达成的网格：HX0101）") in reasons
    assert all(f.blocking and f.kind == "program" and f.path == "courses/certifications.yaml" for f in findings)
    assert figures["认证项目 × 网格 可达成"] == "0/2"


def test_drills_hours_mentoring_points_beyond_a_year_and_missing_window(tmp_path):
    bank(tmp_path, "b", question("q-1", "问题一"))
    course(tmp_path, "c-one", "HX", hours=2)
    certs(tmp_path, """\
        - code: S1
          title: 一星
          star: 1
          valid_months: 12
          requires:
            drills_accepted: 1
            training_hours: 100
            mentoring_activities: 50
            points: 100000
        """)
    reasons = [f.reason for f in reach.check_programs(content_of(tmp_path), TREE, {})]
    assert any("要求 1 个不同的模拟上报演练被采纳，该网格只看得到 0 个演练" in r for r in reasons)
    assert any(f"要求 100 学时，一年内最多 {2 + cfg.TRAINING_HOURS_PER_YEAR} 学时" in r for r in reasons)
    assert any("要求 50 次老带新活动" in r for r in reasons)
    assert any("要求 100000 积分" in r for r in reasons)
    assert any("计数条件不限时间" in r and "within_months" in r for r in reasons)


def test_quiz_with_lifetime_attempts_or_fixed_window_is_unreachable_rolling_one_is_fine(tmp_path):
    bank(tmp_path, "b", question("q-1", "问题一"), question("q-2", "问题二"))
    quiz(tmp_path, "locked", "b", extra="max_attempts: 1\n")
    quiz(tmp_path, "fixed", "b", extra="closes_at: 2026-12-31T18:00:00+08:00\n")
    quiz(tmp_path, "short", "b", count=5)
    quiz(tmp_path, "rolling", "b", extra='max_attempts: 1\nretake_after_days: 200\n'
                                       'annual_window: {opens: "12-01", closes: "12-31"}\n'
                                       'closes_at: 2026-12-31T18:00:00+08:00\n')
    certs(tmp_path, """\
        - code: P
          title: 项目
          valid_months: 12
          requires:
            within_months: 12
            quizzes: {locked: 60, fixed: 60, short: 60, rolling: 85}
        """)
    reasons = [f.reason for f in reach.check_programs(content_of(tmp_path), TREE, {})]
    assert any("测验 locked 最多作答 1 次且不能补考" in r for r in reasons)
    assert any("测验 fixed 只在 2026-12-31 前开放（固定考期" in r for r in reasons)
    assert any("测验 short 无法组卷" in r for r in reasons)
    assert not any("rolling" in r for r in reasons)


def test_required_certificate_out_of_reach_propagates(tmp_path):
    course(tmp_path, "c-one", "HX01")
    certs(tmp_path, """\
        - code: A
          title: 甲
          valid_months: 36
          requires: {courses: [c-one]}
        - code: B
          title: 乙
          valid_months: 36
          requires: {certificates: [A], points: 1}
        """)
    reasons = [f.reason for f in reach.check_programs(content_of(tmp_path), TREE, {})]
    assert "认证项目 B：要求的证书 A 在该网格本身无法取得（无法达成的网格：HX0201）" in reasons


# --- statistics checks ----------------------------------------------------------------------------------

def test_near_duplicates_across_banks_and_distinct_questions_pass(tmp_path):
    bank(tmp_path, "a", question("a-1", "根据《中华人民共和国消防法》，任何人发现火灾都应当怎么做？",
                                 options={"A": "立即报警", "B": "先拍照", "C": "等物业", "D": "先回家"}),
         question("a-2", "燃气泄漏时能否开灯？", options={"A": "不能", "B": "能", "C": "看情况", "D": "先开窗再开"}))
    bank(tmp_path, "b", question("b-1", "根据消防法，任何人发现火灾都应当怎样做？",
                                 options={"A": "立即报警", "B": "先灭火", "C": "先找人", "D": "先拍视频"}))
    findings = checks.near_duplicates(content_of(tmp_path), figures := {})
    assert [(f.path, f.line, f.kind) for f in findings] == [("question_bank/a.yaml", 5, "duplicate")]
    assert "题 a-1 与 question_bank/b.yaml 的题 b-1" in findings[0].reason
    assert figures["近似重复题（对）"] == "1（跨题库 1）"


def test_key_position_longest_key_and_guesser(tmp_path):
    long_key = {"A": "应当先报告社区并说明详细情况和时间", "B": "不管", "C": "自己处理", "D": "发朋友圈"}
    bank(tmp_path, "b", *[question(f"q-{i}", f"问题{i}号内容", options=long_key) for i in range(6)])
    quiz(tmp_path, "quiz-b", "b", count=3)
    content = content_of(tmp_path)
    figures: dict = {}
    assert [f.kind for f in checks.key_positions(content, figures)] == ["key_position"]
    assert [f.kind for f in checks.longest_key(content, figures)] == ["longest_key"]
    assert figures["最长选项即答案（单选）"].startswith("6/6（100%")
    guess = checks.guesser(content, figures)
    assert [f.kind for f in guess] == ["guesser"] and "100%" in guess[0].reason


def test_guess_score_per_type(tmp_path):
    bank(tmp_path, "b",
         question("m-1", "哪些对？", qtype="multiple", answer="[A, B, C]",
                  options={"A": "登记", "B": "报告", "C": "回访", "D": "一律不管"}),
         question("m-2", "哪些对？？", qtype="multiple", answer="[A, B]",
                  options={"A": "登记情况", "B": "报告社区", "C": "通知物业", "D": "拨打电话"}),
         question("j-1", "对不对", qtype="judge", answer="true"),
         question("s-1", "选哪个", options={"A": "长长长长", "B": "长长长乙", "C": "短", "D": "矮"}))
    qs = {q.id: q for q in content_of(tmp_path).banks["b"].questions}
    assert checks.guess_score(qs["m-1"]) == 1.0  # ticks all but the absolute-sounding one
    assert checks.guess_score(qs["m-2"]) == 0.0
    assert checks.guess_score(qs["j-1"]) == 0.5
    assert checks.guess_score(qs["s-1"]) == 0.5  # a tie of two longest options, key among them
    weak = checks.weak_distractors(content_of(tmp_path), {})
    assert [(f.kind, f.line) for f in weak] == [("distractors", 5)]
    assert "D 含绝对化用语" in weak[0].reason


def test_off_topic_questions_of_a_course_quiz(tmp_path):
    bank(tmp_path, "b", question("q-1", "消防问题", tags="[消防]"), question("q-2", "征收问题", tags="[房屋征收]"))
    quiz(tmp_path, "quiz-b", "b")
    course(tmp_path, "c-one", "HX", "quiz-b")
    findings = checks.off_topic(content_of(tmp_path), figures := {})
    assert [f.reason for f in findings] == ["题 q-2 的主题（房屋征收）课程《课程c-one》（c-one）没有讲到，但测验 quiz-b 会抽到"]
    assert figures["超出课程内容的题 quiz-b"] == "1/2"


def test_lesson_minutes_and_course_hours(tmp_path):
    course(tmp_path, "c-one", "HX", minutes=10, hours=3, body="字" * 300)  # 1 minute to read, 10 labelled
    course(tmp_path, "c-two", "HX", minutes=2, hours=0, body="字" * 300)
    content = content_of(tmp_path)
    lessons = checks.lesson_minutes(content, {})
    assert [(f.path, f.line) for f in lessons] == [("courses/c-one/01-first.md", 3)]
    assert "标注 10 分钟" in lessons[0].reason
    hours = checks.course_hours(content, {})
    assert [(f.path, f.line) for f in hours] == [("courses/c-one/course.md", 6)]


def test_county_rule_items_must_say_so(tmp_path):
    write(tmp_path, "question_bank/rules/规范.md", "# 红溪县网格化服务管理事件上报规范\n第一条 …\n")
    bank(tmp_path, "b",
         question("q-1", "紧急事件多久内补录？", source="《红溪县网格化服务管理事件上报规范》第十八条"),
         question("q-2", "按本县规定，紧急事件多久内补录？", source="《红溪县网格化服务管理事件上报规范》第十八条"),
         question("q-3", "消防方针是什么？", source="《中华人民共和国消防法》第二条"))
    findings = checks.county_rule(content_of(tmp_path), figures := {})
    assert [(f.kind, f.line, f.reason.split("（")[0]) for f in findings] == [
        ("county_rule", 5, "题 q-1 依据本县自定的规范")]
    assert figures["依据本县规范的题目和演练"] == "2（未注明 1）"


def test_a_broken_file_is_a_blocking_finding_and_the_report_prints(tmp_path):
    bank(tmp_path, "b", question("q-1", "问题"))
    (tmp_path / "question_bank" / "broken.yaml").write_text("bank: broken\nquestions: [\n", encoding="utf-8")
    report = run_checks(tmp_path / "courses", tmp_path / "question_bank", TREE)
    assert [f.kind for f in report.blocking] == ["parse"]
    text = "\n".join(format_report(report))
    assert "question_bank/broken.yaml:" in text and "内容检查汇总" in text and "阻断性问题 1 个" in text


# --- the command on the shipped content -----------------------------------------------------------------

def test_shipped_content_has_no_blocking_finding(app):
    result = app.test_cli_runner().invoke(args=["content", "check", "--courses", str(ROOT / "courses"),
                                                "--questions", str(ROOT / "question_bank")])
    blocking = [line for line in result.output.splitlines() if ": " in line and not line.endswith("（提示）")
                and line.split(":", 1)[0].endswith((".yaml", ".md"))]
    assert blocking == [] and result.exit_code == 0, result.output[-3000:]
    assert "内容检查汇总" in result.output


@pytest.mark.parametrize("kind", sorted(cfg.BLOCKING))
def test_every_kind_has_a_label(kind):
    assert kind in cfg.CHECK_LABELS


def test_content_import_refuses_a_program_no_grid_can_meet(tree, tmp_path):
    from lms.certification.models import Program
    from lms.contentsync import run_import
    from lms.extensions import db

    course(tmp_path, "c-one", "HX01")
    course(tmp_path, "c-two", "HX02")
    certs(tmp_path, """\
        - code: P
          title: 项目
          valid_months: 36
          requires:
            courses: [c-one, c-two]
        """)
    report = run_import(tmp_path / "courses", tmp_path / "question_bank")
    assert sorted(str(e) for e in report.errors) == [
        "courses/certifications.yaml:6: 认证项目 P：课程 c-one 属于 HX01，该网格看不到（无法达成的网格：HX020101）",
        "courses/certifications.yaml:6: 认证项目 P：课程 c-two 属于 HX02，该网格看不到（无法达成的网格：HX010101）"]
    assert db.session.query(Program).count() == 0
    assert report.counts["课程"]["new"] == 2  # the rest of the content is imported


def test_in_a_province_only_the_grids_of_the_contents_county_are_its_programs_audience(tmp_path):
    province = [OrgNode("PV", None, "province"), OrgNode("HX", "PV", "county"), *TREE[1:],
                OrgNode("QT", "PV", "county"), OrgNode("QT01", "QT", "township"), OrgNode("QT0101", "QT01", "grid")]
    province[2] = OrgNode("HX01", "HX", "township")
    course(tmp_path, "c-county", "HX")
    course(tmp_path, "c-township", "HX01")
    certs(tmp_path, """\
        - code: A
          title: 甲
          valid_months: 36
          requires: {courses: [c-county]}
        - code: B
          title: 乙
          valid_months: 36
          requires: {courses: [c-township]}
        """)
    figures = {}
    reasons = [f.reason for f in reach.check_programs(content_of(tmp_path), province, figures)]
    # another county's grid (QT0101) is not counted; a township course still fails the county's other township
    assert not any("QT0101" in r for r in reasons)
    assert any(r.startswith("认证项目 B：") and "HX0201" in r for r in reasons)
    assert figures["认证项目 × 网格 可达成"] == "3/4"


def test_symlink_out_of_the_content_folder_is_refused_not_read(tmp_path):
    secret = tmp_path / "outside" / "secret.md"
    write(tmp_path, "outside/secret.md", "---\ntitle: 机密\nminutes: 1\n---\n服务器上的机密文字\n")
    course(tmp_path, "c-one", "HX")
    (tmp_path / "courses" / "c-one" / "02-link.md").symlink_to(secret)
    content = content_of(tmp_path)
    assert [(f.path, f.line, f.blocking) for f in content.load_findings] == [("courses/c-one/02-link.md", 1, True)]
    assert "符号链接指向内容文件夹之外" in content.load_findings[0].reason
    assert not any("服务器上的机密文字" in text for text in content.texts.values())
    assert content.courses == {}
