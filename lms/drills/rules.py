"""Automatic checks of a drill report: a registry of small named rules (pure).

Each rule looks at the report (the nine form fields as typed) and the drill's
answer key and returns a ``Result`` whose message tells the worker, in plain
Chinese, exactly what to fix and which field to look at. ``evaluate`` runs
every rule: any failure returns the report (退回); the score is the weighted
share of rules passed.

Judgement calls, kept here so trainers can read them:

* Specificity rules (time, place, parties) check their field when the drill
  requires it or the worker filled it in; an optional empty field passes.
* ``description_quality``: at least ``MIN_DESCRIPTION_CHARS`` Chinese
  characters, and not a copy of the scenario: at most ``COPY_RATIO`` of the
  description's 8-character runs may appear in the scenario, and no run
  copied verbatim may reach ``COPY_RUN_CHARS`` characters (punctuation and
  spaces ignored, so re-punctuating a copy does not hide it).
* Place: a part of the whole building right after it (``7栋楼顶平台``,
  ``3号楼下``) needs no unit or room; a roof without its building does.
* ``key_facts`` reads every free-text field (time, place, parties,
  description, demand, measures): "尤某（在册精神障碍患者）" under 当事人 states
  the fact as well as the description would.
* ``no_fabrication`` reads figures next to the drill's ``near`` words in every
  free-text field except the time. ``12个工人`` counts people; ``其他4名``
  counts a part of them and only contradicts a total it exceeds. "70多" means
  70 up to the next round step; 约/左右 figures agree when rounding the
  scenario's figure to the precision written gives them (82 → 约80, not
  75 → 约90). A trap phrase that is negated (无/没有/未/严禁…), marked as
  unverified, feared or hypothetical (待核实/是否/可能/风险/怕…), asked for or
  planned (等…来/要求/准备…) in its clause, or part of a longer word meaning
  something else (``开着火`` is a lit stove, not ``着火``) is not a fabrication.
* ``event_type``: the chosen type must be one the drill accepts; where the
  county's categories overlap the drill lists several (a quarrel over a dance
  team's noise is both 噪声扰民 and 矛盾纠纷).
* ``demand_specific`` / ``measures_specific``: what is left once the stock
  words (要求、尽快、相关部门、处理、已上报、等待…) and people's names are taken
  out must say something (``MIN_SPECIFIC_CHARS``, one character: "要求赶快修"
  names what to do): "要求处理", "请领导处理", "已处理", "已上报，等待处理"
  are returned, "要求晚上10点后停工" and "已拍照" pass.
  A demand that says the party asked for nothing ("未提出诉求") passes.
* ``notified`` (drills with ``must_notify``, the urgent ones): the measures or
  the description must say each one was called; a call denied right before
  it (没打110, 未报告综治中心), still to come (准备打110) or denied right after
  (综治中心还没报) does not count.
* ``urgency`` follows the county rule (第九条: when unsure, the higher level):
  one level above the key passes with a note, two above or any below fails.
* Odd input never raises: non-dict reports count as empty, values are turned
  into text, each field is cut at ``MAX_FIELD_CHARS``.
"""
from __future__ import annotations

import dataclasses
import itertools
import re
import unicodedata
from typing import ClassVar, Mapping

from lms.drills.content import FIELD_LABELS, FORM_FIELDS, RULE_NAMES, Drill, NumberFact
from lms.drills.timeparse import cn_to_int, is_specific, parse_time, unreadable_reason

MAX_FIELD_CHARS = 10_000
MIN_DESCRIPTION_CHARS = 30
MIN_SPECIFIC_CHARS = 1
COPY_GRAM = 8
COPY_RATIO = 0.5
COPY_RUN_CHARS = 40
URGENCY_ORDER = ("一般", "较急", "紧急")
TIME_EXAMPLE = "例如“6月3日晚上10点左右”"


@dataclasses.dataclass(frozen=True)
class Result:
    """Outcome of one rule: ``field`` is the form field to highlight (None: the whole report)."""

    rule: str
    passed: bool
    message: str
    field: str | None = None

    def to_dict(self) -> dict:
        """JSON form used by the API's ``checks``."""
        return {"rule": self.rule, "passed": self.passed, "message": self.message, "field": self.field}


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Verdict (accepted | returned), score 0–100 and every check in rule order."""

    verdict: str
    score: int
    checks: tuple[Result, ...]

    @property
    def failed(self) -> tuple[Result, ...]:
        """The checks that sent the report back."""
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict:
        """JSON form: ``{verdict, score, checks:[{rule, passed, message, field}]}``."""
        return {"verdict": self.verdict, "score": self.score, "checks": [c.to_dict() for c in self.checks]}


class Rule:
    """Base of every rule: a name from RULE_NAMES and a pure ``check``."""

    name: ClassVar[str]
    field: ClassVar[str | None] = None

    def check(self, report: Mapping[str, str], drill: Drill) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def ok(self, message: str, field: str | None = None) -> Result:
        return Result(self.name, True, message, field or self.field)

    def fail(self, message: str, field: str | None = None) -> Result:
        return Result(self.name, False, message, field or self.field)


RULES: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the registry under its name."""
    if cls.name not in RULE_NAMES:
        raise ValueError(f"unknown rule name {cls.name!r}")
    RULES[cls.name] = cls()
    return cls


# ---------------------------------------------------------------- text helpers

def _as_text(value, depth: int = 0) -> str:
    if value is None or depth > 3:  # deeper nesting is not something a person typed
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, (bytes, bytearray)):
        text = bytes(value[:MAX_FIELD_CHARS * 4]).decode("utf-8", "replace")
    elif isinstance(value, (list, tuple, Mapping)):
        items = itertools.islice(value.values() if isinstance(value, Mapping) else value, 100)
        text = "、".join(t for t in (_as_text(v, depth + 1) for v in items) if t)
    else:
        try:
            text = str(value)
        except Exception:  # a value whose __str__ breaks is treated as empty
            text = ""
    return text[:MAX_FIELD_CHARS].strip()


def normalize_report(report) -> dict[str, str]:
    """The nine form fields as stripped text; anything odd becomes text or empty."""
    if not isinstance(report, Mapping):
        return dict.fromkeys(FORM_FIELDS, "")
    out = {}
    for name in FORM_FIELDS:
        try:
            value = report.get(name)
        except Exception:  # a Mapping with a broken get() counts as empty
            value = None
        out[name] = _as_text(value)
    return out


def _fold(text: str) -> str:
    """Form for matching: NFKC (full-width to half-width), lower case, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


_CJK = re.compile(r"[\u4e00-\u9fff]")
_CLAUSE_END = re.compile(r"[。；;！!？?\n]")


_PHRASE_END = re.compile(r"[。；;！!？?\n,，、]")


def _clause_window(text: str, start: int, end: int, width: int = 12, ends: re.Pattern = _CLAUSE_END) -> str:
    """Text around [start, end) within the same sentence (or ``ends``), ``width`` chars each side."""
    left = text[max(0, start - width):start]
    cut = [m.end() for m in ends.finditer(left)]
    if cut:
        left = left[cut[-1]:]
    right = text[end:end + width]
    stop = ends.search(right)
    if stop:
        right = right[:stop.start()]
    return left + text[start:end] + right


# ---------------------------------------------------------------------- rules

@register
class RequiredFields(Rule):
    """Every field the drill requires is filled in."""

    name = "required_fields"

    def check(self, report, drill):
        missing = [f for f in drill.required if not report.get(f)]
        if not missing:
            return self.ok("必填要素齐全")
        labels = "、".join(FIELD_LABELS[f] for f in missing)
        return self.fail(f"缺少必填要素：{labels}。请补全后再提交", missing[0])


@register
class TimeSpecific(Rule):
    """The time reads as a day and an hour, not in the future, matching the scenario's time."""

    name = "time_specific"
    field = "occurred_at"

    def check(self, report, drill):
        text = report.get("occurred_at", "")
        if not text:
            if "occurred_at" in drill.required:
                return self.fail(f"请填写事件发生时间，写明几月几日几点，{TIME_EXAMPLE}")
            return self.ok("本题不要求填写时间")
        parsed = parse_time(text, drill.reference_time)
        if parsed is None:
            reason = unreadable_reason(text)
            if reason:
                return self.fail(f"时间填写有误：{reason}。请写明几月几日几点，{TIME_EXAMPLE}")
            return self.fail(f"看不懂填写的时间“{text[:30]}”：请写明几月几日几点，{TIME_EXAMPLE}")
        if not parsed.has_date and parsed.precision in ("minute", "hour"):
            return self.fail(f"时间缺少日期：请写明是哪一天（如“6月3日”或“昨天”），{TIME_EXAMPLE}")
        if not is_specific(parsed):
            if parsed.precision == "part_of_day":
                return self.fail(f"时间不具体：“{text[:30]}”只说了时段，请写明几点，{TIME_EXAMPLE}")
            if parsed.precision == "day":
                return self.fail(f"时间不具体：请在日期后写明几点，{TIME_EXAMPLE}")
            return self.fail(f"时间不具体：不要写“最近”“前几天”这类说法，请写明几月几日几点，{TIME_EXAMPLE}")
        reference = drill.reference_time.astimezone(parsed.at.tzinfo)
        if parsed.start > reference:
            return self.fail(f"发生时间（{parsed.describe()}）晚于上报时间，请核对日期和上午/下午")
        for anchor in drill.numbers:
            if anchor.field == "occurred_at" and not _time_matches(parsed.at, anchor):
                return self.fail(f"时间与情景不符：情景中事件发生在{_fmt(anchor.value)}{anchor.unit}前后，"
                                 f"你写的是{parsed.describe()}，请核对")
        return self.ok(f"时间具体：{parsed.describe()}")


def _time_matches(at, anchor: NumberFact) -> bool:
    if anchor.unit in ("日", "号"):
        return at.day == int(anchor.value)
    # An hour within one hour either way, across midnight too (十点多 vs 22点).
    diff = abs(at.hour + at.minute / 60 - anchor.value % 24)
    return min(diff, 24 - diff) <= 1


_NUMERAL = r"(?:\d+|[一二两三四五六七八九十]+)"
_BUILDING = re.compile(r"(?:\d+|[一二两三四五六七八九十]+|[a-z])(?:号楼|栋|幢|座|楼)")
_UNIT = re.compile(_NUMERAL + r"单元")
_ROOM = re.compile(r"\d+(?:室|房|号房|号)(?!楼)|(?:栋|幢|楼|座|单元)\d{3,4}(?!\d)")
_DOOR = re.compile(r"门牌|(?:路|街|巷|道|弄|里)" + _NUMERAL + r"号(?!楼)")
_GROUP = re.compile(_NUMERAL + r"(?:组|村民小组)")
_HOUSE = re.compile(r"门牌|" + _NUMERAL + r"号(?!楼)")
# A part that belongs to the whole building, right after it ("7栋楼顶平台"): no unit or room to add.
_WHOLE_BUILDING = re.compile(r"的?(?:楼顶|屋顶|顶楼|天台|屋面|楼下|楼前|楼后|外墙)|(?<=楼)(?:顶|下|前|后)")


@register
class PlaceSpecific(Rule):
    """The place goes down to building/unit/door (town) or village group and house number."""

    name = "place_specific"
    field = "location"

    def check(self, report, drill):
        text = _fold(report.get("location", ""))
        if not text:
            if "location" in drill.required:
                return self.fail("请填写事件发生地点，" + self._example(drill))
            return self.ok("本题不要求填写地点")
        if drill.place_detail == "group":
            group = _GROUP.search(text)
            if group and _HOUSE.search(text[:group.start()] + " " + text[group.end():]):
                return self.ok("地点具体到村民小组和门牌号")
            if group:
                return self.fail("地点不具体：已写到村民小组，还缺门牌号（或写明“某组某号门前”），" + self._example(drill))
            return self.fail("地点不具体：农村地点要写到村民小组和门牌号，" + self._example(drill))
        building, unit = _BUILDING.search(text), _UNIT.search(text)
        if (building and unit) or _ROOM.search(text) or _DOOR.search(text):
            return self.ok("地点具体到楼栋、单元或门牌号")
        if building and _WHOLE_BUILDING.match(text, building.end()):
            return self.ok("地点具体到楼栋的楼顶、楼下等公共部位")
        if building:
            return self.fail("地点不具体：已写到楼栋，还缺单元或门牌号，" + self._example(drill))
        return self.fail("地点不具体：城镇地点要写到小区或街路巷、楼栋、单元、门牌号，" + self._example(drill))

    @staticmethod
    def _example(drill) -> str:
        if drill.place_detail == "group":
            return "例如“桃源村三组12号门前”"
        return "例如“和平社区幸福里5栋2单元501室”或“人民路128号门前”"


# Common surnames, enough to recognise a written full name such as 刘建国.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏"
    "席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_ROLES = (
    "业主", "租户", "租客", "房东", "住户", "居民", "村民", "户主", "施工方", "施工单位", "施工队", "建设单位",
    "开发商", "物业", "商户", "摊主", "摊贩", "店主", "老板", "经营者", "经营户", "工人", "民工", "员工", "职工",
    "负责人", "包工头", "项目经理", "企业", "公司", "厂", "老人", "患者", "病人", "监护人", "家属", "亲属", "子女",
    "儿子", "女儿", "母亲", "父亲", "邻居", "司机", "驾驶员", "学生", "家长", "反映人", "投诉人", "报警人",
    "队长", "组长", "店员", "保安", "领队", "大爷", "大妈", "阿姨", "师傅",
)
_SOMEBODY = re.compile(r"[\u4e00-\u9fff]某")
_NICK = re.compile(r"[老小阿]([\u4e00-\u9fff])")
_TOKEN_SPLIT = re.compile(r"[\s,，、;；:：。.!！?？()（）\[\]【】“”\"'/]+|与|和|及|跟|同")


@register
class PartiesNamed(Rule):
    """The parties are named (张某, 刘建国, 老王) or described by role (业主, 施工单位)."""

    name = "parties_named"
    field = "parties"

    def check(self, report, drill):
        text = _fold(report.get("parties", ""))
        if not text:
            if "parties" in drill.required:
                return self.fail("请填写当事人：写明姓名（可写“张某”）或身份（如“3栋2单元业主”），涉及多方的逐一列明")
            return self.ok("本题不要求填写当事人")
        if _SOMEBODY.search(text) or any(role in text for role in _ROLES) or self._has_name(text):
            return self.ok("当事人明确")
        return self.fail("当事人不明确：请写明当事人是谁，可写姓名（如“张某”）或身份（如“3栋2单元业主”“施工单位负责人”），"
                         "不要只写“有人”“群众”“相关人员”")

    @staticmethod
    def _has_name(text: str) -> bool:
        if any(m.group(1) in _SURNAMES for m in _NICK.finditer(text)):
            return True
        for token in _TOKEN_SPLIT.split(text):
            if 2 <= len(token) <= 3 and token[0] in _SURNAMES and all(_CJK.match(c) for c in token):
                return True
        return False


#: Free-text fields a reviewer reads for the facts: "尤某（在册精神障碍患者）" in 当事人 states a fact too.
_FACT_FIELDS = ("occurred_at", "location", "parties", "description", "demand", "measures")


def missing_facts(report: Mapping[str, str], drill: Drill) -> list:
    """The drill's facts that no synonym of states in the report's free-text fields (normalised report)."""
    # Fields are folded one by one and joined by a newline, so no synonym matches across two fields.
    text = "\n".join(_fold(report.get(f, "")) for f in _FACT_FIELDS)
    return [f for f in drill.facts if not any(_fold(word) in text for word in f.any if _fold(word))]


@register
class KeyFacts(Rule):
    """Each key fact of the scenario appears (any synonym) in one of the free-text fields."""

    name = "key_facts"
    field = "description"

    def check(self, report, drill):
        missing = [f.name for f in missing_facts(report, drill)]
        if not missing:
            return self.ok("关键事实都写到了")
        names = "、".join(f"“{name}”" for name in missing)
        return self.fail(f"事件经过漏了关键事实：{names}。请在事件经过中写清楚这些情况")


_NUMBER = re.compile(r"(?P<num>\d+(?:\.\d+)?[万千百]?|[零〇一二两三四五六七八九十百千万]+)")
_UNIT_ALIASES = ({"人", "名", "位", "个人"}, {"天", "日"}, {"元", "块"}, {"小时", "个小时", "个钟头"}, {"点", "时"},
                 {"户", "家"}, {"辆", "台"})
_APPROX_BEFORE = ("约", "大约", "大概", "近", "将近", "估计", "差不多")
_APPROX_AFTER = ("多", "余", "左右", "来", "上下")
_NEGATION = re.compile(r"无|没有|没|未|不|并无|暂无|尚无|否认|排除|禁止|严禁|勿|防止|避免|以免")
# Unverified or hypothetical statements ("是否受伤待核实", "有伤人风险") assert nothing.
_UNVERIFIED = re.compile(r"待核实|待查|未核实|不详|是否|有无|尚不清楚|不清楚|不确定|可能|风险|担心|怕|恐|以防|万一|一旦|隐患")
# Something asked for or planned, not done: "等派出所来破门", "要求尽快起诉", "准备破门".
_INTENT = re.compile(r"等[^,，。；;]{0,6}来|等待|等着|请求?|要求|需要|准备|打算|建议|希望|申请")
# Longer words that contain a trap word but mean something else: a stove "开着火" is lit, nothing burns.
_FALSE_FRIENDS = {"着火": ("开着火", "点着火", "打着火")}
_FABRICATION_FIELDS = ("location", "parties", "description", "demand", "measures")


def _number_value(text: str) -> float | None:
    multiplier = {"万": 10_000, "千": 1_000, "百": 100}
    if text[0].isdigit():
        factor = multiplier.get(text[-1], 1)
        try:
            return float(text.rstrip("万千百")) * factor
        except ValueError:
            return None
    value = cn_to_int(text)
    return None if value is None else float(value)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclasses.dataclass(frozen=True)
class _Figure:
    """A figure stated next to a near word: its value and how it was hedged."""

    value: float
    snippet: str
    approximate: bool = False  # 约/大概/左右…: about that much
    at_least: bool = False  # 70多/20余: that much and somewhat more
    partial: bool = False  # 其他4名: a part of the total, not the total


_PERSON_UNITS = {"人", "名", "位", "个人"}
# "12个工人", "3个员工": a classifier, then a noun for people.
_PERSON_NOUN = r"个[\u4e00-\u9fff]{0,2}(?:人|民|员|工)"
_PARTIAL_BEFORE = ("其他", "其余", "另外", "另有", "另")


def _figures(text: str, entry: NumberFact):
    """Yield each _Figure in entry's unit next to one of its near words."""
    units = next((aliases for aliases in _UNIT_ALIASES if entry.unit in aliases), {entry.unit})
    unit_re = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    if units & _PERSON_UNITS:
        unit_re += "|" + _PERSON_NOUN
    pattern = re.compile(_NUMBER.pattern + r"(?P<more>多|余|来)?(?:个|名|位)?(?P<unit>" + unit_re + ")")
    near = [_fold(w) for w in entry.near if _fold(w)]
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 3):match.start()]
        if before.endswith("第") or (entry.unit in ("日", "号") and before.endswith("月")):
            continue  # ordinals and dates are not counts
        value = _number_value(match.group("num"))
        if value is None:
            continue
        # A figure belongs to the words of its own phrase: "每人2万元，一共12万元" holds two figures.
        window = _clause_window(text, match.start(), match.end(), ends=_PHRASE_END)
        if not any(word in window for word in near):
            continue
        after = text[match.end():match.end() + 2]
        more = match.group("more")
        approximate = more == "来" or any(before.endswith(w) for w in _APPROX_BEFORE) \
            or any(after.startswith(w) for w in _APPROX_AFTER if w not in ("多", "余"))
        at_least = more in ("多", "余") or after.startswith(("多", "余"))
        partial = any(before.endswith(w) for w in _PARTIAL_BEFORE)
        yield _Figure(value, match.group(0), approximate, at_least, partial)


def _rounding_unit(value: float) -> float:
    """The place of a figure's last non-zero digit: 80 -> 10, 12 -> 1, 300 -> 100, 1.5 -> 1."""
    if not float(value).is_integer() or value == 0:
        return 1.0
    unit, number = 1, int(abs(value))
    while number % 10 == 0:
        number //= 10
        unit *= 10
    return float(unit)


def _figure_agrees(figure: _Figure, entry: NumberFact) -> bool:
    """Whether a stated figure is consistent with the scenario's.

    Exact figures must be equal. "70多岁" means 70 up to the next round step, so
    it agrees with 72 or 79. "约80岁" agrees when rounding the scenario's figure
    to the precision the worker wrote gives that figure (82 -> 约80, not 75 ->
    约90), never beyond a fifth of it, and a difference of one always passes.
    "其他4名" counts a part of the people, so any smaller figure agrees.
    """
    expected, value = entry.value, figure.value
    if entry.unit in ("点", "时"):
        return int(value) % 12 == int(expected) % 12
    if abs(value - expected) < 1e-9:
        return True
    if figure.partial:
        return value < expected
    step = _rounding_unit(value)
    if figure.at_least and value <= expected < value + step:
        return True
    if figure.approximate or figure.at_least:
        return abs(value - expected) <= max(1.0, min(step / 2, 0.2 * abs(expected)))
    return False


_COMMA_OR_CLAUSE_END = re.compile(r"[。；;！!？?\n,，]")


def _phrase_before(text: str, start: int, width: int) -> str:
    """Up to width chars before start, back to the last comma or sentence end ("没有打架、动手" keeps its 没有)."""
    before = text[max(0, start - width):start]
    cut = [m.end() for m in _COMMA_OR_CLAUSE_END.finditer(before)]
    return before[max(cut):] if cut else before


def _inside_false_friend(text: str, start: int, word: str) -> bool:
    for longer in _FALSE_FRIENDS.get(word, ()):
        offset = longer.find(word)
        if offset >= 0 and text.startswith(longer, start - offset):
            return True
    return False


def _trap_hits(text: str, word: str) -> bool:
    """True when word occurs in text as a plain statement (not negated, unverified, asked for or a false friend)."""
    start = text.find(word)
    while start != -1:
        clause = _clause_window(text, start, start + len(word), width=20)
        if not (_NEGATION.search(_phrase_before(text, start, 6)) or _UNVERIFIED.search(clause)
                or _INTENT.search(_phrase_before(text, start, 12)) or _inside_false_friend(text, start, word)):
            return True
        start = text.find(word, start + 1)
    return False


@register
class NoFabrication(Rule):
    """No figure that contradicts the scenario, no trap fact the scenario does not contain."""

    name = "no_fabrication"
    field = "description"

    def check(self, report, drill):
        problems = []
        field = None
        for name in _FABRICATION_FIELDS:
            text = _fold(report.get(name, ""))
            if not text:
                continue
            for entry in drill.numbers:
                for figure in _figures(text, entry):
                    if not _figure_agrees(figure, entry):
                        problems.append(f"“{entry.name}”情景中是{_fmt(entry.value)}{entry.unit}，"
                                        f"{FIELD_LABELS[name]}里写成了“{figure.snippet}”")
                        field = field or name
                        break
            for trap in drill.traps:
                word = next((w for w in trap.any if _fold(w) and _trap_hits(text, _fold(w))), None)
                if word:
                    problems.append(f"写了情景中没有的情况“{trap.name}”（“{word}”）")
                    field = field or name
        if not problems:
            return self.ok("没有与情景不符的数字或情节")
        unique = list(dict.fromkeys(problems))
        return self.fail("报告内容与情景不符：" + "；".join(unique)
                         + "。只写核实过的情况，没核实的注明“待核实”，不要编造或改动数字", field)


@register
class Department(Rule):
    """The suggested department is one the drill accepts."""

    name = "department"
    field = "department"

    def check(self, report, drill):
        chosen = report.get("department", "")
        hint = f"（可参考：{drill.source}）" if drill.source else ""
        if not chosen:
            return self.fail("请选择建议的责任部门，按事件类型对照本县部门清单选择" + hint)
        accepted = {_fold(d) for d in drill.answer.departments}
        if _fold(chosen) in accepted:
            return self.ok(f"责任部门正确：{chosen}")
        return self.fail(f"责任部门选择有误：“{chosen[:30]}”不负责这类事件，请按事件性质和部门职责重新选择" + hint)


@register
class Urgency(Rule):
    """The urgency equals the drill's answer."""

    name = "urgency"
    field = "urgency"

    def check(self, report, drill):
        chosen = report.get("urgency", "")
        expected = drill.answer.urgency
        if not chosen:
            return self.fail("请选择紧急程度（紧急、较急、一般）")
        if _fold(chosen) == _fold(expected):
            return self.ok(f"紧急程度正确：{expected}")
        if chosen in URGENCY_ORDER and expected in URGENCY_ORDER \
                and URGENCY_ORDER.index(chosen) == URGENCY_ORDER.index(expected) + 1:
            return self.ok(f"紧急程度比参考答案高一级（你选“{chosen}”，参考“{expected}”）：县规范第九条规定拿不准时按较高一级上报，"
                           "可以接受；下次请对照第九条再判断一次")
        if chosen in URGENCY_ORDER and expected in URGENCY_ORDER:
            direction = "偏低" if URGENCY_ORDER.index(chosen) < URGENCY_ORDER.index(expected) else "偏高两级"
            return self.fail(f"紧急程度{direction}：你选的是“{chosen}”。请按事件可能造成的危害和需要多快处置重新判断"
                             "（可能造成人员伤亡、需立即处置的是“紧急”，不当天处置可能扩大的是“较急”；"
                             "拿不准时可以报高一级，但不能报低）")
        return self.fail(f"紧急程度“{chosen[:20]}”不是可选的等级，请在紧急、较急、一般中选择")


def _content_chars(text: str) -> str:
    """Only Chinese characters, letters and digits: punctuation and spacing do not count."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def copy_overlap(description: str, scenario: str) -> tuple[float, int]:
    """(share of the description's 8-char runs found in the scenario, longest copied run in chars)."""
    desc, scen = _content_chars(description), _content_chars(scenario)
    n = COPY_GRAM
    if len(desc) < n or len(scen) < n:
        return 0.0, 0
    scenario_grams = {scen[i:i + n] for i in range(len(scen) - n + 1)}
    hits = [desc[i:i + n] in scenario_grams for i in range(len(desc) - n + 1)]
    longest = run = 0
    for hit in hits:
        run = run + 1 if hit else 0
        longest = max(longest, run)
    return sum(hits) / len(hits), (longest + n - 1) if longest else 0


@register
class DescriptionQuality(Rule):
    """The description is long enough and in the worker's own words."""

    name = "description_quality"
    field = "description"

    def check(self, report, drill):
        text = report.get("description", "")
        chars = len(_CJK.findall(text))
        if chars < MIN_DESCRIPTION_CHARS:
            return self.fail(f"事件经过太简单（{chars}个字）：请至少写{MIN_DESCRIPTION_CHARS}个字，"
                             "写明何人、何时、何地、发生了什么、造成了什么后果")
        ratio, run = copy_overlap(text, drill.scenario)
        if ratio >= COPY_RATIO or run >= COPY_RUN_CHARS:
            return self.fail("请用自己的话概括，不要直接复制情景材料：写清你核实到的人、事、时间、地点和后果即可")
        return self.ok("事件经过清楚，是用自己的话写的")


@register
class EventType(Rule):
    """The chosen event type is one the drill accepts."""

    name = "event_type"
    field = "event_type"

    def check(self, report, drill):
        chosen = report.get("event_type", "")
        if not chosen:
            if "event_type" in drill.required:
                return self.fail("请选择事件类型：按事件本身的性质，在表单列出的类别中选一个")
            return self.ok("本题不要求选择事件类型")
        accepted = {_fold(t) for t in drill.answer.accepted_types}
        if _fold(chosen) in accepted:
            return self.ok(f"事件类型正确：{chosen}")
        if _fold(chosen) == _fold("其他"):
            return self.fail("事件类型不要选“其他”：这类事件有对应的类别，请按事件本身的性质重新选择，"
                             "例如楼道堆物挡住消火栓选“消防隐患”，摆摊占用人行道选“占道经营”")
        return self.fail(f"事件类型选择有误：“{chosen[:20]}”不是这件事的性质。请按事件本身是什么来选，不要按它引起的后果选，"
                         "例如摆摊占道弄脏了路面，选“占道经营”而不是“环境卫生”；施工噪声扰民选“噪声扰民”而不是“矛盾纠纷”")


# Stock words that say nothing about this event: what is left once they (and names) are removed must say something.
_SUBJECTS = ("群众", "居民", "村民", "住户", "业主", "当事人", "反映人", "投诉人", "报警人", "大家", "他们", "我们", "本人",
             "双方", "家属")
_STOCK_COMMON = (
    "相关部门", "有关部门", "相关单位", "有关单位", "职能部门", "主管部门", "上级部门", "责任部门", "上级领导", "上级", "领导",
    "政府", "部门", "组织", "平台", "系统", "app",
    "尽快", "尽早", "马上", "立即", "立刻", "及时", "早日", "抓紧", "赶紧", "赶快", "妥善", "依法", "认真", "严肃",
    "予以", "进行", "给予", "帮忙", "帮助", "协助", "一下", "早点", "快点", "按程序", "按规定", "进一步", "初步",
    "处理意见", "处理", "处置", "解决", "落实", "协调", "调查", "核实", "查处", "跟进", "关注", "重视", "办理", "管一管",
    "管管", "问题", "此事", "这件事", "这事", "事情", "情况", "事件", "结果", "相关", "有关",
    "的", "了", "给", "把", "能够", "能", "可以", "将", "对", "和", "并", "及", "等", "中", "向", "此", "该",
    "吧", "啊", "呢", "嘛", "哦", "呀", "一",
)
_STOCK_DEMAND = _SUBJECTS + ("要求", "请求", "恳请", "希望", "请", "需要", "想", "盼", "诉求", "无", "暂无", "没有") + _STOCK_COMMON
_STOCK_MEASURES = ("已经", "已", "正在", "目前", "现", "会", "继续", "等待", "待", "后续", "上报", "报告", "汇报", "反映",
                   "登记", "记录", "了解", "情况") + _STOCK_COMMON
_NAME_MARK = re.compile(r"[\u4e00-\u9fff]某某?|某[\u4e00-\u9fff]")
_NO_DEMAND = re.compile(r"(?:未|没有?)(?:提出?|提)(?:具体|任何|什么)?(?:诉求|要求)")


def _residue(text: str, stock: tuple[str, ...]) -> str:
    """The content characters left once the stock words and names are taken out."""
    rest = _NAME_MARK.sub("", _content_chars(text))
    for word in sorted(stock, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest


@register
class DemandSpecific(Rule):
    """The demand says what the people want done, not just 要求处理."""

    name = "demand_specific"
    field = "demand"
    EXAMPLE = "例如“住户要求工地晚上10点以后停止施工”“钱某要求楼上业主配合查漏并赔偿吊顶损失”"

    def check(self, report, drill):
        text = report.get("demand", "")
        if not text:
            if "demand" in drill.required:
                return self.fail("请填写群众诉求：写清当事人希望怎么解决，" + self.EXAMPLE)
            return self.ok("本题不要求填写诉求")
        if _NO_DEMAND.search(_fold(text)):
            return self.ok("写明了当事人没有提出诉求")
        if len(_residue(text, _STOCK_DEMAND)) >= MIN_SPECIFIC_CHARS:
            return self.ok("诉求具体")
        return self.fail(f"群众诉求太笼统：“{text[:20]}”没有说出群众希望怎么解决。请用群众自己的话写清要什么，"
                         + self.EXAMPLE + "；当事人确实没有提出诉求的，写“当事人未提出诉求”")


@register
class MeasuresSpecific(Rule):
    """The measures say what the worker did, not just 已处理 / 已上报."""

    name = "measures_specific"
    field = "measures"
    EXAMPLE = "例如“已劝双方冷静，施工已暂停，已告知物业，已拍照留存”"

    def check(self, report, drill):
        text = report.get("measures", "")
        if not text:
            if "measures" in drill.required:
                return self.fail("请填写已采取的措施：写清你到现场做了什么、打了哪些电话，" + self.EXAMPLE)
            return self.ok("本题不要求填写措施")
        if len(_residue(text, _STOCK_MEASURES)) >= MIN_SPECIFIC_CHARS:
            return self.ok("措施具体")
        return self.fail(f"已采取措施太笼统：“{text[:20]}”看不出你做了什么。请写清你在现场做了什么、通知了谁、现在是什么状态，"
                         + self.EXAMPLE)


# A call denied right before it ("没打110", "未报告综治中心") or right after ("综治中心还没报"), or still to come.
_NOT_CALLED_BEFORE = re.compile(r"(?:没有?|未|尚未|还没有?|还未|忘了|忘记|不用|无需|不必)(?:有|再|及时)?"
                                r"(?:拨打|打电话给|打电话|打|电话报告|电话告知|报告|报|通知|联系|告知|给)?(?:了)?$")
_NOT_CALLED_AFTER = re.compile(r"^(?:的?电话)?(?:还|也|都|暂时?)?(?:没有?|未|没来得及|不通)")
_CALL_PLANNED = re.compile(r"(?:准备|打算|建议|拟|将要?|要|需要|计划|等会儿?|稍后|待会儿?|等下|回头)(?:再|去)?"
                           r"(?:拨打|打电话给|打电话|打|电话报告|报告|报|通知|联系|告知|给)?$")
_NOTIFY_FIELDS = ("measures", "description")


def _called(text: str, word: str) -> bool:
    start = text.find(word)
    while start != -1:
        before = _phrase_before(text, start, 12)
        after = text[start + len(word):start + len(word) + 6]
        if not (_NOT_CALLED_BEFORE.search(before) or _CALL_PLANNED.search(before) or _NOT_CALLED_AFTER.match(after)):
            return True
        start = text.find(word, start + 1)
    return False


def _notify_example(entries) -> str:
    parts = []
    for entry in entries:
        word = entry.any[0]
        parts.append(f"已拨打{word}" if word.isdigit() else f"已电话报告{word}")
    return "例如“" + "，".join(parts) + "”"


@register
class Notified(Rule):
    """Urgent events: the report says each required call was made (110/119/120, the 综治中心)."""

    name = "notified"
    field = "measures"

    def check(self, report, drill):
        if not drill.must_notify:
            return self.ok("本题不要求写明报警或报告")
        text = "\n".join(_fold(report.get(f, "")) for f in _NOTIFY_FIELDS)
        missing = [entry for entry in drill.must_notify
                   if not any(_fold(w) and _called(text, _fold(w)) for w in entry.any)]
        if not missing:
            return self.ok("写明了已报警并报告了综治中心")
        names = "、".join(f"“{entry.name}”" for entry in missing)
        return self.fail(f"紧急事件要先打电话：已采取措施里没有写明{names}。县规范第十八条：紧急事件应当立即拨打110、119、120"
                         f"等电话报警求助，同时电话报告乡镇（街道）综治中心。请写明打了哪个电话、报告了谁，"
                         + _notify_example(missing))


if tuple(RULES) != RULE_NAMES:  # pragma: no cover - guards the API.md contract at import
    raise RuntimeError("drill rules must match RULE_NAMES, in order")


def evaluate(report, drill: Drill) -> Evaluation:
    """Run every rule on report; accepted only when all pass; score = weighted share passed."""
    fields = normalize_report(report)
    checks = []
    for name, rule in RULES.items():
        try:
            checks.append(rule.check(fields, drill))
        except Exception:  # a rule bug must not lose the worker's report; it fails safe, visibly
            checks.append(Result(name, False, "系统暂时无法完成这项检查，请联系培训老师人工审核", None))
    weights = {name: float(drill.weights.get(name, 1.0)) for name in RULES}
    total = sum(weights.values())
    if total <= 0:  # parse_drill forbids this; a hand-built Drill falls back to equal weights
        weights, total = dict.fromkeys(RULES, 1.0), float(len(RULES))
    passed = sum(weights[c.rule] for c in checks if c.passed)
    score = int(100 * passed / total + 0.5)
    verdict = "accepted" if all(c.passed for c in checks) else "returned"
    return Evaluation(verdict, max(0, min(100, score)), tuple(checks))
