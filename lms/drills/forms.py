"""The drill editor's form: browser fields to a drill definition (file shape) and back (pure)."""
from __future__ import annotations

import re

from lms.drills.content import FORM_FIELDS, RULE_NAMES

_SEP = re.compile(r"[、,，;；]")
#: codes that are also page paths under /drills/
RESERVED_CODES = frozenset({"new", "manage", "review", "stats", "preview"})
MAX_TEXT = 20_000


def _words(text: str) -> list[str]:
    return [w.strip() for w in _SEP.split(text) if w.strip()]


def _lines(text: str) -> list[tuple[int, str]]:
    return [(i, line.strip()) for i, line in enumerate((text or "").splitlines(), 1) if line.strip()]


def _split_name(line: str) -> tuple[str, str] | None:
    match = re.match(r"^([^:：]+)[:：](.*)$", line)
    return (match.group(1).strip(), match.group(2).strip()) if match else None


def parse_facts(text: str, label: str, errors: list[str]) -> list[dict]:
    """`名称：同义词、同义词` per line."""
    facts = []
    for number, line in _lines(text):
        parts = _split_name(line)
        if not parts or not parts[0] or not _words(parts[1]):
            errors.append(f"{label}第{number}行应写成“名称：说法一、说法二”，现在是“{line[:40]}”")
            continue
        facts.append({"name": parts[0], "any": _words(parts[1])})
    return facts


def parse_numbers(text: str, errors: list[str]) -> list[dict]:
    """`名称 | 数值 | 单位 | 附近词、附近词 [| occurred_at]` per line."""
    numbers = []
    for number, line in _lines(text):
        parts = [p.strip() for p in re.split(r"[|｜]", line)]
        if len(parts) not in (4, 5) or not all(parts[:4]):
            errors.append(f"关键数字第{number}行应写成“名称 | 数值 | 单位 | 附近词一、附近词二”，现在是“{line[:40]}”")
            continue
        try:
            value = float(parts[1])
        except ValueError:
            errors.append(f"关键数字第{number}行的数值“{parts[1]}”不是数字")
            continue
        entry = {"name": parts[0], "value": int(value) if value.is_integer() else value, "unit": parts[2],
                 "near": _words(parts[3])}
        if len(parts) == 5 and parts[4]:
            entry["field"] = parts[4]
        numbers.append(entry)
    return numbers


def _text(form, name: str) -> str:
    value = form.get(name, "")
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def definition_from_form(form, *, code: str) -> tuple[dict, list[str]]:
    """A drill definition (drill-file shape) from the editor's fields, plus line-format errors."""
    errors: list[str] = []
    weights = {}
    for rule in RULE_NAMES:
        raw = _text(form, f"weight_{rule}").strip()
        if not raw:
            continue
        try:
            weights[rule] = float(raw)
        except ValueError:
            errors.append(f"规则 {rule} 的权重“{raw}”不是数字")
    data = {
        "code": code,
        "title": _text(form, "title").strip(),
        "org": _text(form, "org").strip() or None,
        "scenario": _text(form, "scenario").replace("\r\n", "\n"),
        "reference_time": _text(form, "reference_time").strip(),
        "facts": parse_facts(_text(form, "facts"), "关键事实", errors),
        "numbers": parse_numbers(_text(form, "numbers"), errors),
        "traps": parse_facts(_text(form, "traps"), "虚构陷阱", errors),
        "place_detail": _text(form, "place_detail").strip(),
        "answer": {"event_type": _text(form, "answer_event_type").strip(),
                   "department": [d for d in form.getlist("answer_department") if isinstance(d, str) and d.strip()]
                   if hasattr(form, "getlist") else [],
                   "urgency": _text(form, "answer_urgency").strip()},
        "required": [f for f in (form.getlist("required") if hasattr(form, "getlist") else []) if f in FORM_FIELDS],
        "weights": weights or None,
        "model_report": {name: _text(form, f"model_{name}") for name in FORM_FIELDS if _text(form, f"model_{name}")},
        "source": _text(form, "source").strip() or None,
    }
    if not data["numbers"]:
        data.pop("numbers")
    if not data["traps"]:
        data.pop("traps")
    for key in ("weights", "source", "org"):
        if data[key] is None:
            data.pop(key)
    return data, errors


def form_from_definition(data: dict) -> dict:
    """The editor's field values for a stored definition."""
    def facts(items):
        return "\n".join(f"{f['name']}：{'、'.join(f['any'])}" for f in items or ())

    def numbers(items):
        lines = []
        for n in items or ():
            parts = [n["name"], str(n["value"]), n["unit"], "、".join(n["near"])] + ([n["field"]] if n.get("field")
                                                                                  else [])
            lines.append(" | ".join(parts))
        return "\n".join(lines)

    answer = data.get("answer") or {}
    values = {
        "code": data.get("code", ""), "title": data.get("title", ""), "org": data.get("org") or "",
        "scenario": data.get("scenario", ""), "reference_time": data.get("reference_time", ""),
        "facts": facts(data.get("facts")), "numbers": numbers(data.get("numbers")), "traps": facts(data.get("traps")),
        "place_detail": data.get("place_detail", "building"), "answer_event_type": answer.get("event_type", ""),
        "answer_department": list(answer.get("department") or ()), "answer_urgency": answer.get("urgency", ""),
        "required": list(data.get("required") or FORM_FIELDS), "source": data.get("source") or "",
    }
    weights = data.get("weights") or {}
    for rule in RULE_NAMES:
        weight = weights.get(rule)
        values[f"weight_{rule}"] = "" if weight is None else (str(int(weight)) if float(weight).is_integer()
                                                                 else str(weight))
    for name in FORM_FIELDS:
        values[f"model_{name}"] = (data.get("model_report") or {}).get(name, "")
    return values
