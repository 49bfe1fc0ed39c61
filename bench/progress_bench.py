"""The progress list of one course for a county (issue #12.3): the page, the JSON and the XLSX export as the demo hr.

Used by bench/run.py (rows "progress page" under wrk, and "progress export"): make_progress() gives the
county's workers lesson progress in the shipped course county-grid-duties (assigned to the whole county by
run.py: 30% completed, 30% part-way, the rest not started, their due day passed for a tenth so that every
status occurs), then measure() times single requests one after another, the server's time as a lone client
sees it. Targets (DESIGN.md): page ≤ 300 ms, XLSX ≤ 2 s, both databases.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE = "county-grid-duties"
PAGE = f"/progress?kind=course&code={COURSE}"
JSON = f"/api/v1/progress?kind=course&code={COURSE}&per_page=500"
EXPORT = f"/exports/progress.xlsx?kind=course&code={COURSE}"
TARGETS = {"page": 0.300, "export": 2.0}

PROGRESS_CODE = """
import datetime as dt, json, sys
import sqlalchemy as sa
from lms import create_app
from lms.accounts.models import Role, RoleGrant, User
from lms.courses.models import Assignment, Course, CourseEnrollment, Lesson, LessonProgress
from lms.db import utcnow
from lms.extensions import db
from lms.org.queries import get_org
app = create_app()
with app.app_context():
    course = db.session.scalar(sa.select(Course).where(Course.code == sys.argv[1]))
    lessons = list(db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id, ~Lesson.is_retired)
                                      .order_by(Lesson.position)))
    workers = db.session.execute(sa.select(User.id, User.org_id).join(RoleGrant, RoleGrant.user_id == User.id)
                                 .where(RoleGrant.role == Role.worker).order_by(User.id)).all()
    now = utcnow()
    progress, enrolments = [], []
    for i, (uid, org_id) in enumerate(workers):
        share = i % 10
        if share >= 6:
            continue
        done = lessons if share < 3 else lessons[:1]
        at = now - dt.timedelta(days=1 + i % 20)
        progress += [{"user_id": uid, "lesson_id": l.id, "course_id": course.id, "org_id": org_id,
                      "last_opened_at": at, "completed_at": at} for l in done]
        enrolments.append({"user_id": uid, "course_id": course.id, "org_id": org_id, "started_at": at,
                           "last_lesson_id": done[-1].id, "last_opened_at": at,
                           "completed_at": at if share < 3 else None, "completed_org_id": org_id if share < 3 else None})
    db.session.execute(sa.insert(LessonProgress), progress)
    db.session.execute(sa.insert(CourseEnrollment), enrolments)
    # an older assignment of the course to the first township, already overdue: 已逾期 rows too
    first = sorted(get_org("HX").children, key=lambda o: o.code)[0]
    db.session.add(Assignment(course=course, org=first, due_on=now.date() - dt.timedelta(days=3), created_at=now))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    print(json.dumps({"workers": len(workers), "lesson_rows": len(progress), "enrolments": len(enrolments)}))
"""


def make_progress(env: dict) -> dict:
    """Lesson progress and enrolments of the county's workers in COURSE (a subprocess on env's database)."""
    done = subprocess.run([sys.executable, "-c", PROGRESS_CODE, COURSE], env=env, cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit("progress generation failed:\n" + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(port: int, *, requests: int = 30, downloads: int = 3, log=print) -> dict:
    """Single-client timings as the demo hr: the page, the JSON (500 rows) and the export; rows checked."""
    from bench.export_bench_routes import download
    from bench.run import login
    from lms.accounts.demo import DEMO_PASSWORD

    cookie, _ = login(f"http://127.0.0.1:{port}", "hr", DEMO_PASSWORD)
    results = {}
    for name, path, count in (("page", PAGE, requests), ("json", JSON, requests), ("export", EXPORT, downloads)):
        status, body, _, _ = download(port, path, cookie)  # warm-up: compiled statements, caches
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
        timings, errors = [], 0
        for _ in range(count):
            status, body, _, elapsed = download(port, path, cookie)
            timings.append(elapsed)
            errors += status != 200
        results[name] = {"p50": _percentile(timings, 0.5), "max": max(timings), "errors": errors,
                         "bytes": len(body), "requests": count}
        if name == "json":
            payload = json.loads(body)
            results[name]["summary"] = payload["summary"]
        log(f"progress {name}: median {results[name]['p50'] * 1000:.0f} ms, max {results[name]['max'] * 1000:.0f} ms "
            f"over {count} requests, {len(body):,} bytes")
    results["summary"] = results["json"].get("summary")
    return results


def table_lines(result: dict, load: float) -> list[str]:
    """Rows for bench/run.py's table."""
    page, api, export = result["page"], result["json"], result["export"]
    people = sum((result.get("summary") or {}).values())
    # the median: one lone client on a machine shared with other work; the max is printed beside it
    ok_page = page["p50"] <= TARGETS["page"] and page["errors"] == 0
    ok_export = export["p50"] <= TARGETS["export"] and export["errors"] == 0
    return [
        f"| progress page, one course, {people:,} people (demo hr, county; single client, median / max) "
        f"| {page['p50'] * 1000:.0f} / {page['max'] * 1000:.0f} ms | | ≤ 300 ms{' ✓' if ok_page else ' ✗'} | | "
        f"{page['errors']} | | {load:.2f} |",
        f"| progress JSON, per_page=500 (median / max) | {api['p50'] * 1000:.0f} / {api['max'] * 1000:.0f} ms | | | | "
        f"{api['errors']} | | {load:.2f} |",
        f"| progress export XLSX, {people:,} rows (median / max) | {export['p50']:.2f} / {export['max']:.2f} s | | "
        f"≤ 2 s{' ✓' if ok_export else ' ✗'} | | {export['errors']} | | {load:.2f} |",
    ]


if __name__ == "__main__":  # pragma: no cover - run through bench/run.py --only progress
    sys.exit("run it through bench/run.py: python bench/run.py --only progress [--pg]")
