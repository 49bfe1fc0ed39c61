"""The bench generators at a tiny scale: the counts they promise, consistent rows, pages that open.

bench/province.py's province and bench/run.py's county (`make bench`). Runs on the suite's database (SQLite, or
PostgreSQL where the province loads with COPY), so the generators the benchmarks rely on cannot rot unnoticed.
Behaviour only: no timings here.
"""
from __future__ import annotations

import collections

import sqlalchemy as sa

from bench.generate import BENCH_PASSWORD
from bench.province import Shape, generate
from lms.accounts.models import Role, RoleGrant, User
from lms.certification.models import Certificate
from lms.courses.models import CourseEnrollment, LessonProgress
from lms.drills.models import DrillReport
from lms.extensions import db
from lms.mentoring.models import Activity, Pairing, PairingMentee
from lms.org.models import OrgKind, OrgUnit
from lms.org.queries import get_org
from lms.quizzes.models import Attempt, Quiz
from lms.trainings.models import Attendance, Training
from tests.factories import ApiClient, make_user

TINY = Shape(cities=1, counties_per_city=2, townships_per_county=2, villages_per_township=2, grids_per_village=2,
             users=60, progress=300, attempts=150, drill_reports=40, trainings_per_township=2,
             attendance_share=0.5, workers_per_pairing=10)


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_tiny_province_has_the_promised_rows_and_opens_in_the_measured_pages(app, client):
    result = generate(TINY, seed=3)

    kinds = dict(db.session.execute(sa.select(OrgUnit.kind, sa.func.count()).group_by(OrgUnit.kind)).all())
    # Generated: 1 province, 1 city, 2 counties (HX among them), 4 townships, 8 villages, 16 grids; plus the demo
    # county's own 2 townships, 4 villages and 6 grids.
    assert kinds == {OrgKind.province: 1, OrgKind.city: 1, OrgKind.county: 2, OrgKind.township: 6,
                     OrgKind.village: 12, OrgKind.grid: 22}
    parent = sa.orm.aliased(OrgUnit)
    wrong_paths = db.session.scalar(
        sa.select(sa.func.count()).select_from(OrgUnit).join(parent, parent.id == OrgUnit.parent_id)
        .where(OrgUnit.path != parent.path + sa.cast(OrgUnit.id, sa.String) + "/"))
    assert wrong_paths == 0
    assert get_org("HX").path.startswith(get_org("PV01").path)

    staff = ["hr-HX", "hr-PV0102"] + [f"hr-{county}{town}" for county in ("HX", "PV0102") for town in (11, 12)]
    generated = sa.or_(User.username.like("bw%"), User.username.in_(staff))
    assert _count(User, User.username.like("bw%")) == 54  # 60 accounts less an HR per county and per township
    assert _count(User, User.username.in_(staff)) == 6
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(User.password_hash))).where(generated)) == 1
    leaders = sa.select(RoleGrant.org_id).join(User, User.id == RoleGrant.user_id).where(
        RoleGrant.role == Role.grid_leader, User.username.like("bw%"))
    assert len(set(db.session.scalars(leaders))) == 16  # a leader in each generated grid

    assert _count(LessonProgress) == TINY.progress
    assert _count(Attempt) == TINY.attempts
    assert _count(DrillReport) == TINY.drill_reports
    assert _count(Training) == 4 * TINY.trainings_per_township
    assert _count(Pairing) == 6 and _count(PairingMentee) == 12 and _count(Activity) == 36
    assert _count(CourseEnrollment) > 0 and _count(Certificate) > 0 and _count(Attendance) > 0
    # Attempt numbers never pass a quiz's limit, and stay unique per learner and quiz (the constraint held).
    over = db.session.scalar(sa.select(sa.func.count()).select_from(Attempt).join(Quiz, Quiz.id == Attempt.quiz_id)
                             .where(Quiz.max_attempts.is_not(None), Attempt.number > Quiz.max_attempts))
    assert over == 0
    assert result["counts"]["quiz_attempts"] == TINY.attempts

    # Ids were chosen by the generator: new rows made the ordinary way must not collide with them.
    make_user("after-generation", "worker", get_org("HX11"))

    picks = result["picks"]
    assert picks["township"] == "HX11" and get_org("HX11").kind == OrgKind.township
    assert get_org("HX11").path.startswith(get_org("HX").path)
    hr = ApiClient(client)
    assert hr.login(picks["hr"], BENCH_PASSWORD).status_code == 200
    dashboard = hr.get(f"/stats/dashboard?org={picks['township']}")
    assert dashboard.status_code == 200
    assert "红溪县第11镇第1村" in dashboard.get_data(as_text=True)  # a bar per village of the township
    hr.delete("/api/v1/session")
    worker = ApiClient(client)
    assert worker.login(picks["worker"], BENCH_PASSWORD).status_code == 200
    home = worker.get("/")
    assert home.status_code == 200
    # The county courses assigned to HX reach the worker's home page with their progress.
    assert "已学" in home.get_data(as_text=True) or "已完成" in home.get_data(as_text=True)

def test_shape_at_a_scale_keeps_the_province_proportions():
    full, quick = Shape(), Shape.at(0.01)
    assert (full.counties, full.users, full.progress, full.attempts) == (100, 200_000, 2_000_000, 1_000_000)
    assert Shape.at(1.0) == full
    assert (quick.counties, quick.users, quick.progress, quick.attempts) == (1, 2000, 20_000, 10_000)


def test_county_generator_tops_up_content_and_spreads_graded_attempts(app, client, tmp_path):
    """make bench's county (bench/run.py prepare) at a small scale: the stated counts, consistent attempts."""
    import random

    from bench.generate import generate as generate_county
    from bench.generate import generate_attempts
    from bench.run import assign_courses, bench_content
    from lms.contentsync import run_import
    from lms.courses.models import Assignment, Course, Lesson
    from lms.quizzes.models import AttemptStatus, Question

    from lms.accounts.demo import ensure_demo

    ensure_demo()  # the demo county HX the content and the workers belong to, as `flask demo` makes it
    db.session.commit()
    courses_dir, questions_dir, content = bench_content(tmp_path, courses=14, questions=500)
    assert content["courses"] == 14 and content["questions"] == 500
    report = run_import(courses_dir, questions_dir)
    assert not report.errors
    db.session.commit()
    users = generate_county(40)
    assert generate_attempts(300, random.Random(1)) == 300
    assert assign_courses() == 14

    assert len(users) == 40 and _count(User, User.username.like("bw%")) == 40
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(User.password_hash)))
                             .where(User.username.like("bw%"))) == 1
    assert _count(Course, Course.is_published.is_(True)) == 14
    assert _count(Assignment, Assignment.org_id == get_org("HX").id) == 14
    generated = content["generated_courses"]
    assert generated > 0 and _count(Lesson, Lesson.course_id.in_(
        sa.select(Course.id).where(Course.code.like("county-gen-%")))) == content["generated_lessons"] > 0
    assert _count(Question) == 500
    assert {"bench-20", "bench-exam"} <= set(db.session.scalars(sa.select(Quiz.code)))

    attempts = db.session.execute(sa.select(Attempt, Quiz).join(Quiz, Quiz.id == Attempt.quiz_id)).all()
    assert len(attempts) == 300
    assert all(a.status == AttemptStatus.submitted and a.graded_at and a.score is not None for a, _ in attempts)
    assert not [q for _, q in attempts if q.code.startswith("bench-")]  # the live rows' quizzes stay free
    assert all(a.number <= (q.max_attempts or 3) for a, q in attempts)
    keys = [(a.user_id, a.quiz_id, a.number) for a, _ in attempts]
    assert len(set(keys)) == len(keys)
    per_worker = collections.Counter(a.user_id for a, _ in attempts)
    assert set(per_worker.values()) <= {7, 8} and len(per_worker) == 40  # 300 over 40, evenly

    # A generated worker sees the generated courses and can start the bench quiz the autosave row uses.
    worker = ApiClient(client)
    assert worker.login(users[0], BENCH_PASSWORD).status_code == 200
    assert "生成课程 0" in worker.get("/courses").get_data(as_text=True)
    assert worker.post("/api/v1/quizzes/bench-20/attempts").status_code in (200, 201)
