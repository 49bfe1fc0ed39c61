"""Consultation test data: the fixture files imported through the importer, and typical answers."""
from __future__ import annotations

import shutil
from pathlib import Path

from lms.consultations import importer
from lms.contentsync import SyncContext, SyncReport
from lms.db import utcnow
from lms.extensions import db

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "consultations"
PENSION = "pension-min-years"

#: the model answer of the fixture (accepted by construction: the importer checks it)
MODEL = ("周叔，交满十五年就行是老说法了。国家实行延迟退休，从2030年起，最低缴费年限每年增加半年，逐步提高到20年。"
         "您到退休年龄时如果年限还不够，可以继续交或者一次补足。每月领多少跟缴费年限和缴费基数有关，交得越久领得越多。"
         "具体您带上身份证到镇社保所查一下缴费记录，让他们帮您算。")
#: what an older worker says from memory: the out-of-date rule, a promise, no office
POOR = "老周啊，交满十五年就行，你再交两年就不用交了，到时候保证每月能领，放心好了，没问题的啦。"


def bank_with(tmp_path: Path, *names: str, folder: str = "good") -> Path:
    """A question_bank folder in tmp_path holding the named fixture consultations."""
    bank = tmp_path / "question_bank"
    (bank / "consultations").mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / folder / f"{name}.yaml", bank / "consultations" / f"{name}.yaml")
    return bank


def run_importer(questions_dir: Path, now=None) -> SyncReport:
    """Run the consultation importer as `content import` does (the caller commits)."""
    ctx = SyncContext(questions_dir.parent / "courses", questions_dir, now or utcnow())
    report = SyncReport()
    importer.import_consultations(ctx, report)
    return report


def import_pension(tmp_path: Path) -> None:
    report = run_importer(bank_with(tmp_path, PENSION))
    assert not report.errors, report.errors
    db.session.commit()
