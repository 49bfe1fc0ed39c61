"""Statistics per org unit: each feature's summary, for the unit and each of its direct children.

Features are optional here: a summary function that a feature does not (yet)
provide is simply absent from the result, so reports never imports upward by
name at module level and works whichever features are installed.
"""
from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import importlib
from collections.abc import Callable

from lms.db import SHANGHAI
from lms.org.models import OrgUnit


@dataclasses.dataclass(frozen=True)
class Source:
    #: key in the result
    key: str
    module: str
    function: str
    #: "dates": (org, first_day, last_day) both included; "range": (org, aware start, aware end) half-open
    period: str = "dates"
    #: optional "module:function" adding breakdown rows to the requested unit's figures (not to its children)
    detail: str | None = None


#: result key, provider, and how the provider takes the period (their contracts differ)
SOURCES = (
    Source("trainings", "lms.trainings.queries", "training_stats"),
    # Course completion and quiz passes: the progress feature's figures, which /stats, the dashboard, the
    # statistics export and the progress page all read (one computation for every figure).
    Source("courses", "lms.progress.queries", "course_figures", detail="lms.progress.queries:course_detail"),
    Source("quizzes", "lms.progress.queries", "quiz_figures"),
    Source("drills", "lms.drills.queries", "drill_stats", period="range", detail="lms.drills.stats:detail"),
    Source("certificates", "lms.certification.queries", "certificate_stats"),
    Source("mentoring", "lms.mentoring.queries", "mentoring_stats"),
)


def _provider(source: Source) -> Callable | None:
    try:
        module = importlib.import_module(source.module)
    except ModuleNotFoundError as exc:
        # Only a missing feature module is "absent"; a broken import inside it must still surface.
        if exc.name and source.module.startswith(exc.name):
            return None
        raise
    return getattr(module, source.function, None)


def available_sources() -> list[tuple[Source, Callable]]:
    """The summary functions the installed features provide, in display order."""
    return [(source, fn) for source in SOURCES if (fn := _provider(source)) is not None]


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 6 months: the same day six months back up to today."""
    month = today.month - 6
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    day = min(today.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day), today


def _figures(org: OrgUnit, start: dt.date, end: dt.date, sources, *, detail: bool = False) -> dict:
    since = dt.datetime.combine(start, dt.time(0), SHANGHAI)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), SHANGHAI)
    figures = {}
    for source, fn in sources:
        figures[source.key] = fn(org, since, until) if source.period == "range" else fn(org, start, end)
        if detail and source.detail:
            module, name = source.detail.split(":")
            extra = _provider(Source(source.key, module, name))
            if extra is not None:
                figures[source.key] |= extra(org, since, until) if source.period == "range" else extra(org, start, end)
    return figures


def _unit(org: OrgUnit) -> dict:
    return {"code": org.code, "name": org.name, "kind": org.kind.value}


def org_stats(org: OrgUnit, start: dt.date, end: dt.date) -> dict:
    """Figures of org's subtree for [start, end] (local days, inclusive), and the same for each direct child."""
    sources = available_sources()
    return {
        "org": _unit(org), "from": start.isoformat(), "to": end.isoformat(),
        **_figures(org, start, end, sources, detail=True),
        "children": [{"org": _unit(child), **_figures(child, start, end, sources)}
                     for child in sorted(org.children, key=lambda c: c.code)],
    }
