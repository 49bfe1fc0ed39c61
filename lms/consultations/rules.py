"""Automatic checks of a worker's spoken answer to a resident's question (pure).

The same engine shape as the report drills (``lms.drills.rules``: ``Result``,
``Evaluation``, a registry of small named rules); each rule reads the answer
text and the consultation's key and says, in plain Chinese, what to add or
remove, with an example. Any failure returns the answer; the score is the share
of rules passed.

Judgement calls, kept here so trainers can read them:

* Matching folds the text (NFKC, lower case, no spaces or punctuation) and
  writes numbers one way: ``十五年``, ``15年`` and ``１５年`` are the same words.
  Dialect and official names are written the common way on both sides
  (``lms.consultations.wording``: ``莫得`` → ``没有``, ``屋头`` → ``家里``,
  ``社会保险事业中心`` → ``社保中心``, ``缴`` → ``交``…).
  Points and offices also match without particles (``满了一年`` says ``满一年``);
  a point's phrase of three characters or more also matches with up to
  ``GAP_CHARS`` characters inside it in one clause (``政府每个人补`` says ``政府补``).
* ``key_points``: each point is said when one of its ``any`` phrases occurs and
  is not denied right after in its clause (``60岁也领不了了`` does not say ``60岁``),
  or when one sentence holds ``OVERLAP`` of the content words (two-character
  words, numbers whole) of the point's name or of one of its phrases, and every
  number among them (``年满60，累计交够15年，就可以每个月领`` says
  ``满60岁、交满15年按月领``; ``交满10年`` does not).
* ``no_wrong_claims``: a wrong phrase counts only as a plain statement. Denied
  (``不是交满十五年就行``), reported as what others say or what used to be
  (``以前``、``有人说``、``老政策``), or corrected right after (``…就行，这个说法
  不对``) it is the opposite of the wrong claim. A wrong phrase of three
  characters or more also counts with up to ``GAP_CHARS`` characters inside it
  (``新农合是还在交`` says ``新农合还在``), unless the gap holds a negation or a
  time word (``医保也不用你自己交``, ``新农合以前是还在的``). Matching a claim by
  shared words alone was measured on the tune split and left out: it took
  corrections (``新农合已经合并了``) for the claim.
* ``referral``: one of the ``refer`` offices is named; the name without its
  county or township prefix (``医保局`` for ``县医保局``) counts too.
* ``no_overpromise``: the consultation's ``overpromise`` phrases and a few
  promises no grid worker can make (``保证能批``、``包在我身上``…), unless denied
  (``我不能保证能批``); also the same promises in other words (``我保你``、
  ``保准``、a guessed sum ``少说还剩三四万``、``帮你递个话``、``绝对不敢动你``).
* ``plain_language``: between ``MIN_CHARS`` and ``MAX_CHARS`` characters (spaces
  not counted), not the resident's question said back (half of its 8-character
  runs or a run of ``COPY_RUN_CHARS``), and not read out of the statute book:
  ``LEGAL_MARKERS_MAX`` or more of the phrases only law texts use (本法、前款、
  下列情形之一、依照本条例…), or a sentence of ``LEGAL_RUN_CHARS`` characters or
  more holding ``LEGAL_TOKENS_PER_SENTENCE`` statute turns (``…的，``、``的个人``、
  ``或者``、``按照…规定``、``应当``…) — ``LEGAL_SENTENCES_MIN`` of them, or one
  making ``LEGAL_SHARE`` of the answer —, or a citation with a colon or opening
  the answer followed by the article's words.
* Odd input never raises: anything but text is turned into text or empty, and
  the answer is cut at ``MAX_ANSWER_CHARS``.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import ClassVar

from lms.consultations.content import RULE_NAMES, Consultation
# One result shape, one copy measure and one negation vocabulary for both drill kinds.
from lms.drills.rules import _NEGATION, Evaluation, Result, _as_text, _phrase_before, copy_overlap
from lms.consultations.wording import content_words, fold_dialect
from lms.drills.timeparse import cn_to_int

MAX_ANSWER_CHARS = 10_000
MIN_CHARS = 40
MAX_CHARS = 600
COPY_RATIO = 0.5
COPY_RUN_CHARS = 30
LEGAL_MARKERS_MAX = 3
LEGAL_RUN_CHARS = 30
#: Promises no grid worker can make, whatever the consultation lists.
GENERIC_OVERPROMISE = ("保证能批", "保证批", "保证能办", "保证给你", "保证你能", "包你能", "包你拿", "包在我身上",
                       "打包票", "肯定能批", "肯定批", "一定能批", "一定给你批", "百分之百能", "我说了算", "我给你批",
                       "我帮你搞定", "保准能", "我保证", "保证让", "保证他", "保证你", "帮你说话", "帮你说情",
                       "帮你打招呼", "帮你打个招呼", "帮你找关系")

#: The same promises in other words (clause form, dialect folded): "我保你"、"保准"、a guessed sum ("少说还剩三四万",
#: "至少领一千多"), putting in a word ("帮你递个话"), vouching for what others will do ("我让他们…"、"绝对不敢").
_PROMISE_PATTERNS = tuple(re.compile(p) for p in (
    r"(?<![社医确担环参投])保你(?!们)", r"保准", r"保证能好", r"我让他们[^，。]{0,6}(?:每个?月|各给|一定|必须|保证)",
    r"绝对不敢", r"绝对不会让", r"(?:帮你|给你|替你)(?:去)?(?:递|带|说)个话", r"帮你去说(?:说|一?下|情)",
    r"少说(?:还剩|也有|能拿|能领)", r"至少(?:能)?(?:领|拿)\d",
    r"估计能(?:拿|领)\d", r"全部给你免"))


class Rule:
    """Base of every consultation rule: a name from RULE_NAMES and a pure ``check``."""

    name: ClassVar[str]

    def check(self, answer: str, folded: str, item: Consultation) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def ok(self, message: str) -> Result:
        return Result(self.name, True, message, None)

    def fail(self, message: str) -> Result:
        return Result(self.name, False, message, None)


RULES: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the registry under its name."""
    if cls.name not in RULE_NAMES:
        raise ValueError(f"unknown rule name {cls.name!r}")
    RULES[cls.name] = cls()
    return cls


# ---------------------------------------------------------------- text helpers

_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_PUNCT = re.compile(r"[\s\u3000,，、。.;；:：!！?？\"'“”‘’（）()《》〈〉【】\[\]…—\-~～]+")


def _numbers(text: str) -> str:
    def repl(match):
        value = cn_to_int(match.group(0))
        return match.group(0) if value is None else str(value)
    return _CN_NUMBER.sub(repl, text)


def fold(text: str) -> str:
    """Form for matching: NFKC, lower case, Chinese numerals as digits, no spaces or punctuation."""
    return _PUNCT.sub("", _numbers(fold_dialect(unicodedata.normalize("NFKC", text or "").lower())))


def fold_clauses(text: str) -> str:
    """Like ``fold`` but keeps clause marks (，。；？！ as ``，``/``。``) for negation and correction windows."""
    text = _numbers(fold_dialect(unicodedata.normalize("NFKC", text or "").lower()))
    text = re.sub(r"[,，、]", "，", text)
    text = re.sub(r"[。.;；!！?？\n]", "。", text)
    return re.sub(r"[\s\u3000\"'“”‘’（）()《》〈〉【】\[\]…—\-~～:：]+", "", text)


@functools.lru_cache(maxsize=8192)
def key_fold(phrase: str) -> str:
    """``fold`` of a phrase of a consultation's key (kept: the same few hundred phrases are folded for every answer)."""
    return fold(phrase)


@functools.lru_cache(maxsize=8192)
def key_clauses(phrase: str) -> str:
    """``fold_clauses`` of a phrase of a consultation's key, kept like ``key_fold``."""
    return fold_clauses(phrase)


_PARTICLES = re.compile(r"[了的地得着过呢啊呀吧嘛哦]")


def loose(folded: str) -> str:
    """A folded text without particles: "满了一年" says "满一年", "社保所的窗口" names "社保所窗口"."""
    return _PARTICLES.sub("", folded)


GAP_CHARS = 4
_loose_key = functools.lru_cache(maxsize=8192)(loose)
_loose_answer = functools.lru_cache(maxsize=32)(loose)  # one answer is matched against every phrase of its key


def _gapped(text: str, word: str) -> bool:
    """word's characters in order in text, at most GAP_CHARS extra characters in between ("政府每个人补" says
    "政府补"); only for words of three characters or more without digits, whose first two characters stay
    together."""
    if len(word) < 3 or any(ch.isdigit() for ch in word):  # "20年" must not match inside "2030年"
        return False
    pattern = re.escape(word[:2]) + "".join(f"[^，。]{{0,{GAP_CHARS}}}?" + re.escape(ch) for ch in word[2:])
    for match in re.finditer(pattern, text):
        if len(match.group(0)) <= len(word) + GAP_CHARS:
            return True
    return False


def says(folded: str, phrase: str, clauses: str | None = None) -> bool:
    """The folded answer contains the phrase, as written, without particles, or (given the answer's
    ``fold_clauses`` form) with a short gap inside one clause."""
    word = key_fold(phrase)
    if not word:
        return False
    bare = _loose_key(word)
    return (word in folded or (len(bare) >= 2 and bare in _loose_answer(folded))
            or (clauses is not None and _gapped(clauses, word)))


def clean_answer(value) -> str:
    """The answer as stripped text (odd values become text or empty), cut at MAX_ANSWER_CHARS."""
    return _as_text(value)[:MAX_ANSWER_CHARS].strip()


def visible_chars(text: str) -> int:
    """Characters a reader counts: everything but whitespace."""
    return len(re.sub(r"\s+", "", text))


# Said of a claim to set it aside: what others say, what used to be.
_REPORTED = re.compile(r"以前|以往|过去|原来|原先|老政策|老规定|老说法|有人说|别人说|听说|听人说|别听|不要听|别信|网上说|传言")
# Said right after a claim to correct it.
_CORRECTED = re.compile(r"^[^。]{0,6}?(?:不对|不是这样|是错|错的|错了|过时|变了|改了|取消了|早就没了|已经没了|不行了|不适用|不作数|"
                        r"行不通|现在不|现在要|已经停|早停了|停办|是?(?:老|旧|以前的|过去的)(?:说法|政策|规定|规矩|黄历))")


# Words with 不/没 that deny nothing: "实在不行就关在家里" still says to lock him up.
_NOT_NEGATING = re.compile(r"不行|不然|要不|不管|不过|不少|不仅|不但|不久|不论|不如|差不多|没准|不一定")


def _denied(before: str) -> bool:
    """A negation word in the phrase before a claim (not one of the words that only contain 不)."""
    return bool(_NEGATION.search(_NOT_NEGATING.sub("", before)))


@functools.lru_cache(maxsize=4096)
def _gap_pattern(word: str):
    units = re.findall(r"\d+|.", word)
    if len(word) < 3 or len(units) < 2:
        return None
    parts = []
    for i, unit in enumerate(units):
        piece = (r"(?<!\d)" if unit.isdigit() else "") + re.escape(unit) + (r"(?!\d)" if unit.isdigit() else "")
        if i >= 2 or (i == 1 and len(units[0]) > 1):
            piece = f"[^，。]{{0,{GAP_CHARS}}}?" + piece
        parts.append(piece)
    return re.compile("".join(parts))


def _gapped_occurrences(clauses: str, word: str):
    """(start, end) of word in the clause-form text with up to GAP_CHARS other characters inside it, in one clause:
    "新农合是还在" says "新农合还在", "以后我们就不来了" says "以后不来了". Numbers stay whole ("20年" is not in
    "2030年"); only for words of three characters or more whose first two characters stay together."""
    pattern = _gap_pattern(word)
    if pattern is None:
        return
    negated = _denied(word)
    for match in pattern.finditer(clauses):
        # a negation inside the gap turns the claim round ("医保也不用你自己交" does not say "医保自己交"), a
        # time word sets it in the past ("新农合以前是还在的")
        found = match.group(0)
        if len(found) <= len(word) + GAP_CHARS and (negated or not _denied(found)) and not _REPORTED.search(found):
            yield match.start(), match.end()


def _stated(clauses: str, word: str) -> bool:
    """True when word occurs in the (fold_clauses) text, as written or with a short gap inside one clause, as the
    speaker's own plain claim."""
    found = []
    start = clauses.find(word)
    while start != -1:
        found.append((start, start + len(word)))
        start = clauses.find(word, start + 1)
    found.extend(_gapped_occurrences(clauses, word))
    for start, end in found:
        before = _phrase_before(clauses, start, 8)
        sentence_start = clauses.rfind("。", 0, start) + 1
        sentence = clauses[sentence_start:start]
        after = clauses[end:]
        if not (_denied(before) or _REPORTED.search(sentence) or _CORRECTED.search(after)):
            return True
    return False


def _aliases(office: str) -> set[str]:
    """An office's name and its shorter spoken forms (县医保局 -> 医保局)."""
    name = key_fold(office)
    out = {name}
    short = re.sub(r"^(?:[\u4e00-\u9fff]{1,4}?[县区市])", "", name)
    short = re.sub(r"^(?:乡镇|镇|乡|街道|村|社区)(?=[\u4e00-\u9fff]{2,})", "", short)
    if len(short) >= 2 and short not in _TOO_GENERIC:
        out.add(short)
    return out


#: What a prefix-stripped office name must not shrink to: "地方各级人民政府" names no office.
_TOO_GENERIC = {"人民政府", "政府", "委员会", "中心", "部门"}


# ---------------------------------------------------------------------- rules

# Said right after a point's words to deny it: "60岁也领不了了", "生活补贴就领不了了".
_DENIED_AFTER = re.compile(r"^[^，。]{0,5}?(?:不了|领不|拿不到|不能领|不给|不可以|没有份|莫得份|不算数)")


def _affirmed(clauses: str, word: str) -> bool:
    """Some occurrence of word (folded, in the clause form) is not denied by what follows it in its clause."""
    start = clauses.find(word)
    if start == -1:
        return True  # found only by the looser matches: nothing to deny
    while start != -1:
        if not _DENIED_AFTER.search(clauses[start + len(word):]):
            return True
        start = clauses.find(word, start + 1)
    return False


#: share of a point phrase's content words one sentence of the answer must hold to say the point in other words
OVERLAP = 0.6
#: and at least this many of them
OVERLAP_MIN_WORDS = 2


def _point_words(point) -> tuple[tuple[frozenset[str], bool], ...]:
    """The content words of the point's name and of each of its phrases (those with at least two), each with
    whether the phrase itself says one of the _DENIES words."""
    return _phrase_words((point.name, *point.any))


@functools.lru_cache(maxsize=1024)
def _phrase_words(phrases: tuple[str, ...]) -> tuple[tuple[frozenset[str], bool], ...]:
    out = []
    for phrase in phrases:
        words = content_words(key_clauses(phrase))
        if len(words) >= OVERLAP_MIN_WORDS:
            out.append((frozenset(words), bool(_DENIES.search(key_clauses(phrase)))))
    return tuple(out)


def _said_in_other_words(sentences: list[tuple[set[str], str]], point) -> bool:
    """Some sentence holds OVERLAP of the content words of the point's name or of one of its phrases, and every
    number among them ("满15年" is not said by "满10年"), and does not deny it ("年满60也领不了")."""
    for words, denies in _point_words(point):
        need = max(OVERLAP_MIN_WORDS, OVERLAP * len(words))
        numbers = {w for w in words if w[0].isdigit()}  # the figures are the point: all of them must be said
        for sentence, text in sentences:
            if len(words & sentence) >= need and numbers <= sentence and (denies or not _DENIES.search(text)):
                return True
    return False


# A sentence saying these denies what its words would say: "交满15年也领不了".
_DENIES = re.compile(r"不了|领不|拿不到|不能领|不给|不可以|没有份|不算数")


def _said(point, folded: str, clauses: str, sentences: list[tuple[set[str], str]]) -> bool:
    if any(says(folded, w, clauses) and _affirmed(clauses, key_clauses(w)) for w in point.any):
        return True
    return _said_in_other_words(sentences, point)


@register
class KeyPoints(Rule):
    """Each point is said (any of its phrases, or most of the words of its name or of one phrase)."""

    name = "key_points"

    def check(self, answer, folded, item):
        clauses = fold_clauses(answer)
        sentences = [(content_words(s), s) for s in clauses.split("。") if s]
        missing = [p for p in item.points if not _said(p, folded, clauses, sentences)]
        if not missing:
            return self.ok("该讲的要点都讲到了")
        parts = "；".join(f"“{p.name}”（例如说到“{p.any[0]}”）" for p in missing[:4])
        more = f"等 {len(missing)} 条" if len(missing) > 4 else ""
        return self.fail(f"回答漏了要点：{parts}{more}。请把这些补进回答里，用自己的话讲给居民听")


@register
class NoWrongClaims(Rule):
    """No wrong or out-of-date claim is stated as true."""

    name = "no_wrong_claims"

    def check(self, answer, folded, item):
        clauses = fold_clauses(answer)
        said = []
        for wrong in item.wrong:
            word = next((w for w in wrong.any if key_fold(w) and _stated(clauses, key_clauses(w))), None)
            if word:
                said.append((wrong.name, word))
        if not said:
            return self.ok("没有错误或过时的说法")
        parts = "；".join(f"“{word}”（{name}）" for name, word in said[:3])
        return self.fail(f"回答里有错误或过时的说法：{parts}。请删掉，按现行政策讲；要提旧说法，就明确说"
                         "“以前是这样，现在不是了”")


@register
class Referral(Rule):
    """One of the offices the question may be referred to is named."""

    name = "referral"

    def check(self, answer, folded, item):
        for office in item.refer:
            if any(says(folded, alias) for alias in _aliases(office)):
                return self.ok(f"告诉了居民去哪里办：{office}")
        options = "、".join(item.refer[:3])
        return self.fail(f"没有告诉居民该去哪里问、去哪里办：请指明一个部门，例如“具体可以到{item.refer[0]}咨询办理”"
                         f"（可以指引到：{options}）")


@register
class NoOverpromise(Rule):
    """No promise the grid worker cannot keep (unless denied)."""

    name = "no_overpromise"

    def check(self, answer, folded, item):
        clauses = fold_clauses(answer)
        phrases = list(dict.fromkeys(item.overpromise + GENERIC_OVERPROMISE))
        said = []
        for phrase in phrases:
            word = key_clauses(phrase)
            if not word:
                continue
            start = clauses.find(word)
            while start != -1:
                if not _denied(_phrase_before(clauses, start, 6)):
                    said.append(phrase)
                    break
                start = clauses.find(word, start + 1)
        for pattern in _PROMISE_PATTERNS:
            for match in pattern.finditer(clauses):
                if not _denied(_phrase_before(clauses, match.start(), 6)):
                    said.append(match.group(0))
                    break
        if not said:
            return self.ok("没有替部门打包票")
        words = "、".join(f"“{w}”" for w in said[:3])
        office = item.refer[0] if item.refer else "主管部门"
        return self.fail(f"不要替部门打包票：去掉{words}。网格员批不了也定不了，可以改说"
                         f"“符合条件的可以申请，最后以{office}审核为准”")


_LEGAL_MARKERS = ("本法", "本条例", "本办法", "本规定", "前款", "前条", "下列情形之一", "依照本", "按照本", "本条",
                  "之日起", "予以", "由国务院", "县级以上地方人民政府", "县级以上人民政府", "有关主管部门", "依法给予",
                  "应当依法", "不得", "参照执行", "另行规定", "第1款", "第2款", "依照前款")
# Statute register inside one sentence: conditionals "…的，", "的个人", "或者", "依照/按照…规定", "应当"….
_LEGAL_TOKENS = re.compile(r"的，|的个人|的人员|或者|依照|依法|按照[^，。]{0,12}规定|应当|予以|不得|相应的|累计|之日起|所需|有关部门")
LEGAL_TOKENS_PER_SENTENCE = 3
#: the law read out: LEGAL_SENTENCES_MIN statute-register sentences, or one making LEGAL_SHARE of the answer
#: (characters); a summary in official words with one such sentence among the worker's own ("按照现行规定，…的，…")
#: is not
LEGAL_SENTENCES_MIN = 2
LEGAL_SHARE = 0.5


def legal_sentences(text: str) -> list[str]:
    """Sentences of at least LEGAL_RUN_CHARS characters in statute register (folded)."""
    return [s for s in fold_clauses(text).split("。")
            if len(s) >= LEGAL_RUN_CHARS and len(_LEGAL_TOKENS.findall(s)) >= LEGAL_TOKENS_PER_SENTENCE]


# Reading the law out: a citation followed by a colon and the article's words ("《社会保险法》第十六条规定：…").
_QUOTED_LAW = re.compile(r"《[^》]{2,40}》\s*第[零〇一二两三四五六七八九十百千\d]+条(?:[、和及]第[零〇一二两三四五六七八九十百千\d]+条)*"
                         r"(?:第[零〇一二两三四五六七八九十\d]+款)?\s*(?:规定|明确|写着|写的|讲)?\s*[:：]")
# or an answer that opens with the citation and the article's words after a space ("《…条例》第十九条　对被征收…").
_LEADING_LAW = re.compile(r"\s*《[^》]{2,40}》\s*第[零〇一二两三四五六七八九十百千\d]+条[\s\u3000]+(?=\S)")


def legal_markers(text: str) -> list[str]:
    """The statute-only phrases found in text (folded)."""
    clauses = fold_clauses(text)
    return [m for m in _LEGAL_MARKERS if key_clauses(m) in clauses]


@register
class PlainLanguage(Rule):
    """In the worker's own plain words: not too short or long, not the question said back, not the law read out."""

    name = "plain_language"

    def check(self, answer, folded, item):
        n = visible_chars(answer)
        if n < MIN_CHARS:
            return self.fail(f"回答太短（{n}个字）：至少说{MIN_CHARS}个字，讲清能不能办、要什么条件、到哪里办，"
                             f"例如“您这种情况可以……，需要带……，到{item.refer[0] if item.refer else '有关部门'}办理”")
        if n > MAX_CHARS:
            return self.fail(f"回答太长（{n}个字）：居民一次记不住，控制在{MAX_CHARS}个字以内，"
                             "只讲和他有关的条件、要带的材料和去哪里办")
        ratio, run = copy_overlap(answer, item.question)
        if ratio >= COPY_RATIO or run >= COPY_RUN_CHARS:
            return self.fail("不要把居民的问题原样说回去：直接回答他问的事，例如先说“能”或“不能”，再说为什么、怎么办")
        quoted = _QUOTED_LAW.search(unicodedata.normalize("NFKC", answer)) or _LEADING_LAW.match(answer)
        markers = legal_markers(answer)
        sentences = legal_sentences(answer)
        legal_share = sum(len(x) for x in sentences) / max(1, len(fold_clauses(answer)))
        if quoted or len(markers) >= LEGAL_MARKERS_MAX or len(sentences) >= LEGAL_SENTENCES_MIN \
                or legal_share >= LEGAL_SHARE:
            if quoted:
                shown = f"“{quoted.group(0).strip()}……”"
            elif sentences:
                shown = f"“{sentences[0][:18]}……”"
            else:
                shown = "、".join(f"“{m}”" for m in markers[:3])
            office = item.refer[0] if item.refer else "有关部门"
            return self.fail(f"像在念法条（{shown}）：居民听不懂条文，请用大白话讲给他听：先说能不能办、要什么条件，"
                             f"再说去哪里办，例如“您这种情况可以……，带上身份证到{office}去问”")
        return self.ok("用的是居民听得懂的话")


if tuple(RULES) != RULE_NAMES:  # pragma: no cover - guards the API.md contract at import
    raise RuntimeError("consultation rules must match RULE_NAMES, in order")


def evaluate(answer, item: Consultation) -> Evaluation:
    """Run every rule on the answer; accepted only when all pass; score = share of rules passed."""
    text = clean_answer(answer)
    folded = fold(text)
    checks = []
    for name, rule in RULES.items():
        try:
            checks.append(rule.check(text, folded, item))
        except Exception:  # a rule bug must not lose the worker's answer; it fails safe, visibly
            checks.append(Result(name, False, "系统暂时无法完成这项检查，请联系培训老师人工审核", None))
    passed = sum(1 for c in checks if c.passed)
    score = int(100 * passed / len(checks) + 0.5)
    verdict = "accepted" if passed == len(checks) else "returned"
    return Evaluation(verdict, score, tuple(checks))
