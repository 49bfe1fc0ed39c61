"""Read the content folders into parsed values (files only, no database).

A file that does not parse becomes a blocking finding (``content import`` would
reject it too) and is left out of the other checks.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from lms.certification.content import CertificationConfig, parse_certifications
from lms.contentcheck.model import Finding, OrgNode
from lms.contentfile import ContentErrors, Located, escaping_symlinks, load_yaml
from lms.courses.content import ParsedCourse, parse_course_folder, read_course_files
from lms.drills.content import Drill, Taxonomy, load_drill, parse_taxonomy
from lms.quizzes.formats.quiz_file import QuizSpec, parse_quiz
from lms.quizzes.formats.yaml_bank import Bank, parse_bank
from lms.quizzes.sync import NOT_BANKS

_TITLE = re.compile(r"^#\s*(.+?)\s*$", re.M)


@dataclasses.dataclass(frozen=True)
class CountyRule:
    """A file of question_bank/rules/: the county's own rule (its title as cited, e.g. 红溪县…规范)."""

    path: str
    title: str


@dataclasses.dataclass
class Content:
    """Everything a check may look at; paths are relative to the content root (courses/…, question_bank/…)."""

    courses: dict[str, ParsedCourse] = dataclasses.field(default_factory=dict)
    banks: dict[str, Bank] = dataclasses.field(default_factory=dict)
    quizzes: dict[str, QuizSpec] = dataclasses.field(default_factory=dict)
    drills: dict[str, Drill] = dataclasses.field(default_factory=dict)
    rules: list[CountyRule] = dataclasses.field(default_factory=list)
    certifications: CertificationConfig | None = None
    certifications_path: str = "courses/certifications.yaml"
    #: line numbers of certifications.yaml by key path (programs, i, requires, …)
    certifications_lines: Located | None = None
    #: text of each file by path, for line look-ups (e.g. of a question id)
    texts: dict[str, str] = dataclasses.field(default_factory=dict)
    #: files that did not parse (blocking)
    load_findings: list[Finding] = dataclasses.field(default_factory=list)

    def line_of(self, path: str, needle: str, default: int = 1) -> int:
        """1-based line of the first line of ``path`` containing ``needle``."""
        for number, line in enumerate(self.texts.get(path, "").splitlines(), 1):
            if needle in line:
                return number
        return default


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _reject(content: Content, exc: ContentErrors) -> None:
    for error in exc.errors:
        content.load_findings.append(Finding(error.path, error.line, "parse", f"文件无法导入：{error.message}",
                                             blocking=True))


def _read(path: Path, shown: str, content: Content) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        content.load_findings.append(Finding(shown, 1, "parse", "文件不是 UTF-8 编码", blocking=True))
        return None
    content.texts[shown] = text
    return text


def _parse_each(paths, questions_dir: Path, content: Content, parse):
    """parse(text, shown, path) of each readable file; a file it rejects becomes parse findings, None is skipped."""
    for path in paths:
        shown = _rel(path, questions_dir)
        text = _read(path, shown, content)
        if text is None:
            continue
        try:
            parsed = parse(text, shown, path)
        except ContentErrors as exc:
            _reject(content, exc)
            continue
        if parsed is not None:
            yield parsed


def load_content(courses_dir: Path, questions_dir: Path) -> Content:
    """Parse courses/, certifications.yaml and question_bank/ (banks, quizzes, drills, rules)."""
    courses_dir, questions_dir = Path(courses_dir), Path(questions_dir)
    content = Content()
    escaping = escaping_symlinks(courses_dir) + escaping_symlinks(questions_dir)
    if escaping:
        # As `content import`: a link out of the content folder is not followed (it could read any file on the
        # server into the check's report); nothing else is checked until the links are replaced.
        for link, target in escaping:
            root = courses_dir if link.is_relative_to(courses_dir) else questions_dir
            content.load_findings.append(Finding(_rel(link, root), 1, "parse",
                                                 f"符号链接指向内容文件夹之外（{target}），已拒绝检查：请放入文件本身，而不是链接",
                                                 blocking=True))
        return content
    if questions_dir.is_dir():
        banks = sorted(p for p in questions_dir.glob("*.yaml") if p.name not in NOT_BANKS)
        for bank in _parse_each(banks, questions_dir, content,
                                lambda text, shown, path: parse_bank(text, shown, expected_code=path.stem)):
            content.banks[bank.code] = bank
        known_ids = {q.id for bank in content.banks.values() for q in bank.questions}
        for quiz in _parse_each(sorted((questions_dir / "quizzes").glob("*.yaml")), questions_dir, content,
                                lambda text, shown, path: parse_quiz(text, shown, expected_code=path.stem,
                                                                     known_ids=known_ids)):
            content.quizzes[quiz.code] = quiz
        taxonomy = _taxonomy(questions_dir, content)
        # Without a taxonomy the drill files are still read (their texts feed other checks) but not parsed.
        for drill in _parse_each(sorted((questions_dir / "drills").glob("*.yaml")), questions_dir, content,
                                 lambda text, shown, path: load_drill(text, shown, taxonomy) if taxonomy else None):
            content.drills[drill.code] = drill
        for path in sorted((questions_dir / "rules").glob("*.md")):
            shown = _rel(path, questions_dir)
            text = _read(path, shown, content)
            if text is None:
                continue
            match = _TITLE.search(text)
            content.rules.append(CountyRule(shown, (match.group(1) if match else path.stem).strip("《》 ")))
    if courses_dir.is_dir():
        for folder in sorted(p for p in courses_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            if not (folder / "course.md").exists():
                continue
            rel = _rel(folder, courses_dir)
            files = read_course_files(folder)  # images/ and other subfolders too, as the import reads them
            for name, data in files.items():
                if name.endswith(".md"):
                    try:
                        content.texts[f"{rel}/{name}"] = data.decode("utf-8")
                    except UnicodeDecodeError:
                        pass
            try:
                course = parse_course_folder(folder.name, rel, files)
            except ContentErrors as exc:
                _reject(content, exc)
                continue
            content.courses[course.code] = course
        path = courses_dir / "certifications.yaml"
        if path.exists():
            shown = _rel(path, courses_dir)
            content.certifications_path = shown
            text = _read(path, shown, content)
            if text is not None:
                try:
                    content.certifications = parse_certifications(
                        text, shown, known_courses=set(content.courses), known_quizzes=set(content.quizzes))
                    content.certifications_lines = load_yaml(text, shown)[1]
                except ContentErrors as exc:
                    _reject(content, exc)
    _field_needs(questions_dir, content)
    return content


def _field_needs(questions_dir: Path, content: Content) -> None:
    """question_bank/field_needs.yaml against the drills and courses just parsed (lms.field.needs)."""
    from lms.field.needs import FILENAME, consultation_codes, parse_field_needs  # noqa: PLC0415

    path = questions_dir / FILENAME
    if not path.exists():
        return
    shown = _rel(path, questions_dir)
    text = _read(path, shown, content)
    if text is None:
        return
    try:
        parse_field_needs(text, shown, known_drills=set(content.drills), known_courses=set(content.courses),
                          known_consultations=consultation_codes(questions_dir))
    except ContentErrors as exc:
        _reject(content, exc)


def _taxonomy(questions_dir: Path, content: Content) -> Taxonomy | None:
    path = questions_dir / "taxonomy.yaml"
    if not path.exists():
        return None
    shown = _rel(path, questions_dir)
    text = _read(path, shown, content)
    if text is None:
        return None
    try:
        return parse_taxonomy(text, shown)
    except ContentErrors as exc:
        _reject(content, exc)
        return None


def demo_tree() -> list[OrgNode]:
    """The demo county of lms/accounts/demo.py as (code, parent, kind) nodes."""
    from lms.accounts.demo import DEMO_ORGS  # late: pulls in the accounts services

    return [OrgNode(code, parent, str(kind)) for code, _name, kind, parent, _h, _g in DEMO_ORGS]
