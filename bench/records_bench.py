"""学时档案 and quiz results for a county of 2,000 workers (issue #12.4/#12.5), in process, one request at a time.

    .venv/bin/python bench/records_bench.py [--db URL] [--workers 2000]

Builds a fresh county (SQLite in a temporary folder unless --db names an empty PostgreSQL database): 2,000
workers over 10 townships × 4 villages × 5 grids, each with 3 course enrolments (2 completed), 2 training
attendances, 2 quiz attempts, an accepted drill report for a third, points for all and a certificate for half.
Then times, as the county HR, the records totals export (/exports/records.xlsx), the quiz results export and
page, and one person's record page, PDF and XLSX: median of 5 runs after one warm-up. Prints a table.
"""
from __future__ import annotations

import argparse
import datetime as dt
import decimal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from lms import create_app  # noqa: E402
from lms.extensions import db  # noqa: E402

PASSWORD = "Bench-Records-2026"


def build(workers: int) -> None:
    from lms.accounts.models import Role, RoleGrant, User
    from lms.accounts.services import create_user
    from lms.certification.models import Certificate, CertificateStatus, Program
    from lms.courses.models import Course, CourseEnrollment, CourseLevel
    from lms.db import utcnow
    from lms.drills.models import Drill, DrillOrigin, DrillReport, Verdict
    from lms.org.models import OrgKind
    from lms.org.services import create_org
    from lms.points.models import PointEntry, PointKind
    from lms.quizzes.models import Attempt, AttemptStatus, Quiz
    from lms.trainings.models import Attendance, AttendanceMethod, Training, TrainingLevel

    now = utcnow()
    county = create_org("HX", "红溪县", OrgKind.county, None, None, None)
    grids = []
    for t in range(10):
        township = create_org(f"HX{t:02d}", f"第{t}镇", OrgKind.township, county, None, None)
        for v in range(4):
            village = create_org(f"HX{t:02d}{v:02d}", f"第{t}镇{v}村", OrgKind.village, township, None, None)
            for g in range(5):
                grids.append(create_org(f"HX{t:02d}{v:02d}{g:02d}", f"第{t}镇{v}村{g}网格", OrgKind.grid, village,
                                        300, None))
    hr = create_user(username="hr", name="县人事", org=county, roles=[(Role.hr, county)], password=PASSWORD,
                     must_change_password=False)
    trainer = create_user(username="trainer", name="县培训员", org=county, roles=[(Role.trainer, county)],
                          password=PASSWORD, must_change_password=False)
    db.session.flush()
    users = [{"username": f"w{n:05d}", "name": f"网格员{n}", "org_id": grids[n % len(grids)].id,
              "status": "active", "password_hash": "x", "must_change_password": False, "is_demo": False,
              "created_at": now, "hired_on": dt.date(2015 + n % 10, 1 + n % 12, 1)} for n in range(workers)]
    db.session.execute(sa.insert(User), users)
    ids = dict(db.session.execute(sa.select(User.username, User.id)).all())
    orgs = {ids[u["username"]]: u["org_id"] for u in users}
    db.session.execute(sa.insert(RoleGrant), [{"user_id": uid, "role": Role.worker, "org_id": org}
                                              for uid, org in orgs.items()])
    courses = []
    for i, level in enumerate((CourseLevel.county, CourseLevel.township, CourseLevel.village)):
        course = Course(code=f"c{i}", title=f"课程{i}", level=level, org_id=county.id, hours=2 + i,
                        is_published=True)
        db.session.add(course)
        courses.append(course)
    quiz = Quiz(code="county-exam", title="县级考试", org_id=county.id, draws=[], time_limit_minutes=30,
                pass_score=60, max_attempts=3)
    drill = Drill(code="d1", title="演练", org_id=county.id, definition={}, origin=DrillOrigin.web)
    program = Program(code="WG-SG", title="上岗证", valid_months=36, requires={})
    training = Training(level=TrainingLevel.township, title="培训", starts_at=now, ends_at=now, place="会议室",
                        trainer_id=trainer.id, hours=decimal.Decimal("3"), org_id=county.id, checkin_secret="x")
    training2 = Training(level=TrainingLevel.county, title="培训二", starts_at=now, ends_at=now, place="会议室",
                         trainer_id=trainer.id, hours=decimal.Decimal("2"), org_id=county.id, checkin_secret="y")
    db.session.add_all([quiz, drill, program, training, training2])
    db.session.flush()
    enrol, attend, attempts, reports, points, certs = [], [], [], [], [], []
    for n, (uid, org) in enumerate(orgs.items()):
        for i, course in enumerate(courses):
            enrol.append({"user_id": uid, "course_id": course.id, "org_id": org, "started_at": now,
                          "completed_at": now if i < 2 else None})
        for t in (training, training2):
            attend.append({"training_id": t.id, "user_id": uid, "org_id": org, "method": AttendanceMethod.roll,
                           "recorded_at": now})
        for number, score in ((1, 40 + n % 50), (2, 55 + n % 45)):
            attempts.append({"quiz_id": quiz.id, "user_id": uid, "org_id": org, "number": number,
                             "status": AttemptStatus.submitted, "started_at": now, "deadline": now,
                             "submitted_at": now, "graded_at": now, "score": score, "passed": score >= 60,
                             "paper": [], "answer_slots": {}, "marks": {}})
        if n % 3 == 0:
            reports.append({"drill_id": drill.id, "drill_version": 1, "user_id": uid, "org_id": org, "fields": {},
                            "verdict": Verdict.accepted, "score": 80, "checks": [], "created_at": now})
        points.append({"user_id": uid, "kind": PointKind.lesson_complete, "points": 10 + n % 30, "reason": "课时",
                       "source_type": "bench", "source_id": str(n), "org_id": org, "created_at": now})
        if n % 2 == 0:
            certs.append({"number": f"WG-SG-2026-{n:06d}", "year": 2026, "seq": n + 1, "verify_code": f"v{n:010d}",
                          "holder_id": uid, "program_id": program.id, "org_id": org, "issued_on": dt.date(2026, 1, 1),
                          "expires_on": dt.date(2028, 12, 31), "status": CertificateStatus.valid, "reason": "bench",
                          "created_at": now})
    for model, rows in ((CourseEnrollment, enrol), (Attendance, attend), (Attempt, attempts), (DrillReport, reports),
                        (PointEntry, points), (Certificate, certs)):
        db.session.execute(sa.insert(model), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # as autovacuum would after a bulk load
    del hr


def timed(client, url: str, runs: int = 5) -> tuple[float, int, int]:
    """(median seconds, status, bytes) over runs after a warm-up; the body read in full (streams included)."""
    client.get(url, buffered=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, buffered=True)
        size = len(response.data)
        times.append(time.perf_counter() - start)
    return statistics.median(times), response.status_code, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="an empty database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--workers", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="records-bench-"))
    url = args.db or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ARGON2_MEMORY_KIB": 1024,
                      "ARGON2_TIME_COST": 1, "PUBLIC_URL": "http://lms.test", "WTF_CSRF_ENABLED": False})
    app.instance_path = str(folder / "instance")
    with app.app_context():
        db.create_all()
        build(args.workers)
        db.session.remove()
    client = app.test_client()
    assert client.post("/api/v1/session", json={"username": "hr", "password": PASSWORD}).status_code == 200
    rows = [("records totals export (XLSX, whole county)", "/exports/records.xlsx"),
            ("quiz results export (XLSX, whole county)", "/exports/quiz-results.xlsx?quiz=county-exam"),
            ("quiz results page (first 100)", "/quizzes/county-exam/results"),
            ("one record page", "/users/w00007/record"),
            ("one record PDF", "/users/w00007/record.pdf"),
            ("one record XLSX", "/users/w00007/record.xlsx"),
            ("one record JSON", "/api/v1/users/w00007/record")]
    print(f"| {args.workers} workers, {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'} | median | status | bytes |")
    print("| --- | --- | --- | --- |")
    for label, path in rows:
        seconds, status, size = timed(client, path)
        print(f"| {label} | {seconds * 1000:.0f} ms | {status} | {size:,} |")


if __name__ == "__main__":
    main()
