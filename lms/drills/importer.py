"""`flask content import` for question_bank/taxonomy.yaml and question_bank/drills/*.yaml."""
from __future__ import annotations

import sqlalchemy as sa

from lms.contentfile import ContentError, ContentErrors, load_yaml, missing_org_error
from lms.contentsync import SyncContext, SyncReport
from lms.drills import queries, services
from lms.drills.content import load_drill, parse_taxonomy
from lms.drills.models import Drill, DrillOrigin
from lms.extensions import db
from lms.org.queries import get_org, get_root

KIND_TAXONOMY = "演练分类"
KIND_DRILL = "演练"
MAX_CODE = 80
MAX_TITLE = 200


def _read(path, rel: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentErrors([ContentError(rel, 1, "文件不是 UTF-8 编码，请用 UTF-8 保存")]) from None


def import_taxonomy(ctx: SyncContext, report: SyncReport) -> None:
    """Replace the county lists from taxonomy.yaml (a bad file leaves the stored lists as they were)."""
    path = ctx.questions_dir / "taxonomy.yaml"
    if not path.exists():
        return
    rel = ctx.relative(path)
    try:
        taxonomy = parse_taxonomy(_read(path, rel), rel)
    except ContentErrors as exc:
        report.reject(exc)
        ctx.known["drill_taxonomy_rejected"] = True
        return
    with db.session.begin_nested():
        outcome = services.replace_taxonomy(taxonomy)
    report.count(KIND_TAXONOMY, outcome)
    ctx.known["drill_taxonomy"] = taxonomy


def _org_for(code, text: str, rel: str):
    if code is None:
        org = get_root()
        if org is None:
            raise ContentErrors([missing_org_error(rel, 1, None)])
        return org
    org = get_org(code)
    if org is None:
        _, loc = load_yaml(text, rel)
        raise ContentErrors([missing_org_error(rel, loc.line("org"), code)])
    return org


def _check_lengths(parsed, text: str, rel: str) -> None:
    # The columns are bounded; PostgreSQL would refuse a longer value mid-import.
    errors = []
    for key, value, limit in (("code", parsed.code, MAX_CODE), ("title", parsed.title, MAX_TITLE)):
        if len(value) > limit:
            _, loc = load_yaml(text, rel)
            errors.append(ContentError(rel, loc.line(key), f"{key} 太长：最多 {limit} 个字符"))
    if errors:
        raise ContentErrors(errors)


def import_drills(ctx: SyncContext, report: SyncReport) -> None:
    """Sync drill files: bad file rejected whole with lines, good ones imported, gone ones retired."""
    folder = ctx.questions_dir / "drills"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    taxonomy = ctx.known.get("drill_taxonomy") or queries.get_taxonomy()
    seen: set[str] = set()
    for path in files:
        rel = ctx.relative(path)
        seen.add(path.stem)  # a broken file keeps its drill alive: fixing it must not lose history
        try:
            if taxonomy is None:
                raise ContentErrors([ContentError(rel, 1, "缺少可用的分类文件 question_bank/taxonomy.yaml，"
                                                          "演练的事件类型、部门、紧急程度无从核对")])
            text = _read(path, rel)
            parsed = load_drill(text, rel, taxonomy)
            if parsed.code in seen and parsed.code != path.stem:
                raise ContentErrors([ContentError(rel, 1, f"演练代码“{parsed.code}”与另一个文件重复")])
            seen.add(parsed.code)
            _check_lengths(parsed, text, rel)
            org = _org_for(parsed.org, text, rel)
        except ContentErrors as exc:
            report.reject(exc)
            continue
        existing = queries.get_drill(parsed.code)
        if existing is not None and existing.origin == DrillOrigin.web:
            report.notes.append(f"演练 {parsed.code} 是在网页中创建的，{rel} 未导入（网页内容不被文件覆盖）")
            report.count(KIND_DRILL, "skipped")
            continue
        if existing is not None and existing.is_detached:
            report.notes.append(f"演练 {parsed.code} 已在网页中编辑，与文件脱钩，导入时跳过")
            report.count(KIND_DRILL, "skipped")
            continue
        with db.session.begin_nested():
            outcome = services.sync_file_drill(parsed, org, text, rel[:300], now=ctx.now)
        report.count(KIND_DRILL, outcome)
    gone = db.session.scalars(sa.select(Drill).where(Drill.origin == DrillOrigin.file, Drill.is_detached.is_(False),
                                                     Drill.is_retired.is_(False))).all()
    for drill in gone:
        if drill.code not in seen:
            services.retire_drill(drill, now=ctx.now)
            report.count(KIND_DRILL, "retired")
