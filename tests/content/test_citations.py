"""Shipped questions and drills cite laws and rules that exist, in their current version."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAWS = ROOT.parent / "shared" / "laws"
BANKS = ROOT / "question_bank"
RULES = BANKS / "rules"
DRILLS = BANKS / "drills"
# Files in question_bank/ that are not question banks (see API.md).
NOT_BANKS = {"taxonomy.yaml", "field_needs.yaml"}  # as lms.quizzes.sync.NOT_BANKS
# Repealed laws that must never be cited as a source (names as people write them).
REPEALED = {
    "信访条例",
    "城市房屋拆迁管理条例",
    "中华人民共和国噪声污染防治法",
    "噪声污染防治法",
    "环境噪声污染防治法",
    "中华人民共和国环境噪声污染防治法",
}


def _rel(path):
    return path.relative_to(ROOT).as_posix()


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_articles", LAWS / "check_articles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def checker():
    if not (LAWS / "check_articles.py").is_file():
        pytest.skip(f"law texts not found at {LAWS} (shared folder absent): citations cannot be checked")
    return _load_checker()


def _article_numbers(path, checker):
    """Return (title, set of article numbers) of one law-format Markdown file."""
    title, numbers = None, set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if title is None and line.startswith("# "):
            title = line[2:].strip()
            continue
        match = checker.ARTICLE_RE.match(line)
        if match and not match.group(2):
            numbers.add(checker.cn_to_int(match.group(1)))
    return title, numbers


@pytest.fixture(scope="module")
def law_index(checker):
    index = {}
    files = [p for p in sorted(LAWS.glob("*.md")) if p.name != "README.md"]
    files += sorted(RULES.glob("*.md"))
    for path in files:
        title, numbers = _article_numbers(path, checker)
        if title and numbers:
            index[title] = numbers
    return index


def repealed_problems(text):
    """Problems for every repealed law named in a citation text."""
    return [f"引用了已废止的《{name}》" for name in _titles(text) if name in REPEALED]


def _titles(text):
    start, titles = 0, []
    while (open_at := text.find("《", start)) != -1:
        close_at = text.find("》", open_at)
        if close_at == -1:
            break
        titles.append(text[open_at + 1:close_at])
        start = close_at + 1
    return titles


def citation_problems(text, index, checker):
    """Problems for every 《…》第X条 in text whose law or article is not in the index."""
    problems = []
    matches = list(checker.CITE_LAW_RE.finditer(text))
    for i, match in enumerate(matches):
        title = match.group(1)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        articles = checker.CITE_ART_RE.findall(text[match.end():end])
        if not articles or title in REPEALED:
            continue  # repealed names are reported by repealed_problems
        if title not in index:
            problems.append(f"法规文本中没有《{title}》（标题须与法规文件第一行一致）")
            continue
        for numeral in articles:
            if checker.cn_to_int(numeral) not in index[title]:
                problems.append(f"《{title}》没有第{numeral}条（共{len(index[title])}条）")
    return problems


def _bank_files():
    return [p for p in sorted(BANKS.glob("*.yaml")) if p.name not in NOT_BANKS]


def _load(path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), None
    except yaml.YAMLError as exc:
        return None, f"{_rel(path)}: -: YAML 解析失败：{exc}"


def _cited_items():
    """Yield (path, item id, source text or None, problem) for every question and drill."""
    for path in _bank_files():
        data, error = _load(path)
        if error:
            yield path, "-", None, error
            continue
        questions = data.get("questions") if isinstance(data, dict) else None
        if not isinstance(questions, list):
            yield path, "-", None, f"{_rel(path)}: -: 缺少 questions 列表"
            continue
        for number, question in enumerate(questions, 1):
            if not isinstance(question, dict):
                yield path, f"#{number}", None, f"{_rel(path)}: #{number}: 题目不是映射"
                continue
            qid = question.get("id") or f"#{number}"
            yield path, qid, question.get("source"), None
    for path in sorted(DRILLS.glob("*.yaml")):
        data, error = _load(path)
        if error:
            yield path, "-", None, error
            continue
        if not isinstance(data, dict):
            continue
        code = data.get("code") or path.stem
        for key in ("source", "sources"):
            value = data.get(key)
            for text in value if isinstance(value, list) else [value] if value is not None else []:
                yield path, code, text, None


def _report(problems):
    return "\n" + "\n".join(problems)


def test_shipped_question_banks_are_found():
    names = {p.name for p in _bank_files()}
    assert {"grid-duties.yaml", "event-reporting.yaml", "dispute-mediation.yaml",
            "special-groups.yaml"} <= names


def test_every_question_has_a_non_empty_source():
    problems = []
    for path, qid, source, problem in _cited_items():
        if problem:
            problems.append(problem)
        elif path.parent == BANKS and (not isinstance(source, str) or not source.strip()):
            problems.append(f"{_rel(path)}: {qid}: 缺少出处 source")
    assert not problems, _report(problems)


def test_every_cited_article_exists_in_the_law_texts_or_county_rules(law_index, checker):
    problems = []
    for path, qid, source, problem in _cited_items():
        if problem or not isinstance(source, str):
            continue
        problems += [f"{_rel(path)}: {qid}: {p}" for p in citation_problems(source, law_index, checker)]
    assert not problems, _report(problems)


def test_no_source_cites_a_repealed_law():
    problems = []
    for path, qid, source, problem in _cited_items():
        if problem or not isinstance(source, str):
            continue
        problems += [f"{_rel(path)}: {qid}: {p}" for p in repealed_problems(source)]
    assert not problems, _report(problems)


def test_question_ids_are_unique_across_all_banks():
    seen, problems = {}, []
    for path, qid, _source, problem in _cited_items():
        if problem or path.parent != BANKS or qid.startswith("#"):
            continue
        if qid in seen:
            problems.append(f"{_rel(path)}: {qid}: 编号重复（已在 {seen[qid]} 中使用）")
        else:
            seen[qid] = _rel(path)
    assert not problems, _report(problems)


def test_citation_checker_flags_missing_articles_unknown_titles_and_repealed_laws(law_index, checker):
    assert citation_problems("《中华人民共和国人民调解法》第三十五条", law_index, checker) == []
    assert citation_problems("《中华人民共和国人民调解法》第三十六条", law_index, checker)
    assert citation_problems("《中华人民共和国民法典》第二百八十八条、第三千条", law_index, checker)
    assert citation_problems("《城乡居民委员会组织法》第三条", law_index, checker)
    assert citation_problems("《红溪县网格化服务管理事件上报规范》第三十一条", law_index, checker)
    assert citation_problems("《红溪县网格化服务管理事件上报规范》第十八条", law_index, checker) == []
    assert repealed_problems("《信访条例》第十条；《中华人民共和国人民调解法》第四条")
    assert repealed_problems("《信访工作条例》第十条") == []


def test_county_rule_files_pass_the_law_text_checks():
    script = LAWS / "check_articles.py"
    if not script.is_file():
        pytest.skip(f"check_articles.py not found at {script} (shared folder absent)")
    rules = sorted(RULES.glob("*.md"))
    assert rules, "question_bank/rules/ 中没有县规范文件"
    result = subprocess.run([sys.executable, str(script), *map(str, rules)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
