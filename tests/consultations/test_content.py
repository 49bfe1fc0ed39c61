"""Consultation files: the parser's file:line errors, the importer (bad file rejected whole, good one beside it
imported, unchanged skipped, gone retired) and `content check`."""
from __future__ import annotations

import shutil

import pytest

from lms.consultations import queries
from lms.consultations.check import check_consultations
from lms.consultations.content import load_consultation, parse_consultation
from lms.contentfile import ContentErrors
from lms.contentcheck import run_checks
from lms.extensions import db
from tests.consultations.factories import FIXTURES, PENSION, bank_with, run_importer

GOOD = (FIXTURES / "good" / f"{PENSION}.yaml").read_text(encoding="utf-8")


def errors_of(text: str, path: str = "question_bank/consultations/x.yaml") -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        load_consultation(text, path)
    return [str(e) for e in caught.value.errors]


def test_unknown_keys_empty_lists_and_bare_sources_are_each_reported_at_their_line():
    path = FIXTURES / "bad" / "unknown-and-empty.yaml"
    found = errors_of(path.read_text(encoding="utf-8"), "question_bank/consultations/unknown-and-empty.yaml")
    assert found == [
        "question_bank/consultations/unknown-and-empty.yaml:5: points（必须讲到的要点）是空列表：至少写一项，每项写 name 和 any",
        "question_bank/consultations/unknown-and-empty.yaml:8: wrong 第1项的 any必须是非空列表，例如 [词语一, 词语二]",
        "question_bank/consultations/unknown-and-empty.yaml:10: overpromise（网格员不能承诺的话）是空的：至少写一项；没有就删掉这个键",
        "question_bank/consultations/unknown-and-empty.yaml:13: sources 第1项“社会救助暂行办法”不是法规条文的引用："
        "写成 《法规名称》第X条，例如 《社会保险法》第十六条",
        "question_bank/consultations/unknown-and-empty.yaml:14: 政策答询文件中有未知的键“answer_key”（可用的键：code、title、"
        "org、asker、question、points、wrong、refer、overpromise、model_answer、sources）",
    ]


def test_a_model_answer_the_rules_return_is_refused_at_its_line_with_each_failed_rule():
    found = errors_of((FIXTURES / "bad" / "model-returned.yaml").read_text(encoding="utf-8"), "m/model-returned.yaml")
    assert all(e.startswith("m/model-returned.yaml:9: 示范回答未通过检查") for e in found)
    # each failed rule named by its Chinese label (trainers read these, not rule ids)
    assert [e.split("“")[1].split("”")[0] for e in found] == ["要点齐全", "指明去处", "不乱承诺"]


@pytest.mark.parametrize("text, expected", [
    ("code: [", "YAML 格式错误"),
    ("- 一个列表", "必须是“键: 值”形式的 YAML 映射"),
    (GOOD.replace("code: pension-min-years", "code: Pension_Min"), "只能由小写字母、数字和连字符组成"),
    (GOOD.replace("code: pension-min-years", "code: review"), "系统保留字"),
    (GOOD.replace("asker: 58岁的村民老周\n", ""), "缺少 asker"),
    (GOOD.replace("refer:\n  - 县社保局\n  - 镇社保所\n  - 社保经办窗口\n", "refer: []\n"), "refer（可以指引去的部门）是空的"),
    (GOOD.replace("    any: [缴费年限, 交得越多, 多缴多得, 缴费基数, 交的年头]\n", ""), "points 第3项缺少 any"),
])
def test_bad_files_get_a_chinese_message(text, expected):
    assert any(expected in e for e in errors_of(text))


def test_file_name_must_match_the_code():
    assert any("文件名应与 code 一致" in e for e in errors_of(GOOD, "question_bank/consultations/other.yaml"))
    assert parse_consultation(GOOD, f"question_bank/consultations/{PENSION}.yaml").code == PENSION


def test_importer_rejects_a_bad_file_whole_imports_the_good_one_and_is_idempotent(tree, tmp_path):
    bank = bank_with(tmp_path, PENSION)
    shutil.copy(FIXTURES / "bad" / "model-returned.yaml", bank / "consultations" / "model-returned.yaml")
    report = run_importer(bank)
    db.session.commit()
    assert report.counts["政策答询"]["new"] == 1
    assert {e.path for e in report.errors} == {"question_bank/consultations/model-returned.yaml"}
    assert queries.get_consultation("model-returned") is None
    item = queries.get_consultation(PENSION)
    assert item.org.code == "HX" and item.version == 1 and "<p>" in item.question_html
    assert item.definition["model_answer"].startswith("周叔")

    again = run_importer(bank)
    assert again.counts["政策答询"]["unchanged"] == 1

    path = bank / "consultations" / f"{PENSION}.yaml"
    path.write_text(GOOD.replace("养老保险交多少年才能领", "养老保险要交多少年"), encoding="utf-8")
    assert run_importer(bank).counts["政策答询"]["updated"] == 1
    assert queries.get_consultation(PENSION).version == 2

    path.unlink()
    assert run_importer(bank).counts["政策答询"]["retired"] == 1
    assert queries.get_consultation(PENSION).is_retired


def test_importer_names_an_unknown_org_at_its_line(tree, tmp_path):
    bank = bank_with(tmp_path)
    (bank / "consultations" / f"{PENSION}.yaml").write_text("org: NOPE\n" + GOOD, encoding="utf-8")
    report = run_importer(bank)
    assert [(e.path, e.line) for e in report.errors] == [(f"question_bank/consultations/{PENSION}.yaml", 1)]
    assert "NOPE" in report.errors[0].message


def test_content_check_blocks_a_bad_file_and_a_missing_county_rule_article(tmp_path):
    bank = bank_with(tmp_path, PENSION)
    shutil.copy(FIXTURES / "bad" / "model-returned.yaml", bank / "consultations" / "model-returned.yaml")
    (bank / "rules").mkdir()
    (bank / "rules" / "county.md").write_text("# 红溪县网格化服务管理事件上报规范\n\n第一条　总则。\n\n第二条　上报。\n",
                                              encoding="utf-8")
    cited = GOOD.replace("  - 《中华人民共和国社会保险法》第十六条",
                         "  - 《中华人民共和国社会保险法》第十六条\n  - 《红溪县网格化服务管理事件上报规范》第二条、第九条")
    (bank / "consultations" / f"{PENSION}.yaml").write_text(cited, encoding="utf-8")
    findings = check_consultations(bank)
    assert {(f.path, f.kind, f.blocking) for f in findings} == {
        ("question_bank/consultations/model-returned.yaml", "parse", True),
        (f"question_bank/consultations/{PENSION}.yaml", "parse", True)}
    cite = next(f for f in findings if f.path.endswith(f"{PENSION}.yaml"))
    assert cite.line == 29 and "没有第九条" in cite.reason
    report = run_checks(tmp_path / "courses", bank, tree=[])
    assert any(f.path.endswith("model-returned.yaml") and f.blocking for f in report.findings)
