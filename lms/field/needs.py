"""``question_bank/field_needs.yaml``: which training answers which field problem (退回原因, 超时, 重复).

``parse_field_needs`` is pure (text in, ``FieldNeeds`` out, or ``ContentErrors`` naming file:line in Chinese);
``import_field_needs`` is the `content import` step that stores the mapping (table ``field_needs``), and
``needs_map`` reads it back for remediation.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import sqlalchemy as sa

from lms.contentfile import ContentError, ContentErrors, load_yaml
from lms.db import utcnow
from lms.extensions import db
from lms.field.remediation_models import FieldNeed

FILENAME = "field_needs.yaml"
#: the problems the file maps, in the order pages show them: the platform's 退回原因, then 超时 and 重复
NEEDS = ("描述不清", "要素不全", "信息不实", "分类错误", "部门错误", "超时", "重复")
#: kinds of training, in the order a proposal lists them
KINDS = ("drills", "consultations", "courses")
KIND_LABELS = {"drills": "上报演练", "consultations": "咨询演练", "courses": "课程"}


@dataclasses.dataclass(frozen=True)
class Training:
    """The training for one problem, each kind's codes in file order."""

    drills: tuple[str, ...] = ()
    consultations: tuple[str, ...] = ()
    courses: tuple[str, ...] = ()

    def items(self) -> list[tuple[str, str]]:
        """(kind, code) in proposal order."""
        return [(kind, code) for kind in KINDS for code in getattr(self, kind)]


def parse_field_needs(text: str, path: str, *, known_drills=None, known_courses=None,
                      known_consultations=None) -> dict[str, Training]:
    """Parse the file; codes are checked against the ``known_*`` sets given (None: not checked; for
    consultations None means the folder does not exist, so the file may not name any)."""
    data, located = load_yaml(text, path)
    errors: list[ContentError] = []

    def add(keypath: tuple, message: str) -> None:
        errors.append(ContentError(path, located.line(*keypath), message))

    if not isinstance(data, dict):
        raise ContentErrors([ContentError(path, 1, "文件应是“问题: 训练内容”的映射（例如 描述不清: {drills: […]}）")])
    result: dict[str, Training] = {}
    for need, value in data.items():
        if need not in NEEDS:
            add((need,), f"未知的问题“{need}”（可用的：{'、'.join(NEEDS)}）")
            continue
        if not isinstance(value, dict):
            add((need,), f"“{need}”下应写 drills、consultations、courses 中的一项或几项")
            continue
        found: dict[str, tuple[str, ...]] = {}
        for kind, codes in value.items():
            if kind not in KINDS:
                add((need, kind), f"“{need}”下有未知的键“{kind}”（可用的键：{'、'.join(KINDS)}）")
                continue
            label = KIND_LABELS[kind]
            if codes is None:
                codes = []
            if not isinstance(codes, list) or not all(isinstance(c, str) and c.strip() for c in codes):
                add((need, kind), f"“{need}”的{label}（{kind}）应是编码列表，例如 [gas-leak-smell]")
                continue
            known = {"drills": known_drills, "courses": known_courses,
                     "consultations": known_consultations}[kind]
            seen: list[str] = []
            for index, code in enumerate(codes):
                code = code.strip()
                if code in seen:
                    add((need, kind, index), f"“{need}”的{label}“{code}”重复列出")
                    continue
                if kind == "consultations" and known is None:
                    add((need, kind, index), f"“{need}”列出了咨询演练“{code}”，但 question_bank/consultations/ 目录不存在")
                    continue
                if known is not None and code not in known:
                    add((need, kind, index), f"“{need}”的{label}“{code}”不存在")
                    continue
                seen.append(code)
            found[kind] = tuple(seen)
        training = Training(**found)
        if not training.items() and not any(e.line == located.line(need) for e in errors):
            add((need,), f"“{need}”至少要对应一项训练（演练、咨询演练或课程）")
        result[need] = training
    missing = [need for need in NEEDS if need not in data]
    if missing:
        add((), f"缺少这些问题的训练内容：{'、'.join(missing)}")
    if errors:
        raise ContentErrors(sorted(errors, key=lambda e: e.line))
    return result


def consultation_codes(questions_dir: Path) -> set[str] | None:
    """Codes of question_bank/consultations/*.yaml (file stems), None when that folder does not exist."""
    folder = Path(questions_dir) / "consultations"
    if not folder.is_dir():
        return None
    return {p.stem for p in folder.glob("*.yaml")}


# --- stored mapping (table field_needs, model in lms.field.remediation_models) ----------------------------------

def store(needs: dict[str, Training], *, now=None) -> str:
    """Replace the stored mapping; returns new|updated|unchanged."""
    now = now or utcnow()
    wanted = [(need, kind, code, position) for need, training in needs.items()
              for kind in KINDS for position, code in enumerate(getattr(training, kind))]
    current = [(r.need, r.kind, r.code, r.position) for r in
               db.session.scalars(sa.select(FieldNeed).order_by(FieldNeed.id))]
    if sorted(current) == sorted(wanted):
        return "unchanged"
    outcome = "updated" if current else "new"
    db.session.execute(sa.delete(FieldNeed))
    db.session.add_all(FieldNeed(need=n, kind=k, code=c, position=p, updated_at=now) for n, k, c, p in wanted)
    db.session.flush()
    return outcome


def needs_map() -> dict[str, Training]:
    """The stored mapping (empty when field_needs.yaml was never imported)."""
    found: dict[str, dict[str, list[str]]] = {}
    for row in db.session.scalars(sa.select(FieldNeed).order_by(FieldNeed.need, FieldNeed.kind,
                                                                 FieldNeed.position)):
        found.setdefault(row.need, {}).setdefault(row.kind, []).append(row.code)
    return {need: Training(**{k: tuple(v) for k, v in kinds.items()}) for need, kinds in found.items()}


def import_field_needs(ctx, report) -> None:
    """Importer 70 of `content import`: question_bank/field_needs.yaml, codes checked against the database."""
    path = Path(ctx.questions_dir) / FILENAME
    if not path.exists():
        return
    shown = ctx.relative(path)
    from lms.courses.models import Course  # noqa: PLC0415  (content import runs after every model is loaded)
    from lms.drills.models import Drill  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        report.reject(ContentErrors([ContentError(shown, 1, "文件不是 UTF-8 编码")]))
        return
    drills = set(db.session.scalars(sa.select(Drill.code).where(Drill.is_retired.is_(False))))
    courses = set(db.session.scalars(sa.select(Course.code)))
    try:
        needs = parse_field_needs(text, shown, known_drills=drills, known_courses=courses,
                                  known_consultations=consultation_codes(ctx.questions_dir))
    except ContentErrors as exc:
        report.reject(exc)
        return
    with db.session.begin_nested():
        report.count("现场问题与训练对应", store(needs, now=ctx.now))
