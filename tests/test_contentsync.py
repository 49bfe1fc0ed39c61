"""The content import command runs registered importers in order and reports path:line errors."""
from __future__ import annotations

from pathlib import Path

from lms import contentsync
from lms.contentfile import ContentError, ContentErrors


def test_importers_run_in_order_and_errors_make_exit_1(runner, monkeypatch, tmp_path):
    calls = []

    def first(ctx, report):
        calls.append("first")
        report.count("题库", "new", 3)

    def second(ctx, report):
        calls.append("second")
        report.reject(ContentErrors([ContentError(ctx.relative(ctx.questions_dir / "bad.yaml"), 7, "题型无效")]))

    monkeypatch.setattr(contentsync, "_IMPORTERS", [])
    contentsync.register_importer(20, "second", second)
    contentsync.register_importer(10, "first", first)
    (tmp_path / "courses").mkdir()
    (tmp_path / "question_bank").mkdir()
    result = runner.invoke(args=["content", "import", "--courses", str(tmp_path / "courses"),
                                 "--questions", str(tmp_path / "question_bank")])
    assert calls == ["first", "second"]
    assert result.exit_code == 1
    assert "题库：新增 3，更新 0，未变 0" in result.output
    assert "question_bank/bad.yaml:7: 题型无效" in result.stderr


SHIPPED = Path(__file__).resolve().parent.parent


def _import_shipped(runner):
    return runner.invoke(args=["content", "import", "--courses", str(SHIPPED / "courses"),
                               "--questions", str(SHIPPED / "question_bank")])


def test_shipped_content_into_a_database_without_org_tree_says_once_what_to_do_and_writes_nothing(runner, app):
    from lms.audit.models import AuditEntry
    from lms.courses.models import Course
    from lms.drills.models import Drill  # noqa: F401  (a table the import would fill)
    from lms.extensions import db

    result = _import_shipped(runner)

    assert result.exit_code == 1
    hint = "组织编码“HX”不存在：先导入组织架构（flask --app lms org import …）或运行 flask --app lms demo"
    assert result.stderr.strip() == hint  # once, and nothing else: not one error per file
    assert db.session.query(Course).count() == 0
    assert db.session.query(AuditEntry).count() == 0


def test_a_file_naming_an_absent_unit_in_an_existing_tree_keeps_its_path_line_and_adds_the_hint_once(
        runner, app, tmp_path):
    import re
    import shutil

    from lms.courses.models import Course
    from lms.extensions import db
    from tests.factories import make_tree

    make_tree()
    courses = tmp_path / "courses"
    shutil.copytree(SHIPPED / "courses", courses)
    first = sorted(p for p in courses.iterdir() if (p / "course.md").is_file())[0]
    text = (first / "course.md").read_text(encoding="utf-8")
    (first / "course.md").write_text(re.sub(r"(?m)^org: .*$", "org: ZZ99", text, count=1), encoding="utf-8")

    result = runner.invoke(args=["content", "import", "--courses", str(courses),
                                 "--questions", str(SHIPPED / "question_bank")])

    assert result.exit_code == 1
    assert f"courses/{first.name}/course.md:" in result.stderr and "组织编码“ZZ99”不存在" in result.stderr
    assert result.stderr.count("先导入组织架构") == 1
    # the other courses are imported beside the bad one
    assert db.session.query(Course).count() == len([p for p in courses.iterdir() if (p / "course.md").is_file()]) - 1
