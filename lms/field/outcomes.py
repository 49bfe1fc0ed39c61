"""Does training change field results? Difference-in-differences with a matched comparison group.

For each person who received a treatment (remediation, a mentoring pairing, the app-operation course) on a start
date s, the rate (returned or overdue events ÷ events) in the window [s−W, s) is compared with [s, s+W). Each of
them is matched with up to K people of the same org level who had not received that treatment by s+W, whose
rate in the same before-window is closest; their change over the same dates is subtracted (so what happened to
everyone — season, a new platform rule — cancels). The estimate is the mean of these differences over the treated;
its 95% interval comes from a seeded bootstrap over the treated people (plain Python: a few hundred people and a
thousand resamples need no numpy).

``estimate`` is pure; ``analyses`` reads the database for an org subtree.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import heapq
import itertools
import random
import statistics
import time

import sqlalchemy as sa

from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.field.models import FieldEvent
from lms.org.models import OrgUnit, subtree_clause

WINDOW_DAYS = 90
#: comparison people per treated person
K = 3
#: a person counts only with at least this many events in each window
MIN_EVENTS = 5
#: fewer treated people than this: no claim is made
MIN_PEOPLE = 5
BOOTSTRAP = 1000
SEED = 20261206
#: the course about operating the grid platform's app (drafts, submitting, deadlines): its completion is the start
#: of the overdue analysis (configurable as FIELD_APP_COURSE)
APP_COURSE = "county-event-reporting"

CLAIMS = {
    "decrease": "有差异：下降",
    "increase": "有差异：上升",
    "none": "未显示出差异",
    "too_few": "人数太少，不作结论",
}


class Timeline:
    """One person's events as running counts per day (index 0 = the day before their first event), so that any
    window's (events, flagged) is two subtractions: the matching reads every candidate's windows for every
    treated person."""

    __slots__ = ("base", "events", "flagged")

    def __init__(self, rows):
        rows = [(d if isinstance(d, int) else d.toordinal(), 1 if f else 0) for d, f in rows]
        self.base = min((d for d, _ in rows), default=0)
        span = max((d for d, _ in rows), default=self.base) - self.base + 1
        events, flagged = [0] * (span + 1), [0] * (span + 1)
        for day, flag in rows:
            events[day - self.base + 1] += 1
            flagged[day - self.base + 1] += flag
        self.events = list(itertools.accumulate(events))
        self.flagged = list(itertools.accumulate(flagged))

    def index(self, day: int) -> int:
        """Position of the running counts before ``day`` (an ordinal), clamped to the timeline."""
        return min(max(day - self.base, 0), len(self.events) - 1)

    def aligned(self, origin: int, length: int) -> tuple[list[int], list[int]]:
        """The running counts before each day origin + x, x = 0…length (ordinals): no clamping needed."""
        out = []
        for counts in (self.events, self.flagged):
            last = len(counts) - 1
            offset = origin - self.base
            part = [0] * min(max(-offset, 0), length + 1) + counts[max(offset, 0):max(offset, 0) + length + 1]
            if len(part) > length + 1:
                part = part[:length + 1]
            out.append(part + [counts[last]] * (length + 1 - len(part)))
        return out[0], out[1]

    def window(self, low: dt.date, high: dt.date) -> tuple[int, int]:
        """(events, flagged) with low <= day < high."""
        i, j = self.index(low.toordinal()), self.index(high.toordinal())
        return self.events[j] - self.events[i], self.flagged[j] - self.flagged[i]


@dataclasses.dataclass
class PersonRow:
    user_id: int
    start: dt.date
    before: float
    after: float
    control_before: float
    control_after: float
    controls: list[int]

    @property
    def difference(self) -> float:
        return (self.after - self.before) - (self.control_after - self.control_before)


@dataclasses.dataclass
class Result:
    window_days: int
    treated: int
    controls: int
    #: treated people left out: window not over yet, too few events, or nobody to compare with
    left_out: int
    before: float | None = None
    after: float | None = None
    control_before: float | None = None
    control_after: float | None = None
    did: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    claim: str = "too_few"
    rows: list[PersonRow] = dataclasses.field(default_factory=list)

    @property
    def claim_label(self) -> str:
        return CLAIMS[self.claim]


def _rate(counts: tuple[int, int]) -> float | None:
    events, flagged = counts
    return flagged / events if events else None


def estimate(starts: dict[int, dt.date], timelines: dict[int, Timeline], levels: dict[int, str], *,
             all_starts: dict[int, dt.date] | None = None, window_days: int = WINDOW_DAYS, k: int = K,
             min_events: int = MIN_EVENTS, min_people: int = MIN_PEOPLE, n_boot: int = BOOTSTRAP,
             seed: int = SEED, today: dt.date) -> Result:
    """The difference-in-differences for the people in ``starts`` (user → start date).

    ``timelines``: every person who may be treated or compared (user → Timeline of (day, flagged));
    ``levels``: user → org level (only people of the same level are compared); ``all_starts``: every start of
    this treatment (default ``starts``), so that people treated outside the analysed set are not controls
    before their own start; ``today``: windows not over by then are left out.
    """
    all_starts = starts if all_starts is None else all_starts
    width = dt.timedelta(days=window_days)
    usable = {uid: day for uid, day in starts.items() if uid in timelines and day + width <= today}
    rows: list[PersonRow] = []
    left_out = len(starts) - len(usable)
    used_controls: set[int] = set()
    if not usable:
        return Result(window_days, 0, 0, left_out)
    # Every timeline's running counts over one common day range, so that a window is two list reads.
    origin = (min(usable.values()) - width).toordinal()
    length = (max(usable.values()) + width).toordinal() - origin
    pools: dict[str, list] = collections.defaultdict(list)
    for uid in sorted(timelines):
        other_start = all_starts.get(uid)
        events, flagged = timelines[uid].aligned(origin, length)
        pools[levels.get(uid, "")].append((uid, other_start.toordinal() if other_start else None, events, flagged))
    for uid, start in sorted(usable.items()):
        timeline = timelines[uid]
        before_w, after_w = timeline.window(start - width, start), timeline.window(start, start + width)
        if before_w[0] < min_events or after_w[0] < min_events:
            left_out += 1
            continue
        before, after = _rate(before_w), _rate(after_w)
        i, j, m = ((start - width).toordinal() - origin, start.toordinal() - origin,
                   (start + width).toordinal() - origin)
        end_ordinal = (start + width).toordinal()
        candidates = []
        for other, other_start, events, flagged in pools[levels.get(uid, "")]:
            if other == uid or (other_start is not None and other_start < end_ordinal):
                continue
            before_n, after_n = events[j] - events[i], events[m] - events[j]
            if before_n < min_events or after_n < min_events:
                continue
            other_before = (flagged[j] - flagged[i]) / before_n
            candidates.append((abs(other_before - before), other, other_before, (flagged[m] - flagged[j]) / after_n))
        if not candidates:
            left_out += 1
            continue
        chosen = heapq.nsmallest(k, candidates)
        used_controls.update(c[1] for c in chosen)
        rows.append(PersonRow(uid, start, before, after, statistics.fmean(c[2] for c in chosen),
                              statistics.fmean(c[3] for c in chosen), [c[1] for c in chosen]))
    result = Result(window_days, len(rows), len(used_controls), left_out, rows=rows)
    if not rows:
        return result
    result.before = statistics.fmean(r.before for r in rows)
    result.after = statistics.fmean(r.after for r in rows)
    result.control_before = statistics.fmean(r.control_before for r in rows)
    result.control_after = statistics.fmean(r.control_after for r in rows)
    differences = [r.difference for r in rows]
    result.did = statistics.fmean(differences)
    if len(rows) < min_people:
        return result
    rng = random.Random(seed)
    n = len(differences)
    means = sorted(sum(rng.choices(differences, k=n)) / n for _ in range(n_boot))
    result.ci_low = means[int(0.025 * n_boot)]
    result.ci_high = means[min(n_boot - 1, int(0.975 * n_boot))]
    if result.ci_high < 0:
        result.claim = "decrease"
    elif result.ci_low > 0:
        result.claim = "increase"
    else:
        result.claim = "none"
    return result


# --- reads --------------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Analysis:
    key: str
    title: str
    #: what is counted: 退回 (returned) or 超时 (overdue)
    result: str
    metric: str
    start_label: str


ANALYSES = (
    Analysis("remediation", "补训", "退回", "退回率", "补训发送日"),
    Analysis("mentoring", "老带新结对", "退回", "退回率", "结对开始日"),
    Analysis("app_course", "网格App操作课程", "超时", "超时率", "课程完成日"),
)


def _local_day(value: dt.datetime) -> dt.date:
    return value.astimezone(SHANGHAI).date()


def treatment_starts(key: str, app_course: str = APP_COURSE) -> dict[int, dt.date]:
    """user → the first start of a treatment, over the whole database (scope is applied to the events)."""
    starts: dict[int, dt.date] = {}

    def keep(uid, day):
        if day is not None and (uid not in starts or day < starts[uid]):
            starts[uid] = day

    if key == "remediation":
        from lms.field.remediation_models import Remediation  # noqa: PLC0415
        for uid, day in db.session.execute(sa.select(Remediation.user_id, sa.func.min(Remediation.started_on))
                                           .group_by(Remediation.user_id)):
            keep(uid, day)
    elif key == "mentoring":
        from lms.mentoring.models import Pairing, PairingMentee  # noqa: PLC0415
        for uid, day in db.session.execute(sa.select(PairingMentee.mentee_id, sa.func.min(Pairing.start_on))
                                           .join(Pairing, Pairing.id == PairingMentee.pairing_id)
                                           .group_by(PairingMentee.mentee_id)):
            keep(uid, day)
    elif key == "app_course":
        from lms.courses.models import Course, CourseEnrollment  # noqa: PLC0415
        for uid, at in db.session.execute(sa.select(CourseEnrollment.user_id, CourseEnrollment.completed_at)
                                          .join(Course, Course.id == CourseEnrollment.course_id)
                                          .where(Course.code == app_course,
                                                 CourseEnrollment.completed_at.is_not(None))):
            keep(uid, _local_day(at))
    return starts


_EIGHT_HOURS = dt.timedelta(hours=8)  # Beijing time has no daylight saving: a fixed offset gives the local day


def load_events(org: OrgUnit, low: dt.date, high: dt.date):
    """({user: [(local day ordinal, 结果)]}, {user: org level}) of the events under org between low and high.

    The subtree's unit ids first, then the events through the (org_id, reported_at) index (as the quality pages)."""
    units = {unit_id: kind for unit_id, kind in db.session.execute(
        sa.select(OrgUnit.id, OrgUnit.kind).where(subtree_clause(OrgUnit.path, org.path)))}
    lo = dt.datetime.combine(low, dt.time.min, SHANGHAI)
    hi = dt.datetime.combine(high, dt.time.min, SHANGHAI)
    rows: dict[int, list] = collections.defaultdict(list)
    levels: dict[int, str] = {}
    ids = list(units)
    for chunk in range(0, len(ids), 1000):
        part = ids[chunk:chunk + 1000]
        query = (sa.select(FieldEvent.user_id, FieldEvent.reported_at, FieldEvent.result, FieldEvent.org_id)
                 .where(FieldEvent.org_id.in_(part), FieldEvent.reported_at >= lo, FieldEvent.reported_at < hi))
        for uid, at, result, unit_id in db.session.execute(query):
            rows[uid].append(((at.astimezone(dt.timezone.utc).replace(tzinfo=None) + _EIGHT_HOURS).toordinal(),
                              result))
            levels[uid] = str(units[unit_id])
    return rows, levels


#: results kept per process: (key) -> (monotonic expiry, results); a county's year takes seconds to analyse
_CACHE: dict[tuple, tuple[float, list]] = {}
CACHE_SECONDS = 600
#: the last results computed per (database, org, day), for the dashboard card, which must not pay for an analysis
#: (seconds for a county) nor for the fingerprint's counts on every load
_LAST: dict[tuple, tuple[float, list]] = {}


def last_computed(org: OrgUnit, *, now=None) -> list[tuple[Analysis, Result]] | None:
    """The results the outcome page (or API, or export) computed for org today in this process, while fresh."""
    today = (now or utcnow()).astimezone(SHANGHAI).date()
    hit = _LAST.get((str(db.session.get_bind().url), org.id, today))
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def _fingerprint() -> tuple:
    """What the analyses read, summarised cheaply: any import, remediation, pairing or course completion changes it."""
    from lms.courses.models import CourseEnrollment  # noqa: PLC0415
    from lms.field.remediation_models import Remediation  # noqa: PLC0415
    from lms.mentoring.models import Pairing, PairingMentee  # noqa: PLC0415

    parts = []
    for column in (FieldEvent.id, Remediation.id, PairingMentee.id, Pairing.id):
        parts.extend(db.session.execute(sa.select(sa.func.max(column), sa.func.count(column))).one())
    parts.extend(db.session.execute(sa.select(sa.func.max(CourseEnrollment.completed_at),
                                              sa.func.count(CourseEnrollment.completed_at))).one())
    parts.append(db.session.scalar(sa.select(sa.func.max(Pairing.start_on))))
    return tuple(parts)


def analyses(org: OrgUnit, *, window_days: int = WINDOW_DAYS, app_course: str = APP_COURSE, now=None,
             n_boot: int = BOOTSTRAP) -> list[tuple[Analysis, Result]]:
    """Every analysis for the people whose events lie under org; kept for CACHE_SECONDS while the data's
    fingerprint is unchanged (the page, the API, the export and the dashboard card share it)."""
    today = (now or utcnow()).astimezone(SHANGHAI).date()
    key = (str(db.session.get_bind().url), org.id, org.path, window_days, app_course, n_boot, today, _fingerprint())
    clock = time.monotonic()
    hit = _CACHE.get(key)
    if hit is not None and hit[0] > clock:
        return hit[1]
    found = _analyses(org, window_days=window_days, app_course=app_course, today=today, n_boot=n_boot)
    for stale in [k for k, (expires, _) in _CACHE.items() if expires <= clock]:
        _CACHE.pop(stale, None)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = (clock + CACHE_SECONDS, found)
    if window_days == WINDOW_DAYS and app_course == APP_COURSE and n_boot == BOOTSTRAP:
        _LAST[(key[0], org.id, today)] = (clock + CACHE_SECONDS, found)
    return found


def _analyses(org: OrgUnit, *, window_days: int, app_course: str, today: dt.date,
              n_boot: int) -> list[tuple[Analysis, Result]]:
    """Every analysis for the people whose events lie under org (events read once for all three)."""
    width = dt.timedelta(days=window_days)
    starts_by_key = {analysis.key: treatment_starts(analysis.key, app_course) for analysis in ANALYSES}
    every = [day for starts in starts_by_key.values() for day in starts.values()]
    events, levels = (load_events(org, min(every) - width, max(every) + width) if every else ({}, {}))
    timelines_by_result: dict[str, dict[int, Timeline]] = {}
    out = []
    for analysis in ANALYSES:
        all_starts = starts_by_key[analysis.key]
        if not all_starts:
            out.append((analysis, Result(window_days, 0, 0, 0)))
            continue
        if analysis.result not in timelines_by_result:
            timelines_by_result[analysis.result] = {
                uid: Timeline((day, result == analysis.result) for day, result in rows) for uid, rows in events.items()}
        timelines = timelines_by_result[analysis.result]
        starts = {uid: day for uid, day in all_starts.items() if uid in timelines}
        out.append((analysis, estimate(starts, timelines, levels, all_starts=all_starts, window_days=window_days,
                                       n_boot=n_boot, today=today)))
    return out


def percent(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:+.1f}" if signed else f"{value * 100:.1f}"
    return f"{text}%" if not signed else f"{text} 个百分点"


def summary(analysis: Analysis, result: Result) -> str:
    """One plain-Chinese sentence on what the figures show (and when no claim is made)."""
    if result.claim == "too_few":
        return (f"{analysis.title}：可比较的人只有 {result.treated} 人（至少要 {MIN_PEOPLE} 人，"
                f"且前后两个 {result.window_days} 天窗口都有至少 {MIN_EVENTS} 件事件），不作结论。")
    change = percent(result.did, signed=True)
    interval = f"{percent(result.ci_low, signed=True)} 至 {percent(result.ci_high, signed=True)}"
    if result.claim == "none":
        return (f"{analysis.title}：与对照组相比，{analysis.metric}的变化为 {change}，95% 区间 {interval} 包含 0，"
                f"未显示出差异。")
    word = "下降" if result.claim == "decrease" else "上升"
    return (f"{analysis.title}：{result.treated} 人在{analysis.start_label}后，{analysis.metric}比对照组多{word}"
            f" {percent(abs(result.did), signed=False).rstrip('%')} 个百分点（95% 区间 {interval}）。")


def result_json(analysis: Analysis, result: Result) -> dict:
    def r(value):
        return None if value is None else round(value, 4)

    return {"key": analysis.key, "title": analysis.title, "metric": analysis.metric,
            "window_days": result.window_days, "treated": result.treated, "controls": result.controls,
            "left_out": result.left_out, "before": r(result.before), "after": r(result.after),
            "control_before": r(result.control_before), "control_after": r(result.control_after),
            "difference": r(result.did),
            "ci95": None if result.ci_low is None else [r(result.ci_low), r(result.ci_high)],
            "claim": result.claim, "summary": summary(analysis, result)}
