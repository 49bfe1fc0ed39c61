"""The courses importer: good folders import, bad ones are rejected whole with path:line, re-imports are idempotent."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.accounts.demo import ensure_demo
from lms.courses.models import Course, CourseAsset, Lesson, LessonProgress, LessonVersion, Origin
from lms.courses.queries import current_version, get_course, get_lesson
from lms.extensions import db
from tests.courses.factories import DATA, NOW, make_course, run_import
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def good(tmp_path, tree):
    target = tmp_path / "courses"
    shutil.copytree(DATA / "good", target)
    return target


def _errors(report) -> list[str]:
    return [str(e) for e in report.errors]


def test_good_folder_imports_courses_lessons_and_assets(good):
    report = run_import(good)
    assert _errors(report) == []
    assert report.counts["课程"]["new"] == 3 and report.counts["课时"]["new"] == 4
    course = get_course("basic-county")
    assert course.origin == Origin.file and course.is_published and course.level == "county"
    assert course.hours == 2 and course.quiz_code == "quiz-basic" and course.tags == ["基础", "事件上报"]
    assert "<strong>网格员</strong>" in course.summary_html
    assert [lesson.slug for lesson in course.lessons] == ["duties", "reporting"]
    html = current_version(get_lesson(course, "duties")).html
    assert 'src="/courses/basic-county/assets/flow.png"' in html and "<table>" in html
    asset = db.session.scalar(sa.select(CourseAsset).where(CourseAsset.filename == "flow.png"))
    assert asset.content_type == "image/png" and asset.size > 0
    assert get_course("qs-practice").hours == 1.5


def test_reimport_of_unchanged_files_changes_nothing(good):
    run_import(good)
    versions = db.session.scalar(sa.select(sa.func.count()).select_from(LessonVersion))
    report = run_import(good)
    assert report.counts["课程"] == {"unchanged": 3}
    assert report.counts["课时"]["unchanged"] == 4 and report.counts["课时"]["new"] == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonVersion)) == versions


def test_changed_lesson_becomes_a_new_version_and_progress_survives(good):
    run_import(good)
    user = make_user("w1", org=db.session.scalar(sa.select(Course)).org)
    lesson = get_lesson(get_course("basic-county"), "reporting")
    db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, course_id=lesson.course_id, org_id=user.org_id,
                                  completed_at=NOW))
    db.session.commit()
    path = good / "basic-county" / "02-reporting.md"
    path.write_text(path.read_text(encoding="utf-8").replace("2. 地点", "2. 地点\n3. 人物"), encoding="utf-8")
    report = run_import(good)
    assert report.counts["课时"]["updated"] == 1 and report.counts["课时"]["unchanged"] == 3  # 1 + 2 other courses
    lesson = get_lesson(get_course("basic-county"), "reporting")
    assert lesson.version == 2 and "人物" in current_version(lesson).html
    assert db.session.scalar(sa.select(LessonProgress.completed_at).where(LessonProgress.lesson_id == lesson.id))


def test_renamed_title_keeps_the_lesson_and_makes_no_new_version(good):
    run_import(good)
    old_id = get_lesson(get_course("basic-county"), "duties").id
    path = good / "basic-county" / "01-duties.md"
    path.write_text(path.read_text(encoding="utf-8").replace("网格员的职责", "网格员的职责（修订）"), encoding="utf-8")
    run_import(good)
    lesson = get_lesson(get_course("basic-county"), "duties")
    assert lesson.id == old_id and lesson.title == "网格员的职责（修订）" and lesson.version == 1


def test_removed_lesson_and_course_are_retired_not_deleted(good):
    run_import(good)
    (good / "basic-county" / "02-reporting.md").unlink()
    shutil.rmtree(good / "ty-drill")
    report = run_import(good)
    assert report.counts["课时"]["retired"] == 1 and report.counts["课程"]["retired"] == 1
    assert get_lesson(get_course("basic-county"), "reporting").is_retired
    assert get_course("ty-drill").is_retired
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lesson)) == 4


def test_returning_course_is_unretired(good):
    run_import(good)
    keep = good.parent / "keep"
    shutil.move(good / "ty-drill", keep)
    run_import(good)
    shutil.move(keep, good / "ty-drill")
    run_import(good)
    assert not get_course("ty-drill").is_retired


def test_browser_course_with_the_same_code_is_never_touched(good, tree):
    make_course("qs-practice", origin=Origin.web, title="网页课程")
    report = run_import(good)
    assert get_course("qs-practice").title == "网页课程"
    assert any("qs-practice" in note and "网页" in note for note in report.notes)


def test_detached_file_course_is_skipped_with_a_note(good):
    run_import(good)
    course = get_course("basic-county")
    course.is_detached, course.title = True, "培训师改过的标题"
    db.session.commit()
    (good / "basic-county" / "course.md").write_text(
        (good / "basic-county" / "course.md").read_text(encoding="utf-8").replace("hours: 2", "hours: 3"),
        encoding="utf-8")
    shutil.rmtree(good / "basic-county")
    report = run_import(good)
    course = get_course("basic-county")
    assert course.title == "培训师改过的标题" and not course.is_retired
    assert report.counts["课程"]["retired"] == 0


def test_detached_course_present_in_files_gets_a_note(good):
    run_import(good)
    get_course("basic-county").is_detached = True
    db.session.commit()
    report = run_import(good)
    assert any("basic-county" in note and "脱离" in note for note in report.notes)
    assert report.counts["课程"]["skipped"] == 1


def test_web_courses_are_not_retired_by_the_import(good):
    make_course("web-only", origin=Origin.web)
    run_import(good)
    assert not get_course("web-only").is_retired


BAD_CASES = [
    ("missing-title", "bad/missing-title/course.md:2: 缺少标题（title）"),
    ("bad-level", "bad/bad-level/course.md:4: 级别（level）“province”无效"),
    ("unknown-org", "bad/unknown-org/course.md:5: 组织编码“HX9999”不存在"),
    ("minutes-nan", "bad/minutes-nan/01-one.md:3: 学习分钟数（minutes）必须是 1 到 600 的整数"),
    ("broken-yaml", "bad/broken-yaml/course.md:"),
    ("bad-lesson-name", "bad/bad-lesson-name/lesson-two.md:1: 课时文件名必须是"),
]


@pytest.fixture
def bad_report(tree):
    return run_import(DATA / "bad")


@pytest.mark.parametrize("code, expected", BAD_CASES)
def test_bad_folder_is_rejected_whole_with_path_and_line(bad_report, code, expected):
    assert any(line.startswith(expected) or (expected in line) for line in _errors(bad_report)), _errors(bad_report)
    assert get_course(code) is None


def test_good_folder_beside_bad_ones_still_imports(bad_report):
    assert get_course("fine-course") is not None
    assert bad_report.counts["课程"]["new"] == 1


def test_broken_yaml_message_names_the_yaml_problem(bad_report):
    assert any("broken-yaml/course.md" in e and "YAML 格式错误" in e for e in _errors(bad_report))


def _course_dir(root: Path, name: str, course_md: str, lessons: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "course.md").write_text(course_md, encoding="utf-8")
    for filename, text in lessons.items():
        (folder / filename).write_text(text, encoding="utf-8")
    return folder


LESSON = "---\ntitle: 课\nminutes: 5\n---\n正文\n"


def test_unknown_quiz_code_is_an_error_when_quiz_codes_are_known(tmp_path, tree):
    _course_dir(tmp_path / "courses", "q1", "---\ncode: q1\ntitle: 测\nlevel: county\nhours: 1\nquiz: no-such-quiz\n---\n",
                {"01-a.md": LESSON})
    report = run_import(tmp_path / "courses", known={"quiz_codes": {"quiz-basic"}})
    assert _errors(report) == ["courses/q1/course.md:6: 测验“no-such-quiz”不存在（question_bank/quizzes/ 中没有）"]
    assert get_course("q1") is None


def test_quiz_code_is_kept_as_text_when_no_quiz_list_is_known(tmp_path, tree):
    _course_dir(tmp_path / "courses", "q1", "---\ncode: q1\ntitle: 测\nlevel: county\nhours: 1\nquiz: later-quiz\n---\n",
                {"01-a.md": LESSON})
    assert _errors(run_import(tmp_path / "courses")) == []
    assert get_course("q1").quiz_code == "later-quiz"


@pytest.mark.parametrize("course_md, lessons, expected", [
    ("---\ncode: x1\ntitle: 测\nlevel: county\nhours: 1\n---\n", {"01-a.md": LESSON, "02-a.md": LESSON}, "重复"),
    ("---\ncode: x1\ntitle: 测\nlevel: county\nhours: 1\n---\n", {}, "课程没有课时文件"),
    ("---\ncode: other\ntitle: 测\nlevel: county\nhours: 1\n---\n", {"01-a.md": LESSON}, "必须与文件夹名“x1”相同"),
    ("---\ncode: x1\ntitle: 测\nlevel: county\nhours: 很多\n---\n", {"01-a.md": LESSON}, "学时（hours）"),
    ("---\ncode: x1\ntitle: 测\nlevel: county\nhours: 1\ntitel: 错\n---\n", {"01-a.md": LESSON}, "未知字段“titel”"),
    ("没有文件头\n", {"01-a.md": LESSON}, "缺少文件头"),
    ("---\ncode: x1\ntitle: 测\nlevel: county\nhours: 1\n---\n", {"01-a.md": "---\ntitle: 课\nminutes: 5\n---\n![图](missing.png)\n"},
     "图片“missing.png”在课程文件夹中不存在"),
    ("---\ncode: x1\ntitle: 测\nlevel: county\nhours: 1\n---\n", {"01-a.md": "---\ntitle: 课\nminutes: 5\n---\n"},
     "课时正文是空的"),
    ("---\ncode: x1\ntitle: 测\nlevel: county\nhours: 1\n---\n", {"01-a.md": "---\ntitle: 课\nminutes: true\n---\n正文"},
     "学习分钟数（minutes）"),
])
def test_malformed_course_files_are_rejected(tmp_path, tree, course_md, lessons, expected):
    _course_dir(tmp_path / "courses", "x1", course_md, lessons)
    report = run_import(tmp_path / "courses")
    assert any(expected in e and e.startswith("courses/x1/") for e in _errors(report)), _errors(report)
    assert get_course("x1") is None and get_course("other") is None


def test_disguised_image_is_rejected(tmp_path, tree):
    folder = _course_dir(tmp_path / "courses", "x1", "---\ncode: x1\ntitle: 测\nlevel: county\nhours: 1\n---\n",
                         {"01-a.md": "---\ntitle: 课\nminutes: 5\n---\n![图](evil.png)\n"})
    (folder / "evil.png").write_bytes(b"<script>alert(1)</script>")
    report = run_import(tmp_path / "courses")
    assert any("x1/evil.png:1: 文件内容与扩展名 .png 不符" in e for e in _errors(report))
    assert get_course("x1") is None


def test_hostile_lesson_is_stored_inert(tmp_path, tree):
    _course_dir(tmp_path / "courses", "x1", "---\ncode: x1\ntitle: 测\nlevel: county\nhours: 1\n---\n",
                {"01-a.md": "---\ntitle: 课\nminutes: 5\n---\n<script>alert(1)</script>\n<iframe src=x></iframe>\n"
                            "[a](javascript:alert(2)) <img src=y onerror=alert(3)>\n"})
    run_import(tmp_path / "courses")
    html = current_version(get_lesson(get_course("x1"), "a")).html
    assert "<script" not in html and "iframe" not in html and "javascript" not in html and "onerror" not in html


def test_shipped_courses_import_without_errors(app, tmp_path):
    courses = ROOT / "courses"
    if not courses.is_dir():
        pytest.skip("no shipped courses/ folder")
    ensure_demo()
    db.session.commit()
    report = run_import(courses)
    assert _errors(report) == []
    assert report.counts["课程"]["new"] >= 9
    assert run_import(courses).counts["课程"]["new"] == 0


def test_thousand_lessons_import_and_reimport_unchanged(tmp_path, tree):
    # How fast is bench/run.py's import row (DESIGN.md: timings belong in bench/, not in tests).
    for c in range(20):
        folder = _course_dir(tmp_path / "courses", f"perf-{c}", f"---\ncode: perf-{c}\ntitle: 性能{c}\nlevel: county\nhours: 1\n---\n",
                             {})
        for n in range(1, 51):
            (folder / f"{n:02d}-l{n}.md").write_text(
                f"---\ntitle: 第{n}课\nminutes: 5\n---\n## 标题{n}\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n正文" * 1,
                encoding="utf-8")
    report = run_import(tmp_path / "courses")
    assert report.counts["课时"]["new"] == 1000 and not report.errors
    report = run_import(tmp_path / "courses")
    assert report.counts["课时"]["unchanged"] == 1000 and report.counts["课时"]["new"] == 0


def test_a_course_that_turns_bad_keeps_its_last_good_import(good):
    run_import(good)
    path = good / "basic-county" / "course.md"
    path.write_text(path.read_text(encoding="utf-8").replace("level: county", "level: galaxy"), encoding="utf-8")
    report = run_import(good)
    assert any("basic-county/course.md:4:" in e for e in _errors(report))
    course = get_course("basic-county")
    assert course.level == "county" and not course.is_retired and report.counts["课程"]["retired"] == 0
