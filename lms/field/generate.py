"""A seeded, realistic year of the grid platform's event export, for the demo county, benches and tests.

Each worker has a personal error profile (how often their reports are returned and for which reasons, overdue
events, duplicates, the satisfaction they earn, how much they report). Workers with a start date — a mentoring
pairing, a remediation, the app-operation course — improve from that date by the effects below, so the outcome
analysis has something true to find. Rows come out in time order as {column: text}, exactly what the importer
reads from a file.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import random
from collections.abc import Iterable, Iterator

from lms.db import SHANGHAI, utcnow
from lms.field.importer import COLUMNS
from lms.field.models import RETURN_REASONS

#: a mentee's return probability after the pairing starts is multiplied by (1 - MENTEE_EFFECT)
MENTEE_EFFECT = 0.40
#: a remediated worker's return probability after the remediation starts is multiplied by (1 - REMEDIATION_EFFECT)
REMEDIATION_EFFECT = 0.35
#: a worker's overdue probability after the app-operation course is multiplied by (1 - OVERDUE_COURSE_EFFECT)
OVERDUE_COURSE_EFFECT = 0.50

#: county means (issue #19): returns ~12% (mostly 描述不清/要素不全), 8.6% duplicates, overdue rare
MEAN_RETURN_RATE = 0.12
MEAN_DUPLICATE_RATE = 0.086
MEAN_OVERDUE_RATE = 0.015
#: how often each 退回原因 occurs across the county (each worker's own mix varies around it)
REASON_WEIGHTS = {"描述不清": 0.38, "要素不全": 0.32, "信息不实": 0.08, "分类错误": 0.12, "部门错误": 0.10}
EVENT_TYPES = (("矛盾纠纷", 0.22), ("安全隐患", 0.18), ("环境卫生", 0.20), ("民生服务", 0.16), ("治安防控", 0.08),
               ("特殊人群", 0.06), ("市政设施", 0.10))
#: reports a worker makes in a year, on average (about one a working day)
EVENTS_PER_WORKER_YEAR = 250


@dataclasses.dataclass(frozen=True)
class Profile:
    return_rate: float
    reason_weights: tuple[float, ...]  # in RETURN_REASONS order
    overdue_rate: float
    duplicate_rate: float
    satisfaction: float  # the mean score (1–5) of the people served
    volume: float  # relative number of reports


def _beta(rng: random.Random, mean: float, strength: float) -> float:
    return rng.betavariate(mean * strength, (1 - mean) * strength)


def make_profile(rng: random.Random) -> Profile:
    """One worker's habits: most near the county mean, a few much worse (what remediation is for)."""
    weak = rng.random() < 0.15
    return_rate = _beta(rng, MEAN_RETURN_RATE * (2.2 if weak else 0.8), 20)
    favourite = rng.choice(RETURN_REASONS)
    weights = tuple(REASON_WEIGHTS[r] * rng.uniform(0.5, 1.5) * (3 if r == favourite else 1) for r in RETURN_REASONS)
    return Profile(return_rate=min(return_rate, 0.6), reason_weights=weights,
                   overdue_rate=_beta(rng, MEAN_OVERDUE_RATE, 30), duplicate_rate=_beta(rng, MEAN_DUPLICATE_RATE, 25),
                   satisfaction=min(5.0, max(2.5, rng.gauss(4.3 if not weak else 3.8, 0.3))),
                   volume=rng.lognormvariate(0, 0.35))


@dataclasses.dataclass(frozen=True)
class Worker:
    username: str
    #: reports only from this local day (hired later than the year's start)
    since: dt.date | None = None
    #: from this local day the return rate falls by `improvement` (pairing or remediation start)
    improves_on: dt.date | None = None
    improvement: float = 0.0
    #: from this local day the overdue rate falls by OVERDUE_COURSE_EFFECT (the app-operation course)
    overdue_improves_on: dt.date | None = None


def year_rows(workers: Iterable[Worker | str], *, events: int | None = None, seed: int = 2026,
              end: dt.date | None = None, prefix: str = "SJ") -> Iterator[dict[str, str]]:
    """About `events` rows (default EVENTS_PER_WORKER_YEAR a worker) over the 365 local days ending `end`
    (default yesterday), in time order; 事件编号 `<prefix><yyyymmdd><serial>`."""
    rng = random.Random(seed)
    people = [w if isinstance(w, Worker) else Worker(w) for w in workers]
    if not people:
        return
    profiles = [make_profile(rng) for _ in people]
    end = end or (utcnow().astimezone(SHANGHAI).date() - dt.timedelta(days=1))
    start = end - dt.timedelta(days=364)
    total = events if events is not None else EVENTS_PER_WORKER_YEAR * len(people)
    weights = [p.volume for p in profiles]
    types, type_weights = zip(*EVENT_TYPES, strict=True)
    serial = 0
    for offset in range(365):
        day = start + dt.timedelta(days=offset)
        weekend = day.weekday() >= 5
        share = total / 365 * (0.45 if weekend else 1.22)
        count = int(share) + (1 if rng.random() < share - int(share) else 0)
        picks = rng.choices(range(len(people)), weights=weights, k=count)
        stamps = sorted(rng.randint(8 * 3600, 19 * 3600) for _ in picks)
        for index, seconds in zip(picks, stamps, strict=True):
            person, profile = people[index], profiles[index]
            if person.since and day < person.since:
                continue
            serial += 1
            yield _row(rng, person, profile, day, seconds, serial, prefix, rng.choices(types, type_weights)[0])


def _row(rng: random.Random, person: Worker, profile: Profile, day: dt.date, seconds: int, serial: int,
         prefix: str, event_type: str) -> dict[str, str]:
    return_rate = profile.return_rate
    if person.improves_on and day >= person.improves_on:
        return_rate *= 1 - person.improvement
    overdue_rate = profile.overdue_rate
    if person.overdue_improves_on and day >= person.overdue_improves_on:
        overdue_rate *= 1 - OVERDUE_COURSE_EFFECT
    reason, satisfaction = "", ""
    draw = rng.random()
    if draw < profile.duplicate_rate:
        result = "重复"
    elif draw < profile.duplicate_rate + return_rate:
        result = "退回"
        reason = rng.choices(RETURN_REASONS, profile.reason_weights)[0]
    elif draw < profile.duplicate_rate + return_rate + overdue_rate:
        result = "超时"
        if rng.random() < 0.5:
            satisfaction = str(max(1, min(5, round(rng.gauss(profile.satisfaction - 1.5, 0.8)))))
    else:
        result = "办结"
        if rng.random() < 0.6:
            satisfaction = str(max(1, min(5, round(rng.gauss(profile.satisfaction, 0.7)))))
    stamp = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
    return {"事件编号": f"{prefix}{day:%Y%m%d}{serial:07d}", "工号": person.username,
            "上报时间": stamp.strftime("%Y-%m-%d %H:%M:%S"), "事件类型": event_type, "结果": result,
            "退回原因": reason, "满意度": satisfaction}


def numbered(rows: Iterable[dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows numbered as a file would number them (header = row 1), for lms.field.services.import_rows."""
    return ((number, row) for number, row in enumerate(rows, start=2))


def write_csv(stream, rows: Iterable[dict[str, str]]) -> int:
    """Write rows as the platform's CSV export (UTF-8, header first); returns the number of data rows."""
    writer = csv.DictWriter(stream, fieldnames=COLUMNS)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


# --- the demo county's year ---------------------------------------------------------------------------------------

#: extra grid workers of the demo county (工号 hx-w01…): a year's figures need more people than the tour accounts
DEMO_EXTRA_WORKERS = 30
DEMO_GRIDS = ("HX010101", "HX010102", "HX010201", "HX020101", "HX020102", "HX020201")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
_GIVEN = ("建华", "秀兰", "志强", "海燕", "国庆", "丽娟", "文斌", "春梅", "立新", "桂芳", "永红", "晓东", "玉珍",
          "德明", "淑华", "俊杰", "红霞", "卫东", "静", "磊")
#: tour accounts that report events (the others manage, train or audit)
DEMO_REPORTERS = ("mentor", "leader", "worker", "worker2", "worker3", "worker4")


def _demo_workers(today: dt.date):
    """The demo's extra workers (created once, demo accounts without a password) and the mentoring pairing that
    gives the outcome analysis its treated group."""
    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.accounts.permissions import SYSTEM
    from lms.accounts.queries import get_user
    from lms.accounts.services import create_user
    from lms.errors import ValidationError
    from lms.extensions import db
    from lms.org.queries import get_org

    rng = random.Random(19)
    for i in range(1, DEMO_EXTRA_WORKERS + 1):
        username = f"hx-w{i:02d}"
        if get_user(username) is None:
            create_user(username=username, name=rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                        org=get_org(DEMO_GRIDS[i % len(DEMO_GRIDS)]), hired_on=dt.date(2015 + i % 10, 3, 1),
                        is_demo=True, actor=SYSTEM)
    db.session.flush()
    mentor = get_user("mentor")
    if mentor is not None:
        from lms.mentoring.models import PairingMentee
        from lms.mentoring.services import create_pairing

        paired = set(db.session.scalars(sa.select(PairingMentee.mentee_id)))
        if not paired:
            candidates = db.session.scalars(sa.select(User).where(User.username.in_(["hx-w06", "hx-w12"]))
                                            .order_by(User.username)).all()
            try:
                create_pairing(SYSTEM, mentor, candidates, today - dt.timedelta(days=182),
                               today + dt.timedelta(days=183), "新人上报质量：描述清楚、要素齐全")
            except ValidationError:
                pass  # the tour's mentor cannot take them (capacity, eligibility): the year has no treated group


def demo_workers(today: dt.date) -> list[Worker]:
    """Everyone in the demo county who reports, with their start dates from the database (pairings)."""
    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.extensions import db
    from lms.mentoring.models import Pairing, PairingMentee

    usernames = list(DEMO_REPORTERS) + [f"hx-w{i:02d}" for i in range(1, DEMO_EXTRA_WORKERS + 1)]
    people = db.session.execute(sa.select(User.id, User.username, User.hired_on)
                                .where(User.username.in_(usernames)).order_by(User.username)).all()
    starts = dict(db.session.execute(sa.select(PairingMentee.mentee_id, sa.func.min(Pairing.start_on))
                                     .join(Pairing, Pairing.id == PairingMentee.pairing_id)
                                     .group_by(PairingMentee.mentee_id)).all())
    return [mentee_worker(username, hired_on, starts.get(uid)) for uid, username, hired_on in people]


def mentee_worker(username: str, hired_on: dt.date | None, pairing_start: dt.date | None) -> Worker:
    return Worker(username, since=hired_on, improves_on=pairing_start,
                  improvement=MENTEE_EFFECT if pairing_start else 0.0)


def load_demo_year(now=None):
    """Generate and import the demo county's year once (the import run is marked "demo"); None if already there.

    Refuses a database holding real accounts, like `flask demo`.
    """
    import sqlalchemy as sa

    from lms.accounts.permissions import SYSTEM
    from lms.accounts.queries import count_real_accounts
    from lms.errors import ValidationError
    from lms.extensions import db
    from lms.field import services
    from lms.field.models import FieldImport

    real = count_real_accounts()
    if real:
        raise ValidationError(f"数据库中已有 {real} 个正式账号，拒绝写入演示数据（演示数据只用于空库或演示库）")
    if db.session.scalar(sa.select(FieldImport.id).where(FieldImport.source == "demo").limit(1)):
        return None
    now = now or utcnow()
    today = now.astimezone(SHANGHAI).date()
    _demo_workers(today)
    workers = demo_workers(today)
    rows = year_rows(workers, seed=2026, end=today - dt.timedelta(days=1), prefix="HX")
    return services.import_rows(numbered(rows), "演示县一年事件.csv", actor=SYSTEM, source="demo", now=now)
