"""`flask content import` for question_bank/consultations/*.yaml."""
from __future__ import annotations

import sqlalchemy as sa

from lms.consultations import services
from lms.consultations.authoring import browser_owned, meta
from lms.consultations.content import load_consultation
from lms.consultations.models import Consultation
from lms.contentfile import ContentError, ContentErrors
from lms.contentsync import SyncContext, SyncReport
# The same UTF-8 read and org look-up (with its file:line error) as drill files.
from lms.drills.importer import _org_for, _read
from lms.extensions import db

KIND = "政策答询"
FOLDER = "consultations"


def import_consultations(ctx: SyncContext, report: SyncReport) -> None:
    """Sync consultation files: a bad file rejected whole with lines, good ones imported, gone ones retired."""
    folder = ctx.questions_dir / FOLDER
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    seen: set[str] = set()
    for path in files:
        rel = ctx.relative(path)
        seen.add(path.stem)  # a broken file keeps its consultation alive: fixing it must not lose history
        try:
            text = _read(path, rel)
            parsed = load_consultation(text, rel)
            if parsed.code in seen and parsed.code != path.stem:
                raise ContentErrors([ContentError(rel, 1, f"政策答询代码“{parsed.code}”与另一个文件重复")])
            seen.add(parsed.code)
            org = _org_for(parsed.org, text, rel)
        except ContentErrors as exc:
            report.reject(exc)
            continue
        existing = db.session.scalar(sa.select(Consultation).where(Consultation.code == parsed.code))
        if existing is not None and browser_owned(existing.definition):
            how = "在网页中创建的" if meta(existing.definition)["origin"] == "web" else "已在网页中编辑、与文件脱钩的"
            report.notes.append(f"政策答询 {parsed.code} 是{how}，{rel} 未导入（网页内容不被文件覆盖）")
            report.count(KIND, "skipped")
            continue
        with db.session.begin_nested():
            outcome = services.sync_file_consultation(parsed, org, text, rel[:300], now=ctx.now)
        report.count(KIND, outcome)
    current = db.session.scalars(sa.select(Consultation).where(Consultation.is_retired.is_(False))).all()
    for item in current:
        if item.code not in seen and not browser_owned(item.definition):
            services.retire_consultation(item, now=ctx.now)
            report.count(KIND, "retired")
