"""`content check` for question_bank/consultations/*.yaml (pure, files only).

Each file is read as `content import` reads it (``load_consultation``: unknown keys, empty lists, a model
answer the rules would return → ``parse`` findings with file:line, blocking). Two files with one code are a
``parse`` finding too. ``sources`` citing the county's own rule (a file of question_bank/rules/, by its first
``# `` heading) must name an article that rule has; other laws are checked against the law texts by
tests/consultations/test_shipped.py (the app does not ship them).
"""
from __future__ import annotations

import re
from pathlib import Path

from lms.consultations.content import load_consultation
from lms.contentcheck.model import Finding
from lms.contentfile import ContentErrors, load_yaml
from lms.drills.timeparse import cn_to_int

_TITLE = re.compile(r"^#\s*(.+?)\s*$", re.M)
_ARTICLE = re.compile(r"^第([零〇一二两三四五六七八九十百千\d]+)条", re.M)
_CITE = re.compile(r"《([^》]+)》")
_CITE_ARTICLE = re.compile(r"第([零〇一二两三四五六七八九十百千\d]+)条")


def county_rules(questions_dir: Path) -> dict[str, set[int]]:
    """The county rule files by title (《》 stripped), each with its article numbers."""
    rules = {}
    for path in sorted((questions_dir / "rules").glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        match = _TITLE.search(text)
        title = (match.group(1) if match else path.stem).strip("《》 ")
        rules[title] = {n for n in (cn_to_int(m) for m in _ARTICLE.findall(text)) if n is not None}
    return rules


def citation_problems(source: str, rules: dict[str, set[int]]) -> list[str]:
    """Articles a citation of the county rule names that the rule does not have."""
    problems = []
    matches = list(_CITE.finditer(source))
    for i, match in enumerate(matches):
        title = match.group(1)
        if title not in rules:
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(source)
        for numeral in _CITE_ARTICLE.findall(source[match.end():end]):
            if cn_to_int(numeral) not in rules[title]:
                problems.append(f"《{title}》没有第{numeral}条（共{len(rules[title])}条）")
    return problems


def check_consultations(questions_dir) -> list[Finding]:
    """Findings for every consultation file (empty: all would import)."""
    questions_dir = Path(questions_dir)
    folder = questions_dir / "consultations"
    if not folder.is_dir():
        return []
    rules = county_rules(questions_dir)
    findings, codes = [], {}
    for path in sorted(folder.glob("*.yaml")):
        shown = str(path.relative_to(questions_dir.parent))
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            findings.append(Finding(shown, 1, "parse", "文件无法导入：文件不是 UTF-8 编码", blocking=True))
            continue
        try:
            item = load_consultation(text, shown)
        except ContentErrors as exc:
            findings.extend(Finding(e.path, e.line, "parse", f"文件无法导入：{e.message}", blocking=True)
                            for e in exc.errors)
            continue
        if item.code in codes:
            findings.append(Finding(shown, 1, "parse", f"文件无法导入：政策答询代码“{item.code}”与 {codes[item.code]} 重复",
                                    blocking=True))
        codes.setdefault(item.code, shown)
        _, loc = load_yaml(text, shown)
        for i, source in enumerate(item.sources):
            for problem in citation_problems(source, rules):
                findings.append(Finding(shown, loc.line("sources", i), "parse", f"依据引用有误：{problem}",
                                        blocking=True))
    return findings
