"""Parse and validate report-drill files and the county taxonomy (pure, no app).

``question_bank/taxonomy.yaml`` lists what the drill form offers;
``question_bank/drills/<code>.yaml`` holds one scenario with its answer key
(keys in API.md). Every problem is reported as ``path:line: message`` in
Chinese through ``ContentErrors``; a bad file is rejected whole.

Beyond API.md, a drill may carry ``source`` (the law or county rule the
routing rests on), ``answer.event_type`` may be a list of accepted types
(categories overlap), ``must_notify`` lists, for urgent events, whom the
measures must say was called (each ``{name, any}``), and a ``numbers`` entry may carry ``field: occurred_at``,
marking it as the scenario's event time (unit 点/时 for the hour, 日/号 for the
day of the month) that the ``time_specific`` rule compares with the report.
"""
from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from types import MappingProxyType
from typing import Mapping

from lms.contentfile import ContentError, ContentErrors, Located, load_yaml

#: The drill form's fields, in form order (API.md: POST /drills/<code>/reports).
FORM_FIELDS = (
    "event_type", "occurred_at", "location", "parties", "description",
    "demand", "measures", "department", "urgency",
)
FIELD_LABELS = {
    "event_type": "事件类型", "occurred_at": "发生时间", "location": "发生地点",
    "parties": "当事人", "description": "事件经过", "demand": "群众诉求",
    "measures": "已采取措施", "department": "责任部门", "urgency": "紧急程度",
}
#: Rule names (API.md), in the order they are evaluated and shown.
RULE_NAMES = (
    "required_fields", "time_specific", "place_specific", "parties_named", "key_facts",
    "no_fabrication", "department", "urgency", "description_quality",
    "event_type", "demand_specific", "measures_specific", "notified",
)
#: What the worker and the trainer read for each rule (never the rule name).
RULE_LABELS = {
    "required_fields": "必填要素", "time_specific": "时间具体", "place_specific": "地点具体", "parties_named": "当事人明确",
    "key_facts": "关键事实", "no_fabrication": "没有虚构", "department": "责任部门", "urgency": "紧急程度",
    "description_quality": "经过描述", "event_type": "事件类型", "demand_specific": "诉求具体",
    "measures_specific": "措施具体", "notified": "报警和报告",
}
PLACE_DETAILS = ("building", "group")
TIME_ANCHOR_UNITS = ("点", "时", "日", "号")

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DRILL_KEYS = (
    "code", "title", "org", "scenario", "reference_time", "facts", "numbers", "traps",
    "place_detail", "answer", "required", "weights", "model_report", "source", "must_notify",
)
_MANDATORY = ("code", "title", "scenario", "reference_time", "facts", "place_detail", "answer", "required", "model_report")
_TAXONOMY_KEYS = ("event_types", "departments", "urgencies")
_TAXONOMY_LABELS = {"event_types": "事件类型", "departments": "责任部门", "urgencies": "紧急程度"}


@dataclasses.dataclass(frozen=True)
class Taxonomy:
    """The county's lists offered by the drill form."""

    event_types: tuple[str, ...]
    departments: tuple[str, ...]
    urgencies: tuple[str, ...]  # from least to most urgent


@dataclasses.dataclass(frozen=True)
class Fact:
    """A key fact of the scenario: any synonym mentioned counts."""

    name: str
    any: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class NumberFact:
    """A figure of the scenario; a different figure next to a ``near`` word is fabrication."""

    name: str
    value: float
    unit: str
    near: tuple[str, ...]
    field: str | None = None  # "occurred_at": the event time, checked by time_specific


@dataclasses.dataclass(frozen=True)
class Answer:
    """The answer key: event type (the first of ``event_types``), accepted departments, urgency."""

    event_type: str
    departments: tuple[str, ...]
    urgency: str
    #: every accepted event type (the county's categories overlap); empty means just ``event_type``
    event_types: tuple[str, ...] = ()

    @property
    def accepted_types(self) -> tuple[str, ...]:
        return self.event_types or (self.event_type,)


@dataclasses.dataclass(frozen=True)
class Drill:
    """One report-writing drill as parsed from its file."""

    code: str
    title: str
    org: str | None
    scenario: str
    reference_time: datetime
    facts: tuple[Fact, ...]
    numbers: tuple[NumberFact, ...]
    traps: tuple[Fact, ...]
    place_detail: str
    answer: Answer
    required: tuple[str, ...]
    weights: Mapping[str, float]  # every rule name; missing ones default to 1
    model_report: Mapping[str, str]
    source: str | None = None
    #: urgent events: whom the measures must say was called (110, 120, 综治中心 …)
    must_notify: tuple[Fact, ...] = ()
    path: str = dataclasses.field(default="", compare=False)
    #: line of model_report ("") and of each of its fields, for importer errors
    model_report_lines: Mapping[str, int] = dataclasses.field(default_factory=dict, compare=False, repr=False)


class _Collector:
    """Gathers every problem of one file before raising, so a trainer fixes all at once."""

    def __init__(self, path: str, loc: Located):
        self.path, self.loc, self.errors = path, loc, []

    def add(self, message: str, *keypath) -> None:
        self.errors.append(ContentError(self.path, self.loc.line(*keypath), message))

    def text(self, value, label: str, *keypath, required: bool = True) -> str | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(f"{label}必须是非空文字", *keypath)
            return None
        return value.strip()

    def text_list(self, value, label: str, *keypath) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.add(f"{label}必须是非空列表，例如 [词语一, 词语二]", *keypath)
            return ()
        items = []
        for i, item in enumerate(value):
            text = self.text(item, f"{label}第{i + 1}项", *keypath, i)
            if text is not None:
                items.append(text)
        return tuple(items)

    def unknown_keys(self, mapping: dict, allowed, label: str, *keypath) -> None:
        for key in mapping:
            if key not in allowed:
                self.add(f"{label}中有未知的键“{key}”（可用的键：{'、'.join(allowed)}）", *keypath, key)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ContentErrors(sorted(self.errors, key=lambda e: e.line))


def parse_taxonomy(text: str, path: str) -> Taxonomy:
    """Parse question_bank/taxonomy.yaml; raise ContentErrors with lines."""
    data, loc = load_yaml(text, path)
    out = _Collector(path, loc)
    if not isinstance(data, dict):
        out.add("分类文件必须是“键: 值”形式的 YAML 映射，包含 event_types、departments、urgencies")
        out.raise_if_any()
    out.unknown_keys(data, _TAXONOMY_KEYS, "分类文件")
    lists = {}
    for key in _TAXONOMY_KEYS:
        if key not in data:
            out.add(f"缺少 {key}（{_TAXONOMY_LABELS[key]}列表）")
            lists[key] = ()
            continue
        items = out.text_list(data[key], f"{key}（{_TAXONOMY_LABELS[key]}）", key)
        seen = set()
        for i, item in enumerate(items):
            if item in seen:
                out.add(f"{key} 中“{item}”重复", key, i)
            seen.add(item)
        lists[key] = tuple(dict.fromkeys(items))
    out.raise_if_any()
    return Taxonomy(**lists)


def _reference_time(value, out: _Collector) -> datetime | None:
    hint = "reference_time 必须是带时区的 ISO 8601 时间，例如 2026-06-04T08:30:00+08:00"
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        out.add(f"{hint}（只写了日期）", "reference_time")
        return None
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            out.add(f"{hint}；“{value}”无法识别", "reference_time")
            return None
    else:
        out.add(hint, "reference_time")
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        out.add(f"{hint}（缺少时区）", "reference_time")
        return None
    return parsed


def _facts(value, key: str, label: str, out: _Collector) -> tuple[Fact, ...]:
    if value is None and key != "facts":
        return ()
    if not isinstance(value, list) or (key == "facts" and not value):
        out.add(f"{key}（{label}）必须是列表，每项写 name 和 any", key)
        return ()
    facts = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            out.add(f"{key} 第{i + 1}项必须包含 name 和 any", key, i)
            continue
        out.unknown_keys(item, ("name", "any"), f"{key} 第{i + 1}项", key, i)
        name = out.text(item.get("name"), f"{key} 第{i + 1}项的 name", key, i, "name")
        if "any" not in item:
            out.add(f"{key} 第{i + 1}项缺少 any（同义说法列表）", key, i)
            continue
        words = out.text_list(item["any"], f"{key} 第{i + 1}项的 any", key, i, "any")
        if name and words:
            facts.append(Fact(name, words))
    return tuple(facts)


def _numbers(value, out: _Collector) -> tuple[NumberFact, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        out.add("numbers（关键数字）必须是列表，每项写 name、value、unit、near", "numbers")
        return ()
    numbers = []
    for i, item in enumerate(value):
        where = ("numbers", i)
        if not isinstance(item, dict):
            out.add(f"numbers 第{i + 1}项必须包含 name、value、unit、near", *where)
            continue
        out.unknown_keys(item, ("name", "value", "unit", "near", "field"), f"numbers 第{i + 1}项", *where)
        missing = [k for k in ("name", "value", "unit", "near") if k not in item]
        if missing:
            out.add(f"numbers 第{i + 1}项缺少 {'、'.join(missing)}", *where)
            continue
        name = out.text(item["name"], f"numbers 第{i + 1}项的 name", *where, "name")
        number = item["value"]
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            out.add(f"numbers 第{i + 1}项的 value 必须是数字（阿拉伯数字，如 3）", *where, "value")
            number = None
        unit = out.text(item["unit"], f"numbers 第{i + 1}项的 unit", *where, "unit")
        near = out.text_list(item["near"], f"numbers 第{i + 1}项的 near", *where, "near")
        field = item.get("field")
        if field is not None and field != "occurred_at":
            out.add(f"numbers 第{i + 1}项的 field 只能是 occurred_at（表示事件发生时间）", *where, "field")
            field = None
        if field and unit not in TIME_ANCHOR_UNITS:
            out.add(f"numbers 第{i + 1}项表示发生时间，unit 必须是 {'、'.join(TIME_ANCHOR_UNITS)} 之一", *where, "unit")
        if name and number is not None and unit and near:
            numbers.append(NumberFact(name, float(number), unit, near, field))
    return tuple(numbers)


def _answer(value, taxonomy: Taxonomy, out: _Collector) -> Answer | None:
    if not isinstance(value, dict):
        out.add("answer 必须包含 event_type、department、urgency", "answer")
        return None
    out.unknown_keys(value, ("event_type", "department", "urgency"), "answer", "answer")
    missing = [k for k in ("event_type", "department", "urgency") if k not in value]
    if missing:
        out.add(f"answer 缺少 {'、'.join(missing)}", "answer")
        return None
    if isinstance(value["event_type"], list):
        types = out.text_list(value["event_type"], "answer.event_type", "answer", "event_type")
    else:
        single = out.text(value["event_type"], "answer.event_type", "answer", "event_type")
        types = (single,) if single else ()
    for i, item in enumerate(types):
        if item not in taxonomy.event_types:
            keypath = ("answer", "event_type", i) if isinstance(value["event_type"], list) else ("answer", "event_type")
            out.add(f"事件类型“{item}”不在分类文件的 event_types 中", *keypath)
    types = tuple(dict.fromkeys(types))
    event_type = types[0] if types else None
    departments = out.text_list(value["department"], "answer.department", "answer", "department")
    for i, dept in enumerate(departments):
        if dept not in taxonomy.departments:
            out.add(f"责任部门“{dept}”不在分类文件的 departments 中", "answer", "department", i)
    urgency = out.text(value["urgency"], "answer.urgency", "answer", "urgency")
    if urgency and urgency not in taxonomy.urgencies:
        out.add(f"紧急程度“{urgency}”不在分类文件的 urgencies 中（可选：{'、'.join(taxonomy.urgencies)}）",
                "answer", "urgency")
    if not (event_type and departments and urgency):
        return None
    return Answer(event_type, tuple(dict.fromkeys(departments)), urgency, types if len(types) > 1 else ())


def _required(value, out: _Collector) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        out.add(f"required 必须是表单字段名的列表（可用：{'、'.join(FORM_FIELDS)}）", "required")
        return ()
    fields = []
    for i, name in enumerate(value):
        if name not in FORM_FIELDS:
            out.add(f"required 中有未知的表单字段“{name}”（可用：{'、'.join(FORM_FIELDS)}）", "required", i)
        else:
            fields.append(name)
    return tuple(dict.fromkeys(fields))


def _weights(value, out: _Collector) -> Mapping[str, float]:
    weights = dict.fromkeys(RULE_NAMES, 1.0)
    if value is None:
        return MappingProxyType(weights)
    if not isinstance(value, dict):
        out.add("weights 必须是“规则名: 权重”的映射", "weights")
        return MappingProxyType(weights)
    for rule, weight in value.items():
        if rule not in RULE_NAMES:
            out.add(f"weights 中有未知的规则名“{rule}”（可用：{'、'.join(RULE_NAMES)}）", "weights", rule)
        elif isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            out.add(f"weights 中“{rule}”的权重必须是不小于 0 的数字", "weights", rule)
        else:
            weights[rule] = float(weight)
    if sum(weights.values()) <= 0:
        out.add("weights 的权重之和必须大于 0", "weights")
    return MappingProxyType(weights)


def _model_report(value, out: _Collector) -> dict[str, str]:
    if not isinstance(value, dict):
        out.add("model_report（示范报告）必须是“表单字段: 内容”的映射", "model_report")
        return {}
    report = {}
    for name, text in value.items():
        if name not in FORM_FIELDS:
            out.add(f"model_report 中有未知的表单字段“{name}”（可用：{'、'.join(FORM_FIELDS)}）", "model_report", name)
        elif isinstance(text, (dict, list)):
            out.add(f"model_report 的 {name} 必须是一段文字", "model_report", name)
        elif text is not None:
            report[name] = text if isinstance(text, str) else str(text)
    return report


def parse_drill(text: str, path: str, taxonomy: Taxonomy) -> Drill:
    """Parse one drill file against the taxonomy; raise ContentErrors with lines."""
    data, loc = load_yaml(text, path)
    out = _Collector(path, loc)
    if not isinstance(data, dict):
        out.add("演练文件必须是“键: 值”形式的 YAML 映射")
        out.raise_if_any()
    out.unknown_keys(data, _DRILL_KEYS, "演练文件")
    for key in _MANDATORY:
        if key not in data:
            out.add(f"缺少 {key}")

    code = out.text(data.get("code"), "code", "code") if "code" in data else None
    if code and not _CODE.match(code):
        out.add(f"code“{code}”只能由小写字母、数字和连字符组成，例如 night-construction-noise", "code")
    stem = re.sub(r"\.ya?ml$", "", path.replace("\\", "/").rsplit("/", 1)[-1])
    if code and stem != path.rsplit("/", 1)[-1] and stem != code:
        out.add(f"文件名应与 code 一致：code 是“{code}”，文件名应为 {code}.yaml", "code")
    title = out.text(data.get("title"), "title（标题）", "title") if "title" in data else None
    org = data.get("org")
    if org is not None:
        org = out.text(org, "org（所属组织编码）", "org")
    scenario = out.text(data.get("scenario"), "scenario（情景材料）", "scenario") if "scenario" in data else None
    reference = _reference_time(data["reference_time"], out) if "reference_time" in data else None
    facts = _facts(data.get("facts"), "facts", "关键事实", out) if "facts" in data else ()
    numbers = _numbers(data.get("numbers"), out)
    traps = _facts(data.get("traps"), "traps", "情景中没有的情节", out)
    must_notify = _facts(data.get("must_notify"), "must_notify", "必须报警或报告的对象", out)
    place = data.get("place_detail")
    if "place_detail" in data and place not in PLACE_DETAILS:
        out.add(f"place_detail 只能是 building（写到楼栋单元门牌）或 group（写到村民小组门牌），不能是“{place}”",
                "place_detail")
    answer = _answer(data["answer"], taxonomy, out) if "answer" in data else None
    required = _required(data["required"], out) if "required" in data else ()
    weights = _weights(data.get("weights"), out)
    report = _model_report(data["model_report"], out) if "model_report" in data else {}
    source = data.get("source")
    if source is not None:
        source = out.text(source, "source（依据）", "source")
    out.raise_if_any()

    lines = {"": loc.line("model_report")}
    lines.update({name: loc.line("model_report", name) for name in FORM_FIELDS})
    return Drill(
        code=code, title=title, org=org, scenario=scenario, reference_time=reference,
        facts=facts, numbers=numbers, traps=traps, place_detail=place, answer=answer,
        required=required, weights=weights, model_report=MappingProxyType(report), source=source,
        must_notify=must_notify, path=path, model_report_lines=MappingProxyType(lines),
    )


def validate_model_report(drill: Drill, taxonomy: Taxonomy) -> list[ContentError]:
    """Problems that keep the drill's model_report from being accepted (empty list: fine)."""
    # Imported here because rules imports this module for Drill and RULE_NAMES.
    from lms.drills.rules import evaluate

    lines = drill.model_report_lines
    errors = []
    for name, key in (("event_type", "event_types"), ("department", "departments"), ("urgency", "urgencies")):
        value = drill.model_report.get(name)
        if value and value.strip() not in getattr(taxonomy, key):
            errors.append(ContentError(drill.path, lines.get(name, lines.get("", 1)),
                                       f"示范报告的{FIELD_LABELS[name]}“{value}”不在分类文件中"))
    evaluation = evaluate(dict(drill.model_report), drill)
    for check in evaluation.checks:
        if not check.passed:
            line = lines.get(check.field or "", lines.get("", 1)) if drill.model_report.get(check.field or "") \
                else lines.get("", 1)
            errors.append(ContentError(drill.path, line, f"示范报告未通过检查“{RULE_LABELS.get(check.rule, check.rule)}”：{check.message}"))
    return errors


def load_drill(text: str, path: str, taxonomy: Taxonomy) -> Drill:
    """parse_drill plus validate_model_report: what the importer calls; raises ContentErrors."""
    drill = parse_drill(text, path, taxonomy)
    errors = validate_model_report(drill, taxonomy)
    if errors:
        raise ContentErrors(errors)
    return drill
