"""Checks on the shipped curriculum in courses/: format, lessons, images, law citations.

Pure file checks, no app: they keep the repository's course files importable
and their citations pointing at articles that exist in the reference law
texts kept in ../shared/laws (or in the demo county's rules in
question_bank/rules).
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from lms.contentfile import split_front_matter

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
LAWS = ROOT.parent / "shared" / "laws"
# The demo county's own work rules (same 第X条 layout) may be cited like laws.
COUNTY_RULES = ROOT / "question_bank" / "rules"

LEVELS = {"county", "township", "village"}
REQUIRED_KEYS = ("code", "title", "level", "org", "hours", "tags")
LESSON_NAME = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
IMAGE_REF = re.compile(r"!\[[^\]]*\]\(\s*([^)\s]+)")
TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)
CJK = re.compile(r"[\u4e00-\u9fff]")

NUM = "零〇一二三四五六七八九十百千两"
# A citation is 《title》 directly followed by article numbers, joined by 、/和/至…
CITATION = re.compile(
    r"《([^《》]+)》((?:第[%s\d]+[条款项]|[、和及与或至])*第[%s\d]+条(?:第[%s\d]+[款项])*)" % (NUM, NUM, NUM)
)
ARTICLE = re.compile(r"第([%s\d]+)条" % NUM)
ARTICLE_RANGE = re.compile(r"第([%s\d]+)条至第([%s\d]+)条" % (NUM, NUM))


def _course_dirs() -> list[Path]:
    if not COURSES.is_dir():
        return []
    return sorted(p for p in COURSES.iterdir() if (p / "course.md").is_file())


def _parse(path: Path):
    return split_front_matter(path.read_text(encoding="utf-8"), str(path))


def _lessons(course_dir: Path) -> list[Path]:
    return sorted(p for p in course_dir.glob("*.md") if p.name != "course.md")


def _all_markdown() -> list[Path]:
    return [p for d in _course_dirs() for p in sorted(d.glob("*.md"))]


def _load_law_checker():
    """Import ../shared/laws/check_articles.py, or skip when the law texts are absent."""
    script = LAWS / "check_articles.py"
    if not script.is_file():
        pytest.skip(f"法律参考文本不存在（{LAWS}），跳过条文引用核对")
    spec = importlib.util.spec_from_file_location("check_articles", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def law_index():
    """Title -> set of existing article numbers (laws and county rules), plus the numeral parser."""
    module = _load_law_checker()
    laws = {title: numbers for title, (_, numbers) in module.load_folder(str(LAWS)).items()}
    if COUNTY_RULES.is_dir():
        laws.update((title, numbers) for title, (_, numbers) in module.load_folder(str(COUNTY_RULES)).items())
    return laws, module.cn_to_int


def bad_citations(text: str, laws: dict, cn_to_int) -> list[str]:
    """Every 《title》第X条 in text whose law or article is not in the reference texts."""
    problems = []
    for match in CITATION.finditer(text):
        title, articles = match.group(1), match.group(2)
        if title not in laws:
            problems.append(f"《{title}》不在法律参考文本中（须写全称）")
            continue
        wanted = {cn_to_int(a) for a in ARTICLE.findall(articles)}
        for lo, hi in ARTICLE_RANGE.findall(articles):
            wanted |= set(range(cn_to_int(lo), cn_to_int(hi) + 1))
        for number in sorted(wanted - laws[title]):
            problems.append(f"《{title}》没有第{number}条")
    return problems


def test_at_least_nine_courses_with_three_per_level():
    levels = [_parse(d / "course.md")[0].get("level") for d in _course_dirs()]
    assert len(levels) >= 9
    for level in LEVELS:
        assert levels.count(level) >= 3, level


@pytest.mark.parametrize("course_dir", _course_dirs(), ids=lambda p: p.name)
def test_course_front_matter_is_complete(course_dir):
    meta, _, body, _ = _parse(course_dir / "course.md")
    for key in REQUIRED_KEYS:
        assert key in meta, f"{course_dir.name}: missing {key}"
    assert meta["code"] == course_dir.name
    assert isinstance(meta["title"], str) and meta["title"].strip()
    assert meta["level"] in LEVELS
    assert isinstance(meta["org"], str) and meta["org"].startswith("HX")
    assert isinstance(meta["hours"], (int, float)) and not isinstance(meta["hours"], bool)
    # Honest credit hours: 1 学时 = 45 labelled minutes, so a short course earns a fraction of one.
    minutes = sum(_parse(p)[0].get("minutes", 0) for p in _lessons(course_dir))
    assert 0 < meta["hours"] <= 4 and meta["hours"] <= minutes / 45, f"{course_dir.name}: {meta['hours']} 学时 for {minutes} minutes"
    assert isinstance(meta["tags"], list) and meta["tags"]
    assert all(isinstance(t, str) and t for t in meta["tags"])
    if "quiz" in meta:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", meta["quiz"])
    assert "学习目标" in body and "适用对象" in body


@pytest.mark.parametrize("course_dir", _course_dirs(), ids=lambda p: p.name)
def test_lessons_are_numbered_in_order_with_title_and_minutes(course_dir):
    lessons = _lessons(course_dir)
    assert 3 <= len(lessons) <= 5
    numbers = []
    for path in lessons:
        match = LESSON_NAME.match(path.name)
        assert match, f"{path.name} is not NN-slug.md"
        numbers.append(int(match.group(1)))
        meta = _parse(path)[0]
        assert isinstance(meta.get("title"), str) and meta["title"].strip(), path.name
        minutes = meta.get("minutes")
        assert isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0, path.name
    assert numbers == list(range(1, len(lessons) + 1))


@pytest.mark.parametrize("course_dir", _course_dirs(), ids=lambda p: p.name)
def test_lessons_are_sized_for_reading_and_end_with_a_recap(course_dir):
    for path in _lessons(course_dir):
        body = _parse(path)[2]
        length = len(CJK.findall(body))
        assert 600 <= length <= 1500, f"{path.name}: {length} Chinese characters"
        headings = re.findall(r"^## +(.+?)\s*$", body, re.M)
        assert headings and headings[-1] == "要点回顾", path.name


@pytest.mark.parametrize("course_dir", _course_dirs(), ids=lambda p: p.name)
def test_each_course_has_a_table(course_dir):
    assert any(TABLE_RULE.search(_parse(p)[2]) for p in _lessons(course_dir))


@pytest.mark.parametrize("course_dir", _course_dirs(), ids=lambda p: p.name)
def test_images_referenced_by_lessons_exist_beside_them(course_dir):
    for path in _lessons(course_dir):
        for ref in IMAGE_REF.findall(_parse(path)[2]):
            assert "://" not in ref and not ref.startswith("/"), f"{path.name}: {ref} must be relative"
            target = (course_dir / ref).resolve()
            assert target.is_relative_to(course_dir.resolve()), f"{path.name}: {ref} leaves the folder"
            assert target.is_file(), f"{path.name}: {ref} is missing"
            assert target.stat().st_size < 60_000, f"{path.name}: {ref} is too large"


def test_every_law_citation_names_an_existing_article(law_index):
    laws, cn_to_int = law_index
    problems = []
    for path in _all_markdown():
        text = path.read_text(encoding="utf-8")
        problems += [f"{path.relative_to(ROOT)}: {p}" for p in bad_citations(text, laws, cn_to_int)]
    assert not problems, "\n".join(problems)


def test_every_article_number_is_part_of_a_full_citation():
    problems = []
    for path in _all_markdown():
        text = path.read_text(encoding="utf-8")
        cited = {m.start(2) + a.start() for m in CITATION.finditer(text) for a in ARTICLE.finditer(m.group(2))}
        for article in ARTICLE.finditer(text):
            if article.start() not in cited:
                problems.append(f"{path.relative_to(ROOT)}: {article.group(0)} 前面没有《法律全称》")
    assert not problems, "\n".join(problems)


def test_citation_check_reports_unknown_law_and_missing_article(law_index):
    laws, cn_to_int = law_index
    text = (
        "依照《中华人民共和国社会保险法》第十条、第九十九条；《信访条例》第二条；"
        "《中华人民共和国民法典》第二百八十八条至第二百九十六条。"
    )
    assert bad_citations(text, laws, cn_to_int) == [
        "《中华人民共和国社会保险法》没有第99条",
        "《信访条例》不在法律参考文本中（须写全称）",
    ]
