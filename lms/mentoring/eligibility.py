"""Who may mentor: seniority, or a credential a later feature vouches for; star levels for ranking.

Certification comes after mentoring in the feature order, so it cannot be
imported here; instead it registers its checks at its own init_app:
``register_credential_check(fn(user) -> bool)`` (e.g. "holds a valid star
certificate") and ``register_star_source(fn(user) -> int)``. Without any
registered check only the years of service count.

The ``mentor`` role is a separate matter: it is granted by an admin (the
appointment), and pairing requires it over every mentee (see services);
eligibility here is only about seniority and credentials.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

_CREDENTIAL_CHECKS: list[Callable[[object], bool]] = []
_STAR_SOURCES: list[Callable[[object], int]] = []

DEFAULT_MIN_YEARS = 3
DEFAULT_CAPACITY = 2


def register_credential_check(fn: Callable[[object], bool]) -> Callable[[object], bool]:
    """Add a check making a user eligible regardless of seniority (idempotent)."""
    if fn not in _CREDENTIAL_CHECKS:
        _CREDENTIAL_CHECKS.append(fn)
    return fn


def register_star_source(fn: Callable[[object], int]) -> Callable[[object], int]:
    """Add a source of a user's star level (the highest answer wins; idempotent)."""
    if fn not in _STAR_SOURCES:
        _STAR_SOURCES.append(fn)
    return fn


def years_of_service(hired_on: dt.date | None, today: dt.date) -> int:
    """Completed years between hired_on and today (0 when unknown or in the future)."""
    if hired_on is None or hired_on > today:
        return 0
    years = today.year - hired_on.year
    if (today.month, today.day) < (hired_on.month, hired_on.day):
        years -= 1
    return years


def has_credential(user) -> bool:
    """Some registered credential check vouches for user."""
    return any(check(user) for check in _CREDENTIAL_CHECKS)


def is_eligible(user, today: dt.date, min_years: int = DEFAULT_MIN_YEARS) -> bool:
    """min_years of service or a registered credential."""
    return years_of_service(getattr(user, "hired_on", None), today) >= min_years or has_credential(user)


def star_level(user) -> int:
    """The highest star any registered source gives user (0 without sources)."""
    return max((int(source(user) or 0) for source in _STAR_SOURCES), default=0)
