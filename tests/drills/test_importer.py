"""`content import` for the taxonomy and drill files: lines for bad files, idempotence, retire, detach."""
from __future__ import annotations

import sqlalchemy as sa

from lms.drills import queries
from lms.drills.models import Drill, DrillOrigin, DrillReport, DrillVersion, TaxonomyItem
from lms.drills.services import submit_report
from lms.extensions import db
from tests.drills.factories import NOISE, SHIPPED, copy_bank, model_report, run_importers
from tests.factories import make_user


def _messages(report) -> list[str]:
    return [str(e) for e in report.errors]


def test_shipped_bank_imports_every_drill_published_and_a_second_run_changes_nothing(tree, tmp_path):
    first = run_importers(SHIPPED)
    db.session.commit()
    assert first.errors == []
    shipped = len(list((SHIPPED / "drills").glob("*.yaml")))
    assert first.counts["演练"]["new"] == shipped >= 12
    assert first.counts["演练分类"]["new"] == 1
    drills = db.session.scalars(sa.select(Drill)).all()
    assert all(d.is_published and d.origin == DrillOrigin.file and d.version == 1 for d in drills)
    assert queries.get_taxonomy().urgencies == ("一般", "较急", "紧急")
    second = run_importers(SHIPPED)
    assert second.counts["演练"]["unchanged"] == shipped
    assert second.counts["演练"]["new"] == second.counts["演练"]["updated"] == 0
    assert second.counts["演练分类"]["unchanged"] == 1


def test_broken_yaml_is_rejected_with_its_line_and_good_files_still_import(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE)
    (bank / "drills" / "broken.yaml").write_text("code: broken\ntitle: 坏文件\nscenario: [未闭合\n", encoding="utf-8")
    report = run_importers(bank)
    db.session.commit()
    assert report.counts["演练"]["new"] == 1
    assert len(report.errors) == 1
    assert report.errors[0].path.endswith("drills/broken.yaml")
    assert report.errors[0].line in (3, 4)
    assert queries.get_drill("broken") is None
    assert queries.get_drill(NOISE) is not None


def test_model_report_that_would_be_returned_rejects_the_drill_at_the_failing_field(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE)
    path = bank / "drills" / f"{NOISE}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  department: 住建局"))
    lines[index] = "  department: 城管局（综合行政执法局）"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run_importers(bank)
    db.session.commit()
    assert queries.get_drill(NOISE) is None
    assert any(e.line == index + 1 and "示范报告未通过检查“责任部门”" in e.message for e in report.errors), \
        _messages(report)


def test_answer_outside_the_taxonomy_and_unknown_org_are_rejected_with_lines(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE)
    path = bank / "drills" / f"{NOISE}.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    urgency = next(i for i, line in enumerate(lines) if line.startswith("  urgency: 较急")) + 1
    path.write_text(text.replace("  urgency: 较急\nrequired", "  urgency: 十万火急\nrequired"), encoding="utf-8")
    report = run_importers(bank)
    assert any(e.line == urgency and "十万火急" in e.message for e in report.errors), _messages(report)

    org_line = next(i for i, line in enumerate(lines) if line.startswith("org:")) + 1
    path.write_text(text.replace("org: HX\n", "org: ZZ99\n"), encoding="utf-8")
    report = run_importers(bank)
    assert [(e.line, e.message) for e in report.errors] == [(org_line, "组织编码“ZZ99”不存在")]
    assert queries.get_drill(NOISE) is None


def test_drills_without_any_taxonomy_are_rejected_and_a_bad_taxonomy_keeps_the_stored_lists(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE)
    (bank / "taxonomy.yaml").unlink()
    report = run_importers(bank)
    assert [e.line for e in report.errors] == [1]
    assert "taxonomy.yaml" in report.errors[0].message

    bank = copy_bank(tmp_path / "good", NOISE)
    run_importers(bank)
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(TaxonomyItem))
    (bank / "taxonomy.yaml").write_text("event_types: [噪声扰民]\ndepartments: 住建局\nurgencies: []\n",
                                        encoding="utf-8")
    report = run_importers(bank)
    db.session.commit()
    assert any(e.path.endswith("taxonomy.yaml") and e.line == 3 for e in report.errors), _messages(report)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TaxonomyItem)) == before
    assert report.counts["演练"]["unchanged"] == 1  # checked against the stored lists


def test_edited_file_makes_a_new_version_and_reports_keep_the_version_they_were_graded_against(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE)
    run_importers(bank)
    db.session.commit()
    worker = make_user("w1", "worker", tree["g2"])
    drill = queries.get_drill(NOISE)
    report, _ = submit_report(worker, drill, model_report())
    db.session.commit()
    path = bank / "drills" / f"{NOISE}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: 夜间施工噪声扰民", "title: 夜间施工噪声扰民（修订）"),
                    encoding="utf-8")
    outcome = run_importers(bank)
    db.session.commit()
    assert outcome.counts["演练"]["updated"] == 1
    drill = queries.get_drill(NOISE)
    assert (drill.version, drill.title) == (2, "夜间施工噪声扰民（修订）")
    assert [v.version for v in db.session.scalars(sa.select(DrillVersion).order_by(DrillVersion.version))] == [1, 2]
    assert db.session.get(DrillReport, report.id).drill_version == 1


def test_drill_gone_from_the_files_is_retired_not_deleted_and_comes_back_when_restored(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE, "gas-leak-smell")
    run_importers(bank)
    db.session.commit()
    worker = make_user("w1", "worker", tree["g2"])
    submit_report(worker, queries.get_drill("gas-leak-smell"), {})
    db.session.commit()
    (bank / "drills" / "gas-leak-smell.yaml").unlink()
    outcome = run_importers(bank)
    db.session.commit()
    assert outcome.counts["演练"]["retired"] == 1
    gone = queries.get_drill("gas-leak-smell")
    assert gone.is_retired and db.session.scalar(sa.select(sa.func.count()).select_from(DrillReport)) == 1
    assert [d.code for d in queries.list_visible(worker)] == [NOISE]
    copy_bank(tmp_path, "gas-leak-smell")
    outcome = run_importers(bank)
    db.session.commit()
    assert outcome.counts["演练"]["updated"] == 1 and not queries.get_drill("gas-leak-smell").is_retired


def test_a_broken_file_does_not_retire_its_drill(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE)
    run_importers(bank)
    db.session.commit()
    (bank / "drills" / f"{NOISE}.yaml").write_text("code: night-construction-noise\n", encoding="utf-8")
    outcome = run_importers(bank)
    db.session.commit()
    assert outcome.errors and outcome.counts["演练"]["retired"] == 0
    assert not queries.get_drill(NOISE).is_retired


def test_web_drills_and_detached_file_drills_are_left_alone(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE, "gas-leak-smell")
    run_importers(bank)
    db.session.commit()
    web = queries.get_drill("gas-leak-smell")
    web.origin = DrillOrigin.web
    detached = queries.get_drill(NOISE)
    detached.is_detached, detached.title = True, "培训师改过的标题"
    db.session.commit()
    for name in (NOISE, "gas-leak-smell"):
        path = bank / "drills" / f"{name}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    outcome = run_importers(bank)
    db.session.commit()
    assert outcome.counts["演练"]["skipped"] == 2
    assert any("已在网页中编辑" in note for note in outcome.notes)
    assert queries.get_drill(NOISE).title == "培训师改过的标题"
    (bank / "drills" / "gas-leak-smell.yaml").unlink()
    (bank / "drills" / f"{NOISE}.yaml").unlink()
    outcome = run_importers(bank)
    db.session.commit()
    assert outcome.counts["演练"]["retired"] == 0
    assert not queries.get_drill("gas-leak-smell").is_retired and not queries.get_drill(NOISE).is_retired


def test_content_import_command_exits_1_with_path_line_on_stderr(runner, tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE)
    (bank / "drills" / "bad-weights.yaml").write_text(
        (SHIPPED / "drills" / f"{NOISE}.yaml").read_text(encoding="utf-8")
        .replace("code: night-construction-noise", "code: bad-weights") + "weights: {no_such_rule: 2}\n",
        encoding="utf-8")
    (tmp_path / "courses").mkdir()
    result = runner.invoke(args=["content", "import", "--courses", str(tmp_path / "courses"),
                                 "--questions", str(bank)])
    assert result.exit_code == 1
    assert "question_bank/drills/bad-weights.yaml:" in result.stderr
    assert "未知的规则名“no_such_rule”" in result.stderr
    assert "演练：新增 1" in result.output


def test_overlong_title_is_rejected_with_its_line_not_a_database_error(tree, tmp_path):
    bank = copy_bank(tmp_path, NOISE)
    path = bank / "drills" / f"{NOISE}.yaml"
    text = path.read_text(encoding="utf-8")
    line = text.splitlines().index("title: 夜间施工噪声扰民") + 1
    path.write_text(text.replace("title: 夜间施工噪声扰民", "title: " + "长" * 201), encoding="utf-8")
    report = run_importers(bank)
    db.session.commit()
    assert [(e.line, e.message) for e in report.errors] == [(line, "title 太长：最多 200 个字符")]
    assert queries.get_drill(NOISE) is None
