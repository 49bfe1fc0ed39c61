"""The drill editor's form: browser fields to a drill definition (file shape) and back (pure).

Facts, traps and key numbers come as rows (``fact_name``/``fact_any`` … repeated, synonyms joined by 、), the
reference time from a date-time picker in the county's time zone (Asia/Shanghai).
"""
from __future__ import annotations

import datetime as dt
import re

from lms.db import SHANGHAI
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


def _list(form, name: str) -> list[str]:
    values = form.getlist(name) if hasattr(form, "getlist") else []
    return [v[:MAX_TEXT] if isinstance(v, str) else "" for v in values][:MAX_ROWS]


#: rows a form may send for facts, traps or numbers (a drill has a handful)
MAX_ROWS = 100
#: the number-row 用途 choices: plain key number, or the number that is the event's time (checked in 发生时间)
NUMBER_FIELDS = {"": "关键数字", "occurred_at": "事件发生时间"}


def fact_rows(form, prefix: str) -> list[dict]:
    """The editor's rows (``<prefix>_name`` / ``<prefix>_any``, one pair per row) as posted, blank rows kept."""
    names, anys = _list(form, f"{prefix}_name"), _list(form, f"{prefix}_any")
    width = max(len(names), len(anys))
    names += [""] * (width - len(names))
    anys += [""] * (width - len(anys))
    return [{"name": n.strip(), "any": _words(a)} for n, a in zip(names, anys)]


def parse_fact_rows(rows: list[dict], label: str, errors: list[str]) -> list[dict]:
    """Rows to drill-file facts; a half-filled row is named by its number, empty rows are skipped."""
    facts = []
    for number, row in enumerate(rows, 1):
        if not row["name"] and not row["any"]:
            continue
        if not row["name"]:
            errors.append(f"{label}第{number}行缺少名称（例如“噪声持续时间”）")
        elif not row["any"]:
            errors.append(f"{label}第{number}行“{row['name'][:20]}”还没有说法：至少添加一种报告里可能的写法")
        else:
            facts.append({"name": row["name"], "any": row["any"]})
    return facts


def number_rows(form) -> list[dict]:
    """The editor's key-number rows as posted (name, value, unit, near words, 用途), blank rows kept."""
    columns = [_list(form, f"number_{c}") for c in ("name", "value", "unit", "near", "field")]
    width = max(len(c) for c in columns)
    for column in columns:
        column += [""] * (width - len(column))
    return [{"name": n.strip(), "value": v.strip(), "unit": u.strip(), "near": _words(a), "field": f.strip()}
            for n, v, u, a, f in zip(*columns)]


def parse_number_rows(rows: list[dict], errors: list[str]) -> list[dict]:
    numbers = []
    for number, row in enumerate(rows, 1):
        if not (row["name"] or row["value"] or row["unit"] or row["near"]):
            continue
        missing = [label for key, label in (("name", "名称"), ("value", "数值"), ("unit", "单位"), ("near", "附近词"))
                   if not row[key]]
        if missing:
            errors.append(f"关键数字第{number}行缺少{'、'.join(missing)}")
            continue
        try:
            value = float(row["value"])
        except ValueError:
            errors.append(f"关键数字第{number}行的数值“{row['value'][:20]}”不是数字")
            continue
        if value != value or value in (float("inf"), float("-inf")):
            errors.append(f"关键数字第{number}行的数值“{row['value'][:20]}”不是数字")
            continue
        entry = {"name": row["name"], "value": int(value) if value.is_integer() else value, "unit": row["unit"],
                 "near": row["near"]}
        if row["field"] not in NUMBER_FIELDS:
            errors.append(f"关键数字第{number}行的用途只能是：{'、'.join(NUMBER_FIELDS.values())}")
            continue
        if row["field"]:
            entry["field"] = row["field"]
        numbers.append(entry)
    return numbers


_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?$")


def reference_time_from_form(text: str, errors: list[str]) -> str:
    """The date-time picker's value (county time, no zone: 2026-09-10T08:30) as ISO 8601 with +08:00.

    A value that already carries its zone (older forms, the API) passes through unchanged.
    """
    text = (text or "").strip()
    if not text:
        errors.append("请选择情景的“当前时间”（日期和钟点）")
        return ""
    if _LOCAL.match(text):
        try:
            moment = dt.datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            errors.append(f"情景的“当前时间”“{text[:30]}”不是有效的日期时间")
            return ""
        return moment.replace(tzinfo=SHANGHAI).isoformat()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        errors.append(f"情景的“当前时间”“{text[:30]}”不是有效的日期时间，请用日期时间选择器选择")
        return ""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI).isoformat()
    return text


def reference_time_for_picker(value) -> str:
    """A stored reference time (ISO with zone, or datetime) as the picker's county-time value."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return ""
    if not isinstance(value, dt.datetime):
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(SHANGHAI)
    return value.strftime("%Y-%m-%dT%H:%M")


def editor_values(form) -> dict:
    """What the editor shows again after a refused POST: every field as sent, rows included."""
    values = form.to_dict() if hasattr(form, "to_dict") else dict(form)
    values |= {"answer_department": _list(form, "answer_department"), "required": _list(form, "required"),
               "answer_event_type": _list(form, "answer_event_type")}
    if "notify_name" in form:
        values["notify_rows"] = fact_rows(form, "notify")
    if "fact_name" in form:
        values["fact_rows"] = fact_rows(form, "fact")
    if "trap_name" in form:
        values["trap_rows"] = fact_rows(form, "trap")
    if "number_name" in form:
        values["number_rows"] = number_rows(form)
    return values


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
        "reference_time": reference_time_from_form(_text(form, "reference_time"), errors),
        # One row per fact/trap/number (the editor); the older one-line-per-item text fields still read.
        "facts": parse_fact_rows(fact_rows(form, "fact"), "关键事实", errors) if "fact_name" in form
        else parse_facts(_text(form, "facts"), "关键事实", errors),
        "numbers": parse_number_rows(number_rows(form), errors) if "number_name" in form
        else parse_numbers(_text(form, "numbers"), errors),
        "traps": parse_fact_rows(fact_rows(form, "trap"), "虚构陷阱", errors) if "trap_name" in form
        else parse_facts(_text(form, "traps"), "虚构陷阱", errors),
        "place_detail": _text(form, "place_detail").strip(),
        # Several accepted event types where the county's categories overlap: one is stored as text, more as a list.
        "answer": {"event_type": _event_types(form),
                   "department": [d for d in form.getlist("answer_department") if isinstance(d, str) and d.strip()]
                   if hasattr(form, "getlist") else [],
                   "urgency": _text(form, "answer_urgency").strip()},
        "required": [f for f in (form.getlist("required") if hasattr(form, "getlist") else []) if f in FORM_FIELDS],
        "weights": weights or None,
        "model_report": {name: _text(form, f"model_{name}") for name in FORM_FIELDS if _text(form, f"model_{name}")},
        "source": _text(form, "source").strip() or None,
        "must_notify": parse_fact_rows(fact_rows(form, "notify"), "必须打的电话", errors),
    }
    if not data["must_notify"]:
        data.pop("must_notify")
    if not data["numbers"]:
        data.pop("numbers")
    if not data["traps"]:
        data.pop("traps")
    for key in ("weights", "source", "org"):
        if data[key] is None:
            data.pop(key)
    return data, errors


def _event_types(form) -> str | list[str]:
    types = list(dict.fromkeys(t.strip() for t in _list(form, "answer_event_type") if t.strip()))
    return types if len(types) > 1 else (types[0] if types else "")


def _number_text(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


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
        "scenario": data.get("scenario", ""), "reference_time": reference_time_for_picker(data.get("reference_time")),
        "facts": facts(data.get("facts")), "numbers": numbers(data.get("numbers")), "traps": facts(data.get("traps")),
        "fact_rows": [{"name": f["name"], "any": list(f["any"])} for f in data.get("facts") or ()],
        "trap_rows": [{"name": f["name"], "any": list(f["any"])} for f in data.get("traps") or ()],
        "number_rows": [{"name": n["name"], "value": _number_text(n["value"]), "unit": n["unit"],
                         "near": list(n["near"]), "field": n.get("field") or ""} for n in data.get("numbers") or ()],
        "notify_rows": [{"name": f["name"], "any": list(f["any"])} for f in data.get("must_notify") or ()],
        "place_detail": data.get("place_detail", "building"),
        "answer_event_type": (list(answer["event_type"]) if isinstance(answer.get("event_type"), list)
                              else [answer["event_type"]] if answer.get("event_type") else []),
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
