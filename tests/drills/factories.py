"""Drill test data: shipped files imported through the importers, and typical reports."""
from __future__ import annotations

import shutil
from pathlib import Path

from lms.contentsync import SyncContext, SyncReport
from lms.db import utcnow
from lms.drills import importer, queries
from lms.extensions import db

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "question_bank"
FIXTURES = ROOT / "tests" / "data" / "question_bank"
NOISE = "night-construction-noise"

#: a report a hurried worker would send for the night-noise drill: vague time and place, no parties, wrong routing
POOR = {"event_type": "噪声扰民", "occurred_at": "晚上", "location": "工地", "parties": "",
        "description": "工地很吵，居民有意见。", "demand": "", "measures": "", "department": "城管局（综合行政执法局）",
        "urgency": "一般"}


def model_report(code: str = NOISE) -> dict:
    """The drill's model report (accepted by construction)."""
    return dict(queries.get_drill(code).definition["model_report"])


def copy_bank(tmp_path: Path, *names: str, source: Path = SHIPPED) -> Path:
    """A question_bank folder in tmp_path with the shipped taxonomy and the named drills."""
    bank = tmp_path / "question_bank"
    (bank / "drills").mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "taxonomy.yaml", bank / "taxonomy.yaml")
    for name in names:
        shutil.copy(source / "drills" / f"{name}.yaml", bank / "drills" / f"{name}.yaml")
    return bank


def run_importers(questions_dir: Path, now=None) -> SyncReport:
    """Run the taxonomy and drill importers as `content import` does (the caller commits)."""
    ctx = SyncContext(questions_dir.parent / "courses", questions_dir, now or utcnow())
    report = SyncReport()
    importer.import_taxonomy(ctx, report)
    importer.import_drills(ctx, report)
    return report


def import_noise(tmp_path: Path) -> None:
    """The shipped taxonomy and the night-noise drill, committed."""
    report = run_importers(copy_bank(tmp_path, NOISE))
    assert not report.errors, report.errors
    db.session.commit()
