"""Parse and validate consultation-drill files (政策答询) (pure, no app).

``question_bank/consultations/<code>.yaml`` holds one resident's question and
its answer key (keys in API.md, "Consultation drills"): ``code``, ``title``,
``org``, ``asker``, ``question``, ``points``, ``wrong``, ``refer``,
``overpromise``, ``model_answer``, ``sources``. Every problem is reported as
``path:line: message`` in Chinese through ``ContentErrors``; a bad file is
rejected whole. ``load_consultation`` also runs the rules on the model answer:
a file whose model answer would be returned is refused.

``sources`` is a list of citations written like questions' ``source``
(``《社会保险法》第十六条``); each must name a law in 《》 and at least one
article. Whether the law and article exist is checked against the law texts by
the tests (tests/consultations/test_shipped.py) and, for the county's own rule
(question_bank/rules/), by ``content check``.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Mapping

from lms.contentfile import ContentError, ContentErrors, load_yaml
# One file-problem collector and one {name, any} list parser for both drill kinds.
from lms.drills.content import Fact, _Collector, _facts

#: Rule names (API.md), in the order they are evaluated and shown.
RULE_NAMES = ("key_points", "no_wrong_claims", "referral", "no_overpromise", "plain_language")
RULE_LABELS = {
    "key_points": "要点齐全", "no_wrong_claims": "没有错误说法", "referral": "指明去处",
    "no_overpromise": "不乱承诺", "plain_language": "通俗易懂",
}
KEYS = ("code", "title", "org", "asker", "question", "points", "wrong", "refer", "overpromise", "model_answer",
        "sources")
MANDATORY = ("code", "title", "asker", "question", "points", "refer", "model_answer", "sources")
MAX_CODE = 80
#: codes whose page address is taken by another page
RESERVED_CODES = ("review", "stats", "new", "manage", "preview")
MAX_TITLE = 200

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CITATION = re.compile(r"《[^》]+》\s*(?:第[零〇一二两三四五六七八九十百千\d]+条)")


@dataclasses.dataclass(frozen=True)
class Consultation:
    """One consultation drill as parsed from its file."""

    code: str
    title: str
    org: str | None
    asker: str
    question: str
    points: tuple[Fact, ...]
    wrong: tuple[Fact, ...]
    refer: tuple[str, ...]
    overpromise: tuple[str, ...]
    model_answer: str
    sources: tuple[str, ...]
    path: str = dataclasses.field(default="", compare=False)
    #: line of model_answer, for importer errors
    model_answer_line: int = dataclasses.field(default=1, compare=False, repr=False)


def to_definition(item: Consultation) -> dict:
    """The consultation as plain JSON data in file shape (stored with it)."""
    return {
        "code": item.code, "title": item.title, "org": item.org, "asker": item.asker, "question": item.question,
        "points": [{"name": f.name, "any": list(f.any)} for f in item.points],
        "wrong": [{"name": f.name, "any": list(f.any)} for f in item.wrong],
        "refer": list(item.refer), "overpromise": list(item.overpromise), "model_answer": item.model_answer,
        "sources": list(item.sources),
    }


def from_definition(data: Mapping, path: str = "") -> Consultation:
    """Rebuild the Consultation the rules need from its stored JSON."""
    return Consultation(
        code=data["code"], title=data["title"], org=data.get("org"), asker=data["asker"], question=data["question"],
        points=tuple(Fact(f["name"], tuple(f["any"])) for f in data.get("points") or ()),
        wrong=tuple(Fact(f["name"], tuple(f["any"])) for f in data.get("wrong") or ()),
        refer=tuple(data.get("refer") or ()), overpromise=tuple(data.get("overpromise") or ()),
        model_answer=data.get("model_answer") or "", sources=tuple(data.get("sources") or ()), path=path,
    )


def _named_list(data: dict, key: str, label: str, out: _Collector, *, required: bool) -> tuple[Fact, ...]:
    value = data.get(key)
    if key not in data or value is None:
        if required and key in data:
            out.add(f"{key}（{label}）不能为空：至少写一项，每项写 name 和 any", key)
        return ()
    if isinstance(value, list) and not value:
        tail = "" if required else "；没有就删掉这个键"
        out.add(f"{key}（{label}）是空列表：至少写一项，每项写 name 和 any{tail}", key)
        return ()
    return _facts(value, key, label, out)


def _phrases(data: dict, key: str, label: str, out: _Collector) -> tuple[str, ...]:
    if key not in data:
        return ()
    if data[key] is None or data[key] == []:
        out.add(f"{key}（{label}）是空的：至少写一项；没有就删掉这个键", key)
        return ()
    items = out.text_list(data[key], f"{key}（{label}）", key)
    return tuple(dict.fromkeys(items))


def _sources(data: dict, out: _Collector) -> tuple[str, ...]:
    if "sources" not in data:
        return ()
    value = data["sources"]
    if value is None or value == []:
        out.add("sources（依据）是空的：至少写一条，例如 《社会保险法》第十六条", "sources")
        return ()
    items = out.text_list(value, "sources（依据）", "sources")
    for i, item in enumerate(items):
        if not _CITATION.search(item):
            out.add(f"sources 第{i + 1}项“{item[:40]}”不是法规条文的引用：写成 《法规名称》第X条，"
                    "例如 《社会保险法》第十六条", "sources", i)
    return items


def parse_consultation(text: str, path: str) -> Consultation:
    """Parse one consultation file; raise ContentErrors with lines."""
    data, loc = load_yaml(text, path)
    out = _Collector(path, loc)
    if not isinstance(data, dict):
        out.add("政策答询文件必须是“键: 值”形式的 YAML 映射，包含 " + "、".join(MANDATORY))
        out.raise_if_any()
    out.unknown_keys(data, KEYS, "政策答询文件")
    for key in MANDATORY:
        if key not in data:
            out.add(f"缺少 {key}")

    code = out.text(data.get("code"), "code", "code") if "code" in data else None
    if code and not _CODE.match(code):
        out.add(f"code“{code}”只能由小写字母、数字和连字符组成，例如 pension-min-years", "code")
    if code in RESERVED_CODES:
        out.add(f"code“{code}”是系统保留字（页面地址 /consultations/{code} 另有用途），请换一个", "code")
    if code and len(code) > MAX_CODE:
        out.add(f"code 太长：最多 {MAX_CODE} 个字符", "code")
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = re.sub(r"\.ya?ml$", "", name)
    if code and stem != name and stem != code:
        out.add(f"文件名应与 code 一致：code 是“{code}”，文件名应为 {code}.yaml", "code")
    title = out.text(data.get("title"), "title（标题）", "title") if "title" in data else None
    if title and len(title) > MAX_TITLE:
        out.add(f"title 太长：最多 {MAX_TITLE} 个字", "title")
    org = data.get("org")
    if org is not None:
        org = out.text(org, "org（所属组织编码）", "org")
    asker = out.text(data.get("asker"), "asker（提问的人，例如 62岁的村民）", "asker") if "asker" in data else None
    question = out.text(data.get("question"), "question（群众的问题）", "question") if "question" in data else None
    points = _named_list(data, "points", "必须讲到的要点", out, required=True)
    wrong = _named_list(data, "wrong", "错误或过时的说法", out, required=False)
    refer = _phrases(data, "refer", "可以指引去的部门", out)
    overpromise = _phrases(data, "overpromise", "网格员不能承诺的话", out)
    model_answer = out.text(data.get("model_answer"), "model_answer（示范回答）", "model_answer") \
        if "model_answer" in data else None
    sources = _sources(data, out)
    out.raise_if_any()
    return Consultation(code=code, title=title, org=org, asker=asker, question=question, points=points,
                        wrong=wrong, refer=refer, overpromise=overpromise, model_answer=model_answer,
                        sources=sources, path=path, model_answer_line=loc.line("model_answer"))


def validate_model_answer(item: Consultation) -> list[ContentError]:
    """Problems that keep the file's model answer from being accepted (empty list: fine)."""
    from lms.consultations.rules import evaluate  # rules imports this module for Consultation

    evaluation = evaluate(item.model_answer, item)
    return [ContentError(item.path, item.model_answer_line, f"示范回答未通过检查“{RULE_LABELS[c.rule]}”"
                         f"：{c.message}") for c in evaluation.checks if not c.passed]


def load_consultation(text: str, path: str) -> Consultation:
    """parse_consultation plus validate_model_answer: what the importer and `content check` call."""
    item = parse_consultation(text, path)
    errors = validate_model_answer(item)
    if errors:
        raise ContentErrors(errors)
    return item
