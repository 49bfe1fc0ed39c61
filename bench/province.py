"""Province scale on PostgreSQL (DESIGN.md): 200,000 users, 2 M lesson-progress rows, 1 M quiz attempts.

Usage: python bench/province.py [--scale 1.0] [--keep] [--reuse] [--requests 60] [--warmup 5] [--no-live]
                                [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--database lms_province]

Creates the scratch database (dropped at the end unless --keep; --reuse measures a kept one again without
generating), runs `db upgrade`, builds a province — 1 province → 10 cities → 100 counties → 1,500
townships → 15,000 villages → 30,000 grids; the demo county 红溪县 (HX) is one of the counties, so the
shipped content (`content import`) reaches its townships — and bulk-loads people and their records
(COPY on PostgreSQL, executemany of Core inserts elsewhere; every account shares ONE password hash): lesson
progress and enrollments over the county courses, graded quiz attempts (status, score, graded_at — what the
statistics read; no stored answers and an empty paper, which a real attempt keeps out of line in TOAST), drill
reports with their checks, certificates, township trainings with attendance, mentoring pairings, and a year of
the grid platform's events (issue #19: a full year for HX's workers, a thinner one elsewhere).

Then it measures SERVER time, median and p99 after a warm-up, of the township dashboard and the township's
现场上报质量 page (an HR of one township of HX) and the worker home (a worker of that township): in-process through the Flask test
client, and through a live gunicorn (deploy/gunicorn.conf.py), whose access log gives each request's own
time (%(D)s µs). It prints one table with the targets, and the slowest SQL statements of each page.
--scale 0.01 is a quick run (2,000 users).
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import types
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DASHBOARD_TARGET_MS = 300
HOME_TARGET_MS = 50


@dataclasses.dataclass(frozen=True)
class Shape:
    """How big the province is; Shape() is DESIGN.md's province, Shape.at(scale) a fraction of it."""

    cities: int = 10
    counties_per_city: int = 10
    townships_per_county: int = 15
    villages_per_township: int = 10
    grids_per_village: int = 2
    #: every account, staff (an HR per county and per township) included
    users: int = 200_000
    #: lesson_progress rows (the course-progress figure of DESIGN.md); enrollments follow from them
    progress: int = 2_000_000
    attempts: int = 1_000_000
    drill_reports: int = 200_000
    trainings_per_township: int = 4
    #: share of a township's workers at each of its trainings
    attendance_share: float = 0.3
    #: one mentor (with two mentees) per this many workers
    workers_per_pairing: int = 50
    #: grid-platform events (issue #19) a worker of the measured county HX reports in the year: a full year
    field_events_hx: int = 250
    #: the same for every other worker of the province (a thinner year: the table's size, not each county's)
    field_events_other: int = 20

    @classmethod
    def at(cls, scale: float) -> Shape:
        counties = max(1, round(100 * scale))
        cities = max(1, min(10, counties // 10))
        return cls(cities=cities, counties_per_city=math.ceil(counties / cities),
                   users=max(100, round(200_000 * scale)), progress=round(2_000_000 * scale),
                   attempts=round(1_000_000 * scale), drill_reports=round(200_000 * scale))

    @property
    def counties(self) -> int:
        return self.cities * self.counties_per_city


# --- bulk loading ---------------------------------------------------------------------------------------------

class Loader:
    """Bulk inserts with ids chosen here: COPY on PostgreSQL, batched executemany of Core inserts elsewhere."""

    def __init__(self, session, *, trusted: bool = False):
        import sqlalchemy as sa

        self.sa = sa
        self.session = session
        self.dialect = session.connection().dialect
        self.copy = self.dialect.name == "postgresql"
        #: skip the foreign-key triggers while copying (PostgreSQL superuser; the rows are generated consistent,
        #: and the suite's run of the generator keeps the checks on)
        self.trusted = trusted and self.copy and bool(
            session.connection().exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar())
        self.counts: collections.Counter = collections.Counter()
        self._next: dict[str, int] = {}

    @property
    def conn(self):
        """The session's connection: a new one after each commit, in the session's transaction."""
        return self.session.connection()

    def ids(self, table, n: int) -> range:
        """n fresh primary keys of table (after whatever it holds)."""
        if table.name not in self._next:
            self._next[table.name] = (self.conn.execute(self.sa.select(self.sa.func.max(table.c.id))).scalar() or 0) + 1
        first = self._next[table.name]
        self._next[table.name] = first + n
        return range(first, first + n)

    def load(self, table, columns: list[str], rows) -> int:
        """Insert rows (tuples in the order of columns, Python values as the ORM takes them).

        Columns left out get their model default (evaluated once), as the ORM would give them.
        """
        extra = {}
        for column in table.columns:
            default = column.default
            if column.name in columns or default is None or column.primary_key:
                continue
            extra[column.name] = default.arg if default.is_scalar else default.arg(None)
        if extra:
            columns = list(columns) + list(extra)
            tail = tuple(extra.values())
            rows = (tuple(row) + tail for row in rows)
        n = 0
        if self.copy:
            processors = [table.c[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)
                          for name in columns]
            if self.trusted:
                self.conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            raw = self.conn.connection.dbapi_connection
            with raw.cursor() as cursor, cursor.copy(
                    f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([p(v) if p is not None and v is not None else v
                                    for p, v in zip(processors, row)])
                    n += 1
        else:
            batch = []
            for row in rows:
                batch.append(dict(zip(columns, row)))
                if len(batch) == 5000:
                    self.conn.execute(self.sa.insert(table), batch)
                    n += len(batch)
                    batch = []
            if batch:
                self.conn.execute(self.sa.insert(table), batch)
                n += len(batch)
        self.counts[table.name] += n
        return n

    def sync_sequences(self) -> None:
        """PostgreSQL: move each loaded table's id sequence past the ids chosen here."""
        if not self.copy:
            return
        for name in self._next:
            self.conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{name}\"), false)")


# --- the province ---------------------------------------------------------------------------------------------

def _tree(loader: Loader, shape: Shape) -> dict:
    """Org units with their paths; county 0 of city 0 is the demo county HX. Returns the units by level."""
    from lms.org.models import GridType, OrgKind, OrgUnit

    table = OrgUnit.__table__
    rows, levels = [], collections.defaultdict(list)
    total = (1 + shape.cities + shape.counties
             + shape.counties * shape.townships_per_county * (1 + shape.villages_per_township
                                                              * (1 + shape.grids_per_village)))
    next_id = iter(loader.ids(table, total))

    def add(code, name, kind, parent, households=None, grid_type=None):
        unit_id = next(next_id)
        path = f"{parent['path'] if parent else '/'}{unit_id}/"
        unit = {"id": unit_id, "code": code, "path": path, "name": name,
                "depth": parent["depth"] + 1 if parent else 0, "parent": parent}
        rows.append((unit_id, code, name, kind, parent["id"] if parent else None, path, unit["depth"],
                     households, grid_type))
        levels[kind].append(unit)
        return unit

    province = add("PV", "测试省", OrgKind.province, None)
    for c in range(1, shape.cities + 1):
        city = add(f"PV{c:02d}", f"测试省第{c}市", OrgKind.city, province)
        for k in range(1, shape.counties_per_city + 1):
            first = c == 1 and k == 1
            code = "HX" if first else f"PV{c:02d}{k:02d}"
            county = add(code, "红溪县" if first else f"{city['name']}第{k}县", OrgKind.county, city)
            # Township numbers from 11: HX01/HX02 are the demo county's own (demo creates them).
            for t in range(11, 11 + shape.townships_per_county):
                town = add(f"{code}{t:02d}", f"{county['name']}第{t}镇", OrgKind.township, county)
                for v in range(1, shape.villages_per_township + 1):
                    village = add(f"{town['code']}{v:02d}", f"{town['name']}第{v}村", OrgKind.village, town)
                    for g in range(1, shape.grids_per_village + 1):
                        add(f"{village['code']}{g:02d}", f"{village['name']}第{g}网格", OrgKind.grid, village,
                            200 + (g * 37 + v * 11) % 300, GridType.rural if g % 3 else GridType.mountain)
    loader.load(table, ["id", "code", "name", "kind", "parent_id", "path", "depth", "households", "grid_type"],
                rows)
    return levels


def _ancestor(unit: dict, depth: int) -> dict:
    while unit["depth"] > depth:
        unit = unit["parent"]
    return unit


def _spread(total: int, people: int, cap: int, rng: random.Random) -> list[int]:
    """Per-person counts summing to total (when cap allows), varied in pairs around the mean."""
    if people == 0:
        return []
    mean = min(total // people, cap)
    counts = [mean] * people
    room = min(mean, cap - mean)
    for i in range(0, people - 1, 2):
        d = rng.randint(0, room)
        counts[i] += d
        counts[i + 1] -= d
    rest = total - mean * people
    for i in range(people):
        if rest <= 0:
            break
        if counts[i] < cap:
            counts[i] += 1
            rest -= 1
    return counts


def generate(shape: Shape, seed: int = 7, log=lambda message: None, *, trusted: bool = False) -> dict:
    """The whole province on an empty, upgraded database, inside an app context; commits.

    trusted: on PostgreSQL as a superuser, COPY without firing the foreign-key checks (the benchmark's speed-up).

    Returns {"counts": rows per table, "seconds": per phase, "picks": the township, HR and worker measured}.
    """
    import sqlalchemy as sa

    from bench.generate import generate_workers
    from lms.accounts.demo import ensure_demo
    from lms.accounts.models import OrgMembership, Role, RoleGrant, User
    from lms.certification.codes import format_number, new_verify_code
    from lms.certification.models import Certificate, CertificateStatus, Program
    from lms.certification.services import number_prefix, validity_end
    from lms.contentsync import run_import
    from lms.courses.models import (Assignment, Course, CourseEnrollment, CourseLevel, Lesson,
                                    LessonProgress)
    from lms.db import utcnow
    from lms.drills.content import FORM_FIELDS, RULE_NAMES
    from lms.drills.models import Drill, DrillReport, Verdict
    from lms.extensions import db
    from lms.mentoring.models import Activity, ActivityKind, ActivityStatus, Pairing, PairingMentee
    from lms.org.models import OrgKind
    from lms.quizzes.models import Attempt, AttemptStatus, Quiz
    from lms.trainings.models import Attendance, AttendanceMethod, Training, TrainingLevel

    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def phase(name: str) -> None:
        now = time.perf_counter()
        seconds[name] = now - clock[0]
        clock[0] = now
        log(f"  {name}: {seconds[name]:.1f} s")

    loader = Loader(db.session, trusted=trusted)
    levels = _tree(loader, shape)
    loader.sync_sequences()
    ensure_demo()
    db.session.commit()
    phase("org tree + demo")

    report = run_import(ROOT / "courses", ROOT / "question_bank")
    if report.errors:
        raise SystemExit("content import failed:\n" + "\n".join(map(str, report.errors[:20])))
    db.session.commit()
    phase("content import")

    # People: workers through the county bench's generator (one hash), then staff with that same hash.
    loader = Loader(db.session, trusted=trusted)
    grids = levels[OrgKind.grid]
    staff_units = levels[OrgKind.county] + levels[OrgKind.township]
    workers = max(len(grids), shape.users - len(staff_units))
    generate_workers(workers, [types.SimpleNamespace(id=g["id"]) for g in grids], rng)
    password_hash = db.session.scalar(sa.select(User.password_hash).where(User.username == "bw000000"))
    now = utcnow()
    today = now.date()
    staff_ids = loader.ids(User.__table__, len(staff_units))
    loader.load(User.__table__, ["id", "username", "name", "org_id", "status", "password_hash",
                                 "must_change_password", "is_demo", "created_at"],
                ((uid, f"hr-{unit['code']}", f"{unit['name']}综治中心", unit["id"], "active", password_hash,
                  False, True, now) for uid, unit in zip(staff_ids, staff_units)))
    loader.load(OrgMembership.__table__, ["id", "user_id", "org_id", "started_at"],
                ((mid, uid, unit["id"], now) for mid, uid, unit in
                 zip(loader.ids(OrgMembership.__table__, len(staff_units)), staff_ids, staff_units)))
    grid_of = {g["id"]: g for g in grids}
    people = db.session.execute(sa.select(User.id, User.org_id).where(User.username.like("bw%"))
                                .order_by(User.id)).all()
    leaders, seen = [], set()
    for uid, org_id in people:
        if org_id not in seen:
            seen.add(org_id)
            leaders.append((uid, org_id))
    grants = [(uid, Role.hr, unit["id"]) for uid, unit in zip(staff_ids, staff_units)]
    grants += [(uid, Role.grid_leader, org_id) for uid, org_id in leaders]
    loader.load(RoleGrant.__table__, ["id", "user_id", "role", "org_id"],
                ((gid, *grant) for gid, grant in zip(loader.ids(RoleGrant.__table__, len(grants)), grants)))
    db.session.commit()
    phase(f"{len(people) + len(staff_units):,} users")

    def when(days_back: int, rng=rng) -> dt.datetime:
        return now - dt.timedelta(days=rng.randrange(days_back), minutes=rng.randrange(24 * 60))

    # Assignments: the county courses (and the county exam) to every county, due over the last 8 months.
    courses = list(db.session.scalars(sa.select(Course).where(Course.level == CourseLevel.county)
                                      .order_by(Course.code)))
    counties = levels[OrgKind.county]
    assignments = [(course.id, None, county["id"], Role.worker, today - dt.timedelta(days=30 * (i % 8) - 20), now)
                   for county in counties for i, course in enumerate(courses)]
    assignments += [(None, "exam-policy-2026", county["id"], Role.worker, today - dt.timedelta(days=40), now)
                    for county in counties]
    loader.load(Assignment.__table__, ["id", "course_id", "quiz_code", "org_id", "role", "due_on", "created_at"],
                ((aid, *row) for aid, row in zip(loader.ids(Assignment.__table__, len(assignments)), assignments)))

    # Progress: each worker works through the county courses' lessons in order, ~10 lessons each.
    lessons = db.session.execute(
        sa.select(Lesson.id, Lesson.course_id).join(Course, Course.id == Lesson.course_id)
        .where(Course.level == CourseLevel.county, Lesson.is_retired.is_(False))
        .order_by(Course.code, Lesson.position)).all()
    per_course = collections.Counter(course_id for _, course_id in lessons)
    done_counts = _spread(shape.progress, len(people), len(lessons), rng)
    enrollment_rows = []
    progress_ids = iter(loader.ids(LessonProgress.__table__, sum(done_counts)))

    def progress():
        for (uid, org_id), k in zip(people, done_counts):
            start = when(300)
            for j, (lesson_id, course_id) in enumerate(lessons[:k]):
                at = start + dt.timedelta(days=j)
                finished = at if j < k - 1 or rng.random() < 0.5 else None
                yield next(progress_ids), uid, lesson_id, course_id, org_id, at, finished

    for (uid, org_id), k in zip(people, done_counts):
        touched = collections.Counter(course_id for _, course_id in lessons[:k])
        for course_id, n in touched.items():
            complete = n == per_course[course_id] and rng.random() < 0.8
            at = when(300)
            enrollment_rows.append((uid, course_id, org_id, at, at, at if complete else None,
                                    at if complete else None, org_id if complete else None))
    # Ids before the COPY: the connection takes no other statement while a COPY runs.
    enrollment_ids = loader.ids(CourseEnrollment.__table__, len(enrollment_rows))

    loader.load(LessonProgress.__table__, ["id", "user_id", "lesson_id", "course_id", "org_id", "last_opened_at",
                                           "completed_at"], progress())
    loader.load(CourseEnrollment.__table__, ["id", "user_id", "course_id", "org_id", "started_at", "last_opened_at",
                                             "quiz_passed_at", "completed_at", "completed_org_id"],
                ((eid, *row) for eid, row in zip(enrollment_ids, enrollment_rows)))
    del enrollment_rows
    db.session.commit()
    phase(f"{loader.counts['lesson_progress']:,} lesson progress + {loader.counts['course_enrollments']:,} enrollments")

    # Quiz attempts: ~5 per worker over the shipped quizzes, numbers 1.. up to each quiz's limit; all graded.
    quizzes = db.session.execute(sa.select(Quiz.id, Quiz.pass_score, Quiz.time_limit_minutes, Quiz.max_attempts)
                                 .where(Quiz.is_retired.is_(False)).order_by(Quiz.code)).all()
    rounds = max((q.max_attempts or 3) for q in quizzes)
    slots = [(q, n) for n in range(1, rounds + 1) for q in quizzes if n <= (q.max_attempts or 3)]
    position = {q.id: i for i, q in enumerate(quizzes)}
    # Which quiz comes first rotates per worker; numbers still rise per quiz.
    rotations = [sorted(slots, key=lambda s, shift=shift: (s[1], (position[s[0].id] - shift) % len(quizzes)))
                 for shift in range(len(quizzes))]
    attempt_counts = _spread(shape.attempts, len(people), len(slots), rng)
    attempt_ids = iter(loader.ids(Attempt.__table__, sum(attempt_counts)))

    def attempts():
        for i, ((uid, org_id), k) in enumerate(zip(people, attempt_counts)):
            for quiz, number in rotations[i % len(quizzes)][:k]:
                graded = when(365)
                closed = rng.random() < 0.05
                score = float(rng.randrange(20, 101, 5))
                yield (next(attempt_ids), quiz.id, uid, org_id, number,
                       AttemptStatus.closed if closed else AttemptStatus.submitted,
                       graded - dt.timedelta(minutes=20), graded + dt.timedelta(minutes=quiz.time_limit_minutes - 20),
                       None if closed else graded, graded, score, score >= quiz.pass_score, [], {})

    loader.load(Attempt.__table__, ["id", "quiz_id", "user_id", "org_id", "number", "status", "started_at",
                                    "deadline", "submitted_at", "graded_at", "score", "passed", "paper", "marks"],
                attempts())
    db.session.commit()
    phase(f"{loader.counts['quiz_attempts']:,} quiz attempts")

    # Drill reports: round robin over workers and published drills; ~30% returned.
    drills = db.session.execute(sa.select(Drill.id, Drill.version).where(Drill.is_retired.is_(False))
                                .order_by(Drill.code)).all()
    report_ids = iter(loader.ids(DrillReport.__table__, shape.drill_reports))

    def reports():
        for r in range(shape.drill_reports):
            uid, org_id = people[r % len(people)]
            drill = drills[(r // len(people)) % len(drills)]
            failed = {rule for rule in RULE_NAMES if rng.random() < 0.06}
            checks = [{"rule": rule, "passed": rule not in failed, "message": "要素不完整" if rule in failed else "",
                       "field": None} for rule in RULE_NAMES]
            fields = {name: f"{name} 的填写内容 {r}" for name in FORM_FIELDS}
            yield (next(report_ids), drill.id, drill.version, uid, org_id, fields,
                   Verdict.returned if failed else Verdict.accepted, 60 if failed else 90, checks,
                   r // (len(people) * len(drills)) + 1, when(365))

    if drills and people:
        loader.load(DrillReport.__table__, ["id", "drill_id", "drill_version", "user_id", "org_id", "fields",
                                            "verdict", "score", "checks", "attempt", "created_at"], reports())
    db.session.commit()
    phase(f"{loader.counts['drill_reports']:,} drill reports")

    # Certificates: 上岗证 for ~70% of workers (issued over 3 years), 一星 for ~25% (this year).
    programs = {p.code: p for p in db.session.scalars(sa.select(Program))}
    seqs: collections.Counter = collections.Counter()
    certificate_rows = []
    for uid, org_id in people:
        for code, share, days in (("WG-SG", 0.7, 3 * 365), ("STAR-1", 0.25, 365)):
            program = programs.get(code)
            if program is None or rng.random() >= share:
                continue
            issued = today - dt.timedelta(days=rng.randrange(days))
            seqs[(program.id, issued.year)] += 1
            seq = seqs[(program.id, issued.year)]
            expires = validity_end(issued, program.valid_months)
            status = CertificateStatus.expired if expires < today else CertificateStatus.valid
            certificate_rows.append((format_number(number_prefix(program), issued.year, seq), issued.year, seq,
                                     new_verify_code(rng), uid, program.id, org_id, issued, expires, status,
                                     "自动发放", now))
    loader.load(Certificate.__table__, ["id", "number", "year", "seq", "verify_code", "holder_id", "program_id",
                                        "org_id", "issued_on", "expires_on", "status", "reason", "created_at"],
                ((cid, *row) for cid, row in zip(loader.ids(Certificate.__table__, len(certificate_rows)),
                                                 certificate_rows)))
    del certificate_rows
    db.session.commit()
    phase(f"{loader.counts['certificates']:,} certificates")

    # Trainings: a few per township over the last 10 months, attended by a share of its workers.
    township_depth = levels[OrgKind.township][0]["depth"]
    members = collections.defaultdict(list)
    for uid, org_id in people:
        members[_ancestor(grid_of[org_id], township_depth)["id"]].append((uid, org_id))
    hr_of = {unit["id"]: uid for uid, unit in zip(staff_ids, staff_units)}
    trainings, attendances = [], []
    training_ids = iter(loader.ids(Training.__table__, len(levels[OrgKind.township]) * shape.trainings_per_township))
    for town in levels[OrgKind.township]:
        team = members.get(town["id"], [])
        for _ in range(shape.trainings_per_township):
            tid = next(training_ids)
            starts = when(300)
            trainings.append((tid, TrainingLevel.township, f"{town['name']}乡培", starts,
                              starts + dt.timedelta(hours=2), f"{town['name']}综治中心会议室", hr_of[town["id"]],
                              Decimal("2.0"), town["id"], hr_of[town["id"]], now, f"{rng.getrandbits(128):032x}"))
            for uid, org_id in rng.sample(team, round(len(team) * shape.attendance_share)):
                attendances.append((tid, uid, org_id, AttendanceMethod.roll, hr_of[town["id"]], starts))
    loader.load(Training.__table__, ["id", "level", "title", "starts_at", "ends_at", "place", "trainer_id", "hours",
                                     "org_id", "created_by_id", "created_at", "checkin_secret"], trainings)
    loader.load(Attendance.__table__, ["id", "training_id", "user_id", "org_id", "method", "recorded_by_id",
                                       "recorded_at"],
                ((aid, *row) for aid, row in zip(loader.ids(Attendance.__table__, len(attendances)), attendances)))
    del trainings, attendances

    # Mentoring: one mentor per workers_per_pairing workers, with the next two workers of the list as mentees.
    pairings, mentees, activities = [], [], []
    pairing_ids = iter(loader.ids(Pairing.__table__, len(people) // shape.workers_per_pairing + 1))
    for i in range(0, len(people) - 2, shape.workers_per_pairing):
        (mentor, org_id), team = people[i], people[i + 1:i + 3]
        pid = next(pairing_ids)
        start = today - dt.timedelta(days=rng.randrange(200))
        pairings.append((pid, mentor, start, start + dt.timedelta(days=180), org_id, now))
        for uid, mentee_org in team:
            mentees.append((pid, uid))
            for k in range(3):
                day = min(today, start + dt.timedelta(days=7 * (k + 1)))
                confirmed = rng.random() < 0.7
                activities.append((pid, uid, mentee_org, rng.choice(list(ActivityKind)), day, 60,
                                   ActivityStatus.confirmed if confirmed else ActivityStatus.logged, mentor, now,
                                   now if confirmed else None))
    loader.load(Pairing.__table__, ["id", "mentor_id", "start_on", "end_on", "org_id", "created_at"], pairings)
    loader.load(PairingMentee.__table__, ["id", "pairing_id", "mentee_id"],
                ((mid, *row) for mid, row in zip(loader.ids(PairingMentee.__table__, len(mentees)), mentees)))
    loader.load(Activity.__table__, ["id", "pairing_id", "mentee_id", "org_id", "kind", "date", "minutes", "status",
                                     "logged_by_id", "logged_at", "confirmed_at"],
                ((aid, *row) for aid, row in zip(loader.ids(Activity.__table__, len(activities)), activities)))
    loader.sync_sequences()
    db.session.commit()
    phase(f"{loader.counts['attendances']:,} attendances, {loader.counts['pairings']:,} pairings")

    _field_events(loader, shape, people, grid_of, levels, now, rng)
    loader.sync_sequences()
    db.session.commit()
    phase(f"{loader.counts['field_events']:,} field events")

    if loader.copy:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        phase("ANALYZE")
    counts = {table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
              for table in db.metadata.sorted_tables}
    return {"counts": counts, "seconds": seconds, "picks": picks()}


def _field_events(loader: Loader, shape: Shape, people, grid_of: dict, levels: dict, now: dt.datetime,
                  rng: random.Random) -> None:
    """A year of the grid platform's events (issue #19): each worker a personal profile (lms.field.generate);
    HX's workers a full year, the others a thinner one. One import run row owns them all."""
    from lms.field.generate import EVENT_TYPES, RETURN_REASONS, make_profile
    from lms.field.models import FieldEvent, FieldImport
    from lms.org.models import OrgKind

    hx = next(c for c in levels[OrgKind.county] if c["code"] == "HX")
    (run_id,) = loader.ids(FieldImport.__table__, 1)
    loader.load(FieldImport.__table__, ["id", "filename", "source", "created_at", "result"],
                [(run_id, "province-year.csv", "cli", now, {})])
    types_, type_weights = zip(*EVENT_TYPES, strict=True)
    counts = [shape.field_events_hx if grid_of[org_id]["path"].startswith(hx["path"]) else shape.field_events_other
              for _, org_id in people]
    ids = iter(loader.ids(FieldEvent.__table__, sum(counts)))
    year = 365 * 24 * 3600

    def events():
        serial = 0
        for (uid, org_id), k in zip(people, counts):
            profile = make_profile(rng)
            for _ in range(k):
                serial += 1
                draw = rng.random()
                reason, satisfaction = None, None
                if draw < profile.duplicate_rate:
                    result = "重复"
                elif draw < profile.duplicate_rate + profile.return_rate:
                    result, reason = "退回", rng.choices(RETURN_REASONS, profile.reason_weights)[0]
                elif draw < profile.duplicate_rate + profile.return_rate + profile.overdue_rate:
                    result = "超时"
                else:
                    result = "办结"
                    if rng.random() < 0.6:
                        satisfaction = max(1, min(5, round(rng.gauss(profile.satisfaction, 0.7))))
                yield (next(ids), f"PV{serial:09d}", uid, org_id, now - dt.timedelta(seconds=rng.randrange(year)),
                       rng.choices(types_, type_weights)[0], result, reason, satisfaction, run_id, now)

    loader.load(FieldEvent.__table__, ["id", "number", "user_id", "org_id", "reported_at", "event_type", "result",
                                       "return_reason", "satisfaction", "import_id", "created_at"], events())


def picks() -> dict:
    """Whom and what the benchmark measures: the first generated township of HX, its HR, one of its workers."""
    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.courses.models import LessonProgress
    from lms.extensions import db
    from lms.org.models import OrgUnit, subtree_clause
    from lms.org.queries import get_org

    town = get_org("HX11")
    worker = db.session.scalar(
        sa.select(User.username).join(OrgUnit, OrgUnit.id == User.org_id)
        .where(subtree_clause(OrgUnit.path, town.path), User.username.like("bw%"),
               sa.exists().where(LessonProgress.user_id == User.id))
        .order_by(User.username).limit(1))
    return {"township": town.code, "township_name": town.name, "hr": f"hr-{town.code}", "worker": worker,
            "county": "HX", "county_hr": "hr-HX"}


# --- measuring -------------------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def measure_in_process(app, username: str, password: str, path: str, warmup: int, requests: int) -> list[float]:
    """Milliseconds per request through the Flask test client (no network, no client time)."""
    client = app.test_client()
    login = client.post("/api/v1/session", json={"username": username, "password": password})
    if login.status_code != 200:
        raise SystemExit(f"login as {username} failed: {login.status_code} {login.get_data(as_text=True)[:300]}")
    times = []
    for i in range(warmup + requests):
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {path} as {username}: {response.status_code}")
        if i >= warmup:
            times.append(elapsed)
    return times


def slow_statements(app, username: str, password: str, path: str, top: int = 5) -> list[tuple[float, str, object]]:
    """The slowest SQL statements of one request: (ms, statement, parameters)."""
    from sqlalchemy import event

    from lms.extensions import db

    client = app.test_client()
    client.post("/api/v1/session", json={"username": username, "password": password})
    client.get(path)  # warm
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        seen.append(((time.perf_counter() - started) * 1000, statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    total = sum(s[0] for s in seen)
    ranked = sorted(seen, key=lambda s: -s[0])[:top]
    return [(round(total, 1), f"{len(seen)} statements in all", None)] + ranked


def explain(app, statement: str, parameters) -> str:
    from lms.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
    return "\n".join(row[0] for row in rows)


def start_gunicorn(env: dict, port: int, access_log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access_log), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s",
         "lms:create_app()"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from bench.run import wait_until_serving

    return wait_until_serving(server, port)


def measure_live(base: str, access_log: Path, username: str, password: str, path: str, warmup: int,
                 requests: int) -> tuple[list[float], list[float]]:
    """(server ms from gunicorn's access log, client ms) per request, one client, sequential."""
    from bench.run import login

    cookie, _ = login(base, username, password)
    client_ms = []
    marker = f"/bench-mark-{time.monotonic_ns()}"
    for i in range(warmup + requests):
        if i == warmup:
            try:  # a line in the access log after which the measured requests start
                urllib.request.urlopen(base + marker, timeout=10)
            except urllib.error.HTTPError:
                pass
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            status = response.status
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
        if i >= warmup:
            client_ms.append((time.perf_counter() - started) * 1000)
    route = path.split("?")[0]
    server_ms = []
    for _ in range(50):  # the access log is written after the response
        lines = access_log.read_text().splitlines()
        after = next((n for n, line in enumerate(lines) if f" {marker} " in line), None)
        server_ms = [int(line.split()[3]) / 1000 for line in lines[(after or 0) + 1:]
                     if line.split()[1] == route and line.split()[0] == "GET"]
        if len(server_ms) >= requests:
            break
        time.sleep(0.1)
    return server_ms[:requests], client_ms


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- main ------------------------------------------------------------------------------------------------------

def _admin(url: str):
    import sqlalchemy as sa

    return sa.create_engine("postgresql+psycopg://" + url.split("://", 1)[1], isolation_level="AUTOCOMMIT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of DESIGN.md's province (0.01: quick)")
    parser.add_argument("--admin-url", default=os.environ.get("LMS_BENCH_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--database", default="lms_province")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again, no generation")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--county-requests", type=int, default=5,
                        help="requests of the county dashboard (no target, seconds each at province scale)")
    parser.add_argument("--no-live", action="store_true", help="in-process measurement only")
    parser.add_argument("--check-foreign-keys", action="store_true",
                        help="keep PostgreSQL's foreign-key checks on while copying (slower)")
    parser.add_argument("--explain-over", type=float, default=20.0,
                        help="EXPLAIN ANALYZE the statements slower than this many ms")
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        raise SystemExit("--database: lower-case letters, digits and _ only")
    from bench.generate import BENCH_PASSWORD

    admin = _admin(args.admin_url)
    url = args.admin_url.rsplit("/", 1)[0] + "/" + args.database
    with admin.connect() as conn:
        exists = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (args.database,)).scalar()
        if args.reuse and not exists:
            raise SystemExit(f"--reuse: database {args.database} does not exist (run once with --keep)")
        if not args.reuse:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{args.database}"')
    env = {**os.environ, "LMS_SECRET_KEY": "bench-province", "LMS_IDLE_TIMEOUT_MINUTES": "120",
           "LMS_SQLALCHEMY_DATABASE_URI": url}
    env.pop("LMS_TEST_DATABASE_URL", None)
    os.environ.update({k: env[k] for k in ("LMS_SECRET_KEY", "LMS_IDLE_TIMEOUT_MINUTES",
                                           "LMS_SQLALCHEMY_DATABASE_URI")})
    shape = Shape.at(args.scale)
    from lms import create_app
    from lms.extensions import db

    try:
        started = time.perf_counter()
        load_before = loadavg()
        if not args.reuse:
            done = subprocess.run([sys.executable, "-m", "flask", "--app", "lms", "db", "upgrade"], env=env, cwd=ROOT,
                                  capture_output=True, text=True)
            if done.returncode:
                raise SystemExit("db upgrade failed:\n" + done.stderr[-3000:])
            print(f"province at scale {args.scale}: {shape}", flush=True)
        app = create_app()
        with app.app_context():
            if args.reuse:
                result = {"counts": {t.name: db.session.scalar(db.select(db.func.count()).select_from(t))
                                     for t in db.metadata.sorted_tables}, "seconds": {}, "picks": picks()}
            else:
                result = generate(shape, log=lambda m: print(m, flush=True), trusted=not args.check_foreign_keys)
                db.session.remove()
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    vacuum_started = time.perf_counter()
                    conn.exec_driver_sql("VACUUM ANALYZE")
                    result["seconds"]["VACUUM ANALYZE"] = time.perf_counter() - vacuum_started
            size = db.session.scalar(db.text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
            db.session.remove()
        generation = time.perf_counter() - started
        picks_ = result["picks"]
        counts = result["counts"]
        print(f"data ready in {generation:.0f} s ({size}); load average {load_before} → {loadavg()}", flush=True)

        pages = [("township dashboard", f"/stats/dashboard?org={picks_['township']}", picks_["hr"],
                  DASHBOARD_TARGET_MS),
                 ("worker home", "/", picks_["worker"], HOME_TARGET_MS),
                 ("township field quality", f"/field/quality?org={picks_['township']}", picks_["hr"],
                  DASHBOARD_TARGET_MS),
                 ("county dashboard (no target)", f"/stats/dashboard?org={picks_['county']}", picks_["county_hr"],
                  None)]
        rounds = {name: (args.warmup, args.requests) if target else (1, args.county_requests)
                  for name, _, _, target in pages}
        measured = {}
        load_measure = loadavg()
        for name, path, who, _ in pages:
            times = measure_in_process(app, who, BENCH_PASSWORD, path, *rounds[name])
            measured[name] = {"in": times}
            print(f"{name} in-process: median {statistics.median(times):.1f} ms, p99 {percentile(times, .99):.1f} ms",
                  flush=True)
        profiles = {name: slow_statements(app, who, BENCH_PASSWORD, path) for name, path, who, _ in pages}
        if not args.no_live:
            from bench.run import free_port

            with tempfile.TemporaryDirectory() as folder:
                access_log = Path(folder) / "access.log"
                port = free_port()
                server = start_gunicorn(env, port, access_log)
                try:
                    for name, path, who, _ in pages:
                        server_ms, client_ms = measure_live(f"http://127.0.0.1:{port}", access_log, who,
                                                            BENCH_PASSWORD, path, *rounds[name])
                        measured[name].update(live=server_ms, client=client_ms)
                        print(f"{name} gunicorn: server median {statistics.median(server_ms):.1f} ms, "
                              f"p99 {percentile(server_ms, .99):.1f} ms", flush=True)
                finally:
                    server.terminate()
                    server.wait(timeout=10)
        load_after = loadavg()
        slow = [(name, ms, statement, parameters) for name, *_ in pages
                for ms, statement, parameters in profiles[name][1:4] if ms >= args.explain_over]
        plans = [(name, ms, statement, parameters, explain(app, statement, parameters))
                 for name, ms, statement, parameters in slow]
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.dispose()

    def cell(values):
        return f"{statistics.median(values):.1f} / {percentile(values, .99):.1f}" if values else "—"

    generated = ("reused a kept database (no generation)" if args.reuse else
                 f"generated in {generation:.0f} s ("
                 + ", ".join(f"{k} {v:.0f} s" for k, v in result["seconds"].items())
                 + ")")
    lines = [f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
             f"PostgreSQL · scale {args.scale} · {args.requests} requests per page after {args.warmup} warm-up, "
             f"one client at a time (county dashboard: {args.county_requests} after 1) · "
             f"load average {load_measure} → {load_after}", "",
             f"Data: {counts['users']:,} users, {counts['org_units']:,} org units, "
             f"{counts['lesson_progress']:,} lesson-progress rows, {counts['course_enrollments']:,} enrollments, "
             f"{counts['quiz_attempts']:,} quiz attempts, {counts['drill_reports']:,} drill reports, "
             f"{counts['certificates']:,} certificates, {counts['attendances']:,} attendances, "
             f"{counts.get('field_events', 0):,} field events ({size}); {generated}",
             "", "| page | as | in-process median / p99 ms | gunicorn server median / p99 ms | client median ms "
             "| target |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    for name, path, who, target in pages:
        m = measured[name]
        worst = max([percentile(m["in"], .99)] + ([percentile(m["live"], .99)] if m.get("live") else []))
        verdict = "" if target is None else f"≤ {target} ms " + ("✓" if worst <= target else "✗")
        client = f"{statistics.median(m['client']):.1f}" if m.get("client") else "—"
        lines.append(f"| {name} `{path}` | {who} | {cell(m['in'])} | {cell(m.get('live'))} | {client} | {verdict} |")
    lines += ["", "Slowest SQL statements of one request (in-process, ms):"]
    for name, *_ in pages:
        (total, summary, _), *top = profiles[name]
        lines.append(f"- {name}: {summary}, {total} ms of SQL")
        for ms, statement, _ in top:
            lines.append(f"  - {ms:.1f} ms: {shorten(statement, 160)}")
    print("\n" + "\n".join(lines))
    for name, ms, statement, parameters, plan in plans:
        print(f"\n--- EXPLAIN ANALYZE, {name}, {ms:.1f} ms:\n{shorten(statement, 600)}\n"
              f"{shorten(json.dumps(parameters, default=str), 300)}")
        print("\n".join(shorten(line, 300) for line in plan.splitlines()))

if __name__ == "__main__":
    main()
