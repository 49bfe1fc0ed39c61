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

import bisect
import collections
import dataclasses
import datetime as dt
import random
import statistics

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
    """One person's events in date order with running counts, for O(log n) window counts."""

    def __init__(self, rows):
        rows = sorted(rows)
        self.days = [d for d, _ in rows]
        self.flagged = [0]
        for _, flag in rows:
            self.flagged.append(self.flagged[-1] + (1 if flag else 0))

    def window(self, low: dt.date, high: dt.date) -> tuple[int, int]:
        """(events, flagged) with low <= day < high."""
        i, j = bisect.bisect_left(self.days, low), bisect.bisect_left(self.days, high)
        return j - i, self.flagged[j] - self.flagged[i]


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
    by_level: dict[str, list[int]] = collections.defaultdict(list)
    for uid in sorted(timelines):
        by_level[levels.get(uid, "")].append(uid)
    rows: list[PersonRow] = []
    left_out = 0
    used_controls: set[int] = set()
    for uid, start in sorted(starts.items()):
        timeline = timelines.get(uid)
        if timeline is None or start + width > today:
            left_out += 1
            continue
        before_w, after_w = timeline.window(start - width, start), timeline.window(start, start + width)
        if before_w[0] < min_events or after_w[0] < min_events:
            left_out += 1
            continue
        before, after = _rate(before_w), _rate(after_w)
        candidates = []
        for other in by_level[levels.get(uid, "")]:
            other_start = all_starts.get(other)
            if other == uid or (other_start is not None and other_start < start + width):
                continue
            line = timelines[other]
            ob, oa = line.window(start - width, start), line.window(start, start + width)
            if ob[0] < min_events or oa[0] < min_events:
                continue
            candidates.append((abs(_rate(ob) - before), other, _rate(ob), _rate(oa)))
        if not candidates:
            left_out += 1
            continue
        chosen = sorted(candidates)[:k]
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


def load_timelines(org: OrgUnit, low: dt.date, high: dt.date, flag_result: str):
    """(timelines, levels) of everyone with events under org between low and high (Beijing dates)."""
    lo = dt.datetime.combine(low, dt.time.min, SHANGHAI)
    hi = dt.datetime.combine(high, dt.time.min, SHANGHAI)
    rows: dict[int, list] = collections.defaultdict(list)
    levels: dict[int, str] = {}
    unit = sa.orm.aliased(OrgUnit)
    query = (sa.select(FieldEvent.user_id, FieldEvent.reported_at, FieldEvent.result, unit.kind)
             .join(unit, unit.id == FieldEvent.org_id)
             .where(subtree_clause(unit.path, org.path), FieldEvent.reported_at >= lo, FieldEvent.reported_at < hi))
    for uid, at, result, kind in db.session.execute(query):
        rows[uid].append((_local_day(at), result == flag_result))
        levels[uid] = str(kind)
    return {uid: Timeline(r) for uid, r in rows.items()}, levels


def analyses(org: OrgUnit, *, window_days: int = WINDOW_DAYS, app_course: str = APP_COURSE, now=None,
             n_boot: int = BOOTSTRAP) -> list[tuple[Analysis, Result]]:
    """Every analysis for the people whose events lie under org."""
    today = (now or utcnow()).astimezone(SHANGHAI).date()
    width = dt.timedelta(days=window_days)
    out = []
    cache: dict[str, tuple] = {}
    for analysis in ANALYSES:
        all_starts = treatment_starts(analysis.key, app_course)
        if not all_starts:
            out.append((analysis, Result(window_days, 0, 0, 0)))
            continue
        low, high = min(all_starts.values()) - width, max(all_starts.values()) + width
        cache_key = (analysis.result, low, high)
        if cache_key not in cache:
            cache[cache_key] = load_timelines(org, low, high, analysis.result)
        timelines, levels = cache[cache_key]
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
