"""A parsed drill to and from the JSON stored with it (pure).

The stored form has the shape of a drill file (API.md keys), so the browser
editor can turn it back into YAML and run the same parser and checks.
"""
from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

import yaml

from lms.drills.content import FORM_FIELDS, RULE_NAMES, Answer, Drill, Fact, NumberFact


def to_definition(drill: Drill) -> dict:
    """The drill as plain JSON data in drill-file shape."""
    numbers = []
    for n in drill.numbers:
        entry = {"name": n.name, "value": int(n.value) if float(n.value).is_integer() else n.value,
                 "unit": n.unit, "near": list(n.near)}
        if n.field:
            entry["field"] = n.field
        numbers.append(entry)
    data = {
        "code": drill.code,
        "title": drill.title,
        "org": drill.org,
        "scenario": drill.scenario,
        "reference_time": drill.reference_time.isoformat(),
        "facts": [{"name": f.name, "any": list(f.any)} for f in drill.facts],
        "numbers": numbers,
        "traps": [{"name": f.name, "any": list(f.any)} for f in drill.traps],
        "place_detail": drill.place_detail,
        "answer": {"event_type": list(drill.answer.event_types) if drill.answer.event_types else drill.answer.event_type,
                   "department": list(drill.answer.departments),
                   "urgency": drill.answer.urgency},
        "required": list(drill.required),
        "weights": {rule: drill.weights.get(rule, 1.0) for rule in RULE_NAMES},
        "model_report": {k: drill.model_report[k] for k in FORM_FIELDS if k in drill.model_report},
    }
    if drill.source:
        data["source"] = drill.source
    if drill.must_notify:
        data["must_notify"] = [{"name": f.name, "any": list(f.any)} for f in drill.must_notify]
    return data


def from_definition(data: dict, path: str = "") -> Drill:
    """Rebuild the Drill the rules need from its stored JSON."""
    answer = data["answer"]
    types = answer["event_type"]
    types = tuple(types) if isinstance(types, list) else (types,)
    return Drill(
        code=data["code"], title=data["title"], org=data.get("org"), scenario=data["scenario"],
        reference_time=datetime.fromisoformat(data["reference_time"]),
        facts=tuple(Fact(f["name"], tuple(f["any"])) for f in data.get("facts") or ()),
        numbers=tuple(NumberFact(n["name"], float(n["value"]), n["unit"], tuple(n["near"]), n.get("field"))
                      for n in data.get("numbers") or ()),
        traps=tuple(Fact(f["name"], tuple(f["any"])) for f in data.get("traps") or ()),
        place_detail=data["place_detail"],
        answer=Answer(types[0], tuple(answer["department"]), answer["urgency"], types if len(types) > 1 else ()),
        required=tuple(data.get("required") or ()),
        weights=MappingProxyType({r: float((data.get("weights") or {}).get(r, 1.0)) for r in RULE_NAMES}),
        model_report=MappingProxyType(dict(data.get("model_report") or {})),
        source=data.get("source"),
        must_notify=tuple(Fact(f["name"], tuple(f["any"])) for f in data.get("must_notify") or ()),
        path=path,
    )


def to_yaml(data: dict) -> str:
    """Drill-file text for a definition (what the editor validates and a trainer may download)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
