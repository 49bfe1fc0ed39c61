"""The content import command runs registered importers in order and reports path:line errors."""
from __future__ import annotations

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
