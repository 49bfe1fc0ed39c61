"""bench/province.py's generator at a tiny scale: the counts it promises, a consistent tree, pages that open.

Runs on the suite's database (SQLite, or PostgreSQL where it loads with COPY), so the generator the
province benchmark relies on cannot rot unnoticed. Behaviour only: no timings here.
"""
from __future__ import annotations

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
