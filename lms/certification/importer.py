"""`content import` step for courses/certifications.yaml: programs by code, and the point rules."""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from lms.certification import templates
from lms.certification.content import parse_certifications
from lms.certification.models import Program
from lms.contentfile import ContentError, ContentErrors
from lms.contentsync import SyncContext, SyncReport
from lms.extensions import db
from lms.points.services import set_point_rules

FILENAME = "certifications.yaml"
KIND_PROGRAM = "认证项目"
KIND_POINTS = "积分规则"


def _codes_of(table_name: str) -> set[str] | None:
    """Codes in another feature's table, or None while that feature has no such table (built apart)."""
    table = db.metadata.tables.get(table_name)
    if table is None or "code" not in table.c:
        return None
    return set(db.session.scalars(sa.select(table.c.code)))


def known_codes(ctx: SyncContext) -> tuple[set[str] | None, set[str] | None]:
    """Course and quiz codes that requirements may name; None = cannot check (feature missing)."""
    courses = _codes_of("courses")
    quizzes = _codes_of("quizzes")
    # Importers that ran before this one may share what they saw (files not stored because of errors too).
    if ctx.known.get("course_codes") is not None:
        courses = (courses or set()) | set(ctx.known["course_codes"])
    if ctx.known.get("quiz_codes") is not None:
        quizzes = (quizzes or set()) | set(ctx.known["quiz_codes"])
    return courses, quizzes


def _requires_dict(requires) -> dict:
    data = dataclasses.asdict(requires)
    return {"courses": list(data["courses"]), "quizzes": dict(data["quizzes"]),
            "drills_accepted": data["drills_accepted"], "training_hours": data["training_hours"],
            "mentoring_activities": data["mentoring_activities"], "points": data["points"],
            "certificates": list(data["certificates"]), "within_months": data["within_months"]}


def import_certifications(ctx: SyncContext, report: SyncReport) -> None:
    """Sync programs and point rules from the file; a bad file changes nothing."""
    path = ctx.courses_dir / FILENAME
    if not path.exists():
        report.notes.append(f"{ctx.relative(path)} 不存在：认证项目与积分规则未导入")
        return
    shown = ctx.relative(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        report.reject(ContentErrors([ContentError(shown, 1, "文件不是 UTF-8 编码")]))
        return
    courses, quizzes = known_codes(ctx)
    try:
        config = parse_certifications(text, shown, known_courses=courses, known_quizzes=quizzes)
    except ContentErrors as exc:
        report.reject(exc)
        return
    with db.session.begin_nested():
        existing = {p.code: p for p in db.session.scalars(sa.select(Program))}
        seen = set()
        for position, parsed in enumerate(config.programs):
            seen.add(parsed.code)
            values = {"title": parsed.title, "valid_months": parsed.valid_months, "star": parsed.star,
                      "requires": _requires_dict(parsed.requires), "is_retired": False, "position": position}
            program = existing.get(parsed.code)
            if program is None:
                db.session.add(Program(code=parsed.code, updated_at=ctx.now, **values))
                report.count(KIND_PROGRAM, "new")
            elif any(getattr(program, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(program, key, value)
                program.updated_at = ctx.now
                report.count(KIND_PROGRAM, "updated")
            else:
                report.count(KIND_PROGRAM, "unchanged")
        for code, program in existing.items():
            if code not in seen and not program.is_retired:
                program.is_retired = True
                program.updated_at = ctx.now
                report.count(KIND_PROGRAM, "retired")
        outcomes = set_point_rules(dataclasses.asdict(config.points), now=ctx.now)
        changed = any(o != "unchanged" for o in outcomes.values())
        report.count(KIND_POINTS, "updated" if changed else "unchanged")
    ctx.known["program_codes"] = {p.code for p in config.programs}


KIND_TEMPLATE = "证书模板"


def import_templates(ctx: SyncContext, report: SyncReport) -> None:
    """Store courses/certificate-templates.yaml on the programs; a bad file changes nothing (file:line errors)."""
    path = ctx.courses_dir / templates.FILENAME
    if not path.exists():
        return  # optional: every certificate then prints the LMS_CERTIFICATE_* settings
    shown = ctx.relative(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        report.reject(ContentErrors([ContentError(shown, 1, "文件不是 UTF-8 编码")]))
        return
    programs = {p.code: p for p in db.session.scalars(sa.select(Program))}
    known = set(ctx.known.get("program_codes") or ()) | {c for c, p in programs.items() if not p.is_retired}
    try:
        parsed = templates.parse_templates(text, shown, known_programs=known)
    except ContentErrors as exc:
        report.reject(exc)
        return
    with db.session.begin_nested():
        for code, program in programs.items():
            wanted = parsed[code].as_dict() if code in parsed else None
            if (program.template or None) == (wanted or None):
                if code in parsed:
                    report.count(KIND_TEMPLATE, "unchanged")
                continue
            program.template = wanted
            program.updated_at = ctx.now
            report.count(KIND_TEMPLATE, "updated")
