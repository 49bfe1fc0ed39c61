"""The consultation editor's form: browser fields to a consultation definition (file shape) and back (pure).

Points and wrong claims come as rows (``point_name``/``point_any``, ``wrong_name``/``wrong_any``, synonyms joined
by 、 — the report-drill editor's rows and chips, lms/static/js/editor_drill.js), refer offices and overpromise
phrases as one chips field each, sources one per row (``source``). Every problem is a Chinese sentence naming the
field and, for rows, the row number.

Who owns a consultation is kept in its definition (no column for it): ``definition["authoring"]`` is
``{"origin": "web" | "file", "detached": bool, "state": "draft" | "published" | "retired"}``; a consultation
without it came from a file and was never edited in the browser. As for report drills, a file consultation may be
edited in the browser: it is then detached (the importer skips it) and the editor offers its YAML to copy back.
"""
from __future__ import annotations

import yaml

from lms.consultations.content import _CITATION, KEYS, RULE_LABELS
# The report-drill editor's row reading and 、-separated words (one behaviour for both editors).
from lms.drills.forms import MAX_ROWS, _words, fact_rows
from lms.drills.synonyms import MAX_SYNONYM_CHARS

META = "authoring"
MAX_TITLE = 200
MAX_ASKER = 60
MAX_QUESTION = 5000
MAX_MODEL_ANSWER = 2000
MAX_NAME = 60
MAX_PHRASE = MAX_SYNONYM_CHARS
MAX_SOURCE = 200
#: codes that are also page paths under /consultations/
RESERVED_CODES = frozenset({"new", "manage", "review", "stats", "preview"})
STATE_LABELS = {"draft": "草稿", "published": "已发布", "retired": "已停用"}


# ------------------------------------------------------------------ ownership kept in the definition

def meta(definition: dict) -> dict:
    """The authoring record of a stored definition (a file consultation never edited in the browser: origin file)."""
    data = definition.get(META) if isinstance(definition, dict) else None
    data = data if isinstance(data, dict) else {}
    return {"origin": data.get("origin", "file"), "detached": bool(data.get("detached")),
            "state": data.get("state", "published")}


def browser_owned(definition: dict) -> bool:
    """Written in the browser, or a file consultation since edited there: the importer leaves it alone."""
    m = meta(definition)
    return m["origin"] == "web" or m["detached"]


def file_shape(definition: dict) -> dict:
    """The definition without the authoring record, as the file holds it."""
    return {k: v for k, v in definition.items() if k in KEYS}


def to_yaml(definition: dict) -> str:
    """The consultation as its file would read (to copy into question_bank/consultations/<code>.yaml)."""
    data = {k: v for k, v in file_shape(definition).items() if v not in (None, [], "")}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


# ------------------------------------------------------------------ form → definition

def _text(form, name: str, limit: int) -> str:
    value = form.get(name, "") if hasattr(form, "get") else ""
    return value[:limit + 1].replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def _too_long(value: str, limit: int, label: str, errors: list[str]) -> None:
    if len(value) > limit:
        errors.append(f"{label}太长：最多 {limit} 个字")


def _named_rows(form, prefix: str, label: str, example: str, errors: list[str]) -> list[dict]:
    items = []
    for number, row in enumerate(fact_rows(form, prefix), 1):
        if not row["name"] and not row["any"]:
            continue
        if not row["name"]:
            errors.append(f"{label}第{number}行有说法但缺少名称（例如“{example}”）")
            continue
        if not row["any"]:
            errors.append(f"{label}第{number}行“{row['name'][:20]}”还没有说法：至少添加一种回答里可能的讲法")
            continue
        if len(row["name"]) > MAX_NAME:
            errors.append(f"{label}第{number}行的名称太长：最多 {MAX_NAME} 个字")
            continue
        long = [w for w in row["any"] if len(w) > MAX_PHRASE]
        if long:
            errors.append(f"{label}第{number}行的说法“{long[0][:20]}…”太长：每种说法最多 {MAX_PHRASE} 个字")
            continue
        items.append({"name": row["name"], "any": list(dict.fromkeys(row["any"]))})
    return items


def _phrases(form, name: str, label: str, errors: list[str]) -> list[str]:
    words = list(dict.fromkeys(_words(_text(form, name, MAX_ROWS * MAX_PHRASE))))[:MAX_ROWS]
    for word in words:
        if len(word) > MAX_PHRASE:
            errors.append(f"{label}中的“{word[:20]}…”太长：每项最多 {MAX_PHRASE} 个字")
            return []
    return words


def _sources(form, errors: list[str]) -> list[str]:
    values = form.getlist("source") if hasattr(form, "getlist") else []
    sources = []
    for number, value in enumerate(values[:MAX_ROWS], 1):
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            continue
        if len(value) > MAX_SOURCE:
            errors.append(f"依据第{number}行太长：最多 {MAX_SOURCE} 个字")
        elif not _CITATION.search(value):
            errors.append(f"依据第{number}行“{value[:40]}”不是法规条文的引用：写成 《法规名称》第X条，"
                          "例如 《社会保险法》第十六条")
        else:
            sources.append(value)
    return sources


def definition_from_form(form, *, code: str) -> tuple[dict, list[str]]:
    """A consultation definition (file shape) from the editor's fields, plus every problem found in them."""
    errors: list[str] = []
    title = _text(form, "title", MAX_TITLE)
    if not title:
        errors.append("请填写标题，例如“交满十五年就能领养老金吗”")
    _too_long(title, MAX_TITLE, "标题", errors)
    asker = _text(form, "asker", MAX_ASKER)
    if not asker:
        errors.append("请填写提问的人，例如“62岁的村民老李”")
    _too_long(asker, MAX_ASKER, "提问的人", errors)
    question = _text(form, "question", MAX_QUESTION)
    if not question:
        errors.append("请填写群众的问题")
    _too_long(question, MAX_QUESTION, "群众的问题", errors)
    points = _named_rows(form, "point", "必须讲到的要点", "最低缴费年限", errors)
    if not points and not any("必须讲到的要点第" in e for e in errors):
        errors.append("至少写一条必须讲到的要点（名称和几种讲法）")
    wrong = _named_rows(form, "wrong", "错误或过时的说法", "交满十五年就行", errors)
    refer = _phrases(form, "refer", "可以指引去的部门", errors)
    if not refer:
        errors.append("至少写一个可以指引群众去的部门，例如“社保经办机构”")
    overpromise = _phrases(form, "overpromise", "网格员不能承诺的话", errors)
    model_answer = _text(form, "model_answer", MAX_MODEL_ANSWER)
    if not model_answer:
        errors.append("请填写示范回答")
    _too_long(model_answer, MAX_MODEL_ANSWER, "示范回答", errors)
    sources = _sources(form, errors)
    if not sources and not any(e.startswith("依据第") for e in errors):
        errors.append("至少写一条依据，例如 《社会保险法》第十六条")
    org = _text(form, "org", 64) or None
    data = {"code": code, "title": title, "org": org, "asker": asker, "question": question, "points": points,
            "wrong": wrong, "refer": refer, "overpromise": overpromise, "model_answer": model_answer,
            "sources": sources}
    return data, errors


def yaml_for_parse(data: dict) -> str:
    """The definition as file text for lms.consultations.content.parse_consultation (empty optional lists left out)."""
    body = {k: v for k, v in data.items() if k in KEYS and not (k in ("wrong", "overpromise", "org") and not v)}
    return yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=1000)


def model_problems(evaluation) -> list[str]:
    """One Chinese sentence per rule the model answer fails."""
    return [f"示范回答未通过“{RULE_LABELS[c.rule]}”：{c.message}" for c in evaluation.checks if not c.passed]


def checks_json(evaluation) -> list[dict]:
    """The checks as the editor and 检查范文 show them (label and message; the rule name for scripts)."""
    return [{"rule": c.rule, "label": RULE_LABELS[c.rule], "passed": c.passed, "message": c.message}
            for c in evaluation.checks]


# ------------------------------------------------------------------ definition → form

def form_values(definition: dict) -> dict:
    """The editor's field values for a stored (or new) definition."""
    def rows(items):
        return [{"name": f["name"], "any": list(f["any"])} for f in items or ()]

    return {"code": definition.get("code", ""), "title": definition.get("title", ""),
            "org": definition.get("org") or "", "asker": definition.get("asker", ""),
            "question": definition.get("question", ""), "point_rows": rows(definition.get("points")),
            "wrong_rows": rows(definition.get("wrong")), "refer": "、".join(definition.get("refer") or ()),
            "overpromise": "、".join(definition.get("overpromise") or ()),
            "model_answer": definition.get("model_answer", ""), "sources": list(definition.get("sources") or ())}


def posted_values(form, code: str) -> dict:
    """What the editor shows again after a refused POST: every field as sent, rows included."""
    def text(name):
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    return {"code": code, "title": text("title"), "org": text("org"), "asker": text("asker"),
            "question": text("question"), "point_rows": fact_rows(form, "point"),
            "wrong_rows": fact_rows(form, "wrong"), "refer": text("refer"), "overpromise": text("overpromise"),
            "model_answer": text("model_answer"),
            "sources": [s for s in (form.getlist("source") if hasattr(form, "getlist") else []) if isinstance(s, str)]}
