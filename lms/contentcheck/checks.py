"""The content checks other than reachability: one function per check, ``(content, figures) -> findings``.

Thresholds and the list of absolute words live in lms/contentcheck/__init__.py (documented there).
``figures`` collects the summary table's numbers (label -> text).
"""
from __future__ import annotations

import collections
import itertools
import re

import lms.contentcheck as cfg
from lms.contentcheck.load import Content
from lms.contentcheck.model import Finding
from lms.quizzes import draw as drawing

_NOT_TEXT = re.compile(r"[\s\W_]+", re.U)
_READABLE = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbfA-Za-z0-9]")
_MARKUP = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)|<[^>]+>")


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _qline(content: Content, bank, question) -> int:
    return question.line or content.line_of(bank.path, f"id: {question.id}")


# --- near-duplicates ------------------------------------------------------------------------------------

def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of ``text`` without spaces and punctuation."""
    clean = _NOT_TEXT.sub("", text)
    return frozenset(clean[i:i + 2] for i in range(len(clean) - 1)) or frozenset([clean])


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def containment(a: frozenset, b: frozenset) -> float:
    """Share of the smaller set found in the other (a reworded short stem inside a longer one)."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


_BOILERPLATE = re.compile(r"《[^》]*》|中华人民共和国|第[一二三四五六七八九十百零〇]+[条款项]|根据|规定|下列|哪些|哪个|哪项|"
                          r"什么|正确|错误|的是|应当|（\s*）|\(\s*\)|_{2,}")


def question_text(question) -> str:
    """What a question asks and answers: its stem and key text, law titles and question words removed."""
    text = question.stem
    if question.type == "single":
        text += str(question.options.get(question.answer, ""))
    elif question.type == "multiple":
        text += "".join(str(question.options.get(k, "")) for k in sorted(question.answer))
    elif question.type == "judge":
        text += "对" if question.answer else "错"
    return _BOILERPLATE.sub("", text)


def similar(a: frozenset, b: frozenset) -> float:
    """Jaccard, or the containment scaled to the Jaccard threshold's scale (see DUPLICATE_CONTAINMENT)."""
    return max(jaccard(a, b), containment(a, b) * cfg.DUPLICATE_JACCARD / cfg.DUPLICATE_CONTAINMENT)


def near_duplicates(content: Content, figures: dict) -> list[Finding]:
    """Pairs of questions whose stems are near-duplicates (in the same or different banks)."""
    items = [(bank, q, bigrams(question_text(q))) for bank in content.banks.values() for q in bank.questions]
    findings, across = [], 0
    for (b1, q1, g1), (b2, q2, g2) in itertools.combinations(items, 2):
        if not g1 & g2:
            continue
        similarity = similar(g1, g2)
        if similarity >= cfg.DUPLICATE_JACCARD:
            across += b1.code != b2.code
            findings.append(Finding(b1.path, _qline(content, b1, q1), "duplicate",
                                    f"题 {q1.id} 与 {b2.path} 的题 {q2.id}（第 {_qline(content, b2, q2)} 行）题干近似重复"
                                    f"（题干加答案的相似度 {max(jaccard(g1, g2), containment(g1, g2)):.2f}）：保留一道，另一道停用或改写"))
    figures["近似重复题（对）"] = f"{len(findings)}（跨题库 {across}）"
    return findings


# --- key position and longest option --------------------------------------------------------------------

def _singles(bank):
    return [q for q in bank.questions if q.type == "single" and q.options]


def longest_keys(question) -> set[str]:
    """The option keys of maximal length (more than one on a tie)."""
    lengths = {key: len(_NOT_TEXT.sub("", str(text))) for key, text in question.options.items()}
    top = max(lengths.values())
    return {key for key, n in lengths.items() if n == top}


def key_is_longest(question) -> bool:
    """The key is the strictly longest option."""
    return longest_keys(question) == {question.answer}


def key_positions(content: Content, figures: dict) -> list[Finding]:
    """Banks whose single-choice keys concentrate on one letter."""
    findings = []
    total = collections.Counter()
    for bank in content.banks.values():
        counts = collections.Counter(q.answer for q in _singles(bank))
        total.update(counts)
        n = sum(counts.values())
        if not n:
            continue
        letter, top = counts.most_common(1)[0]
        if top / n > cfg.KEY_POSITION_MAX_SHARE and n >= 5:
            spread = "、".join(f"{k} {counts[k]}" for k in sorted(counts))
            findings.append(Finding(bank.path, 1, "key_position",
                                    f"题库 {bank.code} 的单选题答案 {top}/{n}（{_pct(top / n)}）是 {letter}"
                                    f"（{spread}）：目标每个位置不超过 {_pct(cfg.KEY_POSITION_MAX_SHARE)}"))
    n = sum(total.values())
    if n:
        figures["单选题答案位置"] = "、".join(f"{k} {total[k]}" for k in sorted(total)) + f"（共 {n}）"
    return findings


def longest_key(content: Content, figures: dict) -> list[Finding]:
    """Banks where the key is the longest option too often (and the overall rate in the figures)."""
    findings = []
    hits = count = 0
    for bank in content.banks.values():
        singles = _singles(bank)
        longest = [q for q in singles if key_is_longest(q)]
        hits, count = hits + len(longest), count + len(singles)
        if singles and len(longest) / len(singles) > cfg.LONGEST_KEY_MAX_RATE:
            findings.append(Finding(bank.path, 1, "longest_key",
                                    f"题库 {bank.code} 的单选题中 {len(longest)}/{len(singles)}"
                                    f"（{_pct(len(longest) / len(singles))}）答案是最长的选项：目标不超过 "
                                    f"{_pct(cfg.LONGEST_KEY_MAX_RATE)}（例如 {', '.join(q.id for q in longest[:5])}）"))
    if count:
        figures["最长选项即答案（单选）"] = f"{hits}/{count}（{_pct(hits / count)}，目标 ≤ {_pct(cfg.LONGEST_KEY_MAX_RATE)}）"
    return findings


# --- distractors and the guesser ------------------------------------------------------------------------

def sounds_absurd(text: str) -> bool:
    """An option containing an absolute word (see ABSOLUTE_WORDS)."""
    return any(word in str(text) for word in cfg.ABSOLUTE_WORDS)


def _key_set(question) -> set[str]:
    return set(question.answer) if question.type == "multiple" else {question.answer}


def plausible_distractors(question) -> list[str]:
    keys = _key_set(question)
    return [k for k, text in question.options.items() if k not in keys and not sounds_absurd(text)]


def weak_distractors(content: Content, figures: dict) -> list[Finding]:
    """Choice items with fewer than MIN_PLAUSIBLE_DISTRACTORS plausible wrong options."""
    findings = []
    multiple_total = multiple_weak = 0
    for bank in content.banks.values():
        for q in bank.questions:
            if q.type not in ("single", "multiple") or not q.options:
                continue
            keys = _key_set(q)
            wrong = [k for k in q.options if k not in keys]
            plausible = plausible_distractors(q)
            weak = len(plausible) < cfg.MIN_PLAUSIBLE_DISTRACTORS
            if q.type == "multiple":
                multiple_total += 1
                multiple_weak += weak
            if weak:
                absurd = [k for k in wrong if k not in plausible]
                detail = f"错误选项 {len(wrong)} 个" + (f"，其中 {'、'.join(absurd)} 含绝对化用语" if absurd else "")
                findings.append(Finding(bank.path, _qline(content, bank, q), "distractors",
                                        f"题 {q.id}（{'多选' if q.type == 'multiple' else '单选'}）可信的干扰项不足 "
                                        f"{cfg.MIN_PLAUSIBLE_DISTRACTORS} 个（{detail}）：用群众和网格员常见的错误理解作干扰项"))
    if multiple_total:
        figures["干扰项不足的多选题"] = f"{multiple_weak}/{multiple_total}"
    return findings


def guess_score(question) -> float:
    """Expected score of the test-wise guesser on one item (0–1)."""
    if question.type == "judge":
        return 0.5
    if question.type == "single" and question.options:
        top = longest_keys(question)
        return (question.answer in top) / len(top)
    if question.type == "multiple" and question.options:
        ticked = {k for k, text in question.options.items() if not sounds_absurd(text)} or set(question.options)
        return float(ticked == set(question.answer))
    return 0.0


def quiz_guess_score(quiz, banks) -> float | None:
    """Expected guesser score on a paper of ``quiz`` (draw pools averaged, equal marks); None without pools."""
    total = weight = 0.0
    for spec in quiz.draws:
        bank = banks.get(spec.bank)
        pool = drawing.pool(spec, bank.questions) if bank else []
        if not pool:
            continue
        total += spec.count * sum(guess_score(q) for q in pool) / len(pool)
        weight += spec.count
    return total / weight if weight else None


def guesser(content: Content, figures: dict) -> list[Finding]:
    """Quizzes on which guessing without knowledge scores more than GUESSER_MAX_SCORE."""
    findings = []
    for quiz in content.quizzes.values():
        score = quiz_guess_score(quiz, content.banks)
        if score is None:
            continue
        figures[f"猜题期望得分 {quiz.code}"] = f"{_pct(score)}（及格 {quiz.pass_score}）"
        if score > cfg.GUESSER_MAX_SCORE:
            findings.append(Finding(quiz.path, 1, "guesser",
                                    f"测验 {quiz.code}：不懂内容、只凭应试技巧（单选挑最长、多选排除绝对化选项、判断随猜）"
                                    f"的期望得分 {_pct(score)}，目标不超过 {_pct(cfg.GUESSER_MAX_SCORE)}"))
    return findings


# --- quizzes and their course ---------------------------------------------------------------------------

def _course_text(course) -> str:
    return "\n".join([course.title, course.summary] + [f"{l.title}\n{l.body}" for l in course.lessons])


def off_topic(content: Content, figures: dict) -> list[Finding]:
    """Questions a course's quiz draws whose tags the course does not teach."""
    findings = []
    for course in content.courses.values():
        quiz = content.quizzes.get(course.quiz_code or "")
        if quiz is None:
            continue
        taught_tags, text = set(course.tags), _course_text(course)
        seen, pool_size, outside = set(), 0, 0
        for spec in quiz.draws:
            bank = content.banks.get(spec.bank)
            for q in drawing.pool(spec, bank.questions) if bank else []:
                if (bank.code, q.id) in seen:
                    continue
                seen.add((bank.code, q.id))
                pool_size += 1
                if q.tags and not any(t in taught_tags or t in text for t in q.tags):
                    outside += 1
                    findings.append(Finding(bank.path, _qline(content, bank, q), "off_topic",
                                            f"题 {q.id} 的主题（{'、'.join(q.tags)}）课程《{course.title}》"
                                            f"（{course.code}）没有讲到，但测验 {quiz.code} 会抽到"))
        if pool_size:
            figures[f"超出课程内容的题 {quiz.code}"] = f"{outside}/{pool_size}"
    return findings


# --- lesson minutes and course hours --------------------------------------------------------------------

def reading_minutes(body: str) -> float:
    """Minutes to read a lesson body at READING_CHARS_PER_MINUTE (markup removed)."""
    text = _MARKUP.sub(lambda m: m.group(1) or "", body)
    return len(_READABLE.findall(text)) / cfg.READING_CHARS_PER_MINUTE


def lesson_minutes(content: Content, figures: dict) -> list[Finding]:
    """Lessons whose labelled minutes exceed LESSON_MINUTES_FACTOR × their reading time."""
    findings = []
    labelled = reading = 0.0
    for course in content.courses.values():
        for lesson in course.lessons:
            minutes = reading_minutes(lesson.body)
            labelled, reading = labelled + lesson.minutes, reading + minutes
            if lesson.minutes > cfg.LESSON_MINUTES_FACTOR * max(minutes, 1):
                findings.append(Finding(lesson.path, content.line_of(lesson.path, "minutes:", 2), "lesson_minutes",
                                        f"课时标注 {lesson.minutes} 分钟，正文约 {minutes:.1f} 分钟可读完"
                                        f"（每分钟 {cfg.READING_CHARS_PER_MINUTE} 字）：标注不应超过阅读时间的 "
                                        f"{cfg.LESSON_MINUTES_FACTOR} 倍"))
    if labelled:
        figures["课时标注分钟 / 阅读分钟"] = f"{labelled:.0f} / {reading:.0f}"
    return findings


def course_hours(content: Content, figures: dict) -> list[Finding]:
    """Courses claiming more credit hours than their lessons' labelled minutes support."""
    findings = []
    claimed = 0.0
    for course in content.courses.values():
        minutes = sum(l.minutes for l in course.lessons)
        claimed += course.hours
        supported = minutes / cfg.MINUTES_PER_CREDIT_HOUR
        if course.hours > supported + 1e-9:
            findings.append(Finding(course.path, content.line_of(course.path, "hours:", 2), "course_hours",
                                    f"课程标注 {course.hours:g} 学时，课时合计 {minutes} 分钟"
                                    f"（每学时 {cfg.MINUTES_PER_CREDIT_HOUR} 分钟，最多 {supported:.1f} 学时）"))
    if content.courses:
        figures["课程学时合计"] = f"{claimed:g}"
    return findings


# --- the county rule ------------------------------------------------------------------------------------

def _county_name(title: str) -> str | None:
    match = re.match(r"^(.+?[县市区旗])", title)
    return match.group(1) if match else None


def says_county_rule(text: str, rules) -> bool:
    """The learner-visible ``text`` names the county's own rule (see the module docstring)."""
    if any(marker in text for marker in cfg.COUNTY_RULE_MARKERS):
        return True
    for rule in rules:
        name = _county_name(rule.title)
        if rule.title in text or (name and name in text):
            return True
    return False


def cites_county_rule(source: str | None, rules) -> bool:
    return bool(source) and any(rule.title in source for rule in rules)


def county_rule(content: Content, figures: dict) -> list[Finding]:
    """Questions and drills resting on question_bank/rules/ that do not say so where the learner reads."""
    if not content.rules:
        return []
    findings = []
    resting = 0
    for bank in content.banks.values():
        for q in bank.questions:
            if not cites_county_rule(q.source, content.rules):
                continue
            resting += 1
            if not says_county_rule(q.stem, content.rules):
                findings.append(Finding(bank.path, _qline(content, bank, q), "county_rule",
                                        f"题 {q.id} 依据本县自定的规范（{q.source}），题干却没有说明"
                                        f"（写明“按本县规定”或规范名称）"))
    for drill in content.drills.values():
        source = (drill.source or "") + content.texts.get(drill.path, "")[:2000]
        if not cites_county_rule(source, content.rules):
            continue
        resting += 1
        if not says_county_rule(f"{drill.title}\n{drill.scenario}", content.rules):
            findings.append(Finding(drill.path, content.line_of(drill.path, "scenario:", 1), "county_rule",
                                    f"演练 {drill.code} 依据本县自定的规范，标题和情景中却没有说明"
                                    f"（写明“按本县规定”或规范名称）"))
    figures["依据本县规范的题目和演练"] = f"{resting}（未注明 {len(findings)}）"
    return findings


ALL = (near_duplicates, key_positions, longest_key, weak_distractors, guesser, off_topic, lesson_minutes,
       course_hours, county_rule)
