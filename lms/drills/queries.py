"""Reads of the drills feature, including the cross-feature contracts (accepted_count, return_rate, drill_stats)."""
from __future__ import annotations

import sqlalchemy as sa

from lms.accounts.permissions import Permission, can, scope_clause
from lms.drills import stats
from lms.drills.content import Taxonomy
from lms.drills.models import Drill, DrillReport, TaxonomyItem, TaxonomyKind, Verdict
from lms.extensions import db
from lms.org.models import OrgUnit, subtree_clause


def get_taxonomy() -> Taxonomy | None:
    """The stored county lists, or None before the first import."""
    rows = db.session.scalars(sa.select(TaxonomyItem).order_by(TaxonomyItem.kind, TaxonomyItem.position)).all()
    if not rows:
        return None
    lists = {kind: [] for kind in TaxonomyKind}
    for row in rows:
        lists[row.kind].append(row.value)
    return Taxonomy(tuple(lists[TaxonomyKind.event_type]), tuple(lists[TaxonomyKind.department]),
                    tuple(lists[TaxonomyKind.urgency]))


def get_taxonomy_or_empty() -> Taxonomy:
    """The stored lists, or empty lists (every answer then fails the taxonomy check)."""
    return get_taxonomy() or Taxonomy((), (), ())


def get_drill(code: str) -> Drill | None:
    """The drill with that code, or None."""
    if not isinstance(code, str):
        return None
    return db.session.scalar(sa.select(Drill).where(Drill.code == code))


def get_report(report_id) -> DrillReport | None:
    """The report with that id, or None."""
    try:
        report_id = int(report_id)
    except (TypeError, ValueError):
        return None
    return db.session.get(DrillReport, report_id)


def get_report_by_client_id(user, client_id: str) -> DrillReport | None:
    """The user's report sent with that idempotency key, or None."""
    return db.session.scalar(sa.select(DrillReport).where(DrillReport.user_id == user.id,
                                                          DrillReport.client_id == client_id))


def count_attempts(user, drill: Drill) -> int:
    """How many reports the user has written on the drill."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(DrillReport).where(
        DrillReport.user_id == user.id, DrillReport.drill_id == drill.id)) or 0


def _ancestor_of_user(user):
    # A drill is for the members of its owning unit's subtree: its path is a prefix of theirs.
    return sa.literal(user.org.path).like(OrgUnit.path + "%")


def is_visible(user, drill: Drill) -> bool:
    """Learners see published, current drills of their unit or above; authors in scope see any of theirs."""
    if can(user, Permission.AUTHOR_CONTENT, drill.org):
        return True
    return drill.is_published and not drill.is_retired and user.org.path.startswith(drill.org.path)


def can_report(user, drill: Drill) -> bool:
    """A learner may send a report: the drill is published, current and meant for the user's unit."""
    return (can(user, Permission.LEARN) and drill.is_published and not drill.is_retired
            and user.org.path.startswith(drill.org.path))


def list_visible(user) -> list[Drill]:
    """Published, current drills meant for the user's unit, by title."""
    return list(db.session.scalars(
        sa.select(Drill).join(OrgUnit, OrgUnit.id == Drill.org_id)
        .where(Drill.is_published.is_(True), Drill.is_retired.is_(False), _ancestor_of_user(user))
        .order_by(Drill.title, Drill.code)))


def list_authored(user) -> list[Drill]:
    """Every drill the user may edit (AUTHOR_CONTENT over its unit), drafts and retired ones included."""
    return list(db.session.scalars(
        sa.select(Drill).join(OrgUnit, OrgUnit.id == Drill.org_id)
        .where(scope_clause(user, Permission.AUTHOR_CONTENT, OrgUnit.path)).order_by(Drill.title, Drill.code)))


def list_my_reports(user, drill: Drill | None = None) -> list[DrillReport]:
    """The user's reports, newest first (all attempts are kept)."""
    query = sa.select(DrillReport).where(DrillReport.user_id == user.id)
    if drill is not None:
        query = query.where(DrillReport.drill_id == drill.id)
    return list(db.session.scalars(query.order_by(DrillReport.id.desc())))


def my_verdicts(user, drill: Drill) -> list[str]:
    """The current verdicts of the user's reports on drill (what unlocks the model report)."""
    return [v.value for v in db.session.scalars(sa.select(DrillReport.verdict).where(
        DrillReport.user_id == user.id, DrillReport.drill_id == drill.id))]


def latest_by_drill(user) -> dict[int, DrillReport]:
    """The user's latest report per drill id."""
    latest = {}
    for report in db.session.scalars(sa.select(DrillReport).where(DrillReport.user_id == user.id)
                                     .order_by(DrillReport.id)):
        latest[report.drill_id] = report
    return latest


def review_queue(user, *, drill: Drill | None = None, verdict: str | None = None, org: OrgUnit | None = None,
                 page: int = 1, per_page: int = 50) -> tuple[list[DrillReport], bool]:
    """Reports in the reviewer's scope (by the reporter's unit at the time), newest first; (items, has_next)."""
    query = (sa.select(DrillReport).join(OrgUnit, OrgUnit.id == DrillReport.org_id)
             .where(scope_clause(user, Permission.REVIEW_DRILLS, OrgUnit.path)))
    if drill is not None:
        query = query.where(DrillReport.drill_id == drill.id)
    if verdict in (Verdict.accepted.value, Verdict.returned.value):
        query = query.where(DrillReport.verdict == Verdict(verdict))
    if org is not None:
        query = query.where(subtree_clause(OrgUnit.path, org.path))
    rows = list(db.session.scalars(query.order_by(DrillReport.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


# --------------------------------------------------------------------- cross-feature contracts

def _window(query, start, end):
    if start is not None:
        query = query.where(DrillReport.created_at >= start)
    if end is not None:
        query = query.where(DrillReport.created_at < end)
    return query


def accepted_count(user, since=None, until=None) -> int:
    """Drills on which the user has at least one accepted report (in [since, until) when given)."""
    query = sa.select(sa.func.count(sa.distinct(DrillReport.drill_id))).where(
        DrillReport.user_id == user.id, DrillReport.verdict == Verdict.accepted)
    return db.session.scalar(_window(query, since, until)) or 0


def return_rate(user, start=None, end=None) -> float | None:
    """The user's returned reports / all reports in [start, end); None when there are none."""
    query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((DrillReport.verdict == Verdict.returned, 1), else_=0)), 0)).where(
        DrillReport.user_id == user.id)
    total, returned = db.session.execute(_window(query, start, end)).one()
    return returned / total if total else None


def drill_stats(org, start, end) -> dict:
    """Reports made in org's subtree (unit at the time) in [start, end): /api/v1/stats's ``drills`` figures.

    ``reports``, ``returned``, ``return_rate`` (0.0 when none) and ``by_rule`` (failures per rule) as
    before; lms.drills.stats adds first attempts and rates by rule (None when nothing was submitted).
    """
    figures = stats.summary(org, start, end)
    figures["return_rate"] = figures["return_rate"] or 0.0
    return figures
