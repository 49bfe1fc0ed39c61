"""question_bank/field_needs.yaml: the parser (file:line Chinese errors), the shipped file, content import/check."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from lms.config import REPO_ROOT
from lms.contentfile import ContentErrors
from lms.field.needs import NEEDS, Training, parse_field_needs

DRILLS = {"gas-leak-smell", "road-collapse", "street-vending"}
COURSES = {"county-event-reporting", "county-grid-duties"}
GOOD = "\n".join(f"{need}:\n  drills: [gas-leak-smell]\n  courses: [county-event-reporting]" for need in NEEDS)


def _errors(text, **known) -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        parse_field_needs(textwrap.dedent(text), "question_bank/field_needs.yaml", **known)
    return [str(e) for e in caught.value.errors]


def test_a_good_file_maps_every_problem():
    needs = parse_field_needs(GOOD, "f.yaml", known_drills=DRILLS, known_courses=COURSES)
    assert set(needs) == set(NEEDS)
    assert needs["描述不清"] == Training(drills=("gas-leak-smell",), courses=("county-event-reporting",))
    assert needs["超时"].items() == [("drills", "gas-leak-smell"), ("courses", "county-event-reporting")]


def test_bad_files_name_file_line_and_what_is_wrong():
    text = GOOD.replace("描述不清:\n  drills: [gas-leak-smell]", "描述不请:\n  drills: [gas-leak-smell]", 1)
    text = text.replace("要素不全:\n  drills: [gas-leak-smell]", "要素不全:\n  drills: [no-such-drill, road-collapse, road-collapse]", 1)
    text = text.replace("信息不实:\n  drills: [gas-leak-smell]\n  courses: [county-event-reporting]",
                        "信息不实:\n  drill: [gas-leak-smell]\n  courses: []", 1)
    text += "\n重复:\n  consultations: [ask-pension]"
    errors = _errors(text, known_drills=DRILLS, known_courses=COURSES)
    assert "question_bank/field_needs.yaml:1: 未知的问题“描述不请”（可用的：描述不清、要素不全、信息不实、分类错误、部门错误、超时、重复）" in errors
    assert "question_bank/field_needs.yaml:5: “要素不全”的上报演练“no-such-drill”不存在" in errors
    assert "question_bank/field_needs.yaml:5: “要素不全”的上报演练“road-collapse”重复列出" in errors
    assert "question_bank/field_needs.yaml:8: “信息不实”下有未知的键“drill”（可用的键：drills、consultations、courses）" in errors
    assert any(e.startswith("question_bank/field_needs.yaml:7: “信息不实”至少要对应一项训练") for e in errors)
    assert any("咨询演练“ask-pension”，但 question_bank/consultations/ 目录不存在" in e for e in errors)
    assert any(e.endswith("缺少这些问题的训练内容：描述不清") for e in errors)


@pytest.mark.parametrize("text, message", [
    ("- 描述不清\n", "文件应是“问题: 训练内容”的映射"),
    ("描述不清: [gas-leak-smell]\n", "“描述不清”下应写 drills、consultations、courses 中的一项或几项"),
    ("描述不清:\n  drills: gas-leak-smell\n", "“描述不清”的上报演练（drills）应是编码列表"),
    ("描述不清:\n  drills: [\n", "question_bank/field_needs.yaml:"),
])
def test_malformed_files_are_refused_with_a_chinese_reason(text, message):
    assert any(message in e for e in _errors(text, known_drills=DRILLS, known_courses=COURSES))


def test_consultation_codes_are_checked_when_the_folder_exists():
    text = GOOD.replace("重复:\n  drills: [gas-leak-smell]", "重复:\n  consultations: [ask-pension, nope]")
    errors = _errors(text, known_drills=DRILLS, known_courses=COURSES, known_consultations={"ask-pension"})
    assert errors == [f"question_bank/field_needs.yaml:{text.splitlines().index('  consultations: [ask-pension, nope]') + 1}: "
                      "“重复”的咨询演练“nope”不存在"]


def test_the_shipped_file_names_only_shipped_drills_and_courses():
    drills = {p.stem for p in (REPO_ROOT / "question_bank" / "drills").glob("*.yaml")}
    courses = {p.name for p in (REPO_ROOT / "courses").iterdir() if (p / "course.md").exists()}
    consultations = REPO_ROOT / "question_bank" / "consultations"
    known = {p.stem for p in consultations.glob("*.yaml")} if consultations.is_dir() else None
    text = (REPO_ROOT / "question_bank" / "field_needs.yaml").read_text(encoding="utf-8")
    needs = parse_field_needs(text, "field_needs.yaml", known_drills=drills, known_courses=courses,
                              known_consultations=known)
    assert set(needs) == set(NEEDS) and all(n.drills for n in needs.values())
    # the overdue problem is trained by the course with the app-operation lesson
    assert "county-event-reporting" in needs["超时"].courses
    assert (REPO_ROOT / "courses" / "county-event-reporting" / "04-grid-app.md").exists()


def test_content_check_reports_a_bad_field_needs_file(tmp_path):
    from lms.contentcheck import run_checks

    questions = tmp_path / "question_bank"
    shutil.copytree(REPO_ROOT / "question_bank", questions)
    (questions / "field_needs.yaml").write_text(GOOD.replace("gas-leak-smell]\n  courses: [county-event-reporting]\n部门",
                                                             "gas-leak-smel]\n  courses: [county-event-reporting]\n部门"),
                                                encoding="utf-8")
    report = run_checks(REPO_ROOT / "courses", questions)
    found = [str(f) for f in report.findings if f.path.endswith("field_needs.yaml")]
    assert found == ["question_bank/field_needs.yaml:11: 文件无法导入：“分类错误”的上报演练“gas-leak-smel”不存在"]
    assert all(f.blocking for f in report.findings if f.path.endswith("field_needs.yaml"))


def test_content_import_stores_the_mapping_and_refuses_a_bad_file(app, runner, tree, tmp_path):
    from lms.field.needs import needs_map

    questions = tmp_path / "question_bank"
    shutil.copytree(REPO_ROOT / "tests" / "data" / "question_bank", questions)
    good = "\n".join(f"{need}:\n  drills: [night-construction-noise]" for need in NEEDS)
    (questions / "field_needs.yaml").write_text(good, encoding="utf-8")
    result = runner.invoke(args=["content", "import", "--questions", str(questions)])
    assert "现场问题与训练对应：新增 1" in result.output, result.output
    needs = needs_map()
    assert set(needs) == set(NEEDS) and needs["超时"] == Training(drills=("night-construction-noise",))
    again = runner.invoke(args=["content", "import", "--questions", str(questions)])
    assert "现场问题与训练对应：新增 0，更新 0，未变 1" in again.output

    (questions / "field_needs.yaml").write_text(good.replace("[night-construction-noise]", "[nope]", 1),
                                                encoding="utf-8")
    bad = runner.invoke(args=["content", "import", "--questions", str(questions)])
    assert "question_bank/field_needs.yaml:2: “描述不清”的上报演练“nope”不存在" in bad.output, bad.output
    assert needs_map() == needs  # what was imported before stays
